//! Invoices: the pages shared with quotations, plus what only invoices have: issuing
//! without sending, payments and voiding (payments.rs), and invoicing unbilled time.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Int4, Nullable, Numeric, Text, Uuid as SqlUuid};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;

use super::amounts;
use super::document::{self, DocKind, DraftHeader, Item};
use super::pages::{self, audit_document};
use crate::db;
use crate::db::ids::{ClientId, ProjectId, TimeEntryId};
use crate::state::AppState;
use crate::web::auth::OrgContext;
use crate::web::flash::{Flash, redirect_with};
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

const KIND: DocKind = DocKind::Invoice;

pages::document_handlers!(KIND);

pub async fn issue(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    pages::issue(KIND, req, state, ctx, meta, path).await
}

/// Unbilled, billable, finished time of a project or of all a client's projects.
#[derive(QueryableByName, Debug, Clone)]
pub struct UnbilledEntry {
    #[diesel(sql_type = SqlUuid)]
    pub id: TimeEntryId,
    #[diesel(sql_type = SqlUuid)]
    pub task_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    pub task_title: String,
    #[diesel(sql_type = Text)]
    pub project_title: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub client_id: Option<ClientId>,
    #[diesel(sql_type = Text)]
    pub person: String,
    #[diesel(sql_type = Date)]
    pub entry_date: NaiveDate,
    #[diesel(sql_type = Int4)]
    pub minutes: i32,
    #[diesel(sql_type = Numeric)]
    pub rate: Decimal,
    #[diesel(sql_type = Text)]
    pub note: String,
}

impl UnbilledEntry {
    pub fn hours(&self) -> String {
        crate::time_tracking::money::hours(i64::from(self.minutes))
    }

    pub fn rate_text(&self) -> String {
        amounts::grouped(self.rate)
    }
}

/// Where unbilled time is taken from.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    Project(ProjectId),
    Client(ClientId),
}

pub fn unbilled(conn: &mut PgConnection, source: Source) -> QueryResult<Vec<UnbilledEntry>> {
    let (condition, id) = match source {
        Source::Project(p) => ("p.id = $1", p.0),
        Source::Client(c) => ("p.client_id = $1", c.0),
    };
    crate::db::sql_query(format!(
        "SELECT e.id, t.id AS task_id, t.title AS task_title, p.title AS project_title, p.client_id,
                coalesce(u.name, 'Former member') AS person, e.entry_date, e.minutes, coalesce(e.hourly_rate, 0) AS rate, e.note
         FROM time_entries e
         JOIN tasks t ON t.org_id = e.org_id AND t.id = e.task_id
         JOIN projects p ON p.org_id = t.org_id AND p.id = t.project_id
         LEFT JOIN users u ON u.id = e.user_id
         WHERE e.org_id = app_org_id() AND {condition} AND e.billable AND e.invoice_id IS NULL AND e.minutes IS NOT NULL
         ORDER BY p.title, t.title, e.entry_date, e.id
         LIMIT 2000"
    ))
    .bind::<SqlUuid, _>(id)
    .load(conn)
}

