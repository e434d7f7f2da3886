//! The route table: every registered route has the access policy SPEC gives it, and
//! that policy holds for every role (anonymous, Owner, Admin, Member, Client).
//! A new route fails this test until it is added here.

use clienthub::team::roles::BuiltinRole;
use clienthub::team::{Permission, PermissionSet};
use clienthub::web::routes::Access;

use crate::support::*;

/// SPEC §7, as far as it is built.
const EXPECTED: &[(&str, &str, Access)] = &[
    ("GET", "/health", Access::Public),
    ("GET", "/ready", Access::Public),
    ("GET", "/signup", Access::Public),
    ("POST", "/signup", Access::Public),
    ("GET", "/login", Access::Public),
    ("POST", "/login", Access::Public),
    ("GET", "/login/two-factor", Access::Public),
    ("POST", "/login/two-factor", Access::Public),
    ("POST", "/logout", Access::SignedIn),
    ("GET", "/password/forgot", Access::Public),
    ("POST", "/password/forgot", Access::Public),
    ("GET", "/password/reset/{token}", Access::Public),
    ("POST", "/password/reset/{token}", Access::Public),
    ("GET", "/profile", Access::SignedIn),
    ("POST", "/profile", Access::SignedIn),
    ("GET", "/profile/email/confirm/{token}", Access::Public),
    ("POST", "/profile/password", Access::SignedIn),
    ("GET", "/profile/two-factor", Access::SignedIn),
    ("POST", "/profile/two-factor/enable", Access::SignedIn),
    ("POST", "/profile/two-factor/disable", Access::SignedIn),
    ("POST", "/profile/two-factor/recovery-codes", Access::SignedIn),
    ("POST", "/profile/sessions/{id}/revoke", Access::SignedIn),
    ("POST", "/profile/sessions/revoke-others", Access::SignedIn),
    ("GET", "/", Access::Public),
    ("GET", "/dashboard", Access::Member),
    ("GET", "/team", Access::Permission(Permission::ViewTeam)),
    ("POST", "/users/{id}/role", Access::Permission(Permission::ManageMembers)),
    ("POST", "/members/leave", Access::Member),
    ("POST", "/members/{id}/remove", Access::Permission(Permission::ManageMembers)),
    ("POST", "/members/{id}/ban", Access::Permission(Permission::ManageMembers)),
    ("POST", "/members/{id}/unban", Access::Permission(Permission::ManageMembers)),
    ("POST", "/members/{id}/reset-two-factor", Access::Permission(Permission::ManageMembers)),
    ("GET", "/roles", Access::Permission(Permission::ManageRoles)),
    ("GET", "/roles/new", Access::Permission(Permission::ManageRoles)),
    ("GET", "/roles/{id}", Access::Permission(Permission::ManageRoles)),
    ("POST", "/roles", Access::Permission(Permission::ManageRoles)),
    ("POST", "/roles/{id}", Access::Permission(Permission::ManageRoles)),
    ("POST", "/roles/{id}/delete", Access::Permission(Permission::ManageRoles)),
    ("GET", "/invitations", Access::SignedIn),
    ("POST", "/invitations/send", Access::Permission(Permission::InviteMembers)),
    ("POST", "/invitations/{id}/accept", Access::SignedIn),
    ("POST", "/invitations/{id}/reject", Access::SignedIn),
    ("POST", "/invitations/{id}/resend", Access::Permission(Permission::InviteMembers)),
    ("POST", "/invitations/{id}/revoke", Access::Permission(Permission::InviteMembers)),
    ("GET", "/invitations/open/{token}", Access::Public),
    ("POST", "/invitations/open/{token}", Access::Public),
    ("GET", "/organizations", Access::SignedIn),
    ("POST", "/organizations/switch", Access::SignedIn),
    ("GET", "/settings", Access::Permission(Permission::ManageOrg)),
    ("POST", "/settings", Access::Permission(Permission::ManageOrg)),
    ("POST", "/settings/logo", Access::Permission(Permission::ManageOrg)),
    ("POST", "/settings/logo/delete", Access::Permission(Permission::ManageOrg)),
    ("GET", "/orgs/{id}/logo", Access::Public),
    ("GET", "/audit-logs", Access::Permission(Permission::ViewAuditLogs)),
    ("GET", "/audit-logs.csv", Access::Permission(Permission::ExportData)),
    ("GET", "/clients", Access::Permission(Permission::ViewClients)),
    ("GET", "/clients/new", Access::Permission(Permission::ManageClients)),
    ("POST", "/clients", Access::Permission(Permission::ManageClients)),
    ("GET", "/clients/{id}", Access::Permission(Permission::ViewClients)),
    ("GET", "/clients/{id}/edit", Access::Permission(Permission::ManageClients)),
    ("POST", "/clients/{id}", Access::Permission(Permission::ManageClients)),
    ("POST", "/clients/{id}/delete", Access::Permission(Permission::ManageClients)),
    ("POST", "/clients/{id}/portal-access", Access::Permission(Permission::ManageClients)),
    ("POST", "/clients/{id}/portal-links/{link_id}/revoke", Access::Permission(Permission::ManageClients)),
    ("GET", "/projects", Access::Permission(Permission::ViewProjects)),
    ("GET", "/projects/new", Access::Permission(Permission::CreateProject)),
    ("POST", "/projects", Access::Permission(Permission::CreateProject)),
    ("GET", "/projects/{id}", Access::Permission(Permission::ViewProjects)),
    ("GET", "/projects/{id}/edit", Access::Permission(Permission::EditProject)),
    ("POST", "/projects/{id}", Access::Permission(Permission::EditProject)),
    ("POST", "/projects/{id}/delete", Access::Permission(Permission::DeleteProject)),
    ("GET", "/projects/{id}/board", Access::Permission(Permission::ViewProjects)),
    ("GET", "/projects/{id}/messages", Access::Permission(Permission::ViewProjects)),
    ("POST", "/projects/{id}/messages", Access::Permission(Permission::ViewProjects)),
    ("GET", "/tasks", Access::Permission(Permission::ViewProjects)),
    ("GET", "/tasks/new", Access::Permission(Permission::ManageTasks)),
    ("POST", "/tasks", Access::Permission(Permission::ManageTasks)),
    ("GET", "/tasks/{id}", Access::Permission(Permission::ViewProjects)),
    ("GET", "/tasks/{id}/edit", Access::Permission(Permission::ManageTasks)),
    ("POST", "/tasks/{id}", Access::Permission(Permission::ManageTasks)),
    ("POST", "/tasks/{id}/delete", Access::Permission(Permission::ManageTasks)),
    ("POST", "/tasks/{id}/move", Access::Permission(Permission::ManageTasks)),
    ("POST", "/tasks/{id}/comments", Access::Permission(Permission::ViewProjects)),
    ("GET", "/files", Access::Permission(Permission::ViewFiles)),
    ("POST", "/files", Access::Permission(Permission::UploadFiles)),
    ("GET", "/files/{id}/download", Access::Permission(Permission::ViewFiles)),
    ("POST", "/files/{id}/delete", Access::Permission(Permission::DeleteFiles)),
    ("GET", "/time", Access::Permission(Permission::ManageTasks)),
    ("POST", "/time", Access::Permission(Permission::ManageTasks)),
    ("GET", "/time/{id}/edit", Access::Permission(Permission::ManageTasks)),
    ("POST", "/time/{id}", Access::Permission(Permission::ManageTasks)),
    ("POST", "/time/{id}/delete", Access::Permission(Permission::ManageTasks)),
    ("POST", "/tasks/{id}/timer/start", Access::Permission(Permission::ManageTasks)),
    ("POST", "/tasks/{id}/timer/stop", Access::Permission(Permission::ManageTasks)),
    ("GET", "/timesheets", Access::Permission(Permission::ViewProjects)),
    ("GET", "/timesheets.csv", Access::Permission(Permission::ExportData)),
    ("POST", "/members/{id}/rate", Access::Permission(Permission::ManageMembers)),
    ("GET", "/taxes", Access::Permission(Permission::ManageTaxes)),
    ("POST", "/taxes", Access::Permission(Permission::ManageTaxes)),
    ("POST", "/taxes/{id}/delete", Access::Permission(Permission::ManageTaxes)),
    ("GET", "/invoices", Access::Permission(Permission::ViewInvoices)),
    ("GET", "/invoices.csv", Access::Permission(Permission::ExportData)),
    ("GET", "/invoices/new", Access::Permission(Permission::ManageInvoices)),
    ("POST", "/invoices", Access::Permission(Permission::ManageInvoices)),
    ("GET", "/invoices/from-time", Access::Permission(Permission::ManageInvoices)),
    ("POST", "/invoices/from-time", Access::Permission(Permission::ManageInvoices)),
    ("GET", "/invoices/{id}", Access::Permission(Permission::ViewInvoices)),
    ("GET", "/invoices/{id}/edit", Access::Permission(Permission::ManageInvoices)),
    ("POST", "/invoices/{id}", Access::Permission(Permission::ManageInvoices)),
    ("POST", "/invoices/{id}/delete", Access::Permission(Permission::ManageInvoices)),
    ("GET", "/invoices/{id}/pdf", Access::Permission(Permission::ViewInvoices)),
    ("POST", "/invoices/{id}/issue", Access::Permission(Permission::ManageInvoices)),
    ("POST", "/invoices/{id}/send", Access::Permission(Permission::SendInvoices)),
    ("POST", "/invoices/{id}/payments", Access::Permission(Permission::ManageInvoices)),
    ("POST", "/invoices/{id}/void", Access::Permission(Permission::ManageInvoices)),
    ("GET", "/quotations", Access::Permission(Permission::ViewQuotations)),
    ("GET", "/quotations.csv", Access::Permission(Permission::ExportData)),
    ("GET", "/quotations/new", Access::Permission(Permission::ManageQuotations)),
    ("POST", "/quotations", Access::Permission(Permission::ManageQuotations)),
    ("GET", "/quotations/{id}", Access::Permission(Permission::ViewQuotations)),
    ("GET", "/quotations/{id}/edit", Access::Permission(Permission::ManageQuotations)),
    ("POST", "/quotations/{id}", Access::Permission(Permission::ManageQuotations)),
    ("POST", "/quotations/{id}/delete", Access::Permission(Permission::ManageQuotations)),
    ("GET", "/quotations/{id}/pdf", Access::Permission(Permission::ViewQuotations)),
    ("POST", "/quotations/{id}/send", Access::Permission(Permission::SendQuotations)),
    ("POST", "/quotations/{id}/convert", Access::Permission(Permission::ManageInvoices)),
    ("GET", "/portal", Access::Client),
    ("GET", "/portal/projects", Access::Client),
    ("GET", "/portal/projects/{id}", Access::Client),
    ("GET", "/portal/files", Access::Client),
    ("GET", "/portal/files/{id}/download", Access::Client),
    ("GET", "/portal/invoices", Access::Client),
    ("GET", "/portal/invoices/{id}", Access::Client),
    ("GET", "/portal/invoices/{id}/pdf", Access::Client),
    ("GET", "/portal/quotations", Access::Client),
    ("GET", "/portal/quotations/{id}", Access::Client),
    ("GET", "/portal/quotations/{id}/pdf", Access::Client),
    ("POST", "/portal/quotations/{id}/accept", Access::Client),
    ("POST", "/portal/quotations/{id}/decline", Access::Client),
    ("GET", "/p/{token}", Access::Public),
    ("POST", "/p/renew", Access::Public),
    ("GET", "/notifications", Access::Member),
    ("GET", "/notifications/stream", Access::Member),
    ("POST", "/notifications/email", Access::Member),
    ("GET", "/chat", Access::Shared(Permission::UseChat)),
    ("POST", "/chat/channels", Access::Permission(Permission::ManageChannels)),
    ("GET", "/chat/channels/{id}", Access::Shared(Permission::UseChat)),
    ("POST", "/chat/channels/{id}/delete", Access::Permission(Permission::ManageChannels)),
    ("GET", "/chat/channels/{id}/messages", Access::Shared(Permission::UseChat)),
    ("POST", "/chat/channels/{id}/messages", Access::Shared(Permission::UseChat)),
    ("GET", "/chat/channels/{id}/stream", Access::Shared(Permission::UseChat)),
    ("POST", "/notifications/read-all", Access::Member),
    ("POST", "/notifications/{id}/read", Access::Member),
    ("POST", "/organizations", Access::SignedIn),
    ("GET", "/support", Access::SignedIn),
    ("POST", "/support", Access::SignedIn),
    ("GET", "/platform", Access::Platform),
    ("GET", "/platform/organizations", Access::Platform),
    ("POST", "/platform/organizations/{id}/status", Access::Platform),
    ("GET", "/platform/users", Access::Platform),
    ("POST", "/platform/users/{id}/status", Access::Platform),
    ("GET", "/platform/subscriptions", Access::Platform),
    ("POST", "/platform/subscriptions/{id}", Access::Platform),
    ("GET", "/platform/feature-flags", Access::Platform),
    ("POST", "/platform/feature-flags/{id}", Access::Platform),
    ("GET", "/platform/team", Access::Platform),
    ("POST", "/platform/team", Access::PlatformOwner),
    ("POST", "/platform/team/{id}/delete", Access::PlatformOwner),
    ("GET", "/platform/audit-logs", Access::Platform),
    ("GET", "/platform/audit-logs.csv", Access::Platform),
    ("GET", "/platform/support", Access::Platform),
    ("POST", "/platform/support/{id}/reply", Access::Platform),
];

