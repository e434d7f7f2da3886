//! Sending a document to its client: a draft is issued first; the email (plain and
//! HTML) carries the PDF and a link with a single-purpose token that the portal
//! redeems (only its SHA-256 is stored); it goes through the job queue in the same
//! transaction, so an SMTP outage delays it and loses nothing.

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use diesel::sql_types::Uuid as SqlUuid;

use super::amounts;
use super::document::{self, DocKind, Document};
use super::pages::{audit_document, issue_draft, parse_id};
use super::pdf::Loaded;
use crate::db;
use crate::mail::{self, Attachment, Brand, Letter};
use crate::portal::links;
use crate::state::AppState;
use crate::team::Permission;
use crate::web::AppError;
use crate::web::auth::OrgContext;
use crate::web::flash::{Flash, redirect_with};
use crate::web::request_meta::RequestMeta;

/// The message: what the document is, what it asks, and the button to open it.
pub fn letter(kind: DocKind, doc: &Document, org_name: &str, brand_color: &str, link: &str, days: i64) -> Letter {
    let number = doc.label();
    let total = amounts::with_currency(doc.total, &doc.currency);
    let end = doc.end_date.format("%-d %B %Y");
    let paragraphs = match kind {
        DocKind::Invoice if doc.amount_paid.is_zero() => vec![
            format!("{org_name} has sent you invoice {number} for {total}."),
            format!("It is due on {end}. The invoice is attached as a PDF."),
        ],
        DocKind::Invoice => vec![
            format!("{org_name} has sent you invoice {number} for {total}."),
            format!(
                "{} has been paid; {} remains due on {end}. The invoice is attached as a PDF.",
                amounts::with_currency(doc.amount_paid, &doc.currency),
                amounts::with_currency(doc.balance(), &doc.currency)
            ),
        ],
        DocKind::Quotation => vec![
            format!("{org_name} has sent you quotation {number} for {total}."),
            format!(
                "It is valid until {end}. You can accept or decline it online; the quotation is attached as a PDF."
            ),
        ],
    };
    Letter {
        brand: Brand::org(org_name, brand_color),
        subject: format!("{} {number} from {org_name}", kind.title()),
        greeting: format!("Hello {},", doc.client_name),
        paragraphs,
        action: Some((format!("View {} {number}", kind.key()), link.to_string())),
        fine_print: links::fine_print(days, org_name),
    }
}

/// Whether a document in `status` may be emailed; the reason if not.
fn refusal(kind: DocKind, status: &str) -> Option<String> {
    match (kind, status) {
        (DocKind::Invoice, "void") => Some("A void invoice is not sent.".into()),
        (DocKind::Quotation, "accepted" | "declined") => Some(format!("This quotation has been {status} already.")),
        _ => None,
    }
}

/// POST /invoices/{id}/send, /quotations/{id}/send — in three steps, so that no lock is
/// held while the PDF is drawn: issue a draft (its number is then taken, as when it is
/// marked sent), draw the PDF, then queue the email and record the sending.
pub async fn send(
    kind: DocKind,
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let location = format!("{}/{id}", kind.base_path());
    let tenant = ctx.tenant();
    let may_issue = ctx.can(match kind {
        DocKind::Invoice => Permission::ManageInvoices,
        DocKind::Quotation => Permission::ManageQuotations,
    });
    let issue_meta = meta.clone();
    let prepared = db::tenant_tx(&state.pool, tenant, move |conn| {
        let status = document::lock_status(conn, kind, id)?;
        let doc = document::find(conn, kind, id)?;
        if doc.client_email.is_empty() {
            return Ok(Err(format!(
                "{} has no email address. Add one on the client's page, then send again.",
                doc.client_name
            )));
        }
        if let Some(refusal) = refusal(kind, &status) {
            return Ok(Err(refusal));
        }
        if status == "draft" {
            if !may_issue {
                return Ok(Err(format!("Only someone who may edit {}s can issue this draft.", kind.key())));
            }
            if let Err(refusal) = issue_draft(conn, &issue_meta, &tenant, kind, id)? {
                return Ok(Err(refusal));
            }
        }
        Ok(Ok(Loaded::load(conn, kind, id)?))
    })
    .await?;
    let loaded = match prepared {
        Ok(loaded) => loaded,
        Err(refusal) => return Ok(redirect_with(&req, &location, Flash::error(refusal))),
    };
    let (loaded, pdf, file_name) = web::block(move || loaded.render().map(|(pdf, name)| (loaded, pdf, name)))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering a PDF failed: {e}")))??;

    let app_url = state.settings.app_url().to_string();
    let days = state.settings.portal.link_days;
    let (org_name, brand_color) = (loaded.issuer.name.clone(), ctx.brand_color.clone());
    let outcome = db::tenant_tx(&state.pool, tenant, move |conn| {
        // Voided (or answered) while the PDF was drawn: not sent after all.
        let status = document::lock_status(conn, kind, id)?;
        if let Some(refusal) = refusal(kind, &status) {
            return Ok(Err(refusal));
        }
        let doc = loaded.doc;
        let token =
            links::mint(conn, kind.into(), doc.client_id, Some(doc.id), &doc.client_email, days, Some(tenant.user_id))?;
        let link = format!("{app_url}/p/{token}");
        let mut email = letter(kind, &doc, &org_name, &brand_color, &link, days)
            .render(&doc.client_email)
            .map_err(AppError::Internal)?;
        email.attachments.push(Attachment::new(&file_name, "application/pdf", &pdf));
        mail::enqueue(conn, Some(tenant.org_id), &email)?;
        crate::db::sql_query(format!(
            "UPDATE {} SET sent_at = now(), sent_by = $2, updated_at = now() WHERE id = $1 AND org_id = app_org_id()",
            kind.table()
        ))
        .bind::<SqlUuid, _>(id)
        .bind::<SqlUuid, _>(tenant.user_id)
        .execute(conn)?;
        audit_document(
            conn,
            &meta,
            &tenant,
            kind,
            "sent",
            id,
            serde_json::json!({ "number": doc.number, "to": doc.client_email }),
        )?;
        Ok(Ok(format!("{} {} is on its way to {}.", kind.title(), doc.label(), doc.client_email)))
    })
    .await?;
    Ok(match outcome {
        Ok(message) => redirect_with(&req, &location, Flash::success(message)),
        Err(refusal) => redirect_with(&req, &location, Flash::error(refusal)),
    })
}
