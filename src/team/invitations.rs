//! Invitations: sent by email or display ID with a role, answered from the invitee's
//! invitations page or from the emailed link, which also lets a new person sign up
//! straight into the organization. Links are single-use tokens stored hashed; they
//! expire, and can be revoked or sent again.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamptz, Uuid as SqlUuid};
use serde::Deserialize;

use super::members::{self, grantable_roles};
use crate::audit::{self, AuditEvent};
use crate::auth::forms::{Email, new_password};
use crate::auth::tokens::{hash_token, random_token};
use crate::auth::{display_id, password, queries as accounts};
use crate::db::ids::{InvitationId, MembershipId, OrgId, RoleId, UserId};
use crate::db::schema::{invitations, memberships, users};
use crate::db::{self, Tenant, tenant};
use crate::mail::{self, Brand, Letter};
use crate::state::AppState;
use crate::web::auth::{CurrentUser, OrgContext, auth_of};
use crate::web::flash::{Flash, redirect, redirect_with};
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::session::TypedSession;
use crate::web::{AppError, Form, render};

const VALID_FOR_DAYS: i64 = 7;

#[derive(QueryableByName, Debug, Clone)]
pub struct PendingInvitation {
    #[diesel(sql_type = SqlUuid)]
    pub id: InvitationId,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Text)]
    pub role_name: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub invited_by: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub expires_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub last_sent_at: DateTime<Utc>,
}

impl PendingInvitation {
    pub fn expired(&self) -> bool {
        self.expires_at <= Utc::now()
    }

    pub fn sent(&self) -> String {
        crate::web::time::ago(self.last_sent_at)
    }
}

/// The organization's pending invitations (RLS scopes them to the tenant).
pub fn pending_for_org(conn: &mut PgConnection) -> QueryResult<Vec<PendingInvitation>> {
    diesel::sql_query(
        "SELECT i.id, i.email, r.name AS role_name, u.name AS invited_by, i.expires_at, i.last_sent_at
         FROM invitations i
         JOIN roles r ON r.org_id = i.org_id AND r.id = i.role_id
         LEFT JOIN users u ON u.id = i.invited_by
         WHERE i.status = 'pending' AND i.org_id = app_org_id()
         ORDER BY i.created_at DESC",
    )
    .load(conn)
}

/// "CH-7K3F9Q" or "ana@example.com".
enum Invitee {
    DisplayId(String),
    Email(Email),
}

fn parse_invitee(raw: &str) -> Result<Invitee, &'static str> {
    let trimmed = raw.trim();
    let upper = trimmed.to_ascii_uppercase();
    if upper.starts_with("CH-") && !trimmed.contains('@') {
        return if display_id::is_valid(&upper) {
            Ok(Invitee::DisplayId(upper))
        } else {
            Err("A display ID looks like CH-7K3F9Q.")
        };
    }
    Email::parse(trimmed).map(Invitee::Email).map_err(|_| "Enter an email address or a display ID such as CH-7K3F9Q.")
}

#[derive(Deserialize)]
pub struct SendForm {
    #[serde(default)]
    email_or_display_id: String,
    #[serde(default)]
    role_id: String,
}

#[derive(Insertable)]
#[diesel(table_name = invitations)]
struct NewInvitation<'a> {
    id: InvitationId,
    org_id: OrgId,
    email: &'a str,
    invitee_id: Option<UserId>,
    role_id: RoleId,
    invited_by: UserId,
    token_hash: Vec<u8>,
    expires_at: DateTime<Utc>,
}

/// The invitation email, with its link.
fn invitation_letter(
    app_url: &str,
    org_name: &str,
    brand_color: &str,
    inviter: &str,
    role: &str,
    token: &str,
) -> Letter {
    Letter {
        brand: Brand::org(org_name, brand_color),
        subject: format!("{inviter} invited you to {org_name} on Client Hub"),
        greeting: "Hello,".into(),
        paragraphs: vec![
            format!("{inviter} invited you to join {org_name} on Client Hub as {role}."),
            "Open the invitation to accept it. If you are new to Client Hub, you can create your account there in a minute.".into(),
        ],
        action: Some(("Open the invitation".into(), format!("{app_url}/invitations/open/{token}"))),
        fine_print: vec![
            format!("The invitation is valid for {VALID_FOR_DAYS} days."),
            "If you did not expect it, you can ignore this email.".into(),
        ],
    }
}