/// Routes whose success changes who may do what afterwards: walked last.
const WALK_LAST: &[&str] = &["/members/leave"];

/// Success of these routes is itself a trip to the login page.
const SIGN_OUT_ROUTES: &[&str] = &["/logout"];

#[test]
fn every_registered_route_has_the_policy_spec_gives_it() {
    let mut registered: Vec<String> =
        clienthub::routes::all().iter().map(|r| format!("{} {} {:?}", r.method, r.path, r.access)).collect();
    let mut expected: Vec<String> = EXPECTED.iter().map(|(m, p, a)| format!("{m} {p} {a:?}")).collect();
    registered.sort();
    expected.sort();
    assert_eq!(registered, expected);
}

/// The custom role of the route walk: a freelancer who may see the team and projects
/// and read the audit log, and nothing else.
const FREELANCER: &str = "freelancer@northwind.example";
const FREELANCER_PERMISSIONS: &[Permission] =
    &[Permission::ViewTeam, Permission::ViewProjects, Permission::ViewAuditLogs];

/// Who walks the routes.
#[derive(Clone, Copy)]
enum Who {
    Anonymous,
    /// A member of Northwind with these permissions.
    Org(PermissionSet, bool),
    /// On the platform team (owner or not), with no organization of their own.
    Platform(bool),
}

