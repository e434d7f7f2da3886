//! One error type for every handler, and the policy of what the user sees:
//!
//! | error | status | page | logged |
//! |---|---|---|---|
//! | `BadRequest` | 400 | the message | no |
//! | `Unauthorized` | 303 to /login (htmx: 401 + `HX-Redirect`, so the page, not a fragment, changes) | — | no |
//! | `Forbidden` | 403 | "you do not have access" | no |
//! | `OrgSuspended`, `NoOrganization` | 403 | why, and what to do | no |
//! | `PlanLimit` | 402 | the plan, its limit and how to upgrade | no |
//! | `TwoFactorRequired` | 303 to the two-factor setup (htmx: 401 + `HX-Redirect`) | — | no |
//! | `Csrf` | 403 | "the form expired, reload" | warn |
//! | `NotFound`, Diesel `NotFound` | 404 | "not found" — also for other tenants' records | no |
//! | `PayloadTooLarge` | 413 | the limit | no |
//! | `RateLimited` | 429 + `Retry-After` | wait time | no |
//! | `Unavailable`, pool errors | 503 | "try again shortly" | error |
//! | `Internal`, other Diesel errors | 500 | generic, never internals | error |
//!
//! Forms with invalid fields are not errors: handlers re-render the form with 400.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("not signed in")]
    Unauthorized { next: Option<String>, htmx: bool },
    #[error("forbidden")]
    Forbidden,
    #[error("two-factor sign-in required")]
    TwoFactorRequired { htmx: bool },
    #[error("organization suspended")]
    OrgSuspended,
    #[error("no organization")]
    NoOrganization,
    #[error("plan limit reached")]
    PlanLimit(crate::plans::LimitReached),
    #[error("csrf check failed: {0}")]
    Csrf(&'static str),
    #[error("not found")]
    NotFound,
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => AppError::NotFound,
            // The connection died under the statement, or before it (PostgreSQL
            // restarting, the backend terminated): the pool drops it, and the next
            // request gets a new one.
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ClosedConnection
                | diesel::result::DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => AppError::Unavailable(info.message().to_string()),
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(e.to_string())
    }
}

#[derive(Template)]
#[template(path = "errors/error.html")]
pub struct ErrorPage<'a> {
    pub status: u16,
    pub title: &'a str,
    pub message: &'a str,
    /// Where the page's button leads, and what it says.
    pub action: (&'a str, &'a str),
    pub asset: &'a crate::web::assets::Assets,
}

impl ErrorPage<'_> {
    pub fn for_status(status: StatusCode) -> (&'static str, &'static str) {
        match status.as_u16() {
            400 => ("Something in the request was not right", "Please go back, check what you entered and try again."),
            401 => ("Please sign in", "You need to sign in to see this page."),
            402 => ("Plan limit reached", "Your plan does not include more of this. An owner can upgrade the plan."),
            403 => (
                "You do not have access",
                "Your role does not allow this. Ask an administrator of your organization if you need it.",
            ),
            404 => ("Page not found", "There is nothing here. It may have been removed, or the link may be wrong."),
            405 => ("Not allowed", "This address does not accept that kind of request."),
            413 => ("Too large", "What you sent is larger than we accept."),
            415 => ("Unsupported form", "The form was sent in a format we do not accept."),
            429 => ("Slow down", "Too many requests from your address. Please wait a moment and try again."),
            503 => ("We will be right back", "The service is briefly unavailable. Please try again in a few seconds."),
            _ => (
                "Something went wrong",
                "An unexpected error happened on our side. It has been logged; please try again.",
            ),
        }
    }
}

/// Renders the error page for `status`, with an optional specific message.
pub fn error_response(status: StatusCode, message: Option<&str>) -> HttpResponse {
    error_page(status, message, ("/dashboard", "Go to your dashboard"))
}

/// The same with a button of its own (where the dashboard would only lead back here).
pub fn error_page(status: StatusCode, message: Option<&str>, action: (&str, &str)) -> HttpResponse {
    titled_error_page(status, None, message, action)
}

