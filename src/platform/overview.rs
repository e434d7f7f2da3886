//! GET /platform: the platform at a glance.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::audit::Entry;
use super::{PlatformStaff, cross_tenant_tx};
use crate::state::AppState;
use crate::web::chart::{BarChart, Point, bar_chart};
use crate::web::layout::Layout;
use crate::web::{AppError, render};

#[derive(QueryableByName, Debug, Default)]
pub struct Stats {
    #[diesel(sql_type = BigInt)]
    pub organizations: i64,
    #[diesel(sql_type = BigInt)]
    pub suspended: i64,
    #[diesel(sql_type = BigInt)]
    pub new_organizations: i64,
    #[diesel(sql_type = BigInt)]
    pub users: i64,
    #[diesel(sql_type = BigInt)]
    pub active_users: i64,
    #[diesel(sql_type = BigInt)]
    pub invoices_issued: i64,
    #[diesel(sql_type = BigInt)]
    pub quotations_sent: i64,
    #[diesel(sql_type = BigInt)]
    pub documents_30_days: i64,
    #[diesel(sql_type = BigInt)]
    pub storage_bytes: i64,
    #[diesel(sql_type = BigInt)]
    pub files: i64,
    #[diesel(sql_type = BigInt)]
    pub support_waiting: i64,
}

#[derive(QueryableByName, Debug)]
pub struct PlanCount {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = BigInt)]
    pub organizations: i64,
}

#[derive(QueryableByName)]
struct Month {
    #[diesel(sql_type = Text)]
    label: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(Template)]
#[template(path = "platform/overview.html")]
struct OverviewPage {
    layout: Layout,
    stats: Stats,
    plans: Vec<PlanCount>,
    signups: BarChart,
    recent: Vec<Entry>,
}

impl OverviewPage {
    fn storage(&self) -> String {
        crate::plans::human_bytes(self.stats.storage_bytes)
    }
}

/// GET /platform
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: PlatformStaff,
) -> Result<HttpResponse, AppError> {
    let (stats, plans, months, recent) = cross_tenant_tx(&state.pool, &staff, |conn| {
        let stats: Stats = crate::db::sql_query(
            "SELECT (SELECT count(*) FROM organizations) AS organizations,
                    (SELECT count(*) FROM organizations WHERE status = 'suspended') AS suspended,
                    (SELECT count(*) FROM organizations WHERE created_at > now() - interval '30 days') AS new_organizations,
                    (SELECT count(*) FROM users) AS users,
                    (SELECT count(*) FROM users WHERE last_login_at > now() - interval '30 days') AS active_users,
                    (SELECT count(*) FROM invoices WHERE issued_at IS NOT NULL) AS invoices_issued,
                    (SELECT count(*) FROM quotations WHERE issued_at IS NOT NULL) AS quotations_sent,
                    (SELECT count(*) FROM invoices WHERE issued_at > now() - interval '30 days')
                      + (SELECT count(*) FROM quotations WHERE issued_at > now() - interval '30 days') AS documents_30_days,
                    (SELECT COALESCE(sum(size_bytes), 0)::bigint FROM files) AS storage_bytes,
                    (SELECT count(*) FROM files) AS files,
                    (SELECT count(*) FROM support_conversations WHERE status = 'waiting') AS support_waiting",
        )
        .get_result(conn)?;
        let plans = crate::db::sql_query(
            "SELECT p.name, count(s.org_id) AS organizations FROM plans p
             LEFT JOIN subscriptions s ON s.plan = p.key GROUP BY p.key, p.name, p.position ORDER BY p.position",
        )
        .load(conn)?;
        let months: Vec<Month> = crate::db::sql_query(
            "SELECT to_char(m, 'Mon') AS label,
                    (SELECT count(*) FROM organizations o
                     WHERE o.created_at >= m AND o.created_at < m + interval '1 month') AS n
             FROM generate_series(date_trunc('month', now()) - interval '11 months', date_trunc('month', now()),
                                  interval '1 month') AS m
             ORDER BY m",
        )
        .load(conn)?;
        let recent = super::audit::search(
            conn,
            &crate::audit::page::Filter::default().parse(),
            8,
        )?;
        Ok((stats, plans, months, recent))
    })
    .await?;
    let signups = bar_chart(
        "New organizations per month, last 12 months",
        months.into_iter().map(|m| Point { label: m.label, value: m.n as f64, shown: m.n.to_string() }).collect(),
    );
    let page = OverviewPage {
        layout: Layout::platform(&req, &staff.user, "Platform overview", "/platform"),
        stats,
        plans,
        signups,
        recent,
    };
    render(actix_web::http::StatusCode::OK, &page)
}
