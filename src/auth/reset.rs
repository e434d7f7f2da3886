//! "Forgot password": a single-use link that expires in an hour, mailed through the
//! queue. The answer never says whether the address has an account. A reset ends
//! every session of the account.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;
use diesel::prelude::*;
use serde::Deserialize;

use super::forms::{Email, FieldErrors, new_password};
use super::tokens::{hash_token, random_token};
use super::{password, queries};
use crate::audit::{self, AuditEvent};
use crate::db::{self, ids::TokenId, ids::UserId, schema::sessions, schema::user_tokens, schema::users};
use crate::mail::{self, Brand, Letter};
use crate::state::AppState;
use crate::web::flash::{Flash, redirect_with};
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::{AppError, Form, render};

pub const PURPOSE: &str = "password_reset";
const VALID_FOR_MINUTES: i64 = 60;

#[derive(Template)]
#[template(path = "auth/forgot.html")]
struct ForgotPage {
    layout: Layout,
    email: String,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "auth/reset.html")]
struct ResetPage {
    layout: Layout,
    token: String,
    valid: bool,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
}

pub async fn forgot_page(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let page = ForgotPage {
        layout: Layout::public(&req, "Reset your password"),
        email: String::new(),
        errors: FieldErrors::default(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Insertable)]
#[diesel(table_name = user_tokens)]
struct NewToken<'a> {
    id: TokenId,
    user_id: UserId,
    purpose: &'a str,
    token_hash: Vec<u8>,
    expires_at: chrono::DateTime<Utc>,
}

pub async fn forgot(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    Form(form): Form<ForgotForm>,
) -> Result<HttpResponse, AppError> {
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(message) => {
            let mut errors = FieldErrors::default();
            errors.add("email", message);
            let page = ForgotPage { layout: Layout::public(&req, "Reset your password"), email: form.email, errors };
            return render(StatusCode::BAD_REQUEST, &page);
        }
    };
    let app_url = state.settings.app_url().to_string();
    db::run(&state.pool, move |conn| {
        let Some(user) = queries::find_by_email(conn, email.as_str())? else { return Ok(()) };
        if user.status != "active" {
            return Ok(());
        }
        let token = random_token();
        let letter = Letter {
            brand: Brand::client_hub(),
            subject: "Reset your Client Hub password".into(),
            greeting: format!("Hello {},", user.name),
            paragraphs: vec![
                "Someone (we hope you) asked to reset the password of your Client Hub account.".into(),
                "Choose a new password with the button below. The link works once, for the next hour.".into(),
            ],
            action: Some(("Choose a new password".into(), format!("{app_url}/password/reset/{token}"))),
            fine_print: vec!["If you did not ask for this, ignore this email: your password stays as it is.".into()],
        };
        let email = letter.render(&user.email)?;
        conn.transaction(|conn| {
            // Only the newest link works.
            diesel::delete(
                user_tokens::table
                    .filter(user_tokens::user_id.eq(user.id))
                    .filter(user_tokens::purpose.eq(PURPOSE))
                    .filter(user_tokens::used_at.is_null()),
            )
            .execute(conn)?;
            diesel::insert_into(user_tokens::table)
                .values(NewToken {
                    id: TokenId::new(),
                    user_id: user.id,
                    purpose: PURPOSE,
                    token_hash: hash_token(&token),
                    expires_at: Utc::now() + chrono::Duration::minutes(VALID_FOR_MINUTES),
                })
                .execute(conn)?;
            mail::enqueue(conn, None, &email)?;
            audit::record(
                conn,
                &meta,
                AuditEvent::new("auth.password_reset_requested").actor(user.id).entity("user", user.id.0),
            )?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok(redirect_with(
        &req,
        "/login",
        Flash::info("If an account exists for that address, we have emailed it a link to choose a new password."),
    ))
}

/// The user a live reset token belongs to.
fn token_owner(conn: &mut PgConnection, token: &str) -> QueryResult<Option<(TokenId, UserId)>> {
    user_tokens::table
        .filter(user_tokens::token_hash.eq(hash_token(token)))
        .filter(user_tokens::purpose.eq(PURPOSE))
        .filter(user_tokens::used_at.is_null())
        .filter(user_tokens::expires_at.gt(Utc::now()))
        .select((user_tokens::id, user_tokens::user_id))
        .first(conn)
        .optional()
}

pub async fn reset_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let lookup = token.clone();
    let valid = db::run(&state.pool, move |conn| Ok(token_owner(conn, &lookup)?.is_some())).await?;
    let page = ResetPage {
        layout: Layout::public(&req, "Choose a new password"),
        token,
        valid,
        errors: FieldErrors::default(),
    };
    render(if valid { StatusCode::OK } else { StatusCode::NOT_FOUND }, &page)
}

pub async fn reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    token: web::Path<String>,
    Form(form): Form<ResetForm>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let new = match new_password(&form.password) {
        Ok(new) => new,
        Err(message) => {
            let mut errors = FieldErrors::default();
            errors.add("password", message);
            let page = ResetPage { layout: Layout::public(&req, "Choose a new password"), token, valid: true, errors };
            return render(StatusCode::BAD_REQUEST, &page);
        }
    };
    let hash = web::block(move || password::hash(&new))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
        .map_err(AppError::Internal)?;
    let done = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            // Spent in the same statement that finds it: two requests racing with one
            // link cannot both get through.
            let spent: Option<UserId> = diesel::update(
                user_tokens::table
                    .filter(user_tokens::token_hash.eq(hash_token(&token)))
                    .filter(user_tokens::purpose.eq(PURPOSE))
                    .filter(user_tokens::used_at.is_null())
                    .filter(user_tokens::expires_at.gt(Utc::now())),
            )
            .set(user_tokens::used_at.eq(Utc::now()))
            .returning(user_tokens::user_id)
            .get_result(conn)
            .optional()?;
            let Some(user_id) = spent else { return Ok(false) };
            queries::set_password(conn, user_id, &hash)?;
            // Whoever had the old password is signed out everywhere.
            diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?;
            // The owner of the mailbox is back in control: failed guesses no longer lock them out.
            let email: String = users::table.find(user_id).select(users::email).get_result(conn)?;
            super::throttle::clear(conn, &email)?;
            audit::record(
                conn,
                &meta,
                AuditEvent::new("auth.password_reset").actor(user_id).entity("user", user_id.0),
            )?;
            Ok::<_, AppError>(true)
        })
    })
    .await?;
    if !done {
        let page = ResetPage {
            layout: Layout::public(&req, "Choose a new password"),
            token: String::new(),
            valid: false,
            errors: FieldErrors::default(),
        };
        return render(StatusCode::NOT_FOUND, &page);
    }
    Ok(redirect_with(&req, "/login", Flash::success("Your password has been changed. Log in with your new password.")))
}
