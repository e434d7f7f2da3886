//! The lists of invoices and quotations: filters (status, client, issue dates; overdue
//! and expired from the dates), keyset pages, totals per currency of everything the
//! filters match, and the same rows as CSV for accountants.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Numeric, Text, Uuid as SqlUuid};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::amounts;
use super::document::{self, DocKind};
use crate::audit::page::csv_cell;
use crate::db;
use crate::db::ids::ClientId;
use crate::state::AppState;
use crate::team::Permission;
use crate::web::auth::OrgContext;
use crate::web::choices::{self, Choices};
use crate::web::error::url_encode;
use crate::web::fields;
use crate::web::layout::Layout;
use crate::web::{AppError, Arg, render};

const PAGE_SIZE: i64 = 50;
const CSV_MAX_ROWS: i64 = 100_000;

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub after: String,
}

/// The query, read: unknown statuses and malformed ids are ignored, bad dates say so.
#[derive(Debug, Clone, Default)]
struct Filter {
    status: Option<&'static str>,
    client: Option<ClientId>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    after: Option<uuid::Uuid>,
    problem: Option<&'static str>,
}

fn parse(kind: DocKind, q: &ListQuery) -> Filter {
    let date = |raw: &str| -> Result<Option<NaiveDate>, &'static str> {
        if raw.trim().is_empty() { Ok(None) } else { fields::parse_date(raw).map(Some) }
    };
    let (from, to) = (date(&q.from), date(&q.to));
    Filter {
        status: kind.statuses().iter().map(|(k, _)| *k).find(|k| *k == q.status),
        client: q.client_id.parse().ok(),
        problem: from.err().or(to.err()),
        from: from.ok().flatten(),
        to: to.ok().flatten(),
        after: q.after.parse().ok(),
    }
}

/// WHERE conditions (constants) and their values, in bind order.
enum Value {
    Text(&'static str),
    Client(ClientId),
    Date(NaiveDate),
    Id(uuid::Uuid),
}

fn conditions(kind: DocKind, f: &Filter, today: NaiveDate) -> (String, Vec<Value>) {
    let end = kind.end_date_column();
    let mut sql = String::from("d.org_id = app_org_id()");
    let mut values = Vec::new();
    let mut add = |cond: String, value: Option<Value>| {
        sql.push_str(" AND ");
        sql.push_str(&cond);
        values.extend(value);
    };
    match (kind, f.status) {
        (DocKind::Invoice, Some("overdue")) => {
            add(format!("d.status IN ('sent', 'partially_paid') AND d.{end} < $N"), Some(Value::Date(today)));
        }
        (DocKind::Quotation, Some("expired")) => {
            add(format!("(d.status = 'expired' OR (d.status = 'sent' AND d.{end} < $N))"), Some(Value::Date(today)));
        }
        (DocKind::Quotation, Some("sent")) => {
            add(format!("d.status = 'sent' AND d.{end} >= $N"), Some(Value::Date(today)));
        }
        (_, Some(status)) => add("d.status = $N".into(), Some(Value::Text(status))),
        (_, None) => {}
    }
    if let Some(c) = f.client {
        add("d.client_id = $N".into(), Some(Value::Client(c)));
    }
    if let Some(d) = f.from {
        add("d.issue_date >= $N".into(), Some(Value::Date(d)));
    }
    if let Some(d) = f.to {
        add("d.issue_date <= $N".into(), Some(Value::Date(d)));
    }
    // Number the placeholders in order.
    let mut numbered = String::with_capacity(sql.len());
    for (n, part) in sql.split("$N").enumerate() {
        if n > 0 {
            numbered.push_str(&format!("${n}"));
        }
        numbered.push_str(part);
    }
    (numbered, values)
}

fn bind_all<'a>(mut q: crate::db::prepared::Sql<'a>, values: Vec<Value>) -> crate::db::prepared::Sql<'a> {
    for v in values {
        q = match v {
            Value::Text(s) => q.bind::<Text, _>(s),
            Value::Client(c) => q.bind::<SqlUuid, _>(c),
            Value::Date(d) => q.bind::<Date, _>(d),
            Value::Id(id) => q.bind::<SqlUuid, _>(id),
        };
    }
    q
}

