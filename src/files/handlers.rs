//! The Files pages: the list with its upload form, upload, download and delete.
//! Downloads go through here only, after the tenant lookup; bytes are never served by path.

use std::io::{self, Read};

use actix_multipart::Multipart;
use actix_web::body::SizedStream;
use actix_web::http::{StatusCode, header};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use futures_util::Stream;
use serde::Deserialize;

use super::queries::{self, FileRow, ListFilter, NewFile, ProjectOption, human_size};
use super::store::StorageKey;
use super::upload::{self, Fields, Refusal, Stored};
use crate::audit::{self, AuditEvent};
use crate::db::ids::{FileId, ProjectId};
use crate::db::{self, Tenant};
use crate::state::AppState;
use crate::team::Permission;
use crate::web::auth::OrgContext;
use crate::web::flash::{Flash, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

const PAGE_SIZE: i64 = 50;
/// Bytes read from the store per chunk of a download.
const DOWNLOAD_CHUNK: usize = 64 * 1024;

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    #[serde(default)]
    project_id: String,
    /// Keyset cursor: the last file of the previous page.
    #[serde(default)]
    before: String,
}

#[derive(Template)]
#[template(path = "files/index.html")]
struct FilesPage {
    layout: Layout,
    files: Vec<FileRow>,
    projects: Vec<ProjectOption>,
    /// The project the list shows ("" for all), as in the address.
    filter_project: String,
    filter_problem: Option<&'static str>,
    next: Option<String>,
    storage_used: String,
    can_upload: bool,
    can_delete: bool,
    /// The project chosen in the upload form.
    upload_project: String,
    errors: FieldErrors,
    limit: String,
}

/// The largest upload, as shown next to the file field ("25 MB").
pub fn upload_limit(state: &AppState) -> String {
    human_size(i64::try_from(state.settings.files.max_upload_bytes).unwrap_or(i64::MAX))
}

/// An empty value is no project; anything that is not an id is refused like an unknown one.
fn parse_project(raw: &str) -> Result<Option<ProjectId>, ()> {
    if raw.is_empty() { Ok(None) } else { raw.parse().map(Some).map_err(|_| ()) }
}

struct Listing {
    files: Vec<FileRow>,
    projects: Vec<ProjectOption>,
    storage_used: i64,
    project_found: bool,
}

async fn load(state: &AppState, tenant: Tenant, filter: ListFilter) -> Result<Listing, AppError> {
    db::tenant_tx(&state.pool, tenant, move |conn| {
        let project_found = match filter.project {
            Some(p) => queries::project_exists(conn, tenant.org_id, p)?,
            None => true,
        };
        Ok(Listing {
            files: queries::list(conn, tenant.org_id, filter, PAGE_SIZE + 1)?,
            projects: queries::project_options(conn, tenant.org_id)?,
            storage_used: queries::storage_used(conn, tenant.org_id)?,
            project_found,
        })
    })
    .await
}

/// The Files page for `query`, with the upload form as sent (`upload_project`, `errors`).
async fn files_page(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    query: &ListQuery,
    status: StatusCode,
    errors: FieldErrors,
    upload_project: String,
) -> Result<HttpResponse, AppError> {
    let project = parse_project(query.project_id.trim());
    let filter = ListFilter { project: project.unwrap_or(None), before: query.before.trim().parse().ok() };
    let mut listing = load(state, ctx.tenant(), filter).await?;
    let filter_problem = (project.is_err() || !listing.project_found).then_some("This project was not found.");
    if project.is_err() {
        listing.files.clear();
    }
    let next = (listing.files.len() as i64 > PAGE_SIZE).then(|| {
        listing.files.truncate(PAGE_SIZE as usize);
        let last = listing.files.last().map(|f| f.id.to_string()).unwrap_or_default();
        match filter.project {
            Some(p) => format!("/files?project_id={p}&before={last}"),
            None => format!("/files?before={last}"),
        }
    });
    let page = FilesPage {
        layout: Layout::member(req, ctx, "Files", "/files"),
        files: listing.files,
        projects: listing.projects,
        filter_project: filter.project.map(|p| p.to_string()).unwrap_or_default(),
        filter_problem,
        next,
        storage_used: human_size(listing.storage_used),
        can_upload: ctx.can(Permission::UploadFiles),
        can_delete: ctx.can(Permission::DeleteFiles),
        upload_project,
        errors,
        limit: upload_limit(state),
    };
    render(status, &page)
}

