//! Feature flags: a global default and per-organization overrides. The app reads
//! them through one SQL function, `org_features(org)`, in the request's auth query
//! (`OrgContext::has`); a route of a feature switched off is 404 for that
//! organization and leaves its navigation.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text, Uuid as SqlUuid};
use serde::Deserialize;

use super::{PlatformEvent, PlatformStaff, cross_tenant_tx, record};
use crate::db::ids::OrgId;
use crate::db::schema::{feature_flag_overrides, feature_flags};
use crate::state::AppState;
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

/// The features that can be switched per organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    Chat,
}

impl Feature {
    pub fn key(self) -> &'static str {
        match self {
            Feature::Chat => "chat",
        }
    }

    /// The feature a route belongs to, by its path pattern.
    pub fn of_route(pattern: &str) -> Option<Feature> {
        pattern.starts_with("/chat").then_some(Feature::Chat)
    }
}

#[derive(QueryableByName, Debug)]
pub struct FlagRow {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = Bool)]
    pub enabled: bool,
}

#[derive(QueryableByName, Debug)]
pub struct OverrideRow {
    #[diesel(sql_type = Text)]
    pub flag_key: String,
    #[diesel(sql_type = SqlUuid)]
    pub org_id: OrgId,
    #[diesel(sql_type = Text)]
    pub org_name: String,
    #[diesel(sql_type = Bool)]
    pub enabled: bool,
}

#[derive(Template)]
#[template(path = "platform/flags.html")]
struct FlagsPage {
    layout: Layout,
    flags: Vec<FlagRow>,
    overrides: Vec<OverrideRow>,
    /// The override form that failed, with what was typed.
    failed: Option<(String, String)>,
    errors: FieldErrors,
}

impl FlagsPage {
    fn overrides_of(&self, key: &str) -> Vec<&OverrideRow> {
        self.overrides.iter().filter(|o| o.flag_key == key).collect()
    }

    fn typed_for(&self, key: &str) -> &str {
        match &self.failed {
            Some((k, typed)) if k == key => typed,
            _ => "",
        }
    }

    fn error_for(&self, key: &str) -> Option<&str> {
        match &self.failed {
            Some((k, _)) if k == key => self.errors.get("organization"),
            _ => None,
        }
    }
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    staff: &PlatformStaff,
    failed: Option<(String, String)>,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let (flags, overrides) = cross_tenant_tx(&state.pool, staff, |conn| {
        let flags = crate::db::sql_query("SELECT key, name, description, enabled FROM feature_flags ORDER BY name")
            .load(conn)?;
        let overrides = crate::db::sql_query(
            "SELECT f.flag_key, f.org_id, o.name AS org_name, f.enabled
             FROM feature_flag_overrides f JOIN organizations o ON o.id = f.org_id ORDER BY lower(o.name)",
        )
        .load(conn)?;
        Ok((flags, overrides))
    })
    .await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let page = FlagsPage {
        layout: Layout::platform(req, &staff.user, "Feature flags", "/platform/feature-flags"),
        flags,
        overrides,
        failed,
        errors,
    };
    render(status, &page)
}

/// GET /platform/feature-flags
pub async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: PlatformStaff,
) -> Result<HttpResponse, AppError> {
    page(&req, &state, &staff, None, FieldErrors::default()).await
}

#[derive(Deserialize)]
pub struct FlagForm {
    /// "on", "off", or "default" (removes an organization's override).
    enabled: String,
    /// Empty: the global default. Otherwise the organization's exact name or id.
    #[serde(default)]
    organization: String,
}

enum Change {
    Global(bool),
    Override(OrgId, String, Option<bool>),
}

/// POST /platform/feature-flags/{key}
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: PlatformStaff,
    meta: RequestMeta,
    path: web::Path<String>,
    Form(form): Form<FlagForm>,
) -> Result<HttpResponse, AppError> {
    let key = path.into_inner();
    let enabled = match form.enabled.as_str() {
        "on" => Some(true),
        "off" => Some(false),
        "default" if !form.organization.trim().is_empty() => None,
        _ => return Err(AppError::BadRequest("Choose on or off.".into())),
    };
    let organization = form.organization.trim().to_string();
    let (actor, typed) = (staff.id(), organization.clone());
    let flag_key = key.clone();
    let outcome = cross_tenant_tx(&state.pool, &staff, move |conn| {
        let name: String = feature_flags::table.find(&flag_key).select(feature_flags::name).first(conn)?;
        let change = if organization.is_empty() {
            Change::Global(enabled.unwrap_or(true))
        } else {
            #[derive(QueryableByName)]
            struct Found {
                #[diesel(sql_type = SqlUuid)]
                id: OrgId,
                #[diesel(sql_type = Text)]
                name: String,
            }
            let found: Vec<Found> = crate::db::sql_query(
                "SELECT id, name FROM organizations WHERE id::text = $1 OR lower(name) = lower($1) LIMIT 2",
            )
            .bind::<Text, _>(&organization)
            .load(conn)?;
            match found.as_slice() {
                [one] => Change::Override(one.id, one.name.clone(), enabled),
                [] => return Ok(Err("No organization has that name. Type its exact name or its id.")),
                _ => return Ok(Err("More than one organization has that name: use its id.")),
            }
        };
        let summary = match &change {
            Change::Global(on) => {
                diesel::update(feature_flags::table.find(&flag_key))
                    .set((feature_flags::enabled.eq(on), feature_flags::updated_at.eq(diesel::dsl::now)))
                    .execute(conn)?;
                format!("Switched {name} {} for everyone without an override", if *on { "on" } else { "off" })
            }
            Change::Override(org_id, org_name, Some(on)) => {
                diesel::insert_into(feature_flag_overrides::table)
                    .values((
                        feature_flag_overrides::org_id.eq(org_id),
                        feature_flag_overrides::flag_key.eq(&flag_key),
                        feature_flag_overrides::enabled.eq(on),
                    ))
                    .on_conflict((feature_flag_overrides::org_id, feature_flag_overrides::flag_key))
                    .do_update()
                    .set((
                        feature_flag_overrides::enabled.eq(on),
                        feature_flag_overrides::updated_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)?;
                format!("Switched {name} {} for {org_name}", if *on { "on" } else { "off" })
            }
            Change::Override(org_id, org_name, None) => {
                diesel::delete(
                    feature_flag_overrides::table
                        .filter(feature_flag_overrides::org_id.eq(org_id))
                        .filter(feature_flag_overrides::flag_key.eq(&flag_key)),
                )
                .execute(conn)?;
                format!("{org_name} follows the default for {name} again")
            }
        };
        let target = match &change {
            Change::Global(_) => None,
            Change::Override(org_id, ..) => Some(org_id.0),
        };
        let mut event = PlatformEvent::new("platform.feature_flag_changed", summary.clone())
            .metadata(serde_json::json!({ "flag": flag_key, "enabled": enabled }));
        if let Some(id) = target {
            event = event.target("organization", id);
        }
        record(conn, Some(actor), &meta, event)?;
        Ok(Ok(summary))
    })
    .await?;
    match outcome {
        Ok(summary) => Ok(crate::web::flash::redirect_with(
            &req,
            "/platform/feature-flags",
            crate::web::flash::Flash::success(format!("{summary}.")),
        )),
        Err(message) => {
            let mut errors = FieldErrors::default();
            errors.add("organization", message);
            page(&req, &state, &staff, Some((key, typed)), errors).await
        }
    }
}
