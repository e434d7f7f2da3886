//! Rate limits per client address (actix-governor): every request (reads), every
//! POST (writes, tighter), and sign-up / login / password attempts (tightest).
//! Each limiter is created once and shared by all workers. Over the limit: 429 with
//! `Retry-After` and a readable page.

use std::net::IpAddr;

use actix_governor::governor::NotUntil;
use actix_governor::governor::clock::{Clock, DefaultClock, QuantaInstant};
use actix_governor::governor::middleware::NoOpMiddleware;
use actix_governor::{GovernorConfig, GovernorConfigBuilder, KeyExtractor, SimpleKeyExtractionError};
use actix_web::dev::ServiceRequest;
use actix_web::http::Method;
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};

use crate::config::RateLimitSettings;
use crate::web::error::AppError;
use crate::web::request_meta::client_ip;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitClass {
    Read,
    Write,
    Auth,
}

/// Paths whose POSTs are credential attempts.
const AUTH_PATHS: &[&str] = &["/login", "/signup", "/password/forgot"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateKey {
    /// Not counted by this limiter.
    Exempt,
    Client(IpAddr),
}

#[derive(Debug, Clone)]
pub struct ClientKey {
    class: LimitClass,
    trusted_proxies: Vec<IpAddr>,
}

impl KeyExtractor for ClientKey {
    type Key = RateKey;
    type KeyExtractionError = SimpleKeyExtractionError<&'static str>;

    fn extract(&self, req: &ServiceRequest) -> Result<Self::Key, Self::KeyExtractionError> {
        let counted = match self.class {
            LimitClass::Read => true,
            LimitClass::Write => req.method() == Method::POST,
            LimitClass::Auth => {
                req.method() == Method::POST
                    && (AUTH_PATHS.contains(&req.path()) || req.path().starts_with("/password/reset/"))
            }
        };
        if !counted {
            return Ok(RateKey::Exempt);
        }
        let peer = req.peer_addr().map(|a| a.ip());
        Ok(client_ip(peer, req.headers(), &self.trusted_proxies).map(RateKey::Client).unwrap_or(RateKey::Exempt))
    }

    fn exceed_rate_limit_response(&self, negative: &NotUntil<QuantaInstant>, _: HttpResponseBuilder) -> HttpResponse {
        let wait = negative.wait_time_from(DefaultClock::default().now()).as_secs().max(1);
        AppError::RateLimited { retry_after_secs: wait }.error_response()
    }

    fn whitelisted_keys(&self) -> Vec<Self::Key> {
        vec![RateKey::Exempt]
    }
}

pub type Limiter = GovernorConfig<ClientKey, NoOpMiddleware<QuantaInstant>>;

pub struct Limiters {
    pub read: Limiter,
    pub write: Limiter,
    pub auth: Limiter,
}

fn build(class: LimitClass, period_ms: u64, burst: u32, trusted: &[IpAddr]) -> anyhow::Result<Limiter> {
    GovernorConfigBuilder::default()
        .milliseconds_per_request(period_ms.max(1))
        .burst_size(burst.max(1))
        .key_extractor(ClientKey { class, trusted_proxies: trusted.to_vec() })
        .finish()
        .ok_or_else(|| anyhow::anyhow!("invalid rate limit settings for {class:?}"))
}

impl Limiters {
    pub fn new(s: &RateLimitSettings, trusted: &[IpAddr]) -> anyhow::Result<Self> {
        Ok(Limiters {
            read: build(LimitClass::Read, 1000 / s.read_per_second.max(1), s.read_burst, trusted)?,
            write: build(LimitClass::Write, 1000 / s.write_per_second.max(1), s.write_burst, trusted)?,
            auth: build(LimitClass::Auth, 60_000 / s.auth_per_minute.max(1), s.auth_burst, trusted)?,
        })
    }
}
