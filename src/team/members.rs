//! The team page and what admins do to members: change role, remove, ban, unban; and
//! a member leaving. One rule decides them all: you act only on members of strictly
//! lower power, grant only roles below your own, and an organization keeps an Owner.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Numeric, Text, Timestamptz, Uuid as SqlUuid};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::Permission;
use super::invitations::{self, PendingInvitation};
use crate::audit::{self, AuditEvent};
use crate::db::ids::{MembershipId, RoleId, UserId};
use crate::db::schema::{memberships, role_permissions, roles};
use crate::db::{self, Tenant};
use crate::state::AppState;
use crate::web::auth::OrgContext;
use crate::web::flash::{Flash, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

#[derive(QueryableByName, Debug, Clone)]
pub struct MemberRow {
    #[diesel(sql_type = SqlUuid)]
    pub membership_id: MembershipId,
    #[diesel(sql_type = SqlUuid)]
    pub user_id: UserId,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Text)]
    pub display_id: String,
    #[diesel(sql_type = SqlUuid)]
    pub role_id: RoleId,
    #[diesel(sql_type = Text)]
    pub role_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub role_key: Option<String>,
    #[diesel(sql_type = Integer)]
    pub power: i32,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Timestamptz)]
    pub joined_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub two_factor_on: bool,
    /// The member's default hourly rate for time tracking (a project's rate overrides it).
    #[diesel(sql_type = Nullable<Numeric>)]
    pub hourly_rate: Option<Decimal>,
}

impl MemberRow {
    pub fn rate_text(&self) -> String {
        self.hourly_rate.map(crate::time_tracking::money::money).unwrap_or_default()
    }
}

/// Everyone in the organization (active and banned), most powerful first.
pub fn list(conn: &mut PgConnection) -> QueryResult<Vec<MemberRow>> {
    crate::db::sql_query(
        "SELECT m.id AS membership_id, u.id AS user_id, u.name, u.email, u.display_id, r.id AS role_id,
                r.name AS role_name, r.key AS role_key, r.power, m.status, m.created_at AS joined_at,
                u.totp_enabled_at IS NOT NULL AS two_factor_on, m.hourly_rate
         FROM memberships m
         JOIN users u ON u.id = m.user_id
         JOIN roles r ON r.org_id = m.org_id AND r.id = m.role_id
         WHERE m.org_id = app_org_id() AND m.status <> 'invited'
         ORDER BY m.status, r.power DESC, lower(u.name)",
    )
    .load(conn)
}

pub(crate) fn find(conn: &mut PgConnection, membership_id: MembershipId) -> QueryResult<MemberRow> {
    list(conn)?.into_iter().find(|m| m.membership_id == membership_id).ok_or(diesel::result::Error::NotFound)
}

fn find_by_user(conn: &mut PgConnection, user_id: UserId) -> QueryResult<MemberRow> {
    list(conn)?.into_iter().find(|m| m.user_id == user_id).ok_or(diesel::result::Error::NotFound)
}

#[derive(Queryable, Debug, Clone)]
pub struct RoleChoice {
    pub id: RoleId,
    pub name: String,
    pub power: i32,
    pub key: Option<String>,
}

/// Roles `ctx` may grant: strictly below their own power, and with no permission they
/// lack themselves (or a narrow role could mint an Admin). The Client role is offered
/// only `with_client`: a client member is linked to one client record, which an
/// invitation names and a role change cannot.
pub fn grantable_roles(conn: &mut PgConnection, ctx: &OrgContext, with_client: bool) -> QueryResult<Vec<RoleChoice>> {
    let candidates: Vec<(RoleId, String, i32, Option<String>)> = roles::table
        .filter(roles::power.lt(ctx.power))
        .order((roles::power.desc(), roles::name.asc()))
        .select((roles::id, roles::name, roles::power, roles::key))
        .load(conn)?;
    let granted: Vec<(RoleId, String)> =
        role_permissions::table.select((role_permissions::role_id, role_permissions::permission)).load(conn)?;
    Ok(candidates
        .into_iter()
        .filter(|(.., key)| with_client || key.as_deref() != Some("client"))
        .filter(|(id, ..)| {
            granted
                .iter()
                .filter(|(role, _)| role == id)
                .all(|(_, key)| super::Permission::from_key(key).is_some_and(|p| ctx.can(p)))
        })
        .map(|(id, name, power, key)| RoleChoice { id, name, power, key })
        .collect())
}

