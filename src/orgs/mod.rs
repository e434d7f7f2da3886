//! Organizations (tenants): provisioning, the user's list and switcher, and the
//! settings page (with the logo and brand color).

pub mod handlers;
pub mod logo;
pub mod queries;
pub mod settings;

use crate::team::Permission;
use crate::web::routes::{Access, routes};

routes! {
    GET "/organizations" => Access::SignedIn, handlers::mine;
    POST "/organizations/switch" => Access::SignedIn, handlers::switch;
    POST "/organizations" => Access::SignedIn, handlers::create;
    GET "/settings" => Access::Permission(Permission::ManageOrg), settings::show;
    POST "/settings" => Access::Permission(Permission::ManageOrg), settings::update;
    POST "/settings/logo" => Access::Permission(Permission::ManageOrg), logo::upload;
    POST "/settings/logo/delete" => Access::Permission(Permission::ManageOrg), logo::remove;
    GET "/orgs/{id}/logo" => Access::Public, logo::serve;
}
