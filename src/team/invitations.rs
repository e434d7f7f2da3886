//! Invitations: sent by email or display ID with a role. An invitation by display ID
//! names an account: it waits on that person's invitations page, and the inviter never
//! sees their address. An invitation by email is answered through the emailed link —
//! holding the link is what proves the address — which also lets a new person sign up
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
use crate::db::ids::{ClientId, InvitationId, MembershipId, OrgId, RoleId, UserId};
use crate::db::schema::{clients, invitations, memberships, users};
use crate::db::{self, Tenant, tenant};
use crate::mail::{self, Brand, Letter};
use crate::notifications::{self, Kind, Notice};
use crate::plans::{self, Limit};
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
    pub invitee_label: String,
    #[diesel(sql_type = Text)]
    pub role_name: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub role_power: i32,
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
    crate::db::sql_query(
        "SELECT i.id, i.invitee_label, r.name AS role_name, r.power AS role_power, u.name AS invited_by,
                i.expires_at, i.last_sent_at
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
    /// Required for the Client role: the client record the new member belongs to.
    #[serde(default)]
    client_id: String,
}

/// Clients an invitation with the Client role can name, by name (the first 500).
pub fn client_choices(conn: &mut PgConnection) -> QueryResult<Vec<(ClientId, String)>> {
    clients::table.order(clients::name.asc()).select((clients::id, clients::name)).limit(500).load(conn)
}

#[derive(Insertable)]
#[diesel(table_name = invitations)]
struct NewInvitation<'a> {
    id: InvitationId,
    org_id: OrgId,
    email: Option<&'a str>,
    invitee_id: Option<UserId>,
    invitee_label: &'a str,
    role_id: RoleId,
    client_id: Option<ClientId>,
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

/// At most this many invitations (sent or sent again) per organization per day: the
/// emails carry the organization's name to any address.
const DAILY_LIMIT: i64 = 100;

