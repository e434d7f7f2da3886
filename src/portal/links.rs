//! Emailed portal links (`/p/{token}`, SPEC §5): every invoice or quotation email, and
//! the "send portal access" action on a client's page, carries a single-use token that
//! signs the client in and opens that document. Only the token's SHA-256 is stored; it
//! expires after `[portal] link_days`, staff can revoke it (which also ends the session
//! it opened), and the session it opens is limited to that one client.
//!
//! A used, expired, revoked or made-up token gets one and the same page, which offers
//! to email a fresh link to the client's own address: nothing is revealed to whoever
//! holds an old link, and the fresh one goes only where the first one went.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use diesel::connection::Connection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Bytea, Nullable, Text, Timestamptz, Uuid as SqlUuid};

use crate::audit::{self, AuditEvent};
use crate::auth::display_id;
use crate::auth::tokens::{hash_token, random_token};
use crate::db::ids::{ClientId, MembershipId, OrgId, PortalTokenId, UserId};
use crate::db::schema::memberships;
use crate::db::{self, Tenant, tenant};
use crate::mail::{self, Brand, Letter};
use crate::state::AppState;
use crate::web::auth::OrgContext;
use crate::web::flash::{Flash, redirect, redirect_with};
use crate::web::layout::Layout;
use crate::web::request_meta::RequestMeta;
use crate::web::session::{PORTAL_LINK, TypedSession};
use crate::web::{AppError, Form, render};

/// What a link opens: one document, or the portal's summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Invoice,
    Quotation,
    Portal,
}

impl Purpose {
    fn key(self) -> &'static str {
        match self {
            Purpose::Invoice => "invoice",
            Purpose::Quotation => "quotation",
            Purpose::Portal => "portal",
        }
    }

    fn parse(key: &str) -> Purpose {
        match key {
            "invoice" => Purpose::Invoice,
            "quotation" => Purpose::Quotation,
            _ => Purpose::Portal,
        }
    }

    fn location(self, document: Option<uuid::Uuid>) -> String {
        match (self, document) {
            (Purpose::Invoice, Some(id)) => format!("/portal/invoices/{id}"),
            (Purpose::Quotation, Some(id)) => format!("/portal/quotations/{id}"),
            _ => "/portal".into(),
        }
    }
}

impl From<crate::money::document::DocKind> for Purpose {
    fn from(kind: crate::money::document::DocKind) -> Purpose {
        match kind {
            crate::money::document::DocKind::Invoice => Purpose::Invoice,
            crate::money::document::DocKind::Quotation => Purpose::Quotation,
        }
    }
}

/// Stores a new link for `client_id`, mailed to `email`, in the tenant transaction and
/// returns the token (shown once, in the email). The link works only while the client's
/// address is still `email`: changing it does not redirect links already sent. `by` is
/// None for a link the client asked for again.
pub fn mint(
    conn: &mut PgConnection,
    purpose: Purpose,
    client_id: ClientId,
    document_id: Option<uuid::Uuid>,
    email: &str,
    days: i64,
    by: Option<UserId>,
) -> QueryResult<String> {
    let token = random_token();
    crate::db::sql_query(
        "INSERT INTO portal_tokens (id, org_id, client_id, purpose, document_id, token_hash, expires_at, created_by, email)
         VALUES ($1, app_org_id(), $2, $3, $4, $5, $6, $7, lower($8))",
    )
    .bind::<SqlUuid, _>(PortalTokenId::new())
    .bind::<SqlUuid, _>(client_id)
    .bind::<Text, _>(purpose.key())
    .bind::<Nullable<SqlUuid>, _>(document_id)
    .bind::<Bytea, _>(hash_token(&token))
    .bind::<Timestamptz, _>(Utc::now() + chrono::Duration::days(days))
    .bind::<Nullable<SqlUuid>, _>(by)
    .bind::<Text, _>(email.trim())
    .execute(conn)?;
    Ok(token)
}

