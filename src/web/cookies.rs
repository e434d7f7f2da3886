//! Cookies that code deep in a request (a template's CSRF token, a shown flash
//! message) wants set on the response; the middleware adds them at the end.

use actix_web::HttpMessage;
use actix_web::HttpRequest;
use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, CookieJar, Key};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

#[derive(Default, Clone)]
struct Queued(Vec<Cookie<'static>>);

fn push(req: &HttpRequest, cookie: Cookie<'static>) {
    let mut ext = req.extensions_mut();
    match ext.get_mut::<Queued>() {
        Some(q) => q.0.push(cookie),
        None => {
            ext.insert(Queued(vec![cookie]));
        }
    }
}

/// Queues a cookie signed with `key`.
pub fn queue_signed(req: &HttpRequest, key: &Key, cookie: Cookie<'static>) {
    let mut jar = CookieJar::new();
    jar.signed_mut(key).add(cookie);
    for c in jar.delta() {
        push(req, c.clone());
    }
}

/// Queues the removal of a cookie.
pub fn queue_removal(req: &HttpRequest, name: &'static str) {
    let mut cookie = Cookie::build(name, "").path("/").finish();
    cookie.make_removal();
    push(req, cookie);
}

pub async fn apply(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let queued = res.request().extensions_mut().remove::<Queued>();
    if let Some(Queued(cookies)) = queued {
        for cookie in cookies {
            res.response_mut().add_cookie(&cookie)?;
        }
    }
    Ok(res)
}
