//! Taxes: named rates of the organization (percent, up to 4 decimals). A tax used by a
//! draft is not deleted; issued documents keep the rate they were issued with by copy.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Numeric, Text, Uuid as SqlUuid};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::audit::{self, AuditEvent};
use crate::db;
use crate::db::ids::TaxId;
use crate::db::schema::taxes;
use crate::state::AppState;
use crate::web::auth::OrgContext;
use crate::web::fields;
use crate::web::flash::{Flash, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

#[derive(QueryableByName, Debug, Clone)]
pub struct Tax {
    #[diesel(sql_type = SqlUuid)]
    pub id: TaxId,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Numeric)]
    pub rate: Decimal,
    /// Draft lines that carry this tax (issued ones keep their own copy).
    #[diesel(sql_type = BigInt)]
    pub drafts_using: i64,
}

impl Tax {
    /// "VAT (20%)".
    pub fn label(&self) -> String {
        format!("{} ({}%)", self.name, self.rate.normalize())
    }

    pub fn rate_text(&self) -> String {
        format!("{}%", self.rate.normalize())
    }
}

/// The organization's taxes, by name.
pub fn list(conn: &mut PgConnection) -> QueryResult<Vec<Tax>> {
    crate::db::sql_query(
        "SELECT t.id, t.name, t.rate,
                (SELECT count(*) FROM invoice_items ii JOIN invoices i ON i.id = ii.invoice_id
                  WHERE ii.org_id = t.org_id AND ii.tax_id = t.id AND i.status = 'draft')
              + (SELECT count(*) FROM quotation_items qi JOIN quotations q ON q.id = qi.quotation_id
                  WHERE qi.org_id = t.org_id AND qi.tax_id = t.id AND q.status = 'draft') AS drafts_using
         FROM taxes t WHERE t.org_id = app_org_id() ORDER BY lower(t.name)",
    )
    .load(conn)
}

/// The organization's taxes for a line's select (without the usage counts).
pub fn choices(conn: &mut PgConnection) -> QueryResult<Vec<Tax>> {
    crate::db::sql_query(
        "SELECT id, name, rate, 0::bigint AS drafts_using FROM taxes WHERE org_id = app_org_id() ORDER BY lower(name)",
    )
    .load(conn)
}

#[derive(Deserialize, Default, Clone)]
pub struct TaxForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    rate: String,
}

/// A rate in percent: 0 to 100 with at most 4 decimals.
fn parse_rate(errors: &mut FieldErrors, raw: &str) -> Option<Decimal> {
    let text = raw.trim().trim_end_matches('%').trim();
    let well_formed = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_digit() || c == '.')
        && text.chars().filter(|c| *c == '.').count() <= 1
        && text.chars().any(|c| c.is_ascii_digit())
        && text.len() <= 20;
    let Some(rate) = text.parse::<Decimal>().ok().filter(|_| well_formed) else {
        errors.add("rate", "Enter the rate in percent, like 20 or 8.875.");
        return None;
    };
    if rate.normalize().scale() > 4 {
        errors.add("rate", "Use at most 4 decimal places.");
        return None;
    }
    if rate > Decimal::ONE_HUNDRED {
        errors.add("rate", "Use a rate from 0 to 100 percent.");
        return None;
    }
    Some(rate.normalize())
}

#[derive(Template)]
#[template(path = "money/taxes.html")]
struct TaxesPage {
    layout: Layout,
    taxes: Vec<Tax>,
    form: TaxForm,
    errors: FieldErrors,
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    form: TaxForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let taxes = db::tenant_tx(&state.pool, ctx.tenant(), |conn| Ok(list(conn)?)).await?;
    render(status, &TaxesPage { layout: Layout::member(req, ctx, "Taxes", "/taxes"), taxes, form, errors })
}