enum SendOutcome {
    Sent(String),
    Refused(&'static str, String),
}

/// POST /invitations/send
pub async fn send(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    Form(form): Form<SendForm>,
) -> Result<HttpResponse, AppError> {
    let invitee = parse_invitee(&form.email_or_display_id);
    let role_id = form.role_id.parse::<RoleId>().ok();
    let app_url = state.settings.app_url().to_string();
    let (actor, tenant) = (ctx.clone(), ctx.tenant());
    let outcome = match invitee {
        Err(message) => SendOutcome::Refused("email_or_display_id", message.to_string()),
        Ok(invitee) => {
            db::run(&state.pool, move |conn| {
                // Who is invited is looked up across accounts, before the tenant transaction.
                let (email, invitee_id) = match invitee {
                    Invitee::Email(email) => {
                        let existing = accounts::find_by_email(conn, email.as_str())?.map(|u| u.id);
                        (email.as_str().to_string(), existing)
                    }
                    Invitee::DisplayId(code) => {
                        match users::table
                            .filter(users::display_id.eq(&code))
                            .select((users::email, users::id))
                            .first::<(String, UserId)>(conn)
                            .optional()?
                        {
                            Some((email, id)) => (email, Some(id)),
                            None => {
                                return Ok(SendOutcome::Refused(
                                    "email_or_display_id",
                                    "No one has that display ID. Check it with the person you are inviting.".into(),
                                ));
                            }
                        }
                    }
                };
                tenant::transaction(conn, &tenant, |conn| {
                    let Some(role) = role_id
                        .and_then(|id| grantable_roles(conn, actor.power).ok()?.into_iter().find(|r| r.id == id))
                    else {
                        return Ok(SendOutcome::Refused("role_id", "Choose a role below your own.".into()));
                    };
                    if let Some(user_id) = invitee_id {
                        let status: Option<String> = memberships::table
                            .filter(memberships::user_id.eq(user_id))
                            .select(memberships::status)
                            .first(conn)
                            .optional()?;
                        match status.as_deref() {
                            Some("banned") => return Ok(SendOutcome::Refused(
                                "email_or_display_id",
                                "That person is banned from this organization. Unban them from the team list instead."
                                    .into(),
                            )),
                            Some(_) => {
                                return Ok(SendOutcome::Refused(
                                    "email_or_display_id",
                                    "That person is already a member of this organization.".into(),
                                ));
                            }
                            None => {}
                        }
                    }
                    let already: i64 = invitations::table
                        .filter(invitations::email.eq(&email))
                        .filter(invitations::status.eq("pending"))
                        .count()
                        .get_result(conn)?;
                    if already > 0 {
                        return Ok(SendOutcome::Refused(
                            "email_or_display_id",
                            "That address already has a pending invitation. Send it again from the list below.".into(),
                        ));
                    }
                    let token = random_token();
                    let id = InvitationId::new();
                    diesel::insert_into(invitations::table)
                        .values(NewInvitation {
                            id,
                            org_id: tenant.org_id,
                            email: &email,
                            invitee_id,
                            role_id: role.id,
                            invited_by: tenant.user_id,
                            token_hash: hash_token(&token),
                            expires_at: Utc::now() + chrono::Duration::days(VALID_FOR_DAYS),
                        })
                        .execute(conn)?;
                    let letter = invitation_letter(
                        &app_url,
                        &actor.org_name,
                        &actor.brand_color,
                        &actor.user.name,
                        &role.name,
                        &token,
                    );
                    mail::enqueue(conn, Some(tenant.org_id), &letter.render(&email)?)?;
                    audit::record(
                        conn,
                        &meta,
                        AuditEvent::new("invitation.sent")
                            .org(tenant.org_id)
                            .actor(tenant.user_id)
                            .entity("invitation", id.0)
                            .metadata(serde_json::json!({ "email": email, "role": role.name })),
                    )?;
                    Ok(SendOutcome::Sent(email))
                })
            })
            .await?
        }
    };
    match outcome {
        SendOutcome::Sent(email) => {
            Ok(redirect_with(&req, "/team", Flash::success(format!("Invitation sent to {email}."))))
        }
        SendOutcome::Refused(field, message) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            members::team_page(
                &req,
                &state,
                &ctx,
                StatusCode::BAD_REQUEST,
                form.email_or_display_id,
                form.role_id,
                errors,
            )
            .await
        }
    }
}

