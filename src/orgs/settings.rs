//! Organization settings: identity, branding and the defaults of invoices and
//! quotations. Only roles with `manage_org` see them; every change is audited with
//! the fields it touched.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;
use diesel::prelude::*;
use serde::Deserialize;

use crate::audit::{self, AuditEvent};
use crate::db::schema::organizations;
use crate::db::{self};
use crate::state::AppState;
use crate::web::auth::OrgContext;
use crate::web::flash::{Flash, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

pub const CURRENCIES: &[&str] = &[
    "USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "JPY", "CNY", "HKD",
    "SGD", "INR", "KRW", "AED", "SAR", "ILS", "TRY", "BRL", "MXN", "ZAR",
];

pub const TIMEZONES: &[&str] = &[
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Zurich",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Prague",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Africa/Johannesburg",
    "Africa/Lagos",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Perth",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/St_Johns",
    "America/Halifax",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Mexico_City",
    "America/Bogota",
    "America/Lima",
    "America/Santiago",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
];

#[derive(Queryable, Debug, Clone, Default, Deserialize)]
pub struct OrgSettings {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub brand_color: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub tax_id: String,
    #[serde(default)]
    pub default_currency: String,
    #[serde(default)]
    pub timezone: String,
    #[serde(default)]
    pub invoice_prefix: String,
    #[serde(default)]
    pub quotation_prefix: String,
    #[serde(default)]
    pub payment_terms_days: String,
    #[serde(default)]
    pub paper_size: String,
    /// The checkbox: present ("on") when ticked.
    #[serde(default)]
    pub require_two_factor: Option<String>,
}

#[derive(Queryable)]
struct StoredSettings {
    name: String,
    brand_color: String,
    address: String,
    tax_id: String,
    default_currency: String,
    timezone: String,
    invoice_prefix: String,
    quotation_prefix: String,
    payment_terms_days: i32,
    paper_size: String,
    require_two_factor: bool,
}

impl From<StoredSettings> for OrgSettings {
    fn from(s: StoredSettings) -> Self {
        OrgSettings {
            name: s.name,
            brand_color: s.brand_color,
            address: s.address,
            tax_id: s.tax_id,
            default_currency: s.default_currency,
            timezone: s.timezone,
            invoice_prefix: s.invoice_prefix,
            quotation_prefix: s.quotation_prefix,
            payment_terms_days: s.payment_terms_days.to_string(),
            paper_size: s.paper_size,
            require_two_factor: s.require_two_factor.then(|| "on".to_string()),
        }
    }
}

fn load(conn: &mut PgConnection) -> QueryResult<OrgSettings> {
    // RLS leaves exactly the tenant's own organization.
    organizations::table
        .select((
            organizations::name,
            organizations::brand_color,
            organizations::address,
            organizations::tax_id,
            organizations::default_currency,
            organizations::timezone,
            organizations::invoice_prefix,
            organizations::quotation_prefix,
            organizations::payment_terms_days,
            organizations::paper_size,
            organizations::require_two_factor,
        ))
        .first::<StoredSettings>(conn)
        .map(OrgSettings::from)
}

/// The settings as stored: clean values or a message per field.
struct Valid {
    settings: OrgSettings,
    terms: i32,
}

fn validate(form: &OrgSettings) -> Result<Valid, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut s = OrgSettings {
        name: form.name.trim().to_string(),
        brand_color: form.brand_color.trim().to_ascii_lowercase(),
        address: form.address.trim().replace("\r\n", "\n"),
        tax_id: form.tax_id.trim().to_string(),
        default_currency: form.default_currency.trim().to_ascii_uppercase(),
        timezone: form.timezone.trim().to_string(),
        invoice_prefix: form.invoice_prefix.trim().to_ascii_uppercase(),
        quotation_prefix: form.quotation_prefix.trim().to_ascii_uppercase(),
        payment_terms_days: form.payment_terms_days.trim().to_string(),
        paper_size: form.paper_size.trim().to_string(),
        require_two_factor: form.require_two_factor.as_ref().map(|_| "on".to_string()),
    };
    if s.name.is_empty() || s.name.chars().count() > 120 {
        errors.add("name", "Enter a name of 1 to 120 characters.");
    }
    let hex = s.brand_color.strip_prefix('#').unwrap_or(&s.brand_color).to_string();
    if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        s.brand_color = format!("#{hex}");
    } else {
        errors.add("brand_color", "Use a color like #4f46e5.");
    }
    if s.address.chars().count() > 500 {
        errors.add("address", "Use at most 500 characters.");
    }
    if s.tax_id.chars().count() > 60 {
        errors.add("tax_id", "Use at most 60 characters.");
    }
    if !CURRENCIES.contains(&s.default_currency.as_str()) {
        errors.add("default_currency", "Choose a currency from the list.");
    }
    if !TIMEZONES.contains(&s.timezone.as_str()) {
        errors.add("timezone", "Choose a time zone from the list.");
    }
    let prefix_ok =
        |p: &str| (1..=10).contains(&p.len()) && p.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !prefix_ok(&s.invoice_prefix) {
        errors.add("invoice_prefix", "Use 1 to 10 letters or digits, like INV.");
    }
    if !prefix_ok(&s.quotation_prefix) {
        errors.add("quotation_prefix", "Use 1 to 10 letters or digits, like QUO.");
    }
    let terms = match s.payment_terms_days.parse::<i32>() {
        Ok(d) if (0..=365).contains(&d) => d,
        _ => {
            errors.add("payment_terms_days", "Use a number of days from 0 to 365.");
            0
        }
    };
    if !["A4", "Letter"].contains(&s.paper_size.as_str()) {
        errors.add("paper_size", "Choose A4 or Letter.");
    }
    if errors.is_empty() { Ok(Valid { settings: s, terms }) } else { Err(errors) }
}

