//! Time entries in the database. Every function runs inside the caller's tenant
//! transaction (row-level security keeps it to one organization) and also names
//! `app_org_id()` where a join could reach shared tables.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Integer, Nullable, Numeric, Text, Timestamptz, Uuid as SqlUuid};
use rust_decimal::Decimal;

use super::duration::{self, format_minutes};
use super::money;
use crate::db::ids::{OrgId, ProjectId, TaskId, TimeEntryId, UserId};
use crate::db::schema::time_entries;
use crate::web::choices::Choice;

/// One time entry with what it is about, ready to show.
#[derive(QueryableByName, Debug, Clone)]
pub struct EntryRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: TimeEntryId,
    #[diesel(sql_type = SqlUuid)]
    pub task_id: TaskId,
    #[diesel(sql_type = Text)]
    pub task_title: String,
    #[diesel(sql_type = SqlUuid)]
    pub project_id: ProjectId,
    #[diesel(sql_type = Text)]
    pub project_title: String,
    #[diesel(sql_type = SqlUuid)]
    pub user_id: UserId,
    /// None when the person has left the organization (their name is no longer visible).
    #[diesel(sql_type = Nullable<Text>)]
    pub user_name: Option<String>,
    #[diesel(sql_type = Date)]
    pub entry_date: NaiveDate,
    /// None while the timer runs.
    #[diesel(sql_type = Nullable<Integer>)]
    pub minutes: Option<i32>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub started_at: Option<DateTime<Utc>>,
    /// When the timer started, on the organization's clock ("14:05").
    #[diesel(sql_type = Nullable<Text>)]
    pub started_local: Option<String>,
    /// Whole minutes the timer has run so far (running timers only).
    #[diesel(sql_type = Nullable<Integer>)]
    pub elapsed_minutes: Option<i32>,
    #[diesel(sql_type = Text)]
    pub note: String,
    #[diesel(sql_type = Bool)]
    pub billable: bool,
    #[diesel(sql_type = Nullable<Numeric>)]
    pub hourly_rate: Option<Decimal>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub invoice_id: Option<uuid::Uuid>,
}

impl EntryRow {
    pub fn running(&self) -> bool {
        self.minutes.is_none()
    }

    /// Billed on an invoice: the entry is part of a document sent to a client.
    pub fn billed(&self) -> bool {
        self.invoice_id.is_some()
    }

    pub fn duration(&self) -> String {
        match self.minutes {
            Some(m) => format_minutes(i64::from(m)),
            None => format!("{} so far", format_minutes(i64::from(self.elapsed_minutes.unwrap_or(0)))),
        }
    }

    pub fn hours(&self) -> String {
        money::hours(i64::from(self.minutes.unwrap_or(0)))
    }

    pub fn day(&self) -> String {
        self.entry_date.format("%a %-d %b").to_string()
    }

    pub fn person(&self) -> &str {
        self.user_name.as_deref().unwrap_or("Former member")
    }

    /// What the entry is worth: billable, finished and with a rate.
    pub fn amount(&self) -> Option<Decimal> {
        match (self.billable, self.minutes, self.hourly_rate) {
            (true, Some(m), Some(rate)) => Some(money::amount(i64::from(m), rate)),
            _ => None,
        }
    }

    pub fn amount_text(&self) -> String {
        self.amount().map(money::money).unwrap_or_default()
    }

    pub fn rate_text(&self) -> String {
        self.hourly_rate.map(money::money).unwrap_or_default()
    }

    pub fn minutes_value(&self) -> String {
        self.minutes.map(|m| m.to_string()).unwrap_or_default()
    }
}

/// Which entries to load; `None` means any.
#[derive(Debug, Clone, Copy, Default)]
pub struct EntryFilter {
    pub user: Option<UserId>,
    pub project: Option<ProjectId>,
    pub task: Option<TaskId>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub entry: Option<TimeEntryId>,
    /// Leave running timers out (totals count finished time only).
    pub finished_only: bool,
}