/// GET /taxes
pub async fn index(req: HttpRequest, state: web::Data<AppState>, ctx: OrgContext) -> Result<HttpResponse, AppError> {
    page(&req, &state, &ctx, TaxForm::default(), FieldErrors::default(), StatusCode::OK).await
}

/// POST /taxes
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    Form(form): Form<TaxForm>,
) -> Result<HttpResponse, AppError> {
    let mut errors = FieldErrors::default();
    let name = fields::line(&mut errors, "name", &form.name, 60, Some("the tax's name, like VAT"));
    let rate = parse_rate(&mut errors, &form.rate);
    let (Some(rate), true) = (rate, errors.is_empty()) else {
        return page(&req, &state, &ctx, form, errors, StatusCode::BAD_REQUEST).await;
    };
    let tenant = ctx.tenant();
    let saved_name = name.clone();
    let created = db::tenant_tx(&state.pool, tenant, move |conn| {
        let id = TaxId::new();
        let inserted = diesel::insert_into(taxes::table)
            .values((taxes::id.eq(id), taxes::org_id.eq(tenant.org_id), taxes::name.eq(&name), taxes::rate.eq(rate)))
            .on_conflict_do_nothing()
            .execute(conn)?;
        if inserted == 0 {
            return Ok(false);
        }
        audit::record(
            conn,
            &meta,
            AuditEvent::new("tax.created")
                .org(tenant.org_id)
                .actor(tenant.user_id)
                .entity("tax", id.0)
                .metadata(serde_json::json!({ "name": name, "rate": rate.to_string() })),
        )?;
        Ok(true)
    })
    .await?;
    if !created {
        errors.add("name", "A tax with this name exists already.");
        return page(&req, &state, &ctx, form, errors, StatusCode::BAD_REQUEST).await;
    }
    Ok(redirect_with(&req, "/taxes", Flash::success(format!("{saved_name} has been added."))))
}

/// POST /taxes/{id}/delete — refused while a draft uses the tax.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: TaxId = path.parse().map_err(|_| AppError::NotFound)?;
    let tenant = ctx.tenant();
    let outcome = db::tenant_tx(&state.pool, tenant, move |conn| {
        // Locked, so no draft takes the tax up between the check and the delete.
        let name: String =
            taxes::table.find(id).select(taxes::name).for_update().first(conn).optional()?.ok_or(AppError::NotFound)?;
        let tax = list(conn)?.into_iter().find(|t| t.id == id).ok_or(AppError::NotFound)?;
        if tax.drafts_using > 0 {
            return Ok(Err(format!(
                "{name} is used on {} line(s) of draft invoices or quotations. Change those lines first.",
                tax.drafts_using
            )));
        }
        diesel::delete(taxes::table.find(id)).execute(conn)?;
        audit::record(
            conn,
            &meta,
            AuditEvent::new("tax.deleted")
                .org(tenant.org_id)
                .actor(tenant.user_id)
                .entity("tax", id.0)
                .metadata(serde_json::json!({ "name": name })),
        )?;
        Ok(Ok(name))
    })
    .await?;
    Ok(match outcome {
        Ok(name) => redirect_with(&req, "/taxes", Flash::success(format!("{name} has been deleted."))),
        Err(refusal) => redirect_with(&req, "/taxes", Flash::error(refusal)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_percentages_with_at_most_four_decimals() {
        let mut e = FieldErrors::default();
        assert_eq!(parse_rate(&mut e, "20"), Some(Decimal::from(20)));
        assert_eq!(parse_rate(&mut e, "8.8750 %"), Some("8.875".parse().unwrap()));
        assert_eq!(parse_rate(&mut e, "0"), Some(Decimal::ZERO));
        assert!(e.is_empty());
        for bad in ["8.87501", "100.01", "-5", "twenty", "1e2", ""] {
            let mut e = FieldErrors::default();
            assert_eq!(parse_rate(&mut e, bad), None, "{bad}");
            assert!(e.get("rate").is_some());
        }
    }
}
