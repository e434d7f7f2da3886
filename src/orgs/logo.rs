//! The organization's logo: PNG, JPEG or WebP up to 512 kB, checked by its bytes
//! (never by its name or declared type), kept in the database so every app instance
//! serves it, and shown in the workspace, the portal and on documents.

use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use futures_util::StreamExt;

use super::settings;
use crate::audit::{self, AuditEvent};
use crate::db::ids::OrgId;
use crate::db::schema::organizations;
use crate::db::{self};
use crate::state::AppState;
use crate::web::AppError;
use crate::web::auth::OrgContext;
use crate::web::flash::{Flash, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::request_meta::RequestMeta;

pub const MAX_BYTES: usize = 512 * 1024;

/// The image type, read from the file's first bytes.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

enum Upload {
    File(Vec<u8>),
    TooLarge,
    Missing,
}

/// Reads the `logo` field, stopping as soon as it passes the limit.
async fn read_logo(mut form: Multipart) -> Result<Upload, AppError> {
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|_| AppError::BadRequest("The upload could not be read.".into()))?;
        if field.name() != Some("logo") {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| AppError::BadRequest("The upload could not be read.".into()))?;
            if bytes.len() + chunk.len() > MAX_BYTES {
                return Ok(Upload::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(if bytes.is_empty() { Upload::Missing } else { Upload::File(bytes) });
    }
    Ok(Upload::Missing)
}

/// POST /settings/logo (multipart: csrf_token first, then logo)
pub async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    form: Multipart,
) -> Result<HttpResponse, AppError> {
    let refuse = |status, message: &str| {
        let mut errors = FieldErrors::default();
        errors.add("logo", message.to_string());
        (status, errors)
    };
    let (bytes, content_type) = match read_logo(form).await? {
        Upload::TooLarge => {
            let (status, errors) = refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The logo is larger than 512 kB. Export a smaller image and try again.",
            );
            return settings::show_with(&req, &state, &ctx, status, errors).await;
        }
        Upload::Missing => {
            let (status, errors) = refuse(StatusCode::BAD_REQUEST, "Choose an image file to upload.");
            return settings::show_with(&req, &state, &ctx, status, errors).await;
        }
        Upload::File(bytes) => match sniff_image(&bytes) {
            Some(content_type) => (bytes, content_type),
            None => {
                let (status, errors) = refuse(StatusCode::BAD_REQUEST, "Use a PNG, JPEG or WebP image.");
                return settings::show_with(&req, &state, &ctx, status, errors).await;
            }
        },
    };
    let tenant = ctx.tenant();
    let size = bytes.len();
    db::tenant_tx(&state.pool, tenant, move |conn| {
        diesel::update(organizations::table.find(tenant.org_id))
            .set((
                organizations::logo.eq(bytes),
                organizations::logo_content_type.eq(content_type),
                organizations::logo_updated_at.eq(Utc::now()),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &meta,
            AuditEvent::new("settings.logo_updated")
                .org(tenant.org_id)
                .actor(tenant.user_id)
                .entity("organization", tenant.org_id.0)
                .metadata(serde_json::json!({ "bytes": size, "type": content_type })),
        )?;
        Ok(())
    })
    .await?;
    Ok(redirect_with(&req, "/settings", Flash::success("Your new logo is in place.")))
}

/// POST /settings/logo/delete
pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
) -> Result<HttpResponse, AppError> {
    let tenant = ctx.tenant();
    db::tenant_tx(&state.pool, tenant, move |conn| {
        diesel::update(organizations::table.find(tenant.org_id))
            .set((
                organizations::logo.eq(None::<Vec<u8>>),
                organizations::logo_content_type.eq(None::<String>),
                organizations::logo_updated_at.eq(Utc::now()),
            ))
            .execute(conn)?;
        audit::record(conn, &meta, AuditEvent::new("settings.logo_removed").org(tenant.org_id).actor(tenant.user_id))?;
        Ok(())
    })
    .await?;
    Ok(redirect_with(&req, "/settings", Flash::success("The logo has been removed.")))
}

/// GET /orgs/{id}/logo — public: logos appear in emails and on the client portal.
pub async fn serve(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let org_id: OrgId = path.parse().map_err(|_| AppError::NotFound)?;
    let found = db::run(&state.pool, move |conn| {
        Ok(organizations::table
            .find(org_id)
            .filter(organizations::logo.is_not_null())
            .select((organizations::logo, organizations::logo_content_type, organizations::logo_updated_at))
            .first::<(Option<Vec<u8>>, Option<String>, Option<DateTime<Utc>>)>(conn)
            .optional()?)
    })
    .await?;
    let Some((Some(bytes), Some(content_type), _)) = found else { return Err(AppError::NotFound) };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        // URLs carry ?v=<updated_at>, so a new logo is a new URL.
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'"))
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::sniff_image;

    #[test]
    fn images_are_recognized_by_their_bytes() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_image(b"<svg onload=alert(1)>"), None);
        assert_eq!(sniff_image(b"MZ\x90\0"), None, "an executable renamed logo.png");
    }
}