/// What `random_token` makes: 64 lowercase hex digits. Anything else is not looked up
/// (and never written back into a page).
fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A link as its token finds it, with its client and organization.
#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = SqlUuid)]
    id: PortalTokenId,
    #[diesel(sql_type = SqlUuid)]
    org_id: OrgId,
    #[diesel(sql_type = SqlUuid)]
    client_id: ClientId,
    #[diesel(sql_type = Text)]
    purpose: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    document_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Bool)]
    usable: bool,
    #[diesel(sql_type = Bool)]
    revoked: bool,
    #[diesel(sql_type = Text)]
    client_email: String,
    #[diesel(sql_type = Text)]
    client_name: String,
    #[diesel(sql_type = Text)]
    org_name: String,
    #[diesel(sql_type = Text)]
    brand_color: String,
    #[diesel(sql_type = Bool)]
    org_active: bool,
    #[diesel(sql_type = Nullable<Text>)]
    document_number: Option<String>,
}

/// Token hashes are readable only by the app's own role: this runs outside any tenant,
/// before anyone is known.
fn find(conn: &mut PgConnection, token: &str, lock: bool) -> QueryResult<Option<Found>> {
    crate::db::sql_query(format!(
        "SELECT t.id, t.org_id, t.client_id, t.purpose, t.document_id,
                (t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > now()
                 AND t.email = lower(c.email)) AS usable,
                t.revoked_at IS NOT NULL AS revoked,
                lower(c.email) AS client_email, c.name AS client_name, o.name AS org_name, o.brand_color,
                o.status = 'active' AS org_active,
                COALESCE(i.number, q.number) AS document_number
         FROM portal_tokens t
         JOIN clients c ON c.org_id = t.org_id AND c.id = t.client_id
         JOIN organizations o ON o.id = t.org_id
         LEFT JOIN invoices i ON t.purpose = 'invoice' AND i.org_id = t.org_id AND i.id = t.document_id
         LEFT JOIN quotations q ON t.purpose = 'quotation' AND q.org_id = t.org_id AND q.id = t.document_id
         WHERE t.token_hash = $1 {}",
        if lock { "FOR UPDATE OF t" } else { "" }
    ))
    .bind::<Bytea, _>(hash_token(token))
    .get_result(conn)
    .optional()
}

enum Opened {
    /// Signed in: the session is limited to this membership, unless the browser was
    /// already signed in as that account with its password (`keep_session`).
    SignedIn {
        user_id: UserId,
        membership_id: MembershipId,
        link_id: PortalTokenId,
        location: String,
        keep_session: bool,
    },
    /// Used, expired, revoked or unknown: the page that offers a fresh link.
    Invalid,
    /// A valid link for an account that has more than this portal (staff somewhere,
    /// two-factor sign-in): it is used only by that account signed in with its password.
    LogInFirst { org_name: String },
    /// A valid link that cannot sign its client in, and why.
    Refused(String),
}

#[derive(QueryableByName)]
struct Account {
    #[diesel(sql_type = SqlUuid)]
    id: UserId,
    #[diesel(sql_type = Text)]
    status: String,
    /// Only ever a client somewhere, without two-factor sign-in: a link may sign it in.
    #[diesel(sql_type = Bool)]
    portal_only: bool,
}

/// The account the client's address belongs to, or None if there is none yet.
fn account_of(conn: &mut PgConnection, email: &str) -> QueryResult<Option<Account>> {
    crate::db::sql_query(
        "SELECT u.id, u.status,
                (u.totp_enabled_at IS NULL AND NOT u.is_platform_owner
                 AND NOT EXISTS (SELECT 1 FROM platform_staff ps WHERE ps.user_id = u.id) AND NOT EXISTS (
                   SELECT 1 FROM memberships m JOIN roles r ON r.org_id = m.org_id AND r.id = m.role_id
                   WHERE m.user_id = u.id AND r.key IS DISTINCT FROM 'client')) AS portal_only
         FROM users u WHERE u.email = $1",
    )
    .bind::<Text, _>(email)
    .get_result(conn)
    .optional()
}