/// Why an action on a member is refused, in words for the page.
fn may_act_on(ctx: &OrgContext, target: &MemberRow) -> Result<(), &'static str> {
    if target.user_id == ctx.user.id {
        return Err("You cannot do that to yourself.");
    }
    if target.power >= ctx.power {
        return Err("You can only manage members whose role is below yours.");
    }
    Ok(())
}

/// Owners left after `leaving` goes (the organization must keep one). The Owners'
/// rows are locked, so two Owners leaving at once cannot both count on the other.
fn other_active_owners(conn: &mut PgConnection, leaving: UserId) -> QueryResult<i64> {
    let owners: Vec<UserId> = memberships::table
        .inner_join(roles::table.on(roles::id.eq(memberships::role_id)))
        .filter(roles::key.eq("super_admin"))
        .filter(memberships::status.eq("active"))
        .select(memberships::user_id)
        .for_update()
        .load(conn)?;
    Ok(owners.iter().filter(|id| **id != leaving).count() as i64)
}

pub struct MemberView {
    pub row: MemberRow,
    pub manageable: bool,
    pub is_me: bool,
    pub joined: String,
    /// The viewer may set this member's default hourly rate.
    pub rate_editable: bool,
    /// What the rate field shows: the current rate, or the value just refused.
    pub rate_value: String,
    pub rate_error: Option<String>,
}

/// Who may set a member's hourly rate: those who manage members, for themselves and
/// for members below their power (the same rule as every other member action).
pub fn may_set_rate(ctx: &OrgContext, target: &MemberRow) -> bool {
    ctx.can(Permission::ManageMembers) && (target.user_id == ctx.user.id || target.power < ctx.power)
}

/// What the team page's forms show besides the members: the invitation typed, and
/// a rejected hourly rate with its message.
#[derive(Default)]
pub struct TeamForms {
    pub invite_target: String,
    pub invite_role: String,
    pub invite_client: String,
    pub errors: FieldErrors,
    pub rate: Option<RateProblem>,
}

/// An hourly rate that was refused, shown next to that member's rate field.
pub struct RateProblem {
    pub membership_id: MembershipId,
    pub value: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "team/index.html")]
struct TeamPage {
    layout: Layout,
    members: Vec<MemberView>,
    invitations: Vec<PendingInvitation>,
    roles: Vec<RoleChoice>,
    /// Clients a Client-role invitation can be for: (id, name).
    clients: Vec<(crate::db::ids::ClientId, String)>,
    can_invite: bool,
    invite_target: String,
    invite_role: String,
    invite_client: String,
    errors: FieldErrors,
}

pub(super) async fn team_page(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    status: StatusCode,
    invite: (String, String, String),
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let (invite_target, invite_role, invite_client) = invite;
    team_page_with(req, state, ctx, status, TeamForms { invite_target, invite_role, invite_client, errors, rate: None })
        .await
}

/// The team page with whatever its forms need to show again.
pub(crate) async fn team_page_with(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    status: StatusCode,
    forms: TeamForms,
) -> Result<HttpResponse, AppError> {
    let TeamForms { invite_target, invite_role, invite_client, errors, rate } = forms;
    let can_invite = ctx.can(Permission::InviteMembers);
    let actor = ctx.clone();
    let (members, invitations, roles, clients) = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let invitations = if can_invite { invitations::pending_for_org(conn)? } else { Vec::new() };
        let clients = if can_invite { invitations::client_choices(conn)? } else { Vec::new() };
        Ok((list(conn)?, invitations, grantable_roles(conn, &actor, true)?, clients))
    })
    .await?;
    let can_manage = ctx.can(Permission::ManageMembers);
    let members = members
        .into_iter()
        .map(|row| {
            let refused = rate.as_ref().filter(|r| r.membership_id == row.membership_id);
            MemberView {
                manageable: can_manage && may_act_on(ctx, &row).is_ok(),
                is_me: row.user_id == ctx.user.id,
                joined: row.joined_at.format("%e %b %Y").to_string().trim().to_string(),
                rate_editable: may_set_rate(ctx, &row),
                rate_value: refused.map(|r| r.value.clone()).unwrap_or_else(|| row.rate_text()),
                rate_error: refused.map(|r| r.message.clone()),
                row,
            }
        })
        .collect();
    let page = TeamPage {
        layout: Layout::member(req, ctx, "Team", "/team"),
        members,
        invitations,
        roles,
        clients,
        can_invite,
        invite_target,
        invite_role,
        invite_client,
        errors,
    };
    render(status, &page)
}

