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

/// Paths whose POSTs are credential attempts (or make the server check a password).
const AUTH_PATHS: &[&str] = &["/login", "/signup", "/password/forgot", "/profile/password", "/profile"];
const AUTH_PREFIXES: &[&str] = &["/password/reset/", "/login/", "/profile/two-factor/", "/invitations/open/"];

/// Whether a POST to `raw_path` is a credential attempt. The path is percent-decoded
/// first, as the router does, so `/%6cogin` counts as `/login`.
fn is_auth_path(raw_path: &str) -> bool {
    let path = percent_encoding::percent_decode_str(raw_path).decode_utf8_lossy();
    AUTH_PATHS.contains(&path.as_ref()) || AUTH_PREFIXES.iter().any(|p| path.starts_with(p))
}

/// IPv6 clients are limited per /64: one host commonly holds a whole /64.
fn rate_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::V6(segments.into())
        }
    }
}

/// The key a client address is counted under elsewhere (login throttling), as text.
pub fn address_key(ip: Option<&str>) -> Option<String> {
    ip.and_then(|ip| ip.parse::<IpAddr>().ok()).map(|ip| rate_key(ip).to_string())
}

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
            LimitClass::Auth => req.method() == Method::POST && is_auth_path(req.path()),
        };
        if !counted {
            return Ok(RateKey::Exempt);
        }
        let peer = req.peer_addr().map(|a| a.ip());
        Ok(client_ip(peer, req.headers(), &self.trusted_proxies)
            .map(|ip| RateKey::Client(rate_key(ip)))
            .unwrap_or(RateKey::Exempt))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_paths_count_as_credential_attempts() {
        assert!(is_auth_path("/login"));
        assert!(is_auth_path("/%6cogin"));
        assert!(is_auth_path("/password/%72eset/abc"));
        assert!(is_auth_path("/profile/password"));
        assert!(!is_auth_path("/logout"));
    }

    #[test]
    fn ipv6_clients_share_a_limit_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(rate_key(a), rate_key(b));
        assert_ne!(rate_key(a), rate_key(c));
    }
}
