//! Time tracking: entries typed in or timed, their rates, timesheets and CSV, and who
//! may change what. Projects and tasks are made with SQL (their pages are elsewhere).

use chrono::{Datelike, Duration, NaiveDate, Utc};

use crate::support::*;

const MATEO: &str = "mateo@northwind.example";

fn one<T>(app: &TestApp, sql_type_sql: &str) -> T
where
    T: diesel::deserialize::FromSqlRow<diesel::sql_types::Text, diesel::pg::Pg> + 'static,
{
    diesel::RunQueryDsl::get_result(diesel::dsl::sql::<diesel::sql_types::Text>(sql_type_sql), &mut app.conn()).unwrap()
}

/// Runs SQL and returns its single text value.
fn text(app: &TestApp, sql: &str) -> String {
    one(app, sql)
}

/// A project (with an optional hourly rate) and one task in it, in `org`; the task's id.
fn task_in(app: &TestApp, org: &str, project_rate: Option<&str>, title: &str) -> String {
    let rate = project_rate.map(|r| format!("'{r}'")).unwrap_or_else(|| "NULL".into());
    text(
        app,
        &format!(
            "WITH org AS (SELECT id FROM organizations WHERE name = '{org}'),
                  p AS (INSERT INTO projects (id, org_id, title, hourly_rate)
                        SELECT gen_random_uuid(), id, 'Project of {title}', {rate} FROM org RETURNING id, org_id)
             INSERT INTO tasks (id, org_id, project_id, title) SELECT gen_random_uuid(), org_id, id, '{title}' FROM p
             RETURNING id::text"
        ),
    )
}

fn northwind_task(app: &TestApp, project_rate: Option<&str>, title: &str) -> String {
    task_in(app, "Northwind Studio", project_rate, title)
}

fn membership_of(app: &TestApp, email: &str) -> String {
    text(
        app,
        &format!(
            "SELECT m.id::text FROM memberships m JOIN users u ON u.id = m.user_id JOIN organizations o ON o.id = m.org_id
             WHERE u.email = '{email}' AND o.name = 'Northwind Studio'"
        ),
    )
}

fn user_of(app: &TestApp, email: &str) -> String {
    text(app, &format!("SELECT id::text FROM users WHERE email = '{email}'"))
}

/// The only entry of `task` as "minutes|rate|billable|note" (rate empty when none).
fn entry_of(app: &TestApp, task: &str) -> String {
    text(
        app,
        &format!(
            "SELECT coalesce(minutes::text, 'running') || '|' || coalesce(hourly_rate::text, '') || '|' || billable::text || '|' || note
             FROM time_entries WHERE task_id = '{task}'"
        ),
    )
}

/// The page without the indentation between tags, so table rows read on one line.
fn squash(html: &str) -> String {
    html.lines().map(str::trim).collect::<Vec<_>>().join("")
}

fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

async fn log(client: &Client, task: &str, date: &str, minutes: &str, note: &str, billable: bool) -> Page {
    let mut fields = vec![("task_id", task), ("date", date), ("minutes", minutes), ("note", note)];
    if billable {
        fields.push(("billable", "on"));
    }
    client.post_form("/time", &fields).await
}

fn days_ago(n: i64) -> String {
    (Utc::now().date_naive() - Duration::days(n)).to_string()
}

#[tokio::test]
async fn a_manual_entry_copies_the_project_rate_before_the_member_default() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let mia = app.member().await;
    let res =
        owner.post_form(&format!("/members/{}/rate", membership_of(&app, MEMBER)), &[("hourly_rate", "80")]).await;
    assert_eq!(res.status, 303);
    assert!(owner.get("/team").await.body.contains("value=\"80.00\""), "the team page shows the rate");
    let with_rate = northwind_task(&app, Some("120.00"), "Logo");
    let without = northwind_task(&app, None, "Copy");
    let unrated = northwind_task(&app, None, "Owner work");

    let res = log(&mia, &with_rate, &days_ago(1), "90", "sketches", true).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(res.location().unwrap().starts_with("/time?week="));
    assert!(mia.get(res.location().unwrap()).await.body.contains("Logged 1h 30m on Logo"));
    assert_eq!(log(&mia, &without, &days_ago(1), "1h 30m", "", false).await.status, 303);
    assert_eq!(log(&owner, &unrated, &days_ago(1), "1:30", "", true).await.status, 303);

    assert_eq!(entry_of(&app, &with_rate), "90|120.00|true|sketches", "the project's rate wins");
    assert_eq!(entry_of(&app, &without), "90|80.00|false|", "else the member's default");
    assert_eq!(entry_of(&app, &unrated), "90||true|", "else no rate");
    let week = mia.get(&format!("/time?week={}", days_ago(1))).await;
    assert_eq!(week.status, 200);
    let table = squash(&week.body);
    assert!(table.contains("<td>Logo<") && table.contains("<td>Copy<") && !table.contains("<td>Owner work<"));
    assert!(week.body.contains("Total this week"));
}