/// Uses the link: finds or creates the client's account and client membership, marks
/// the link used, all in one transaction (two clicks on one link sign in once).
/// `signed_in` is the account of this browser's own (password) session, if any.
fn open_link(
    conn: &mut PgConnection,
    token: &str,
    signed_in: Option<UserId>,
    meta: &RequestMeta,
) -> Result<Opened, AppError> {
    conn.transaction(|conn| {
        let Some(link) = find(conn, token, true)? else { return Ok(Opened::Invalid) };
        if !link.usable || !link.org_active || !link.client_email.contains('@') {
            return Ok(Opened::Invalid);
        }
        let account = account_of(conn, &link.client_email)?;
        if account.as_ref().is_some_and(|a| a.status != "active") {
            return Ok(Opened::Refused(format!(
                "This account cannot sign in. Please contact {} for help.",
                link.org_name
            )));
        }
        // A link never stands in for the password of an account that can do more.
        if let Some(a) = &account
            && !a.portal_only
            && signed_in != Some(a.id)
        {
            return Ok(Opened::LogInFirst { org_name: link.org_name.clone() });
        }
        let user_id = account.as_ref().map(|a| a.id).unwrap_or_else(UserId::new);
        // Staff-like scope for these writes: the client's own scope hides the link.
        let tenant = Tenant { org_id: link.org_id, user_id, client_id: None };
        tenant::transaction(conn, &tenant, |conn| {
            if account.is_none() {
                let name: String = link.client_name.chars().take(120).collect();
                // No password yet ("!" matches none); "Forgot password" sets one.
                crate::auth::queries::insert_user(
                    conn,
                    user_id,
                    &name,
                    &link.client_email,
                    "!",
                    &display_id::generate(),
                )?;
            }
            let client_role = crate::orgs::queries::builtin_role_id(
                conn,
                link.org_id,
                crate::team::roles::BuiltinRole::Client,
            )?;
            let existing: Option<(MembershipId, Option<ClientId>, String)> = memberships::table
                .filter(memberships::org_id.eq(link.org_id))
                .filter(memberships::user_id.eq(user_id))
                .filter(memberships::role_id.eq(client_role))
                .select((memberships::id, memberships::client_id, memberships::status))
                .first(conn)
                .optional()?;
            let other_role: i64 = memberships::table
                .filter(memberships::org_id.eq(link.org_id))
                .filter(memberships::user_id.eq(user_id))
                .filter(memberships::role_id.ne(client_role))
                .count()
                .get_result(conn)?;
            if other_role > 0 {
                return Ok(Err(format!(
                    "Your address belongs to a member of {}'s team. Log in with your password instead.",
                    link.org_name
                )));
            }
            let membership_id = match existing {
                None => {
                    let role_id = client_role;
                    let id = MembershipId::new();
                    diesel::insert_into(memberships::table)
                        .values((
                            memberships::id.eq(id),
                            memberships::org_id.eq(link.org_id),
                            memberships::user_id.eq(user_id),
                            memberships::role_id.eq(role_id),
                            memberships::client_id.eq(link.client_id),
                        ))
                        .execute(conn)?;
                    id
                }
                Some((id, Some(client), status)) if client == link.client_id && status == "active" => id,
                Some((_, Some(client), status)) if client == link.client_id => {
                    return Ok(Err(format!(
                        "Your access to {} is {status}. Please contact them for help.",
                        link.org_name
                    )));
                }
                Some(_) => {
                    return Ok(Err(format!(
                        "Your address already opens another client's portal at {}. Please ask them to use another address.",
                        link.org_name
                    )));
                }
            };
            crate::db::sql_query("UPDATE portal_tokens SET used_at = now() WHERE org_id = app_org_id() AND id = $1")
                .bind::<SqlUuid, _>(link.id)
                .execute(conn)?;
            // A new account starts here; an existing one keeps its own organization for
            // password sign-ins (a link's session is limited to its client anyway), unless
            // it is that very session that opens the link.
            let keep_session = signed_in == Some(user_id);
            crate::db::sql_query("UPDATE users SET active_org_id = $2 WHERE id = $1 AND (active_org_id IS NULL OR $3)")
                .bind::<SqlUuid, _>(user_id)
                .bind::<SqlUuid, _>(link.org_id)
                .bind::<Bool, _>(keep_session)
                .execute(conn)?;
            audit::record(
                conn,
                meta,
                AuditEvent::new("portal_link.opened")
                    .org(link.org_id)
                    .actor(user_id)
                    .entity("client", link.client_id.0)
                    .metadata(serde_json::json!({ "purpose": link.purpose, "link": link.id.0 })),
            )?;
            Ok(Ok(membership_id))
        })
        .map(|outcome: Result<MembershipId, String>| match outcome {
            Ok(membership_id) => Opened::SignedIn {
                user_id,
                membership_id,
                link_id: link.id,
                location: Purpose::parse(&link.purpose).location(link.document_id),
                keep_session: signed_in == Some(user_id),
            },
            Err(message) => Opened::Refused(message),
        })
    })
}

