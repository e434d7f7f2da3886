//! The tenant transaction: every query a request makes for an organization runs
//! inside one transaction that first switches to the `clienthub_tenant` role and
//! sets `app.org_id` / `app.user_id` / `app.client_id`, so PostgreSQL row-level
//! security scopes every statement to that organization, even one without
//! `WHERE org_id`.

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;

use super::ids::{ClientId, OrgId, UserId};

/// Whose data a transaction may touch.
#[derive(Debug, Clone, Copy)]
pub struct Tenant {
    pub org_id: OrgId,
    pub user_id: UserId,
    /// Set for client-role users: they see only their own client's records.
    pub client_id: Option<ClientId>,
}

/// The statements that open a tenant transaction, sent in one round trip.
/// Interpolation is safe: the values are typed UUIDs, never user text.
fn context_sql(tenant: &Tenant) -> String {
    let client = tenant.client_id.map(|c| c.to_string()).unwrap_or_default();
    format!(
        "SET LOCAL ROLE clienthub_tenant; \
         SELECT set_config('app.org_id', '{}', true), set_config('app.user_id', '{}', true), \
         set_config('app.client_id', '{}', true)",
        tenant.org_id, tenant.user_id, client
    )
}

pub fn transaction<T, E, F>(conn: &mut PgConnection, tenant: &Tenant, f: F) -> Result<T, E>
where
    F: FnOnce(&mut PgConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(|conn| {
        conn.batch_execute(&context_sql(tenant))?;
        f(conn)
    })
}
