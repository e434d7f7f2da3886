//! What every full page shares: title, CSRF token, flash message, static assets,
//! and for signed-in users the header and the navigation their permissions allow.

use actix_web::HttpRequest;

use crate::platform::Feature;
use crate::team::Permission;
use crate::web::assets::{Assets, assets};
use crate::web::auth::{CurrentUser, OrgContext};
use crate::web::csrf;
use crate::web::flash::{self, Flash};

pub struct Layout {
    pub title: String,
    pub csrf: String,
    pub flash: Option<Flash>,
    pub asset: &'static Assets,
    pub nav: Option<Nav>,
}

pub struct Nav {
    pub user_name: String,
    pub user_email: String,
    pub initials: String,
    pub org_name: Option<String>,
    pub role_name: Option<String>,
    pub brand_css: String,
    pub logo_url: Option<String>,
    pub items: Vec<NavItem>,
    /// Unread notifications, shown on the bell; None outside an organization.
    pub unread: Option<i64>,
    /// The account menu links to /platform.
    pub platform: bool,
}

impl Nav {
    /// What the bell's badge says, if anything.
    pub fn unread_label(&self) -> Option<String> {
        crate::notifications::bell::label(self.unread.unwrap_or(0))
    }
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub icon: &'static str,
    pub active: bool,
}

/// The main navigation, in order. An item shows when the role may open its page.
const NAV: &[(&str, &str, &str, Option<Permission>)] = &[
    ("/dashboard", "Dashboard", "home", None),
    ("/clients", "Clients", "briefcase", Some(Permission::ViewClients)),
    ("/projects", "Projects", "folder", Some(Permission::ViewProjects)),
    ("/tasks", "Tasks", "check-square", Some(Permission::ViewProjects)),
    ("/time", "Time", "clock", Some(Permission::ManageTasks)),
    ("/timesheets", "Timesheets", "list", Some(Permission::ViewProjects)),
    ("/files", "Files", "file", Some(Permission::ViewFiles)),
    ("/invoices", "Invoices", "receipt", Some(Permission::ViewInvoices)),
    ("/quotations", "Quotations", "file", Some(Permission::ViewQuotations)),
    ("/taxes", "Taxes", "list", Some(Permission::ManageTaxes)),
    ("/chat", "Chat", "chat", Some(Permission::UseChat)),
    ("/team", "Team", "users", Some(Permission::ViewTeam)),
    ("/roles", "Roles", "shield", Some(Permission::ManageRoles)),
    ("/settings", "Settings", "settings", Some(Permission::ManageOrg)),
    ("/audit-logs", "Audit log", "activity", Some(Permission::ViewAuditLogs)),
];

/// The navigation of client users: their portal.
const PORTAL_NAV: &[(&str, &str, &str)] = &[
    ("/portal", "Overview", "home"),
    ("/portal/projects", "Projects", "folder"),
    ("/portal/files", "Files", "file"),
    ("/portal/invoices", "Invoices", "receipt"),
    ("/portal/quotations", "Quotations", "file"),
    ("/chat", "Messages", "chat"),
];

/// The navigation of /platform.
const PLATFORM_NAV: &[(&str, &str, &str)] = &[
    ("/platform", "Overview", "home"),
    ("/platform/organizations", "Organizations", "briefcase"),
    ("/platform/users", "Users", "users"),
    ("/platform/subscriptions", "Subscriptions", "receipt"),
    ("/platform/feature-flags", "Feature flags", "settings"),
    ("/platform/support", "Support", "chat"),
    ("/platform/team", "Platform team", "shield"),
    ("/platform/audit-logs", "Audit log", "activity"),
];

pub const DEFAULT_BRAND: &str = "#4f46e5";

pub fn initials(name: &str) -> String {
    let letters: String = name.split_whitespace().filter_map(|w| w.chars().next()).take(2).collect();
    if letters.is_empty() { "?".into() } else { letters.to_uppercase() }
}

pub fn brand_css_url(color: &str) -> String {
    format!("/brand.css?c={}", color.trim_start_matches('#'))
}

impl Layout {
    /// A page for anyone (sign-up, login).
    pub fn public(req: &HttpRequest, title: impl Into<String>) -> Layout {
        Layout { title: title.into(), csrf: csrf::token(req), flash: flash::take(req), asset: assets(), nav: None }
    }

    /// A page for a signed-in user outside any organization's pages (profile).
    pub fn user(req: &HttpRequest, user: &CurrentUser, org: Option<&OrgContext>, title: impl Into<String>) -> Layout {
        let mut layout = Layout::public(req, title);
        let items = org
            .map(|ctx| {
                let switched_on = |href: &str| Feature::of_route(href).is_none_or(|f| ctx.has(f));
                if ctx.is_client() {
                    return PORTAL_NAV
                        .iter()
                        .filter(|(href, _, _)| switched_on(href))
                        .map(|(href, label, icon)| NavItem { href, label, icon, active: false })
                        .collect();
                }
                NAV.iter()
                    .filter(|(href, _, _, p)| p.is_none_or(|p| ctx.can(p)) && switched_on(href))
                    .map(|(href, label, icon, _)| NavItem { href, label, icon, active: false })
                    .collect()
            })
            .unwrap_or_default();
        layout.nav = Some(Nav {
            user_name: user.name.clone(),
            user_email: user.email.clone(),
            initials: initials(&user.name),
            org_name: org.map(|o| o.org_name.clone()),
            role_name: org.map(|o| o.role_name.clone()),
            brand_css: brand_css_url(org.map(|o| o.brand_color.as_str()).unwrap_or(DEFAULT_BRAND)),
            logo_url: org.and_then(|o| o.logo_url()),
            unread: org.map(|o| o.unread_notifications),
            platform: user.on_platform_team(),
            items,
        });
        layout
    }

    /// A page of /platform, with its own navigation.
    pub fn platform(req: &HttpRequest, user: &CurrentUser, title: impl Into<String>, active: &str) -> Layout {
        let mut layout = Layout::public(req, title);
        layout.nav = Some(Nav {
            user_name: user.name.clone(),
            user_email: user.email.clone(),
            initials: initials(&user.name),
            org_name: Some("Platform admin".into()),
            role_name: Some(if user.is_platform_owner { "Owner" } else { "Staff" }.into()),
            brand_css: brand_css_url(DEFAULT_BRAND),
            logo_url: None,
            unread: None,
            platform: true,
            items: PLATFORM_NAV
                .iter()
                .map(|(href, label, icon)| NavItem { href, label, icon, active: *href == active })
                .collect(),
        });
        layout
    }

    /// A page of the organization, with `active` highlighted in the navigation.
    pub fn member(req: &HttpRequest, ctx: &OrgContext, title: impl Into<String>, active: &str) -> Layout {
        let mut layout = Layout::user(req, &ctx.user, Some(ctx), title);
        if let Some(nav) = layout.nav.as_mut() {
            for item in &mut nav.items {
                item.active = item.href == active;
            }
        }
        layout
    }
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn initials_take_the_first_letters_of_two_words() {
        assert_eq!(initials("ana maría lópez"), "AM");
        assert_eq!(initials("Zoë"), "Z");
        assert_eq!(initials("  "), "?");
    }
}