#[derive(QueryableByName)]
struct Resendable {
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Text)]
    role_name: String,
}

/// POST /invitations/{id}/resend — a fresh link (the old one stops working), a new week.
pub async fn resend(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: InvitationId = path.parse().map_err(|_| AppError::NotFound)?;
    let app_url = state.settings.app_url().to_string();
    let tenant = ctx.tenant();
    let email = db::tenant_tx(&state.pool, tenant, move |conn| {
        let found: Resendable = diesel::sql_query(
            "SELECT i.email, r.name AS role_name FROM invitations i JOIN roles r ON r.org_id = i.org_id AND r.id = i.role_id
             WHERE i.id = $1 AND i.org_id = app_org_id() AND i.status = 'pending'",
        )
        .bind::<SqlUuid, _>(id)
        .get_result(conn)?;
        let token = random_token();
        diesel::update(invitations::table.find(id))
            .set((
                invitations::token_hash.eq(hash_token(&token)),
                invitations::expires_at.eq(Utc::now() + chrono::Duration::days(VALID_FOR_DAYS)),
                invitations::sent_count.eq(invitations::sent_count + 1),
                invitations::last_sent_at.eq(Utc::now()),
            ))
            .execute(conn)?;
        let letter = invitation_letter(&app_url, &ctx.org_name, &ctx.brand_color, &ctx.user.name, &found.role_name, &token);
        mail::enqueue(conn, Some(tenant.org_id), &letter.render(&found.email)?)?;
        audit::record(conn, &meta, AuditEvent::new("invitation.resent").org(tenant.org_id).actor(tenant.user_id).entity("invitation", id.0))?;
        Ok(found.email)
    })
    .await?;
    Ok(redirect_with(&req, "/team", Flash::success(format!("A fresh invitation is on its way to {email}."))))
}

/// POST /invitations/{id}/revoke
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: InvitationId = path.parse().map_err(|_| AppError::NotFound)?;
    let tenant = ctx.tenant();
    db::tenant_tx(&state.pool, tenant, move |conn| {
        let changed = diesel::update(
            invitations::table
                .filter(invitations::id.eq(id))
                .filter(invitations::org_id.eq(tenant.org_id))
                .filter(invitations::status.eq("pending")),
        )
        .set((invitations::status.eq("revoked"), invitations::responded_at.eq(Utc::now())))
        .execute(conn)?;
        if changed == 0 {
            return Err(AppError::NotFound);
        }
        audit::record(
            conn,
            &meta,
            AuditEvent::new("invitation.revoked").org(tenant.org_id).actor(tenant.user_id).entity("invitation", id.0),
        )?;
        Ok(())
    })
    .await?;
    Ok(redirect_with(&req, "/team", Flash::success("The invitation has been revoked; its link no longer works.")))
}

/// An invitation as its invitee sees it.
#[derive(QueryableByName, Debug, Clone)]
pub struct Invitation {
    #[diesel(sql_type = SqlUuid)]
    pub id: InvitationId,
    #[diesel(sql_type = SqlUuid)]
    pub org_id: OrgId,
    #[diesel(sql_type = Text)]
    pub org_name: String,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<SqlUuid>)]
    pub invitee_id: Option<UserId>,
    #[diesel(sql_type = SqlUuid)]
    pub role_id: RoleId,
    #[diesel(sql_type = Text)]
    pub role_name: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub invited_by: Option<String>,
}

const INVITATION_SELECT: &str = "SELECT i.id, i.org_id, o.name AS org_name, i.email, i.invitee_id, i.role_id,
        r.name AS role_name, u.name AS invited_by
 FROM invitations i
 JOIN organizations o ON o.id = i.org_id AND o.status = 'active'
 JOIN roles r ON r.org_id = i.org_id AND r.id = i.role_id
 LEFT JOIN users u ON u.id = i.invited_by
 WHERE i.status = 'pending' AND i.expires_at > now()";

/// Live invitations addressed to this user (by account or by address). Runs before any
/// tenant is known, like login.
fn addressed_to(conn: &mut PgConnection, user: &CurrentUser) -> QueryResult<Vec<Invitation>> {
    diesel::sql_query(format!("{INVITATION_SELECT} AND (i.invitee_id = $1 OR i.email = $2) ORDER BY i.created_at DESC"))
        .bind::<SqlUuid, _>(user.id)
        .bind::<Text, _>(&user.email)
        .load(conn)
}

