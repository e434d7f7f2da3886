//! /platform/subscriptions: each organization's plan, status and period end, and
//! changing them. A downgrade below what an organization already uses is allowed:
//! nothing is removed, and nothing new of that kind can be created until it is back
//! under the limit.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text, Uuid as SqlUuid};
use serde::Deserialize;

use super::{PlatformEvent, PlatformStaff, Search, cross_tenant_tx, record};
use crate::db::ids::OrgId;
use crate::db::schema::{organizations, subscriptions};
use crate::plans::{self, InUse, Limit, Plan};
use crate::state::AppState;
use crate::web::flash::{Flash, redirect_with};
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

const STATUSES: [&str; 4] = ["trialing", "active", "past_due", "canceled"];

#[derive(QueryableByName, Debug)]
pub struct SubscriptionRow {
    #[diesel(sql_type = SqlUuid)]
    pub org_id: OrgId,
    #[diesel(sql_type = Text)]
    pub org_name: String,
    #[diesel(sql_type = Text)]
    pub plan: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Date>)]
    pub current_period_end: Option<NaiveDate>,
    #[diesel(embed)]
    pub in_use: InUse,
}

impl SubscriptionRow {
    pub fn period_end(&self) -> String {
        self.current_period_end.map(|d| d.to_string()).unwrap_or_default()
    }

    /// "4 team members · 2 clients · 3 projects · 12 MB of file storage"
    pub fn usage(&self) -> String {
        Limit::ALL.map(|limit| limit.amount(self.in_use.of(limit))).join(" · ")
    }

    /// What this organization uses beyond its plan: "12 projects (Free allows 10)".
    pub fn over(&self, plans: &[Plan]) -> Vec<String> {
        let effective = if self.status == "canceled" { "free" } else { self.plan.as_str() };
        let Some(plan) = plans.iter().find(|p| p.key == effective) else { return Vec::new() };
        over_limits(plan, |l| self.in_use.of(l))
    }
}

fn over_limits(plan: &Plan, used: impl Fn(Limit) -> i64) -> Vec<String> {
    Limit::ALL
        .into_iter()
        .filter_map(|limit| {
            let max = plan.max(limit)?;
            let used = used(limit);
            (used > max).then(|| format!("{} ({} allows {})", limit.amount(used), plan.name, limit.amount(max)))
        })
        .collect()
}

#[derive(Template)]
#[template(path = "platform/subscriptions.html")]
struct SubscriptionsPage {
    layout: Layout,
    search: Search,
    rows: Vec<SubscriptionRow>,
    more: bool,
    plans: Vec<Plan>,
    statuses: [&'static str; 4],
}

/// GET /platform/subscriptions?q=&plan=&status=&page=
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: PlatformStaff,
    meta: RequestMeta,
    query: web::Query<Search>,
) -> Result<HttpResponse, AppError> {
    let search = query.into_inner().cleaned(&STATUSES);
    let (q, status, plan, offset, actor) =
        (search.q.clone(), search.status.clone(), search.plan.clone(), search.offset(), staff.id());
    let (rows, plans): (Vec<SubscriptionRow>, Vec<Plan>) = cross_tenant_tx(&state.pool, &staff, move |conn| {
        record(conn, Some(actor), &meta, PlatformEvent::new("platform.subscriptions_viewed", "Listed subscriptions"))?;
        let rows = crate::db::sql_query(
            "SELECT s.org_id, o.name AS org_name, s.plan, s.status, s.current_period_end,
                    u.members, u.clients, u.projects, u.storage
             FROM subscriptions s JOIN organizations o ON o.id = s.org_id, LATERAL org_usage(s.org_id) u
             WHERE ($1 = '' OR position(lower($1) IN lower(o.name)) > 0)
               AND ($2 = '' OR s.status = $2) AND ($3 = '' OR s.plan = $3)
             ORDER BY o.created_at DESC, o.id DESC
             LIMIT $4 OFFSET $5",
        )
        .bind::<Text, _>(q)
        .bind::<Text, _>(status)
        .bind::<Text, _>(plan)
        .bind::<BigInt, _>(super::PAGE_SIZE + 1)
        .bind::<BigInt, _>(offset)
        .load(conn)?;
        Ok((rows, plans::all(conn)?))
    })
    .await?;
    let (rows, more) = Search::page_of(rows);
    let page = SubscriptionsPage {
        layout: Layout::platform(&req, &staff.user, "Subscriptions", "/platform/subscriptions"),
        search,
        rows,
        more,
        plans,
        statuses: STATUSES,
    };
    render(actix_web::http::StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct SubscriptionForm {
    plan: String,
    status: String,
    #[serde(default)]
    current_period_end: String,
}

/// POST /platform/subscriptions/{org_id} (plan, status, current_period_end)
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: PlatformStaff,
    meta: RequestMeta,
    path: web::Path<OrgId>,
    Form(form): Form<SubscriptionForm>,
) -> Result<HttpResponse, AppError> {
    let org_id = path.into_inner();
    if !STATUSES.contains(&form.status.as_str()) {
        return Err(AppError::BadRequest("Choose a status from the list.".into()));
    }
    let period_end = match form.current_period_end.trim() {
        "" => None,
        raw => Some(
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map_err(|_| AppError::BadRequest("The period end is not a date (use YYYY-MM-DD).".into()))?,
        ),
    };
    let actor = staff.id();
    let flash = cross_tenant_tx(&state.pool, &staff, move |conn| {
        let all = plans::all(conn)?;
        let Some(plan) = all.iter().find(|p| p.key == form.plan) else {
            return Err(AppError::BadRequest("Choose a plan from the list.".into()));
        };
        let name: String = organizations::table.find(org_id).select(organizations::name).first(conn)?;
        let (before_plan, before_status): (String, String) = subscriptions::table
            .find(org_id)
            .select((subscriptions::plan, subscriptions::status))
            .for_update()
            .first(conn)?;
        diesel::update(subscriptions::table.find(org_id))
            .set((
                subscriptions::plan.eq(&plan.key),
                subscriptions::status.eq(&form.status),
                subscriptions::current_period_end.eq(period_end),
                subscriptions::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        record(
            conn,
            Some(actor),
            &meta,
            PlatformEvent::new(
                "platform.subscription_changed",
                format!("Set {name} to {} ({})", plan.name, form.status),
            )
            .target("organization", org_id.0)
            .metadata(serde_json::json!({
                "plan": { "from": before_plan, "to": plan.key },
                "status": { "from": before_status, "to": form.status },
                "current_period_end": period_end.map(|d| d.to_string()),
            })),
        )?;
        let effective =
            if form.status == "canceled" { all.iter().find(|p| p.key == "free").unwrap_or(plan) } else { plan };
        let in_use = plans::in_use(conn, org_id)?;
        let over = over_limits(effective, |limit| in_use.of(limit));
        Ok(if over.is_empty() {
            Flash::success(format!("{name} is now on {} ({}).", plan.name, form.status))
        } else {
            Flash::info(format!(
                "{name} is now on {} ({}). It already has more than the plan allows: {}. Nothing is removed; nothing \
                 new of that kind can be created until it is back under the limit.",
                plan.name,
                form.status,
                over.join(", ")
            ))
        })
    })
    .await?;
    Ok(redirect_with(&req, "/platform/subscriptions", flash))
}
