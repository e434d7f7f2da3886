//! Payments against issued invoices (a ledger: recorded, never edited), and voiding.
//! A payment moves the invoice to partially paid or paid; more than the balance is
//! refused; a void invoice takes no payments.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Date, Nullable, Numeric, Text, Timestamptz, Uuid as SqlUuid};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::amounts;
use super::document::{self, DocKind};
use super::pages::{audit_document, parse_id};
use crate::db;
use crate::db::ids::PaymentId;
use crate::state::AppState;
use crate::web::auth::OrgContext;
use crate::web::fields;
use crate::web::flash::{Flash, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form};

pub const METHODS: &[(&str, &str)] =
    &[("bank_transfer", "Bank transfer"), ("card", "Card"), ("cash", "Cash"), ("cheque", "Cheque"), ("other", "Other")];

pub fn method_label(key: &str) -> &'static str {
    METHODS.iter().find(|(k, _)| *k == key).map(|(_, l)| *l).unwrap_or("Other")
}

#[derive(QueryableByName, Debug, Clone)]
pub struct Payment {
    #[diesel(sql_type = Date)]
    pub paid_on: NaiveDate,
    #[diesel(sql_type = Numeric)]
    pub amount: Decimal,
    #[diesel(sql_type = Text)]
    pub method: String,
    #[diesel(sql_type = Text)]
    pub note: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub recorded_by: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

pub fn list(conn: &mut PgConnection, invoice: uuid::Uuid) -> QueryResult<Vec<Payment>> {
    crate::db::sql_query(
        "SELECT p.paid_on, p.amount, p.method, p.note, u.name AS recorded_by, p.created_at
         FROM payments p LEFT JOIN users u ON u.id = p.recorded_by
         WHERE p.org_id = app_org_id() AND p.invoice_id = $1 ORDER BY p.paid_on, p.created_at",
    )
    .bind::<SqlUuid, _>(invoice)
    .load(conn)
}

#[derive(Deserialize, Default)]
pub struct PaymentForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    note: String,
}

struct ValidPayment {
    paid_on: NaiveDate,
    amount: Decimal,
    method: String,
    note: String,
}

fn validate(form: &PaymentForm) -> Result<ValidPayment, FieldErrors> {
    let mut errors = FieldErrors::default();
    let paid_on = if form.date.trim().is_empty() {
        errors.add("date", "Enter the date of the payment.");
        None
    } else {
        fields::date(&mut errors, "date", &form.date)
    };
    let amount = fields::amount(&mut errors, "amount", &form.amount, 2, Decimal::from(1_000_000_000_000_000i64));
    if amount.is_none_or(|a| a.is_zero()) && errors.get("amount").is_none() {
        errors.add("amount", "Enter the amount received.");
    }
    let method =
        fields::choice(&mut errors, "method", &form.method, &METHODS.iter().map(|(k, _)| *k).collect::<Vec<_>>());
    let note = fields::line(&mut errors, "note", &form.note, 500, None);
    match (paid_on, amount, errors.is_empty()) {
        (Some(paid_on), Some(amount), true) => Ok(ValidPayment { paid_on, amount, method, note }),
        _ => Err(errors),
    }
}

/// The first message of a form's errors, for the flash above the payment form.
fn first_error(errors: &FieldErrors) -> String {
    ["date", "amount", "method", "note"]
        .iter()
        .find_map(|f| errors.get(f).map(|m| format!("Payment not recorded: {m}")))
        .unwrap_or_else(|| "Payment not recorded.".into())
}

