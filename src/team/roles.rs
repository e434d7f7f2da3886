//! The four built-in roles every organization gets (SPEC §1).

use super::permissions::{Permission, PermissionSet};
use Permission::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinRole {
    Owner,
    Admin,
    Member,
    Client,
}

impl BuiltinRole {
    pub const ALL: [BuiltinRole; 4] = [Self::Owner, Self::Admin, Self::Member, Self::Client];

    pub fn key(self) -> &'static str {
        match self {
            Self::Owner => "super_admin",
            Self::Admin => "admin",
            Self::Member => "member",
            Self::Client => "client",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Owner => "Owner",
            Self::Admin => "Admin",
            Self::Member => "Member",
            Self::Client => "Client",
        }
    }

    pub fn power(self) -> i32 {
        match self {
            Self::Owner => 100,
            Self::Admin => 90,
            Self::Member => 50,
            Self::Client => 10,
        }
    }

    pub fn default_permissions(self) -> PermissionSet {
        match self {
            Self::Owner | Self::Admin => PermissionSet::all(),
            Self::Member => PermissionSet::from_iter([
                ViewTeam,
                ViewClients,
                ViewProjects,
                CreateProject,
                EditProject,
                ManageTasks,
                ViewFiles,
                UploadFiles,
                ViewInvoices,
                ViewQuotations,
                UseChat,
            ]),
            Self::Client => PermissionSet::from_iter([ViewProjects, ViewFiles, ViewInvoices, ViewQuotations, UseChat]),
        }
    }
}