/// The same with a title of its own, where the status's title would mislead.
pub fn titled_error_page(
    status: StatusCode,
    title: Option<&str>,
    message: Option<&str>,
    action: (&str, &str),
) -> HttpResponse {
    let (default_title, default_message) = ErrorPage::for_status(status);
    let title = title.unwrap_or(default_title);
    let page = ErrorPage {
        status: status.as_u16(),
        title,
        message: message.unwrap_or(default_message),
        action,
        asset: crate::web::assets::assets(),
    };
    let body = page.render().unwrap_or_else(|_| title.to_string());
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized { htmx: true, .. } => StatusCode::UNAUTHORIZED,
            AppError::Unauthorized { htmx: false, .. } => StatusCode::SEE_OTHER,
            AppError::TwoFactorRequired { htmx: true } => StatusCode::UNAUTHORIZED,
            AppError::TwoFactorRequired { htmx: false } => StatusCode::SEE_OTHER,
            AppError::Forbidden | AppError::Csrf(_) | AppError::OrgSuspended | AppError::NoOrganization => {
                StatusCode::FORBIDDEN
            }
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::PlanLimit(_) => StatusCode::PAYMENT_REQUIRED,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Unauthorized { next, htmx } => {
                let location = match next {
                    Some(next) => format!("/login?next={}", url_encode(next)),
                    None => "/login".to_string(),
                };
                if *htmx {
                    let mut response = error_response(StatusCode::UNAUTHORIZED, None);
                    if let Ok(value) = HeaderValue::from_str(&location) {
                        response.headers_mut().insert(header::HeaderName::from_static("hx-redirect"), value);
                    }
                    response
                } else {
                    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
                }
            }
            AppError::TwoFactorRequired { htmx } => {
                let location = "/profile/two-factor?required=1";
                if *htmx {
                    let mut response = error_response(StatusCode::UNAUTHORIZED, None);
                    response
                        .headers_mut()
                        .insert(header::HeaderName::from_static("hx-redirect"), HeaderValue::from_static(location));
                    response
                } else {
                    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
                }
            }
            AppError::BadRequest(message) => error_response(StatusCode::BAD_REQUEST, Some(message)),
            AppError::Csrf(reason) => {
                tracing::warn!(reason, "CSRF check failed");
                error_response(
                    StatusCode::FORBIDDEN,
                    Some(
                        "This form has expired or did not come from this site. Go back, reload the page and try again.",
                    ),
                )
            }
            AppError::PayloadTooLarge { limit } => error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                Some(&format!("What you sent is larger than the {} we accept here.", human_bytes(*limit))),
            ),
            AppError::RateLimited { retry_after_secs } => {
                let mut response = error_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    Some(&format!(
                        "Too many requests from your address. Please wait {} and try again.",
                        plural(*retry_after_secs, "second")
                    )),
                );
                if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }
            AppError::Unavailable(reason) => {
                tracing::error!(reason, "service unavailable");
                error_response(StatusCode::SERVICE_UNAVAILABLE, None)
            }
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                error_response(StatusCode::INTERNAL_SERVER_ERROR, None)
            }
            AppError::OrgSuspended => titled_error_page(
                StatusCode::FORBIDDEN,
                Some("Organization suspended"),
                Some(
                    "This organization has been suspended, so its pages are closed for now. Nothing in it is \
                     deleted. Its owner can write to support to reactivate it.",
                ),
                ("/support", "Contact support"),
            ),
            AppError::NoOrganization => error_page(
                StatusCode::FORBIDDEN,
                Some("You are not an active member of any organization. Ask an administrator for an invitation."),
                ("/invitations", "See your invitations"),
            ),
            AppError::PlanLimit(reached) => error_page(
                StatusCode::PAYMENT_REQUIRED,
                Some(&reached.message()),
                ("/support?topic=upgrade", "Ask us to upgrade the plan"),
            ),
            AppError::Forbidden | AppError::NotFound => error_response(self.status_code(), None),
        }
    }
}

pub fn plural(n: u64, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

pub fn human_bytes(n: usize) -> String {
    if n >= 1024 * 1024 {
        format!("{} MB", n / (1024 * 1024))
    } else if n >= 1024 {
        format!("{} kB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

pub fn url_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
