//! Reading projects: one project with its client, the filtered list, members.

use chrono::NaiveDate;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Nullable, Numeric, Text, Uuid as SqlUuid};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::db::ids::{ClientId, ProjectId, UserId};
use crate::web::AppError;

#[derive(QueryableByName, Debug, Clone)]
pub struct Project {
    #[diesel(sql_type = SqlUuid)]
    pub id: ProjectId,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub client_id: Option<ClientId>,
    #[diesel(sql_type = Nullable<Text>)]
    pub client_name: Option<String>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Date>)]
    pub start_date: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    pub due_date: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Numeric>)]
    pub budget: Option<Decimal>,
    #[diesel(sql_type = Nullable<Numeric>)]
    pub hourly_rate: Option<Decimal>,
    #[diesel(sql_type = Bool)]
    pub client_visible: bool,
    #[diesel(sql_type = BigInt)]
    pub tasks: i64,
    #[diesel(sql_type = BigInt)]
    pub done: i64,
}

impl Project {
    pub fn status_label(&self) -> &'static str {
        super::status_label(&self.status)
    }

    /// Done tasks as a whole percentage (0 with no tasks).
    pub fn progress(&self) -> i64 {
        if self.tasks == 0 { 0 } else { self.done * 100 / self.tasks }
    }

    /// The progress bar's width class, in steps of 5% (no inline styles under the CSP).
    pub fn progress_class(&self) -> String {
        format!("w-{}", self.progress() / 5 * 5)
    }

    pub fn dates(&self) -> String {
        match (self.start_date, self.due_date) {
            (Some(s), Some(d)) => format!("{} → {}", s.format("%b %-d, %Y"), d.format("%b %-d, %Y")),
            (Some(s), None) => format!("From {}", s.format("%b %-d, %Y")),
            (None, Some(d)) => format!("Due {}", d.format("%b %-d, %Y")),
            (None, None) => String::new(),
        }
    }
}

const SELECT: &str = "SELECT p.id, p.title, p.description, p.client_id, c.name AS client_name, p.status, p.start_date,
        p.due_date, p.budget, p.hourly_rate, p.client_visible,
        (SELECT count(*) FROM tasks t
          WHERE t.org_id = p.org_id AND t.project_id = p.id AND t.parent_id IS NULL) AS tasks,
        (SELECT count(*) FROM tasks t
          WHERE t.org_id = p.org_id AND t.project_id = p.id AND t.parent_id IS NULL AND t.status = 'done') AS done
     FROM projects p LEFT JOIN clients c ON c.org_id = p.org_id AND c.id = p.client_id";

/// The same from the projects matching a search ($1), read through the GIN index by a
/// function that returns only this organization's rows (see the migration work_at_scale).
fn select_matching() -> String {
    SELECT.replacen("FROM projects p", "FROM projects_matching(to_tsquery('simple', $1)) p", 1)
}

pub fn find(conn: &mut PgConnection, id: ProjectId) -> Result<Project, AppError> {
    crate::db::sql_query(format!("{SELECT} WHERE p.id = $1"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

pub const PAGE_SIZE: usize = 50;

#[derive(Deserialize, Default, Clone)]
pub struct ProjectFilter {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub client_id: String,
    /// Keyset cursor: projects older than this id.
    #[serde(default)]
    pub before: String,
}

impl ProjectFilter {
    /// The filter as a query string, without the cursor.
    pub fn query(&self) -> String {
        use crate::web::error::url_encode;
        format!(
            "q={}&status={}&client_id={}",
            url_encode(&self.q),
            url_encode(&self.status),
            url_encode(&self.client_id)
        )
    }
}

/// Newest first, filtered; returns the page and the cursor of the next one.
pub fn list(conn: &mut PgConnection, filter: &ProjectFilter) -> QueryResult<(Vec<Project>, Option<ProjectId>)> {
    let search = crate::clients::list::tsquery(&filter.q);
    let status = super::STATUSES.iter().find(|(k, _)| *k == filter.status).map(|(k, _)| k.to_string());
    let client: Option<ClientId> = filter.client_id.parse().ok();
    let before: Option<ProjectId> = filter.before.parse().ok();
    // Only the filters in use become conditions (the others compare a parameter with
    // itself), so each is planned as an index condition rather than an OR.
    let when = |on: bool, condition: &'static str, unused: &'static str| if on { condition } else { unused };
    let select = if search.is_some() { select_matching() } else { SELECT.to_string() };
    let sql = format!(
        "{select} WHERE p.org_id = app_org_id() AND $1 = $1 AND {} AND {} AND {}
         ORDER BY p.id DESC LIMIT {}",
        when(status.is_some(), "p.status = $2", "$2 = $2"),
        when(client.is_some(), "p.client_id = $3", "$3::uuid IS NULL"),
        when(before.is_some(), "p.id < $4", "$4::uuid IS NULL"),
        PAGE_SIZE + 1
    );
    let mut rows: Vec<Project> = crate::db::sql_query(sql)
        .bind::<Text, _>(search.unwrap_or_default())
        .bind::<Text, _>(status.unwrap_or_default())
        .bind::<Nullable<SqlUuid>, _>(client)
        .bind::<Nullable<SqlUuid>, _>(before)
        .load(conn)?;
    let next = if rows.len() > PAGE_SIZE {
        rows.truncate(PAGE_SIZE);
        rows.last().map(|p| p.id)
    } else {
        None
    };
    Ok((rows, next))
}

#[derive(QueryableByName, Debug, Clone)]
pub struct Person {
    #[diesel(sql_type = SqlUuid)]
    pub id: UserId,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Bool)]
    pub selected: bool,
}

/// The organization's active staff (not client users), flagged when on the project.
pub fn staff(conn: &mut PgConnection, project: Option<ProjectId>) -> QueryResult<Vec<Person>> {
    crate::db::sql_query(
        "SELECT u.id, u.name,
                EXISTS (SELECT 1 FROM project_members pm WHERE pm.project_id = $1 AND pm.user_id = u.id) AS selected
         FROM memberships m JOIN users u ON u.id = m.user_id JOIN roles r ON r.org_id = m.org_id AND r.id = m.role_id
         WHERE m.org_id = app_org_id() AND m.status = 'active' AND r.key IS DISTINCT FROM 'client'
         ORDER BY lower(u.name)",
    )
    .bind::<Nullable<SqlUuid>, _>(project)
    .load(conn)
}

/// Task counts per board column, in column order: top-level tasks, as the board shows
/// them (a subtask's progress shows on its parent).
pub fn task_counts(conn: &mut PgConnection, project: ProjectId) -> QueryResult<Vec<(String, i64)>> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = Text)]
        status: String,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let counts: Vec<Count> = crate::db::sql_query(
        "SELECT status, count(*) AS n FROM tasks WHERE project_id = $1 AND parent_id IS NULL GROUP BY status",
    )
    .bind::<SqlUuid, _>(project)
    .load(conn)?;
    Ok(crate::tasks::STATUSES
        .iter()
        .map(|(k, _)| (k.to_string(), counts.iter().find(|c| c.status == *k).map(|c| c.n).unwrap_or(0)))
        .collect())
}
