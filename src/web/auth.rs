//! Who is asking and what they may do: `CurrentUser` (signed in, active) and
//! `OrgContext` (an active member of their active organization, with the role's
//! permission set). Both are resolved with one query and cached for the request.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Integer, Nullable, Text, Uuid as SqlUuid};

use crate::db::ids::{ClientId, MembershipId, OrgId, RoleId, SessionId, UserId};
use crate::db::schema::{memberships, organizations, sessions, users};
use crate::db::{self, Tenant};
use crate::state::AppState;
use crate::team::{Permission, PermissionSet};
use crate::web::error::AppError;
use crate::web::session::TypedSession;

#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub display_id: String,
    pub is_platform_owner: bool,
    /// On the platform team without being an owner.
    pub is_platform_staff: bool,
    pub session_id: Option<SessionId>,
    pub two_factor_enabled: bool,
    /// Set when the session was opened by an emailed portal link: it is limited to
    /// this client membership and cannot switch organizations.
    pub portal_scope: Option<MembershipId>,
}

impl CurrentUser {
    /// Owners and staff of the platform, in a session of their own (not one opened by
    /// an emailed link).
    pub fn on_platform_team(&self) -> bool {
        (self.is_platform_owner || self.is_platform_staff) && self.portal_scope.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct OrgContext {
    pub user: CurrentUser,
    pub org_id: OrgId,
    pub org_name: String,
    pub brand_color: String,
    /// The organization's default currency (ISO 4217 code): budgets and rates are in it.
    pub currency: String,
    pub membership_id: MembershipId,
    pub role_id: RoleId,
    pub role_key: Option<String>,
    pub role_name: String,
    pub power: i32,
    pub client_id: Option<ClientId>,
    pub permissions: PermissionSet,
    /// When the logo last changed, if there is one (it versions the logo's URL).
    pub logo_version: Option<i64>,
    /// The organization wants every staff member to use two-factor sign-in.
    pub requires_two_factor: bool,
    /// Notifications of this user in this organization not read yet (the bell's count).
    pub unread_notifications: i64,
    /// The feature flags on for this organization (from `org_features()`).
    pub features: Vec<String>,
}

impl OrgContext {
    pub fn logo_url(&self) -> Option<String> {
        self.logo_version.map(|v| format!("/orgs/{}/logo?v={v}", self.org_id))
    }

    pub fn tenant(&self) -> Tenant {
        Tenant { org_id: self.org_id, user_id: self.user.id, client_id: self.client_id }
    }

    pub fn can(&self, p: Permission) -> bool {
        self.permissions.contains(p)
    }

    pub fn require(&self, p: Permission) -> Result<(), AppError> {
        if self.can(p) { Ok(()) } else { Err(AppError::Forbidden) }
    }

    /// Whether a feature flag is on for this organization.
    pub fn has(&self, feature: crate::platform::Feature) -> bool {
        self.features.iter().any(|f| f == feature.key())
    }

    /// A feature switched off for the organization does not exist for it: 404.
    pub fn require_feature(&self, feature: crate::platform::Feature) -> Result<(), AppError> {
        if self.has(feature) { Ok(()) } else { Err(AppError::NotFound) }
    }

    pub fn is_client(&self) -> bool {
        self.role_key.as_deref() == Some("client")
    }

    /// Staff of an organization that requires two-factor sign-in, who have not set it up.
    pub fn must_set_up_two_factor(&self) -> bool {
        self.requires_two_factor && !self.user.two_factor_enabled && !self.is_client()
    }
}

/// What the request resolved to: a user, and their organization if they have one.
#[derive(Debug, Clone)]
pub struct Auth {
    pub user: CurrentUser,
    pub org: Result<OrgContext, NoOrg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoOrg {
    /// Not an active member of any organization.
    NoMembership,
    /// The organization is suspended by the platform.
    Suspended,
}

#[derive(QueryableByName)]
struct AuthRow {
    #[diesel(sql_type = SqlUuid)]
    user_id: UserId,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    display_id: String,
    #[diesel(sql_type = Text)]
    user_status: String,
    #[diesel(sql_type = Bool)]
    is_platform_owner: bool,
    #[diesel(sql_type = Bool)]
    is_platform_staff: bool,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    org_id: Option<OrgId>,
    #[diesel(sql_type = Nullable<Text>)]
    org_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    org_status: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    brand_color: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    currency: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    membership_id: Option<MembershipId>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    client_id: Option<ClientId>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    role_id: Option<RoleId>,
    #[diesel(sql_type = Nullable<Text>)]
    role_key: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    role_name: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    power: Option<i32>,
    #[diesel(sql_type = Array<Text>)]
    permissions: Vec<String>,
    #[diesel(sql_type = Nullable<diesel::sql_types::BigInt>)]
    logo_version: Option<i64>,
    #[diesel(sql_type = Bool)]
    two_factor_on: bool,
    #[diesel(sql_type = Nullable<Bool>)]
    requires_two_factor: Option<bool>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    unread_notifications: i64,
    #[diesel(sql_type = Array<Text>)]
    features: Vec<String>,
}

const AUTH_QUERY: &str = "\
SELECT u.id AS user_id, u.email, u.name, u.display_id, u.status AS user_status, u.is_platform_owner,
       EXISTS (SELECT 1 FROM platform_staff ps WHERE ps.user_id = u.id) AS is_platform_staff,
       o.id AS org_id, o.name AS org_name, o.status AS org_status, o.brand_color, o.default_currency AS currency,
       m.id AS membership_id, m.client_id, r.id AS role_id, r.key AS role_key,
       r.name AS role_name, r.power,
       COALESCE((SELECT array_agg(rp.permission) FROM role_permissions rp
                 WHERE rp.org_id = m.org_id AND rp.role_id = m.role_id), '{}') AS permissions,
       CASE WHEN o.logo IS NOT NULL THEN (extract(epoch FROM o.logo_updated_at) * 1000)::bigint END AS logo_version,
       u.totp_enabled_at IS NOT NULL AS two_factor_on, o.require_two_factor AS requires_two_factor,
       (SELECT count(*) FROM notifications n
        WHERE n.user_id = u.id AND (n.org_id = m.org_id OR n.kind IN ('invitation', 'support_reply'))
          AND n.read_at IS NULL) AS unread_notifications,
       CASE WHEN m.org_id IS NULL THEN '{}' ELSE org_features(m.org_id) END AS features
FROM users u
LEFT JOIN memberships m ON m.user_id = u.id AND m.status = 'active'
     AND CASE WHEN $2::uuid IS NULL THEN m.org_id = u.active_org_id ELSE m.id = $2 END
LEFT JOIN organizations o ON o.id = m.org_id
LEFT JOIN roles r ON r.org_id = m.org_id AND r.id = m.role_id
WHERE u.id = $1";

fn load_auth_row(
    conn: &mut PgConnection,
    user_id: UserId,
    scope: Option<MembershipId>,
) -> QueryResult<Option<AuthRow>> {
    crate::db::sql_query(AUTH_QUERY)
        .bind::<SqlUuid, _>(user_id)
        .bind::<Nullable<SqlUuid>, _>(scope)
        .get_result(conn)
        .optional()
}

/// Loads who `user_id` is; an active org is chosen if theirs is gone (removed, banned).
/// A session limited to one membership (opened by a portal link) never moves.
fn resolve(
    conn: &mut PgConnection,
    user_id: UserId,
    session_id: Option<SessionId>,
    scope: Option<MembershipId>,
) -> Result<Option<Auth>, AppError> {
    let Some(mut row) = load_auth_row(conn, user_id, scope)? else {
        return Ok(None);
    };
    if row.user_status != "active" {
        // Suspended or banned: every session of the account ends, not only this one.
        diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?;
        return Ok(None);
    }
    // No active membership in the active organization, or it is suspended: move to
    // another organization of theirs that is usable, if there is one.
    if scope.is_none() && (row.membership_id.is_none() || row.org_status.as_deref() == Some("suspended")) {
        let other: Option<OrgId> = memberships::table
            .inner_join(organizations::table)
            .filter(memberships::user_id.eq(user_id))
            .filter(memberships::status.eq("active"))
            .filter(organizations::status.eq("active"))
            .order(memberships::created_at.asc())
            .select(memberships::org_id)
            .first(conn)
            .optional()?;
        if let Some(org_id) = other {
            diesel::update(users::table.find(user_id)).set(users::active_org_id.eq(org_id)).execute(conn)?;
            if let Some(reloaded) = load_auth_row(conn, user_id, None)? {
                row = reloaded;
            }
        }
    }
    let user = CurrentUser {
        id: row.user_id,
        email: row.email,
        name: row.name,
        display_id: row.display_id,
        is_platform_owner: row.is_platform_owner,
        is_platform_staff: row.is_platform_staff,
        session_id,
        two_factor_enabled: row.two_factor_on,
        portal_scope: scope,
    };
    let org = match (row.org_id, row.membership_id, row.role_id) {
        (Some(org_id), Some(membership_id), Some(role_id)) => {
            if row.org_status.as_deref() == Some("suspended") {
                Err(NoOrg::Suspended)
            } else {
                Ok(OrgContext {
                    user: user.clone(),
                    org_id,
                    org_name: row.org_name.unwrap_or_default(),
                    brand_color: row.brand_color.unwrap_or_default(),
                    currency: row.currency.unwrap_or_default(),
                    membership_id,
                    role_id,
                    role_key: row.role_key,
                    role_name: row.role_name.unwrap_or_default(),
                    power: row.power.unwrap_or(0),
                    client_id: row.client_id,
                    permissions: PermissionSet::from_keys(row.permissions.iter().map(String::as_str)),
                    logo_version: row.logo_version,
                    requires_two_factor: row.requires_two_factor.unwrap_or(false),
                    unread_notifications: row.unread_notifications,
                    features: row.features,
                })
            }
        }
        _ => Err(NoOrg::NoMembership),
    };
    Ok(Some(Auth { user, org }))
}

fn unauthorized(req: &HttpRequest) -> AppError {
    // Only a page the user was trying to see is worth returning to.
    let next = (req.method() == Method::GET)
        .then(|| match req.query_string() {
            "" => req.path().to_string(),
            q => format!("{}?{q}", req.path()),
        })
        .filter(|p| p != "/dashboard");
    AppError::Unauthorized { next, htmx: req.headers().contains_key("hx-request") }
}

/// Resolves (once per request) who is signed in. `Ok(None)`: nobody.
pub async fn auth_of(req: &HttpRequest) -> Result<Option<Auth>, AppError> {
    if let Some(cached) = req.extensions().get::<Option<Auth>>() {
        return Ok(cached.clone());
    }
    let session = TypedSession::of(req);
    let auth = match session.user_id() {
        None => None,
        Some(user_id) => {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("app state missing")))?;
            let (session_id, scope) = (session.session_id(), session.portal_scope());
            let auth = db::run(&state.pool, move |conn| resolve(conn, user_id, session_id, scope)).await?;
            if auth.is_none() {
                // Deleted, suspended or banned since sign-in: the session ends now.
                session.log_out(req);
            }
            auth
        }
    };
    req.extensions_mut().insert(auth.clone());
    Ok(auth)
}

pub async fn current_user(req: &HttpRequest) -> Result<CurrentUser, AppError> {
    match auth_of(req).await? {
        Some(auth) => Ok(auth.user),
        None => Err(unauthorized(req)),
    }
}

pub async fn org_context(req: &HttpRequest) -> Result<OrgContext, AppError> {
    match auth_of(req).await? {
        None => Err(unauthorized(req)),
        Some(Auth { org: Ok(ctx), .. }) => Ok(ctx),
        Some(Auth { org: Err(NoOrg::Suspended), .. }) => Err(AppError::OrgSuspended),
        Some(Auth { org: Err(NoOrg::NoMembership), .. }) => Err(AppError::NoOrganization),
    }
}

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, AppError>>>>;

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = LocalBoxFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { current_user(&req).await })
    }
}

impl FromRequest for OrgContext {
    type Error = AppError;
    type Future = LocalBoxFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { org_context(&req).await })
    }
}
