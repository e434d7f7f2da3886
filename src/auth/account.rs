//! Changing one's name (at once) and email address (only once the new address is
//! proven: a link goes to it, and a notice to the old one).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use diesel::prelude::*;

use super::forms::{Email, FieldErrors};
use super::handlers::{AccountForm, profile_page};
use super::queries;
use super::tokens::{hash_token, random_token};
use crate::audit::{self, AuditEvent};
use crate::db::ids::{TokenId, UserId};

use crate::db::schema::{user_tokens, users};
use crate::db::{self};
use crate::mail::{self, Brand, Letter};
use crate::state::AppState;
use crate::web::auth::{CurrentUser, auth_of};
use crate::web::flash::{Flash, redirect_with};
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form};

pub const PURPOSE: &str = "email_change";
const VALID_FOR_HOURS: i64 = 24;

enum Outcome {
    Saved { confirmation_sent_to: Option<String> },
    EmailTaken,
}

/// POST /profile
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Form(form): Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    let mut errors = FieldErrors::default();
    let name = form.name.trim().to_string();
    if name.is_empty() {
        errors.add("name", "Enter your name.");
    } else if name.chars().count() > 120 || name.chars().any(char::is_control) {
        errors.add("name", "Use at most 120 letters, numbers and punctuation.");
    }
    let email = Email::parse(&form.email).map_err(|e| errors.add("email", e));
    let Ok(email) = email else {
        return profile_page(&req, &state, user, Some(form), StatusCode::BAD_REQUEST, errors).await;
    };
    if email.as_str() != user.email {
        let (user_id, given) = (user.id, form.current_password.clone());
        let stored = db::run(&state.pool, move |conn| Ok(queries::find_by_id(conn, user_id)?.password_hash)).await?;
        let ok = web::block(move || super::password::verify(&given, &stored))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
        if !ok {
            errors.add("account_password", "Enter your current password to change your email address.");
        }
    }
    if !errors.is_empty() {
        return profile_page(&req, &state, user, Some(form), StatusCode::BAD_REQUEST, errors).await;
    }
    let app_url = state.settings.app_url().to_string();
    let me = user.clone();
    let outcome = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            diesel::update(users::table.find(me.id)).set((users::name.eq(&name), users::updated_at.eq(Utc::now()))).execute(conn)?;
            if name != me.name {
                audit::record(conn, &meta, AuditEvent::new("profile.updated").actor(me.id).entity("user", me.id.0))?;
            }
            if email.as_str() == me.email {
                return Ok(Outcome::Saved { confirmation_sent_to: None });
            }
            if queries::find_by_email(conn, email.as_str())?.is_some() {
                return Ok(Outcome::EmailTaken);
            }
            let token = random_token();
            diesel::delete(user_tokens::table.filter(user_tokens::user_id.eq(me.id)).filter(user_tokens::purpose.eq(PURPOSE)))
                .execute(conn)?;
            diesel::insert_into(user_tokens::table)
                .values((
                    user_tokens::id.eq(TokenId::new()),
                    user_tokens::user_id.eq(me.id),
                    user_tokens::purpose.eq(PURPOSE),
                    user_tokens::token_hash.eq(hash_token(&token)),
                    user_tokens::new_email.eq(email.as_str()),
                    user_tokens::expires_at.eq(Utc::now() + chrono::Duration::hours(VALID_FOR_HOURS)),
                ))
                .execute(conn)?;
            let confirm = Letter {
                brand: Brand::client_hub(),
                subject: "Confirm your new email address".into(),
                greeting: format!("Hello {name},"),
                paragraphs: vec![format!(
                    "You asked to use {} for your Client Hub account. Confirm it with the button below; until then your account keeps its current address.",
                    email.as_str()
                )],
                action: Some(("Confirm this address".into(), format!("{app_url}/profile/email/confirm/{token}"))),
                fine_print: vec![format!("The link works once, for {VALID_FOR_HOURS} hours. If you did not ask for this, ignore this email.")],
            };
            mail::enqueue(conn, None, &confirm.render(email.as_str())?)?;
            let notice = Letter {
                brand: Brand::client_hub(),
                subject: "Your Client Hub email address is about to change".into(),
                greeting: format!("Hello {name},"),
                paragraphs: vec![format!(
                    "Someone signed in to your account asked to change its email address to {}. It changes only when that address is confirmed.",
                    email.as_str()
                )],
                action: None,
                fine_print: vec!["If this was not you, change your password at once: it also signs everyone else out.".into()],
            };
            mail::enqueue(conn, None, &notice.render(&me.email)?)?;
            audit::record(
                conn,
                &meta,
                AuditEvent::new("profile.email_change_requested").actor(me.id).entity("user", me.id.0).metadata(serde_json::json!({ "new_email": email.as_str() })),
            )?;
            Ok::<_, AppError>(Outcome::Saved { confirmation_sent_to: Some(email.as_str().to_string()) })
        })
    })
    .await?;
    match outcome {
        Outcome::EmailTaken => {
            errors.add("email", "Another account already uses this address.");
            profile_page(&req, &state, user, Some(form), StatusCode::BAD_REQUEST, errors).await
        }
        Outcome::Saved { confirmation_sent_to: Some(to) } => Ok(redirect_with(
            &req,
            "/profile",
            Flash::info(format!("We sent a link to {to}. Your email address changes when you open it.")),
        )),
        Outcome::Saved { confirmation_sent_to: None } => {
            Ok(redirect_with(&req, "/profile", Flash::success("Your profile has been saved.")))
        }
    }
}

/// GET /profile/email/confirm/{token} — the link mailed to the new address.
pub async fn confirm_email(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let hash = hash_token(&token);
    let changed = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let spent: Option<(UserId, Option<String>)> = diesel::update(
                user_tokens::table
                    .filter(user_tokens::token_hash.eq(&hash))
                    .filter(user_tokens::purpose.eq(PURPOSE))
                    .filter(user_tokens::used_at.is_null())
                    .filter(user_tokens::expires_at.gt(Utc::now())),
            )
            .set(user_tokens::used_at.eq(Utc::now()))
            .returning((user_tokens::user_id, user_tokens::new_email))
            .get_result(conn)
            .optional()?;
            let Some((user_id, Some(new_email))) = spent else { return Ok(None) };
            if queries::find_by_email(conn, &new_email)?.is_some() {
                return Ok(None);
            }
            // Links mailed to the old address stop working with it.
            diesel::delete(
                user_tokens::table.filter(user_tokens::user_id.eq(user_id)).filter(user_tokens::used_at.is_null()),
            )
            .execute(conn)?;
            diesel::update(users::table.find(user_id))
                .set((users::email.eq(&new_email), users::updated_at.eq(Utc::now())))
                .execute(conn)?;
            audit::record(
                conn,
                &meta,
                AuditEvent::new("profile.email_changed")
                    .actor(user_id)
                    .entity("user", user_id.0)
                    .metadata(serde_json::json!({ "email": new_email })),
            )?;
            Ok::<_, AppError>(Some(new_email))
        })
    })
    .await?;
    let signed_in = auth_of(&req).await?.is_some();
    let home = if signed_in { "/profile" } else { "/login" };
    Ok(match changed {
        Some(email) => redirect_with(&req, home, Flash::success(format!("Your email address is now {email}."))),
        None => redirect_with(
            &req,
            home,
            Flash::error(
                "That confirmation link has expired or was already used. Change your email again from your profile to get a fresh one.",
            ),
        ),
    })
}
