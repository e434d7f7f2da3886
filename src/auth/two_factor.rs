//! Two-factor sign-in: set up with an authenticator app (QR code), recovery codes
//! shown once and stored hashed, the second step at login, and the ways back in for
//! someone who lost their phone (a recovery code, or an admin's reset).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use serde::Deserialize;

use super::forms::{FieldErrors, safe_next};
use super::tokens::hash_token;
use super::{password, totp};
use crate::audit::{self, AuditEvent};
use crate::db::ids::UserId;
use crate::db::schema::{recovery_codes, users};
use crate::db::{self};
use crate::state::AppState;
use crate::web::auth::{CurrentUser, auth_of};
use crate::web::flash::{Flash, redirect, redirect_with};
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::session::TypedSession;
use crate::web::{AppError, Form, render};

const RECOVERY_CODES: usize = 10;
/// Wrong second-step codes in a row before the second step locks …
const MAX_FAILURES: i32 = 5;
/// … for this long.
const LOCK_MINUTES: i64 = 15;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Passed,
    Failed,
    Locked,
}

#[derive(Queryable)]
struct TwoFactorState {
    sealed_secret: Option<String>,
    enabled_at: Option<chrono::DateTime<Utc>>,
    last_step: Option<i64>,
}

fn state_of(conn: &mut PgConnection, user_id: UserId) -> QueryResult<TwoFactorState> {
    users::table.find(user_id).select((users::totp_secret, users::totp_enabled_at, users::totp_last_step)).first(conn)
}

/// Ten codes like `k3f9-q7xm-2ahd`, and their hashes for the table.
fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw = totp::base32(&totp::generate_secret()[..8]).to_lowercase();
            format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
        })
        .collect()
}

fn normalize_recovery(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase()
}

fn store_recovery_codes(conn: &mut PgConnection, user_id: UserId, codes: &[String]) -> QueryResult<()> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn)?;
    let rows: Vec<_> = codes
        .iter()
        .map(|c| {
            (
                recovery_codes::id.eq(uuid::Uuid::now_v7()),
                recovery_codes::user_id.eq(user_id),
                recovery_codes::code_hash.eq(hash_token(&normalize_recovery(c))),
            )
        })
        .collect();
    diesel::insert_into(recovery_codes::table).values(&rows).execute(conn).map(|_| ())
}

#[derive(Template)]
#[template(path = "profile/two_factor.html")]
struct SetupPage {
    layout: Layout,
    /// Sent here because the organization requires it.
    required: bool,
    enabled: bool,
    qr_svg: String,
    secret: String,
    recovery_codes: Vec<String>,
    remaining_codes: i64,
    errors: FieldErrors,
}

async fn setup_page(
    req: &HttpRequest,
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    errors: FieldErrors,
    recovery_codes: Vec<String>,
) -> Result<HttpResponse, AppError> {
    let key = state.cookie_key.encryption().to_vec();
    let (user_id, email) = (user.id, user.email.clone());
    let (enabled, secret, remaining) = db::run(&state.pool, move |conn| {
        let current = state_of(conn, user_id)?;
        let remaining: i64 = recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::used_at.is_null())
            .count()
            .get_result(conn)?;
        if current.enabled_at.is_some() {
            return Ok((true, Vec::new(), remaining));
        }
        // A pending secret is kept until it is confirmed, so reloading shows the same QR code.
        let secret = match current.sealed_secret.as_deref().map(|s| totp::open(&key, s)) {
            Some(Ok(secret)) => secret,
            _ => {
                let secret = totp::generate_secret();
                diesel::update(users::table.find(user_id))
                    .set(users::totp_secret.eq(totp::seal(&key, &secret).map_err(AppError::Internal)?))
                    .execute(conn)?;
                secret
            }
        };
        Ok::<_, AppError>((false, secret, remaining))
    })
    .await?;
    let qr_svg =
        if enabled { String::new() } else { totp::qr_svg(&totp::otpauth_uri(&secret, &email)).unwrap_or_default() };
    let org = auth_of(req).await?.and_then(|a| a.org.ok());
    let required = req.query_string().contains("required=1") && !enabled;
    let page = SetupPage {
        layout: Layout::user(req, user, org.as_ref(), "Two-factor sign-in"),
        required,
        enabled,
        qr_svg,
        secret: if enabled { String::new() } else { totp::base32(&secret) },
        recovery_codes,
        remaining_codes: remaining,
        errors,
    };
    render(status, &page)
}

