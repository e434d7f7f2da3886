//! A worker: claims due jobs one at a time and runs them. `clienthub serve` runs one
//! in-process; `clienthub worker` runs one alone; any number may run at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::db::PgPool;
use crate::jobs::{self, Job};
use crate::mail::{self, Mailer};

pub struct Worker {
    pub name: String,
    pool: PgPool,
    mailer: Mailer,
    poll_interval: Duration,
}

impl Worker {
    pub fn new(pool: PgPool, mailer: Mailer, poll_interval: Duration) -> Worker {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let name =
            format!("{}:{}:{}", host.trim(), std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8]);
        Worker { name, pool, mailer, poll_interval }
    }

    fn perform(&self, job: &Job) -> anyhow::Result<()> {
        match job.kind.as_str() {
            mail::JOB_KIND => self.mailer.send(&serde_json::from_value(job.payload.clone())?),
            crate::notifications::email::JOB_KIND => {
                let mut conn = self.pool.get()?;
                match crate::notifications::email::compose(&mut conn, &job.payload, self.mailer.app_url())? {
                    Some(email) => self.mailer.send(&email),
                    None => Ok(()),
                }
            }
            other => anyhow::bail!("unknown job kind {other}"),
        }
    }

    /// Runs one due job if there is one; returns whether it found one.
    pub fn run_once(&self) -> anyhow::Result<bool> {
        let mut conn = self.pool.get()?;
        let Some(job) = jobs::claim(&mut conn, &self.name)? else { return Ok(false) };
        match self.perform(&job) {
            Ok(()) => jobs::complete(&mut conn, job.id)?,
            Err(e) => {
                tracing::warn!(job = %job.id, kind = job.kind, attempt = job.attempts, error = %e, "job failed");
                jobs::fail(&mut conn, &job, &format!("{e:#}"))?;
            }
        }
        Ok(true)
    }

    /// Works until `stop` is set; finishes the job in hand before returning. Once an
    /// hour it also sweeps what has expired.
    pub fn run(&self, stop: &AtomicBool) {
        tracing::info!(worker = self.name, "job worker started");
        let mut last_sweep: Option<std::time::Instant> = None;
        while !stop.load(Ordering::Relaxed) {
            if last_sweep.is_none_or(|at| at.elapsed() >= SWEEP_EVERY) {
                last_sweep = Some(std::time::Instant::now());
                match self.pool.get().map_err(anyhow::Error::from).and_then(|mut c| sweep(&mut c).map_err(Into::into)) {
                    Ok(removed) if removed > 0 => tracing::info!(removed, "expired rows swept"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "sweeping expired rows failed"),
                }
            }
            match self.run_once() {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "job worker cannot reach the database"),
            }
            std::thread::sleep(self.poll_interval);
        }
        tracing::info!(worker = self.name, "job worker stopped");
    }
}

const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Deletes what can no longer be used: ended sessions, spent or expired links, finished
/// jobs after a week and failed sign-ins after a day. Idempotent, so any number of workers may run it.
pub fn sweep(conn: &mut diesel::PgConnection) -> diesel::QueryResult<usize> {
    use diesel::RunQueryDsl;
    let mut removed = 0;
    for statement in [
        "DELETE FROM sessions WHERE expires_at < now() OR (user_id IS NULL AND last_seen_at < now() - interval '1 day')",
        "DELETE FROM user_tokens WHERE expires_at < now() - interval '1 day' OR used_at < now() - interval '1 day'",
        "DELETE FROM jobs WHERE status = 'done' AND finished_at < now() - interval '7 days'",
        "DELETE FROM login_failures WHERE at < now() - interval '1 day'",
    ] {
        removed += diesel::sql_query(statement).execute(conn)?;
    }
    Ok(removed)
}

/// A worker on its own thread, stopped (after its current job) when dropped.
pub struct BackgroundWorker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundWorker {
    pub fn spawn(worker: Worker) -> BackgroundWorker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new().name("clienthub-jobs".into()).spawn(move || worker.run(&flag)).ok();
        BackgroundWorker { stop, thread }
    }
}

impl Drop for BackgroundWorker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
