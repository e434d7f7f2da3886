//! Thin handlers: who may do this, what changes, what the user sees next.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::forms::{FieldErrors, LoginForm, PasswordChangeForm, SignupForm, new_password, safe_next};
use super::password;
use super::queries::{self, SessionRow, SignupError};
use crate::audit::{self, AuditEvent};
use crate::db::{self, ids::SessionId};
use crate::state::AppState;
use crate::web::auth::{CurrentUser, auth_of};
use crate::web::flash::{Flash, redirect, redirect_with};
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::session::TypedSession;
use crate::web::{AppError, Form, render};

#[derive(Template)]
#[template(path = "auth/signup.html")]
struct SignupPage {
    layout: Layout,
    form: SignupForm,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    next: String,
    error: Option<String>,
}

async fn signed_in(req: &HttpRequest) -> Result<bool, AppError> {
    Ok(auth_of(req).await?.is_some())
}

async fn hash_password(password: String) -> Result<String, AppError> {
    web::block(move || password::hash(&password))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
        .map_err(AppError::Internal)
}

pub async fn signup_page(req: HttpRequest) -> Result<HttpResponse, AppError> {
    if signed_in(&req).await? {
        return Ok(redirect("/dashboard"));
    }
    let page = SignupPage {
        layout: Layout::public(&req, "Create your account"),
        form: SignupForm::default(),
        errors: FieldErrors::default(),
    };
    render(StatusCode::OK, &page)
}

pub async fn signup(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    session: TypedSession,
    Form(mut form): Form<SignupForm>,
) -> Result<HttpResponse, AppError> {
    let invalid = |req: &HttpRequest, mut form: SignupForm, errors| {
        form.password.clear();
        render(
            StatusCode::BAD_REQUEST,
            &SignupPage { layout: Layout::public(req, "Create your account"), form, errors },
        )
    };
    let signup = match form.validate() {
        Ok(signup) => signup,
        Err(errors) => return invalid(&req, form, errors),
    };
    let password_hash = hash_password(signup.password.clone()).await?;
    let signup_meta = meta.clone();
    let result = db::run(&state.pool, move |conn| {
        match queries::sign_up(
            conn,
            &signup_meta,
            &signup.name,
            signup.email.as_str(),
            &password_hash,
            &signup.org_name,
        ) {
            Ok((user_id, _)) => Ok(Some(user_id)),
            Err(SignupError::EmailTaken) => Ok(None),
            Err(SignupError::Db(e)) => Err(e.into()),
        }
    })
    .await?;
    let Some(user_id) = result else {
        let mut errors = FieldErrors::default();
        errors.add("email", "An account with this email already exists. Log in instead.");
        form.password.clear();
        return invalid(&req, form, errors);
    };
    session.log_in(&req, user_id, &meta).map_err(|e| AppError::Internal(e.into()))?;
    Ok(redirect_with(&req, "/dashboard", Flash::success("Welcome to Client Hub! Your workspace is ready.")))
}

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

pub async fn login_page(req: HttpRequest, query: web::Query<NextQuery>) -> Result<HttpResponse, AppError> {
    if signed_in(&req).await? {
        return Ok(redirect("/dashboard"));
    }
    let next = safe_next(&query.next).unwrap_or("").to_string();
    let page = LoginPage { layout: Layout::public(&req, "Log in"), email: String::new(), next, error: None };
    render(StatusCode::OK, &page)
}

