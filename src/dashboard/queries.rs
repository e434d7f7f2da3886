//! Dashboard figures. Tenant-scoped ones run in the tenant transaction. Clients,
//! projects per status, open tasks, what clients owe and payments per month come from
//! tallies the database keeps up to date with every change (migrations 11 and 12), not
//! from counting on every view.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Numeric, Text, Timestamptz};
use rust_decimal::Decimal;

#[derive(QueryableByName, Debug)]
pub struct ActivityRow {
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub actor: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

impl ActivityRow {
    /// "added a client" from "client.created", for people rather than machines.
    pub fn description(&self) -> String {
        let fixed = match self.action.as_str() {
            "org.created" => "created the organization",
            "member.role_changed" => "changed a member's role",
            "member.rate_changed" => "changed a member's hourly rate",
            "member.two_factor_reset" => "reset a member's two-factor sign-in",
            "member.left" => "left the organization",
            "settings.updated" => "changed the organization's settings",
            "settings.logo_updated" => "changed the logo",
            "settings.logo_removed" => "removed the logo",
            "time.deleted" => "deleted a time entry",
            "client.created" => "added a client",
            _ => "",
        };
        if !fixed.is_empty() {
            return fixed.to_string();
        }
        match self.action.split_once('.') {
            Some((entity, verb)) => {
                let entity = entity.replace('_', " ");
                let article = if entity.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
                format!("{} {article} {entity}", verb.replace('_', " "))
            }
            None => "did something".into(),
        }
    }

    pub fn when(&self) -> String {
        crate::web::time::ago(self.created_at)
    }
}

/// The latest changes to the organization's work (sign-ins stay in the audit log).
pub fn recent_activity(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<ActivityRow>> {
    crate::db::sql_query(
        "SELECT a.action, u.name AS actor, a.created_at
         FROM audit_logs a LEFT JOIN users u ON u.id = a.actor_id
         WHERE a.action NOT LIKE 'auth.%'
         ORDER BY a.created_at DESC LIMIT $1",
    )
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// The organization's work at a glance.
#[derive(QueryableByName, Debug, Default)]
pub struct Totals {
    #[diesel(sql_type = BigInt)]
    pub clients: i64,
    #[diesel(sql_type = BigInt)]
    pub active_projects: i64,
    #[diesel(sql_type = BigInt)]
    pub open_tasks: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue_tasks: i64,
    #[diesel(sql_type = BigInt)]
    pub taxes: i64,
    #[diesel(sql_type = BigInt)]
    pub invitations: i64,
    #[diesel(sql_type = BigInt)]
    pub staff: i64,
}

pub fn totals(conn: &mut PgConnection, today: NaiveDate) -> QueryResult<Totals> {
    crate::db::sql_query(
        "SELECT COALESCE((SELECT clients FROM client_tallies), 0) AS clients,
                COALESCE((SELECT projects FROM project_tallies WHERE status = 'active'), 0) AS active_projects,
                (SELECT COALESCE(sum(open), 0)::bigint FROM open_task_tallies) AS open_tasks,
                (SELECT COALESCE(sum(open) FILTER (WHERE due_date < $1), 0)::bigint FROM open_task_tallies)
                  AS overdue_tasks,
                (SELECT count(*) FROM taxes) AS taxes,
                (SELECT count(*) FROM invitations WHERE org_id = app_org_id()) AS invitations,
                (SELECT count(*) FROM memberships m JOIN roles r ON r.org_id = m.org_id AND r.id = m.role_id
                 WHERE r.key IS DISTINCT FROM 'client') AS staff",
    )
    .bind::<Date, _>(today)
    .get_result(conn)
}

/// What clients owe, per currency: all of it, and the part past its due date (from the
/// sums the database keeps per due date as invoices change).
#[derive(QueryableByName, Debug)]
pub struct Receivable {
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = Numeric)]
    pub outstanding: Decimal,
    #[diesel(sql_type = Numeric)]
    pub overdue: Decimal,
    #[diesel(sql_type = BigInt)]
    pub overdue_count: i64,
}

impl Receivable {
    pub fn outstanding_shown(&self) -> String {
        crate::money::amounts::with_currency(self.outstanding, &self.currency)
    }

