//! Notifications are stored when something happens to someone (a task assigned to
//! them, a comment on their task, an @mention, a quotation answered); the bell in the
//! header counts the unread ones and the list page shows them. Row-level policies let
//! each user read and mark only their own.

pub mod bell;
pub mod email;
pub mod pages;

use crate::web::routes::{Access, routes};

routes! {
    GET "/notifications" => Access::Member, pages::index;
    GET "/notifications/stream" => Access::Member, bell::stream;
    POST "/notifications/email" => Access::Member, email::save;
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

    /// The kinds a user chooses to get by email too, as the settings list them. An
    /// invitation is not among them: it is an email of its own.
    pub const EMAILED: [Kind; 6] = [
        Kind::TaskAssigned,
        Kind::Mention,
        Kind::TaskComment,
        Kind::QuotationAccepted,
        Kind::QuotationDeclined,
        Kind::InvoicePaid,
    ];

    pub fn from_key(key: &str) -> Option<Kind> {
        Kind::EMAILED.into_iter().chain([Kind::Invitation]).find(|k| k.key() == key)
    }

    /// Whether it is emailed when the user has not chosen: the ones that ask for action.
    pub fn emailed_by_default(self) -> bool {
        !matches!(self, Kind::TaskComment | Kind::Invitation)
    }

    /// The setting's label: "Email me when …".
    pub fn when(self) -> &'static str {
        match self {
            Kind::TaskAssigned => "a task is assigned to me",
            Kind::TaskComment => "someone comments on a task of mine",
            Kind::Mention => "someone mentions me",
            Kind::Invitation => "someone invites me to an organization",
            Kind::QuotationAccepted => "a client accepts a quotation I sent",
            Kind::QuotationDeclined => "a client declines a quotation I sent",
            Kind::InvoicePaid => "an invoice I sent is paid in full",
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
    let id = NotificationId::new();
    diesel::insert_into(notifications::table)
        .values((
            notifications::id.eq(id),
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
    email::queue_if_wanted(conn, tenant, recipient, notice.kind, id)?;
    crate::live::bell(conn, recipient)
}
