//! Route registration that names each route's access policy. Every domain declares its
//! routes with [`routes!`]; the policy is enforced before the handler runs, and the
//! same table drives the route-table test (tests/it/routes.rs).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, Handler, Responder, web};

use crate::team::Permission;
use crate::web::AppError;
use crate::web::auth::{current_user, org_context};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user, with or without an organization.
    SignedIn,
    /// Any active member of the user's active organization.
    Member,
    /// A staff member (not a client user) whose role has this permission.
    Permission(Permission),
    /// A client user of the active organization: the portal.
    Client,
    /// Staff whose role has this permission, and client users whose role has it: the
    /// pages both share (chat), where row-level policies show a client only their own.
    Shared(Permission),
    /// The platform team (owners and staff). Everyone else gets 404: the pages are
    /// not even revealed.
    Platform,
    /// Platform owners only (managing the platform team); staff get 403.
    PlatformOwner,
}

#[derive(Debug, Clone, Copy)]
pub struct RouteEntry {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

async fn enforce(
    access: Access,
    pattern: &'static str,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    match access {
        Access::Public => {}
        Access::SignedIn => {
            let user = current_user(req.request()).await?;
            // A session opened by an emailed link is not the account's own: it may sign
            // out and see its one organization, not change the account.
            if user.portal_scope.is_some() && !LINK_SESSION_MAY.contains(&req.path()) {
                return Err(AppError::Forbidden.into());
            }
        }
        Access::Member => {
            let ctx = org_context(req.request()).await?;
            two_factor_gate(&ctx, &req)?;
            feature_gate(&ctx, pattern)?;
        }
        Access::Permission(p) => {
            let ctx = org_context(req.request()).await?;
            two_factor_gate(&ctx, &req)?;
            // Client users reach their records through the portal, never staff pages.
            if ctx.is_client() {
                return Err(AppError::Forbidden.into());
            }
            ctx.require(p)?;
            feature_gate(&ctx, pattern)?;
        }
        Access::Client => {
            let ctx = org_context(req.request()).await?;
            if !ctx.is_client() || ctx.client_id.is_none() {
                return Err(AppError::Forbidden.into());
            }
            feature_gate(&ctx, pattern)?;
        }
        Access::Shared(p) => {
            let ctx = org_context(req.request()).await?;
            two_factor_gate(&ctx, &req)?;
            if ctx.is_client() && ctx.client_id.is_none() {
                return Err(AppError::Forbidden.into());
            }
            ctx.require(p)?;
            feature_gate(&ctx, pattern)?;
        }
        Access::Platform | Access::PlatformOwner => {
            let user = match current_user(req.request()).await {
                Ok(user) if user.on_platform_team() => user,
                _ => return Err(AppError::NotFound.into()),
            };
            if access == Access::PlatformOwner && !user.is_platform_owner {
                return Err(AppError::Forbidden.into());
            }
        }
    }
    next.call(req).await
}

/// The account pages a session opened by an emailed portal link may use.
const LINK_SESSION_MAY: &[&str] = &["/logout", "/organizations"];

/// A route of a feature switched off for the organization does not exist for it (404).
fn feature_gate(ctx: &crate::web::auth::OrgContext, pattern: &str) -> Result<(), AppError> {
    match crate::platform::Feature::of_route(pattern) {
        Some(feature) => ctx.require_feature(feature),
        None => Ok(()),
    }
}

/// An organization that requires two-factor sign-in shows its pages only to staff who
/// have it; the others are sent to set it up.
fn two_factor_gate(ctx: &crate::web::auth::OrgContext, req: &ServiceRequest) -> Result<(), AppError> {
    if ctx.must_set_up_two_factor() {
        return Err(AppError::TwoFactorRequired { htmx: req.headers().contains_key("hx-request") });
    }
    Ok(())
}

/// Registers one route behind its access check.
pub fn add<F, Args>(cfg: &mut web::ServiceConfig, entry: RouteEntry, handler: F)
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    // A typo in a routes! table must stop the app at start, not become a GET route.
    let method = match entry.method {
        "GET" => Method::GET,
        "POST" => Method::POST,
        other => panic!("route {} has an unsupported method {other}", entry.path),
    };
    let access = entry.access;
    let pattern = entry.path;
    cfg.route(
        entry.path,
        web::method(method).to(handler).wrap(from_fn(move |req, next| enforce(access, pattern, req, next))),
    );
}

/// `routes! { GET "/path" => Access::Public, handler; … }` defines the module's
/// `ROUTES` table and `routes(cfg)` that registers them.
macro_rules! routes {
    ($($method:ident $path:literal => $access:expr, $handler:path;)*) => {
        pub const ROUTES: &[$crate::web::routes::RouteEntry] = &[
            $($crate::web::routes::RouteEntry {
                method: stringify!($method),
                path: $path,
                access: $access,
            }),*
        ];

        pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
            let mut entries = ROUTES.iter();
            $(
                if let Some(entry) = entries.next() {
                    $crate::web::routes::add(cfg, *entry, $handler);
                }
            )*
        }
    };
}
pub(crate) use routes;