/// GET /team
pub async fn index(req: HttpRequest, state: web::Data<AppState>, ctx: OrgContext) -> Result<HttpResponse, AppError> {
    team_page(&req, &state, &ctx, StatusCode::OK, Default::default(), FieldErrors::default()).await
}

fn parse_id<T: std::str::FromStr>(raw: &str) -> Result<T, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

/// Runs a member action in the tenant transaction; a refusal becomes a flash message.
async fn member_action(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    action: impl FnOnce(&mut PgConnection, &Tenant) -> Result<Result<String, &'static str>, AppError> + Send + 'static,
) -> Result<HttpResponse, AppError> {
    let tenant = ctx.tenant();
    let outcome = db::tenant_tx(&state.pool, tenant, move |conn| action(conn, &tenant)).await?;
    Ok(match outcome {
        Ok(message) => redirect_with(req, "/team", Flash::success(message)),
        Err(refusal) => redirect_with(req, "/team", Flash::error(refusal)),
    })
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role_id: String,
}

/// POST /users/{id}/role
pub async fn change_role(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
    Form(form): Form<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let user_id: UserId = parse_id(&path)?;
    let actor = ctx.clone();
    member_action(&req, &state, &ctx, move |conn, tenant| {
        let target = find_by_user(conn, user_id)?;
        if let Err(refusal) = may_act_on(&actor, &target) {
            return Ok(Err(refusal));
        }
        if target.role_key.as_deref() == Some("client") {
            return Ok(Err(
                "A client user stays with their client. To make them staff, invite them with a staff role.",
            ));
        }
        let Some(role) = form
            .role_id
            .parse::<RoleId>()
            .ok()
            .and_then(|id| grantable_roles(conn, &actor, false).ok()?.into_iter().find(|r| r.id == id))
        else {
            return Ok(Err("Choose a role below your own."));
        };
        diesel::update(memberships::table.find(target.membership_id))
            .set((memberships::role_id.eq(role.id), memberships::updated_at.eq(Utc::now())))
            .execute(conn)?;
        audit::record(
            conn,
            &meta,
            AuditEvent::new("member.role_changed")
                .org(tenant.org_id)
                .actor(tenant.user_id)
                .entity("user", target.user_id.0)
                .metadata(serde_json::json!({ "from": target.role_name, "to": role.name })),
        )?;
        Ok(Ok(format!("{} is now {}.", target.name, role.name)))
    })
    .await
}

/// POST /members/{id}/remove
pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: MembershipId = parse_id(&path)?;
    let actor = ctx.clone();
    member_action(&req, &state, &ctx, move |conn, tenant| {
        let target = find(conn, id)?;
        if let Err(refusal) = may_act_on(&actor, &target) {
            return Ok(Err(refusal));
        }
        crate::time_tracking::queries::stop_running(conn, target.user_id)?;
        diesel::delete(memberships::table.find(target.membership_id)).execute(conn)?;
        audit::record(
            conn,
            &meta,
            AuditEvent::new("member.removed")
                .org(tenant.org_id)
                .actor(tenant.user_id)
                .entity("user", target.user_id.0)
                .metadata(serde_json::json!({ "name": target.name, "role": target.role_name })),
        )?;
        Ok(Ok(format!("{} has been removed from the organization.", target.name)))
    })
    .await
}

async fn set_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
    status: &'static str,
) -> Result<HttpResponse, AppError> {
    let id: MembershipId = parse_id(&path)?;
    let actor = ctx.clone();
    member_action(&req, &state, &ctx, move |conn, tenant| {
        let target = find(conn, id)?;
        if let Err(refusal) = may_act_on(&actor, &target) {
            return Ok(Err(refusal));
        }
        let (from, action, done) = match status {
            "banned" => ("active", "member.banned", "has been banned"),
            _ => ("banned", "member.unbanned", "is active again"),
        };
        if target.status != from {
            return Ok(Err("That member's status has already changed."));
        }
        if status == "banned" {
            crate::time_tracking::queries::stop_running(conn, target.user_id)?;
        } else if target.role_key.as_deref() != Some("client") {
            // Back on the team: a seat of the plan again.
            crate::plans::ensure_room(conn, tenant.org_id, crate::plans::Limit::Members, 1)?;
        }
        diesel::update(memberships::table.find(target.membership_id))
            .set((memberships::status.eq(status), memberships::updated_at.eq(Utc::now())))
            .execute(conn)?;
        audit::record(
            conn,
            &meta,
            AuditEvent::new(action).org(tenant.org_id).actor(tenant.user_id).entity("user", target.user_id.0),
        )?;
        Ok(Ok(format!("{} {done}.", target.name)))
    })
    .await
}

