//! htmx request detection: htmx asks for fragments, plain requests get whole pages.

use actix_web::HttpRequest;

/// A request made by htmx that is not a boosted navigation (which wants a whole page).
pub fn wants_fragment(req: &HttpRequest) -> bool {
    let header = |name: &str| req.headers().get(name).is_some_and(|v| v == "true");
    header("hx-request") && !header("hx-boosted")
}