/// What the link page says.
enum LinkState {
    /// Used, expired, revoked or unknown: offer a fresh one.
    Invalid,
    /// An account with more than this portal: log in, then the link works.
    LogInFirst(String),
    Refused(String),
    /// A fresh link was asked for.
    Renewed,
}

#[derive(Template)]
#[template(path = "portal/link.html")]
struct LinkPage {
    layout: Layout,
    /// Well formed (64 hex digits) whenever it is set.
    token: Option<String>,
    state: LinkState,
}

fn link_page(req: &HttpRequest, token: Option<String>, state: LinkState) -> Result<HttpResponse, AppError> {
    let (title, status) = match &state {
        LinkState::Renewed => ("Check your email", StatusCode::OK),
        LinkState::LogInFirst(_) => ("Log in to open this link", StatusCode::OK),
        _ => ("This link cannot be used", StatusCode::GONE),
    };
    render(status, &LinkPage { layout: Layout::public(req, title), token, state })
}

/// GET /p/{token}
pub async fn open(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    if !well_formed(&token) {
        return link_page(&req, None, LinkState::Invalid);
    }
    // This browser's own password session, if any (a link's session does not count).
    let signed_in = crate::web::auth::auth_of(&req)
        .await?
        .map(|auth| auth.user)
        .filter(|user| user.portal_scope.is_none())
        .map(|user| user.id);
    let (lookup, audit_meta) = (token.clone(), meta.clone());
    let opened = db::run(&state.pool, move |conn| open_link(conn, &lookup, signed_in, &audit_meta)).await?;
    match opened {
        Opened::SignedIn { user_id, membership_id, link_id, location, keep_session } => {
            if !keep_session {
                db::run(&state.pool, move |conn| Ok(crate::auth::queries::record_login(conn, user_id)?)).await?;
                // Whoever was signed in in this browser is signed out: the link decides.
                TypedSession::of(&req)
                    .log_in_from_link(&req, user_id, &meta, membership_id, link_id)
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("starting a session: {e}")))?;
            }
            Ok(redirect(&location))
        }
        Opened::Invalid => link_page(&req, Some(token), LinkState::Invalid),
        Opened::LogInFirst { org_name } => link_page(&req, Some(token), LinkState::LogInFirst(org_name)),
        Opened::Refused(message) => link_page(&req, None, LinkState::Refused(message)),
    }
}

/// A client may ask for this many fresh links a day; each goes to their own address.
const RENEWALS_PER_DAY: i64 = 5;

#[derive(serde::Deserialize)]
pub struct RenewForm {
    #[serde(default)]
    token: String,
}