fn sent_today(conn: &mut PgConnection) -> QueryResult<i64> {
    crate::db::schema::audit_logs::table
        .filter(crate::db::schema::audit_logs::action.eq_any(["invitation.sent", "invitation.resent"]))
        .filter(crate::db::schema::audit_logs::created_at.gt(Utc::now() - chrono::Duration::days(1)))
        .count()
        .get_result(conn)
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
    let client_id = form.client_id.parse::<ClientId>().ok();
    let app_url = state.settings.app_url().to_string();
    let (actor, tenant) = (ctx.clone(), ctx.tenant());
    let outcome = match invitee {
        Err(message) => SendOutcome::Refused("email_or_display_id", message.to_string()),
        Ok(invitee) => {
            db::run(&state.pool, move |conn| {
                // (label shown to the inviter, address stored, account invited, where the mail goes)
                let (label, email, invitee_id, deliver_to) = match invitee {
                    Invitee::Email(email) => {
                        let address = email.as_str().to_string();
                        (address.clone(), Some(address.clone()), None, address)
                    }
                    // Found across accounts, before the tenant transaction; the address is
                    // used to deliver the mail and is never stored or shown.
                    Invitee::DisplayId(code) => {
                        let found = users::table
                            .filter(users::display_id.eq(&code))
                            .filter(users::status.eq("active"))
                            .select((users::id, users::email))
                            .first::<(UserId, String)>(conn)
                            .optional()?;
                        match found {
                            Some((id, address)) => (code, None, Some(id), address),
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
                        .and_then(|id| grantable_roles(conn, &actor, true).ok()?.into_iter().find(|r| r.id == id))
                    else {
                        return Ok(SendOutcome::Refused("role_id", "Choose a role below your own.".into()));
                    };
                    // A client user belongs to one client record; other roles to none.
                    let client = if role.key.as_deref() == Some("client") {
                        let found = match client_id {
                            Some(id) => clients::table
                                .find(id)
                                .select((clients::id, clients::name))
                                .first::<(ClientId, String)>(conn)
                                .optional()?,
                            None => None,
                        };
                        let Some(found) = found else {
                            return Ok(SendOutcome::Refused(
                                "client_id",
                                "Choose the client this person belongs to.".into(),
                            ));
                        };
                        Some(found)
                    } else {
                        None
                    };
                    // Already here? By account for a display ID; by address among this
                    // organization's own members for an email.
                    let existing: Option<String> = match (invitee_id, &email) {
                        (Some(user_id), _) => memberships::table
                            .filter(memberships::user_id.eq(user_id))
                            .select(memberships::status)
                            .first(conn)
                            .optional()?,
                        (None, Some(address)) => memberships::table
                            .inner_join(users::table.on(users::id.eq(memberships::user_id)))
                            .filter(users::email.eq(address))
                            .select(memberships::status)
                            .first(conn)
                            .optional()?,
                        (None, None) => None,
                    };
                    match existing.as_deref() {
                        Some("banned") => {
                            return Ok(SendOutcome::Refused(
                                "email_or_display_id",
                                "That person is banned from this organization. Unban them from the team list instead."
                                    .into(),
                            ));
                        }
                        Some(_) => {
                            return Ok(SendOutcome::Refused(
                                "email_or_display_id",
                                "That person is already a member of this organization.".into(),
                            ));
                        }
                        None => {}
                    }
                    let already: i64 = invitations::table
                        .filter(invitations::invitee_label.eq(&label))
                        .filter(invitations::status.eq("pending"))
                        .count()
                        .get_result(conn)?;
                    if already > 0 {
                        return Ok(SendOutcome::Refused(
                            "email_or_display_id",
                            "There is already a pending invitation for them. Send it again from the list below.".into(),
                        ));
                    }
                    // Staff seats are a plan limit; a pending staff invitation holds one.
                    if client.is_none() {
                        plans::ensure_room(conn, tenant.org_id, Limit::Members, 1)?;
                    }
                    if sent_today(conn)? >= DAILY_LIMIT {
                        return Ok(SendOutcome::Refused(
                            "email_or_display_id",
                            format!("Your organization has sent {DAILY_LIMIT} invitations today. Try again tomorrow."),
                        ));
                    }
                    let token = random_token();
                    let id = InvitationId::new();
                    diesel::insert_into(invitations::table)
                        .values(NewInvitation {
                            id,
                            org_id: tenant.org_id,
                            email: email.as_deref(),
                            invitee_id,
                            invitee_label: &label,
                            role_id: role.id,
                            client_id: client.as_ref().map(|(id, _)| *id),
                            invited_by: tenant.user_id,
                            token_hash: hash_token(&token),
                            expires_at: Utc::now() + chrono::Duration::days(VALID_FOR_DAYS),
                        })
                        .execute(conn)?;
                    let role_label = match &client {
                        Some((_, name)) => format!("{} ({name})", role.name),
                        None => role.name.clone(),
                    };
                    let letter = invitation_letter(
                        &app_url,
                        &actor.org_name,
                        &actor.brand_color,
                        &actor.user.name,
                        &role_label,
                        &token,
                    );
                    mail::enqueue(conn, Some(tenant.org_id), &letter.render(&deliver_to)?)?;
                    // An account invited by display ID also hears of it in the app; an
                    // address is not proven, so only its emailed link counts.
                    if let Some(invitee) = invitee_id {
                        notifications::notify(
                            conn,
                            &tenant,
                            invitee,
                            &Notice {
                                kind: Kind::Invitation,
                                title: format!(
                                    "{} invited you to join {} as {role_label}",
                                    actor.user.name, actor.org_name
                                ),
                                link: "/invitations".into(),
                                entity: ("invitation", id.0),
                            },
                        )?;
                    }
                    audit::record(
                        conn,
                        &meta,
                        AuditEvent::new("invitation.sent")
                            .org(tenant.org_id)
                            .actor(tenant.user_id)
                            .entity("invitation", id.0)
                            .metadata(serde_json::json!({ "invitee": label, "role": role.name })),
                    )?;
                    Ok(SendOutcome::Sent(label))
                })
            })
            .await?
        }
    };
    match outcome {
        SendOutcome::Sent(label) => {
            Ok(redirect_with(&req, "/team", Flash::success(format!("Invitation sent to {label}."))))
        }
        SendOutcome::Refused(field, message) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            members::team_page(
                &req,
                &state,
                &ctx,
                StatusCode::BAD_REQUEST,
                (form.email_or_display_id, form.role_id, form.client_id),
                errors,
            )
            .await
        }
    }
}

#[derive(QueryableByName)]
struct Managed {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    email: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<SqlUuid>)]
    invitee_id: Option<UserId>,
    #[diesel(sql_type = Text)]
    invitee_label: String,
    #[diesel(sql_type = Text)]
    role_name: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    role_power: i32,
}

