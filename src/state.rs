//! What every handler can reach: settings, the database pool, the cookie key.

use std::sync::Arc;

use actix_web::cookie::Key;

use crate::config::Settings;
use crate::db::PgPool;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub pool: PgPool,
    /// Signs and encrypts cookies (session key, CSRF token, flash).
    pub cookie_key: Key,
}
