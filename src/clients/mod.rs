//! Clients: the people and companies the organization works for. A list with
//! full-text search, sorting and keyset pages (fast at any depth), a detail page with
//! their projects and portal users, and create / edit / delete.

pub mod handlers;
pub mod list;

use crate::team::Permission;
use crate::web::routes::{Access, routes};

routes! {
    GET "/clients" => Access::Permission(Permission::ViewClients), handlers::index;
    GET "/clients/new" => Access::Permission(Permission::ManageClients), handlers::new;
    POST "/clients" => Access::Permission(Permission::ManageClients), handlers::create;
    GET "/clients/{id}" => Access::Permission(Permission::ViewClients), handlers::show;
    GET "/clients/{id}/edit" => Access::Permission(Permission::ManageClients), handlers::edit;
    POST "/clients/{id}" => Access::Permission(Permission::ManageClients), handlers::update;
    POST "/clients/{id}/delete" => Access::Permission(Permission::ManageClients), handlers::delete;
    POST "/clients/{id}/portal-access" => Access::Permission(Permission::ManageClients), crate::portal::links::send_access;
    POST "/clients/{id}/portal-links/{link_id}/revoke" => Access::Permission(Permission::ManageClients), crate::portal::links::revoke;
}
