//! Reading tasks, and keeping board positions dense: every change of a top-level
//! task's column goes through [`take_out`] and [`put_in`], under the project's row
//! lock, so concurrent moves never duplicate or skip a position.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Integer, Nullable, Numeric, Text, Timestamptz, Uuid as SqlUuid};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::db::ids::{ProjectId, TaskId, UserId};
use crate::web::AppError;

#[derive(QueryableByName, Debug, Clone)]
pub struct Task {
    #[diesel(sql_type = SqlUuid)]
    pub id: TaskId,
    #[diesel(sql_type = SqlUuid)]
    pub project_id: ProjectId,
    #[diesel(sql_type = Text)]
    pub project_title: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub parent_id: Option<TaskId>,
    #[diesel(sql_type = Nullable<Text>)]
    pub parent_title: Option<String>,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub priority: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub assignee_id: Option<UserId>,
    #[diesel(sql_type = Nullable<Text>)]
    pub assignee_name: Option<String>,
    #[diesel(sql_type = Nullable<Date>)]
    pub due_date: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Numeric>)]
    pub estimate_hours: Option<Decimal>,
    #[diesel(sql_type = Integer)]
    pub position: i32,
    #[diesel(sql_type = Bool)]
    pub client_visible: bool,
    #[diesel(sql_type = BigInt)]
    pub subtasks: i64,
    #[diesel(sql_type = BigInt)]
    pub subtasks_done: i64,
    #[diesel(sql_type = BigInt)]
    pub comments: i64,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

impl Task {
    pub fn status_label(&self) -> &'static str {
        super::status_label(&self.status)
    }

    pub fn priority_label(&self) -> &'static str {
        super::priority_label(&self.priority)
    }

    pub fn due(&self) -> String {
        self.due_date.map(|d| d.format("%b %-d, %Y").to_string()).unwrap_or_default()
    }

    /// Due before today and not done.
    pub fn overdue(&self) -> bool {
        self.status != "done" && self.due_date.is_some_and(|d| d < Utc::now().date_naive())
    }

    pub fn is_subtask(&self) -> bool {
        self.parent_id.is_some()
    }
}

const SELECT: &str = "SELECT t.id, t.project_id, p.title AS project_title, t.parent_id, parent.title AS parent_title,
        t.title, t.description, t.status, t.priority, t.assignee_id, u.name AS assignee_name, t.due_date,
        t.estimate_hours, t.position, t.client_visible, t.created_at,
        (SELECT count(*) FROM tasks s WHERE s.org_id = t.org_id AND s.parent_id = t.id) AS subtasks,
        (SELECT count(*) FROM tasks s WHERE s.org_id = t.org_id AND s.parent_id = t.id AND s.status = 'done') AS subtasks_done,
        (SELECT count(*) FROM task_comments c WHERE c.org_id = t.org_id AND c.task_id = t.id) AS comments
     FROM tasks t
     JOIN projects p ON p.org_id = t.org_id AND p.id = t.project_id
     LEFT JOIN tasks parent ON parent.org_id = t.org_id AND parent.id = t.parent_id
     LEFT JOIN users u ON u.id = t.assignee_id";