#[tokio::test]
async fn bad_entries_are_refused_next_to_their_fields_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let mia = app.member().await;
    let task = northwind_task(&app, None, "Logo");
    let foreign = task_in(&app, "Other Corp", None, "Their task");
    let yesterday = days_ago(1);
    let cases: Vec<(&str, &str, &str, &str, &str)> = vec![
        (foreign.as_str(), yesterday.as_str(), "30", "", "Choose a task from the list."),
        ("not-a-task", yesterday.as_str(), "30", "", "Choose a task from the list."),
        ("", yesterday.as_str(), "30", "", "Choose a task from the list."),
        (task.as_str(), "2026-02-30", "30", "", "There is no such day in the calendar"),
        (task.as_str(), "2099-01-01", "30", "", "too far ahead"),
        (task.as_str(), yesterday.as_str(), "0", "", "between 1 minute and 24 hours"),
        (task.as_str(), yesterday.as_str(), "1441", "", "between 1 minute and 24 hours"),
        (task.as_str(), yesterday.as_str(), "soon", "", "We could not read this"),
    ];
    for (task_id, date, minutes, note, message) in cases {
        let res = log(&mia, task_id, date, minutes, note, true).await;
        assert_eq!(res.status, 400, "{task_id} {date} {minutes}");
        assert!(res.body.contains(message), "{message} for {task_id} {date} {minutes}");
        assert!(res.body.contains("field-error"));
    }
    let long = "x".repeat(1001);
    let res = log(&mia, &task, &yesterday, "30", &long, true).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("Keep the note under 1000 characters"));
    // What was typed comes back escaped.
    let res = log(&mia, &task, &yesterday, "0", "<script>alert(1)</script>", true).await;
    assert_eq!(res.status, 400);
    assert!(!res.body.contains("<script>alert(1)"));
    assert!(res.body.contains("&#60;script&#62;alert(1)") || res.body.contains("&lt;script&gt;alert(1)"));
    assert_eq!(app.count("time_entries"), 0);

    // Stored HTML is shown as text too.
    assert_eq!(log(&mia, &task, &yesterday, "30", "<b>bold</b>", true).await.status, 303);
    let page = mia.get(&format!("/time?week={yesterday}")).await;
    assert!(!page.body.contains("<b>bold</b>") && page.body.contains("bold"));
}

#[tokio::test]
async fn a_timer_survives_a_reload_and_stops_with_whole_minutes() {
    let app = TestApp::spawn().await;
    let mia = app.member().await;
    let task = northwind_task(&app, Some("100"), "Logo");
    let res = mia.post_form(&format!("/tasks/{task}/timer/start"), &[("return_to", &format!("/tasks/{task}"))]).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some(format!("/tasks/{task}").as_str()));
    assert_eq!(entry_of(&app, &task), "running|100.00|true|");

    // A fresh page load (another tab, a reload) still shows it.
    let page = app.member().await.get("/time").await;
    assert!(page.body.contains("Your timer is running") && page.body.contains("Logo"));
    assert!(page.body.contains(&format!("/tasks/{task}/timer/stop")));

    // 25 minutes later (and a little) it stops at 26: started minutes count.
    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE time_entries SET started_at = now() - interval '25 minutes 2 seconds'"),
        &mut app.conn(),
    )
    .unwrap();
    let res = mia.post_form(&format!("/tasks/{task}/timer/stop"), &[("return_to", "https://evil.example/")]).await;
    assert_eq!(res.location(), Some("/time"), "only local pages are returned to");
    assert!(mia.get("/time").await.body.contains("Timer stopped: 26m logged on Logo"));
    assert_eq!(entry_of(&app, &task), "26|100.00|true|");
    assert_eq!(app.count("time_entries WHERE minutes IS NULL"), 0);
    // Stopping again finds nothing to stop.
    let res = mia.post_form(&format!("/tasks/{task}/timer/stop"), &[]).await;
    assert!(mia.get(res.location().unwrap()).await.body.contains("No timer of yours is running"));
}