/// Entries matching the filter, oldest day first.
pub fn entries(conn: &mut PgConnection, f: &EntryFilter) -> QueryResult<Vec<EntryRow>> {
    crate::db::sql_query(
        "SELECT e.id, e.task_id, t.title AS task_title, p.id AS project_id, p.title AS project_title,
                e.user_id, u.name AS user_name, e.entry_date, e.minutes, e.started_at,
                to_char(e.started_at AT TIME ZONE o.timezone, 'HH24:MI') AS started_local,
                CASE WHEN e.minutes IS NULL
                     THEN greatest(0, floor(extract(epoch FROM now() - e.started_at) / 60))::int END AS elapsed_minutes,
                e.note, e.billable, e.hourly_rate, e.invoice_id
         FROM time_entries e
         JOIN tasks t ON t.org_id = e.org_id AND t.id = e.task_id
         JOIN projects p ON p.org_id = t.org_id AND p.id = t.project_id
         JOIN organizations o ON o.id = e.org_id
         LEFT JOIN users u ON u.id = e.user_id
         WHERE e.org_id = app_org_id()
           AND ($1::uuid IS NULL OR e.user_id = $1)
           AND ($2::uuid IS NULL OR p.id = $2)
           AND ($3::uuid IS NULL OR e.task_id = $3)
           AND ($4::date IS NULL OR e.entry_date >= $4)
           AND ($5::date IS NULL OR e.entry_date <= $5)
           AND ($6::uuid IS NULL OR e.id = $6)
           AND (NOT $7 OR e.minutes IS NOT NULL)
         ORDER BY e.entry_date, e.created_at, e.id",
    )
    .bind::<Nullable<SqlUuid>, _>(f.user)
    .bind::<Nullable<SqlUuid>, _>(f.project)
    .bind::<Nullable<SqlUuid>, _>(f.task)
    .bind::<Nullable<Date>, _>(f.from)
    .bind::<Nullable<Date>, _>(f.to)
    .bind::<Nullable<SqlUuid>, _>(f.entry)
    .bind::<Bool, _>(f.finished_only)
    .load(conn)
}

/// One entry of this organization, or `NotFound`.
pub fn find(conn: &mut PgConnection, id: TimeEntryId) -> QueryResult<EntryRow> {
    entries(conn, &EntryFilter { entry: Some(id), ..Default::default() })?
        .into_iter()
        .next()
        .ok_or(diesel::result::Error::NotFound)
}

/// The person's running timer in this organization, if any.
pub fn running_timer(conn: &mut PgConnection, user: UserId) -> QueryResult<Option<EntryRow>> {
    Ok(entries(conn, &EntryFilter { user: Some(user), ..Default::default() })?.into_iter().find(EntryRow::running))
}

#[derive(QueryableByName)]
pub struct OrgClock {
    /// Today on the organization's clock (its time zone), not the server's.
    #[diesel(sql_type = Date)]
    pub today: NaiveDate,
    #[diesel(sql_type = Text)]
    pub currency: String,
}

pub fn org_clock(conn: &mut PgConnection) -> QueryResult<OrgClock> {
    crate::db::sql_query(
        "SELECT (now() AT TIME ZONE timezone)::date AS today, default_currency AS currency
         FROM organizations WHERE id = app_org_id()",
    )
    .get_result(conn)
}

/// A task time can be logged on, and the rate an entry of a given person is billed at.
#[derive(QueryableByName, Debug, Clone)]
pub struct TaskForEntry {
    #[diesel(sql_type = Text)]
    pub title: String,
    /// The project's rate if it has one, else the member's default, else none.
    #[diesel(sql_type = Nullable<Numeric>)]
    pub rate: Option<Decimal>,
}

/// The task (of this organization only) and the rate `user` logs time on it at.
pub fn task_for_entry(conn: &mut PgConnection, task: TaskId, user: UserId) -> QueryResult<Option<TaskForEntry>> {
    crate::db::sql_query(
        "SELECT t.title, COALESCE(p.hourly_rate, m.hourly_rate) AS rate
         FROM tasks t
         JOIN projects p ON p.org_id = t.org_id AND p.id = t.project_id
         LEFT JOIN memberships m ON m.org_id = t.org_id AND m.user_id = $2
         WHERE t.id = $1 AND t.org_id = app_org_id()",
    )
    .bind::<SqlUuid, _>(task)
    .bind::<SqlUuid, _>(user)
    .get_result(conn)
    .optional()
}

#[derive(Insertable)]
#[diesel(table_name = time_entries)]
pub struct NewEntry<'a> {
    pub id: TimeEntryId,
    pub org_id: OrgId,
    pub task_id: TaskId,
    pub user_id: UserId,
    pub entry_date: NaiveDate,
    /// None for a timer that starts now.
    pub minutes: Option<i32>,
    pub note: &'a str,
    pub billable: bool,
    pub hourly_rate: Option<Decimal>,
}

pub fn insert(conn: &mut PgConnection, entry: &NewEntry<'_>) -> QueryResult<()> {
    diesel::insert_into(time_entries::table).values(entry).execute(conn).map(|_| ())
}

/// The fields a person may change on a finished entry.
pub struct EntryChange {
    pub date: NaiveDate,
    pub minutes: i32,
    pub note: String,
    pub billable: bool,
}

