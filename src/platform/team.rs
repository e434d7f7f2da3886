//! /platform/team: who may open /platform. Owners (`users.is_platform_owner`) manage
//! the team; staff (`platform_staff`) do everything else. The platform always keeps
//! at least one owner.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Deserialize;

use super::{PlatformEvent, PlatformStaff, cross_tenant_tx, record};
use crate::db::ids::UserId;
use crate::db::schema::{platform_staff, users};
use crate::state::AppState;
use crate::web::flash::{Flash, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

#[derive(QueryableByName, Debug)]
pub struct TeamMember {
    #[diesel(sql_type = SqlUuid)]
    pub id: UserId,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Bool)]
    pub owner: bool,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_login_at: Option<DateTime<Utc>>,
}

impl TeamMember {
    pub fn last_seen(&self) -> String {
        self.last_login_at.map(crate::web::time::ago).unwrap_or_else(|| "never".into())
    }
}

#[derive(Template)]
#[template(path = "platform/team.html")]
struct TeamPage {
    layout: Layout,
    members: Vec<TeamMember>,
    owner: bool,
    me: UserId,
    email: String,
    role: String,
    errors: FieldErrors,
}

fn members(conn: &mut PgConnection) -> QueryResult<Vec<TeamMember>> {
    crate::db::sql_query(
        "SELECT u.id, u.name, u.email, u.is_platform_owner AS owner, u.last_login_at FROM users u
         WHERE u.is_platform_owner OR EXISTS (SELECT 1 FROM platform_staff ps WHERE ps.user_id = u.id)
         ORDER BY u.is_platform_owner DESC, lower(u.name)",
    )
    .load(conn)
}

use diesel::pg::PgConnection;

async fn page(
    req: &HttpRequest,
    state: &AppState,
    staff: &PlatformStaff,
    form: AddForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let members = cross_tenant_tx(&state.pool, staff, |conn| Ok(members(conn)?)).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let page = TeamPage {
        layout: Layout::platform(req, &staff.user, "Platform team", "/platform/team"),
        members,
        owner: staff.is_owner(),
        me: staff.id(),
        email: form.email,
        role: form.role,
        errors,
    };
    render(status, &page)
}

/// GET /platform/team
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: PlatformStaff,
) -> Result<HttpResponse, AppError> {
    page(&req, &state, &staff, AddForm { email: String::new(), role: "staff".into() }, FieldErrors::default()).await
}

#[derive(Deserialize, Clone)]
pub struct AddForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// Locks the owners, so two owners removing each other cannot leave none.
fn owner_count(conn: &mut PgConnection) -> QueryResult<usize> {
    let owners: Vec<UserId> = users::table
        .filter(users::is_platform_owner)
        .filter(users::status.eq("active"))
        .select(users::id)
        .for_update()
        .load(conn)?;
    Ok(owners.len())
}

/// POST /platform/team (email, role: owner | staff) — owners only.
pub async fn add(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: PlatformStaff,
    meta: RequestMeta,
    Form(form): Form<AddForm>,
) -> Result<HttpResponse, AppError> {
    let mut errors = FieldErrors::default();
    let email = form.email.trim().to_lowercase();
    if email.is_empty() {
        errors.add("email", "Enter the email address of their Client Hub account.");
    }
    if form.role != "owner" && form.role != "staff" {
        errors.add("role", "Choose owner or staff.");
    }
    if !errors.is_empty() {
        return page(&req, &state, &staff, form, errors).await;
    }
    let (actor, role, lookup) = (staff.id(), form.role.clone(), email.clone());
    let outcome = cross_tenant_tx(&state.pool, &staff, move |conn| {
        let Some((user_id, name, was_owner)) = users::table
            .filter(users::email.eq(&lookup))
            .select((users::id, users::name, users::is_platform_owner))
            .first::<(UserId, String, bool)>(conn)
            .optional()?
        else {
            return Ok(Err("No account has this address. They need to sign up first."));
        };
        if role == "owner" {
            diesel::update(users::table.find(user_id)).set(users::is_platform_owner.eq(true)).execute(conn)?;
            diesel::delete(platform_staff::table.find(user_id)).execute(conn)?;
        } else {
            if was_owner && owner_count(conn)? <= 1 {
                return Ok(Err("They are the only platform owner; add another owner first."));
            }
            diesel::update(users::table.find(user_id)).set(users::is_platform_owner.eq(false)).execute(conn)?;
            diesel::insert_into(platform_staff::table)
                .values((platform_staff::user_id.eq(user_id), platform_staff::added_by.eq(actor)))
                .on_conflict_do_nothing()
                .execute(conn)?;
        }
        record(
            conn,
            Some(actor),
            &meta,
            PlatformEvent::new("platform.team_added", format!("Made {lookup} platform {role}"))
                .target("user", user_id.0),
        )?;
        Ok(Ok(format!("{name} is now platform {role}.")))
    })
    .await?;
    match outcome {
        Ok(message) => Ok(redirect_with(&req, "/platform/team", Flash::success(message))),
        Err(message) => {
            errors.add("email", message);
            page(&req, &state, &staff, form, errors).await
        }
    }
}

/// POST /platform/team/{user_id}/delete — owners only; never the last owner.
pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: PlatformStaff,
    meta: RequestMeta,
    path: web::Path<UserId>,
) -> Result<HttpResponse, AppError> {
    let user_id = path.into_inner();
    let actor = staff.id();
    let flash = cross_tenant_tx(&state.pool, &staff, move |conn| {
        let (email, owner): (String, bool) =
            users::table.find(user_id).select((users::email, users::is_platform_owner)).first(conn)?;
        if owner {
            if owner_count(conn)? <= 1 {
                return Ok(Flash::error("The platform must keep at least one owner. Add another owner first."));
            }
            diesel::update(users::table.find(user_id)).set(users::is_platform_owner.eq(false)).execute(conn)?;
        } else if diesel::delete(platform_staff::table.find(user_id)).execute(conn)? == 0 {
            return Err(AppError::NotFound);
        }
        record(
            conn,
            Some(actor),
            &meta,
            PlatformEvent::new("platform.team_removed", format!("Removed {email} from the platform team"))
                .target("user", user_id.0),
        )?;
        Ok(Flash::success(format!("{email} is no longer on the platform team.")))
    })
    .await?;
    Ok(redirect_with(&req, "/platform/team", flash))
}
