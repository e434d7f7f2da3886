//! Login throttling. Failed sign-ins are counted in PostgreSQL, not in one process's
//! memory, so the limits hold however many instances serve the app (the per-instance
//! rate limiter in front only smooths bursts). The address is the real client's:
//! X-Forwarded-For is believed only from a trusted proxy (`request_meta`).
//!
//! An account that failed [`PER_ACCOUNT`] times in [`WINDOW_MINUTES`] takes no more
//! attempts until its oldest failure ages out; so does an address that failed
//! [`PER_ADDRESS`] times, whatever emails it tried. The password is not even checked
//! while locked, so guessing costs the server nothing. A success clears the account.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::db::schema::login_failures;

pub const WINDOW_MINUTES: i64 = 15;
pub const PER_ACCOUNT: i64 = 10;
pub const PER_ADDRESS: i64 = 50;

#[derive(QueryableByName)]
struct Recent {
    #[diesel(sql_type = BigInt)]
    by_account: i64,
    #[diesel(sql_type = BigInt)]
    by_address: i64,
    #[diesel(sql_type = BigInt)]
    retry_after_secs: i64,
}

/// Seconds until `email` from `ip` may try again, or `None` while under the limits.
pub fn locked_for(conn: &mut PgConnection, email: &str, ip: Option<&str>) -> QueryResult<Option<i64>> {
    let recent: Recent = diesel::sql_query(
        "WITH recent AS (
           SELECT email, ip, at FROM login_failures
           WHERE at > now() - make_interval(mins => $3::int) AND (email = $1 OR ip = $2))
         SELECT count(*) FILTER (WHERE email = $1) AS by_account,
                count(*) FILTER (WHERE ip = $2) AS by_address,
                coalesce(ceil(extract(epoch FROM min(at) + make_interval(mins => $3::int) - now())), 1)::bigint
                  AS retry_after_secs
         FROM recent",
    )
    .bind::<Text, _>(email)
    .bind::<Nullable<Text>, _>(ip)
    .bind::<BigInt, _>(WINDOW_MINUTES)
    .get_result(conn)?;
    let locked = recent.by_account >= PER_ACCOUNT || recent.by_address >= PER_ADDRESS;
    Ok(locked.then_some(recent.retry_after_secs.max(1)))
}

pub fn record_failure(conn: &mut PgConnection, email: &str, ip: Option<&str>) -> QueryResult<()> {
    let email: String = email.chars().take(254).collect();
    diesel::insert_into(login_failures::table)
        .values((login_failures::email.eq(email), login_failures::ip.eq(ip)))
        .execute(conn)
        .map(|_| ())
}

/// The account signed in: its earlier failures no longer count against it.
pub fn clear(conn: &mut PgConnection, email: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::email.eq(email))).execute(conn).map(|_| ())
}
