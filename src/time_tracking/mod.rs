//! Time tracking: time entries per task (a timer or typed in), the member's week,
//! timesheets by member or project with weekly totals and CSV export, and members'
//! default hourly rates. Billable time becomes invoice lines in the money module.
//! Named `time_tracking` so it is never confused with `crate::web::time`.

pub mod duration;
pub mod entries;
pub mod forms;
pub mod money;
pub mod queries;
pub mod rates;
pub mod timer;
pub mod timesheets;

pub use queries::{TaskTime, for_task};

use crate::team::Permission;
use crate::web::routes::{Access, routes};

routes! {
    GET "/time" => Access::Permission(Permission::ManageTasks), entries::index;
    POST "/time" => Access::Permission(Permission::ManageTasks), entries::create;
    GET "/time/{id}/edit" => Access::Permission(Permission::ManageTasks), entries::edit;
    POST "/time/{id}" => Access::Permission(Permission::ManageTasks), entries::update;
    POST "/time/{id}/delete" => Access::Permission(Permission::ManageTasks), entries::delete;
    POST "/tasks/{id}/timer/start" => Access::Permission(Permission::ManageTasks), timer::start;
    POST "/tasks/{id}/timer/stop" => Access::Permission(Permission::ManageTasks), timer::stop;
    GET "/timesheets" => Access::Permission(Permission::ViewProjects), timesheets::index;
    GET "/timesheets.csv" => Access::Permission(Permission::ExportData), timesheets::csv;
    POST "/members/{id}/rate" => Access::Permission(Permission::ManageMembers), rates::set_rate;
}

#[cfg(test)]
mod tests {
    use askama::Template;
    use chrono::NaiveDate;

    use super::TaskTime;
    use super::queries::EntryRow;
    use crate::db::ids::{ProjectId, TaskId, TimeEntryId, UserId};
    use crate::web::layout::Layout;

    /// Stands in for the task page: what it needs in scope to include the partial.
    #[derive(Template)]
    #[template(source = r#"{% include "time/_task.html" %}"#, ext = "html")]
    struct TaskPageProbe {
        layout: Layout,
        task_time: TaskTime,
    }

    fn entry(user: UserId, minutes: Option<i32>, note: &str) -> EntryRow {
        EntryRow {
            id: TimeEntryId::new(),
            task_id: TaskId::new(),
            task_title: "Design".into(),
            project_id: ProjectId::new(),
            project_title: "Site".into(),
            user_id: user,
            user_name: Some("Mia <b>".into()),
            entry_date: NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(),
            minutes,
            started_at: None,
            started_local: None,
            elapsed_minutes: Some(5),
            note: note.into(),
            billable: true,
            hourly_rate: None,
            invoice_id: None,
        }
    }

    #[test]
    fn the_task_partial_shows_the_timer_the_form_and_escaped_entries() {
        let me = UserId::new();
        let task = TaskId::new();
        let layout = Layout {
            title: "Task".into(),
            csrf: "tok".into(),
            flash: None,
            asset: crate::web::assets::assets(),
            nav: None,
        };
        let task_time = TaskTime {
            task_id: task,
            entries: vec![entry(me, None, ""), entry(UserId::new(), Some(90), "<script>x</script>")],
            total_minutes: 90,
            my_timer_running: true,
            my_timer_elsewhere: false,
            me,
            today: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        };
        let html = TaskPageProbe { layout, task_time }.render().unwrap();
        assert!(html.contains(&format!("action=\"/tasks/{task}/timer/stop\"")));
        assert!(html.contains(&format!("name=\"return_to\" value=\"/tasks/{task}\"")));
        assert!(html.contains(&format!("name=\"task_id\" value=\"{task}\"")));
        assert!(html.contains("value=\"2026-11-20\""));
        assert!(html.contains("1h 30m") && html.contains("Running"));
        assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"), "notes are escaped");
        assert!(!html.contains("<script>x"));
        assert!(!html.contains("Mia <b>"));
    }
}
