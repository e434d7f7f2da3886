//! /support: each user's one conversation with the platform team. The user writes
//! from the app; staff answer on /platform/support; the answer shows here and rings
//! the user's bell.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Deserialize;

use crate::db::ids::{OrgId, SupportConversationId, SupportMessageId, UserId};
use crate::db::schema::{notifications, support_conversations, support_messages, users};
use crate::db::{self};
use crate::state::AppState;
use crate::web::auth::{CurrentUser, auth_of};
use crate::web::flash::{Flash, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::web::routes::{Access, routes};
use crate::web::{AppError, Form, render};

routes! {
    GET "/support" => Access::SignedIn, show;
    POST "/support" => Access::SignedIn, send;
}

pub const MAX_BODY: usize = 4000;

#[derive(QueryableByName, Debug)]
pub struct Message {
    #[diesel(sql_type = Bool)]
    pub from_staff: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub author: Option<String>,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

impl Message {
    pub fn when(&self) -> String {
        self.created_at.format("%-d %b %Y, %H:%M UTC").to_string()
    }
}

/// The messages of a conversation, oldest first.
pub fn thread(conn: &mut PgConnection, conversation: SupportConversationId) -> QueryResult<Vec<Message>> {
    crate::db::sql_query(
        "SELECT m.from_staff, u.name AS author, m.body, m.created_at
         FROM support_messages m LEFT JOIN users u ON u.id = m.author_id
         WHERE m.conversation_id = $1 ORDER BY m.created_at, m.id",
    )
    .bind::<SqlUuid, _>(conversation)
    .load(conn)
}

/// A message body, or what is wrong with it.
pub fn checked_body(raw: &str) -> Result<String, String> {
    let body = raw.trim();
    if body.is_empty() {
        return Err("Write your message.".into());
    }
    if body.chars().count() > MAX_BODY {
        return Err(format!("Keep it under {MAX_BODY} characters ({} now).", body.chars().count()));
    }
    Ok(body.to_string())
}

pub fn add_message(
    conn: &mut PgConnection,
    conversation: SupportConversationId,
    author: UserId,
    from_staff: bool,
    body: &str,
) -> QueryResult<()> {
    diesel::insert_into(support_messages::table)
        .values((
            support_messages::id.eq(SupportMessageId::new()),
            support_messages::conversation_id.eq(conversation),
            support_messages::author_id.eq(author),
            support_messages::from_staff.eq(from_staff),
            support_messages::body.eq(body),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Tells the user their question was answered, in the organization they wrote from.
pub fn notify_answer(
    conn: &mut PgConnection,
    conversation: SupportConversationId,
    user: UserId,
    org: Option<OrgId>,
    staff: UserId,
) -> QueryResult<()> {
    let Some(org_id) = org else { return Ok(()) };
    diesel::insert_into(notifications::table)
        .values((
            notifications::id.eq(crate::db::ids::NotificationId::new()),
            notifications::org_id.eq(org_id),
            notifications::user_id.eq(user),
            notifications::actor_id.eq(staff),
            notifications::kind.eq("support_reply"),
            notifications::title.eq("Support answered your message"),
            notifications::link.eq("/support"),
            notifications::entity_type.eq("support_conversation"),
            notifications::entity_id.eq(conversation.0),
        ))
        .execute(conn)?;
    crate::live::bell(conn, user)
}

#[derive(Template)]
#[template(path = "support/show.html")]
struct SupportPage {
    layout: Layout,
    messages: Vec<Message>,
    body: String,
    errors: FieldErrors,
    answered: bool,
}

#[derive(Deserialize, Default)]
pub struct Topic {
    #[serde(default)]
    topic: String,
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    body: String,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let user_id = user.id;
    let (messages, answered) = db::run(&state.pool, move |conn| {
        let conversation: Option<(SupportConversationId, String)> = support_conversations::table
            .filter(support_conversations::user_id.eq(user_id))
            .select((support_conversations::id, support_conversations::status))
            .first(conn)
            .optional()?;
        let Some((id, status)) = conversation else { return Ok((Vec::new(), false)) };
        // Reading the answer is reading its notification.
        diesel::update(
            notifications::table
                .filter(notifications::user_id.eq(user_id))
                .filter(notifications::kind.eq("support_reply"))
                .filter(notifications::read_at.is_null()),
        )
        .set(notifications::read_at.eq(diesel::dsl::now))
        .execute(conn)?;
        Ok((thread(conn, id)?, status == "answered"))
    })
    .await?;
    let org = auth_of(req).await?.and_then(|a| a.org.ok());
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let page = SupportPage {
        layout: Layout::user(req, user, org.as_ref(), "Help and support"),
        messages,
        body,
        errors,
        answered,
    };
    render(status, &page)
}

/// GET /support (?topic=upgrade starts a plan upgrade request)
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<Topic>,
) -> Result<HttpResponse, AppError> {
    let org = auth_of(&req).await?.and_then(|a| a.org.ok());
    let body = match (query.topic.as_str(), &org) {
        ("upgrade", Some(ctx)) => {
            format!(
                "Hello, we would like to upgrade {} to a plan with higher limits. What are the options?",
                ctx.org_name
            )
        }
        _ => String::new(),
    };
    page(&req, &state, &user, body, FieldErrors::default()).await
}

#[derive(Deserialize)]
pub struct SupportForm {
    #[serde(default)]
    body: String,
}

/// POST /support (body)
pub async fn send(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    Form(form): Form<SupportForm, 32768>,
) -> Result<HttpResponse, AppError> {
    let body = match checked_body(&form.body) {
        Ok(body) => body,
        Err(message) => {
            let mut errors = FieldErrors::default();
            errors.add("body", message);
            return page(&req, &state, &user, form.body, errors).await;
        }
    };
    let org_id = auth_of(&req).await?.and_then(|a| a.org.ok()).map(|ctx| ctx.org_id);
    let user_id = user.id;
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            // Where the answer's notification lands: the organization they write from,
            // else the one they last worked in (a suspended one, say).
            let org_id = match org_id {
                Some(id) => Some(id),
                None => users::table.find(user_id).select(users::active_org_id).first(conn)?,
            };
            let id: SupportConversationId = diesel::insert_into(support_conversations::table)
                .values((
                    support_conversations::id.eq(SupportConversationId::new()),
                    support_conversations::user_id.eq(user_id),
                    support_conversations::org_id.eq(org_id),
                ))
                .on_conflict(support_conversations::user_id)
                .do_update()
                .set((
                    support_conversations::org_id.eq(org_id),
                    support_conversations::status.eq("waiting"),
                    support_conversations::last_message_at.eq(diesel::dsl::now),
                ))
                .returning(support_conversations::id)
                .get_result(conn)?;
            add_message(conn, id, user_id, false, &body)?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok(redirect_with(
        &req,
        "/support",
        Flash::success("Sent. We usually answer within one working day; you will get a notification."),
    ))
}
