//! The audit log: every sensitive action, written in the same transaction as the action.

pub mod page;

use crate::team::Permission;
use crate::web::routes::{Access, routes};

routes! {
    GET "/audit-logs" => Access::Permission(Permission::ViewAuditLogs), page::index;
    GET "/audit-logs.csv" => Access::Permission(Permission::ExportData), page::csv;
}

use diesel::pg::PgConnection;
use diesel::prelude::*;

use crate::db::ids::{AuditLogId, OrgId, UserId};
use crate::db::schema::audit_logs;
use crate::web::request_meta::RequestMeta;

/// Who did what to which record, from where.
pub struct AuditEvent<'a> {
    pub org_id: Option<OrgId>,
    pub actor_id: Option<UserId>,
    pub action: &'a str,
    pub entity_type: Option<&'a str>,
    pub entity_id: Option<uuid::Uuid>,
    pub metadata: serde_json::Value,
}

impl<'a> AuditEvent<'a> {
    pub fn new(action: &'a str) -> Self {
        AuditEvent {
            org_id: None,
            actor_id: None,
            action,
            entity_type: None,
            entity_id: None,
            metadata: serde_json::json!({}),
        }
    }

    pub fn org(mut self, org_id: OrgId) -> Self {
        self.org_id = Some(org_id);
        self
    }

    pub fn actor(mut self, user_id: UserId) -> Self {
        self.actor_id = Some(user_id);
        self
    }

    pub fn entity(mut self, entity_type: &'a str, id: uuid::Uuid) -> Self {
        self.entity_type = Some(entity_type);
        self.entity_id = Some(id);
        self
    }

    pub fn metadata(mut self, metadata: serde_json::Value) -> Self {
        self.metadata = metadata;
        self
    }
}

#[derive(Insertable)]
#[diesel(table_name = audit_logs)]
struct NewAuditLog<'a> {
    id: AuditLogId,
    org_id: Option<OrgId>,
    actor_id: Option<UserId>,
    action: &'a str,
    entity_type: Option<&'a str>,
    entity_id: Option<uuid::Uuid>,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    metadata: &'a serde_json::Value,
}

pub fn record(conn: &mut PgConnection, meta: &RequestMeta, event: AuditEvent<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_logs::table)
        .values(NewAuditLog {
            id: AuditLogId::new(),
            org_id: event.org_id,
            actor_id: event.actor_id,
            action: event.action,
            entity_type: event.entity_type,
            entity_id: event.entity_id,
            ip: meta.ip.as_deref(),
            user_agent: meta.user_agent.as_deref(),
            metadata: &event.metadata,
        })
        .execute(conn)
        .map(|_| ())
}
