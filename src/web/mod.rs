//! HTTP plumbing shared by every domain: errors, CSRF, cookies, flash messages,
//! forms, rate limits, security headers, auth extractors and route policies.

pub mod assets;
pub mod auth;
pub mod chart;
pub mod choices;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod fields;
pub mod flash;
pub mod form;
pub mod htmx;
pub mod layout;
pub mod rate_limit;
pub mod request_meta;
pub mod routes;
pub mod session;

pub use error::AppError;
pub use form::Form;
pub mod time;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;

/// Renders a template with any status: a form with errors is a 400 page.
pub fn render<T: askama::Template>(status: StatusCode, template: &T) -> Result<HttpResponse, AppError> {
    let body = template.render().map_err(|e| AppError::Internal(anyhow::anyhow!("rendering a template: {e}")))?;
    Ok(HttpResponse::build(status).insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8")).body(body))
}

/// A value a template passes to a view method: askama hands over loop variables and
/// fields as `T`, `&T` or `&&T`; methods taking `impl Arg<T>` accept all three.
pub trait Arg<T> {
    fn value(self) -> T;
}

impl<T: Copy> Arg<T> for T {
    fn value(self) -> T {
        self
    }
}

impl<T: Copy> Arg<T> for &T {
    fn value(self) -> T {
        *self
    }
}

impl<T: Copy> Arg<T> for &&T {
    fn value(self) -> T {
        **self
    }
}
