//! Liveness and readiness for load balancers and orchestrators.

use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;

use crate::db;
use crate::state::AppState;
use crate::web::routes::{Access, routes};

routes! {
    GET "/health" => Access::Public, health;
    GET "/ready" => Access::Public, ready;
}

/// The process is up.
async fn health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body("ok")
}

/// The database answers; 503 otherwise.
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match db::run(&state.pool, |conn| Ok(conn.batch_execute("SELECT 1")?)).await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain; charset=utf-8").body("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable().content_type("text/plain; charset=utf-8").body("database unavailable")
        }
    }
}
