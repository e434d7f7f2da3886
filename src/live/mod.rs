//! Live updates across app instances (ARCHITECTURE "Live updates"). A change that
//! browsers should see at once is announced with PostgreSQL's NOTIFY inside the
//! transaction that makes it, so it goes out on commit and to every instance. Each
//! instance keeps one dedicated connection that LISTENs, on its own thread, and
//! re-broadcasts in-process to its server-sent-event streams. Payloads carry ids only;
//! a chat message is loaded and rendered once per instance, not once per browser.
//!
//! Diesel reads notifications without blocking, so the thread polls its connection
//! every few milliseconds (a non-blocking socket read), and reconnects when the
//! database goes away. Streams that fall behind or reconnect catch up from the
//! database, so nothing depends on the broadcast never dropping anything.

pub mod sse;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use tokio::sync::broadcast;

use crate::db::PgPool;
use crate::db::ids::{ChatChannelId, OrgId, UserId};

/// The one NOTIFY channel of the application.
const CHANNEL: &str = "clienthub_live";

/// What happened, as every instance hears it.
#[derive(Debug, Clone)]
pub enum Event {
    /// A message was posted: its channel, number and the HTML every viewer is sent.
    ChatMessage { channel_id: ChatChannelId, seq: i64, html: Arc<str> },
    /// A chat channel was deleted: its open streams end.
    ChatChannelDeleted { channel_id: ChatChannelId },
    /// The user's unread notifications changed.
    Bell { user_id: UserId },
}

/// The in-process side: streams subscribe here.
#[derive(Clone)]
pub struct Hub {
    sender: broadcast::Sender<Event>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    pub fn new() -> Hub {
        // A stream that falls further behind than this catches up from the database.
        let (sender, _) = broadcast::channel(1024);
        Hub { sender }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    pub fn receivers(&self) -> usize {
        self.sender.receiver_count()
    }

    fn send(&self, event: Event) {
        // No stream open on this instance: nobody to tell.
        let _ = self.sender.send(event);
    }
}

/// Announces, on commit of the current transaction, that `user_id`'s bell changed.
pub fn bell(conn: &mut PgConnection, user_id: UserId) -> QueryResult<()> {
    notify(conn, &format!("bell {user_id}"))
}

/// Announces, on commit, message `seq` of a chat channel.
pub fn chat_message(conn: &mut PgConnection, org_id: OrgId, channel_id: ChatChannelId, seq: i64) -> QueryResult<()> {
    notify(conn, &format!("chat {org_id} {channel_id} {seq}"))
}

/// Announces, on commit, that a chat channel is gone.
pub fn chat_channel_deleted(conn: &mut PgConnection, channel_id: ChatChannelId) -> QueryResult<()> {
    notify(conn, &format!("chatdel {channel_id}"))
}

fn notify(conn: &mut PgConnection, payload: &str) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<Text, _>(CHANNEL)
        .bind::<Text, _>(payload)
        .execute(conn)
        .map(|_| ())
}

/// This instance's listener thread; it stops when this is dropped (the server ended).
pub struct Listener {
    stop: Arc<AtomicBool>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Starts this instance's listener thread on its own connection to `database_url`.
pub fn spawn_listener(database_url: String, pool: PgPool, hub: Hub) -> std::io::Result<Listener> {
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    std::thread::Builder::new().name("live-listener".into()).spawn(move || {
        while !stopped.load(Ordering::Relaxed) {
            if let Err(e) = listen(&database_url, &pool, &hub, &stopped) {
                if stopped.load(Ordering::Relaxed) {
                    return;
                }
                tracing::warn!(error = %e, "live updates: listener connection lost; reconnecting");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    })?;
    Ok(Listener { stop })
}

/// How often the listening connection is read, and checked with a query.
const POLL_EVERY: Duration = Duration::from_millis(10);
const PING_EVERY: Duration = Duration::from_secs(15);

fn listen(database_url: &str, pool: &PgPool, hub: &Hub, stopped: &AtomicBool) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(database_url)?;
    diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn)?;
    tracing::debug!("live updates: listening");
    let mut pinged = Instant::now();
    while !stopped.load(Ordering::Relaxed) {
        let mut got_any = false;
        for notification in conn.notifications_iter() {
            let notification = notification?;
            got_any = true;
            // Nobody on this instance is listening: nothing to load or render.
            if hub.receivers() == 0 {
                continue;
            }
            if let Some(event) = event_of(&notification.payload, pool) {
                hub.send(event);
            }
        }
        if pinged.elapsed() > PING_EVERY {
            // A dead server is noticed here (reading alone may not fail).
            diesel::sql_query("SELECT 1").execute(&mut conn)?;
            pinged = Instant::now();
        }
        if !got_any {
            std::thread::sleep(POLL_EVERY);
        }
    }
    Ok(())
}

/// Turns a payload into an event; a chat message is loaded and rendered here, once.
fn event_of(payload: &str, pool: &PgPool) -> Option<Event> {
    let mut parts = payload.split(' ');
    match (parts.next()?, parts.next(), parts.next(), parts.next()) {
        ("bell", Some(user), None, None) => Some(Event::Bell { user_id: user.parse().ok()? }),
        ("chatdel", Some(channel), None, None) => Some(Event::ChatChannelDeleted { channel_id: channel.parse().ok()? }),
        ("chat", Some(org), Some(channel), Some(seq)) => {
            let (org_id, channel_id, seq): (OrgId, ChatChannelId, i64) =
                (org.parse().ok()?, channel.parse().ok()?, seq.parse().ok()?);
            let html = match crate::chat::messages::render_one(pool, org_id, channel_id, seq) {
                Ok(Some(html)) => html,
                Ok(None) => return None,
                Err(e) => {
                    tracing::warn!(error = %e, "live updates: loading a chat message failed");
                    return None;
                }
            };
            Some(Event::ChatMessage { channel_id, seq, html: html.into() })
        }
        _ => None,
    }
}