#[tokio::test]
async fn starting_a_second_timer_stops_the_first_and_a_forgotten_one_stops_at_a_day() {
    let app = TestApp::spawn().await;
    let mia = app.member().await;
    let first = northwind_task(&app, None, "Logo");
    let second = northwind_task(&app, None, "Copy");
    mia.post_form(&format!("/tasks/{first}/timer/start"), &[]).await;
    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE time_entries SET started_at = now() - interval '30 hours', note = 'kickoff'"),
        &mut app.conn(),
    )
    .unwrap();
    let res = mia.post_form(&format!("/tasks/{second}/timer/start"), &[]).await;
    assert_eq!(res.status, 303);
    let page = mia.get("/time").await;
    assert!(page.body.contains("Timer started on Copy. Your timer on Logo was stopped first (24h logged)."));
    let first_entry = entry_of(&app, &first);
    assert!(first_entry.starts_with("1440||true|kickoff [Timer ran for more than 24 hours"), "{first_entry}");
    assert_eq!(entry_of(&app, &second), "running||true|");
    assert_eq!(app.count("time_entries WHERE minutes IS NULL"), 1);
    // Starting the same one again changes nothing.
    mia.post_form(&format!("/tasks/{second}/timer/start"), &[]).await;
    assert_eq!(app.count("time_entries"), 2);
}

#[tokio::test]
async fn weekly_totals_add_up_across_two_iso_weeks() {
    let app = TestApp::spawn().await;
    let mia = app.member().await;
    let task = northwind_task(&app, Some("100"), "Logo");
    let earlier = monday_of(Utc::now().date_naive()) - Duration::weeks(2);
    let later = earlier + Duration::weeks(1);
    let day = |d: NaiveDate, n: i64| (d + Duration::days(n)).to_string();
    for (date, minutes, billable) in [
        (day(earlier, 0), "90", true),
        (day(earlier, 6), "30", false),
        (day(later, 0), "20", true),
        (day(later, 3), "40", true),
    ] {
        assert_eq!(log(&mia, &task, &date, minutes, "", billable).await.status, 303);
    }
    let mia_id = user_of(&app, MEMBER);
    let page = mia.get(&format!("/timesheets?member={mia_id}&from={}&to={}", earlier, day(later, 6))).await;
    assert_eq!(page.status, 200);
    let body = squash(&page.body);
    let week = |monday: NaiveDate, cells: &str| {
        let sunday = monday + Duration::days(6);
        let label =
            format!("Week {} · {} – {}", monday.iso_week().week(), monday.format("%-d %b"), sunday.format("%-d %b %Y"));
        format!("{label}</td>{cells}")
    };
    let num = |a: &str, b: &str, c: &str| {
        format!("<td class=\"num\">{a}</td><td class=\"num\">{b}</td><td class=\"num\">{c}</td>")
    };
    // 90 min billable + 30 min not billable; then 20 + 40 billable (33.33 + 66.67).
    assert!(body.contains(&week(earlier, &num("2.00", "1.50", "150.00"))), "{body}");
    assert!(body.contains(&week(later, &num("1.00", "1.00", "100.00"))));
    assert!(body.contains(&format!("<td>Total</td>{}", num("3.00", "2.50", "250.00"))));
    // The default range (the last eight weeks) holds them too.
    let default = squash(&mia.get("/timesheets").await.body);
    assert!(default.contains(&format!("<td>Total</td>{}", num("3.00", "2.50", "250.00"))));
    // A project sheet shows everyone's time on it.
    let owner = app.owner().await;
    assert_eq!(log(&owner, &task, &day(later, 1), "60", "", true).await.status, 303);
    let project: String = text(&app, &format!("SELECT project_id::text FROM tasks WHERE id = '{task}'"));
    let sheet = squash(
        &owner.get(&format!("/timesheets?member=&project={project}&from={}&to={}", earlier, day(later, 6))).await.body,
    );
    assert!(sheet.contains(&format!("<td>Total</td>{}", num("4.00", "3.50", "350.00"))), "{sheet}");
    // Nonsense in the filter is explained, not guessed.
    let bad = mia.get("/timesheets?from=2026-02-30").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("The start date must be a real date"));
}

