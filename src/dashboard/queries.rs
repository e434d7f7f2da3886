//! Dashboard figures. Tenant-scoped ones run in the tenant transaction.

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};

pub struct Overview {
    pub roles: Option<Vec<RoleCount>>,
    pub activity: Option<Vec<ActivityRow>>,
}

#[derive(QueryableByName, Debug)]
pub struct RoleCount {
    #[diesel(sql_type = Text)]
    pub role: String,
    #[diesel(sql_type = BigInt)]
    pub members: i64,
    #[diesel(sql_type = BigInt)]
    pub total: i64,
}

/// Active members per role, every role listed (RLS scopes this to the tenant).
pub fn members_by_role(conn: &mut PgConnection) -> QueryResult<Vec<RoleCount>> {
    diesel::sql_query(
        "SELECT r.name AS role, count(m.id) AS members, sum(count(m.id)) OVER ()::bigint AS total
         FROM roles r LEFT JOIN memberships m ON m.org_id = r.org_id AND m.role_id = r.id AND m.status = 'active'
         GROUP BY r.id, r.name, r.power ORDER BY r.power DESC, r.name",
    )
    .load(conn)
}

#[derive(QueryableByName, Debug)]
pub struct ActivityRow {
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub actor: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

impl ActivityRow {
    /// "signed in" from "auth.login", for people rather than machines.
    pub fn description(&self) -> &'static str {
        match self.action.as_str() {
            "auth.login" => "signed in",
            "auth.logout" => "signed out",
            "auth.login_failed" => "failed to sign in",
            "auth.login_refused" => "was refused sign-in",
            "auth.password_changed" => "changed their password",
            "auth.session_revoked" => "ended a session",
            "org.created" => "created the organization",
            _ => "did something",
        }
    }

    pub fn when(&self) -> String {
        crate::web::time::ago(self.created_at)
    }
}

pub fn recent_activity(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<ActivityRow>> {
    diesel::sql_query(
        "SELECT a.action, u.name AS actor, a.created_at
         FROM audit_logs a LEFT JOIN users u ON u.id = a.actor_id
         ORDER BY a.created_at DESC LIMIT $1",
    )
    .bind::<BigInt, _>(limit)
    .load(conn)
}