pub fn find(conn: &mut PgConnection, id: TaskId) -> Result<Task, AppError> {
    crate::db::sql_query(format!("{SELECT} WHERE t.id = $1"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

pub fn subtasks(conn: &mut PgConnection, parent: TaskId) -> QueryResult<Vec<Task>> {
    crate::db::sql_query(format!("{SELECT} WHERE t.parent_id = $1 ORDER BY t.created_at, t.id"))
        .bind::<SqlUuid, _>(parent)
        .load(conn)
}

/// The board: a project's top-level tasks in column order.
pub fn board(conn: &mut PgConnection, project: ProjectId) -> QueryResult<Vec<Task>> {
    crate::db::sql_query(format!(
        "{SELECT} WHERE t.org_id = app_org_id() AND t.project_id = $1 AND t.parent_id IS NULL ORDER BY t.status, t.position"
    ))
    .bind::<SqlUuid, _>(project)
    .load(conn)
}

pub const PAGE_SIZE: usize = 50;

#[derive(Deserialize, Default, Clone)]
pub struct TaskFilter {
    #[serde(default)]
    pub project_id: String,
    #[serde(default)]
    pub status: String,
    /// A member's id, "me" or "none".
    #[serde(default)]
    pub assignee: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub due_before: String,
    /// Keyset cursor: tasks older than this id.
    #[serde(default)]
    pub before: String,
}

impl TaskFilter {
    pub fn query(&self) -> String {
        use crate::web::error::url_encode;
        format!(
            "project_id={}&status={}&assignee={}&priority={}&due_before={}",
            url_encode(&self.project_id),
            url_encode(&self.status),
            url_encode(&self.assignee),
            url_encode(&self.priority),
            url_encode(&self.due_before)
        )
    }
}

/// A filter whose parts parsed; the parts that did not are reported.
pub struct ParsedFilter {
    pub project: Option<ProjectId>,
    pub status: Option<&'static str>,
    pub assignee: Option<UserId>,
    pub unassigned: bool,
    pub priority: Option<&'static str>,
    pub due_before: Option<NaiveDate>,
    pub before: Option<TaskId>,
    pub problems: Vec<&'static str>,
}

impl TaskFilter {
    pub fn parse(&self, me: UserId) -> ParsedFilter {
        let mut problems = Vec::new();
        let pick = |raw: &str, list: &[(&'static str, &'static str)], problems: &mut Vec<&'static str>| {
            if raw.is_empty() {
                return None;
            }
            let found = list.iter().find(|(k, _)| *k == raw).map(|(k, _)| *k);
            if found.is_none() {
                problems.push("Choose filters from the lists.");
            }
            found
        };
        let status = pick(&self.status, super::STATUSES, &mut problems);
        let priority = pick(&self.priority, super::PRIORITIES, &mut problems);
        let (assignee, unassigned) = match self.assignee.as_str() {
            "" => (None, false),
            "me" => (Some(me), false),
            "none" => (None, true),
            raw => (raw.parse().ok(), false),
        };
        let due_before = match self.due_before.trim() {
            "" => None,
            raw => crate::web::fields::parse_date(raw).map_err(|message| problems.push(message)).ok(),
        };
        ParsedFilter {
            project: self.project_id.parse().ok(),
            status,
            assignee,
            unassigned,
            priority,
            due_before,
            before: self.before.parse().ok(),
            problems,
        }
    }
}

/// Newest first, filtered; the page and the cursor of the next one.
pub fn list(conn: &mut PgConnection, f: &ParsedFilter) -> QueryResult<(Vec<Task>, Option<TaskId>)> {
    // Only the filters in use become conditions (the others compare a parameter with
    // itself), so each can be planned as an index condition rather than an OR.
    let when = |on: bool, condition: &'static str, unused: &'static str| if on { condition } else { unused };
    let sql = format!(
        "{SELECT} WHERE t.org_id = app_org_id() AND {} AND {} AND {} AND {} AND {} AND {} AND {}
         ORDER BY t.id DESC LIMIT {}",
        when(f.project.is_some(), "t.project_id = $1", "$1::uuid IS NULL"),
        when(f.status.is_some(), "t.status = $2", "$2 = $2"),
        when(f.assignee.is_some(), "t.assignee_id = $3", "$3::uuid IS NULL"),
        when(f.unassigned, "t.assignee_id IS NULL AND $4", "NOT $4"),
        when(f.priority.is_some(), "t.priority = $5", "$5 = $5"),
        when(f.due_before.is_some(), "t.due_date < $6", "$6::date IS NULL"),
        when(f.before.is_some(), "t.id < $7", "$7::uuid IS NULL"),
        PAGE_SIZE + 1
    );
    let mut rows: Vec<Task> = crate::db::sql_query(sql)
        .bind::<Nullable<SqlUuid>, _>(f.project)
        .bind::<Text, _>(f.status.unwrap_or_default())
        .bind::<Nullable<SqlUuid>, _>(f.assignee)
        .bind::<Bool, _>(f.unassigned)
        .bind::<Text, _>(f.priority.unwrap_or_default())
        .bind::<Nullable<Date>, _>(f.due_before)
        .bind::<Nullable<SqlUuid>, _>(f.before)
        .load(conn)?;
    let next = if rows.len() > PAGE_SIZE {
        rows.truncate(PAGE_SIZE);
        rows.last().map(|t| t.id)
    } else {
        None
    };
    Ok((rows, next))
}

/// Serialises every change of board order within one project.
pub fn lock_project(conn: &mut PgConnection, project: ProjectId) -> Result<(), AppError> {
    let locked: Option<ProjectId> = crate::db::sql_query("SELECT id FROM projects WHERE id = $1 FOR UPDATE")
        .bind::<SqlUuid, _>(project)
        .get_result::<IdRow>(conn)
        .optional()?
        .map(|r| r.id);
    locked.map(|_| ()).ok_or(AppError::NotFound)
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    id: ProjectId,
}

/// Closes the gap a top-level task leaves in its column.
pub fn take_out(conn: &mut PgConnection, task: &Task) -> QueryResult<()> {
    if task.is_subtask() {
        return Ok(());
    }
    crate::db::sql_query(
        "UPDATE tasks SET position = position - 1
         WHERE project_id = $1 AND parent_id IS NULL AND status = $2 AND position > $3 AND id <> $4",
    )
    .bind::<SqlUuid, _>(task.project_id)
    .bind::<Text, _>(&task.status)
    .bind::<Integer, _>(task.position)
    .bind::<SqlUuid, _>(task.id)
    .execute(conn)?;
    Ok(())
}

/// Opens a gap at `position` (clamped to the column's length, `None` = the end) in a
/// column and returns the position the task takes there.
pub fn put_in(
    conn: &mut PgConnection,
    project: ProjectId,
    task: TaskId,
    status: &str,
    position: Option<i32>,
) -> QueryResult<i32> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let len = crate::db::sql_query(
        "SELECT count(*) AS n FROM tasks WHERE project_id = $1 AND parent_id IS NULL AND status = $2 AND id <> $3",
    )
    .bind::<SqlUuid, _>(project)
    .bind::<Text, _>(status)
    .bind::<SqlUuid, _>(task)
    .get_result::<Count>(conn)?
    .n;
    let len = i32::try_from(len).unwrap_or(i32::MAX);
    let at = position.map(|p| p.clamp(0, len)).unwrap_or(len);
    crate::db::sql_query(
        "UPDATE tasks SET position = position + 1
         WHERE project_id = $1 AND parent_id IS NULL AND status = $2 AND position >= $3 AND id <> $4",
    )
    .bind::<SqlUuid, _>(project)
    .bind::<Text, _>(status)
    .bind::<Integer, _>(at)
    .bind::<SqlUuid, _>(task)
    .execute(conn)?;
    Ok(at)
}
