//! Channels: the chat page (channel list, one channel's latest messages, the composer),
//! creating a channel (optionally shared with one client) and deleting one.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use serde::Deserialize;

use super::messages::{self, Composer, Range};
use crate::audit::{self, AuditEvent};
use crate::db;
use crate::db::ids::{ChatChannelId, ClientId};
use crate::state::AppState;
use crate::team::Permission;
use crate::web::auth::OrgContext;
use crate::web::fields;
use crate::web::flash::{Flash, redirect, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

#[derive(QueryableByName, Debug, Clone)]
pub struct Channel {
    #[diesel(sql_type = SqlUuid)]
    pub id: ChatChannelId,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub client_id: Option<ClientId>,
    /// The client it is shared with.
    #[diesel(sql_type = Nullable<Text>)]
    pub client_name: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub last_seq: i64,
}

pub fn parse_id(raw: &str) -> Result<ChatChannelId, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

const CHANNEL_SELECT: &str = "SELECT c.id, c.name, c.client_id, cl.name AS client_name, c.last_seq
     FROM chat_channels c LEFT JOIN clients cl ON cl.org_id = c.org_id AND cl.id = c.client_id
     WHERE c.org_id = app_org_id()";

/// The channels the caller sees (a client user: those shared with their client).
pub fn list(conn: &mut PgConnection) -> QueryResult<Vec<Channel>> {
    crate::db::sql_query(format!("{CHANNEL_SELECT} ORDER BY lower(c.name) LIMIT 500")).load(conn)
}

/// A channel the caller sees, or 404.
pub fn find(conn: &mut PgConnection, id: ChatChannelId) -> Result<Channel, AppError> {
    crate::db::sql_query(format!("{CHANNEL_SELECT} AND c.id = $1"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// The new-channel form as typed, with its errors.
#[derive(Default)]
pub struct NewChannel {
    pub name: String,
    pub client_id: String,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "chat/index.html")]
struct ChatPage {
    layout: Layout,
    channels: Vec<Channel>,
    channel: Option<Channel>,
    open_id: Option<ChatChannelId>,
    /// Rendered messages, oldest first.
    messages: Vec<String>,
    /// The first message shown, when earlier ones exist.
    earlier_than: Option<i64>,
    /// The last message shown: the stream resumes after it.
    last_seq: i64,
    /// Showing an earlier page, not the latest.
    browsing_history: bool,
    /// The composer, rendered (it is also sent alone after a post).
    composer: Option<String>,
    can_manage: bool,
    clients: Vec<(ClientId, String)>,
    new_channel: NewChannel,
}

/// Renders the chat page: the channel list and, if `channel_id`, that channel.
pub async fn page(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    channel_id: Option<ChatChannelId>,
    before: Option<i64>,
    typed: Option<(String, Option<String>)>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    page_with(req, state, ctx, channel_id, before, typed, NewChannel::default(), status).await
}

#[expect(clippy::too_many_arguments, reason = "one page, two forms to show again")]
async fn page_with(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    channel_id: Option<ChatChannelId>,
    before: Option<i64>,
    typed: Option<(String, Option<String>)>,
    new_channel: NewChannel,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let can_manage = ctx.can(Permission::ManageChannels) && !ctx.is_client();
    let (channels, open, clients) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let channels = list(conn)?;
        let open = match channel_id {
            Some(id) => {
                let channel = find(conn, id)?;
                let range = before.map_or(Range::Latest, Range::Before);
                Some((channel, messages::load(conn, id, range, messages::PAGE)?))
            }
            None => None,
        };
        let clients = if can_manage { crate::team::invitations::client_choices(conn)? } else { Vec::new() };
        Ok((channels, open, clients))
    })
    .await?;
    let title = open.as_ref().map_or("Chat".to_string(), |(c, _)| format!("# {} · Chat", c.name));
    let layout = Layout::member(req, ctx, title, "/chat");
    let (channel, shown) = match open {
        Some((channel, shown)) => (Some(channel), shown),
        None => (None, Vec::new()),
    };
    let earlier_than = shown.first().map(|m| m.seq).filter(|_| shown.len() as i64 == messages::PAGE);
    let last_seq = shown.last().map_or(before.map_or(0, |b| b - 1), |m| m.seq);
    let composer = channel
        .as_ref()
        .map(|c| {
            let (body, error) = typed.clone().unwrap_or_default();
            Composer { channel_id: c.id, channel_name: c.name.clone(), csrf: layout.csrf.clone(), body, error }.render()
        })
        .transpose()
        .map_err(|e| AppError::Internal(e.into()))?;
    let page = ChatPage {
        layout,
        channels,
        browsing_history: before.is_some() && channel.as_ref().is_some_and(|c| last_seq < c.last_seq),
        open_id: channel.as_ref().map(|c| c.id),
        channel,
        messages: messages::html_all(&shown)?,
        earlier_than,
        last_seq,
        composer,
        can_manage,
        clients,
        new_channel,
    };
    render(status, &page)
}

/// GET /chat — the first channel, or the page that invites to create one.
pub async fn index(req: HttpRequest, state: web::Data<AppState>, ctx: OrgContext) -> Result<HttpResponse, AppError> {
    let first = db::tenant_tx(&state.pool, ctx.tenant(), |conn| Ok(list(conn)?.into_iter().next())).await?;
    match first {
        Some(channel) => Ok(redirect(&format!("/chat/channels/{}", channel.id))),
        None => page(&req, &state, &ctx, None, None, None, StatusCode::OK).await,
    }
}

#[derive(Deserialize)]
pub struct ShowQuery {
    before: Option<i64>,
}

/// GET /chat/channels/{id}[?before=N]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    page(&req, &state, &ctx, Some(id), query.before.filter(|b| *b > 0), None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct ChannelForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    client_id: String,
}

