//! Custom roles: a name, a power below the admin's own, and any of the permissions the
//! admin has. Built-in roles are shown, not edited. A role in use is not deleted.
//! Changes apply on each member's next request (permissions are read per request).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Uuid as SqlUuid};
use serde::Deserialize;

use super::{Permission, PermissionSet};
use crate::audit::{self, AuditEvent};
use crate::db::ids::RoleId;
use crate::db::schema::{role_permissions, roles};
use crate::db::{self, Tenant};
use crate::state::AppState;
use crate::web::auth::OrgContext;
use crate::web::flash::{Flash, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

#[derive(QueryableByName, Debug, Clone)]
pub struct RoleRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: RoleId,
    #[diesel(sql_type = Nullable<Text>)]
    pub key: Option<String>,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Integer)]
    pub power: i32,
    #[diesel(sql_type = BigInt)]
    pub members: i64,
    #[diesel(sql_type = diesel::sql_types::Array<Text>)]
    pub permissions: Vec<String>,
}

impl RoleRow {
    pub fn builtin(&self) -> bool {
        self.key.is_some()
    }
}

fn list(conn: &mut PgConnection) -> QueryResult<Vec<RoleRow>> {
    crate::db::sql_query(
        "SELECT r.id, r.key, r.name, r.power,
                (SELECT count(*) FROM memberships m WHERE m.org_id = r.org_id AND m.role_id = r.id) AS members,
                COALESCE((SELECT array_agg(p.permission ORDER BY p.permission) FROM role_permissions p
                          WHERE p.org_id = r.org_id AND p.role_id = r.id), '{}') AS permissions
         FROM roles r ORDER BY r.power DESC, lower(r.name)",
    )
    .load(conn)
}

fn find(conn: &mut PgConnection, id: RoleId) -> Result<RoleRow, AppError> {
    list(conn)?.into_iter().find(|r| r.id == id).ok_or(AppError::NotFound)
}

#[derive(Template)]
#[template(path = "roles/index.html")]
struct RolesPage {
    layout: Layout,
    roles: Vec<RoleRow>,
    my_power: i32,
}

/// GET /roles
pub async fn index(req: HttpRequest, state: web::Data<AppState>, ctx: OrgContext) -> Result<HttpResponse, AppError> {
    let roles = db::tenant_tx(&state.pool, ctx.tenant(), |conn| Ok(list(conn)?)).await?;
    render(
        StatusCode::OK,
        &RolesPage { layout: Layout::member(&req, &ctx, "Roles", "/roles"), roles, my_power: ctx.power },
    )
}

#[derive(Deserialize, Default)]
pub struct RoleForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    power: String,
    #[serde(default)]
    permissions: Vec<String>,
}

pub struct PermissionChoice {
    pub key: &'static str,
    pub label: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "roles/form.html")]
struct RoleFormPage {
    layout: Layout,
    /// None when creating.
    role: Option<RoleRow>,
    editable: bool,
    name: String,
    power: String,
    choices: Vec<PermissionChoice>,
    my_power: i32,
    errors: FieldErrors,
}

/// Permissions the admin may hand out: the ones they have.
fn choices(ctx: &OrgContext, checked: &[String]) -> Vec<PermissionChoice> {
    ctx.permissions
        .iter()
        .map(|p| PermissionChoice {
            key: p.key(),
            label: p.key().replace('_', " "),
            checked: checked.iter().any(|c| c == p.key()),
        })
        .collect()
}

struct ValidRole {
    name: String,
    power: i32,
    permissions: PermissionSet,
}

