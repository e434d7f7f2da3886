//! /platform/organizations: every organization with its plan, status and members;
//! suspending one locks its members out at their next request.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Deserialize;

use super::{PlatformEvent, PlatformStaff, Search, cross_tenant_tx, record};
use crate::db::ids::OrgId;
use crate::db::schema::organizations;
use crate::state::AppState;
use crate::web::flash::{Flash, redirect_with};
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

#[derive(QueryableByName, Debug)]
pub struct OrgRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: OrgId,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub plan: String,
    #[diesel(sql_type = BigInt)]
    pub members: i64,
    #[diesel(sql_type = BigInt)]
    pub clients: i64,
    #[diesel(sql_type = BigInt)]
    pub projects: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub owner_email: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

impl OrgRow {
    pub fn since(&self) -> String {
        self.created_at.format("%-d %b %Y").to_string()
    }
}

#[derive(Template)]
#[template(path = "platform/organizations.html")]
struct OrganizationsPage {
    layout: Layout,
    search: Search,
    rows: Vec<OrgRow>,
    more: bool,
}

/// GET /platform/organizations?q=&status=&page=
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: PlatformStaff,
    meta: RequestMeta,
    query: web::Query<Search>,
) -> Result<HttpResponse, AppError> {
    let search = query.into_inner().cleaned(&["active", "suspended"]);
    let (q, status, offset, actor) = (search.q.clone(), search.status.clone(), search.offset(), staff.id());
    let rows: Vec<OrgRow> = cross_tenant_tx(&state.pool, &staff, move |conn| {
        record(conn, Some(actor), &meta, PlatformEvent::new("platform.organizations_viewed", viewed(&q)))?;
        Ok(crate::db::sql_query(
            "SELECT o.id, o.name, o.status, s.plan, o.created_at,
                    (SELECT count(*) FROM memberships m WHERE m.org_id = o.id AND m.status = 'active') AS members,
                    (SELECT count(*) FROM clients c WHERE c.org_id = o.id) AS clients,
                    (SELECT count(*) FROM projects p WHERE p.org_id = o.id) AS projects,
                    (SELECT u.email FROM memberships m JOIN roles r ON r.org_id = m.org_id AND r.id = m.role_id
                     JOIN users u ON u.id = m.user_id
                     WHERE m.org_id = o.id AND r.key = 'super_admin' AND m.status = 'active'
                     ORDER BY m.created_at LIMIT 1) AS owner_email
             FROM organizations o JOIN subscriptions s ON s.org_id = o.id
             WHERE ($1 = '' OR position(lower($1) IN lower(o.name)) > 0)
               AND ($2 = '' OR o.status = $2)
             ORDER BY o.created_at DESC, o.id DESC
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
    let page = OrganizationsPage {
        layout: Layout::platform(&req, &staff.user, "Organizations", "/platform/organizations"),
        search,
        rows,
        more,
    };
    render(actix_web::http::StatusCode::OK, &page)
}

fn viewed(q: &str) -> String {
    if q.is_empty() { "Listed organizations".into() } else { format!("Searched organizations for “{q}”") }
}

#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
}

/// POST /platform/organizations/{id}/status (status: active | suspended)
pub async fn set_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: PlatformStaff,
    meta: RequestMeta,
    path: web::Path<OrgId>,
    Form(form): Form<StatusForm>,
) -> Result<HttpResponse, AppError> {
    let org_id = path.into_inner();
    let status = match form.status.as_str() {
        "active" | "suspended" => form.status,
        _ => return Err(AppError::BadRequest("Choose active or suspended.".into())),
    };
    let (actor, suspending) = (staff.id(), status == "suspended");
    let (name, changed) = cross_tenant_tx(&state.pool, &staff, move |conn| {
        let (name, before): (String, String) = organizations::table
            .find(org_id)
            .select((organizations::name, organizations::status))
            .for_update()
            .first(conn)?;
        if before == status {
            return Ok((name, false));
        }
        diesel::update(organizations::table.find(org_id))
            .set((organizations::status.eq(&status), organizations::updated_at.eq(diesel::dsl::now)))
            .execute(conn)?;
        let (action, verb) = if status == "suspended" {
            ("platform.org_suspended", "Suspended")
        } else {
            ("platform.org_reactivated", "Reactivated")
        };
        record(
            conn,
            Some(actor),
            &meta,
            PlatformEvent::new(action, format!("{verb} {name}"))
                .target("organization", org_id.0)
                .metadata(serde_json::json!({ "from": before, "to": status })),
        )?;
        Ok((name, true))
    })
    .await?;
    let message = match (changed, suspending) {
        (false, _) => Flash::info(format!("{name} was already in that state.")),
        (true, true) => {
            Flash::success(format!("{name} is suspended. Its members are locked out from their next request."))
        }
        (true, false) => Flash::success(format!("{name} is active again.")),
    };
    Ok(redirect_with(&req, &format!("/platform/organizations?q={}", crate::web::error::url_encode(&name)), message))
}