    pub fn overdue_shown(&self) -> String {
        crate::money::amounts::with_currency(self.overdue, &self.currency)
    }
}

pub fn receivables(conn: &mut PgConnection, today: NaiveDate) -> QueryResult<Vec<Receivable>> {
    crate::db::sql_query(
        "SELECT currency, sum(outstanding) AS outstanding,
                COALESCE(sum(outstanding) FILTER (WHERE due_date < $1), 0) AS overdue,
                COALESCE(sum(invoices) FILTER (WHERE due_date < $1), 0)::bigint AS overdue_count
         FROM receivable_tallies
         GROUP BY currency HAVING sum(invoices) > 0 ORDER BY sum(outstanding) DESC",
    )
    .bind::<Date, _>(today)
    .load(conn)
}

#[derive(QueryableByName, Debug)]
pub struct StatusCount {
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = BigInt)]
    pub projects: i64,
    #[diesel(sql_type = BigInt)]
    pub total: i64,
}

impl StatusCount {
    pub fn label(&self) -> &'static str {
        crate::projects::status_label(&self.status)
    }
}

/// Projects per status, every status listed, in the board's order.
pub fn projects_by_status(conn: &mut PgConnection) -> QueryResult<Vec<StatusCount>> {
    crate::db::sql_query(
        "SELECT s.status, COALESCE(t.projects, 0) AS projects, COALESCE(sum(t.projects) OVER (), 0)::bigint AS total
         FROM unnest(ARRAY['planned', 'active', 'on_hold', 'completed', 'cancelled']) WITH ORDINALITY AS s(status, n)
         LEFT JOIN project_tallies t ON t.status = s.status
         ORDER BY s.n",
    )
    .load(conn)
}

#[derive(QueryableByName, Debug)]
pub struct MonthRevenue {
    #[diesel(sql_type = Date)]
    pub month: NaiveDate,
    #[diesel(sql_type = Numeric)]
    pub received: Decimal,
}

/// The currency the revenue chart is drawn in: the organization's own if it was paid
/// in it within the 12 months, else the one it was paid most in.
pub fn revenue_currency(conn: &mut PgConnection, default: &str, today: NaiveDate) -> QueryResult<String> {
    #[derive(QueryableByName)]
    struct Currency {
        #[diesel(sql_type = Text)]
        currency: String,
    }
    let top: Option<Currency> = crate::db::sql_query(
        "SELECT currency FROM payment_tallies WHERE month >= $2
         GROUP BY currency ORDER BY currency = $1 DESC, sum(received) DESC LIMIT 1",
    )
    .bind::<Text, _>(default)
    .bind::<Date, _>(chart_start(today))
    .get_result(conn)
    .optional()?;
    Ok(top.map(|c| c.currency).unwrap_or_else(|| default.to_string()))
}

/// Payments received per month in `currency`, for the 12 months up to `today`, from the
/// monthly sums the database keeps as payments are recorded.
pub fn monthly_revenue(conn: &mut PgConnection, currency: &str, today: NaiveDate) -> QueryResult<Vec<MonthRevenue>> {
    crate::db::sql_query(
        "SELECT m::date AS month, COALESCE(t.received, 0) AS received
         FROM generate_series($2::date, $2::date + interval '11 months', interval '1 month') AS m
         LEFT JOIN payment_tallies t ON t.month = m::date AND t.currency = $1
         ORDER BY m",
    )
    .bind::<Text, _>(currency)
    .bind::<Date, _>(chart_start(today))
    .load(conn)
}

/// The first day of the chart's first month: eleven months before this one.
fn chart_start(today: NaiveDate) -> NaiveDate {
    today.with_day(1).and_then(|first| first.checked_sub_months(chrono::Months::new(11))).unwrap_or(today)
}
