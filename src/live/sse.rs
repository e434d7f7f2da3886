//! Server-sent event streams: the wire format, and the loop every stream shares — wait
//! for this instance's broadcast, send a comment now and then so proxies and dead
//! browsers are noticed, and end after a while so the browser reconnects (with
//! Last-Event-ID) through the full access check again.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::time::{Duration, Instant};

use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::Bytes;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use super::Event;
use crate::db::ids::{MembershipId, SessionId};
use crate::db::{self, PgPool};
use crate::web::auth::OrgContext;

/// What a stream was opened with, checked again every keepalive: a session that ends
/// (logout, a revoked link, a ban) or a membership that goes ends the stream within
/// half a minute, not at its next reconnect.
pub struct Grant {
    pool: PgPool,
    session_id: Option<SessionId>,
    membership_id: MembershipId,
}

impl Grant {
    pub fn of(pool: &PgPool, ctx: &OrgContext) -> Grant {
        Grant { pool: pool.clone(), session_id: ctx.user.session_id, membership_id: ctx.membership_id }
    }

    async fn holds(&self) -> bool {
        #[derive(diesel::QueryableByName)]
        struct Holds {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            holds: bool,
        }
        let (session_id, membership_id) = (self.session_id, self.membership_id);
        let Some(session_id) = session_id else { return false };
        db::run(&self.pool, move |conn| {
            use diesel::RunQueryDsl;
            Ok(crate::db::sql_query(
                "SELECT EXISTS (
                   SELECT 1 FROM sessions s
                   JOIN users u ON u.id = s.user_id AND u.status = 'active'
                   JOIN memberships m ON m.id = $2 AND m.user_id = u.id AND m.status = 'active'
                   JOIN organizations o ON o.id = m.org_id AND o.status = 'active'
                   WHERE s.id = $1 AND s.expires_at > now()) AS holds",
            )
            .bind::<diesel::sql_types::Uuid, _>(session_id)
            .bind::<diesel::sql_types::Uuid, _>(membership_id)
            .get_result::<Holds>(conn)?
            .holds)
        })
        .await
        .unwrap_or(false)
    }
}

/// A comment line keeps the connection busy enough for proxies to leave it open.
const KEEPALIVE: Duration = Duration::from_secs(25);
/// After this long a stream ends; the browser reconnects and is checked again.
const LIFETIME: Duration = Duration::from_secs(300);

/// One event in the wire format. The data is HTML for htmx to swap in; a carriage
/// return would split it into two lines of the protocol, so none is sent.
pub fn event(name: &str, id: Option<i64>, data: &str) -> Bytes {
    let mut out = String::with_capacity(data.len() + 40);
    if let Some(id) = id {
        out.push_str(&format!("id: {id}\n"));
    }
    out.push_str("event: ");
    out.push_str(name);
    out.push('\n');
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(&line.replace('\r', ""));
        out.push('\n');
    }
    out.push('\n');
    Bytes::from(out)
}

/// What a stream does with each broadcast event, and when it has fallen behind.
pub trait Feed: Sized + 'static {
    /// Events to send for `event` (most are not this stream's business); `false` ends it.
    fn on_event(&mut self, event: Event) -> impl Future<Output = (Vec<Bytes>, bool)>;
    /// The broadcast dropped events for this stream: load what it missed.
    fn catch_up(&mut self) -> impl Future<Output = (Vec<Bytes>, bool)>;
}

struct Running<F> {
    feed: F,
    grant: Grant,
    receiver: broadcast::Receiver<Event>,
    pending: VecDeque<Bytes>,
    open: bool,
    started: Instant,
}

/// The streaming response: `first` (a retry hint, a backlog) and then the feed.
pub fn respond<F: Feed>(
    feed: F,
    grant: Grant,
    receiver: broadcast::Receiver<Event>,
    first: Vec<Bytes>,
) -> HttpResponse {
    let mut pending: VecDeque<Bytes> = first.into();
    // Reconnect quickly: a stream ends every few minutes on purpose.
    pending.push_front(Bytes::from_static(b"retry: 1500\n\n"));
    let state = Running { feed, grant, receiver, pending, open: true, started: Instant::now() };
    let stream = futures_util::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(bytes) = s.pending.pop_front() {
                return Some((Ok::<_, Infallible>(bytes), s));
            }
            if !s.open || s.started.elapsed() > LIFETIME {
                return None;
            }
            let (more, open) = match tokio::time::timeout(KEEPALIVE, s.receiver.recv()).await {
                Err(_) => (vec![Bytes::from_static(b": keepalive\n\n")], s.grant.holds().await),
                Ok(Ok(event)) => s.feed.on_event(event).await,
                Ok(Err(RecvError::Lagged(_))) if s.grant.holds().await => s.feed.catch_up().await,
                Ok(Err(RecvError::Lagged(_))) => (Vec::new(), false),
                Ok(Err(RecvError::Closed)) => (Vec::new(), false),
            };
            s.pending.extend(more);
            s.open = open;
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // nginx: pass each event on at once.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_of_data_is_its_own_field_and_carriage_returns_cannot_split_one() {
        let bytes = event("message", Some(7), "<li>a\r\nb\rc</li>");
        assert_eq!(&bytes[..], b"id: 7\nevent: message\ndata: <li>a\ndata: bc</li>\n\n");
    }
}
