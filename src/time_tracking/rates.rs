//! A member's default hourly rate, set from the team page. Entries copy the rate when
//! they are made, so a change applies to new time only. Every change is audited.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use diesel::prelude::*;
use serde::Deserialize;

use super::money::{money, parse_rate};
use crate::audit::{self, AuditEvent};
use crate::db::ids::MembershipId;
use crate::db::schema::memberships;
use crate::db::{self};
use crate::state::AppState;
use crate::team::members::{self, RateProblem, TeamForms};
use crate::web::auth::OrgContext;
use crate::web::flash::{Flash, redirect_with};
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form};

#[derive(Deserialize, Default)]
pub struct RateForm {
    #[serde(default)]
    hourly_rate: String,
}

/// POST /members/{id}/rate — an empty rate removes the default.
pub async fn set_rate(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
    Form(form): Form<RateForm>,
) -> Result<HttpResponse, AppError> {
    let id: MembershipId = path.parse().map_err(|_| AppError::NotFound)?;
    // The member first: another organization's id is a 404 whatever the form holds.
    let target = db::tenant_tx(&state.pool, ctx.tenant(), move |conn| Ok(members::find(conn, id)?)).await?;
    if !members::may_set_rate(&ctx, &target) {
        return Ok(redirect_with(
            &req,
            "/team",
            Flash::error("You can set your own rate and the rates of members whose role is below yours."),
        ));
    }
    let rate = match parse_rate(&form.hourly_rate) {
        Ok(rate) => rate,
        Err(message) => {
            let rate = RateProblem { membership_id: id, value: form.hourly_rate, message: message.to_string() };
            let forms = TeamForms { rate: Some(rate), ..Default::default() };
            return members::team_page_with(&req, &state, &ctx, StatusCode::BAD_REQUEST, forms).await;
        }
    };
    if rate == target.hourly_rate {
        return Ok(redirect_with(&req, "/team", Flash::info(format!("The rate of {} is unchanged.", target.name))));
    }
    let tenant = ctx.tenant();
    let name = target.name.clone();
    db::tenant_tx(&state.pool, tenant, move |conn| {
        diesel::update(memberships::table.find(target.membership_id))
            .set((memberships::hourly_rate.eq(rate), memberships::updated_at.eq(Utc::now())))
            .execute(conn)?;
        let event = AuditEvent::new("member.rate_changed")
            .org(tenant.org_id)
            .actor(tenant.user_id)
            .entity("user", target.user_id.0)
            .metadata(serde_json::json!({
                "name": target.name,
                "from": target.hourly_rate.map(money),
                "to": rate.map(money),
            }));
        audit::record(conn, &meta, event)?;
        Ok(())
    })
    .await?;
    let message = match rate {
        Some(r) => {
            format!("The default hourly rate of {name} is now {}. It applies to time logged from now on.", money(r))
        }
        None => format!("{name} no longer has a default hourly rate."),
    };
    Ok(redirect_with(&req, "/team", Flash::success(message)))
}