fn by_token(conn: &mut PgConnection, token: &str) -> QueryResult<Option<Invitation>> {
    diesel::sql_query(format!("{INVITATION_SELECT} AND i.token_hash = $1"))
        .bind::<diesel::sql_types::Bytea, _>(hash_token(token))
        .get_result(conn)
        .optional()
}

#[derive(Template)]
#[template(path = "team/invitations.html")]
struct InvitationsPage {
    layout: Layout,
    invitations: Vec<Invitation>,
}

/// GET /invitations — the invitations addressed to me.
pub async fn mine(req: HttpRequest, state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let me = user.clone();
    let invitations = db::run(&state.pool, move |conn| Ok(addressed_to(conn, &me)?)).await?;
    let org = auth_of(&req).await?.and_then(|a| a.org.ok());
    let page = InvitationsPage { layout: Layout::user(&req, &user, org.as_ref(), "Invitations"), invitations };
    render(StatusCode::OK, &page)
}

/// Makes `user_id` a member as the invitation says, in the inviting organization's
/// tenant transaction, and makes it their active organization.
fn join(
    conn: &mut PgConnection,
    invitation: &Invitation,
    user_id: UserId,
    meta: &RequestMeta,
    new_account: Option<(&str, &str)>,
) -> Result<(), AppError> {
    let tenant = Tenant { org_id: invitation.org_id, user_id, client_id: None };
    tenant::transaction(conn, &tenant, |conn| {
        if let Some((name, password_hash)) = new_account {
            accounts::insert_user(conn, user_id, name, &invitation.email, password_hash, &display_id::generate())?;
        }
        let accepted = diesel::update(
            invitations::table.filter(invitations::id.eq(invitation.id)).filter(invitations::status.eq("pending")),
        )
        .set((
            invitations::status.eq("accepted"),
            invitations::responded_at.eq(Utc::now()),
            invitations::invitee_id.eq(user_id),
        ))
        .execute(conn)?;
        if accepted == 0 {
            return Err(AppError::NotFound);
        }
        diesel::insert_into(memberships::table)
            .values((
                memberships::id.eq(MembershipId::new()),
                memberships::org_id.eq(invitation.org_id),
                memberships::user_id.eq(user_id),
                memberships::role_id.eq(invitation.role_id),
            ))
            .on_conflict((memberships::org_id, memberships::user_id))
            .do_nothing()
            .execute(conn)?;
        diesel::update(users::table.find(user_id)).set(users::active_org_id.eq(invitation.org_id)).execute(conn)?;
        audit::record(
            conn,
            meta,
            AuditEvent::new("invitation.accepted")
                .org(invitation.org_id)
                .actor(user_id)
                .entity("invitation", invitation.id.0)
                .metadata(serde_json::json!({ "role": invitation.role_name })),
        )?;
        Ok(())
    })
}

async fn find_mine(state: &AppState, user: &CurrentUser, id: InvitationId) -> Result<Invitation, AppError> {
    let me = user.clone();
    db::run(&state.pool, move |conn| Ok(addressed_to(conn, &me)?))
        .await?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or(AppError::NotFound)
}

/// POST /invitations/{id}/accept
pub async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: InvitationId = path.parse().map_err(|_| AppError::NotFound)?;
    let invitation = find_mine(&state, &user, id).await?;
    let org_name = invitation.org_name.clone();
    let user_id = user.id;
    db::run(&state.pool, move |conn| join(conn, &invitation, user_id, &meta, None)).await?;
    Ok(redirect_with(&req, "/dashboard", Flash::success(format!("Welcome to {org_name}!"))))
}

/// POST /invitations/{id}/reject
pub async fn reject(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id: InvitationId = path.parse().map_err(|_| AppError::NotFound)?;
    let invitation = find_mine(&state, &user, id).await?;
    let user_id = user.id;
    db::run(&state.pool, move |conn| {
        let tenant = Tenant { org_id: invitation.org_id, user_id, client_id: None };
        tenant::transaction(conn, &tenant, |conn| {
            diesel::update(
                invitations::table.filter(invitations::id.eq(invitation.id)).filter(invitations::status.eq("pending")),
            )
            .set((
                invitations::status.eq("rejected"),
                invitations::responded_at.eq(Utc::now()),
                invitations::invitee_id.eq(user_id),
            ))
            .execute(conn)?;
            audit::record(
                conn,
                &meta,
                AuditEvent::new("invitation.rejected")
                    .org(invitation.org_id)
                    .actor(user_id)
                    .entity("invitation", invitation.id.0),
            )?;
            Ok::<_, AppError>(())
        })
    })
    .await?;
    Ok(redirect_with(
        &req,
        "/invitations",
        Flash::info(format!("You declined the invitation to {}.", invitation.org_name)),
    ))
}

