//! Every route of the application, domain by domain. Each domain's `routes!` block
//! names the access policy of each of its routes; `all()` is what the route-table
//! test walks.

use actix_web::web::ServiceConfig;

use crate::web::routes::RouteEntry;
use crate::{
    audit, auth, chat, clients, dashboard, files, health, money, notifications, orgs, platform, portal, projects,
    support, tasks, team, time_tracking,
};

pub fn configure(cfg: &mut ServiceConfig) {
    health::routes(cfg);
    auth::routes(cfg);
    dashboard::routes(cfg);
    team::routes(cfg);
    orgs::routes(cfg);
    audit::routes(cfg);
    clients::routes(cfg);
    projects::routes(cfg);
    tasks::routes(cfg);
    files::routes(cfg);
    time_tracking::routes(cfg);
    money::routes(cfg);
    portal::routes(cfg);
    notifications::routes(cfg);
    chat::routes(cfg);
    support::routes(cfg);
    platform::routes(cfg);
}

pub fn all() -> Vec<RouteEntry> {
    [
        health::ROUTES,
        auth::ROUTES,
        dashboard::ROUTES,
        team::ROUTES,
        orgs::ROUTES,
        audit::ROUTES,
        clients::ROUTES,
        projects::ROUTES,
        tasks::ROUTES,
        files::ROUTES,
        time_tracking::ROUTES,
        money::ROUTES,
        portal::ROUTES,
        notifications::ROUTES,
        chat::ROUTES,
        support::ROUTES,
        platform::ROUTES,
    ]
    .concat()
}
