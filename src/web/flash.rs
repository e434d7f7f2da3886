//! One-time messages after Post/Redirect/Get ("Welcome back"), carried in a signed
//! cookie and cleared by the page that shows them.

use actix_web::cookie::{Cookie, CookieJar, SameSite};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::state::AppState;
use crate::web::cookies;

const COOKIE: &str = "flash";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Success,
    Info,
    Error,
}

impl Level {
    fn code(self) -> &'static str {
        match self {
            Level::Success => "success",
            Level::Info => "info",
            Level::Error => "error",
        }
    }

    fn parse(code: &str) -> Option<Level> {
        match code {
            "success" => Some(Level::Success),
            "info" => Some(Level::Info),
            "error" => Some(Level::Error),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Flash {
    pub level: Level,
    pub text: String,
}

impl Flash {
    pub fn success(text: impl Into<String>) -> Self {
        Flash { level: Level::Success, text: text.into() }
    }

    pub fn info(text: impl Into<String>) -> Self {
        Flash { level: Level::Info, text: text.into() }
    }

    pub fn error(text: impl Into<String>) -> Self {
        Flash { level: Level::Error, text: text.into() }
    }

    /// CSS modifier for the template.
    pub fn class(&self) -> &'static str {
        self.level.code()
    }
}

/// A 303 to `location` that shows `flash` on the next page. htmx follows it too.
pub fn redirect_with(req: &HttpRequest, location: &str, flash: Flash) -> HttpResponse {
    if let Some(state) = req.app_data::<web::Data<AppState>>() {
        // Hex: cookie values may not hold spaces or semicolons, and actix decodes
        // percent-escapes before the signature is checked.
        let value = format!("{}:{}", flash.level.code(), hex::encode(flash.text.as_bytes()));
        let cookie = Cookie::build(COOKIE, value)
            .path("/")
            .http_only(true)
            .secure(state.settings.https())
            .same_site(SameSite::Lax)
            .finish();
        cookies::queue_signed(req, &state.cookie_key, cookie);
    }
    redirect(location)
}

pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

/// Takes the pending message, if any, and clears it.
pub fn take(req: &HttpRequest) -> Option<Flash> {
    let state = req.app_data::<web::Data<AppState>>()?;
    let cookie = req.cookie(COOKIE)?;
    cookies::queue_removal(req, COOKIE);
    let mut jar = CookieJar::new();
    jar.add_original(cookie);
    let value = jar.signed(&state.cookie_key).get(COOKIE)?.value().to_string();
    let (code, text) = value.split_once(':')?;
    let text = String::from_utf8(hex::decode(text).ok()?).ok()?;
    Some(Flash { level: Level::parse(code)?, text })
}