/// POST /chat/channels
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    Form(form): Form<ChannelForm>,
) -> Result<HttpResponse, AppError> {
    let mut errors = FieldErrors::default();
    let name = fields::line(&mut errors, "name", form.name.trim().trim_start_matches('#'), 80, Some("a name"));
    let client_id: Option<ClientId> = fields::optional_id(&mut errors, "client_id", &form.client_id);
    let tenant = ctx.tenant();
    let created = db::tenant_tx(&state.pool, tenant, move |conn| {
        if let Some(client) = client_id
            && crate::clients::handlers::find(conn, client).is_err()
        {
            errors.add("client_id", "Choose one of your clients.");
        }
        let taken: i64 = crate::db::sql_query("SELECT count(*) AS n FROM chat_channels WHERE lower(name) = lower($1)")
            .bind::<Text, _>(&name)
            .get_result::<db::Count>(conn)?
            .n;
        if taken > 0 {
            errors.add("name", "There is a channel of that name already.");
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let id = ChatChannelId::new();
        crate::db::sql_query(
            "INSERT INTO chat_channels (id, org_id, name, client_id, created_by) VALUES ($1, app_org_id(), $2, $3, app_user_id())",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(&name)
        .bind::<Nullable<SqlUuid>, _>(client_id)
        .execute(conn)?;
        audit::record(
            conn,
            &meta,
            AuditEvent::new("chat_channel.created")
                .org(tenant.org_id)
                .actor(tenant.user_id)
                .entity("chat_channel", id.0)
                .metadata(serde_json::json!({ "name": name, "client": client_id.map(|c| c.0) })),
        )?;
        Ok(Ok(id))
    })
    .await?;
    match created {
        Ok(id) => Ok(redirect(&format!("/chat/channels/{id}"))),
        Err(errors) => {
            let typed = NewChannel { name: form.name, client_id: form.client_id, errors };
            page_with(&req, &state, &ctx, None, None, None, typed, StatusCode::BAD_REQUEST).await
        }
    }
}

/// POST /chat/channels/{id}/delete — the channel and its messages; open streams end.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let tenant = ctx.tenant();
    let name = db::tenant_tx(&state.pool, tenant, move |conn| {
        let channel = find(conn, id)?;
        crate::db::sql_query("DELETE FROM chat_channels WHERE org_id = app_org_id() AND id = $1")
            .bind::<SqlUuid, _>(id)
            .execute(conn)?;
        crate::live::chat_channel_deleted(conn, id)?;
        audit::record(
            conn,
            &meta,
            AuditEvent::new("chat_channel.deleted")
                .org(tenant.org_id)
                .actor(tenant.user_id)
                .entity("chat_channel", id.0)
                .metadata(serde_json::json!({ "name": channel.name, "messages": channel.last_seq })),
        )?;
        Ok(channel.name)
    })
    .await?;
    Ok(redirect_with(&req, "/chat", Flash::success(format!("Channel #{name} deleted."))))
}