/// What a route answers someone.
#[derive(Debug, PartialEq)]
enum Answer {
    Allowed,
    Login,
    Forbidden,
    NotFound,
}

/// The policy, spelled out. Client users never reach staff pages, whatever their
/// role's permissions; /platform does not exist for anyone off the platform team.
fn answer(access: Access, who: Who) -> Answer {
    use Answer::*;
    match (access, who) {
        (Access::Public, _) => Allowed,
        (Access::Platform | Access::PlatformOwner, Who::Anonymous | Who::Org(..)) => NotFound,
        (_, Who::Anonymous) => Login,
        (Access::SignedIn, _) => Allowed,
        (Access::Platform, Who::Platform(_)) | (Access::PlatformOwner, Who::Platform(true)) => Allowed,
        (Access::PlatformOwner, Who::Platform(false)) => Forbidden,
        // No organization: its pages are refused.
        (_, Who::Platform(_)) => Forbidden,
        (Access::Member, Who::Org(..)) => Allowed,
        (Access::Permission(p), Who::Org(set, client)) => {
            if set.contains(p) && !client {
                Allowed
            } else {
                Forbidden
            }
        }
        (Access::Client, Who::Org(_, client)) => {
            if client {
                Allowed
            } else {
                Forbidden
            }
        }
        (Access::Shared(p), Who::Org(set, _)) => {
            if set.contains(p) {
                Allowed
            } else {
                Forbidden
            }
        }
    }
}

