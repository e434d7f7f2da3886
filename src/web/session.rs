//! A typed view of the session: who is signed in, and which server-side session row
//! this is. Login renews the key (no session fixation); logout purges it.

use std::future::{Ready, ready};

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use crate::auth::session_store::{IP, SESSION_ID, USER_AGENT, USER_ID};
use crate::db::ids::{SessionId, UserId};
use crate::web::request_meta::RequestMeta;

pub struct TypedSession(Session);

impl TypedSession {
    pub fn of(req: &HttpRequest) -> Self {
        TypedSession(req.get_session())
    }

    pub fn user_id(&self) -> Option<UserId> {
        self.0.get::<UserId>(USER_ID).ok().flatten()
    }

    pub fn session_id(&self) -> Option<SessionId> {
        self.0.get::<SessionId>(SESSION_ID).ok().flatten()
    }

    /// Starts a fresh session (new key) for `user_id`.
    pub fn log_in(
        &self,
        req: &HttpRequest,
        user_id: UserId,
        meta: &RequestMeta,
    ) -> Result<(), actix_session::SessionInsertError> {
        crate::web::csrf::rotate(req);
        self.0.renew();
        self.0.remove(SESSION_ID);
        self.0.insert(USER_ID, user_id)?;
        self.0.insert(IP, meta.ip.clone().unwrap_or_default())?;
        self.0.insert(USER_AGENT, meta.user_agent.clone().unwrap_or_default())?;
        Ok(())
    }

    /// Ends the session: the row is deleted and the cookie removed.
    pub fn log_out(&self, req: &HttpRequest) {
        crate::web::csrf::rotate(req);
        self.0.purge();
    }
}

impl FromRequest for TypedSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(TypedSession::of(req)))
    }
}