enum LoginOutcome {
    /// Signed in; where to go when the form names nowhere.
    Success(crate::db::ids::UserId, &'static str),
    SecondStep(crate::db::ids::UserId),
    BadCredentials,
    Refused,
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    session: TypedSession,
    Form(form): Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let email = form.email.trim().to_lowercase();
    let lookup_email = email.clone();
    let throttle_meta = meta.clone();
    let lookup = db::run(&state.pool, move |conn| {
        let address = crate::web::rate_limit::address_key(throttle_meta.ip.as_deref());
        match super::throttle::begin(conn, &lookup_email, address.as_deref())? {
            super::throttle::Attempt::Locked { retry_after_secs, first } => {
                if first {
                    let event =
                        AuditEvent::new("auth.login_throttled").metadata(serde_json::json!({ "email": lookup_email }));
                    audit::record(conn, &throttle_meta, event)?;
                }
                Ok(Err(retry_after_secs))
            }
            super::throttle::Attempt::Counted(attempt) => {
                Ok(Ok((queries::find_by_email(conn, &lookup_email)?, attempt)))
            }
        }
    })
    .await?;
    let (user, attempt) = match lookup {
        Ok(found) => found,
        Err(retry_after_secs) => return throttled(&req, &form, retry_after_secs),
    };
    let password = form.password.clone();
    let (user, verified) = web::block(move || {
        let verified = match &user {
            Some(u) => password::verify(&password, &u.password_hash),
            None => {
                password::verify_nothing(&password);
                false
            }
        };
        (user, verified)
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    let audit_meta = meta.clone();
    let outcome = db::run(&state.pool, move |conn| {
        let outcome = match (&user, verified) {
            (Some(u), true) if u.status == "active" && u.totp_enabled_at.is_some() => LoginOutcome::SecondStep(u.id),
            (Some(u), true) if u.status == "active" => {
                queries::record_login(conn, u.id)?;
                let home = if u.active_org_id.is_none() && queries::on_platform_team(conn, u.id)? {
                    "/platform"
                } else {
                    "/dashboard"
                };
                LoginOutcome::Success(u.id, home)
            }
            (Some(_), true) => LoginOutcome::Refused,
            _ => LoginOutcome::BadCredentials,
        };
        // The attempt was counted as a failure before the password was checked.
        match outcome {
            LoginOutcome::Success(..) => super::throttle::clear(conn, &email)?,
            LoginOutcome::SecondStep(_) | LoginOutcome::Refused => super::throttle::succeeded(conn, attempt)?,
            LoginOutcome::BadCredentials => {}
        }
        let action = match outcome {
            LoginOutcome::Success(..) => "auth.login",
            LoginOutcome::SecondStep(_) => "auth.password_accepted",
            LoginOutcome::Refused => "auth.login_refused",
            LoginOutcome::BadCredentials => "auth.login_failed",
        };
        let mut event = AuditEvent::new(action);
        match &user {
            Some(u) => {
                event = event.actor(u.id).entity("user", u.id.0);
                if let Some(org) = u.active_org_id {
                    event = event.org(org);
                }
            }
            None => {
                let attempted: String = email.chars().take(254).collect();
                event = event.metadata(serde_json::json!({ "email": attempted }));
            }
        }
        audit::record(conn, &audit_meta, event)?;
        Ok(outcome)
    })
    .await?;
    let failed = |error: &str| login_again(&req, &form, StatusCode::BAD_REQUEST, error.to_string());
    match outcome {
        LoginOutcome::Success(user_id, home) => {
            session.log_in(&req, user_id, &meta).map_err(|e| AppError::Internal(e.into()))?;
            Ok(redirect(safe_next(&form.next).unwrap_or(home)))
        }
        LoginOutcome::SecondStep(user_id) => {
            session.begin_two_factor(user_id).map_err(|e| AppError::Internal(e.into()))?;
            let next = safe_next(&form.next)
                .map(|n| format!("?next={}", crate::web::error::url_encode(n)))
                .unwrap_or_default();
            Ok(redirect(&format!("/login/two-factor{next}")))
        }
        LoginOutcome::BadCredentials => failed("The email or password is not right. Please try again."),
        LoginOutcome::Refused => {
            failed("This account has been suspended. Contact support if you think this is a mistake.")
        }
    }
}

/// The login form again, filled in as sent (but for the password), with `error`.
fn login_again(
    req: &HttpRequest,
    form: &LoginForm,
    status: StatusCode,
    error: String,
) -> Result<HttpResponse, AppError> {
    let page = LoginPage {
        layout: Layout::public(req, "Log in"),
        email: form.email.trim().chars().take(254).collect(),
        next: safe_next(&form.next).unwrap_or("").to_string(),
        error: Some(error),
    };
    render(status, &page)
}

/// The login page again, 429: too many failed sign-ins for this account or address.
fn throttled(req: &HttpRequest, form: &LoginForm, retry_after_secs: i64) -> Result<HttpResponse, AppError> {
    let minutes = (retry_after_secs + 59) / 60;
    let wait = if minutes <= 1 { "a minute".to_string() } else { format!("{minutes} minutes") };
    let error = format!("Too many failed sign-ins. For your security, try again in {wait}, or reset your password.");
    let mut res = login_again(req, form, StatusCode::TOO_MANY_REQUESTS, error)?;
    res.headers_mut().insert(actix_web::http::header::RETRY_AFTER, retry_after_secs.into());
    Ok(res)
}

pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    user: CurrentUser,
    session: TypedSession,
) -> Result<HttpResponse, AppError> {
    session.log_out(&req);
    let org = auth_of(&req).await?.and_then(|a| a.org.ok()).map(|o| o.org_id);
    db::run(&state.pool, move |conn| {
        let mut event = AuditEvent::new("auth.logout").actor(user.id).entity("user", user.id.0);
        if let Some(org) = org {
            event = event.org(org);
        }
        Ok(audit::record(conn, &meta, event)?)
    })
    .await?;
    Ok(redirect_with(&req, "/login", Flash::info("You have been logged out.")))
}

pub struct SessionView {
    pub id: String,
    pub device: String,
    pub ip: String,
    pub signed_in: String,
    pub last_seen: String,
    pub current: bool,
}

impl SessionView {
    fn from_row(row: SessionRow, current: Option<SessionId>) -> Self {
        SessionView {
            id: row.id.to_string(),
            device: queries::describe_device(row.user_agent.as_deref().unwrap_or("")),
            ip: row.ip.filter(|ip| !ip.is_empty()).unwrap_or_else(|| "unknown address".into()),
            signed_in: row.created_at.format("%e %b %Y, %H:%M UTC").to_string().trim().to_string(),
            last_seen: crate::web::time::ago(row.last_seen_at),
            current: Some(row.id) == current,
        }
    }
}

#[derive(Template)]
#[template(path = "profile/show.html")]
struct ProfilePage {
    layout: Layout,
    user: CurrentUser,
    account: AccountForm,
    sessions: Vec<SessionView>,
    two_factor_on: bool,
    errors: FieldErrors,
}

/// The name and email fields of the profile, as shown or as typed.
#[derive(Debug, Default, Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    /// Asked for when the address changes: a stolen session alone cannot move the account.
    #[serde(default)]
    pub current_password: String,
}

pub(super) async fn profile_page(
    req: &HttpRequest,
    state: &AppState,
    user: CurrentUser,
    account: Option<AccountForm>,
    status: StatusCode,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let account = account.unwrap_or_else(|| AccountForm {
        name: user.name.clone(),
        email: user.email.clone(),
        current_password: String::new(),
    });
    let user_id = user.id;
    let idle = chrono::Duration::minutes(state.settings.security.session_idle_minutes);
    let (rows, two_factor_on) = db::run(&state.pool, move |conn| {
        Ok((
            queries::list_sessions(conn, user_id, idle)?,
            queries::find_by_id(conn, user_id)?.totp_enabled_at.is_some(),
        ))
    })
    .await?;
    let current = user.session_id;
    let org = auth_of(req).await?.and_then(|a| a.org.ok());
    let page = ProfilePage {
        layout: Layout::user(req, &user, org.as_ref(), "Profile and security"),
        sessions: rows.into_iter().map(|r| SessionView::from_row(r, current)).collect(),
        user,
        account,
        two_factor_on,
        errors,
    };
    render(status, &page)
}

pub async fn profile(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    profile_page(&req, &state, user, None, StatusCode::OK, FieldErrors::default()).await
}

pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    user: CurrentUser,
    Form(form): Form<PasswordChangeForm>,
) -> Result<HttpResponse, AppError> {
    let mut errors = FieldErrors::default();
    let new = new_password(&form.password).map_err(|e| errors.add("password", e));
    let user_id = user.id;
    let stored = db::run(&state.pool, move |conn| Ok(queries::find_by_id(conn, user_id)?.password_hash)).await?;
    let current = form.current_password.clone();
    let current_ok = web::block(move || password::verify(&current, &stored))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    if !current_ok {
        errors.add("current_password", "That is not your current password.");
    }
    let new = match new {
        Ok(new) if errors.is_empty() => new,
        _ => return profile_page(&req, &state, user, None, StatusCode::BAD_REQUEST, errors).await,
    };
    let new_hash = hash_password(new).await?;
    let keep = user.session_id;
    db::run(&state.pool, move |conn| {
        use diesel::Connection;
        conn.transaction(|conn| {
            queries::set_password(conn, user_id, &new_hash)?;
            // Whoever else holds a session of this account is signed out.
            let ended = queries::revoke_other_sessions(conn, user_id, keep)?;
            audit::record(
                conn,
                &meta,
                AuditEvent::new("auth.password_changed")
                    .actor(user_id)
                    .entity("user", user_id.0)
                    .metadata(serde_json::json!({ "other_sessions_ended": ended })),
            )?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok(redirect_with(
        &req,
        "/profile",
        Flash::success("Your password has been changed. Other sessions were signed out."),
    ))
}

pub async fn revoke_session(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: SessionId = path.parse().map_err(|_| AppError::NotFound)?;
    let user_id = user.id;
    let ended = db::run(&state.pool, move |conn| {
        let ended = queries::revoke_session(conn, user_id, id)?;
        if ended > 0 {
            audit::record(conn, &meta, AuditEvent::new("auth.session_revoked").actor(user_id).entity("session", id.0))?;
        }
        Ok(ended)
    })
    .await?;
    if ended == 0 {
        return Err(AppError::NotFound);
    }
    if user.session_id == Some(id) {
        return Ok(redirect_with(&req, "/login", Flash::info("That was this session: you have been logged out.")));
    }
    Ok(redirect_with(&req, "/profile#sessions", Flash::success("The session has been ended.")))
}

pub async fn revoke_other_sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let user_id = user.id;
    let keep = user.session_id;
    let ended = db::run(&state.pool, move |conn| {
        let ended = queries::revoke_other_sessions(conn, user_id, keep)?;
        audit::record(
            conn,
            &meta,
            AuditEvent::new("auth.session_revoked")
                .actor(user_id)
                .metadata(serde_json::json!({ "sessions_ended": ended })),
        )?;
        Ok(ended)
    })
    .await?;
    let message = match ended {
        0 => "There were no other sessions.".to_string(),
        1 => "1 other session has been ended.".to_string(),
        n => format!("{n} other sessions have been ended."),
    };
    Ok(redirect_with(&req, "/profile#sessions", Flash::success(message)))
}
