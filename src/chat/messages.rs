//! Messages: numbered per channel in commit order (posting locks the channel row and
//! takes the next number), rendered by one template whether they arrive with the
//! page, over a stream, or by polling, so every browser shows the same thing.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Deserialize;

use super::channels::{self, Channel, parse_id};
use crate::audit::{self, AuditEvent};
use crate::db::ids::{ChatChannelId, ChatMessageId, OrgId, UserId};
use crate::db::{self, PgPool, Tenant, tenant};
use crate::state::AppState;
use crate::web::auth::OrgContext;
use crate::web::flash::redirect;
use crate::web::htmx::wants_fragment;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

/// How many messages a page (or "load earlier") shows.
pub const PAGE: i64 = 50;
/// The longest message, in characters.
pub const MAX_CHARS: usize = 4000;
/// Posting: at most this many messages per author in `WINDOW_SECS`.
const BURST: i64 = 8;
const WINDOW_SECS: i64 = 10;

#[derive(QueryableByName, Debug, Clone)]
pub struct Message {
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub author: Option<String>,
    /// Written by one of the client's people (shown with a badge).
    #[diesel(sql_type = Bool)]
    pub from_client: bool,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// The time on the organization's clock ("21 Nov 14:05").
    #[diesel(sql_type = Text)]
    pub local_time: String,
}

impl Message {
    pub fn author_name(&self) -> &str {
        self.author.as_deref().unwrap_or("A former member")
    }

    pub fn initials(&self) -> String {
        crate::web::layout::initials(self.author_name())
    }
}

#[derive(Template)]
#[template(path = "chat/_message.html")]
struct MessageHtml<'a> {
    m: &'a Message,
}

/// A message as every browser is sent it.
pub fn html(m: &Message) -> Result<String, askama::Error> {
    MessageHtml { m }.render()
}

pub fn html_all(messages: &[Message]) -> Result<Vec<String>, AppError> {
    messages.iter().map(|m| html(m).map_err(|e| AppError::Internal(e.into()))).collect()
}

/// Which messages of a channel to load.
#[derive(Debug, Clone, Copy)]
pub enum Range {
    /// The latest page.
    Latest,
    /// The page before message `seq`.
    Before(i64),
    /// Everything after `seq`, oldest first (up to a limit).
    After(i64),
}

pub fn load(conn: &mut PgConnection, channel_id: ChatChannelId, range: Range, limit: i64) -> QueryResult<Vec<Message>> {
    let (condition, order) = match range {
        Range::Latest => ("true", "DESC"),
        Range::Before(_) => ("m.seq < $2", "DESC"),
        Range::After(_) => ("m.seq > $2", "ASC"),
    };
    let bound = match range {
        Range::Latest => 0,
        Range::Before(seq) | Range::After(seq) => seq,
    };
    let mut rows: Vec<Message> = crate::db::sql_query(format!(
        "SELECT m.seq, u.name AS author, (mm.client_id IS NOT NULL) AS from_client, m.body, m.created_at,
                to_char(m.created_at AT TIME ZONE o.timezone, 'DD Mon HH24:MI') AS local_time
         FROM chat_messages m
         JOIN organizations o ON o.id = m.org_id
         LEFT JOIN users u ON u.id = m.author_id
         LEFT JOIN memberships mm ON mm.org_id = m.org_id AND mm.user_id = m.author_id
         WHERE m.org_id = app_org_id() AND m.channel_id = $1 AND {condition}
         ORDER BY m.seq {order} LIMIT $3"
    ))
    .bind::<SqlUuid, _>(channel_id)
    .bind::<BigInt, _>(bound)
    .bind::<BigInt, _>(limit)
    .load(conn)?;
    if order == "DESC" {
        rows.reverse();
    }
    Ok(rows)
}

/// Loads and renders message `seq` once for this instance's streams (the live
/// listener calls it), in the organization's tenant transaction.
pub fn render_one(pool: &PgPool, org_id: OrgId, channel_id: ChatChannelId, seq: i64) -> anyhow::Result<Option<String>> {
    let mut conn = pool.get()?;
    let system = Tenant { org_id, user_id: UserId(uuid::Uuid::nil()), client_id: None };
    let found = tenant::transaction(&mut conn, &system, |conn| load(conn, channel_id, Range::After(seq - 1), 1))?;
    match found.first() {
        Some(m) if m.seq == seq => Ok(Some(html(m)?)),
        _ => Ok(None),
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    before: Option<i64>,
    after: Option<i64>,
}

/// The "load earlier" link as the first item of the list, when there is more.
#[derive(Template)]
#[template(path = "chat/_earlier.html")]
struct Earlier {
    channel_id: ChatChannelId,
    first: Option<i64>,
    messages: Vec<String>,
}

/// GET /chat/channels/{id}/messages?before=N | ?after=N — fragments: an earlier page
/// (with its own "load earlier" link) or what is new (the polling fallback).
pub async fn page(
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let range = match (query.before, query.after) {
        (Some(before), _) => Range::Before(before),
        (None, Some(after)) => Range::After(after),
        (None, None) => Range::Latest,
    };
    let messages = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        channels::find(conn, id)?;
        Ok(load(conn, id, range, if matches!(range, Range::After(_)) { 500 } else { PAGE })?)
    })
    .await?;
    let more_before = matches!(range, Range::Before(_)) && messages.len() as i64 == PAGE;
    let first = messages.first().map(|m| m.seq).filter(|_| more_before);
    let fragment = Earlier { channel_id: id, first, messages: html_all(&messages)? };
    render(StatusCode::OK, &fragment)
}

