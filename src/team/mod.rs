//! People and access within an organization: permissions and roles.

pub mod permissions;
pub mod roles;

pub use permissions::{Permission, PermissionSet};