#[tokio::test]
async fn csv_export_has_the_rows_and_defuses_formulas() {
    let app = TestApp::spawn().await;
    let mia = app.member().await;
    let task = northwind_task(&app, Some("100"), "Logo");
    let date = days_ago(2);
    assert_eq!(log(&mia, &task, &date, "90", "=HYPERLINK(\"http://evil.example\")", true).await.status, 303);
    assert_eq!(log(&mia, &task, &date, "20", "plain, \"quoted\"", false).await.status, 303);
    let mia_id = user_of(&app, MEMBER);
    let query = format!("/timesheets.csv?member={mia_id}&from={date}&to={date}");
    assert_eq!(mia.get(&query).await.status, 403, "members may not export");
    let owner = app.owner().await;
    let csv = owner.get(&query).await;
    assert_eq!(csv.status, 200);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.headers["content-disposition"].to_str().unwrap().starts_with("attachment; filename="));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "date,member,project,task,minutes,hours,billable,rate,amount,note");
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[1],
        format!(
            "\"{date}\",\"Mia Laurent\",\"Project of Logo\",\"Logo\",\"90\",\"1.50\",\"yes\",\"100.00\",\"150.00\",\"'=HYPERLINK(\"\"http://evil.example\"\")\""
        )
    );
    assert_eq!(
        lines[2],
        format!(
            "\"{date}\",\"Mia Laurent\",\"Project of Logo\",\"Logo\",\"20\",\"0.33\",\"no\",\"100.00\",\"\",\"plain, \"\"quoted\"\"\""
        )
    );
    // The page offers the export with the same selection.
    let page = owner.get(&format!("/timesheets?member={mia_id}&from={date}&to={date}")).await;
    assert!(
        page.body.contains(&format!("/timesheets.csv?member={mia_id}&amp;from={date}&amp;to={date}"))
            || page.body.contains(&format!("/timesheets.csv?member={mia_id}&#38;from={date}&#38;to={date}"))
    );
}

#[tokio::test]
async fn only_the_author_or_a_member_manager_changes_an_entry_and_billed_entries_are_locked() {
    let app = TestApp::spawn().await;
    let mia = app.member().await;
    let task = northwind_task(&app, None, "Logo");
    let date = days_ago(1);
    log(&mia, &task, &date, "30", "mine", true).await;
    let entry = text(&app, "SELECT id::text FROM time_entries");

    let mateo = app.login(MATEO).await;
    assert_eq!(mateo.get(&format!("/time/{entry}/edit")).await.status, 403);
    let edit = [("date", date.as_str()), ("minutes", "600"), ("note", "theirs")];
    assert_eq!(mateo.post_form(&format!("/time/{entry}"), &edit).await.status, 403);
    assert_eq!(mateo.post_form(&format!("/time/{entry}/delete"), &[]).await.status, 403);
    assert_eq!(entry_of(&app, &task), "30||true|mine");

    // The author edits; invalid input is refused next to its field.
    let res = mia
        .post_form(
            &format!("/time/{entry}"),
            &[("date", &date), ("minutes", "1441"), ("note", ""), ("return_to", "javascript:alert(1)")],
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("between 1 minute and 24 hours"));
    assert!(!res.body.contains("javascript:"), "an unsafe return address is dropped");
    let res = mia.post_form(&format!("/time/{entry}"), &[("date", &date), ("minutes", "45"), ("note", "edited")]).await;
    assert_eq!(res.status, 303);
    assert_eq!(entry_of(&app, &task), "45||false|edited", "an unticked box is not billable");

    // An admin (manage_members) may change and delete it; deleting someone's time is audited.
    let admin = app.admin().await;
    let res = admin
        .post_form(
            &format!("/time/{entry}"),
            &[("date", &date), ("minutes", "50"), ("note", "fixed"), ("billable", "on")],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(entry_of(&app, &task), "50||true|fixed");

    // Billed: nobody changes it, and the page says why.
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!("UPDATE time_entries SET invoice_id = '{}'", app.northwind_invoice())),
        &mut app.conn(),
    )
    .unwrap();
    let res = mia.post_form(&format!("/time/{entry}"), &[("date", &date), ("minutes", "5"), ("note", "")]).await;
    assert_eq!(res.status, 303);
    assert!(mia.get(res.location().unwrap()).await.body.contains("This entry is on an invoice"));
    let res = admin.post_form(&format!("/time/{entry}/delete"), &[]).await;
    assert!(admin.get(res.location().unwrap()).await.body.contains("This entry is on an invoice"));
    assert!(mia.get(&format!("/time/{entry}/edit")).await.body.contains("This entry is on an invoice"));
    assert_eq!(entry_of(&app, &task), "50||true|fixed");

    diesel::RunQueryDsl::execute(diesel::sql_query("UPDATE time_entries SET invoice_id = NULL"), &mut app.conn())
        .unwrap();
    let res = admin.post_form(&format!("/time/{entry}/delete"), &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(app.count("time_entries"), 0);
    assert_eq!(app.count("audit_logs WHERE action = 'time.deleted'"), 1);
    // Deleting your own is not an audit matter.
    log(&mia, &task, &date, "30", "", true).await;
    let own = text(&app, "SELECT id::text FROM time_entries");
    assert_eq!(mia.post_form(&format!("/time/{own}/delete"), &[]).await.status, 303);
    assert_eq!(app.count("time_entries"), 0);
    assert_eq!(app.count("audit_logs WHERE action = 'time.deleted'"), 1);
}

