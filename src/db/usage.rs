//! What a request asked of the database: how many statements it sent and how long it
//! waited for them. Reported to the signed in in `Server-Timing`
//! (`db;dur=…;desc="N statements"`), read by the benchmarks and by the tests that keep
//! every page free of N+1 queries.
//!
//! Each pooled connection carries a [`Meter`] that adds to its thread's tally; `db::run`
//! takes the difference around the closure (on the blocking thread) and adds it to the
//! request's tally, a task-local the request middleware opens with [`scope`].

use std::cell::Cell;
use std::future::Future;
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub statements: u32,
    pub waited: Duration,
    /// PostgreSQL could not be reached (no connection, or it closed under a statement).
    pub unavailable: bool,
}

impl std::ops::Sub for Usage {
    type Output = Usage;
    fn sub(self, earlier: Usage) -> Usage {
        Usage {
            statements: self.statements.wrapping_sub(earlier.statements),
            waited: self.waited.saturating_sub(earlier.waited),
            unavailable: self.unavailable,
        }
    }
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.statements = self.statements.wrapping_add(other.statements);
        self.waited += other.waited;
        self.unavailable |= other.unavailable;
    }
}

thread_local! {
    static THREAD: Cell<Usage> =
        const { Cell::new(Usage { statements: 0, waited: Duration::ZERO, unavailable: false }) };
}

tokio::task_local! {
    static REQUEST: Cell<Usage>;
}

/// Installed on every pooled connection: counts each statement sent and the time to its
/// answer, and notes when the connection itself was lost under one.
#[derive(Default)]
pub struct Meter {
    started: Option<Instant>,
    lost: bool,
}

impl Meter {
    /// The server closed the connection, or it could not be reached: the pool must
    /// drop it (Diesel notices only a broken transaction).
    pub fn lost(&self) -> bool {
        self.lost
    }
}

impl Instrumentation for Meter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => self.started = Some(Instant::now()),
            InstrumentationEvent::FinishQuery { error, .. } => {
                use diesel::result::{DatabaseErrorKind, Error};
                self.lost |= matches!(
                    error,
                    Some(Error::DatabaseError(
                        DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                        _
                    ))
                );
                let waited = self.started.take().map(|at| at.elapsed()).unwrap_or_default();
                THREAD.with(|tally| {
                    let mut usage = tally.get();
                    usage += Usage { statements: 1, waited, unavailable: false };
                    tally.set(usage);
                });
            }
            _ => {}
        }
    }
}

/// Runs `f` on this thread and returns what it asked of the database.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Usage) {
    let before = THREAD.with(Cell::get);
    let value = f();
    (value, THREAD.with(Cell::get) - before)
}

/// Adds `usage` to the current request's tally (nothing outside a request).
pub fn charge_request(usage: Usage) {
    let _ = REQUEST.try_with(|tally| {
        let mut total = tally.get();
        total += usage;
        tally.set(total);
    });
}

/// Runs a request's future with a tally of its own; returns its output and the tally.
pub async fn scope<F: Future>(future: F) -> (F::Output, Usage) {
    REQUEST
        .scope(Cell::new(Usage::default()), async move {
            let output = future.await;
            (output, REQUEST.with(Cell::get))
        })
        .await
}