#[derive(QueryableByName, Debug, Clone)]
pub struct Row {
    #[diesel(sql_type = SqlUuid)]
    pub id: uuid::Uuid,
    #[diesel(sql_type = Nullable<Text>)]
    pub number: Option<String>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub client_name: String,
    #[diesel(sql_type = Date)]
    pub issue_date: NaiveDate,
    #[diesel(sql_type = Date)]
    pub end_date: NaiveDate,
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = Numeric)]
    pub subtotal: Decimal,
    #[diesel(sql_type = Numeric)]
    pub tax_total: Decimal,
    #[diesel(sql_type = Numeric)]
    pub total: Decimal,
    #[diesel(sql_type = Numeric)]
    pub amount_paid: Decimal,
}

impl Row {
    pub fn balance(&self) -> Decimal {
        if self.status == "void" || self.status == "draft" { Decimal::ZERO } else { self.total - self.amount_paid }
    }
}

fn rows(conn: &mut PgConnection, kind: DocKind, f: &Filter, today: NaiveDate, limit: i64) -> QueryResult<Vec<Row>> {
    let (mut condition, mut values) = conditions(kind, f, today);
    if let Some(after) = f.after {
        condition.push_str(&format!(" AND d.id < ${}", values.len() + 1));
        values.push(Value::Id(after));
    }
    let paid = if kind == DocKind::Invoice { "d.amount_paid" } else { "0::numeric" };
    // The page of documents first, by their own index, then their clients' names: joined
    // first, the planner walked every client's documents to sort them (100 ms at 50k).
    let sql = format!(
        "SELECT d.id, d.number, d.status, c.name AS client_name, d.issue_date, d.{} AS end_date, d.currency,
                d.subtotal, d.tax_total, d.total, {paid} AS amount_paid
         FROM (SELECT * FROM {} d WHERE {condition} ORDER BY d.id DESC LIMIT {limit}) d
         JOIN clients c ON c.org_id = d.org_id AND c.id = d.client_id
         ORDER BY d.id DESC",
        kind.end_date_column(),
        kind.table()
    );
    bind_all(crate::db::sql_query(sql), values).load(conn)
}

#[derive(QueryableByName, Debug, Clone)]
pub struct CurrencyTotal {
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
    #[diesel(sql_type = Numeric)]
    pub total: Decimal,
    #[diesel(sql_type = Numeric)]
    pub outstanding: Decimal,
}

/// Sums of everything the filters match, per currency. Drafts and void invoices are
/// not money owed: they count in the number but not in the outstanding amount.
fn totals(conn: &mut PgConnection, kind: DocKind, f: &Filter, today: NaiveDate) -> QueryResult<Vec<CurrencyTotal>> {
    // Narrowed by nothing but a status (not one that depends on today), invoices' sums
    // are read from the tallies the database keeps (migration 14).
    let by_status_only = f.client.is_none() && f.from.is_none() && f.to.is_none() && f.status != Some("overdue");
    if kind == DocKind::Invoice && by_status_only {
        return crate::db::sql_query(
            "SELECT currency, sum(invoices)::bigint AS count,
                    coalesce(sum(total) FILTER (WHERE status <> 'void'), 0) AS total,
                    coalesce(sum(owed) FILTER (WHERE status IN ('sent', 'partially_paid')), 0) AS outstanding
             FROM invoice_tallies WHERE status = coalesce($1, status)
             GROUP BY currency HAVING sum(invoices) > 0 ORDER BY currency",
        )
        .bind::<diesel::sql_types::Nullable<Text>, _>(f.status)
        .load(conn);
    }
    let (condition, values) = conditions(kind, f, today);
    let outstanding = match kind {
        DocKind::Invoice => {
            "coalesce(sum(d.total - d.amount_paid) FILTER (WHERE d.status IN ('sent', 'partially_paid')), 0)"
        }
        DocKind::Quotation => "0::numeric",
    };
    let sql = format!(
        "SELECT d.currency, count(*) AS count,
                coalesce(sum(d.total) FILTER (WHERE d.status <> 'void'), 0) AS total, {outstanding} AS outstanding
         FROM {} d WHERE {condition} GROUP BY d.currency ORDER BY d.currency",
        kind.table()
    );
    bind_all(crate::db::sql_query(sql), values).load(conn)
}

#[derive(Template)]
#[template(path = "money/index.html")]
struct IndexPage {
    layout: Layout,
    kind: DocKind,
    query: ListQuery,
    rows: Vec<Row>,
    totals: Vec<CurrencyTotal>,
    clients: Choices,
    problem: Option<&'static str>,
    next: Option<String>,
    can_manage: bool,
    can_export: bool,
    today: NaiveDate,
}