/// Adds the freelancer: a custom role (power 30) and a member who has it.
fn add_freelancer(app: &TestApp) {
    let mut conn = app.conn();
    let hash = clienthub::auth::password::hash(PASSWORD).unwrap();
    let keys: Vec<String> = FREELANCER_PERMISSIONS.iter().map(|p| format!("('{}')", p.key())).collect();
    let sql = format!(
        "WITH org AS (SELECT id FROM organizations WHERE name = 'Northwind Studio'),
              role AS (INSERT INTO roles (id, org_id, name, power) SELECT gen_random_uuid(), id, 'Freelancer', 30 FROM org RETURNING id, org_id),
              perms AS (INSERT INTO role_permissions (org_id, role_id, permission)
                        SELECT role.org_id, role.id, k.key FROM role, (VALUES {}) AS k(key)),
              usr AS (INSERT INTO users (id, email, name, password_hash, display_id, active_org_id)
                      SELECT gen_random_uuid(), '{FREELANCER}', 'Fred Lance', '{hash}', 'CH-FREE01', id FROM org RETURNING id)
         INSERT INTO memberships (id, org_id, user_id, role_id) SELECT gen_random_uuid(), role.org_id, usr.id, role.id FROM role, usr",
        keys.join(", ")
    );
    diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut conn).unwrap();
}

