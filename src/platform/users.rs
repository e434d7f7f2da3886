//! /platform/users: every account; suspending or banning one ends all its sessions
//! at once.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Deserialize;

use super::{PlatformEvent, PlatformStaff, Search, cross_tenant_tx, record};
use crate::db::ids::UserId;
use crate::db::schema::{sessions, users};
use crate::state::AppState;
use crate::web::flash::{Flash, redirect_with};
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

const STATUSES: [&str; 3] = ["active", "suspended", "banned"];

#[derive(QueryableByName, Debug)]
pub struct UserRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: UserId,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Text)]
    pub display_id: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = BigInt)]
    pub organizations: i64,
    #[diesel(sql_type = Bool)]
    pub on_team: bool,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_login_at: Option<DateTime<Utc>>,
}

impl UserRow {
    pub fn last_seen(&self) -> String {
        self.last_login_at.map(crate::web::time::ago).unwrap_or_else(|| "never".into())
    }
}

#[derive(Template)]
#[template(path = "platform/users.html")]
struct UsersPage {
    layout: Layout,
    search: Search,
    rows: Vec<UserRow>,
    more: bool,
    me: UserId,
    owner: bool,
    statuses: [&'static str; 3],
}

/// GET /platform/users?q=&status=&page=
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: PlatformStaff,
    meta: RequestMeta,
    query: web::Query<Search>,
) -> Result<HttpResponse, AppError> {
    let search = query.into_inner().cleaned(&STATUSES);
    let (q, status, offset, actor) = (search.q.clone(), search.status.clone(), search.offset(), staff.id());
    let rows: Vec<UserRow> = cross_tenant_tx(&state.pool, &staff, move |conn| {
        let summary = if q.is_empty() { "Listed users".into() } else { format!("Searched users for “{q}”") };
        record(conn, Some(actor), &meta, PlatformEvent::new("platform.users_viewed", summary))?;
        Ok(crate::db::sql_query(
            "SELECT u.id, u.name, u.email, u.display_id, u.status, u.last_login_at,
                    (SELECT count(*) FROM memberships m WHERE m.user_id = u.id AND m.status = 'active') AS organizations,
                    (u.is_platform_owner OR EXISTS (SELECT 1 FROM platform_staff ps WHERE ps.user_id = u.id)) AS on_team
             FROM users u
             WHERE ($1 = '' OR position(lower($1) IN lower(u.name || ' ' || u.email || ' ' || u.display_id)) > 0)
               AND ($2 = '' OR u.status = $2)
             ORDER BY u.created_at DESC, u.id DESC
             LIMIT $3 OFFSET $4",
        )
        .bind::<Text, _>(q)
        .bind::<Text, _>(status)
        .bind::<BigInt, _>(super::PAGE_SIZE + 1)
        .bind::<BigInt, _>(offset)
        .load(conn)?)
    })
    .await?;
    let (rows, more) = Search::page_of(rows);
    let page = UsersPage {
        layout: Layout::platform(&req, &staff.user, "Users", "/platform/users"),
        search,
        rows,
        more,
        me: staff.id(),
        owner: staff.is_owner(),
        statuses: STATUSES,
    };
    render(actix_web::http::StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
}

/// POST /platform/users/{id}/status (status: active | suspended | banned)
pub async fn set_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: PlatformStaff,
    meta: RequestMeta,
    path: web::Path<UserId>,
    Form(form): Form<StatusForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = path.into_inner();
    if !STATUSES.contains(&form.status.as_str()) {
        return Err(AppError::BadRequest("Choose active, suspended or banned.".into()));
    }
    if user_id == staff.id() {
        return Err(AppError::BadRequest("You cannot change the status of your own account.".into()));
    }
    let (actor, owner, status) = (staff.id(), staff.is_owner(), form.status);
    let outcome = cross_tenant_tx(&state.pool, &staff, move |conn| {
        let (email, before, platform_owner): (String, String, bool) = users::table
            .find(user_id)
            .select((users::email, users::status, users::is_platform_owner))
            .for_update()
            .first(conn)?;
        let on_team = crate::auth::queries::on_platform_team(conn, user_id)?;
        if on_team && !owner {
            return Err(AppError::Forbidden);
        }
        // The platform always keeps an owner who can sign in.
        if platform_owner && status != "active" {
            return Err(AppError::BadRequest(format!(
                "{email} is a platform owner. Remove them from the platform team first."
            )));
        }
        if before == status {
            return Ok(Flash::info(format!("{email} was already {status}.")));
        }
        diesel::update(users::table.find(user_id))
            .set((users::status.eq(&status), users::updated_at.eq(diesel::dsl::now)))
            .execute(conn)?;
        let ended = if status == "active" {
            0
        } else {
            diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?
        };
        record(
            conn,
            Some(actor),
            &meta,
            PlatformEvent::new(&format!("platform.user_{status}"), format!("Set {email} to {status}"))
                .target("user", user_id.0)
                .metadata(serde_json::json!({ "from": before, "to": status, "sessions_ended": ended })),
        )?;
        Ok(Flash::success(match status.as_str() {
            "active" => format!("{email} can sign in again."),
            _ => format!("{email} is {status}; {} ended.", crate::web::error::plural(ended as u64, "session")),
        }))
    })
    .await?;
    Ok(redirect_with(&req, "/platform/users", outcome))
}
