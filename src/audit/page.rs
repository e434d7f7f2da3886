//! The audit log page (filters by date range, action and actor, newest first, pages of
//! 50 by keyset) and its CSV export, whose cells are guarded against spreadsheet
//! formula injection.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Deserialize;

use crate::db::ids::{AuditLogId, UserId};
use crate::db::{self};
use crate::state::AppState;
use crate::web::auth::OrgContext;
use crate::web::layout::Layout;
use crate::web::{AppError, render};

pub const PAGE_SIZE: i64 = 50;
pub const CSV_MAX_ROWS: i64 = 100_000;

#[derive(Deserialize, Default, Clone)]
pub struct Filter {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub actor: String,
    /// Keyset cursor: entries older than this one.
    #[serde(default)]
    pub before: String,
}

/// The filter as typed values; unparsable parts are reported, not guessed.
pub struct Parsed {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub action: Option<String>,
    pub actor: Option<UserId>,
    pub before: Option<(DateTime<Utc>, AuditLogId)>,
    pub problems: Vec<&'static str>,
}

fn parse_date(raw: &str) -> Result<Option<NaiveDate>, ()> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map(Some).map_err(|_| ())
}

impl Filter {
    pub fn parse(&self) -> Parsed {
        let mut problems = Vec::new();
        let from = parse_date(&self.from).unwrap_or_else(|_| {
            problems.push("The start date is not a date (use YYYY-MM-DD).");
            None
        });
        let to = parse_date(&self.to).unwrap_or_else(|_| {
            problems.push("The end date is not a date (use YYYY-MM-DD).");
            None
        });
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            problems.push("The start date is after the end date.");
        }
        let actor = match self.actor.trim() {
            "" => None,
            raw => raw.parse().ok().or_else(|| {
                problems.push("Choose someone from the list.");
                None
            }),
        };
        let before = self.before.split_once('_').and_then(|(ts, id)| {
            let ts = DateTime::parse_from_rfc3339(ts).ok()?.with_timezone(&Utc);
            Some((ts, id.parse().ok()?))
        });
        Parsed {
            from: from.and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc()),
            // The end date is inclusive: up to the start of the next day.
            to: to.and_then(|d| d.succ_opt()).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc()),
            action: Some(self.action.trim().to_string()).filter(|a| !a.is_empty()),
            actor,
            before,
            problems,
        }
    }

    /// The link to the next page after `cursor`, keeping the filter.
    pub fn next_page(&self, base: &str, cursor: &str) -> String {
        let cursor = crate::web::error::url_encode(cursor);
        match self.query().as_str() {
            "" => format!("{base}?before={cursor}"),
            q => format!("{base}?{q}&before={cursor}"),
        }
    }

    /// The query string of this filter (without the cursor), for links.
    pub fn query(&self) -> String {
        let pairs = [("from", &self.from), ("to", &self.to), ("action", &self.action), ("actor", &self.actor)];
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", crate::web::error::url_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

#[derive(QueryableByName, Debug)]
pub struct Entry {
    #[diesel(sql_type = SqlUuid)]
    pub id: AuditLogId,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub actor: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub actor_email: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub entity_type: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub entity_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub ip: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub user_agent: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    pub metadata: serde_json::Value,
}

impl Entry {
    pub fn when(&self) -> String {
        self.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    }

    pub fn details(&self) -> String {
        match &self.metadata {
            serde_json::Value::Object(map) if !map.is_empty() => map
                .iter()
                .map(|(k, v)| format!("{k}: {}", v.to_string().trim_matches('"')))
                .collect::<Vec<_>>()
                .join(", "),
            _ => String::new(),
        }
    }

    pub fn cursor(&self) -> String {
        format!("{}_{}", self.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true), self.id)
    }
}

/// Entries matching the filter, newest first (RLS keeps them to the tenant).
fn search(conn: &mut PgConnection, f: &Parsed, limit: i64) -> QueryResult<Vec<Entry>> {
    let (before_ts, before_id) = f.before.map(|(t, i)| (Some(t), Some(i))).unwrap_or((None, None));
    crate::db::sql_query(
        "SELECT a.id, a.created_at, a.action, u.name AS actor, u.email AS actor_email, a.entity_type, a.entity_id,
                a.ip, a.user_agent, a.metadata
         FROM audit_logs a LEFT JOIN users u ON u.id = a.actor_id
         WHERE a.org_id = app_org_id()
           AND ($1::timestamptz IS NULL OR a.created_at >= $1)
           AND ($2::timestamptz IS NULL OR a.created_at < $2)
           AND ($3::text IS NULL OR a.action = $3)
           AND ($4::uuid IS NULL OR a.actor_id = $4)
           AND ($5::timestamptz IS NULL OR (a.created_at, a.id) < ($5, $6))
         ORDER BY a.created_at DESC, a.id DESC
         LIMIT $7",
    )
    .bind::<Nullable<Timestamptz>, _>(f.from)
    .bind::<Nullable<Timestamptz>, _>(f.to)
    .bind::<Nullable<Text>, _>(f.action.clone())
    .bind::<Nullable<SqlUuid>, _>(f.actor)
    .bind::<Nullable<Timestamptz>, _>(before_ts)
    .bind::<Nullable<SqlUuid>, _>(before_id)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)
}