/// GET /files
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let upload_project = query.project_id.trim().to_string();
    files_page(&req, &state, &ctx, &query, StatusCode::OK, FieldErrors::default(), upload_project).await
}

/// Where to go after an upload or a delete: a local Files or project page, else /files.
fn return_path(raw: &str) -> String {
    let local = (raw == "/files"
        || raw.starts_with("/files?")
        || raw.starts_with("/projects/")
        || raw.starts_with("/clients/"))
        && !raw.contains("..")
        && !raw.contains("//")
        && raw.len() <= 200
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-_?=&".contains(&b));
    if local { raw.to_string() } else { "/files".to_string() }
}

/// Answers a refused upload: the Files page with the message next to its field.
async fn refuse(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    fields: &Fields,
    refusal: Refusal,
) -> Result<HttpResponse, AppError> {
    let mut errors = FieldErrors::default();
    let status = match refusal {
        Refusal::TooLarge => {
            errors.add(
                "file",
                format!(
                    "This file is larger than {}, the most one upload may be. Make it smaller (for example \
                     by compressing it) or split it, and try again.",
                    upload_limit(state)
                ),
            );
            StatusCode::PAYLOAD_TOO_LARGE
        }
        Refusal::File(message) => {
            errors.add("file", message);
            StatusCode::BAD_REQUEST
        }
        Refusal::Project => {
            errors.add("project_id", "Choose a project from the list, or no project.");
            StatusCode::BAD_REQUEST
        }
    };
    files_page(req, state, ctx, &ListQuery::default(), status, errors, fields.project_id.clone()).await
}

/// Removes stored bytes that will have no row. A failure leaves an orphan, which is logged.
async fn discard(state: &AppState, key: StorageKey) {
    let store = state.files.clone();
    let name = key.as_string();
    let removed = web::block(move || store.delete(&key)).await;
    if !matches!(removed, Ok(Ok(()))) {
        tracing::error!(key = name, "could not remove the bytes of a refused upload");
    }
}

/// Whether the project named in the form is one of the organization's.
async fn project_allowed(state: &AppState, tenant: Tenant, raw: &str) -> Result<bool, AppError> {
    match parse_project(raw) {
        Err(()) => Ok(false),
        Ok(None) => Ok(true),
        Ok(Some(project)) => {
            db::tenant_tx(&state.pool, tenant, move |conn| Ok(queries::project_exists(conn, tenant.org_id, project)?))
                .await
        }
    }
}

/// POST /files (multipart: csrf_token first, then project_id and return_to, then file)
pub async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    mut form: Multipart,
) -> Result<HttpResponse, AppError> {
    let tenant = ctx.tenant();
    let mut fields = Fields::default();
    let field = match upload::fields_before_file(&mut form, &mut fields).await {
        Ok(Some(field)) => field,
        Ok(None) => return refuse(&req, &state, &ctx, &fields, Refusal::File("Choose a file to upload.".into())).await,
        Err(refusal) => return refuse(&req, &state, &ctx, &fields, refusal).await,
    };
    // Checked before any byte is stored: another organization's project is refused as unknown.
    if !project_allowed(&state, tenant, &fields.project_id).await? {
        return refuse(&req, &state, &ctx, &fields, Refusal::Project).await;
    }
    let key = StorageKey::new(tenant.org_id, FileId::new());
    let limit = state.settings.files.max_upload_bytes;
    let stored = match upload::store_file(field, state.files.clone(), key, limit).await? {
        Ok(stored) => stored,
        Err(refusal) => return refuse(&req, &state, &ctx, &fields, refusal).await,
    };
    if let Err(refusal) = upload::fields_after_file(&mut form, &mut fields).await {
        discard(&state, stored.key).await;
        return refuse(&req, &state, &ctx, &fields, refusal).await;
    }
    let Ok(project) = parse_project(&fields.project_id) else {
        discard(&state, stored.key).await;
        return refuse(&req, &state, &ctx, &fields, Refusal::Project).await;
    };
    let (key, name) = (stored.key.clone(), stored.name.clone());
    match db::tenant_tx(&state.pool, tenant, move |conn| save(conn, &meta, tenant, project, &stored)).await {
        Ok(true) => {
            let back = return_path(&fields.return_to);
            Ok(redirect_with(&req, &back, Flash::success(format!("“{name}” has been uploaded."))))
        }
        Ok(false) => {
            discard(&state, key).await;
            refuse(&req, &state, &ctx, &fields, Refusal::Project).await
        }
        Err(e) => {
            discard(&state, key).await;
            Err(e)
        }
    }
}

