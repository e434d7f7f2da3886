//! People and access within an organization: permissions and roles, the team and
//! what admins do to members, custom roles, invitations.

pub mod invitations;
pub mod members;
pub mod permissions;
pub mod roles;
pub mod roles_admin;

pub use permissions::{Permission, PermissionSet};

use crate::web::routes::{Access, routes};

routes! {
    GET "/team" => Access::Permission(Permission::ViewTeam), members::index;
    POST "/users/{id}/role" => Access::Permission(Permission::ManageMembers), members::change_role;
    POST "/members/leave" => Access::Member, members::leave;
    POST "/members/{id}/remove" => Access::Permission(Permission::ManageMembers), members::remove;
    POST "/members/{id}/ban" => Access::Permission(Permission::ManageMembers), members::ban;
    POST "/members/{id}/unban" => Access::Permission(Permission::ManageMembers), members::unban;
    POST "/members/{id}/reset-two-factor" => Access::Permission(Permission::ManageMembers), members::reset_two_factor;
    GET "/roles" => Access::Permission(Permission::ManageRoles), roles_admin::index;
    GET "/roles/new" => Access::Permission(Permission::ManageRoles), roles_admin::new;
    GET "/roles/{id}" => Access::Permission(Permission::ManageRoles), roles_admin::show;
    POST "/roles" => Access::Permission(Permission::ManageRoles), roles_admin::create;
    POST "/roles/{id}" => Access::Permission(Permission::ManageRoles), roles_admin::update;
    POST "/roles/{id}/delete" => Access::Permission(Permission::ManageRoles), roles_admin::delete;
    GET "/invitations" => Access::SignedIn, invitations::mine;
    POST "/invitations/send" => Access::Permission(Permission::InviteMembers), invitations::send;
    POST "/invitations/{id}/accept" => Access::SignedIn, invitations::accept;
    POST "/invitations/{id}/reject" => Access::SignedIn, invitations::reject;
    POST "/invitations/{id}/resend" => Access::Permission(Permission::InviteMembers), invitations::resend;
    POST "/invitations/{id}/revoke" => Access::Permission(Permission::InviteMembers), invitations::revoke;
    GET "/invitations/open/{token}" => Access::Public, invitations::open;
    POST "/invitations/open/{token}" => Access::Public, invitations::respond;
}