/// Changes an unbilled entry; false when it was billed meanwhile (nothing changed).
pub fn update(conn: &mut PgConnection, id: TimeEntryId, change: &EntryChange) -> QueryResult<bool> {
    let changed = diesel::update(
        time_entries::table
            .find(id)
            .filter(time_entries::invoice_id.is_null())
            .filter(time_entries::minutes.is_not_null()),
    )
    .set((
        time_entries::entry_date.eq(change.date),
        time_entries::minutes.eq(change.minutes),
        time_entries::note.eq(&change.note),
        time_entries::billable.eq(change.billable),
        time_entries::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Deletes an unbilled entry; false when it was billed meanwhile (nothing deleted).
pub fn delete(conn: &mut PgConnection, id: TimeEntryId) -> QueryResult<bool> {
    let deleted =
        diesel::delete(time_entries::table.find(id).filter(time_entries::invoice_id.is_null())).execute(conn)?;
    Ok(deleted == 1)
}

/// Serialises one person's timer changes (two tabs pressing Start at once): both wait
/// on the person's membership row.
pub fn lock_member(conn: &mut PgConnection, user: UserId) -> QueryResult<()> {
    crate::db::sql_query("SELECT 1 FROM memberships WHERE org_id = app_org_id() AND user_id = $1 FOR UPDATE")
        .bind::<SqlUuid, _>(user)
        .execute(conn)
        .map(|_| ())
}

#[derive(QueryableByName)]
struct Elapsed {
    #[diesel(sql_type = BigInt)]
    seconds: i64,
}

/// What stopping a timer recorded.
#[derive(Debug, Clone)]
pub struct Stopped {
    pub task_title: String,
    pub minutes: i32,
    /// It ran over a day and was cut to 24 hours.
    pub capped: bool,
}

/// Added to the note of a timer cut at a day, so the person sees why it says 24h.
pub const CAPPED_NOTE: &str = "[Timer ran for more than 24 hours; recorded as 24h. Please correct it.]";

/// Stops a running timer: minutes by the database's clock, rounded up, at most a day.
pub fn stop(conn: &mut PgConnection, entry: &EntryRow) -> QueryResult<Stopped> {
    let elapsed: Elapsed = crate::db::sql_query(
        "SELECT ceil(extract(epoch FROM now() - started_at))::bigint AS seconds FROM time_entries WHERE id = $1",
    )
    .bind::<SqlUuid, _>(entry.id)
    .get_result(conn)?;
    let (minutes, capped) = duration::timer_minutes(elapsed.seconds);
    let note = if capped { capped_note(&entry.note) } else { entry.note.clone() };
    diesel::update(time_entries::table.find(entry.id).filter(time_entries::minutes.is_null()))
        .set((
            time_entries::minutes.eq(minutes),
            time_entries::note.eq(&note),
            time_entries::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(Stopped { task_title: entry.task_title.clone(), minutes, capped })
}

/// The note with the 24-hour remark, kept within the 1000-character limit.
fn capped_note(note: &str) -> String {
    let room = super::forms::NOTE_MAX - CAPPED_NOTE.chars().count() - 1;
    let kept: String = note.chars().take(room).collect();
    if kept.is_empty() { CAPPED_NOTE.to_string() } else { format!("{kept} {CAPPED_NOTE}") }
}

/// Starts a timer with the current time of the database.
pub fn start(conn: &mut PgConnection, entry: &NewEntry<'_>) -> QueryResult<()> {
    diesel::insert_into(time_entries::table)
        .values((entry, time_entries::started_at.eq(diesel::dsl::now)))
        .execute(conn)
        .map(|_| ())
}

#[derive(QueryableByName, Debug, Clone)]
pub struct TaskChoice {
    #[diesel(sql_type = SqlUuid)]
    pub id: TaskId,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = SqlUuid)]
    pub project_id: ProjectId,
    #[diesel(sql_type = Text)]
    pub project_title: String,
}

/// A project and its open tasks, for the task select's option groups.
#[derive(Debug, Clone)]
pub struct ProjectTasks {
    pub title: String,
    pub tasks: Vec<TaskChoice>,
}

/// The open tasks (not done, in projects still running) that `me` works on: assigned
/// to them or timed by them in the last 60 days, grouped by project. Any other task's
/// time is logged from its own page: an organization has too many tasks for one select.
pub fn open_tasks(conn: &mut PgConnection, me: UserId) -> QueryResult<Vec<ProjectTasks>> {
    let rows: Vec<TaskChoice> = crate::db::sql_query(
        "SELECT t.id, t.title, p.id AS project_id, p.title AS project_title
         FROM tasks t JOIN projects p ON p.org_id = t.org_id AND p.id = t.project_id
         WHERE t.org_id = app_org_id() AND t.status <> 'done' AND p.status NOT IN ('completed', 'cancelled')
           AND t.id IN (SELECT id FROM tasks WHERE org_id = app_org_id() AND assignee_id = $1
                        UNION
                        SELECT task_id FROM time_entries
                        WHERE org_id = app_org_id() AND user_id = $1 AND entry_date > current_date - 60)
         ORDER BY lower(p.title), p.id, lower(t.title), t.id
         LIMIT 500",
    )
    .bind::<SqlUuid, _>(me)
    .load(conn)?;
    let mut groups: Vec<ProjectTasks> = Vec::new();
    for task in rows {
        match groups.last_mut() {
            Some(g) if g.tasks.first().is_some_and(|t| t.project_id == task.project_id) => g.tasks.push(task),
            _ => groups.push(ProjectTasks { title: task.project_title.clone(), tasks: vec![task] }),
        }
    }
    Ok(groups)
}

/// Staff of the organization (active or banned, not invited; client users log no time), by name.
pub fn member_choices(conn: &mut PgConnection) -> QueryResult<Vec<Choice>> {
    crate::db::sql_query(
        "SELECT u.id, u.name FROM memberships m
         JOIN users u ON u.id = m.user_id
         JOIN roles r ON r.org_id = m.org_id AND r.id = m.role_id
         WHERE m.org_id = app_org_id() AND m.status <> 'invited' AND r.key IS DISTINCT FROM 'client'
         ORDER BY lower(u.name), u.id",
    )
    .load(conn)
}

/// What the task page shows of a task's time.
#[derive(Debug, Clone)]
pub struct TaskTime {
    pub task_id: TaskId,
    /// Newest first.
    pub entries: Vec<EntryRow>,
    /// Finished time on the task, everyone's.
    pub total_minutes: i64,
    /// The viewer's timer runs on this task.
    pub my_timer_running: bool,
    /// The viewer's timer runs on another task.
    pub my_timer_elsewhere: bool,
    pub me: UserId,
    /// Today on the organization's clock (the entry form's default date).
    pub today: NaiveDate,
}

impl TaskTime {
    pub fn total(&self) -> String {
        format_minutes(self.total_minutes)
    }

    pub fn return_to(&self) -> String {
        format!("/tasks/{}", self.task_id)
    }

    pub fn today_value(&self) -> String {
        self.today.to_string()
    }
}

/// The time of one task for its page: entries, total, and whether my timer runs here.
pub fn for_task(conn: &mut PgConnection, task: TaskId, me: UserId) -> QueryResult<TaskTime> {
    let mut entries = entries(conn, &EntryFilter { task: Some(task), ..Default::default() })?;
    entries.reverse();
    let total_minutes = entries.iter().filter_map(|e| e.minutes).map(i64::from).sum();
    let my_timer_running = entries.iter().any(|e| e.user_id == me && e.running());
    let my_timer_elsewhere = !my_timer_running && running_timer(conn, me)?.is_some();
    let today = org_clock(conn)?.today;
    Ok(TaskTime { task_id: task, entries, total_minutes, my_timer_running, my_timer_elsewhere, me, today })
}

/// Time billed on an invoice within a project, or within a task and its subtasks.
/// Deleting those would take billed hours out from under their invoice, so it is refused.
pub fn billed_entries(conn: &mut PgConnection, project: Option<ProjectId>, task: Option<TaskId>) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let count: Count = crate::db::sql_query(
        "SELECT count(*) AS n FROM time_entries e JOIN tasks t ON t.org_id = e.org_id AND t.id = e.task_id
         WHERE e.org_id = app_org_id() AND e.invoice_id IS NOT NULL
           AND ($1::uuid IS NULL OR t.project_id = $1) AND ($2::uuid IS NULL OR t.id = $2 OR t.parent_id = $2)",
    )
    .bind::<Nullable<SqlUuid>, _>(project)
    .bind::<Nullable<SqlUuid>, _>(task)
    .get_result(conn)?;
    Ok(count.n)
}

/// The power of `user`'s role in this organization; None once they have left it.
pub fn member_power(conn: &mut PgConnection, user: UserId) -> QueryResult<Option<i32>> {
    #[derive(QueryableByName)]
    struct Power {
        #[diesel(sql_type = Integer)]
        power: i32,
    }
    let row: Option<Power> = crate::db::sql_query(
        "SELECT r.power FROM memberships m JOIN roles r ON r.org_id = m.org_id AND r.id = m.role_id
         WHERE m.org_id = app_org_id() AND m.user_id = $1",
    )
    .bind::<SqlUuid, _>(user)
    .get_result(conn)
    .optional()?;
    Ok(row.map(|r| r.power))
}

/// Stops `user`'s timer in this organization, if it runs: called as they leave or are
/// removed, since a timer nobody can reach would block their timers everywhere.
pub fn stop_running(conn: &mut PgConnection, user: UserId) -> QueryResult<()> {
    if let Some(entry) = running_timer(conn, user)? {
        stop(conn, &entry)?;
    }
    Ok(())
}
