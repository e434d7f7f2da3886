//! Static files, compiled into the binary and served under content-hashed URLs
//! (`/static/app.css?v=…`) with a year-long immutable cache. No CDN.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

struct StaticFile {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! static_files {
    ($($name:literal => $type:literal),* $(,)?) => {
        &[$(StaticFile {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/static/", $name)),
        }),*]
    };
}

const FILES: &[StaticFile] = static_files!(
    "app.css" => "text/css; charset=utf-8",
    "app.js" => "text/javascript; charset=utf-8",
    "htmx.min.js" => "text/javascript; charset=utf-8",
    "htmx-ext-sse.js" => "text/javascript; charset=utf-8",
    "sortable.min.js" => "text/javascript; charset=utf-8",
    "favicon.svg" => "image/svg+xml",
);

/// Versioned URLs of the static files, for templates: `{{ asset.css }}`.
#[derive(Debug)]
pub struct Assets {
    pub css: String,
    pub app_js: String,
    pub htmx: String,
    pub htmx_sse: String,
    /// Sortable.js, loaded on the Kanban board only.
    pub sortable: String,
    pub favicon: String,
}

fn versioned(name: &str) -> String {
    let file = FILES.iter().find(|f| f.name == name);
    let hash = file.map(|f| hex::encode(&Sha256::digest(f.bytes)[..6])).unwrap_or_default();
    format!("/static/{name}?v={hash}")
}

pub fn assets() -> &'static Assets {
    static ASSETS: OnceLock<Assets> = OnceLock::new();
    ASSETS.get_or_init(|| Assets {
        css: versioned("app.css"),
        app_js: versioned("app.js"),
        htmx: versioned("htmx.min.js"),
        htmx_sse: versioned("htmx-ext-sse.js"),
        sortable: versioned("sortable.min.js"),
        favicon: versioned("favicon.svg"),
    })
}

/// GET /static/{name} — public.
pub async fn serve(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    let Some(file) = FILES.iter().find(|f| f.name == name.as_str()) else {
        return crate::web::error::error_response(actix_web::http::StatusCode::NOT_FOUND, None);
    };
    // Only a request for the current version may be cached forever.
    let cache = if req.query_string().starts_with("v=") {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.content_type))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(file.bytes)
}

/// GET /brand.css?c=RRGGBB — public: the organization's brand color as CSS variables,
/// so pages need no inline styles (the CSP allows none).
pub async fn brand_css(query: web::Query<BrandQuery>) -> HttpResponse {
    let hex = query.c.to_ascii_lowercase();
    let valid = hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit());
    let hex = if valid { hex } else { "4f46e5".to_string() };
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0) as f64 / 255.0;
    let lin = |c: f64| {
        if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let luminance = 0.2126 * lin(channel(0)) + 0.7152 * lin(channel(2)) + 0.0722 * lin(channel(4));
    // Text on the brand color: white unless the color is light.
    let ink = if luminance > 0.45 { "#111827" } else { "#ffffff" };
    let css = format!(":root{{--brand:#{hex};--brand-ink:{ink};}}\n");
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(css)
}

#[derive(serde::Deserialize)]
pub struct BrandQuery {
    #[serde(default)]
    c: String,
}