/// Inserts the row of a stored file and audits it; false when the project is not the
/// organization's (checked again here: it may have been deleted meanwhile).
fn save(
    conn: &mut diesel::PgConnection,
    meta: &RequestMeta,
    tenant: Tenant,
    project: Option<ProjectId>,
    stored: &Stored,
) -> Result<bool, AppError> {
    if let Some(p) = project
        && !queries::project_exists(conn, tenant.org_id, p)?
    {
        return Ok(false);
    }
    crate::plans::ensure_room(conn, tenant.org_id, crate::plans::Limit::Storage, stored.size)?;
    let key = stored.key.as_string();
    let id = stored.key.file_id();
    queries::insert(
        conn,
        &NewFile {
            id,
            org_id: tenant.org_id,
            project_id: project,
            uploaded_by: Some(tenant.user_id),
            original_name: &stored.name,
            content_type: stored.content_type,
            size_bytes: stored.size,
            storage_key: &key,
            sha256: &stored.sha256,
        },
    )?;
    audit::record(
        conn,
        meta,
        AuditEvent::new("file.uploaded").org(tenant.org_id).actor(tenant.user_id).entity("file", id.0).metadata(
            serde_json::json!({
                "name": stored.name,
                "size_bytes": stored.size,
                "content_type": stored.content_type,
                "project_id": project,
            }),
        ),
    )?;
    Ok(true)
}

/// `Content-Disposition` for a download: an ASCII fallback name for old clients and the
/// exact name in RFC 5987 form for the others.
fn content_disposition(name: &str) -> String {
    const ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'!')
        .remove(b'#')
        .remove(b'$')
        .remove(b'&')
        .remove(b'+')
        .remove(b'-')
        .remove(b'.')
        .remove(b'^')
        .remove(b'_')
        .remove(b'`')
        .remove(b'|')
        .remove(b'~');
    let fallback: String = name
        .chars()
        .map(|c| if (c.is_ascii_graphic() || c == ' ') && !matches!(c, '"' | '\\' | '%' | ';') { c } else { '_' })
        .collect();
    let exact = percent_encoding::utf8_percent_encode(name, ATTR_CHAR);
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}")
}

/// The stored bytes, read on the blocking pool a chunk at a time.
fn byte_stream(reader: Box<dyn Read + Send>) -> impl Stream<Item = Result<Bytes, io::Error>> {
    futures_util::stream::unfold(Some(reader), |reader| async move {
        let mut reader = reader?;
        let read = web::block(move || {
            let mut buf = vec![0u8; DOWNLOAD_CHUNK];
            let n = reader.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, io::Error>((reader, buf))
        })
        .await;
        match read {
            Ok(Ok((_, buf))) if buf.is_empty() => None,
            Ok(Ok((reader, buf))) => Some((Ok(Bytes::from(buf)), Some(reader))),
            Ok(Err(e)) => Some((Err(e), None)),
            Err(e) => Some((Err(io::Error::other(e.to_string())), None)),
        }
    })
}

/// GET /files/{id}/download
pub async fn download(
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: FileId = path.parse().map_err(|_| AppError::NotFound)?;
    let tenant = ctx.tenant();
    let file = db::tenant_tx(&state.pool, tenant, move |conn| Ok(queries::find(conn, tenant.org_id, id)?)).await?;
    let key = StorageKey::parse(&file.storage_key)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("file {id} has a malformed storage key")))?;
    let store = state.files.clone();
    let reader = web::block(move || store.open(&key))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking file task failed: {e}")))?
        .map_err(|e| AppError::Internal(anyhow::anyhow!("opening the bytes of file {id}: {e}")))?;
    let size = u64::try_from(file.size_bytes).unwrap_or(0);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.content_type))
        .insert_header((header::CONTENT_DISPOSITION, content_disposition(&file.original_name)))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // Should a browser render it anyway, it runs in a sandbox: no scripts, no cookies.
        .insert_header((header::CONTENT_SECURITY_POLICY, "sandbox"))
        .insert_header((header::CACHE_CONTROL, "private"))
        .body(SizedStream::new(size, byte_stream(reader))))
}