/// GET /profile/two-factor
pub async fn show(req: HttpRequest, state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    setup_page(&req, &state, &user, StatusCode::OK, FieldErrors::default(), Vec::new()).await
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// POST /profile/two-factor/enable — confirms the app works, then shows recovery codes once.
pub async fn enable(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Form(form): Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let key = state.cookie_key.encryption().to_vec();
    let user_id = user.id;
    let codes = new_recovery_codes();
    let stored = codes.clone();
    let enabled = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let current = state_of(conn, user_id)?;
            if current.enabled_at.is_some() {
                return Ok(false);
            }
            let Some(Ok(secret)) = current.sealed_secret.as_deref().map(|s| totp::open(&key, s)) else {
                return Ok(false);
            };
            let Some(step) = totp::verify(&secret, &form.code, Utc::now().timestamp(), None) else { return Ok(false) };
            diesel::update(users::table.find(user_id))
                .set((users::totp_enabled_at.eq(Utc::now()), users::totp_last_step.eq(step)))
                .execute(conn)?;
            store_recovery_codes(conn, user_id, &stored)?;
            audit::record(
                conn,
                &meta,
                AuditEvent::new("auth.two_factor_enabled").actor(user_id).entity("user", user_id.0),
            )?;
            Ok::<_, AppError>(true)
        })
    })
    .await?;
    if !enabled {
        let mut errors = FieldErrors::default();
        errors.add("code", "That code is not right. Enter the 6 digits your app shows now.");
        return setup_page(&req, &state, &user, StatusCode::BAD_REQUEST, errors, Vec::new()).await;
    }
    setup_page(&req, &state, &user, StatusCode::OK, FieldErrors::default(), codes).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

async fn password_ok(state: &AppState, user_id: UserId, given: String) -> Result<bool, AppError> {
    let stored = db::run(&state.pool, move |conn| Ok(super::queries::find_by_id(conn, user_id)?.password_hash)).await?;
    web::block(move || password::verify(&given, &stored)).await.map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))
}

async fn wrong_password(req: &HttpRequest, state: &AppState, user: &CurrentUser) -> Result<HttpResponse, AppError> {
    let mut errors = FieldErrors::default();
    errors.add("password", "That is not your password.");
    setup_page(req, state, user, StatusCode::BAD_REQUEST, errors, Vec::new()).await
}

/// POST /profile/two-factor/disable (password)
pub async fn disable(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Form(form): Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    if !password_ok(&state, user.id, form.password).await? {
        return wrong_password(&req, &state, &user).await;
    }
    let user_id = user.id;
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            clear(conn, user_id)?;
            audit::record(
                conn,
                &meta,
                AuditEvent::new("auth.two_factor_disabled").actor(user_id).entity("user", user_id.0),
            )?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok(redirect_with(
        &req,
        "/profile/two-factor",
        Flash::info("Two-factor sign-in is off. Your password alone now signs you in."),
    ))
}

/// Turns two-factor sign-in off for `user_id` (themself, or an admin's reset).
pub fn clear(conn: &mut PgConnection, user_id: UserId) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::totp_secret.eq(None::<String>),
            users::totp_enabled_at.eq(None::<chrono::DateTime<Utc>>),
            users::totp_last_step.eq(None::<i64>),
        ))
        .execute(conn)?;
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn).map(|_| ())
}

/// POST /profile/two-factor/recovery-codes (password) — a fresh set; the old ones stop working.
pub async fn regenerate_codes(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Form(form): Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    if !password_ok(&state, user.id, form.password).await? {
        return wrong_password(&req, &state, &user).await;
    }
    let codes = new_recovery_codes();
    let stored = codes.clone();
    let user_id = user.id;
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            if state_of(conn, user_id)?.enabled_at.is_none() {
                return Err(AppError::NotFound);
            }
            store_recovery_codes(conn, user_id, &stored)?;
            audit::record(
                conn,
                &meta,
                AuditEvent::new("auth.recovery_codes_regenerated").actor(user_id).entity("user", user_id.0),
            )?;
            Ok(())
        })
    })
    .await?;
    setup_page(&req, &state, &user, StatusCode::OK, FieldErrors::default(), codes).await
}