fn validate(ctx: &OrgContext, form: &RoleForm) -> Result<ValidRole, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = form.name.trim().to_string();
    if name.is_empty() {
        errors.add("name", "Give the role a name.");
    } else if name.chars().count() > 60 {
        errors.add("name", "Use at most 60 characters.");
    }
    let power = match form.power.trim().parse::<i32>() {
        Ok(p) if (1..ctx.power).contains(&p) => p,
        _ => {
            errors.add("power", format!("Use a whole number from 1 to {}, below your own power.", ctx.power - 1));
            0
        }
    };
    let mut permissions = PermissionSet::default();
    for key in &form.permissions {
        match Permission::from_key(key) {
            Some(p) if ctx.can(p) => permissions.insert(p),
            _ => errors.add("permissions", "Choose only permissions from the list (those you have yourself)."),
        }
    }
    if errors.is_empty() { Ok(ValidRole { name, power, permissions }) } else { Err(errors) }
}

fn form_page(
    req: &HttpRequest,
    ctx: &OrgContext,
    role: Option<RoleRow>,
    form: &RoleForm,
    status: StatusCode,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let editable = role.as_ref().is_none_or(|r| !r.builtin() && r.power < ctx.power);
    let title = match &role {
        Some(r) => r.name.clone(),
        None => "New role".to_string(),
    };
    let page = RoleFormPage {
        layout: Layout::member(req, ctx, title, "/roles"),
        role,
        editable,
        name: form.name.clone(),
        power: form.power.clone(),
        choices: choices(ctx, &form.permissions),
        my_power: ctx.power,
        errors,
    };
    render(status, &page)
}

/// GET /roles/new
pub async fn new(req: HttpRequest, ctx: OrgContext) -> Result<HttpResponse, AppError> {
    let form = RoleForm { power: (ctx.power / 2).max(1).to_string(), ..Default::default() };
    form_page(&req, &ctx, None, &form, StatusCode::OK, FieldErrors::default())
}

/// GET /roles/{id}
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: RoleId = path.parse().map_err(|_| AppError::NotFound)?;
    let role = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| find(conn, id)).await?;
    let form =
        RoleForm { name: role.name.clone(), power: role.power.to_string(), permissions: role.permissions.clone() };
    form_page(&req, &ctx, Some(role), &form, StatusCode::OK, FieldErrors::default())
}

/// Stores the role's permissions and audits the role as saved (the set actually stored).
#[expect(clippy::too_many_arguments, reason = "one call per saved role; the fields are what the audit entry names")]
fn save_permissions(
    conn: &mut PgConnection,
    meta: &RequestMeta,
    tenant: &Tenant,
    action: &str,
    role_id: RoleId,
    name: &str,
    power: i32,
    set: PermissionSet,
) -> Result<(), AppError> {
    diesel::delete(role_permissions::table.filter(role_permissions::role_id.eq(role_id))).execute(conn)?;
    let rows: Vec<_> = set
        .iter()
        .map(|p| {
            (
                role_permissions::org_id.eq(tenant.org_id),
                role_permissions::role_id.eq(role_id),
                role_permissions::permission.eq(p.key()),
            )
        })
        .collect();
    diesel::insert_into(role_permissions::table).values(&rows).execute(conn)?;
    let keys: Vec<&str> = set.iter().map(|p| p.key()).collect();
    audit::record(
        conn,
        meta,
        AuditEvent::new(action)
            .org(tenant.org_id)
            .actor(tenant.user_id)
            .entity("role", role_id.0)
            .metadata(serde_json::json!({ "name": name, "power": power, "permissions": keys })),
    )?;
    Ok(())
}

fn is_name_taken(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}

/// POST /roles
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    Form(form): Form<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let valid = match validate(&ctx, &form) {
        Ok(v) => v,
        Err(errors) => return form_page(&req, &ctx, None, &form, StatusCode::BAD_REQUEST, errors),
    };
    let tenant = ctx.tenant();
    let name = valid.name.clone();
    let created = db::tenant_tx(&state.pool, tenant, move |conn| {
        let id = RoleId::new();
        let inserted = diesel::insert_into(roles::table)
            .values((
                roles::id.eq(id),
                roles::org_id.eq(tenant.org_id),
                roles::name.eq(&valid.name),
                roles::power.eq(valid.power),
            ))
            .execute(conn);
        match inserted {
            Err(e) if is_name_taken(&e) => return Ok(false),
            other => other?,
        };
        save_permissions(conn, &meta, &tenant, "role.created", id, &valid.name, valid.power, valid.permissions)?;
        Ok(true)
    })
    .await?;
    if !created {
        let mut errors = FieldErrors::default();
        errors.add("name", "There is already a role with this name.");
        return form_page(&req, &ctx, None, &form, StatusCode::BAD_REQUEST, errors);
    }
    Ok(redirect_with(&req, "/roles", Flash::success(format!("The role {name} has been created."))))
}

