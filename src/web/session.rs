//! A typed view of the session: who is signed in, and which server-side session row
//! this is. Login renews the key (no session fixation); logout purges it.

use std::future::{Ready, ready};

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use crate::auth::session_store::{IP, SESSION_ID, USER_AGENT, USER_ID};
use crate::db::ids::{MembershipId, PortalTokenId, SessionId, UserId};
use crate::web::request_meta::RequestMeta;

const TWO_FACTOR_USER: &str = "two_factor_user";
const TWO_FACTOR_SINCE: &str = "two_factor_since";
const TWO_FACTOR_WINDOW_SECS: i64 = 300;
/// A session opened by an emailed portal link sees only that client membership.
const PORTAL_SCOPE: &str = "portal_scope";
/// The link that opened it: revoking the link ends the session (see `portal::links`).
pub const PORTAL_LINK: &str = "portal_link";

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
        self.0.remove(TWO_FACTOR_USER);
        self.0.remove(TWO_FACTOR_SINCE);
        self.0.remove(PORTAL_SCOPE);
        self.0.remove(PORTAL_LINK);
        self.0.insert(USER_ID, user_id)?;
        self.0.insert(IP, meta.ip.clone().unwrap_or_default())?;
        self.0.insert(USER_AGENT, meta.user_agent.clone().unwrap_or_default())?;
        Ok(())
    }

    /// Starts a fresh session from an emailed portal link: it sees only `membership`
    /// (one client of one organization), whatever else the account may reach.
    pub fn log_in_from_link(
        &self,
        req: &HttpRequest,
        user_id: UserId,
        meta: &RequestMeta,
        membership: MembershipId,
        link: PortalTokenId,
    ) -> Result<(), actix_session::SessionInsertError> {
        self.log_in(req, user_id, meta)?;
        self.0.insert(PORTAL_SCOPE, membership)?;
        self.0.insert(PORTAL_LINK, link)?;
        Ok(())
    }

    /// The one membership a session opened by a portal link is limited to.
    pub fn portal_scope(&self) -> Option<MembershipId> {
        self.0.get::<MembershipId>(PORTAL_SCOPE).ok().flatten()
    }

    /// Password accepted, second step pending: nobody is signed in yet. Renewed so
    /// the half-done login cannot be planted in someone else's browser.
    pub fn begin_two_factor(&self, user_id: UserId) -> Result<(), actix_session::SessionInsertError> {
        self.0.renew();
        self.0.insert(TWO_FACTOR_USER, user_id)?;
        self.0.insert(TWO_FACTOR_SINCE, chrono::Utc::now().timestamp())?;
        Ok(())
    }

    /// The user whose second step is awaited, for five minutes after their password.
    pub fn pending_two_factor(&self) -> Option<UserId> {
        let since: i64 = self.0.get(TWO_FACTOR_SINCE).ok().flatten()?;
        if chrono::Utc::now().timestamp() - since > TWO_FACTOR_WINDOW_SECS {
            return None;
        }
        self.0.get(TWO_FACTOR_USER).ok().flatten()
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