#[derive(QueryableByName)]
struct ActionName {
    #[diesel(sql_type = Text)]
    action: String,
}

#[derive(QueryableByName)]
pub struct ActorChoice {
    #[diesel(sql_type = SqlUuid)]
    pub id: UserId,
    #[diesel(sql_type = Text)]
    pub name: String,
}

#[derive(Template)]
#[template(path = "audit/index.html")]
struct AuditPage {
    layout: Layout,
    entries: Vec<Entry>,
    filter: Filter,
    actions: Vec<String>,
    actors: Vec<ActorChoice>,
    problems: Vec<&'static str>,
    next: Option<String>,
    can_export: bool,
}

/// GET /audit-logs
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<Filter>,
) -> Result<HttpResponse, AppError> {
    let filter = query.into_inner();
    let parsed = filter.parse();
    let problems = parsed.problems.clone();
    let (mut entries, actions, actors) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let entries = if parsed.problems.is_empty() { search(conn, &parsed, PAGE_SIZE + 1)? } else { Vec::new() };
        let actions: Vec<ActionName> =
            crate::db::sql_query("SELECT DISTINCT action FROM audit_logs WHERE org_id = app_org_id() ORDER BY action").load(conn)?;
        let actors: Vec<ActorChoice> = crate::db::sql_query(
            "SELECT u.id, u.name FROM users u JOIN memberships m ON m.user_id = u.id AND m.org_id = app_org_id() ORDER BY lower(u.name)",
        )
        .load(conn)?;
        Ok((entries, actions.into_iter().map(|a| a.action).collect(), actors))
    })
    .await?;
    let next = (entries.len() as i64 > PAGE_SIZE).then(|| {
        entries.truncate(PAGE_SIZE as usize);
        filter.next_page("/audit-logs", &entries.last().map(Entry::cursor).unwrap_or_default())
    });
    let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let page = AuditPage {
        layout: Layout::member(&req, &ctx, "Audit log", "/audit-logs"),
        entries,
        filter,
        actions,
        actors,
        problems,
        next,
        can_export: ctx.can(crate::team::Permission::ExportData),
    };
    render(status, &page)
}

/// A CSV cell: quoted, and never read as a formula by a spreadsheet.
pub fn csv_cell(value: &str) -> String {
    let guarded =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_string() };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

/// GET /audit-logs.csv — the filtered entries (up to 100,000) as CSV.
pub async fn csv(
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<Filter>,
) -> Result<HttpResponse, AppError> {
    // Exporting needs export_data (the route's policy) and reading the log as well.
    ctx.require(crate::team::Permission::ViewAuditLogs)?;
    let parsed = query.parse();
    if let Some(problem) = parsed.problems.first() {
        return Err(AppError::BadRequest(problem.to_string()));
    }
    let entries =
        db::tenant_tx(&state.pool, ctx.tenant(), move |conn| Ok(search(conn, &parsed, CSV_MAX_ROWS)?)).await?;
    let mut out = String::from("time,action,actor,actor_email,entity_type,entity_id,ip,user_agent,details\r\n");
    for e in &entries {
        let cells = [
            e.created_at.to_rfc3339(),
            e.action.clone(),
            e.actor.clone().unwrap_or_default(),
            e.actor_email.clone().unwrap_or_default(),
            e.entity_type.clone().unwrap_or_default(),
            e.entity_id.map(|i| i.to_string()).unwrap_or_default(),
            e.ip.clone().unwrap_or_default(),
            e.user_agent.clone().unwrap_or_default(),
            e.details(),
        ];
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    Ok(csv_download(&format!("audit-log-{}.csv", Utc::now().format("%Y-%m-%d")), out))
}

/// A CSV file download.
pub fn csv_download(filename: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")))
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("plain"), "\"plain\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "\"'+1\"");
        assert_eq!(csv_cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(csv_cell("-2"), "\"'-2\"");
    }
}
