//! Account queries. Sign-up runs in the new organization's tenant transaction;
//! login runs before any tenant is known, by email.

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::display_id;
use crate::audit::{self, AuditEvent};
use crate::db::ids::{OrgId, SessionId, UserId};
use crate::db::schema::{sessions, users};
use crate::db::{Tenant, tenant};
use crate::orgs;
use crate::web::request_meta::RequestMeta;

#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub status: String,
    pub active_org_id: Option<OrgId>,
    pub totp_enabled_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUser<'a> {
    id: UserId,
    email: &'a str,
    name: &'a str,
    password_hash: &'a str,
    display_id: &'a str,
}

pub fn find_by_email(conn: &mut PgConnection, email: &str) -> QueryResult<Option<UserRow>> {
    users::table.filter(users::email.eq(email)).select(UserRow::as_select()).first(conn).optional()
}

pub fn find_by_id(conn: &mut PgConnection, id: UserId) -> QueryResult<UserRow> {
    users::table.find(id).select(UserRow::as_select()).first(conn)
}

pub enum SignupError {
    EmailTaken,
    Db(DieselError),
}

impl From<DieselError> for SignupError {
    fn from(e: DieselError) -> Self {
        SignupError::Db(e)
    }
}

fn is_unique_violation(e: &DieselError, constraint: &str) -> bool {
    matches!(e, DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
        if info.constraint_name() == Some(constraint))
}

/// Creates the user, their organization with its built-in roles, and the Owner
/// membership, all in one transaction.
pub fn sign_up(
    conn: &mut PgConnection,
    meta: &RequestMeta,
    name: &str,
    email: &str,
    password_hash: &str,
    org_name: &str,
) -> Result<(UserId, OrgId), SignupError> {
    let user_id = UserId::new();
    let org_id = OrgId::new();
    let tenant = Tenant { org_id, user_id, client_id: None };
    // A display ID collision is retried with a fresh one (a whole new transaction).
    for _ in 0..5 {
        let display_id = display_id::generate();
        let result = tenant::transaction(conn, &tenant, |conn| {
            insert_user(conn, user_id, name, email, password_hash, &display_id)?;
            orgs::queries::provision(conn, org_id, org_name, user_id)?;
            diesel::update(users::table.find(user_id)).set(users::active_org_id.eq(org_id)).execute(conn)?;
            audit::record(
                conn,
                meta,
                AuditEvent::new("org.created").org(org_id).actor(user_id).entity("organization", org_id.0),
            )?;
            Ok::<_, DieselError>(())
        });
        match result {
            Ok(()) => return Ok((user_id, org_id)),
            Err(e) if is_unique_violation(&e, "users_email_key") => {
                return Err(SignupError::EmailTaken);
            }
            Err(e) if is_unique_violation(&e, "users_display_id_key") => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(SignupError::Db(DieselError::RollbackTransaction))
}

pub fn insert_user(
    conn: &mut PgConnection,
    id: UserId,
    name: &str,
    email: &str,
    password_hash: &str,
    display_id: &str,
) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(NewUser { id, email, name, password_hash, display_id })
        .execute(conn)
        .map(|_| ())
}

/// Adds a user straight into an existing organization with a role (demo data, and
/// later accepted invitations).
pub fn create_member(
    conn: &mut PgConnection,
    org_id: OrgId,
    role: crate::team::roles::BuiltinRole,
    name: &str,
    email: &str,
    password_hash: &str,
) -> QueryResult<UserId> {
    let user_id = UserId::new();
    let tenant = Tenant { org_id, user_id, client_id: None };
    tenant::transaction(conn, &tenant, |conn| {
        insert_user(conn, user_id, name, email, password_hash, &display_id::generate())?;
        let role_id = orgs::queries::builtin_role_id(conn, org_id, role)?;
        orgs::queries::add_member(conn, org_id, user_id, role_id)?;
        diesel::update(users::table.find(user_id)).set(users::active_org_id.eq(org_id)).execute(conn)?;
        Ok(user_id)
    })
}

/// An owner or staff member of the platform.
pub fn on_platform_team(conn: &mut PgConnection, user_id: UserId) -> QueryResult<bool> {
    use crate::db::schema::platform_staff;
    let owner: bool = users::table.find(user_id).select(users::is_platform_owner).first(conn)?;
    Ok(owner || diesel::select(diesel::dsl::exists(platform_staff::table.find(user_id))).get_result(conn)?)
}

pub fn record_login(conn: &mut PgConnection, user_id: UserId) -> QueryResult<()> {
    diesel::update(users::table.find(user_id)).set(users::last_login_at.eq(Utc::now())).execute(conn).map(|_| ())
}

pub fn set_password(conn: &mut PgConnection, user_id: UserId, password_hash: &str) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set((users::password_hash.eq(password_hash), users::updated_at.eq(Utc::now())))
        .execute(conn)
        .map(|_| ())
}

#[derive(Queryable, Debug)]
pub struct SessionRow {
    pub id: SessionId,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// The user's live sessions, most recently used first.
pub fn list_sessions(conn: &mut PgConnection, user_id: UserId, idle: chrono::Duration) -> QueryResult<Vec<SessionRow>> {
    let now = Utc::now();
    live_sessions_of(user_id, now, now - idle)
        .order(sessions::last_seen_at.desc())
        .select((sessions::id, sessions::ip, sessions::user_agent, sessions::created_at, sessions::last_seen_at))
        .load(conn)
}

/// The user's sessions that are neither expired nor idle since before `idle_since`.
#[diesel::dsl::auto_type]
fn live_sessions_of(user_id: UserId, now: DateTime<Utc>, idle_since: DateTime<Utc>) -> _ {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::expires_at.gt(now))
        .filter(sessions::last_seen_at.gt(idle_since))
}

pub fn count_live_sessions(conn: &mut PgConnection, user_id: UserId, idle: chrono::Duration) -> QueryResult<i64> {
    let now = Utc::now();
    live_sessions_of(user_id, now, now - idle).count().get_result(conn)
}

/// Ends one session of the user; another user's session id matches nothing.
pub fn revoke_session(conn: &mut PgConnection, user_id: UserId, id: SessionId) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::id.eq(id)).filter(sessions::user_id.eq(user_id))).execute(conn)
}

/// Ends every session of the user except `keep` (all of them when `keep` is None).
pub fn revoke_other_sessions(conn: &mut PgConnection, user_id: UserId, keep: Option<SessionId>) -> QueryResult<usize> {
    let mine = sessions::table.filter(sessions::user_id.eq(user_id));
    match keep {
        Some(keep) => diesel::delete(mine.filter(sessions::id.ne(keep))).execute(conn),
        None => diesel::delete(mine).execute(conn),
    }
}

/// "Firefox on Linux" from a user agent string, for the sessions list.
pub fn describe_device(user_agent: &str) -> String {
    let ua = user_agent;
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("OPR/") {
        "Opera"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") || ua.contains("HeadlessChrome") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else if ua.is_empty() {
        "Unknown browser"
    } else {
        "Other browser"
    };
    let os = if ua.contains("Android") {
        "Android"
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        "iOS"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        "macOS"
    } else if ua.contains("Linux") || ua.contains("X11") {
        "Linux"
    } else {
        "an unknown system"
    };
    format!("{browser} on {os}")
}