#[tokio::test]
async fn hourly_rates_are_checked_audited_and_follow_the_power_rule() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mia_membership = membership_of(&app, MEMBER);
    let path = format!("/members/{mia_membership}/rate");
    for (typed, message) in [
        ("-5", "not below zero"),
        ("12.345", "at most two decimals"),
        ("lots", "Enter the hourly rate as a number"),
        ("100000000", "larger than we can store"),
    ] {
        let res = admin.post_form(&path, &[("hourly_rate", typed)]).await;
        assert_eq!(res.status, 400, "{typed}");
        assert!(res.body.contains(message), "{typed}: {message}");
        assert!(res.body.contains(&format!("value=\"{typed}\"")), "what was typed stays in the field");
    }
    assert_eq!(app.count("memberships WHERE hourly_rate IS NOT NULL"), 0);
    assert_eq!(admin.post_form(&path, &[("hourly_rate", "85.5")]).await.status, 303);
    assert_eq!(
        text(&app, &format!("SELECT hourly_rate::text FROM memberships WHERE id = '{mia_membership}'")),
        "85.50"
    );
    assert_eq!(admin.post_form(&path, &[("hourly_rate", "")]).await.status, 303);
    assert_eq!(app.count("memberships WHERE hourly_rate IS NOT NULL"), 0, "an empty rate removes it");
    assert_eq!(app.count("audit_logs WHERE action = 'member.rate_changed'"), 2);

    // A member may not; an admin may not set the Owner's.
    assert_eq!(app.member().await.post_form(&path, &[("hourly_rate", "500")]).await.status, 403);
    let owner_path = format!("/members/{}/rate", membership_of(&app, OWNER));
    let res = admin.post_form(&owner_path, &[("hourly_rate", "1")]).await;
    assert!(admin.get(res.location().unwrap()).await.body.contains("rates of members whose role is below yours"));
    assert_eq!(app.count("memberships WHERE hourly_rate IS NOT NULL"), 0);
    // The Owner sets their own.
    assert_eq!(app.owner().await.post_form(&owner_path, &[("hourly_rate", "150")]).await.status, 303);
    assert_eq!(app.count("memberships WHERE hourly_rate = 150"), 1);
}

#[tokio::test]
async fn dates_far_outside_any_calendar_are_refused_without_laying_out_weeks() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    // chrono reads these years; no page should lay out millions of weeks for them.
    let res = owner.get("/timesheets?from=-262000-01-01&to=9999-12-31").await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("a real date from 2000 to 2100"), "the problem is named");
    assert!(res.body.len() < 200_000, "no week rows for a refused range ({} bytes)", res.body.len());
    let res = owner.get("/timesheets?from=2026-01-01&to=%2B99999-12-31").await;
    assert_eq!(res.status, 400);
    let res = owner.get("/time?week=%2B99999-01-01").await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("could not be read"));
    let res = owner.get("/tasks?due_before=0001-01-01").await;
    assert!(res.status < 500 && res.body.contains("between the years 2000 and 2100"), "{}", res.status);
}

#[tokio::test]
async fn a_member_manager_changes_only_the_time_of_people_ranked_below_them() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let task = northwind_task(&app, None, "Logo");
    log(&owner, &task, &days_ago(1), "30", "the owner's", true).await;
    let entry = text(&app, "SELECT id::text FROM time_entries");
    // The admin manages members, but the owner ranks above them.
    let admin = app.admin().await;
    assert_eq!(admin.get(&format!("/time/{entry}/edit")).await.status, 403);
    assert_eq!(admin.post_form(&format!("/time/{entry}/delete"), &[]).await.status, 403);
    assert_eq!(app.count("time_entries"), 1);
}

#[tokio::test]
async fn a_removed_members_running_timer_is_stopped_so_it_cannot_block_them_elsewhere() {
    let app = TestApp::spawn().await;
    let mia = app.member().await;
    let task = northwind_task(&app, None, "Logo");
    assert_eq!(mia.post_form(&format!("/tasks/{task}/timer/start"), &[]).await.status, 303);
    assert_eq!(app.count("time_entries WHERE minutes IS NULL"), 1);
    let membership = membership_of(&app, MEMBER);
    let res = app.owner().await.post_form(&format!("/members/{membership}/remove"), &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(app.count("time_entries WHERE minutes IS NULL"), 0, "the timer stopped");
    assert_eq!(app.count("time_entries WHERE minutes >= 1"), 1, "its time is kept");
}