/// The path with every `{param}` replaced by a fresh id that matches nothing.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|part| if part.starts_with('{') { uuid::Uuid::now_v7().to_string() } else { part.to_string() })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_route_allows_and_denies_each_role_as_its_policy_says() {
    let app = TestApp::spawn().await;
    add_freelancer(&app);
    let custom: PermissionSet = FREELANCER_PERMISSIONS.iter().copied().collect();
    let roles: [(&str, Who, Option<&str>); 8] = [
        ("anonymous", Who::Anonymous, None),
        ("Owner", Who::Org(BuiltinRole::Owner.default_permissions(), false), Some(OWNER)),
        ("Admin", Who::Org(BuiltinRole::Admin.default_permissions(), false), Some(ADMIN)),
        ("Member", Who::Org(BuiltinRole::Member.default_permissions(), false), Some(MEMBER)),
        ("Client", Who::Org(BuiltinRole::Client.default_permissions(), true), Some(CLIENT)),
        ("Freelancer (custom)", Who::Org(custom, false), Some(FREELANCER)),
        ("Platform owner", Who::Platform(true), Some(PLATFORM_OWNER)),
        ("Platform staff", Who::Platform(false), Some(PLATFORM_STAFF)),
    ];
    let mut all = clienthub::routes::all();
    all.sort_by_key(|r| WALK_LAST.contains(&r.path));
    // One session per role, renewed after a route that ends it.
    let mut sessions = Vec::new();
    for (_, _, email) in roles {
        sessions.push(match email {
            Some(email) => Some(app.login(email).await),
            None => None,
        });
    }
    for route in all {
        for (i, (role, person, email)) in roles.into_iter().enumerate() {
            let anonymous = app.client();
            let client = sessions[i].as_ref().unwrap_or(&anonymous);
            let path = concrete(route.path);
            let res = match route.method {
                "GET" => client.get(&path).await,
                _ => client.post_form(&path, &[]).await,
            };
            let to_login = res.status == 303 && res.location().is_some_and(|l| l.starts_with("/login"));
            let who = format!("{} {} as {role}", route.method, route.path);
            match answer(route.access, person) {
                Answer::Allowed => {
                    assert_ne!(res.status, 403, "{who} should be allowed");
                    if !SIGN_OUT_ROUTES.contains(&route.path) && route.access != Access::Public {
                        assert!(!to_login, "{who} should not be sent to login");
                    }
                }
                Answer::Login => assert!(to_login, "{who} should be sent to login, got {}", res.status),
                Answer::Forbidden => {
                    assert_eq!(res.status, 403, "{who} should be forbidden");
                    if matches!(person, Who::Org(..)) || route.access == Access::PlatformOwner {
                        assert!(res.body.contains("You do not have access"), "{who} shows the 403 page");
                    }
                }
                Answer::NotFound => {
                    assert_eq!(res.status, 404, "{who} should not even see that the page exists");
                    assert!(res.body.contains("Page not found"), "{who} shows the 404 page");
                }
            }
            if SIGN_OUT_ROUTES.contains(&route.path)
                && let Some(email) = email
            {
                sessions[i] = Some(app.login(email).await);
            }
        }
    }
}

#[test]
fn built_in_roles_carry_the_spec_permissions() {
    use Permission::*;
    assert_eq!(BuiltinRole::Owner.default_permissions().iter().count(), 26);
    assert_eq!(BuiltinRole::Admin.default_permissions().iter().count(), 26);
    let member: Vec<_> = BuiltinRole::Member.default_permissions().iter().collect();
    assert_eq!(
        member,
        vec![
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
            UseChat
        ]
    );
    let client: Vec<_> = BuiltinRole::Client.default_permissions().iter().collect();
    assert_eq!(client, vec![ViewProjects, ViewFiles, ViewInvoices, ViewQuotations, UseChat]);
}
