//! Tasks: the work inside a project. Fields, subtasks one level deep, comments with
//! @mentions (which notify), a history of every changed field, a filtered list and a
//! Kanban board whose card order survives concurrent moves.

pub mod activity;
pub mod board;
pub mod comments;
pub mod handlers;
pub mod queries;

use crate::team::Permission;
use crate::web::routes::{Access, routes};

/// The board's columns, in order.
pub const STATUSES: &[(&str, &str)] =
    &[("todo", "To do"), ("in_progress", "In progress"), ("review", "Review"), ("done", "Done")];

pub const PRIORITIES: &[(&str, &str)] = &[("low", "Low"), ("medium", "Medium"), ("high", "High"), ("urgent", "Urgent")];

pub fn status_label(key: &str) -> &'static str {
    STATUSES.iter().find(|(k, _)| *k == key).map(|(_, l)| *l).unwrap_or("Unknown")
}

pub fn priority_label(key: &str) -> &'static str {
    PRIORITIES.iter().find(|(k, _)| *k == key).map(|(_, l)| *l).unwrap_or("Unknown")
}

routes! {
    GET "/tasks" => Access::Permission(Permission::ViewProjects), handlers::index;
    GET "/tasks/new" => Access::Permission(Permission::ManageTasks), handlers::new;
    POST "/tasks" => Access::Permission(Permission::ManageTasks), handlers::create;
    GET "/tasks/{id}" => Access::Permission(Permission::ViewProjects), handlers::show;
    GET "/tasks/{id}/edit" => Access::Permission(Permission::ManageTasks), handlers::edit;
    POST "/tasks/{id}" => Access::Permission(Permission::ManageTasks), handlers::update;
    POST "/tasks/{id}/delete" => Access::Permission(Permission::ManageTasks), handlers::delete;
    POST "/tasks/{id}/move" => Access::Permission(Permission::ManageTasks), board::move_task;
    POST "/tasks/{id}/comments" => Access::Permission(Permission::ViewProjects), comments::post;
}
