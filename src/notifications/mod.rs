//! Notifications are stored when something happens to someone (a task assigned to
//! them, a comment on their task, an @mention, a quotation answered); the bell in the
//! header counts the unread ones and the list page shows them. Row-level policies let
//! each user read and mark only their own.

pub mod bell;
pub mod pages;

use crate::web::routes::{Access, routes};

routes! {
    GET "/notifications" => Access::Member, pages::index;
    GET "/notifications/stream" => Access::Member, bell::stream;
    POST "/notifications/read-all" => Access::Member, pages::read_all;
    POST "/notifications/{id}/read" => Access::Member, pages::read;
}

use diesel::pg::PgConnection;
use diesel::prelude::*;

use crate::db::Tenant;
use crate::db::ids::{NotificationId, UserId};
use crate::db::schema::notifications;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    TaskAssigned,
    TaskComment,
    Mention,
    Invitation,
    QuotationAccepted,
    QuotationDeclined,
    InvoicePaid,
}

impl Kind {
    pub fn key(self) -> &'static str {
        match self {
            Kind::TaskAssigned => "task_assigned",
            Kind::TaskComment => "task_comment",
            Kind::Mention => "mention",
            Kind::Invitation => "invitation",
            Kind::QuotationAccepted => "quotation_accepted",
            Kind::QuotationDeclined => "quotation_declined",
            Kind::InvoicePaid => "invoice_paid",
        }
    }
}

pub struct Notice<'a> {
    pub kind: Kind,
    pub title: String,
    /// A local path, e.g. `/tasks/{id}#comment-{id}`.
    pub link: String,
    pub entity: (&'a str, uuid::Uuid),
}

/// Notifies `recipient` unless they caused it themselves.
pub fn notify(conn: &mut PgConnection, tenant: &Tenant, recipient: UserId, notice: &Notice<'_>) -> QueryResult<()> {
    if recipient == tenant.user_id {
        return Ok(());
    }
    diesel::insert_into(notifications::table)
        .values((
            notifications::id.eq(NotificationId::new()),
            notifications::org_id.eq(tenant.org_id),
            notifications::user_id.eq(recipient),
            notifications::actor_id.eq(tenant.user_id),
            notifications::kind.eq(notice.kind.key()),
            notifications::title.eq(&notice.title),
            notifications::link.eq(&notice.link),
            notifications::entity_type.eq(notice.entity.0),
            notifications::entity_id.eq(notice.entity.1),
        ))
        .execute(conn)?;
    crate::live::bell(conn, recipient)
}