/// A pending invitation of the tenant that `ctx` may manage: one whose role is below
/// their own power (an invitation is as strong as the role it grants).
fn managed(conn: &mut PgConnection, ctx: &OrgContext, id: InvitationId) -> Result<Managed, AppError> {
    let found: Managed = crate::db::sql_query(
        "SELECT i.email, i.invitee_id, i.invitee_label, r.name AS role_name, r.power AS role_power
         FROM invitations i JOIN roles r ON r.org_id = i.org_id AND r.id = i.role_id
         WHERE i.id = $1 AND i.org_id = app_org_id() AND i.status = 'pending'",
    )
    .bind::<SqlUuid, _>(id)
    .get_result(conn)?;
    if found.role_power >= ctx.power {
        return Err(AppError::Forbidden);
    }
    Ok(found)
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
    let actor = ctx.clone();
    let label = db::run(&state.pool, move |conn| {
        let found = tenant::transaction(conn, &tenant, |conn| managed(conn, &actor, id))?;
        // An account invited by display ID gets the mail at its current address,
        // looked up outside the tenant (the inviter never sees it).
        let deliver_to = match (&found.email, found.invitee_id) {
            (Some(address), _) => address.clone(),
            (None, Some(user_id)) => users::table.find(user_id).select(users::email).first::<String>(conn)?,
            (None, None) => return Err(AppError::NotFound),
        };
        tenant::transaction(conn, &tenant, |conn| {
            if sent_today(conn)? >= DAILY_LIMIT {
                return Ok(Err(()));
            }
            let token = random_token();
            diesel::update(invitations::table.find(id))
                .set((
                    invitations::token_hash.eq(hash_token(&token)),
                    invitations::expires_at.eq(Utc::now() + chrono::Duration::days(VALID_FOR_DAYS)),
                    invitations::sent_count.eq(invitations::sent_count + 1),
                    invitations::last_sent_at.eq(Utc::now()),
                ))
                .execute(conn)?;
            let letter = invitation_letter(
                &app_url,
                &actor.org_name,
                &actor.brand_color,
                &actor.user.name,
                &found.role_name,
                &token,
            );
            mail::enqueue(conn, Some(tenant.org_id), &letter.render(&deliver_to)?)?;
            audit::record(
                conn,
                &meta,
                AuditEvent::new("invitation.resent")
                    .org(tenant.org_id)
                    .actor(tenant.user_id)
                    .entity("invitation", id.0),
            )?;
            Ok::<_, AppError>(Ok(found.invitee_label.clone()))
        })
    })
    .await?;
    Ok(match label {
        Ok(label) => {
            redirect_with(&req, "/team", Flash::success(format!("A fresh invitation is on its way to {label}.")))
        }
        Err(()) => redirect_with(
            &req,
            "/team",
            Flash::error(format!("Your organization has sent {DAILY_LIMIT} invitations today. Try again tomorrow.")),
        ),
    })
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
    let actor = ctx.clone();
    db::tenant_tx(&state.pool, tenant, move |conn| {
        managed(conn, &actor, id)?;
        diesel::update(invitations::table.filter(invitations::id.eq(id)).filter(invitations::status.eq("pending")))
            .set((invitations::status.eq("revoked"), invitations::responded_at.eq(Utc::now())))
            .execute(conn)?;
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
    /// Set for an invitation by address (the address it was mailed to).
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub email: Option<String>,
    /// Set for an invitation by display ID (the account it names).
    #[diesel(sql_type = diesel::sql_types::Nullable<SqlUuid>)]
    pub invitee_id: Option<UserId>,
    #[diesel(sql_type = SqlUuid)]
    pub role_id: RoleId,
    #[diesel(sql_type = diesel::sql_types::Nullable<SqlUuid>)]
    pub client_id: Option<ClientId>,
    #[diesel(sql_type = Text)]
    pub role_name: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub invited_by: Option<String>,
}

const INVITATION_SELECT: &str =
    "SELECT i.id, i.org_id, o.name AS org_name, i.email, i.invitee_id, i.role_id, i.client_id,
        r.name AS role_name, u.name AS invited_by
 FROM invitations i
 JOIN organizations o ON o.id = i.org_id AND o.status = 'active'
 JOIN roles r ON r.org_id = i.org_id AND r.id = i.role_id
 LEFT JOIN users u ON u.id = i.invited_by
 WHERE i.status = 'pending' AND i.expires_at > now()";

/// Live invitations naming this account (by display ID). Invitations by address are
/// not listed here: an account's address is not proven, the emailed link is. Runs
/// before any tenant is known, like login.
fn addressed_to(conn: &mut PgConnection, user: &CurrentUser) -> QueryResult<Vec<Invitation>> {
    crate::db::sql_query(format!("{INVITATION_SELECT} AND i.invitee_id = $1 ORDER BY i.created_at DESC"))
        .bind::<SqlUuid, _>(user.id)
        .load(conn)
}

fn by_token(conn: &mut PgConnection, token: &str) -> QueryResult<Option<Invitation>> {
    crate::db::sql_query(format!("{INVITATION_SELECT} AND i.token_hash = $1"))
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

/// Records the answer of `user_id`; an invitation answered meanwhile is not found.
fn mark_answered(conn: &mut PgConnection, id: InvitationId, user_id: UserId, status: &str) -> Result<(), AppError> {
    let changed =
        diesel::update(invitations::table.filter(invitations::id.eq(id)).filter(invitations::status.eq("pending")))
            .set((
                invitations::status.eq(status),
                invitations::responded_at.eq(Utc::now()),
                invitations::invitee_id.eq(user_id),
            ))
            .execute(conn)?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    // Answered: its notification has nothing left to ask.
    crate::db::sql_query(
        "UPDATE notifications SET read_at = coalesce(read_at, now())
         WHERE kind = 'invitation' AND entity_id = $1 AND user_id = $2",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(user_id)
    .execute(conn)?;
    Ok(())
}

/// Makes `user_id` a member as the invitation says, in the inviting organization's
/// tenant transaction, and makes it their active organization.
fn join(
    conn: &mut PgConnection,
    invitation: &Invitation,
    user_id: UserId,
    meta: &RequestMeta,
    new_account: Option<NewAccount<'_>>,
) -> Result<(), AppError> {
    let tenant = Tenant { org_id: invitation.org_id, user_id, client_id: None };
    tenant::transaction(conn, &tenant, |conn| {
        if let Some(account) = new_account {
            accounts::insert_user(
                conn,
                user_id,
                account.name,
                account.email,
                account.password_hash,
                account.display_id,
            )?;
        }
        mark_answered(conn, invitation.id, user_id, "accepted")?;
        if invitation.client_id.is_none() {
            plans::ensure_room(conn, invitation.org_id, Limit::Members, 1)?;
        }
        diesel::insert_into(memberships::table)
            .values((
                memberships::id.eq(MembershipId::new()),
                memberships::org_id.eq(invitation.org_id),
                memberships::user_id.eq(user_id),
                memberships::role_id.eq(invitation.role_id),
                memberships::client_id.eq(invitation.client_id),
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
    let org_name = invitation.org_name.clone();
    let user_id = user.id;
    db::run(&state.pool, move |conn| decline(conn, &invitation, user_id, &meta)).await?;
    Ok(redirect_with(&req, "/invitations", Flash::info(format!("You declined the invitation to {org_name}."))))
}

/// The account an invitation link creates for a new person.
struct NewAccount<'a> {
    name: &'a str,
    email: &'a str,
    password_hash: &'a str,
    display_id: &'a str,
}

#[derive(Template)]
#[template(path = "team/open.html")]
struct OpenPage {
    layout: Layout,
    token: String,
    invitation: Option<Invitation>,
    /// Signed in: the address of the account that would accept.
    signed_in_as: Option<String>,
    /// The invitation names another account than the one signed in.
    for_someone_else: bool,
    name: String,
    errors: FieldErrors,
}

impl OpenPage {
    fn new(req: &HttpRequest, token: String, invitation: Option<Invitation>) -> OpenPage {
        OpenPage {
            layout: Layout::public(req, "Invitation"),
            token,
            invitation,
            signed_in_as: None,
            for_someone_else: false,
            name: String::new(),
            errors: FieldErrors::default(),
        }
    }
}

async fn find_by_token(state: &AppState, token: &str) -> Result<Option<Invitation>, AppError> {
    let token = token.to_string();
    db::run(&state.pool, move |conn| Ok(by_token(conn, &token)?)).await
}

/// GET /invitations/open/{token} — the emailed link.
pub async fn open(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let Some(invitation) = find_by_token(&state, &token).await? else {
        return render(StatusCode::NOT_FOUND, &OpenPage::new(&req, token, None));
    };
    if let Some(auth) = auth_of(&req).await? {
        let me = auth.user;
        if invitation.invitee_id == Some(me.id) {
            return Ok(redirect("/invitations"));
        }
        let mut page = OpenPage::new(&req, token, Some(invitation.clone()));
        page.for_someone_else = invitation.invitee_id.is_some();
        page.signed_in_as = Some(me.email);
        return render(StatusCode::OK, &page);
    }
    // An invitation naming an account, or an address that has one: log in to answer.
    let has_account = match &invitation.email {
        None => true,
        Some(address) => {
            let address = address.clone();
            db::run(&state.pool, move |conn| Ok(accounts::find_by_email(conn, &address)?.is_some())).await?
        }
    };
    if has_account {
        let next = crate::web::error::url_encode(&format!("/invitations/open/{token}"));
        return Ok(redirect_with(
            &req,
            &format!("/login?next={next}"),
            Flash::info(format!("Log in to answer the invitation to {}.", invitation.org_name)),
        ));
    }
    render(StatusCode::OK, &OpenPage::new(&req, token, Some(invitation)))
}

#[derive(Deserialize)]
pub struct OpenForm {
    /// Signed in: "accept" or "decline".
    #[serde(default)]
    answer: String,
    /// Not signed in: the new account.
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// POST /invitations/open/{token} — answer with the signed-in account, or (signed out)
/// sign up straight into the organization. Holding the link proves the address.
pub async fn respond(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    session: TypedSession,
    token: web::Path<String>,
    Form(form): Form<OpenForm>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let Some(invitation) = find_by_token(&state, &token).await? else { return Err(AppError::NotFound) };
    if let Some(auth) = auth_of(&req).await? {
        let me = auth.user;
        // An invitation naming an account is answered by that account only.
        if invitation.invitee_id.is_some_and(|id| id != me.id) {
            return Err(AppError::NotFound);
        }
        let org_name = invitation.org_name.clone();
        let user_id = me.id;
        return match form.answer.as_str() {
            "accept" => {
                db::run(&state.pool, move |conn| join(conn, &invitation, user_id, &meta, None)).await?;
                Ok(redirect_with(&req, "/dashboard", Flash::success(format!("Welcome to {org_name}!"))))
            }
            "decline" => {
                db::run(&state.pool, move |conn| decline(conn, &invitation, user_id, &meta)).await?;
                Ok(redirect_with(
                    &req,
                    "/dashboard",
                    Flash::info(format!("You declined the invitation to {org_name}.")),
                ))
            }
            _ => Err(AppError::BadRequest("Choose to accept or to decline the invitation.".into())),
        };
    }
    let Some(email) = invitation.email.clone() else {
        // Naming an existing account: that account must log in.
        return Ok(redirect("/login"));
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
        let mut page = OpenPage::new(&req, token, Some(invitation));
        page.name = form.name;
        page.errors = errors;
        return render(StatusCode::BAD_REQUEST, &page);
    };
    let hash = web::block(move || password::hash(&password))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
        .map_err(AppError::Internal)?;
    let org_name = invitation.org_name.clone();
    let join_meta = meta.clone();
    let user_id = db::run(&state.pool, move |conn| {
        if accounts::find_by_email(conn, &email)?.is_some() {
            return Ok(None);
        }
        // A display ID that happens to be taken is simply drawn again.
        for _ in 0..5 {
            let user_id = UserId::new();
            let display_id = display_id::generate();
            let account = NewAccount { name: &name, email: &email, password_hash: &hash, display_id: &display_id };
            match join(conn, &invitation, user_id, &join_meta, Some(account)) {
                Err(AppError::Internal(e)) if e.to_string().contains("users_display_id_key") => continue,
                other => return other.map(|()| Some(user_id)),
            }
        }
        Err(AppError::Internal(anyhow::anyhow!("no free display ID after 5 draws")))
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

fn decline(
    conn: &mut PgConnection,
    invitation: &Invitation,
    user_id: UserId,
    meta: &RequestMeta,
) -> Result<(), AppError> {
    let tenant = Tenant { org_id: invitation.org_id, user_id, client_id: None };
    tenant::transaction(conn, &tenant, |conn| {
        mark_answered(conn, invitation.id, user_id, "rejected")?;
        audit::record(
            conn,
            meta,
            AuditEvent::new("invitation.rejected")
                .org(invitation.org_id)
                .actor(user_id)
                .entity("invitation", invitation.id.0),
        )?;
        Ok(())
    })
}