/// POST /roles/{id}
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
    Form(form): Form<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let id: RoleId = path.parse().map_err(|_| AppError::NotFound)?;
    let role = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| find(conn, id)).await?;
    if role.builtin() || role.power >= ctx.power {
        return Err(AppError::Forbidden);
    }
    let valid = match validate(&ctx, &form) {
        Ok(v) => v,
        Err(errors) => return form_page(&req, &ctx, Some(role), &form, StatusCode::BAD_REQUEST, errors),
    };
    let tenant = ctx.tenant();
    let name = valid.name.clone();
    let (actor, role_before) = (ctx.clone(), role.clone());
    let saved = db::tenant_tx(&state.pool, tenant, move |conn| {
        let role = role_before;
        let updated = diesel::update(roles::table.find(id))
            .set((roles::name.eq(&valid.name), roles::power.eq(valid.power)))
            .execute(conn);
        match updated {
            Err(e) if is_name_taken(&e) => return Ok(false),
            other => other?,
        };
        // Permissions the editor does not hold were not on their form: they stay as they were.
        let mut permissions = valid.permissions;
        for kept in
            PermissionSet::from_keys(role.permissions.iter().map(String::as_str)).iter().filter(|p| !actor.can(*p))
        {
            permissions.insert(kept);
        }
        save_permissions(conn, &meta, &tenant, "role.updated", id, &valid.name, valid.power, permissions)?;
        Ok(true)
    })
    .await?;
    if !saved {
        let mut errors = FieldErrors::default();
        errors.add("name", "There is already a role with this name.");
        return form_page(&req, &ctx, Some(role), &form, StatusCode::BAD_REQUEST, errors);
    }
    Ok(redirect_with(&req, "/roles", Flash::success(format!("The role {name} has been saved."))))
}

/// POST /roles/{id}/delete
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: RoleId = path.parse().map_err(|_| AppError::NotFound)?;
    let tenant = ctx.tenant();
    let my_power = ctx.power;
    let outcome = db::tenant_tx(&state.pool, tenant, move |conn| {
        let role = find(conn, id)?;
        if role.builtin() {
            return Ok(Err("Built-in roles cannot be deleted.".to_string()));
        }
        if role.power >= my_power {
            return Ok(Err("You can only delete roles below your own power.".to_string()));
        }
        let invited: i64 = crate::db::schema::invitations::table
            .filter(crate::db::schema::invitations::role_id.eq(id))
            .filter(crate::db::schema::invitations::status.eq("pending"))
            .count()
            .get_result(conn)?;
        if role.members > 0 || invited > 0 {
            return Ok(Err(format!(
                "{} is still given to {} member(s) and {} pending invitation(s). Give them another role first.",
                role.name, role.members, invited
            )));
        }
        diesel::delete(roles::table.find(id)).execute(conn)?;
        audit::record(
            conn,
            &meta,
            AuditEvent::new("role.deleted")
                .org(tenant.org_id)
                .actor(tenant.user_id)
                .entity("role", id.0)
                .metadata(serde_json::json!({ "name": role.name })),
        )?;
        Ok(Ok(role.name))
    })
    .await?;
    Ok(match outcome {
        Ok(name) => redirect_with(&req, "/roles", Flash::success(format!("The role {name} has been deleted."))),
        Err(refusal) => redirect_with(&req, "/roles", Flash::error(refusal)),
    })
}
