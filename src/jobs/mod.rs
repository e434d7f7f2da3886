//! The job queue in PostgreSQL. Work is enqueued in the same transaction as the
//! action that causes it; workers claim jobs with `FOR UPDATE SKIP LOCKED`, so two
//! workers never run the same job; failures retry with exponential backoff and end
//! as `dead`, kept for inspection (`clienthub jobs`).

pub mod worker;

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Int4, Jsonb, Text, Timestamptz, Uuid as SqlUuid};

use crate::db::ids::{JobId, OrgId};
use crate::db::schema::jobs;

/// A job still running this long after it was claimed belongs to a worker that died.
const STALE_AFTER_SECS: i64 = 600;
/// Backoff after the n-th failed attempt: 30 s, 1 min, 2 min, … capped at 1 hour.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let secs = 30i64.saturating_mul(1i64 << attempts.clamp(1, 16).saturating_sub(1));
    chrono::Duration::seconds(secs.min(3600))
}

#[derive(Insertable)]
#[diesel(table_name = jobs)]
struct NewJob<'a> {
    id: JobId,
    org_id: Option<OrgId>,
    kind: &'a str,
    payload: &'a serde_json::Value,
    run_at: DateTime<Utc>,
}

/// Adds a job; it runs once the caller's transaction commits (and not at all if it
/// rolls back).
pub fn enqueue(
    conn: &mut PgConnection,
    org_id: Option<OrgId>,
    kind: &str,
    payload: &serde_json::Value,
    run_at: Option<DateTime<Utc>>,
) -> QueryResult<JobId> {
    let id = JobId::new();
    diesel::insert_into(jobs::table)
        .values(NewJob { id, org_id, kind, payload, run_at: run_at.unwrap_or_else(Utc::now) })
        .execute(conn)?;
    Ok(id)
}

#[derive(QueryableByName, Debug, Clone)]
pub struct Job {
    #[diesel(sql_type = SqlUuid)]
    pub id: JobId,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    #[diesel(sql_type = Int4)]
    pub max_attempts: i32,
}

/// Claims the next due job for `worker`, or a job abandoned by a dead worker.
pub fn claim(conn: &mut PgConnection, worker: &str) -> QueryResult<Option<Job>> {
    crate::db::sql_query(
        "UPDATE jobs SET status = 'running', locked_by = $1, locked_at = now(), attempts = attempts + 1
         WHERE id = (
           SELECT id FROM jobs
           WHERE (status = 'pending' AND run_at <= now())
              OR (status = 'running' AND locked_at < now() - make_interval(secs => $2))
           ORDER BY run_at
           LIMIT 1
           FOR UPDATE SKIP LOCKED)
         RETURNING id, kind, payload, attempts, max_attempts",
    )
    .bind::<Text, _>(worker)
    .bind::<diesel::sql_types::Double, _>(STALE_AFTER_SECS as f64)
    .get_result(conn)
    .optional()
}

/// Marks the job done. Its payload is emptied: an email's body may carry a live link.
pub fn complete(conn: &mut PgConnection, id: JobId) -> QueryResult<()> {
    diesel::update(jobs::table.find(id))
        .set((
            jobs::status.eq("done"),
            jobs::finished_at.eq(Utc::now()),
            jobs::last_error.eq(None::<String>),
            jobs::payload.eq(serde_json::json!({})),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Records a failure: the job is retried later, or is dead after its last attempt.
pub fn fail(conn: &mut PgConnection, job: &Job, error: &str) -> QueryResult<()> {
    let error: String = error.chars().take(2000).collect();
    if job.attempts >= job.max_attempts {
        // A dead job keeps what identifies it (kind, recipient, subject), not bodies with links.
        crate::db::sql_query(
            "UPDATE jobs SET status = 'dead', last_error = $2, finished_at = now(), payload = payload - 'text' - 'html' - 'attachments'
             WHERE id = $1",
        )
        .bind::<SqlUuid, _>(job.id)
        .bind::<Text, _>(error)
        .execute(conn)?;
    } else {
        diesel::update(jobs::table.find(job.id))
            .set((
                jobs::status.eq("pending"),
                jobs::last_error.eq(error),
                jobs::run_at.eq(Utc::now() + backoff(job.attempts)),
                jobs::locked_by.eq(None::<String>),
                jobs::locked_at.eq(None::<DateTime<Utc>>),
            ))
            .execute(conn)?;
    }
    Ok(())
}

#[derive(QueryableByName, Debug)]
pub struct JobSummary {
    #[diesel(sql_type = SqlUuid)]
    pub id: JobId,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    pub run_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub last_error: Option<String>,
}

/// Jobs that are failing or dead, newest first: what an operator needs to look at.
pub fn troubled(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<JobSummary>> {
    crate::db::sql_query(
        "SELECT id, kind, status, attempts, run_at, last_error FROM jobs
         WHERE status = 'dead' OR (status = 'pending' AND last_error IS NOT NULL)
         ORDER BY created_at DESC LIMIT $1",
    )
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_and_is_capped_at_an_hour() {
        assert_eq!(backoff(1).num_seconds(), 30);
        assert_eq!(backoff(2).num_seconds(), 60);
        assert_eq!(backoff(5).num_seconds(), 480);
        assert_eq!(backoff(12).num_seconds(), 3600);
    }
}
