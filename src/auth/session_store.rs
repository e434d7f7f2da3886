//! actix-session's `SessionStore` over the `sessions` table. The cookie carries a
//! random key; the table keeps only its SHA-256, the state, and who/where/when, so
//! sessions can be listed and revoked, and end on the server at logout, password
//! change or ban. Idle and absolute timeouts are enforced here on every load.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration as CookieDuration;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::tokens::{hash_token as hash_key, random_token as new_key};
use crate::db::ids::{SessionId, UserId};
use crate::db::schema::sessions;
use crate::db::{self, PgPool};
use crate::web::error::AppError;

/// Session state keys kept in their own columns as well, for listing and revoking.
pub const USER_ID: &str = "user_id";
pub const IP: &str = "ip";
pub const USER_AGENT: &str = "user_agent";
/// Injected on load so handlers know which row is theirs; never stored.
pub const SESSION_ID: &str = "_sid";

/// `last_seen_at` is written at most this often, so reads stay reads.
const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Clone)]
pub struct PgSessionStore {
    pool: PgPool,
    idle: chrono::Duration,
    absolute: chrono::Duration,
}

impl PgSessionStore {
    pub fn new(pool: PgPool, idle: chrono::Duration, absolute: chrono::Duration) -> Self {
        PgSessionStore { pool, idle, absolute }
    }
}

/// actix-session keeps values JSON-encoded; the plain string of a value, if it is one.
fn json_str(state: &HashMap<String, String>, key: &str) -> Option<String> {
    state.get(key).and_then(|v| serde_json::from_str::<String>(v).ok())
}

#[derive(Queryable)]
struct LoadedSession {
    id: SessionId,
    state: serde_json::Value,
    last_seen_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = sessions)]
struct NewSession {
    id: SessionId,
    key_hash: Vec<u8>,
    user_id: Option<UserId>,
    state: serde_json::Value,
    ip: Option<String>,
    user_agent: Option<String>,
    expires_at: DateTime<Utc>,
}

fn state_to_json(state: &HashMap<String, String>) -> serde_json::Value {
    let map = state
        .iter()
        .filter(|(k, _)| k.as_str() != SESSION_ID)
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::Value::Object(map)
}

fn user_id_of(state: &HashMap<String, String>) -> Option<UserId> {
    json_str(state, USER_ID).and_then(|s| s.parse().ok())
}

impl SessionStore for PgSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        let key_hash = hash_key(session_key.as_ref());
        let (idle, absolute) = (self.idle, self.absolute);
        let loaded = db::run(&self.pool, move |conn| {
            let now = Utc::now();
            let row: Option<LoadedSession> = sessions::table
                .filter(sessions::key_hash.eq(&key_hash))
                .filter(sessions::expires_at.gt(now))
                .filter(sessions::created_at.gt(now - absolute))
                .filter(sessions::last_seen_at.gt(now - idle))
                .select((sessions::id, sessions::state, sessions::last_seen_at))
                .first(conn)
                .optional()?;
            if let Some(row) = &row
                && row.last_seen_at < now - chrono::Duration::seconds(TOUCH_EVERY_SECS)
            {
                diesel::update(sessions::table.find(row.id)).set(sessions::last_seen_at.eq(now)).execute(conn)?;
            }
            Ok::<_, AppError>(row)
        })
        .await
        .map_err(|e| LoadError::Other(anyhow::anyhow!("{e}")))?;
        let Some(row) = loaded else { return Ok(None) };
        let serde_json::Value::Object(map) = row.state else {
            return Err(LoadError::Deserialization(anyhow::anyhow!("session state is not an object")));
        };
        let mut state: HashMap<String, String> = map
            .into_iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k, s)),
                _ => None,
            })
            .collect();
        state.insert(SESSION_ID.into(), serde_json::Value::String(row.id.to_string()).to_string());
        Ok(Some(state))
    }

    async fn save(&self, state: HashMap<String, String>, _ttl: &CookieDuration) -> Result<SessionKey, SaveError> {
        let key = new_key();
        let row = NewSession {
            id: SessionId::new(),
            key_hash: hash_key(&key),
            user_id: user_id_of(&state),
            state: state_to_json(&state),
            ip: json_str(&state, IP),
            user_agent: json_str(&state, USER_AGENT),
            expires_at: Utc::now() + self.absolute,
        };
        let idle_cutoff = Utc::now() - self.idle;
        db::run(&self.pool, move |conn| {
            diesel::insert_into(sessions::table).values(&row).execute(conn)?;
            // Sweep this user's dead sessions while we are here, so rows do not pile up.
            if let Some(user_id) = row.user_id {
                diesel::delete(
                    sessions::table
                        .filter(sessions::user_id.eq(user_id))
                        .filter(sessions::expires_at.lt(Utc::now()).or(sessions::last_seen_at.lt(idle_cutoff))),
                )
                .execute(conn)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| SaveError::Other(anyhow::anyhow!("{e}")))?;
        SessionKey::try_from(key).map_err(|e| SaveError::Other(e.into()))
    }

    async fn update(
        &self,
        session_key: SessionKey,
        state: HashMap<String, String>,
        ttl: &CookieDuration,
    ) -> Result<SessionKey, UpdateError> {
        let key_hash = hash_key(session_key.as_ref());
        let user_id = user_id_of(&state);
        let json = state_to_json(&state);
        let updated = db::run(&self.pool, move |conn| {
            Ok(diesel::update(sessions::table.filter(sessions::key_hash.eq(key_hash)))
                .set((sessions::state.eq(json), sessions::user_id.eq(user_id)))
                .execute(conn)?)
        })
        .await
        .map_err(|e| UpdateError::Other(anyhow::anyhow!("{e}")))?;
        if updated == 0 {
            // Revoked while this request ran: start a fresh session, never with the
            // identity of the one that was ended.
            let mut anonymous = state;
            for key in [USER_ID, IP, USER_AGENT, SESSION_ID] {
                anonymous.remove(key);
            }
            return self.save(anonymous, ttl).await.map_err(|e| UpdateError::Other(anyhow::anyhow!("{e}")));
        }
        Ok(session_key)
    }

    async fn update_ttl(&self, _session_key: &SessionKey, _ttl: &CookieDuration) -> Result<(), anyhow::Error> {
        // Expiry is absolute from creation and idle from last_seen_at, both kept by `load`.
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        let key_hash = hash_key(session_key.as_ref());
        db::run(&self.pool, move |conn| {
            diesel::delete(sessions::table.filter(sessions::key_hash.eq(key_hash))).execute(conn)?;
            Ok(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
    }
}