#[derive(Template)]
#[template(path = "auth/two_factor.html")]
struct ChallengePage {
    layout: Layout,
    next: String,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

/// GET /login/two-factor — the second step of a login.
pub async fn challenge(
    req: HttpRequest,
    session: TypedSession,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    if session.pending_two_factor().is_none() {
        return Ok(redirect("/login"));
    }
    let page = ChallengePage {
        layout: Layout::public(&req, "Two-factor sign-in"),
        next: safe_next(&query.next).unwrap_or("").to_string(),
        error: None,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct ChallengeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    recovery_code: String,
    #[serde(default)]
    next: String,
}

/// POST /login/two-factor
pub async fn answer(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: TypedSession,
    meta: RequestMeta,
    Form(form): Form<ChallengeForm>,
) -> Result<HttpResponse, AppError> {
    let Some(user_id) = session.pending_two_factor() else {
        return Ok(redirect_with(&req, "/login", Flash::info("Your sign-in took too long. Please log in again.")));
    };
    let key = state.cookie_key.encryption().to_vec();
    let (code, recovery) = (form.code.clone(), normalize_recovery(&form.recovery_code));
    let audit_meta = meta.clone();
    let passed = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let current = state_of(conn, user_id)?;
            let locked_until: Option<chrono::DateTime<Utc>> =
                users::table.find(user_id).select(users::two_factor_locked_until).first(conn)?;
            if locked_until.is_some_and(|until| until > Utc::now()) {
                return Ok(Check::Locked);
            }
            let passed = if !recovery.is_empty() {
                diesel::update(
                    recovery_codes::table
                        .filter(recovery_codes::user_id.eq(user_id))
                        .filter(recovery_codes::code_hash.eq(hash_token(&recovery)))
                        .filter(recovery_codes::used_at.is_null()),
                )
                .set(recovery_codes::used_at.eq(Utc::now()))
                .execute(conn)?
                    == 1
            } else {
                let secret = current.sealed_secret.as_deref().map(|s| totp::open(&key, s));
                match secret {
                    Some(Ok(secret)) => match totp::verify(&secret, &code, Utc::now().timestamp(), current.last_step) {
                        // Recorded only if no other request used this step meanwhile (no replay).
                        Some(step) => {
                            diesel::update(
                                users::table
                                    .find(user_id)
                                    .filter(users::totp_last_step.is_null().or(users::totp_last_step.lt(step))),
                            )
                            .set(users::totp_last_step.eq(step))
                            .execute(conn)?
                                == 1
                        }
                        None => false,
                    },
                    _ => false,
                }
            };
            let action = if passed { "auth.login" } else { "auth.two_factor_failed" };
            let org: Option<crate::db::ids::OrgId> =
                users::table.find(user_id).select(users::active_org_id).first(conn)?;
            let mut event = AuditEvent::new(action).actor(user_id).entity("user", user_id.0);
            if let Some(org) = org {
                event = event.org(org);
            }
            if passed && !recovery.is_empty() {
                event = event.metadata(serde_json::json!({ "with": "recovery_code" }));
            }
            audit::record(conn, &audit_meta, event)?;
            if passed {
                super::queries::record_login(conn, user_id)?;
                diesel::update(users::table.find(user_id)).set(users::two_factor_failures.eq(0)).execute(conn)?;
                return Ok(Check::Passed);
            }
            // Wrong codes are counted per account, whatever address they come from.
            let failures: i32 = diesel::update(users::table.find(user_id))
                .set(users::two_factor_failures.eq(users::two_factor_failures + 1))
                .returning(users::two_factor_failures)
                .get_result(conn)?;
            if failures >= MAX_FAILURES {
                diesel::update(users::table.find(user_id))
                    .set((
                        users::two_factor_failures.eq(0),
                        users::two_factor_locked_until.eq(Utc::now() + chrono::Duration::minutes(LOCK_MINUTES)),
                    ))
                    .execute(conn)?;
                return Ok(Check::Locked);
            }
            Ok::<_, AppError>(Check::Failed)
        })
    })
    .await?;
    let error = match passed {
        Check::Passed => None,
        Check::Failed => {
            Some("That code is not right. Try the newest code from your app, or one of your recovery codes.")
        }
        Check::Locked => Some("Too many wrong codes. Two-factor sign-in is locked for 15 minutes; try again later."),
    };
    if let Some(error) = error {
        let page = ChallengePage {
            layout: Layout::public(&req, "Two-factor sign-in"),
            next: safe_next(&form.next).unwrap_or("").to_string(),
            error: Some(error),
        };
        let status = if passed == Check::Locked { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::BAD_REQUEST };
        return render(status, &page);
    }
    session.log_in(&req, user_id, &meta).map_err(|e| AppError::Internal(e.into()))?;
    Ok(redirect(safe_next(&form.next).unwrap_or("/dashboard")))
}