/// POST /invoices/{id}/payments
pub async fn record(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
    Form(form): Form<PaymentForm>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let location = format!("/invoices/{id}");
    let tenant = ctx.tenant();
    let valid = validate(&form);
    let outcome = db::tenant_tx(&state.pool, tenant, move |conn| {
        let status = document::lock_status(conn, DocKind::Invoice, id)?;
        let doc = document::find(conn, DocKind::Invoice, id)?;
        let payment = match valid {
            Ok(p) => p,
            Err(errors) => return Ok(Err(first_error(&errors))),
        };
        match status.as_str() {
            "draft" => return Ok(Err("Issue the invoice before recording payments.".into())),
            "void" => return Ok(Err("This invoice is void: it takes no payments.".into())),
            "paid" => return Ok(Err("This invoice is paid in full.".into())),
            _ => {}
        }
        let balance = doc.balance();
        if payment.amount > balance {
            return Ok(Err(format!(
                "Payment not recorded: {} is more than the balance of {}.",
                amounts::with_currency(payment.amount, &doc.currency),
                amounts::with_currency(balance, &doc.currency)
            )));
        }
        crate::db::sql_query(
            "INSERT INTO payments (id, org_id, invoice_id, paid_on, amount, method, note, recorded_by)
             VALUES ($1, app_org_id(), $2, $3, $4, $5, $6, $7)",
        )
        .bind::<SqlUuid, _>(PaymentId::new())
        .bind::<SqlUuid, _>(id)
        .bind::<Date, _>(payment.paid_on)
        .bind::<Numeric, _>(payment.amount)
        .bind::<Text, _>(&payment.method)
        .bind::<Text, _>(&payment.note)
        .bind::<SqlUuid, _>(tenant.user_id)
        .execute(conn)?;
        let paid = doc.amount_paid + payment.amount;
        let new_status = if paid == doc.total { "paid" } else { "partially_paid" };
        if new_status == "paid" {
            // Whoever sent (or else made) the invoice hears that it is settled.
            let owner: Option<crate::db::ids::UserId> = crate::db::schema::invoices::table
                .find(crate::db::ids::InvoiceId(id))
                .select(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Uuid>>(
                    "coalesce(sent_by, created_by)",
                ))
                .first(conn)?;
            if let Some(recipient) = owner {
                crate::notifications::notify(
                    conn,
                    &tenant,
                    recipient,
                    &crate::notifications::Notice {
                        kind: crate::notifications::Kind::InvoicePaid,
                        title: format!("Invoice {} from {} is paid in full", doc.label(), doc.client_name),
                        link: format!("/invoices/{id}"),
                        entity: ("invoice", id),
                    },
                )?;
            }
        }
        crate::db::sql_query("UPDATE invoices SET amount_paid = $2, status = $3, updated_at = now() WHERE id = $1")
            .bind::<SqlUuid, _>(id)
            .bind::<Numeric, _>(paid)
            .bind::<Text, _>(new_status)
            .execute(conn)?;
        audit_document(
            conn,
            &meta,
            &tenant,
            DocKind::Invoice,
            "payment_recorded",
            id,
            serde_json::json!({
                "number": doc.number, "amount": amounts::money(payment.amount), "currency": doc.currency,
                "method": payment.method, "status": new_status,
            }),
        )?;
        Ok(Ok(if new_status == "paid" {
            format!("Payment recorded: {} is paid in full.", doc.label())
        } else {
            format!("Payment recorded. {} remains to be paid.", amounts::with_currency(doc.total - paid, &doc.currency))
        }))
    })
    .await?;
    Ok(match outcome {
        Ok(message) => redirect_with(&req, &location, Flash::success(message)),
        Err(refusal) => redirect_with(&req, &location, Flash::error(refusal)),
    })
}

#[derive(Deserialize, Default)]
pub struct VoidForm {
    #[serde(default)]
    reason: String,
}

/// POST /invoices/{id}/void — an issued invoice, with the reason (also one with
/// payments: a mistyped payment is corrected by voiding and issuing anew; the payments
/// stay on record). Its time entries are released so they can be billed again.
pub async fn void(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
    Form(form): Form<VoidForm>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&path)?;
    let location = format!("/invoices/{id}");
    let mut errors = FieldErrors::default();
    let reason = fields::text(&mut errors, "reason", &form.reason, 2000, Some("why the invoice is void"));
    let tenant = ctx.tenant();
    let outcome = db::tenant_tx(&state.pool, tenant, move |conn| {
        let status = document::lock_status(conn, DocKind::Invoice, id)?;
        let doc = document::find(conn, DocKind::Invoice, id)?;
        if let Some(message) = errors.get("reason") {
            return Ok(Err(format!("Not voided: {message}")));
        }
        match status.as_str() {
            "draft" => return Ok(Err("A draft is not voided: delete it instead.".into())),
            "void" => return Ok(Err("This invoice is void already.".into())),
            _ => {}
        }
        crate::db::sql_query(
            "UPDATE invoices SET status = 'void', voided_at = now(), void_reason = $2, updated_at = now() WHERE id = $1",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(&reason)
        .execute(conn)?;
        let released = crate::db::sql_query(
            "UPDATE time_entries SET invoice_id = NULL, updated_at = now() WHERE org_id = app_org_id() AND invoice_id = $1",
        )
        .bind::<SqlUuid, _>(id)
        .execute(conn)?;
        audit_document(
            conn,
            &meta,
            &tenant,
            DocKind::Invoice,
            "voided",
            id,
            serde_json::json!({ "number": doc.number, "reason": reason, "time_entries_released": released }),
        )?;
        Ok(Ok(if doc.amount_paid > Decimal::ZERO {
            format!(
                "{} is void. The {} received stay on record: refund them or apply them to a new invoice.",
                doc.label(),
                amounts::with_currency(doc.amount_paid, &doc.currency)
            )
        } else {
            format!("{} is void.", doc.label())
        }))
    })
    .await?;
    Ok(match outcome {
        Ok(message) => redirect_with(&req, &location, Flash::success(message)),
        Err(refusal) => redirect_with(&req, &location, Flash::error(refusal)),
    })
}
