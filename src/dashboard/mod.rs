//! The dashboard: the first page after login. Staff see the organization's work at a
//! glance (totals, money owed, projects by status, revenue over twelve months as a
//! server-drawn chart, recent activity), the first-run checklist until it is done,
//! and, for those who manage the organization, its plan usage.

mod queries;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::db;
use crate::money::amounts;
use crate::plans::Meter;
use crate::state::AppState;
use crate::team::Permission;
use crate::web::auth::OrgContext;
use crate::web::chart::{BarChart, Point, bar_chart};
use crate::web::layout::Layout;
use crate::web::routes::{Access, routes};
use crate::web::{AppError, render};

pub use queries::{ActivityRow, Receivable, StatusCount, Totals};

routes! {
    GET "/" => Access::Public, home;
    GET "/dashboard" => Access::Member, show;
}

/// `/`: the dashboard for the signed in, the login page for everyone else.
async fn home(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let signed_in = crate::web::auth::auth_of(&req).await?.is_some();
    Ok(crate::web::flash::redirect(if signed_in { "/dashboard" } else { "/login" }))
}

/// One step of the first-run checklist.
pub struct Step {
    pub label: &'static str,
    pub hint: &'static str,
    pub href: &'static str,
    pub done: bool,
}

/// The plan and its meters, for those who manage the organization.
pub struct Usage {
    pub plan: String,
    pub meters: Vec<Meter>,
}

impl Usage {
    pub fn warning(&self) -> bool {
        self.meters.iter().any(|m| m.warning)
    }
}

#[derive(Template)]
#[template(path = "dashboard/show.html")]
struct DashboardPage {
    layout: Layout,
    first_name: String,
    org_name: String,
    totals: Totals,
    receivables: Option<Vec<Receivable>>,
    projects: Vec<StatusCount>,
    revenue: Option<(BarChart, String)>,
    activity: Option<Vec<ActivityRow>>,
    checklist: Option<Vec<Step>>,
    usage: Option<Usage>,
    overdue_link: String,
    /// Figures show only to those who may open the pages behind them.
    sees_clients: bool,
    sees_work: bool,
}

impl DashboardPage {
    fn steps_done(&self) -> usize {
        self.checklist.as_ref().map(|c| c.iter().filter(|s| s.done).count()).unwrap_or(0)
    }
}

async fn show(req: HttpRequest, ctx: OrgContext, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    // A client's dashboard is their portal.
    if ctx.is_client() {
        return Ok(crate::web::flash::redirect("/portal"));
    }
    let can_see_money = ctx.can(Permission::ViewInvoices);
    let can_see_audit = ctx.can(Permission::ViewAuditLogs);
    let manages = ctx.can(Permission::ManageOrg);
    let (org_id, currency) = (ctx.org_id, ctx.currency.clone());
    let today = crate::money::document::today();
    let data = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let totals = queries::totals(conn, today)?;
        let projects = queries::projects_by_status(conn)?;
        let money = if can_see_money {
            let currency = queries::revenue_currency(conn, &currency, today)?;
            let months = queries::monthly_revenue(conn, &currency, today)?;
            Some((queries::receivables(conn, today)?, months, currency))
        } else {
            None
        };
        let activity = if can_see_audit { Some(queries::recent_activity(conn, 8)?) } else { None };
        let usage = if manages {
            let (plan, _, meters) = crate::plans::meters(conn, org_id)?;
            Some(Usage { plan: plan.name, meters })
        } else {
            None
        };
        Ok((totals, projects, money, activity, usage))
    })
    .await?;
    let (totals, projects, money, activity, usage) = data;
    let (receivables, revenue) = match money {
        Some((receivables, months, currency)) => {
            let total: rust_decimal::Decimal = months.iter().map(|m| m.received).sum();
            let chart = bar_chart(
                format!("Payments received per month in {currency}, last 12 months"),
                months
                    .into_iter()
                    .map(|m| Point {
                        label: m.month.format("%b").to_string(),
                        value: rust_decimal::prelude::ToPrimitive::to_f64(&m.received).unwrap_or(0.0),
                        shown: amounts::with_currency(m.received, &currency),
                    })
                    .collect(),
            );
            (Some(receivables), Some((chart, amounts::with_currency(total, &currency))))
        }
        None => (None, None),
    };
    let checklist = manages
        .then(|| {
            vec![
                Step {
                    label: "Add a client",
                    hint: "The people and companies you work for.",
                    href: "/clients/new",
                    done: totals.clients > 0,
                },
                Step {
                    label: "Create a project",
                    hint: "Plan the work, then track tasks and time on its board.",
                    href: "/projects/new",
                    done: totals.active_projects > 0 || projects.iter().any(|p| p.projects > 0),
                },
                Step {
                    label: "Set up taxes",
                    hint: "The rates your invoices and quotations use.",
                    href: "/taxes",
                    done: totals.taxes > 0,
                },
                Step {
                    label: "Invite a teammate",
                    hint: "Work together; each person gets the role you choose.",
                    href: "/team",
                    done: totals.invitations > 0 || totals.staff > 1,
                },
            ]
        })
        .filter(|steps| steps.iter().any(|s| !s.done));
    let page = DashboardPage {
        layout: Layout::member(&req, &ctx, "Dashboard", "/dashboard"),
        first_name: ctx.user.name.split_whitespace().next().unwrap_or("").to_string(),
        org_name: ctx.org_name.clone(),
        totals,
        receivables,
        projects,
        revenue,
        activity,
        checklist,
        usage,
        overdue_link: format!("/tasks?due_before={}", today.pred_opt().unwrap_or(today)),
        sees_clients: ctx.can(Permission::ViewClients),
        sees_work: ctx.can(Permission::ViewProjects),
    };
    render(actix_web::http::StatusCode::OK, &page)
}
