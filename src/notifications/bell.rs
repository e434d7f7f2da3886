//! The bell in the header, kept current over server-sent events: when a user's unread
//! count changes on any instance, every page they have open gets the new badge.

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use crate::db::ids::UserId;
use crate::db::{self, PgPool, Tenant};
use crate::live::Event;
use crate::live::sse::{self, Feed};
use crate::state::AppState;
use crate::web::AppError;
use crate::web::auth::OrgContext;

/// What the badge says: nothing, the count, or "99+".
pub fn label(unread: i64) -> Option<String> {
    match unread {
        ..=0 => None,
        1..=99 => Some(unread.to_string()),
        _ => Some("99+".into()),
    }
}

#[derive(Template)]
#[template(path = "notifications/_bell.html")]
struct Bell {
    label: Option<String>,
}

fn badge(unread: i64) -> Bytes {
    let html = Bell { label: label(unread) }.render().unwrap_or_default();
    sse::event("bell", None, &html)
}

/// The same count the header shows (see `web::auth`).
fn unread(conn: &mut PgConnection) -> QueryResult<i64> {
    crate::db::sql_query(
        "SELECT count(*) AS n FROM notifications
         WHERE user_id = app_user_id() AND (org_id = app_org_id() OR kind IN ('invitation', 'support_reply')) AND read_at IS NULL",
    )
    .get_result::<db::Count>(conn)
    .map(|r| r.n)
}

struct BellFeed {
    pool: PgPool,
    tenant: Tenant,
    user_id: UserId,
    shown: i64,
}

impl Feed for BellFeed {
    async fn on_event(&mut self, event: Event) -> (Vec<Bytes>, bool) {
        match event {
            Event::Bell { user_id } if user_id == self.user_id => self.catch_up().await,
            _ => (Vec::new(), true),
        }
    }

    async fn catch_up(&mut self) -> (Vec<Bytes>, bool) {
        match db::tenant_tx(&self.pool, self.tenant, |conn| Ok(unread(conn)?)).await {
            Ok(n) if n != self.shown => {
                self.shown = n;
                (vec![badge(n)], true)
            }
            Ok(_) => (Vec::new(), true),
            Err(_) => (Vec::new(), false),
        }
    }
}

/// GET /notifications/stream
pub async fn stream(state: web::Data<AppState>, ctx: OrgContext) -> Result<HttpResponse, AppError> {
    let receiver = state.live.subscribe();
    let shown = ctx.unread_notifications;
    let feed = BellFeed { pool: state.pool.clone(), tenant: ctx.tenant(), user_id: ctx.user.id, shown };
    // The count as of this request: a page that was open while the stream was away
    // catches up at once.
    Ok(sse::respond(feed, sse::Grant::of(&state.pool, &ctx), receiver, vec![badge(shown)]))
}
