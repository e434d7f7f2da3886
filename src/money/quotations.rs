//! Quotations: the editor and pages they share with invoices, converting an accepted
//! (or sent) quotation into an invoice draft with the same lines, and the answer of
//! the client — accept or decline, while the offer is valid — which the portal calls.
//!
//! States: draft → sent (issued, numbered) → accepted | declined; a sent quotation
//! past its valid-until date is shown as expired and can no longer be accepted.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Uuid as SqlUuid};

use super::document::{self, DocKind, DraftHeader};
use super::pages::{self, audit_document, parse_id};
use crate::db;
use crate::state::AppState;
use crate::web::AppError;
use crate::web::auth::OrgContext;
use crate::web::flash::{Flash, redirect_with};
use crate::web::request_meta::RequestMeta;

const KIND: DocKind = DocKind::Quotation;

pages::document_handlers!(KIND);

/// Why a quotation cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerRefused {
    NotSent,
    AlreadyAnswered(String),
    Expired(NaiveDate),
}

impl std::fmt::Display for AnswerRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnswerRefused::NotSent => write!(f, "This quotation has not been sent yet."),
            AnswerRefused::AlreadyAnswered(status) => write!(f, "This quotation has been {status} already."),
            AnswerRefused::Expired(until) => write!(f, "This quotation was valid until {until} and has expired."),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Decline { reason: String },
}

/// Records the client's answer to a sent quotation that is still valid on `today`.
/// Locks the row, so two answers cannot both win.
pub fn answer(
    conn: &mut PgConnection,
    id: uuid::Uuid,
    answer: &Answer,
    today: NaiveDate,
) -> Result<Result<(), AnswerRefused>, AppError> {
    let status = document::lock_status(conn, KIND, id)?;
    let doc = document::find(conn, KIND, id)?;
    match status.as_str() {
        "draft" => return Ok(Err(AnswerRefused::NotSent)),
        "sent" if doc.end_date < today => return Ok(Err(AnswerRefused::Expired(doc.end_date))),
        "sent" => {}
        other => return Ok(Err(AnswerRefused::AlreadyAnswered(other.to_string()))),
    }
    let (new_status, reason) = match answer {
        Answer::Accept => ("accepted", None),
        Answer::Decline { reason } => ("declined", Some(reason.as_str()).filter(|r| !r.is_empty())),
    };
    crate::db::sql_query(
        "UPDATE quotations SET status = $2, decline_reason = $3, responded_at = now(), updated_at = now() WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(new_status)
    .bind::<Nullable<Text>, _>(reason)
    .execute(conn)?;
    Ok(Ok(()))
}

/// POST /quotations/{id}/convert — an invoice draft with the same lines, linked both
/// ways. Refused for drafts, declined or expired quotations, and a second time.
pub async fn convert(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    // The route needs manage_invoices (it makes one); the quotation must be readable too.
    ctx.require(crate::team::Permission::ViewQuotations)?;
    let id = parse_id(&path)?;
    let tenant = ctx.tenant();
    let outcome = db::tenant_tx(&state.pool, tenant, move |conn| {
        let status = document::lock_status(conn, KIND, id)?;
        let doc = document::find(conn, KIND, id)?;
        if let Some(number) = &doc.linked_number {
            return Ok(Err(format!("This quotation has been converted already, into invoice {number}.")));
        }
        if doc.linked_id.is_some() {
            return Ok(Err("This quotation has been converted already, into a draft invoice.".to_string()));
        }
        let shown = document::shown_status(KIND, &status, doc.end_date, doc.balance(), document::today());
        match shown {
            "sent" | "accepted" => {}
            "draft" => return Ok(Err("Send the quotation before converting it.".into())),
            other => return Ok(Err(format!("A {other} quotation is not converted into an invoice."))),
        }
        let items = document::items(conn, KIND, id)?;
        let issuer = super::Issuer::load(conn)?;
        let today = document::today();
        let header = DraftHeader {
            client_id: doc.client_id,
            project_id: doc.project_id,
            issue_date: today,
            end_date: today + chrono::Duration::days(i64::from(issuer.payment_terms_days)),
            currency: doc.currency.clone(),
            notes: doc.notes.clone(),
            terms: doc.terms.clone(),
        };
        let invoice = uuid::Uuid::now_v7();
        document::insert_draft(conn, DocKind::Invoice, invoice, tenant.user_id, &header, &items)?;
        crate::db::sql_query("UPDATE invoices SET quotation_id = $2 WHERE id = $1")
            .bind::<SqlUuid, _>(invoice)
            .bind::<SqlUuid, _>(id)
            .execute(conn)?;
        audit_document(
            conn,
            &meta,
            &tenant,
            KIND,
            "converted",
            id,
            serde_json::json!({ "number": doc.number, "invoice_id": invoice }),
        )?;
        Ok(Ok(invoice))
    })
    .await?;
    Ok(match outcome {
        Ok(invoice) => redirect_with(
            &req,
            &format!("/invoices/{invoice}"),
            Flash::success("The quotation has been converted into this draft invoice. Check it, then issue it."),
        ),
        Err(refusal) => redirect_with(&req, &format!("/quotations/{id}"), Flash::error(refusal)),
    })
}