#[derive(Deserialize)]
pub struct MessageForm {
    #[serde(default)]
    body: String,
}

/// The composer, with what was typed and why it was refused, if it was.
#[derive(Template)]
#[template(path = "chat/_composer.html")]
pub struct Composer {
    pub channel_id: ChatChannelId,
    pub channel_name: String,
    pub csrf: String,
    pub body: String,
    pub error: Option<String>,
}

/// The htmx answer to a post: a fresh composer, and the message out of band (the
/// stream brings it too; the page keeps one of each number).
#[derive(Template)]
#[template(path = "chat/_posted.html")]
struct Posted {
    composer: String,
    posted: Option<String>,
}

/// A message as typed, or why not: the text (line ends as `\n`), or the refusal.
fn validate(raw: &str) -> Result<String, String> {
    let body = raw.replace("\r\n", "\n").replace('\r', "\n");
    let body = body.trim();
    let chars = body.chars().count();
    if chars == 0 {
        return Err("Write a message first.".into());
    }
    if chars > MAX_CHARS {
        return Err(format!("A message can be at most 4,000 characters; this one has {chars}."));
    }
    Ok(body.to_string())
}

enum Outcome {
    Posted(Channel, Message),
    Refused(Channel, String, StatusCode),
}

/// Allows a message up to 1 MB to arrive, so that a long one is answered next to the
/// field rather than with an error page.
const MAX_FORM: usize = 1024 * 1024 + 4096;

/// POST /chat/channels/{id}/messages
pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
    Form(form): Form<MessageForm, MAX_FORM>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let valid = validate(&form.body);
    let tenant = ctx.tenant();
    let outcome = db::tenant_tx(&state.pool, tenant, move |conn| {
        let channel = channels::find(conn, id)?;
        let body = match valid {
            Ok(body) => body,
            Err(message) => return Ok(Outcome::Refused(channel, message, StatusCode::BAD_REQUEST)),
        };
        // One post at a time per person (whatever the channel), so the count holds.
        crate::db::sql_query("SELECT pg_advisory_xact_lock(hashtext('chat-post:' || app_user_id()::text))")
            .execute(conn)?;
        let recent: i64 = crate::db::sql_query(
            "SELECT count(*) AS n FROM chat_messages
             WHERE author_id = app_user_id() AND created_at > now() - make_interval(secs => $1)",
        )
        .bind::<BigInt, _>(WINDOW_SECS)
        .get_result::<db::Count>(conn)?
        .n;
        if recent >= BURST {
            let message = "You are sending messages very fast. Wait a few seconds, then send this one.".into();
            return Ok(Outcome::Refused(channel, message, StatusCode::TOO_MANY_REQUESTS));
        }
        // The channel row stays locked until commit: numbers follow commit order.
        let seq: i64 = crate::db::sql_query(
            "UPDATE chat_channels SET last_seq = last_seq + 1 WHERE org_id = app_org_id() AND id = $1
             RETURNING last_seq AS n",
        )
        .bind::<SqlUuid, _>(id)
        .get_result::<db::Count>(conn)?
        .n;
        crate::db::sql_query(
            "INSERT INTO chat_messages (id, org_id, channel_id, seq, author_id, body)
             VALUES ($1, app_org_id(), $2, $3, app_user_id(), $4)",
        )
        .bind::<SqlUuid, _>(ChatMessageId::new())
        .bind::<SqlUuid, _>(id)
        .bind::<BigInt, _>(seq)
        .bind::<Text, _>(&body)
        .execute(conn)?;
        crate::live::chat_message(conn, tenant.org_id, id, seq)?;
        if seq == 1 {
            audit::record(
                conn,
                &meta,
                AuditEvent::new("chat_channel.first_message")
                    .org(tenant.org_id)
                    .actor(tenant.user_id)
                    .entity("chat_channel", id.0),
            )?;
        }
        let message = load(conn, id, Range::After(seq - 1), 1)?.pop().ok_or(AppError::NotFound)?;
        Ok(Outcome::Posted(channel, message))
    })
    .await?;
    let csrf = crate::web::csrf::token(&req);
    let (channel, posted, error, status) = match outcome {
        Outcome::Posted(channel, message) => (channel, Some(message), None, StatusCode::OK),
        Outcome::Refused(channel, message, status) => (channel, None, Some(message), status),
    };
    if wants_fragment(&req) {
        let composer = Composer {
            channel_id: id,
            channel_name: channel.name,
            csrf,
            body: if error.is_some() { form.body } else { String::new() },
            error,
        };
        let posted = posted.as_ref().map(html).transpose().map_err(|e| AppError::Internal(e.into()))?;
        let composer = composer.render().map_err(|e| AppError::Internal(e.into()))?;
        let mut res = render(status, &Posted { composer, posted })?;
        if status == StatusCode::TOO_MANY_REQUESTS {
            res.headers_mut()
                .insert(actix_web::http::header::RETRY_AFTER, actix_web::http::header::HeaderValue::from(WINDOW_SECS));
        }
        return Ok(res);
    }
    match (posted, error) {
        (Some(m), _) => Ok(redirect(&format!("/chat/channels/{id}#msg-{}", m.seq))),
        (None, error) => channels::page(&req, &state, &ctx, Some(id), None, Some((form.body, error)), status).await,
    }
}
