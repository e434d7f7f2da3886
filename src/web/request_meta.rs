//! Who is asking: the client address (X-Forwarded-For believed only from a
//! configured trusted proxy) and the user agent, for the audit log and rate limits.

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::http::header::{HeaderMap, USER_AGENT};
use actix_web::{FromRequest, HttpRequest};

use crate::state::AppState;

#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The client's address: the peer, unless the peer is a trusted proxy, in which case
/// the right-most X-Forwarded-For entry that is not itself a trusted proxy.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> Option<IpAddr> {
    // An IPv4 peer of a dual-stack listener arrives as ::ffff:a.b.c.d.
    let peer = peer?.to_canonical();
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    // From the right: past our own proxies to the first address they did not add. An
    // entry that is not an address ends the walk: what lies left of it is the client's say.
    for entry in forwarded.iter().rev() {
        match entry.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return Some(ip),
            Err(_) => return Some(peer),
        }
    }
    Some(peer)
}

impl RequestMeta {
    pub fn from_request(req: &HttpRequest) -> Self {
        let trusted = req
            .app_data::<actix_web::web::Data<AppState>>()
            .map(|s| s.settings.server.trusted_proxies.clone())
            .unwrap_or_default();
        let ip = client_ip(req.peer_addr().map(|a| a.ip()), req.headers(), &trusted);
        let user_agent =
            req.headers().get(USER_AGENT).and_then(|v| v.to_str().ok()).map(|ua| ua.chars().take(400).collect());
        RequestMeta { ip: ip.map(|ip| ip.to_string()), user_agent }
    }
}

impl FromRequest for RequestMeta {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(RequestMeta::from_request(req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_str(xff).unwrap_or(HeaderValue::from_static("")),
        );
        h
    }

    #[test]
    fn forwarded_for_is_ignored_from_an_untrusted_peer() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let ip = client_ip(Some(peer), &headers("1.2.3.4"), &[]);
        assert_eq!(ip, Some(peer));
    }

    #[test]
    fn forwarded_for_is_believed_from_a_trusted_proxy() {
        let proxy: IpAddr = IpAddr::from([127, 0, 0, 1]);
        let ip = client_ip(Some(proxy), &headers("9.9.9.9, 1.2.3.4"), &[proxy]);
        assert_eq!(ip, Some(IpAddr::from([1, 2, 3, 4])));
    }
}