/// POST /members/{id}/ban
pub async fn ban(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    set_status(req, state, ctx, meta, path, "banned").await
}

/// POST /members/{id}/unban
pub async fn unban(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    set_status(req, state, ctx, meta, path, "active").await
}

/// POST /members/leave
pub async fn leave(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
) -> Result<HttpResponse, AppError> {
    let is_owner = ctx.role_key.as_deref() == Some("super_admin");
    let org_name = ctx.org_name.clone();
    let membership_id = ctx.membership_id;
    let left = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| {
        let tenant_user = ctx.user.id;
        if is_owner && other_active_owners(conn, tenant_user)? == 0 {
            return Ok(false);
        }
        crate::time_tracking::queries::stop_running(conn, tenant_user)?;
        diesel::delete(memberships::table.find(membership_id)).execute(conn)?;
        audit::record(
            conn,
            &meta,
            AuditEvent::new("member.left").org(ctx.org_id).actor(tenant_user).entity("user", tenant_user.0),
        )?;
        Ok(true)
    })
    .await?;
    if !left {
        return Ok(redirect_with(
            &req,
            "/team",
            Flash::error("You are the only Owner of this organization, and it must keep one, so you cannot leave it."),
        ));
    }
    Ok(redirect_with(&req, "/dashboard", Flash::info(format!("You have left {org_name}."))))
}

/// POST /members/{id}/reset-two-factor — the way back in for someone who lost both
/// their phone and their recovery codes. Only for members below the admin's power.
pub async fn reset_two_factor(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: MembershipId = parse_id(&path)?;
    let actor = ctx.clone();
    let tenant = ctx.tenant();
    let outcome = db::run(&state.pool, move |conn| {
        // Who may be reset is decided inside the tenant transaction …
        let target = crate::db::tenant::transaction(conn, &tenant, |conn| find(conn, id).map_err(AppError::from))?;
        if let Err(refusal) = may_act_on(&actor, &target) {
            return Ok(Err(refusal));
        }
        // Two-factor sign-in belongs to the account, not to one organization: an admin
        // here may not switch it off for someone who is also elsewhere.
        let elsewhere: i64 = memberships::table
            .filter(memberships::user_id.eq(target.user_id))
            .filter(memberships::org_id.ne(tenant.org_id))
            .count()
            .get_result(conn)?;
        if elsewhere > 0 {
            return Ok(Err(
                "They also belong to other organizations, so only they can change their two-factor sign-in (with a recovery code).",
            ));
        }
        // … the reset itself touches only the user's own sign-in columns, which the
        // tenant role may not write. Their sessions end, and they are told by email.
        conn.transaction(|conn| {
            crate::auth::two_factor::clear(conn, target.user_id)?;
            diesel::delete(crate::db::schema::sessions::table.filter(crate::db::schema::sessions::user_id.eq(target.user_id)))
                .execute(conn)?;
            let notice = crate::mail::Letter {
                brand: crate::mail::Brand::org(&actor.org_name, &actor.brand_color),
                subject: "Your two-factor sign-in was reset".into(),
                greeting: format!("Hello {},", target.name),
                paragraphs: vec![
                    format!("{} reset the two-factor sign-in of your Client Hub account. You now sign in with your password alone, and every session was signed out.", actor.user.name),
                    "Set two-factor sign-in up again from your profile.".into(),
                ],
                action: None,
                fine_print: vec!["If you did not ask for this, change your password and tell your organization's owner.".into()],
            };
            crate::mail::enqueue(conn, Some(tenant.org_id), &notice.render(&target.email)?)?;
            audit::record(
                conn,
                &meta,
                AuditEvent::new("member.two_factor_reset")
                    .org(tenant.org_id)
                    .actor(tenant.user_id)
                    .entity("user", target.user_id.0),
            )?;
            Ok::<_, AppError>(Ok(format!(
                "Two-factor sign-in of {} has been reset. They sign in with their password and can set it up again.",
                target.name
            )))
        })
    })
    .await?;
    Ok(match outcome {
        Ok(message) => redirect_with(&req, "/team", Flash::success(message)),
        Err(refusal) => redirect_with(&req, "/team", Flash::error(refusal)),
    })
}