#[derive(Deserialize, Default)]
pub struct DeleteForm {
    #[serde(default)]
    return_to: String,
}

/// POST /files/{id}/delete
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
    Form(form): Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    let id: FileId = path.parse().map_err(|_| AppError::NotFound)?;
    let tenant = ctx.tenant();
    let file = db::tenant_tx(&state.pool, tenant, move |conn| {
        let file = queries::find(conn, tenant.org_id, id)?;
        queries::delete(conn, tenant.org_id, id)?;
        audit::record(
            conn,
            &meta,
            AuditEvent::new("file.deleted").org(tenant.org_id).actor(tenant.user_id).entity("file", id.0).metadata(
                serde_json::json!({
                    "name": file.original_name,
                    "size_bytes": file.size_bytes,
                    "content_type": file.content_type,
                }),
            ),
        )?;
        Ok(file)
    })
    .await?;
    // The row is gone first: a file is never listed without its bytes.
    match StorageKey::parse(&file.storage_key) {
        Some(key) => discard(&state, key).await,
        None => tracing::error!(file = %id, "a deleted file had a malformed storage key"),
    }
    let back = return_path(&form.return_to);
    Ok(redirect_with(&req, &back, Flash::success(format!("“{}” has been deleted.", file.original_name))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_files_and_project_pages_are_returned_to() {
        assert_eq!(return_path("/files"), "/files");
        assert_eq!(return_path("/files?project_id=abc"), "/files?project_id=abc");
        assert_eq!(
            return_path("/projects/0193a0b2-0000-7000-8000-000000000000"),
            "/projects/0193a0b2-0000-7000-8000-000000000000"
        );
        for bad in ["https://evil.example", "//evil.example", "/projects/../admin", "/dashboard", "", "/projects/\"x"] {
            assert_eq!(return_path(bad), "/files", "{bad}");
        }
    }

    #[test]
    fn download_names_are_safe_in_headers() {
        assert_eq!(
            content_disposition("report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            content_disposition("Devis \"été\"; 50%.pdf"),
            "attachment; filename=\"Devis __t___ 50_.pdf\"; filename*=UTF-8''Devis%20%22%C3%A9t%C3%A9%22%3B%2050%25.pdf"
        );
    }
}

/// The partials the project page uses render as that page will call them.
#[cfg(test)]
mod partials {
    use askama::Template;
    use chrono::Utc;

    use super::FileRow;
    use crate::db::ids::{FileId, ProjectId};

    #[derive(Template)]
    #[template(
        source = r#"{%- import "files/_table.html" as files_table -%}
{%- import "files/_upload.html" as files_upload -%}
{% call files_table::table(files, csrf, can_delete, false, return_to) %}{% endcall %}
{% call files_upload::upload(csrf, project_id, limit) %}{% endcall %}"#,
        ext = "html"
    )]
    struct ProjectFiles {
        files: Vec<FileRow>,
        csrf: String,
        can_delete: bool,
        return_to: String,
        project_id: ProjectId,
        limit: String,
    }

    fn row(name: &str) -> FileRow {
        FileRow {
            id: FileId::new(),
            project_id: None,
            project_title: None,
            original_name: name.into(),
            content_type: "application/pdf".into(),
            size_bytes: 2048,
            uploader: Some("Ana".into()),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn the_project_partials_render_escaped_with_their_buttons() {
        let project_id = ProjectId::new();
        let page = ProjectFiles {
            files: vec![row("<b>plan</b>.pdf")],
            csrf: "tok".into(),
            can_delete: true,
            return_to: format!("/projects/{project_id}"),
            project_id,
            limit: "25 MB".into(),
        };
        let html = page.render().unwrap();
        assert!(html.contains("&#60;b&#62;plan&#60;/b&#62;.pdf") || html.contains("&lt;b&gt;plan"), "{html}");
        assert!(!html.contains("<b>plan"));
        assert!(html.contains("/download\""));
        assert!(html.contains(&format!("name=\"return_to\" value=\"/projects/{project_id}\"")));
        assert!(html.contains("enctype=\"multipart/form-data\""));
        assert!(html.contains("2 kB"));
        let without_delete = ProjectFiles { can_delete: false, ..page };
        assert!(!without_delete.render().unwrap().contains("/delete\""));
    }
}
