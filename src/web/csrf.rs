//! CSRF defence for every POST, in two layers:
//! 1. the request must come from this site (`Sec-Fetch-Site`, else `Origin`, when sent);
//! 2. it must carry the token of the signed `csrf` cookie, in the `X-CSRF-Token`
//!    header (htmx, from `hx-headers`) or the `csrf_token` form field — for uploads
//!    (multipart) the first field of the form.
//!
//! The token is made on the first page that needs it and kept in the cookie.

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, CookieJar, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::web::{self, BytesMut};
use actix_web::{HttpMessage, HttpRequest};
use futures_util::StreamExt;
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::state::AppState;
use crate::web::cookies;
use crate::web::error::AppError;

pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "x-csrf-token";
pub fn cookie_name(https: bool) -> &'static str {
    if https { "__Host-csrf" } else { "csrf" }
}

/// A token minted during this request, to be set as a cookie on the response.
#[derive(Clone)]
struct MintedToken(String);

fn state(req: &HttpRequest) -> Option<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>().cloned()
}

fn token_from_cookie(req: &HttpRequest) -> Option<String> {
    let state = state(req)?;
    let name = cookie_name(state.settings.https());
    let cookie = req.cookie(name)?;
    let mut jar = CookieJar::new();
    jar.add_original(cookie);
    jar.signed(&state.cookie_key).get(name).map(|c| c.value().to_string())
}

/// The token to put in forms and in `hx-headers`.
pub fn token(req: &HttpRequest) -> String {
    if let Some(minted) = req.extensions().get::<MintedToken>() {
        return minted.0.clone();
    }
    if let Some(existing) = token_from_cookie(req) {
        return existing;
    }
    mint(req)
}

/// A fresh token, replacing the old one: at login and logout, so a token seen before
/// is worth nothing after.
pub fn rotate(req: &HttpRequest) {
    mint(req);
}

fn mint(req: &HttpRequest) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    req.extensions_mut().insert(MintedToken(token.clone()));
    if let Some(state) = state(req) {
        let https = state.settings.https();
        let cookie = Cookie::build(cookie_name(https), token.clone())
            .path("/")
            .http_only(true)
            .secure(https)
            .same_site(SameSite::Lax)
            .finish();
        cookies::queue_signed(req, &state.cookie_key, cookie);
    }
    token
}

fn same_site_request(req: &ServiceRequest, app_url: &str) -> Result<(), AppError> {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // "none": typed in the address bar or a bookmark — not a cross-site form.
        return match site {
            "same-origin" | "none" => Ok(()),
            _ => Err(AppError::Csrf("cross-site request")),
        };
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        let own = origin == app_url.trim_end_matches('/')
            || origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host);
        if !own {
            return Err(AppError::Csrf("foreign origin"));
        }
    }
    Ok(())
}

fn is_form(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
}

fn token_in_form(body: &[u8]) -> Option<String> {
    form_urlencoded_pairs(body).find(|(k, _)| k == FIELD).map(|(_, v)| v)
}

fn form_urlencoded_pairs(body: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    body.split(|b| *b == b'&').filter_map(|pair| {
        let mut parts = pair.splitn(2, |b| *b == b'=');
        let key = decode(parts.next()?)?;
        let value = decode(parts.next().unwrap_or_default())?;
        Some((key, value))
    })
}

fn decode(raw: &[u8]) -> Option<String> {
    let plus_as_space: Vec<u8> = raw.iter().map(|b| if *b == b'+' { b' ' } else { *b }).collect();
    percent_encoding::percent_decode(&plus_as_space).decode_utf8().ok().map(|s| s.into_owned())
}

