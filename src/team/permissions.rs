//! The 26 permission keys of SPEC §1 and a compact set of them.

use std::fmt;

macro_rules! permissions {
    ($($variant:ident => $key:literal),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Permission { $($variant),* }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant),*];

            pub fn key(self) -> &'static str {
                match self { $(Permission::$variant => $key),* }
            }

            pub fn from_key(key: &str) -> Option<Permission> {
                match key { $($key => Some(Permission::$variant),)* _ => None }
            }
        }
    };
}

permissions! {
    ManageOrg => "manage_org",
    ManageRoles => "manage_roles",
    ManageMembers => "manage_members",
    InviteMembers => "invite_members",
    ViewTeam => "view_team",
    ViewClients => "view_clients",
    ManageClients => "manage_clients",
    ViewProjects => "view_projects",
    CreateProject => "create_project",
    EditProject => "edit_project",
    DeleteProject => "delete_project",
    ManageTasks => "manage_tasks",
    ViewFiles => "view_files",
    UploadFiles => "upload_files",
    DeleteFiles => "delete_files",
    ViewInvoices => "view_invoices",
    ManageInvoices => "manage_invoices",
    SendInvoices => "send_invoices",
    ViewQuotations => "view_quotations",
    ManageQuotations => "manage_quotations",
    SendQuotations => "send_quotations",
    ManageTaxes => "manage_taxes",
    UseChat => "use_chat",
    ManageChannels => "manage_channels",
    ViewAuditLogs => "view_audit_logs",
    ExportData => "export_data",
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A set of permissions as bits, cheap to copy and to test.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PermissionSet(u32);

impl PermissionSet {
    pub fn all() -> Self {
        Self::from_iter(Permission::ALL.iter().copied())
    }

    pub fn contains(self, p: Permission) -> bool {
        self.0 & (1 << p as u32) != 0
    }

    pub fn insert(&mut self, p: Permission) {
        self.0 |= 1 << p as u32;
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.iter().copied().filter(move |p| self.contains(*p))
    }

    /// Keys that are not permissions are ignored (a removed key in old data).
    pub fn from_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> Self {
        Self::from_iter(keys.into_iter().filter_map(Permission::from_key))
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = PermissionSet::default();
        for p in iter {
            set.insert(p);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_26_distinct_keys_that_round_trip() {
        assert_eq!(Permission::ALL.len(), 26);
        for p in Permission::ALL {
            assert_eq!(Permission::from_key(p.key()), Some(*p));
        }
        assert_eq!(PermissionSet::all().iter().count(), 26);
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let set = PermissionSet::from_keys(["view_team", "launch_rockets"]);
        assert!(set.contains(Permission::ViewTeam));
        assert_eq!(set.iter().count(), 1);
    }
}
