//! "My organizations" and switching the active one.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use crate::audit::{self, AuditEvent};
use crate::db::ids::OrgId;
use crate::db::schema::{memberships, organizations, roles, users};
use crate::db::{self};
use crate::db::{Tenant, tenant};
use crate::orgs::queries;
use crate::state::AppState;
use crate::web::auth::{CurrentUser, auth_of};
use crate::web::flash::{Flash, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

#[derive(Queryable, Debug)]
pub struct MyOrganization {
    pub id: OrgId,
    pub name: String,
    pub status: String,
    pub role: String,
}

/// The organizations the user is an active member of (before any tenant is chosen).
fn mine_of(conn: &mut PgConnection, user: &CurrentUser) -> QueryResult<Vec<MyOrganization>> {
    memberships::table
        .inner_join(organizations::table)
        .inner_join(roles::table.on(roles::id.eq(memberships::role_id)))
        .filter(memberships::user_id.eq(user.id))
        .filter(memberships::status.eq("active"))
        .order(organizations::name.asc())
        .select((organizations::id, organizations::name, organizations::status, roles::name))
        .load(conn)
}

#[derive(Template)]
#[template(path = "orgs/mine.html")]
struct MinePage {
    layout: Layout,
    organizations: Vec<MyOrganization>,
    active: Option<OrgId>,
    /// The "create an organization" form (not for sessions opened by an emailed link).
    can_create: bool,
    name: String,
    errors: FieldErrors,
}

/// How many organizations one person may own: enough for any agency, not for a flood.
const MAX_OWNED: i64 = 10;

/// GET /organizations
pub async fn mine(req: HttpRequest, state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    mine_page(&req, &state, user, String::new(), FieldErrors::default()).await
}

async fn mine_page(
    req: &HttpRequest,
    state: &AppState,
    user: CurrentUser,
    name: String,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let me = user.clone();
    let mut organizations = db::run(&state.pool, move |conn| Ok(mine_of(conn, &me)?)).await?;
    let org = auth_of(req).await?.and_then(|a| a.org.ok());
    // A session opened by an emailed link shows nothing beyond its one organization.
    if user.portal_scope.is_some() {
        organizations.retain(|o| org.as_ref().is_some_and(|ctx| ctx.org_id == o.id));
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let page = MinePage {
        layout: Layout::user(req, &user, org.as_ref(), "Your organizations"),
        organizations,
        active: org.map(|o| o.org_id),
        can_create: user.portal_scope.is_none(),
        name,
        errors,
    };
    render(status, &page)
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
}

/// POST /organizations (name): an organization of their own, with the user as its
/// Owner, on the free plan. Anyone signed in may: a client user becoming an agency.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Form(form): Form<CreateForm>,
) -> Result<HttpResponse, AppError> {
    if user.portal_scope.is_some() {
        return Err(AppError::Forbidden);
    }
    let name = form.name.trim().to_string();
    let mut errors = FieldErrors::default();
    match name.chars().count() {
        0 => errors.add("name", "Give the organization a name."),
        n if n > 120 => errors.add("name", "Keep the name under 120 characters."),
        _ => {}
    }
    if !errors.is_empty() {
        return mine_page(&req, &state, user, form.name, errors).await;
    }
    let (user_id, org_id, org_name) = (user.id, OrgId::new(), name.clone());
    let created = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            // Counted across their organizations under a lock of the person, so parallel
            // requests take turns; then the new one is made in its own tenant context.
            crate::db::sql_query("SELECT pg_advisory_xact_lock(hashtextextended('orgs-owned:' || $1, 0))")
                .bind::<diesel::sql_types::Text, _>(user_id.to_string())
                .execute(conn)?;
            let owned: i64 = memberships::table
                .inner_join(roles::table.on(roles::id.eq(memberships::role_id)))
                .filter(memberships::user_id.eq(user_id))
                .filter(roles::key.eq("super_admin"))
                .count()
                .get_result(conn)?;
            if owned >= MAX_OWNED {
                return Ok(false);
            }
            let tenant = Tenant { org_id, user_id, client_id: None };
            tenant::transaction(conn, &tenant, |conn| {
                queries::provision(conn, org_id, &org_name, user_id)?;
                diesel::update(users::table.find(user_id)).set(users::active_org_id.eq(org_id)).execute(conn)?;
                audit::record(
                    conn,
                    &meta,
                    AuditEvent::new("org.created").org(org_id).actor(user_id).entity("organization", org_id.0),
                )?;
                Ok::<_, AppError>(true)
            })
        })
    })
    .await?;
    if !created {
        errors.add("name", format!("You already own {MAX_OWNED} organizations, the most one person may."));
        return mine_page(&req, &state, user, name, errors).await;
    }
    Ok(redirect_with(&req, "/dashboard", Flash::success(format!("{name} is ready. You are its Owner."))))
}

#[derive(Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    org_id: String,
}

/// POST /organizations/switch
pub async fn switch(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    Form(form): Form<SwitchForm>,
) -> Result<HttpResponse, AppError> {
    let org_id: OrgId = form.org_id.parse().map_err(|_| AppError::NotFound)?;
    if user.portal_scope.is_some() {
        return Ok(redirect_with(
            &req,
            "/portal",
            Flash::error(
                "You opened Client Hub from an emailed link. Log in with your password to switch organizations.",
            ),
        ));
    }
    let me = user.clone();
    let name = db::run(&state.pool, move |conn| {
        // Only to an organization where they are an active member, and that is active.
        let target = mine_of(conn, &me)?.into_iter().find(|o| o.id == org_id && o.status == "active");
        let Some(target) = target else { return Err(AppError::NotFound) };
        diesel::update(users::table.find(me.id)).set(users::active_org_id.eq(org_id)).execute(conn)?;
        Ok(target.name)
    })
    .await?;
    Ok(redirect_with(&req, "/dashboard", Flash::success(format!("You are now working in {name}."))))
}
