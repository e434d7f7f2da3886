//! Login throttling. Sign-in attempts are counted in PostgreSQL, not in one process's
//! memory, so the limits hold however many instances serve the app (the per-instance
//! rate limiter in front only smooths bursts). The address is the real client's:
//! X-Forwarded-For is believed only from a trusted proxy (`request_meta`), and IPv6
//! clients count per /64.
//!
//! Within [`WINDOW_MINUTES`], an account takes [`PER_ACCOUNT_AND_ADDRESS`] failures
//! from one address, [`PER_ACCOUNT`] from everywhere (a spread-out attack), and an
//! address [`PER_ADDRESS`] whatever emails it tries; past that, attempts are refused
//! without the password being checked until the oldest failure ages out. The strictest
//! limit is per account *and* address, so a stranger cannot cheaply lock a user out.
//!
//! An attempt is written as a failure *before* the password is checked, under a lock
//! per account, so simultaneous guesses cannot all slip in under the limit; a correct
//! password takes its row back, and a full sign-in (or a password reset) clears the
//! account's failures. The first refusal per account and address in a window is noted
//! too (a `refused` row, counted toward no limit), so the lock-out is audited once
//! rather than once per attempt a script keeps making.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::db::schema::login_failures;

pub const WINDOW_MINUTES: i64 = 15;
pub const PER_ACCOUNT_AND_ADDRESS: i64 = 10;
pub const PER_ACCOUNT: i64 = 100;
pub const PER_ADDRESS: i64 = 50;

/// What `begin` decided.
pub enum Attempt {
    /// Go on and check the password; this attempt is counted as a failure until
    /// [`succeeded`] takes it back.
    Counted(i64),
    /// Refused: try again in this many seconds. `first` for the first refusal of this
    /// account and address in the window (the one worth an audit entry).
    Locked { retry_after_secs: i64, first: bool },
}

#[derive(QueryableByName)]
struct Recent {
    #[diesel(sql_type = Nullable<BigInt>)]
    retry_after_secs: Option<i64>,
}

/// Counts this attempt, unless `email` from `ip` is over a limit. Runs in its own
/// transaction, holding the account's advisory lock from count to insert.
pub fn begin(conn: &mut PgConnection, email: &str, ip: Option<&str>) -> QueryResult<Attempt> {
    let email: String = email.chars().take(254).collect();
    conn.transaction(|conn| {
        crate::db::sql_query("SELECT pg_advisory_xact_lock(hashtext('login:' || $1))")
            .bind::<Text, _>(&email)
            .execute(conn)?;
        // For each limit that is reached: when its oldest failure in the window ages
        // out of it. The longest of those is the wait.
        let recent: Recent = crate::db::sql_query(
            "WITH recent AS (
               SELECT email, ip, at FROM login_failures
               WHERE at > now() - make_interval(mins => $3::int) AND (email = $1 OR ip = $2) AND NOT refused),
             limits AS (
               SELECT count(*) FILTER (WHERE email = $1 AND ip IS NOT DISTINCT FROM $2) AS pair,
                      min(at) FILTER (WHERE email = $1 AND ip IS NOT DISTINCT FROM $2) AS pair_since,
                      count(*) FILTER (WHERE email = $1) AS account, min(at) FILTER (WHERE email = $1) AS account_since,
                      count(*) FILTER (WHERE ip = $2) AS address, min(at) FILTER (WHERE ip = $2) AS address_since
               FROM recent)
             SELECT ceil(extract(epoch FROM greatest(
                      CASE WHEN pair >= $4 THEN pair_since END,
                      CASE WHEN account >= $5 THEN account_since END,
                      CASE WHEN address >= $6 THEN address_since END)
                    + make_interval(mins => $3::int) - now()))::bigint AS retry_after_secs
             FROM limits",
        )
        .bind::<Text, _>(&email)
        .bind::<Nullable<Text>, _>(ip)
        .bind::<BigInt, _>(WINDOW_MINUTES)
        .bind::<BigInt, _>(PER_ACCOUNT_AND_ADDRESS)
        .bind::<BigInt, _>(PER_ACCOUNT)
        .bind::<BigInt, _>(PER_ADDRESS)
        .get_result(conn)?;
        if let Some(wait) = recent.retry_after_secs {
            let first = crate::db::sql_query(
                "INSERT INTO login_failures (email, ip, refused) SELECT $1, $2, true
                 WHERE NOT EXISTS (SELECT 1 FROM login_failures WHERE email = $1 AND ip IS NOT DISTINCT FROM $2
                                   AND refused AND at > now() - make_interval(mins => $3::int))",
            )
            .bind::<Text, _>(&email)
            .bind::<Nullable<Text>, _>(ip)
            .bind::<BigInt, _>(WINDOW_MINUTES)
            .execute(conn)?
                == 1;
            return Ok(Attempt::Locked { retry_after_secs: wait.max(1), first });
        }
        let id = diesel::insert_into(login_failures::table)
            .values((login_failures::email.eq(&email), login_failures::ip.eq(ip)))
            .returning(login_failures::id)
            .get_result(conn)?;
        Ok(Attempt::Counted(id))
    })
}

/// The password was right: this attempt was not a failure.
pub fn succeeded(conn: &mut PgConnection, attempt: i64) -> QueryResult<()> {
    diesel::delete(login_failures::table.find(attempt)).execute(conn).map(|_| ())
}

/// The account signed in, or its password was reset: its failures no longer count.
pub fn clear(conn: &mut PgConnection, email: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::email.eq(email))).execute(conn).map(|_| ())
}