#[derive(Template)]
#[template(path = "orgs/settings.html")]
struct SettingsPage {
    layout: Layout,
    s: OrgSettings,
    logo_url: Option<String>,
    errors: FieldErrors,
    currencies: &'static [&'static str],
    timezones: &'static [&'static str],
}

fn page(
    req: &HttpRequest,
    ctx: &OrgContext,
    s: OrgSettings,
    status: StatusCode,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let page = SettingsPage {
        layout: Layout::member(req, ctx, "Settings", "/settings"),
        logo_url: ctx.logo_url(),
        s,
        errors,
        currencies: CURRENCIES,
        timezones: TIMEZONES,
    };
    render(status, &page)
}

/// GET /settings
pub async fn show(req: HttpRequest, state: web::Data<AppState>, ctx: OrgContext) -> Result<HttpResponse, AppError> {
    show_with(&req, &state, &ctx, StatusCode::OK, FieldErrors::default()).await
}

/// The settings page as stored, with `errors` (e.g. of the logo form).
pub async fn show_with(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    status: StatusCode,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let settings = db::tenant_tx(&state.pool, ctx.tenant(), |conn| Ok(load(conn)?)).await?;
    page(req, ctx, settings, status, errors)
}

/// POST /settings
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    Form(form): Form<OrgSettings>,
) -> Result<HttpResponse, AppError> {
    let Valid { settings: s, terms } = match validate(&form) {
        Ok(valid) => valid,
        Err(errors) => return page(&req, &ctx, form, StatusCode::BAD_REQUEST, errors),
    };
    let tenant = ctx.tenant();
    db::tenant_tx(&state.pool, tenant, move |conn| {
        let before = load(conn)?;
        let changed: Vec<&str> = [
            ("name", before.name != s.name),
            ("brand_color", before.brand_color != s.brand_color),
            ("address", before.address != s.address),
            ("tax_id", before.tax_id != s.tax_id),
            ("default_currency", before.default_currency != s.default_currency),
            ("timezone", before.timezone != s.timezone),
            ("invoice_prefix", before.invoice_prefix != s.invoice_prefix),
            ("quotation_prefix", before.quotation_prefix != s.quotation_prefix),
            ("payment_terms_days", before.payment_terms_days != s.payment_terms_days),
            ("paper_size", before.paper_size != s.paper_size),
            ("require_two_factor", before.require_two_factor != s.require_two_factor),
        ]
        .into_iter()
        .filter_map(|(field, differs)| differs.then_some(field))
        .collect();
        diesel::update(organizations::table.find(tenant.org_id))
            .set((
                organizations::name.eq(&s.name),
                organizations::brand_color.eq(&s.brand_color),
                organizations::address.eq(&s.address),
                organizations::tax_id.eq(&s.tax_id),
                organizations::default_currency.eq(&s.default_currency),
                organizations::timezone.eq(&s.timezone),
                organizations::invoice_prefix.eq(&s.invoice_prefix),
                organizations::quotation_prefix.eq(&s.quotation_prefix),
                organizations::payment_terms_days.eq(terms),
                organizations::paper_size.eq(&s.paper_size),
                organizations::require_two_factor.eq(s.require_two_factor.is_some()),
                organizations::updated_at.eq(Utc::now()),
            ))
            .execute(conn)?;
        if !changed.is_empty() {
            audit::record(
                conn,
                &meta,
                AuditEvent::new("settings.updated")
                    .org(tenant.org_id)
                    .actor(tenant.user_id)
                    .entity("organization", tenant.org_id.0)
                    .metadata(serde_json::json!({ "changed": changed })),
            )?;
        }
        Ok(())
    })
    .await?;
    Ok(redirect_with(&req, "/settings", Flash::success("Settings saved.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_form() -> OrgSettings {
        OrgSettings {
            name: "Studio".into(),
            brand_color: "4F46E5".into(),
            address: "1 Main St".into(),
            tax_id: "".into(),
            default_currency: "eur".into(),
            timezone: "Europe/Paris".into(),
            invoice_prefix: "inv".into(),
            quotation_prefix: "QUO".into(),
            payment_terms_days: "30".into(),
            paper_size: "A4".into(),
            require_two_factor: None,
        }
    }

    #[test]
    fn settings_are_normalized() {
        let valid = validate(&valid_form()).ok().unwrap();
        assert_eq!(valid.settings.brand_color, "#4f46e5");
        assert_eq!(valid.settings.default_currency, "EUR");
        assert_eq!(valid.settings.invoice_prefix, "INV");
        assert_eq!(valid.terms, 30);
    }

    #[test]
    fn each_bad_field_gets_its_message() {
        let form = OrgSettings {
            name: "".into(),
            brand_color: "red".into(),
            default_currency: "XXX".into(),
            timezone: "Mars/Olympus".into(),
            invoice_prefix: "IN-V".into(),
            quotation_prefix: "".into(),
            payment_terms_days: "-1".into(),
            paper_size: "A3".into(),
            ..valid_form()
        };
        let errors = validate(&form).err().unwrap();
        for field in [
            "name",
            "brand_color",
            "default_currency",
            "timezone",
            "invoice_prefix",
            "quotation_prefix",
            "payment_terms_days",
            "paper_size",
        ] {
            assert!(errors.get(field).is_some(), "{field}");
        }
    }
}
