//! /platform/support: the users' conversations, waiting ones first, and answering
//! them (the user gets a notification).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Deserialize;

use super::{PlatformEvent, PlatformStaff, cross_tenant_tx, record};
use crate::db::ids::{OrgId, SupportConversationId, UserId};
use crate::db::schema::support_conversations;
use crate::state::AppState;
use crate::support::{Message, add_message, checked_body, notify_answer, thread};
use crate::web::flash::{Flash, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

#[derive(QueryableByName, Debug)]
pub struct ConversationRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: SupportConversationId,
    #[diesel(sql_type = Text)]
    pub user_name: String,
    #[diesel(sql_type = Text)]
    pub user_email: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub org_name: Option<String>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Timestamptz)]
    pub last_message_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub last_body: String,
}

impl ConversationRow {
    pub fn ago(&self) -> String {
        crate::web::time::ago(self.last_message_at)
    }

    pub fn snippet(&self) -> String {
        let mut s: String = self.last_body.chars().take(90).collect();
        if self.last_body.chars().count() > 90 {
            s.push('…');
        }
        s
    }
}

#[derive(Template)]
#[template(path = "platform/support.html")]
struct SupportPage {
    layout: Layout,
    conversations: Vec<ConversationRow>,
    open: Option<SupportConversationId>,
    messages: Vec<Message>,
    body: String,
    errors: FieldErrors,
}

impl SupportPage {
    fn opened(&self) -> Option<&ConversationRow> {
        self.conversations.iter().find(|c| Some(c.id) == self.open)
    }
}

#[derive(Deserialize, Default)]
pub struct Open {
    #[serde(default)]
    c: Option<SupportConversationId>,
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    staff: &PlatformStaff,
    meta: RequestMeta,
    open: Option<SupportConversationId>,
    body: String,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let actor = staff.id();
    let (conversations, messages) = cross_tenant_tx(&state.pool, staff, move |conn| {
        let conversations: Vec<ConversationRow> = crate::db::sql_query(
            "SELECT c.id, u.name AS user_name, u.email AS user_email, o.name AS org_name, c.status, c.last_message_at,
                    (SELECT m.body FROM support_messages m WHERE m.conversation_id = c.id
                     ORDER BY m.created_at DESC, m.id DESC LIMIT 1) AS last_body
             FROM support_conversations c JOIN users u ON u.id = c.user_id
             LEFT JOIN organizations o ON o.id = c.org_id
             ORDER BY c.status = 'waiting' DESC, c.last_message_at DESC
             LIMIT 200",
        )
        .load(conn)?;
        let messages = match open {
            Some(id) => {
                let who: String = crate::db::sql_query(
                    "SELECT u.email AS n FROM support_conversations c JOIN users u ON u.id = c.user_id WHERE c.id = $1",
                )
                .bind::<SqlUuid, _>(id)
                .get_result::<Email>(conn)?
                .n;
                record(
                    conn,
                    Some(actor),
                    &meta,
                    PlatformEvent::new("platform.support_viewed", format!("Read the support conversation of {who}"))
                        .target("support_conversation", id.0),
                )?;
                thread(conn, id)?
            }
            None => Vec::new(),
        };
        Ok((conversations, messages))
    })
    .await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let page = SupportPage {
        layout: Layout::platform(req, &staff.user, "Support", "/platform/support"),
        conversations,
        open,
        messages,
        body,
        errors,
    };
    render(status, &page)
}

#[derive(QueryableByName)]
struct Email {
    #[diesel(sql_type = Text)]
    n: String,
}

/// GET /platform/support?c={conversation}
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: PlatformStaff,
    meta: RequestMeta,
    query: web::Query<Open>,
) -> Result<HttpResponse, AppError> {
    page(&req, &state, &staff, meta, query.c, String::new(), FieldErrors::default()).await
}

#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    body: String,
}

/// POST /platform/support/{id}/reply (body)
pub async fn reply(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: PlatformStaff,
    meta: RequestMeta,
    path: web::Path<SupportConversationId>,
    Form(form): Form<ReplyForm, 32768>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let body = match checked_body(&form.body) {
        Ok(body) => body,
        Err(message) => {
            let mut errors = FieldErrors::default();
            errors.add("body", message);
            return page(&req, &state, &staff, meta, Some(id), form.body, errors).await;
        }
    };
    let actor = staff.id();
    cross_tenant_tx(&state.pool, &staff, move |conn| {
        let (user_id, org_id): (UserId, Option<OrgId>) = support_conversations::table
            .find(id)
            .select((support_conversations::user_id, support_conversations::org_id))
            .for_update()
            .first(conn)?;
        add_message(conn, id, actor, true, &body)?;
        diesel::update(support_conversations::table.find(id))
            .set((
                support_conversations::status.eq("answered"),
                support_conversations::last_message_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        notify_answer(conn, id, user_id, org_id, actor)?;
        record(
            conn,
            Some(actor),
            &meta,
            PlatformEvent::new("platform.support_answered", "Answered a support conversation")
                .target("support_conversation", id.0),
        )?;
        Ok(())
    })
    .await?;
    Ok(redirect_with(
        &req,
        &format!("/platform/support?c={id}"),
        Flash::success("Answer sent; they get a notification."),
    ))
}
