//! The notification list: newest first, unread ones marked; opening one marks it read
//! and follows its link (a form post, so it works without JavaScript).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};

use crate::db;
use crate::db::ids::NotificationId;
use crate::state::AppState;
use crate::web::auth::OrgContext;
use crate::web::flash::{Flash, redirect, redirect_with};
use crate::web::layout::Layout;
use crate::web::{AppError, render};

const SHOWN: i64 = 100;

#[derive(QueryableByName, Debug, Clone)]
pub struct NotificationRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: NotificationId,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub actor: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub read_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

impl NotificationRow {
    pub fn ago(&self) -> String {
        crate::web::time::ago(self.created_at)
    }

    pub fn icon(&self) -> &'static str {
        match self.kind.as_str() {
            "task_assigned" => "check-square",
            "task_comment" | "mention" => "message",
            "quotation_accepted" | "quotation_declined" | "invoice_paid" => "receipt",
            "invitation" => "users",
            "support_reply" => "chat",
            _ => "bell",
        }
    }
}

#[derive(Template)]
#[template(path = "notifications/index.html")]
struct IndexPage {
    layout: Layout,
    notifications: Vec<NotificationRow>,
    unread: usize,
    email_choices: Vec<(super::Kind, bool)>,
}

/// GET /notifications
pub async fn index(req: HttpRequest, state: web::Data<AppState>, ctx: OrgContext) -> Result<HttpResponse, AppError> {
    let me = ctx.user.id;
    let (notifications, email_choices) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let list: Vec<NotificationRow> = crate::db::sql_query(
            "SELECT n.id, n.kind, n.title, a.name AS actor, n.read_at, n.created_at
             FROM notifications n LEFT JOIN users a ON a.id = n.actor_id
             WHERE n.user_id = app_user_id() AND (n.org_id = app_org_id() OR n.kind IN ('invitation', 'support_reply'))
             ORDER BY n.created_at DESC LIMIT $1",
        )
        .bind::<diesel::sql_types::BigInt, _>(SHOWN)
        .load(conn)?;
        Ok((list, super::email::choices(conn, me)?))
    })
    .await?;
    let unread = notifications.iter().filter(|n| n.read_at.is_none()).count();
    let layout = Layout::member(&req, &ctx, "Notifications", "/notifications");
    render(StatusCode::OK, &IndexPage { layout, notifications, unread, email_choices })
}

/// POST /notifications/{id}/read — marks it read and opens what it is about.
pub async fn read(
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: NotificationId = path.parse().map_err(|_| AppError::NotFound)?;
    let me = ctx.user.id;
    let link: String = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        #[derive(QueryableByName)]
        struct Link {
            #[diesel(sql_type = Text)]
            link: String,
        }
        let row: Option<Link> = crate::db::sql_query(
            "UPDATE notifications SET read_at = coalesce(read_at, now())
             WHERE id = $1 AND user_id = app_user_id() AND (org_id = app_org_id() OR kind IN ('invitation', 'support_reply')) RETURNING link",
        )
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .optional()?;
        crate::live::bell(conn, me)?;
        row.map(|r| r.link).ok_or(AppError::NotFound)
    })
    .await?;
    // Links are local paths (checked by the database: '^/[^/\\]'), never another site.
    Ok(redirect(&link))
}

/// POST /notifications/read-all
pub async fn read_all(req: HttpRequest, state: web::Data<AppState>, ctx: OrgContext) -> Result<HttpResponse, AppError> {
    let me = ctx.user.id;
    let marked = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        crate::live::bell(conn, me)?;
        Ok(crate::db::sql_query(
            "UPDATE notifications SET read_at = now()
             WHERE user_id = app_user_id() AND (org_id = app_org_id() OR kind IN ('invitation', 'support_reply')) AND read_at IS NULL",
        )
        .execute(conn)?)
    })
    .await?;
    let message = match marked {
        0 => "Nothing was unread.".to_string(),
        1 => "1 notification marked as read.".to_string(),
        n => format!("{n} notifications marked as read."),
    };
    Ok(redirect_with(&req, "/notifications", Flash::success(message)))
}
