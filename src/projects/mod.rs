//! Projects: work for a client (or internal), with a status, dates, a budget, an
//! optional hourly rate that overrides members' defaults, members, a Kanban board of
//! tasks and a message thread.

pub mod handlers;
pub mod messages;
pub mod queries;

use crate::team::Permission;
use crate::web::routes::{Access, routes};

pub const STATUSES: &[(&str, &str)] = &[
    ("planned", "Planned"),
    ("active", "Active"),
    ("on_hold", "On hold"),
    ("completed", "Completed"),
    ("cancelled", "Cancelled"),
];

pub fn status_label(key: &str) -> &'static str {
    STATUSES.iter().find(|(k, _)| *k == key).map(|(_, l)| *l).unwrap_or("Unknown")
}

routes! {
    GET "/projects" => Access::Permission(Permission::ViewProjects), handlers::index;
    GET "/projects/new" => Access::Permission(Permission::CreateProject), handlers::new;
    POST "/projects" => Access::Permission(Permission::CreateProject), handlers::create;
    GET "/projects/{id}" => Access::Permission(Permission::ViewProjects), handlers::show;
    GET "/projects/{id}/edit" => Access::Permission(Permission::EditProject), handlers::edit;
    POST "/projects/{id}" => Access::Permission(Permission::EditProject), handlers::update;
    POST "/projects/{id}/delete" => Access::Permission(Permission::DeleteProject), handlers::delete;
    GET "/projects/{id}/board" => Access::Permission(Permission::ViewProjects), crate::tasks::board::show;
    GET "/projects/{id}/messages" => Access::Permission(Permission::ViewProjects), messages::index;
    POST "/projects/{id}/messages" => Access::Permission(Permission::ViewProjects), messages::post;
}