/// POST /p/renew — the same answer whatever the token was.
pub async fn renew(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    Form(form): Form<RenewForm>,
) -> Result<HttpResponse, AppError> {
    let token = form.token;
    if well_formed(&token) {
        let (app_url, days) = (state.settings.app_url().to_string(), state.settings.portal.link_days);
        db::run(&state.pool, move |conn| {
            let Some(link) = find(conn, &token, false)? else { return Ok(()) };
            if link.revoked || !link.org_active || !link.client_email.contains('@') {
                return Ok(());
            }
            // Fresh links of a client are those nobody on the staff made.
            let tenant = Tenant { org_id: link.org_id, user_id: UserId(uuid::Uuid::nil()), client_id: None };
            tenant::transaction(conn, &tenant, |conn| {
                // One request at a time per client, so the daily count holds.
                crate::db::sql_query("SELECT pg_advisory_xact_lock(hashtext('portal-renew:' || $1::text))")
                    .bind::<SqlUuid, _>(link.client_id)
                    .execute(conn)?;
                let recent: i64 = crate::db::sql_query(
                    "SELECT count(*) AS n FROM portal_tokens
                     WHERE client_id = $1 AND created_by IS NULL AND created_at > now() - interval '1 day'",
                )
                .bind::<SqlUuid, _>(link.client_id)
                .get_result::<db::Count>(conn)?
                .n;
                if recent >= RENEWALS_PER_DAY {
                    return Ok(());
                }
                let purpose = Purpose::parse(&link.purpose);
                let fresh = mint(conn, purpose, link.client_id, link.document_id, &link.client_email, days, None)?;
                let what = match (purpose, &link.document_number) {
                    (Purpose::Invoice, Some(n)) => format!("invoice {n}"),
                    (Purpose::Quotation, Some(n)) => format!("quotation {n}"),
                    _ => "your client portal".into(),
                };
                let letter = Letter {
                    brand: Brand::org(&link.org_name, &link.brand_color),
                    subject: format!("Your new link to {what}"),
                    greeting: format!("Hello {},", link.client_name),
                    paragraphs: vec![format!("You asked for a new link to {what} at {}.", link.org_name)],
                    action: Some(("Open it".into(), format!("{app_url}/p/{fresh}"))),
                    fine_print: fine_print(days, &link.org_name),
                };
                mail::enqueue(conn, Some(link.org_id), &letter.render(&link.client_email)?)?;
                audit::record(
                    conn,
                    &meta,
                    AuditEvent::new("portal_link.renewed")
                        .org(link.org_id)
                        .entity("client", link.client_id.0)
                        .metadata(serde_json::json!({ "purpose": link.purpose })),
                )?;
                Ok::<_, AppError>(())
            })
        })
        .await?;
    }
    link_page(&req, None, LinkState::Renewed)
}

pub fn fine_print(days: i64, org_name: &str) -> Vec<String> {
    vec![format!(
        "The link signs you in once and works for {days} days. If it has expired, open it anyway to get a new one, or ask {org_name}."
    )]
}

/// A link as the client's page lists it.
#[derive(QueryableByName, Debug)]
pub struct LinkRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: PortalTokenId,
    #[diesel(sql_type = Text)]
    pub purpose: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub document_number: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub expires_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub used_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl LinkRow {
    pub fn what(&self) -> String {
        match (self.purpose.as_str(), &self.document_number) {
            ("invoice", Some(n)) => format!("Invoice {n}"),
            ("quotation", Some(n)) => format!("Quotation {n}"),
            _ => "Portal access".into(),
        }
    }

    /// Revoking is useful while the link still works or its session may still be open.
    pub fn revocable(&self) -> bool {
        self.revoked_at.is_none() && (self.used_at.is_some() || self.expires_at > Utc::now())
    }

    pub fn state(&self) -> String {
        let day = |t: &DateTime<Utc>| t.format("%-d %b %Y").to_string();
        match (&self.revoked_at, &self.used_at) {
            (Some(t), _) => format!("Revoked {}", day(t)),
            (None, Some(t)) => format!("Opened {}", day(t)),
            (None, None) if self.expires_at <= Utc::now() => format!("Expired {}", day(&self.expires_at)),
            (None, None) => format!("Unused, until {}", day(&self.expires_at)),
        }
    }
}