/// The token among the leading fields of an urlencoded form. Only a prefix of the body
/// is read (our forms put the token first), and put back in front of the rest: a large
/// body is never buffered here, before anyone is known.
async fn token_in_urlencoded(req: &mut ServiceRequest) -> Result<Option<String>, AppError> {
    let mut payload = req.take_payload();
    let mut prefix = BytesMut::new();
    let mut ended = false;
    let token = loop {
        // Only whole pairs: up to the last '&', or everything once the body has ended.
        let whole = if ended { prefix.len() } else { prefix.iter().rposition(|b| *b == b'&').unwrap_or(0) };
        if let Some(token) = token_in_form(&prefix[..whole]) {
            break Some(token);
        }
        if ended || prefix.len() > PREFIX_MAX {
            break None;
        }
        match payload.next().await {
            Some(Ok(chunk)) => prefix.extend_from_slice(&chunk),
            Some(Err(_)) => return Err(AppError::BadRequest("The form could not be read.".into())),
            None => ended = true,
        }
    };
    let head = futures_util::stream::once(async move { Ok(prefix.freeze()) });
    req.set_payload(Payload::Stream { payload: Box::pin(head.chain(payload)) });
    Ok(token)
}

/// How much of a form or upload is read, at most, to find its leading token field.
const PREFIX_MAX: usize = 16 * 1024;

fn multipart_boundary(req: &ServiceRequest) -> Option<String> {
    let content_type = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    if !content_type.starts_with("multipart/form-data") {
        return None;
    }
    content_type.split(';').find_map(|p| p.trim().strip_prefix("boundary=")).map(|b| b.trim_matches('"').to_string())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The value of the first part if it is the `csrf_token` field. The bytes read are put
/// back in front of the rest of the upload, which is never held whole in memory.
async fn token_in_multipart(req: &mut ServiceRequest, boundary: &str) -> Result<Option<String>, AppError> {
    let mut payload = req.take_payload();
    let mut prefix = BytesMut::new();
    let delimiter = format!("\r\n--{boundary}");
    let token = loop {
        if let Some(headers_end) = find(&prefix, b"\r\n\r\n")
            && let Some(value_len) = find(&prefix[headers_end + 4..], delimiter.as_bytes())
        {
            let headers = String::from_utf8_lossy(&prefix[..headers_end]).to_ascii_lowercase();
            let first_is_token = headers.starts_with(&format!("--{}", boundary.to_ascii_lowercase()))
                && headers.contains("name=\"csrf_token\"");
            let value = &prefix[headers_end + 4..headers_end + 4 + value_len];
            break first_is_token.then(|| String::from_utf8_lossy(value).trim().to_string());
        }
        if prefix.len() > PREFIX_MAX {
            break None;
        }
        match payload.next().await {
            Some(Ok(chunk)) => prefix.extend_from_slice(&chunk),
            Some(Err(_)) => return Err(AppError::BadRequest("The upload could not be read.".into())),
            None => break None,
        }
    };
    let head = futures_util::stream::once(async move { Ok(prefix.freeze()) });
    req.set_payload(Payload::Stream { payload: Box::pin(head.chain(payload)) });
    Ok(token)
}

fn tokens_match(expected: &str, given: &str) -> bool {
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// Middleware: refuses a POST that fails either check.
pub async fn protect(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::POST {
        let app_url = state(req.request()).map(|s| s.settings.app_url().to_string()).unwrap_or_default();
        same_site_request(&req, &app_url)?;
        let expected = token_from_cookie(req.request()).ok_or(AppError::Csrf("no token cookie"))?;
        let header_token = req.headers().get(HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
        // The header (htmx) first. After a boosted login the page's hx-headers may still
        // carry the token from before the login rotated it; the form's own field, rendered
        // with the page's content, then decides.
        let given = match header_token {
            Some(t) if tokens_match(&expected, &t) => Some(t),
            header if is_form(&req) => token_in_urlencoded(&mut req).await?.or(header),
            header => match multipart_boundary(&req) {
                Some(boundary) => token_in_multipart(&mut req, &boundary).await?.or(header),
                None => header,
            },
        };
        match given {
            Some(given) if tokens_match(&expected, &given) => {}
            Some(_) => return Err(AppError::Csrf("token mismatch").into()),
            None => return Err(AppError::Csrf("token missing").into()),
        }
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_token_among_form_fields() {
        assert_eq!(token_in_form(b"a=1&csrf_token=abc%20d&b=2"), Some("abc d".to_string()));
        assert_eq!(token_in_form(b"a=1"), None);
    }

    #[test]
    fn compares_tokens_exactly() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("abc", "ab"));
    }
}
