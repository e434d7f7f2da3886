//! /platform: the pages of the platform team (owners and staff) across every
//! organization. Everyone else gets 404. Their database work goes through
//! [`cross_tenant_tx`], the one connection that may see more than one tenant, and
//! what they do and see is written to the platform audit log.

mod audit;
mod flags;
mod organizations;
mod overview;
mod subscriptions;
mod support;
mod team;
mod users;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;

use crate::db::PgPool;
use crate::db::ids::UserId;
use crate::web::AppError;
use crate::web::auth::{CurrentUser, current_user};
use crate::web::routes::{Access, routes};

pub use audit::{PlatformEvent, record};
pub use flags::Feature;

routes! {
    GET "/platform" => Access::Platform, overview::show;
    GET "/platform/organizations" => Access::Platform, organizations::index;
    POST "/platform/organizations/{id}/status" => Access::Platform, organizations::set_status;
    GET "/platform/users" => Access::Platform, users::index;
    POST "/platform/users/{id}/status" => Access::Platform, users::set_status;
    GET "/platform/subscriptions" => Access::Platform, subscriptions::index;
    POST "/platform/subscriptions/{id}" => Access::Platform, subscriptions::update;
    GET "/platform/feature-flags" => Access::Platform, flags::index;
    POST "/platform/feature-flags/{id}" => Access::Platform, flags::update;
    GET "/platform/team" => Access::Platform, team::index;
    POST "/platform/team" => Access::PlatformOwner, team::add;
    POST "/platform/team/{id}/delete" => Access::PlatformOwner, team::remove;
    GET "/platform/audit-logs" => Access::Platform, audit::index;
    GET "/platform/audit-logs.csv" => Access::Platform, audit::csv;
    GET "/platform/support" => Access::Platform, support::index;
    POST "/platform/support/{id}/reply" => Access::Platform, support::reply;
}

/// A member of the platform team, as the request proved (only the route guard and
/// this extractor make one).
#[derive(Debug, Clone)]
pub struct PlatformStaff {
    pub user: CurrentUser,
}

impl PlatformStaff {
    pub fn id(&self) -> UserId {
        self.user.id
    }

    pub fn is_owner(&self) -> bool {
        self.user.is_platform_owner
    }
}

impl FromRequest for PlatformStaff {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match current_user(&req).await {
                Ok(user) if user.on_platform_team() => Ok(PlatformStaff { user }),
                _ => Err(AppError::NotFound),
            }
        })
    }
}

/// Runs `f` in a transaction as `clienthub_platform`: the role whose policies let it
/// see every organization, and whose column grants keep it to what the platform
/// needs (names, statuses and counts; never password hashes, client records or
/// documents).
pub async fn cross_tenant_tx<T, F>(pool: &PgPool, staff: &PlatformStaff, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let actor = staff.id();
    crate::db::run(pool, move |conn| {
        conn.transaction(|conn| {
            // Only a typed UUID is interpolated.
            conn.batch_execute(&format!(
                "SET LOCAL ROLE clienthub_platform; SELECT set_config('app.user_id', '{actor}', true)"
            ))?;
            f(conn)
        })
    })
    .await
}

/// Rows per page of the platform's lists.
pub const PAGE_SIZE: i64 = 50;

/// The search box and filters of a platform list: `?q=&status=&plan=&page=`.
#[derive(serde::Deserialize, Default, Clone, Debug)]
pub struct Search {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub plan: String,
    #[serde(default)]
    pub page: u32,
}

impl Search {
    /// Trimmed, with filters outside their known values dropped.
    fn cleaned(mut self, statuses: &[&str]) -> Self {
        self.q = self.q.trim().chars().take(200).collect();
        if !statuses.contains(&self.status.as_str()) {
            self.status.clear();
        }
        if !["free", "pro", "enterprise"].contains(&self.plan.as_str()) {
            self.plan.clear();
        }
        self.page = self.page.min(10_000);
        self
    }

    fn offset(&self) -> i64 {
        i64::from(self.page) * PAGE_SIZE
    }

    /// A page of rows loaded with `LIMIT PAGE_SIZE + 1`, and whether more follow.
    fn page_of<T>(mut rows: Vec<T>) -> (Vec<T>, bool) {
        let more = rows.len() as i64 > PAGE_SIZE;
        rows.truncate(PAGE_SIZE as usize);
        (rows, more)
    }

    /// The query string of page `page` of this search.
    pub fn link(&self, page: impl crate::web::Arg<u32>) -> String {
        let page = page.value();
        let encode = crate::web::error::url_encode;
        format!("?q={}&status={}&plan={}&page={page}", encode(&self.q), encode(&self.status), encode(&self.plan))
    }

    pub fn previous(&self) -> Option<u32> {
        self.page.checked_sub(1)
    }

    pub fn next(&self) -> u32 {
        self.page + 1
    }
}

/// `clienthub create-platform-owner EMAIL`: makes an existing account a platform
/// owner (the first one, or another). Returns the account's name.
pub fn make_owner(conn: &mut PgConnection, email: &str) -> anyhow::Result<String> {
    use crate::db::schema::{platform_staff, users};
    use diesel::prelude::*;
    let email = email.trim().to_lowercase();
    conn.transaction(|conn| {
        let Some((id, name)) = users::table
            .filter(users::email.eq(&email))
            .select((users::id, users::name))
            .first::<(UserId, String)>(conn)
            .optional()?
        else {
            anyhow::bail!("no account uses {email}: sign up at /signup first, then run this again");
        };
        diesel::update(users::table.find(id)).set(users::is_platform_owner.eq(true)).execute(conn)?;
        diesel::delete(platform_staff::table.find(id)).execute(conn)?;
        record(
            conn,
            None,
            &Default::default(),
            PlatformEvent::new(
                "platform.owner_created",
                format!("Made {email} a platform owner from the command line"),
            )
            .target("user", id.0),
        )?;
        Ok(name)
    })
}
