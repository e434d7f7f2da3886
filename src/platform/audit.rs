//! The platform audit log: what the platform team did and which cross-tenant pages
//! they opened, with filters and a CSV export.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};

use super::{PlatformStaff, cross_tenant_tx};
use crate::audit::page::{CSV_MAX_ROWS, Filter, PAGE_SIZE, Parsed, csv_cell, csv_download};
use crate::db::ids::{AuditLogId, UserId};
use crate::db::schema::platform_audit_logs;
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, render};

/// One thing the platform team did or looked at.
pub struct PlatformEvent<'a> {
    pub action: &'a str,
    pub target: Option<(&'a str, uuid::Uuid)>,
    /// A sentence for people: "Suspended Northwind Studio".
    pub summary: String,
    pub metadata: serde_json::Value,
}

impl<'a> PlatformEvent<'a> {
    pub fn new(action: &'a str, summary: impl Into<String>) -> Self {
        PlatformEvent { action, target: None, summary: summary.into(), metadata: serde_json::json!({}) }
    }

    pub fn target(mut self, kind: &'a str, id: uuid::Uuid) -> Self {
        self.target = Some((kind, id));
        self
    }

    pub fn metadata(mut self, metadata: serde_json::Value) -> Self {
        self.metadata = metadata;
        self
    }
}

/// Writes the event in the caller's transaction. `actor` is None for the command line.
pub fn record(
    conn: &mut PgConnection,
    actor: Option<UserId>,
    meta: &RequestMeta,
    event: PlatformEvent<'_>,
) -> QueryResult<()> {
    diesel::insert_into(platform_audit_logs::table)
        .values((
            platform_audit_logs::id.eq(AuditLogId::new()),
            platform_audit_logs::actor_id.eq(actor),
            platform_audit_logs::action.eq(event.action),
            platform_audit_logs::target_type.eq(event.target.map(|t| t.0)),
            platform_audit_logs::target_id.eq(event.target.map(|t| t.1)),
            platform_audit_logs::summary.eq(&event.summary),
            platform_audit_logs::ip.eq(meta.ip.as_deref()),
            platform_audit_logs::user_agent.eq(meta.user_agent.as_deref()),
            platform_audit_logs::metadata.eq(&event.metadata),
        ))
        .execute(conn)
        .map(|_| ())
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
    pub target_type: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub target_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Text)]
    pub summary: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub ip: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub user_agent: Option<String>,
}

impl Entry {
    pub fn when(&self) -> String {
        self.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    }

    pub fn cursor(&self) -> String {
        format!("{}_{}", self.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true), self.id)
    }
}

pub fn search(conn: &mut PgConnection, f: &Parsed, limit: i64) -> QueryResult<Vec<Entry>> {
    let (before_ts, before_id) = f.before.map(|(t, i)| (Some(t), Some(i))).unwrap_or((None, None));
    crate::db::sql_query(
        "SELECT a.id, a.created_at, a.action, u.name AS actor, u.email AS actor_email, a.target_type, a.target_id,
                a.summary, a.ip, a.user_agent
         FROM platform_audit_logs a LEFT JOIN users u ON u.id = a.actor_id
         WHERE ($1::timestamptz IS NULL OR a.created_at >= $1)
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
    .bind::<BigInt, _>(limit)
    .load(conn)
}

#[derive(QueryableByName)]
struct ActionName {
    #[diesel(sql_type = Text)]
    action: String,
}

#[derive(Template)]
#[template(path = "platform/audit.html")]
struct AuditPage {
    layout: Layout,
    entries: Vec<Entry>,
    filter: Filter,
    actions: Vec<String>,
    actors: Vec<crate::audit::page::ActorChoice>,
    problems: Vec<&'static str>,
    next: Option<String>,
}

/// GET /platform/audit-logs — the log itself is not logged as a view: reading it
/// would bury what it records.
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: PlatformStaff,
    query: web::Query<Filter>,
) -> Result<HttpResponse, AppError> {
    let filter = query.into_inner();
    let parsed = filter.parse();
    let problems = parsed.problems.clone();
    let (mut entries, actions, actors) = cross_tenant_tx(&state.pool, &staff, move |conn| {
        let entries = if parsed.problems.is_empty() { search(conn, &parsed, PAGE_SIZE + 1)? } else { Vec::new() };
        let actions: Vec<ActionName> =
            crate::db::sql_query("SELECT DISTINCT action FROM platform_audit_logs ORDER BY action").load(conn)?;
        let actors = crate::db::sql_query(
            "SELECT u.id, u.name FROM users u
             WHERE u.id IN (SELECT DISTINCT actor_id FROM platform_audit_logs WHERE actor_id IS NOT NULL)
             ORDER BY lower(u.name)",
        )
        .load(conn)?;
        Ok((entries, actions.into_iter().map(|a| a.action).collect(), actors))
    })
    .await?;
    let next = (entries.len() as i64 > PAGE_SIZE).then(|| {
        entries.truncate(PAGE_SIZE as usize);
        filter.next_page("/platform/audit-logs", &entries.last().map(Entry::cursor).unwrap_or_default())
    });
    let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let page = AuditPage {
        layout: Layout::platform(&req, &staff.user, "Platform audit log", "/platform/audit-logs"),
        entries,
        filter,
        actions,
        actors,
        problems,
        next,
    };
    render(status, &page)
}

/// GET /platform/audit-logs.csv — the filtered entries; the export itself is logged.
pub async fn csv(
    state: web::Data<AppState>,
    staff: PlatformStaff,
    meta: RequestMeta,
    query: web::Query<Filter>,
) -> Result<HttpResponse, AppError> {
    let parsed = query.parse();
    if let Some(problem) = parsed.problems.first() {
        return Err(AppError::BadRequest(problem.to_string()));
    }
    let actor = staff.id();
    let entries = cross_tenant_tx(&state.pool, &staff, move |conn| {
        let entries = search(conn, &parsed, CSV_MAX_ROWS)?;
        record(
            conn,
            Some(actor),
            &meta,
            PlatformEvent::new("platform.audit_exported", format!("Exported {} audit log entries", entries.len())),
        )?;
        Ok(entries)
    })
    .await?;
    let mut out = String::from("time,action,actor,actor_email,target_type,target_id,summary,ip,user_agent\r\n");
    for e in &entries {
        let cells = [
            e.created_at.to_rfc3339(),
            e.action.clone(),
            e.actor.clone().unwrap_or_default(),
            e.actor_email.clone().unwrap_or_default(),
            e.target_type.clone().unwrap_or_default(),
            e.target_id.map(|i| i.to_string()).unwrap_or_default(),
            e.summary.clone(),
            e.ip.clone().unwrap_or_default(),
            e.user_agent.clone().unwrap_or_default(),
        ];
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    Ok(csv_download(&format!("platform-audit-log-{}.csv", Utc::now().format("%Y-%m-%d")), out))
}