#[derive(Template)]
#[template(path = "team/open.html")]
struct OpenPage {
    layout: Layout,
    token: String,
    invitation: Option<Invitation>,
    /// Signed in as someone else than the invitee.
    signed_in_as: Option<String>,
    name: String,
    errors: FieldErrors,
}

/// GET /invitations/open/{token} — the emailed link.
pub async fn open(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let lookup = token.clone();
    let invitation = db::run(&state.pool, move |conn| Ok(by_token(conn, &lookup)?)).await?;
    let Some(invitation) = invitation else {
        let page = OpenPage {
            layout: Layout::public(&req, "Invitation"),
            token,
            invitation: None,
            signed_in_as: None,
            name: String::new(),
            errors: FieldErrors::default(),
        };
        return render(StatusCode::NOT_FOUND, &page);
    };
    if let Some(auth) = auth_of(&req).await? {
        let me = auth.user;
        if me.email == invitation.email || invitation.invitee_id == Some(me.id) {
            return Ok(redirect("/invitations"));
        }
        let page = OpenPage {
            layout: Layout::public(&req, "Invitation"),
            token,
            invitation: Some(invitation),
            signed_in_as: Some(me.email),
            name: String::new(),
            errors: FieldErrors::default(),
        };
        return render(StatusCode::OK, &page);
    }
    let email = invitation.email.clone();
    let has_account = db::run(&state.pool, move |conn| Ok(accounts::find_by_email(conn, &email)?.is_some())).await?;
    if has_account {
        let next = crate::web::error::url_encode(&format!("/invitations/open/{token}"));
        return Ok(redirect_with(
            &req,
            &format!("/login?next={next}"),
            Flash::info(format!("Log in as {} to answer the invitation to {}.", invitation.email, invitation.org_name)),
        ));
    }
    let page = OpenPage {
        layout: Layout::public(&req, "Invitation"),
        token,
        invitation: Some(invitation),
        signed_in_as: None,
        name: String::new(),
        errors: FieldErrors::default(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct JoinForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// POST /invitations/open/{token} — a new person signs up straight into the organization.
pub async fn sign_up_and_join(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    session: TypedSession,
    token: web::Path<String>,
    Form(form): Form<JoinForm>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let lookup = token.clone();
    let Some(invitation) = db::run(&state.pool, move |conn| Ok(by_token(conn, &lookup)?)).await? else {
        return Err(AppError::NotFound);
    };
    let mut errors = FieldErrors::default();
    let name = form.name.trim().to_string();
    if name.is_empty() {
        errors.add("name", "Enter your name.");
    } else if name.chars().count() > 120 {
        errors.add("name", "Use at most 120 characters.");
    }
    let password = new_password(&form.password).map_err(|e| errors.add("password", e));
    let (Ok(password), true) = (password, errors.is_empty()) else {
        let page = OpenPage {
            layout: Layout::public(&req, "Invitation"),
            token,
            invitation: Some(invitation),
            signed_in_as: None,
            name: form.name,
            errors,
        };
        return render(StatusCode::BAD_REQUEST, &page);
    };
    let hash = web::block(move || password::hash(&password))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
        .map_err(AppError::Internal)?;
    let org_name = invitation.org_name.clone();
    let join_meta = meta.clone();
    let user_id = db::run(&state.pool, move |conn| {
        if accounts::find_by_email(conn, &invitation.email)?.is_some() {
            return Ok(None);
        }
        let user_id = UserId::new();
        join(conn, &invitation, user_id, &join_meta, Some((&name, &hash)))?;
        Ok(Some(user_id))
    })
    .await?;
    let Some(user_id) = user_id else {
        return Ok(redirect_with(
            &req,
            "/login",
            Flash::info("You already have an account: log in to answer the invitation."),
        ));
    };
    session.log_in(&req, user_id, &meta).map_err(|e| AppError::Internal(e.into()))?;
    Ok(redirect_with(&req, "/dashboard", Flash::success(format!("Welcome to {org_name}! Your account is ready."))))
}
