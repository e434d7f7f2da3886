//! The dashboard: the first page after login, an overview of the organization.

mod queries;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::db;
use crate::state::AppState;
use crate::team::Permission;
use crate::web::auth::OrgContext;
use crate::web::layout::Layout;
use crate::web::routes::{Access, routes};
use crate::web::{AppError, render};

pub use queries::{ActivityRow, RoleCount};

routes! {
    GET "/" => Access::Public, home;
    GET "/dashboard" => Access::Member, show;
}

/// `/`: the dashboard for the signed in, the login page for everyone else.
async fn home(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let signed_in = crate::web::auth::auth_of(&req).await?.is_some();
    Ok(crate::web::flash::redirect(if signed_in { "/dashboard" } else { "/login" }))
}

#[derive(Template)]
#[template(path = "dashboard/show.html")]
struct DashboardPage {
    layout: Layout,
    first_name: String,
    org_name: String,
    role_name: String,
    display_id: String,
    member_total: i64,
    roles: Option<Vec<RoleCount>>,
    activity: Option<Vec<ActivityRow>>,
    sessions: i64,
}

async fn show(req: HttpRequest, ctx: OrgContext, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    // A client's dashboard is their portal.
    if ctx.is_client() {
        return Ok(crate::web::flash::redirect("/portal"));
    }
    let can_see_team = ctx.can(Permission::ViewTeam);
    let can_see_audit = ctx.can(Permission::ViewAuditLogs);
    let user_id = ctx.user.id;
    let overview = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        Ok(queries::Overview {
            roles: if can_see_team { Some(queries::members_by_role(conn)?) } else { None },
            activity: if can_see_audit { Some(queries::recent_activity(conn, 8)?) } else { None },
        })
    })
    .await?;
    let idle = chrono::Duration::minutes(state.settings.security.session_idle_minutes);
    let sessions =
        db::run(&state.pool, move |conn| Ok(crate::auth::queries::count_live_sessions(conn, user_id, idle)?)).await?;
    let page = DashboardPage {
        layout: Layout::member(&req, &ctx, "Dashboard", "/dashboard"),
        first_name: ctx.user.name.split_whitespace().next().unwrap_or("").to_string(),
        org_name: ctx.org_name.clone(),
        role_name: ctx.role_name.clone(),
        display_id: ctx.user.display_id.clone(),
        member_total: overview.roles.as_ref().map(|r| r.iter().map(|c| c.members).sum()).unwrap_or(0),
        roles: overview.roles,
        activity: overview.activity,
        sessions,
    };
    render(actix_web::http::StatusCode::OK, &page)
}
