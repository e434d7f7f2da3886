//! What every handler can reach: settings, the database pool, the cookie key, the file store.

use std::sync::Arc;

use actix_web::cookie::Key;

use crate::config::Settings;
use crate::db::PgPool;
use crate::files::FileStore;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub pool: PgPool,
    /// Signs and encrypts cookies (session key, CSRF token, flash).
    pub cookie_key: Key,
    /// Where uploaded files' bytes live (local disk by default).
    pub files: Arc<dyn FileStore>,
    /// This instance's live-update broadcast (chat, the bell), fed by LISTEN/NOTIFY.
    pub live: crate::live::Hub,
}