/// The client's latest links, for their page.
pub fn latest_for_client(conn: &mut PgConnection, client_id: ClientId) -> QueryResult<Vec<LinkRow>> {
    crate::db::sql_query(
        "SELECT t.id, t.purpose, COALESCE(i.number, q.number) AS document_number, t.created_at, t.expires_at,
                t.used_at, t.revoked_at
         FROM portal_tokens t
         LEFT JOIN invoices i ON t.purpose = 'invoice' AND i.org_id = t.org_id AND i.id = t.document_id
         LEFT JOIN quotations q ON t.purpose = 'quotation' AND q.org_id = t.org_id AND q.id = t.document_id
         WHERE t.org_id = app_org_id() AND t.client_id = $1
         ORDER BY t.created_at DESC LIMIT 10",
    )
    .bind::<SqlUuid, _>(client_id)
    .load(conn)
}

fn client_id_of(raw: &str) -> Result<ClientId, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

/// POST /clients/{id}/portal-access — emails the client a link to the portal.
pub async fn send_access(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let client_id = client_id_of(&path)?;
    let location = format!("/clients/{client_id}");
    let (app_url, days) = (state.settings.app_url().to_string(), state.settings.portal.link_days);
    let (org_name, brand_color, tenant) = (ctx.org_name.clone(), ctx.brand_color.clone(), ctx.tenant());
    let sent = db::tenant_tx(&state.pool, tenant, move |conn| {
        let client = crate::clients::handlers::find(conn, client_id)?;
        if client.email.is_empty() {
            return Ok(None);
        }
        let token = mint(conn, Purpose::Portal, client_id, None, &client.email, days, Some(tenant.user_id))?;
        let letter = Letter {
            brand: Brand::org(&org_name, &brand_color),
            subject: format!("Your client portal at {org_name}"),
            greeting: format!("Hello {},", client.name),
            paragraphs: vec![
                format!("{org_name} has opened its client portal to you."),
                "There you can follow your projects, download shared files, and see your invoices and quotations."
                    .into(),
            ],
            action: Some(("Open the portal".into(), format!("{app_url}/p/{token}"))),
            fine_print: fine_print(days, &org_name),
        };
        mail::enqueue(conn, Some(tenant.org_id), &letter.render(&client.email)?)?;
        audit::record(
            conn,
            &meta,
            AuditEvent::new("portal_link.sent").org(tenant.org_id).actor(tenant.user_id).entity("client", client_id.0),
        )?;
        Ok(Some(client.email))
    })
    .await?;
    let flash = match sent {
        Some(email) => Flash::success(format!("A portal link is on its way to {email}.")),
        None => Flash::error("Add an email address to this client first."),
    };
    Ok(redirect_with(&req, &location, flash))
}

/// POST /clients/{id}/portal-links/{link_id}/revoke — the link stops working, and a
/// session it opened ends.
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let client_id = client_id_of(&path.0)?;
    let link_id: PortalTokenId = path.1.parse().map_err(|_| AppError::NotFound)?;
    let tenant = ctx.tenant();
    db::tenant_tx(&state.pool, tenant, move |conn| {
        let revoked = crate::db::sql_query(
            "UPDATE portal_tokens SET revoked_at = now()
             WHERE org_id = app_org_id() AND id = $1 AND client_id = $2 AND revoked_at IS NULL",
        )
        .bind::<SqlUuid, _>(link_id)
        .bind::<SqlUuid, _>(client_id)
        .execute(conn)?;
        if revoked == 0 {
            return Err(AppError::NotFound);
        }
        audit::record(
            conn,
            &meta,
            AuditEvent::new("portal_link.revoked")
                .org(tenant.org_id)
                .actor(tenant.user_id)
                .entity("client", client_id.0)
                .metadata(serde_json::json!({ "link": link_id.0 })),
        )?;
        Ok(())
    })
    .await?;
    // Sessions are not a tenant table; the link is known to be this organization's now.
    db::run(&state.pool, move |conn| {
        crate::db::sql_query("DELETE FROM sessions WHERE state ->> $1 = to_json($2::text)::text")
            .bind::<Text, _>(PORTAL_LINK)
            .bind::<Text, _>(link_id.to_string())
            .execute(conn)?;
        Ok(())
    })
    .await?;
    Ok(redirect_with(&req, &format!("/clients/{client_id}"), Flash::success("The link is revoked.")))
}
