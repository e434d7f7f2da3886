//! The database: connection pool, embedded migrations, the private PostgreSQL
//! launcher, the tenant transaction and typed ids.

pub mod embedded;
pub mod ids;
pub mod prepared;
pub mod schema;
pub mod tenant;
pub mod usage;

use std::time::Duration;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, ManageConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::DatabaseSettings;
use crate::web::error::AppError;

pub use prepared::sql_query;
pub use tenant::Tenant;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Any process that migrates takes this lock first, so several instances starting at
/// once migrate one after another.
const MIGRATION_LOCK_KEY: i64 = 0x436c_6965_6e74_4875; // "ClientHu"

pub type PgPool = Pool<Manager>;
pub type PgConn = PooledConnection<Manager>;

/// Diesel's connection manager that also drops a connection the server has closed
/// ([`usage::Meter::lost`]): Diesel itself notices only a broken transaction, and with
/// no `SELECT 1` before each checkout a dead connection would be handed out again and
/// again after PostgreSQL restarts.
#[derive(Debug)]
pub struct Manager(ConnectionManager<PgConnection>);

impl ManageConnection for Manager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConnection, Self::Error> {
        self.0.connect()
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), Self::Error> {
        self.0.is_valid(conn)
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        self.0.has_broken(conn) || conn.instrumentation().downcast_ref::<usage::Meter>().is_some_and(usage::Meter::lost)
    }
}

#[derive(Debug)]
struct SessionDefaults {
    statement_timeout_ms: u64,
    statement_cache: bool,
}

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionDefaults {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        // JIT off: it costs tens to hundreds of milliseconds per statement and pays off
        // only for queries far longer than any page's (the dashboard's counts took 840 ms
        // with it, 74 ms without).
        conn.batch_execute(&format!(
            "SET statement_timeout = {}; SET application_name = 'clienthub'; SET jit = off",
            self.statement_timeout_ms
        ))
        .map_err(diesel::r2d2::Error::QueryError)?;
        conn.set_instrumentation(usage::Meter::default());
        if !self.statement_cache {
            conn.set_prepared_statement_cache_size(diesel::connection::CacheSize::Disabled);
        }
        Ok(())
    }
}

pub fn build_pool(url: &str, settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    let manager = Manager(ConnectionManager::<PgConnection>::new(url));
    let pool = Pool::builder()
        .max_size(settings.pool_size)
        .min_idle(Some(1))
        // No `SELECT 1` before every checkout (a round trip per request): a connection
        // that breaks fails its statement, is marked broken and is dropped by the pool.
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(settings.connect_timeout_secs))
        .connection_customizer(Box::new(SessionDefaults {
            statement_timeout_ms: settings.statement_timeout_ms,
            statement_cache: settings.statement_cache,
        }))
        // Built without waiting for a connection, so the app starts (and /ready says 503)
        // while PostgreSQL is down, and recovers by itself when it returns.
        .build_unchecked(manager);
    Ok(pool)
}

/// Runs pending migrations under a PostgreSQL advisory lock.
pub fn migrate(conn: &mut PgConnection) -> anyhow::Result<Vec<String>> {
    conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
    let result = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(|v| v.to_string()).collect::<Vec<_>>())
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"));
    conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
    result
}

/// Runs blocking database work on actix's blocking thread pool, checking the
/// connection out inside the closure so async workers never wait on the pool.
pub async fn run<T, F>(pool: &PgPool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    let (result, used) = actix_web::web::block(move || {
        let mut conn = match pool.get() {
            Ok(conn) => conn,
            Err(e) => return (Err(AppError::from(e)), usage::Usage::default()),
        };
        usage::measure(|| f(&mut conn))
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?;
    let unavailable = matches!(result, Err(AppError::Unavailable(_)));
    usage::charge_request(usage::Usage { unavailable, ..used });
    result
}

/// Runs `f` inside the tenant transaction of `tenant` (see [`tenant`]).
pub async fn tenant_tx<T, F>(pool: &PgPool, tenant: Tenant, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    run(pool, move |conn| tenant::transaction(conn, &tenant, f)).await
}

/// A single number from SQL (`SELECT count(*) AS n …`).
#[derive(diesel::QueryableByName)]
pub struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}