impl IndexPage {
    fn shown_status(&self, row: &Row) -> &'static str {
        document::shown_status(self.kind, &row.status, row.end_date, row.balance(), self.today)
    }

    fn status_label(&self, row: &Row) -> &'static str {
        document::status_label(self.kind, self.shown_status(row))
    }

    fn money(&self, value: impl Arg<Decimal>, currency: &str) -> String {
        amounts::with_currency(value.value(), currency)
    }

    fn filters_query(&self) -> String {
        format!(
            "status={}&client_id={}&from={}&to={}",
            url_encode(&self.query.status),
            url_encode(&self.query.client_id),
            url_encode(&self.query.from),
            url_encode(&self.query.to)
        )
    }

    fn is_filtered(&self) -> bool {
        !(self.query.status.is_empty()
            && self.query.client_id.is_empty()
            && self.query.from.is_empty()
            && self.query.to.is_empty())
    }
}

/// GET /invoices, /quotations
pub async fn index(
    kind: DocKind,
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let filter = parse(kind, &query);
    let today = document::today();
    let f = filter.clone();
    let (mut rows, totals, clients) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let rows = rows(conn, kind, &f, today, PAGE_SIZE + 1)?;
        let totals = totals(conn, kind, &f, today)?;
        let clients = choices::clients(conn, f.client.map(|c| c.0))?;
        Ok((rows, totals, clients))
    })
    .await?;
    let next = if rows.len() as i64 > PAGE_SIZE {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|r| r.id.to_string())
    } else {
        None
    };
    let (manage, _) = permissions(kind);
    let page = IndexPage {
        layout: Layout::member(&req, &ctx, kind.plural_title(), kind.base_path()),
        kind,
        query,
        rows,
        totals,
        clients,
        problem: filter.problem,
        next,
        can_manage: ctx.can(manage),
        can_export: ctx.can(Permission::ExportData),
        today,
    };
    render(if filter.problem.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK }, &page)
}

fn permissions(kind: DocKind) -> (Permission, Permission) {
    match kind {
        DocKind::Invoice => (Permission::ManageInvoices, Permission::ViewInvoices),
        DocKind::Quotation => (Permission::ManageQuotations, Permission::ViewQuotations),
    }
}

/// GET /invoices.csv, /quotations.csv — the filtered documents, figures as on the page.
pub async fn csv(
    kind: DocKind,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    // Exporting needs export_data (the route's policy) and reading the documents.
    ctx.require(permissions(kind).1)?;
    let mut filter = parse(kind, &query);
    if let Some(problem) = filter.problem {
        return Err(AppError::BadRequest(problem.to_string()));
    }
    filter.after = None;
    let today = document::today();
    let rows =
        db::tenant_tx(&state.pool, ctx.tenant(), move |conn| Ok(rows(conn, kind, &filter, today, CSV_MAX_ROWS)?))
            .await?;
    let mut out = format!(
        "number,status,client,issue_date,{},currency,subtotal,tax,total,paid,balance\r\n",
        kind.end_date_column()
    );
    for r in &rows {
        let status = document::shown_status(kind, &r.status, r.end_date, r.balance(), today);
        let cells = [
            csv_cell(r.number.as_deref().unwrap_or("")),
            csv_cell(status),
            csv_cell(&r.client_name),
            csv_cell(&r.issue_date.to_string()),
            csv_cell(&r.end_date.to_string()),
            csv_cell(&r.currency),
            csv_cell(&amounts::money(r.subtotal)),
            csv_cell(&amounts::money(r.tax_total)),
            csv_cell(&amounts::money(r.total)),
            csv_cell(&amounts::money(r.amount_paid)),
            csv_cell(&amounts::money(r.balance())),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    Ok(crate::audit::page::csv_download(&format!("{}-{today}.csv", kind.plural_title().to_lowercase()), out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_the_order_values_are_bound() {
        let f = parse(
            DocKind::Invoice,
            &ListQuery {
                status: "overdue".into(),
                client_id: "0193a0c4-0000-7000-8000-000000000001".into(),
                from: "2026-01-01".into(),
                ..Default::default()
            },
        );
        let (sql, values) = conditions(DocKind::Invoice, &f, "2026-11-21".parse().unwrap());
        assert_eq!(values.len(), 3);
        assert!(sql.contains("d.due_date < $1"), "{sql}");
        assert!(sql.contains("d.client_id = $2"), "{sql}");
        assert!(sql.contains("d.issue_date >= $3"), "{sql}");
    }

    #[test]
    fn unknown_statuses_are_ignored_and_bad_dates_reported() {
        let f = parse(
            DocKind::Quotation,
            &ListQuery { status: "paid".into(), to: "2026-13-01".into(), ..Default::default() },
        );
        assert_eq!(f.status, None);
        assert!(f.problem.is_some());
    }
}