/// One line per task and rate: hours (to 3 decimals, as SPEC's quantities) × rate.
pub fn lines_for(entries: &[UnbilledEntry], with_project: bool) -> Vec<Item> {
    let mut groups: Vec<(uuid::Uuid, Decimal, String, i64)> = Vec::new();
    for e in entries {
        match groups.iter_mut().find(|g| g.0 == e.task_id && g.1 == e.rate) {
            Some(g) => g.3 += i64::from(e.minutes),
            None => {
                let label =
                    if with_project { format!("{}: {}", e.project_title, e.task_title) } else { e.task_title.clone() };
                groups.push((e.task_id, e.rate, label, i64::from(e.minutes)));
            }
        }
    }
    groups
        .into_iter()
        .enumerate()
        .map(|(i, (_, rate, label, minutes))| {
            let hours = (Decimal::from(minutes) / Decimal::from(60))
                .round_dp_with_strategy(3, RoundingStrategy::MidpointAwayFromZero)
                .max(Decimal::new(1, 3));
            Item {
                position: i32::try_from(i).unwrap_or(i32::MAX),
                description: format!("{label} ({} h)", crate::time_tracking::money::hours(minutes)),
                quantity: hours.normalize(),
                unit_price: rate,
                amount: amounts::line_amount(hours, rate),
                tax_id: None,
                tax_name: None,
                tax_rate: None,
            }
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct SourceQuery {
    #[serde(default)]
    project_id: String,
    #[serde(default)]
    client_id: String,
}

impl SourceQuery {
    fn source(&self) -> Result<Source, AppError> {
        if let Ok(p) = self.project_id.trim().parse() {
            return Ok(Source::Project(p));
        }
        if let Ok(c) = self.client_id.trim().parse() {
            return Ok(Source::Client(c));
        }
        Err(AppError::BadRequest("Choose the project or client whose time to invoice.".into()))
    }
}

#[derive(Template)]
#[template(path = "money/from_time.html")]
struct FromTimePage {
    layout: Layout,
    source_name: String,
    source_field: &'static str,
    source_id: String,
    back: String,
    entries: Vec<UnbilledEntry>,
    has_client: bool,
}

/// The name of the source, and whether its time has a client to bill; 404 if not the org's.
fn source_name(conn: &mut PgConnection, source: Source) -> Result<(String, Option<ClientId>), AppError> {
    use crate::db::schema::{clients, projects};
    match source {
        Source::Project(p) => projects::table
            .find(p)
            .select((projects::title, projects::client_id))
            .first::<(String, Option<uuid::Uuid>)>(conn)
            .optional()?
            .map(|(t, c)| (t, c.map(ClientId)))
            .ok_or(AppError::NotFound),
        Source::Client(c) => clients::table
            .find(c)
            .select(clients::name)
            .first::<String>(conn)
            .optional()?
            .map(|n| (n, Some(c)))
            .ok_or(AppError::NotFound),
    }
}

/// GET /invoices/from-time?project_id=… or ?client_id=…
pub async fn from_time_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<SourceQuery>,
) -> Result<HttpResponse, AppError> {
    let source = query.source()?;
    let (name, client, entries) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let (name, client) = source_name(conn, source)?;
        Ok((name, client, unbilled(conn, source)?))
    })
    .await?;
    let (source_field, source_id, back) = match source {
        Source::Project(p) => ("project_id", p.to_string(), format!("/projects/{p}")),
        Source::Client(c) => ("client_id", c.to_string(), format!("/clients/{c}")),
    };
    let page = FromTimePage {
        layout: Layout::member(&req, &ctx, format!("Invoice time of {name}"), "/invoices"),
        source_name: name,
        source_field,
        source_id,
        back,
        entries,
        has_client: client.is_some(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize, Default)]
pub struct FromTimeForm {
    #[serde(default)]
    project_id: String,
    #[serde(default)]
    client_id: String,
    #[serde(default, alias = "time_entry_ids[]")]
    time_entry_ids: Vec<String>,
}

/// POST /invoices/from-time — a draft with the chosen entries, which it reserves: no
/// other invoice takes them, deleting the draft releases them, issuing bills them.
pub async fn from_time(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    Form(form): Form<FromTimeForm, 262_144>,
) -> Result<HttpResponse, AppError> {
    let source = SourceQuery { project_id: form.project_id.clone(), client_id: form.client_id.clone() }.source()?;
    let chosen: Vec<TimeEntryId> = form.time_entry_ids.iter().filter_map(|s| s.trim().parse().ok()).collect();
    let back = match source {
        Source::Project(p) => format!("/invoices/from-time?project_id={p}"),
        Source::Client(c) => format!("/invoices/from-time?client_id={c}"),
    };
    let tenant = ctx.tenant();
    let currency = ctx.currency.clone();
    let outcome = db::tenant_tx(&state.pool, tenant, move |conn| {
        let (_, client) = source_name(conn, source)?;
        let Some(client) = client else {
            return Ok(Err("This project has no client. Choose its client on the project first.".to_string()));
        };
        if chosen.is_empty() {
            return Ok(Err("Choose at least one time entry.".to_string()));
        }
        // Locked, so two drafts cannot take the same time.
        crate::db::sql_query("SELECT id FROM time_entries WHERE org_id = app_org_id() AND id = ANY($1) FOR UPDATE")
            .bind::<Array<SqlUuid>, _>(&chosen)
            .execute(conn)?;
        let entries: Vec<UnbilledEntry> =
            unbilled(conn, source)?.into_iter().filter(|e| chosen.contains(&e.id)).collect();
        if entries.len() != chosen.len() {
            return Ok(Err(
                "Some of the chosen time is billed already or is not this client's. The list has been refreshed."
                    .to_string(),
            ));
        }
        let issuer = super::Issuer::load(conn)?;
        let today = document::today();
        let items = lines_for(&entries, matches!(source, Source::Client(_)));
        if items.len() > super::editor::MAX_LINES {
            return Ok(Err(format!(
                "That time makes {} lines; an invoice has at most {}. Choose fewer entries.",
                items.len(),
                super::editor::MAX_LINES
            )));
        }
        let header = DraftHeader {
            client_id: client,
            project_id: match source {
                Source::Project(p) => Some(p),
                Source::Client(_) => None,
            },
            issue_date: today,
            end_date: today + chrono::Duration::days(i64::from(issuer.payment_terms_days)),
            currency,
            notes: String::new(),
            terms: String::new(),
        };
        let id = uuid::Uuid::now_v7();
        document::insert_draft(conn, KIND, id, tenant.user_id, &header, &items)?;
        crate::db::sql_query(
            "UPDATE time_entries SET invoice_id = $2, updated_at = now() WHERE org_id = app_org_id() AND id = ANY($1)",
        )
        .bind::<Array<SqlUuid>, _>(&chosen)
        .bind::<SqlUuid, _>(id)
        .execute(conn)?;
        let minutes: i64 = entries.iter().map(|e| i64::from(e.minutes)).sum();
        audit_document(
            conn,
            &meta,
            &tenant,
            KIND,
            "created_from_time",
            id,
            serde_json::json!({ "time_entries": entries.len(), "minutes": minutes, "lines": items.len() }),
        )?;
        Ok(Ok(id))
    })
    .await?;
    Ok(match outcome {
        Ok(id) => redirect_with(
            &req,
            &format!("/invoices/{id}"),
            Flash::success(
                "A draft invoice has been made from the time. Its entries are reserved for it until it is deleted.",
            ),
        ),
        Err(refusal) => redirect_with(&req, &back, Flash::error(refusal)),
    })
}

/// How much unbilled billable time a project has, for the link on its page.
pub fn unbilled_minutes(conn: &mut PgConnection, source: Source) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Sum {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let (condition, id) = match source {
        Source::Project(p) => ("p.id = $1", p.0),
        Source::Client(c) => ("p.client_id = $1", c.0),
    };
    let sum: Sum = crate::db::sql_query(format!(
        "SELECT coalesce(sum(e.minutes), 0)::bigint AS n FROM time_entries e
         JOIN tasks t ON t.org_id = e.org_id AND t.id = e.task_id
         JOIN projects p ON p.org_id = t.org_id AND p.id = t.project_id
         WHERE e.org_id = app_org_id() AND {condition} AND e.billable AND e.invoice_id IS NULL AND e.minutes IS NOT NULL"
    ))
    .bind::<SqlUuid, _>(id)
    .get_result(conn)?;
    Ok(sum.n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(task: u128, minutes: i32, rate: &str) -> UnbilledEntry {
        UnbilledEntry {
            id: TimeEntryId::new(),
            task_id: uuid::Uuid::from_u128(task),
            task_title: format!("Task {task}"),
            project_title: "Shop".into(),
            client_id: None,
            person: "Ana".into(),
            entry_date: "2026-11-02".parse().unwrap(),
            minutes,
            rate: rate.parse().unwrap(),
            note: String::new(),
        }
    }

    #[test]
    fn time_becomes_one_line_per_task_and_rate() {
        let lines =
            lines_for(&[entry(1, 90, "80"), entry(1, 30, "80"), entry(2, 20, "100"), entry(1, 60, "120")], false);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].description, "Task 1 (2.00 h)");
        assert_eq!(lines[0].quantity, Decimal::from(2));
        assert_eq!(lines[0].amount, Decimal::from(160));
        // 20 minutes are 0.333 hours: the line is hours × rate, as every line is.
        assert_eq!(lines[1].quantity, "0.333".parse().unwrap());
        assert_eq!(lines[1].amount, "33.30".parse().unwrap());
        assert_eq!(lines[2].unit_price, Decimal::from(120));
    }
}
