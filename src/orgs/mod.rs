//! Organizations (tenants): provisioning, the user's list and switcher, and the
//! settings page (with the logo and brand color).

pub mod handlers;
pub mod queries;
pub mod settings;

use crate::team::Permission;
use crate::web::routes::{Access, routes};

routes! {
    GET "/organizations" => Access::SignedIn, handlers::mine;
    POST "/organizations/switch" => Access::SignedIn, handlers::switch;
    GET "/settings" => Access::Permission(Permission::ManageOrg), settings::show;
    POST "/settings" => Access::Permission(Permission::ManageOrg), settings::update;
}
