//! GET /chat/channels/{id}/stream — a channel's new messages as server-sent events.
//! Each event's id is the message's number: a browser that reconnects (its own
//! Last-Event-ID, or `?after=N` from the page) gets exactly what it missed, then the
//! live feed, with each number once.

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::channels::{self, parse_id};
use super::messages::{self, Range};
use crate::db::ids::ChatChannelId;
use crate::db::{self, PgPool, Tenant};
use crate::live::Event;
use crate::live::sse::{self, Feed};
use crate::state::AppState;
use crate::web::AppError;
use crate::web::auth::OrgContext;

/// At most this many missed messages are sent on reconnect; the page has the rest.
const BACKLOG: i64 = 500;

#[derive(Deserialize)]
pub struct StreamQuery {
    after: Option<i64>,
}

struct ChatFeed {
    pool: PgPool,
    tenant: Tenant,
    channel_id: ChatChannelId,
    /// The last message number sent.
    last: i64,
}

impl ChatFeed {
    /// Everything after `last` from the database (a gap, a lag, a reconnect).
    async fn missed(&mut self) -> Result<Vec<Bytes>, AppError> {
        let (channel_id, after) = (self.channel_id, self.last);
        let missed = db::tenant_tx(&self.pool, self.tenant, move |conn| {
            channels::find(conn, channel_id)?;
            Ok(messages::load(conn, channel_id, Range::After(after), BACKLOG)?)
        })
        .await?;
        let mut out = Vec::with_capacity(missed.len());
        for m in &missed {
            out.push(sse::event("message", Some(m.seq), &messages::html(m).map_err(|e| AppError::Internal(e.into()))?));
            self.last = m.seq;
        }
        Ok(out)
    }
}

impl Feed for ChatFeed {
    async fn on_event(&mut self, event: Event) -> (Vec<Bytes>, bool) {
        match event {
            Event::ChatMessage { channel_id, seq, html } if channel_id == self.channel_id => {
                if seq <= self.last {
                    (Vec::new(), true)
                } else if seq == self.last + 1 {
                    self.last = seq;
                    (vec![sse::event("message", Some(seq), &html)], true)
                } else {
                    self.catch_up().await
                }
            }
            Event::ChatChannelDeleted { channel_id } if channel_id == self.channel_id => {
                (vec![sse::event("gone", None, "This channel has been deleted.")], false)
            }
            _ => (Vec::new(), true),
        }
    }

    async fn catch_up(&mut self) -> (Vec<Bytes>, bool) {
        match self.missed().await {
            Ok(events) => (events, true),
            // Gone, or the database is away: end; the browser reconnects and resumes.
            Err(_) => (Vec::new(), false),
        }
    }
}

fn last_event_id(req: &HttpRequest) -> Option<i64> {
    req.headers().get("last-event-id")?.to_str().ok()?.trim().parse().ok()
}

pub async fn chat(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, AppError> {
    let channel_id = parse_id(&path)?;
    let resume = last_event_id(&req).into_iter().chain(query.after).max().map(|n| n.max(0));
    // Subscribed before the backlog is read, so nothing falls between the two.
    let receiver = state.live.subscribe();
    let tenant = ctx.tenant();
    let channel = db::tenant_tx(&state.pool, tenant, move |conn| channels::find(conn, channel_id)).await?;
    let mut feed = ChatFeed { pool: state.pool.clone(), tenant, channel_id, last: resume.unwrap_or(channel.last_seq) };
    let backlog = if resume.is_some() { feed.missed().await? } else { Vec::new() };
    Ok(sse::respond(feed, sse::Grant::of(&state.pool, &ctx), receiver, backlog))
}
