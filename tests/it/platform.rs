//! The platform: its team alone reaches /platform; suspending organizations and users,
//! subscriptions and plan limits (also under parallel requests), feature flags,
//! support conversations, the platform audit log, and the role its pages run as.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};

use crate::support::*;

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: uuid::Uuid,
}

fn id_of(app: &TestApp, sql: &str) -> String {
    diesel::sql_query(sql).get_result::<Id>(&mut app.conn()).unwrap().id.to_string()
}

fn org_id(app: &TestApp, name: &str) -> String {
    diesel::sql_query("SELECT id FROM organizations WHERE name = $1")
        .bind::<Text, _>(name)
        .get_result::<Id>(&mut app.conn())
        .unwrap()
        .id
        .to_string()
}

fn exec(app: &TestApp, sql: &str) {
    diesel::sql_query(sql).execute(&mut app.conn()).unwrap();
}

fn scalar(app: &TestApp, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query(sql).get_result::<N>(&mut app.conn()).unwrap().n
}

/// The platform audit entries with this action.
fn logged(app: &TestApp, action: &str) -> i64 {
    scalar(app, &format!("SELECT count(*) AS n FROM platform_audit_logs WHERE action = '{action}'"))
}

#[tokio::test]
async fn suspending_an_organization_locks_its_members_out_at_their_next_request() {
    let app = TestApp::spawn().await;
    let mia = app.member().await;
    assert_eq!(mia.get("/dashboard").await.status, 200);
    let root = app.login(PLATFORM_OWNER).await;
    let northwind = org_id(&app, "Northwind Studio");

    let list = root.get("/platform/organizations?q=north").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Northwind Studio") && !list.body.contains("Other Corp"), "searched by name");
    assert_eq!(logged(&app, "platform.organizations_viewed"), 1, "opening the list is audited");

    let res = root.post_form(&format!("/platform/organizations/{northwind}/status"), &[("status", "suspended")]).await;
    assert_eq!(res.status, 303);
    assert!(root.get(res.location().unwrap()).await.body.contains("locked out"));
    let locked = mia.get("/dashboard").await;
    assert_eq!(locked.status, 403);
    assert!(locked.body.contains("suspended"), "a clear page says why");
    assert_eq!(mia.get("/projects").await.status, 403, "and nothing else works");
    assert_eq!(mia.get("/support").await.status, 200, "but they can still write to support");
    assert_eq!(logged(&app, "platform.org_suspended"), 1);

    root.post_form(&format!("/platform/organizations/{northwind}/status"), &[("status", "active")]).await;
    assert_eq!(mia.get("/dashboard").await.status, 200, "reactivated: back to work");
    assert_eq!(logged(&app, "platform.org_reactivated"), 1);

    // Anything but the two statuses changes nothing.
    let res = root.post_form(&format!("/platform/organizations/{northwind}/status"), &[("status", "deleted")]).await;
    assert_eq!(res.status, 400);
}

#[tokio::test]
async fn banning_a_user_ends_every_session_at_once_and_reactivating_lets_them_back() {
    let app = TestApp::spawn().await;
    let mia = app.member().await;
    let _mia_elsewhere = app.member().await;
    let mia_id = id_of(&app, &format!("SELECT id FROM users WHERE email = '{MEMBER}'"));
    let staff = app.login(PLATFORM_STAFF).await;
    assert!(staff.get("/platform/users?q=laurent").await.body.contains(MEMBER));

    let res = staff.post_form(&format!("/platform/users/{mia_id}/status"), &[("status", "banned")]).await;
    assert_eq!(res.status, 303);
    assert!(staff.get(res.location().unwrap()).await.body.contains("2 sessions ended"));
    assert_eq!(scalar(&app, &format!("SELECT count(*) AS n FROM sessions WHERE user_id = '{mia_id}'")), 0);
    let res = mia.get("/dashboard").await;
    assert!(res.status == 303 && res.location().unwrap().starts_with("/login"), "signed out at once");
    let again = app.client().post_form("/login", &[("email", MEMBER), ("password", PASSWORD)]).await;
    assert_eq!(again.status, 400, "and cannot sign in");

    staff.post_form(&format!("/platform/users/{mia_id}/status"), &[("status", "active")]).await;
    assert_eq!(app.member().await.get("/dashboard").await.status, 200);

    // Nobody changes their own status; staff do not change the platform team's.
    let staff_id = id_of(&app, &format!("SELECT id FROM users WHERE email = '{PLATFORM_STAFF}'"));
    let owner_id = id_of(&app, &format!("SELECT id FROM users WHERE email = '{PLATFORM_OWNER}'"));
    assert_eq!(
        staff.post_form(&format!("/platform/users/{staff_id}/status"), &[("status", "banned")]).await.status,
        400
    );
    assert_eq!(
        staff.post_form(&format!("/platform/users/{owner_id}/status"), &[("status", "banned")]).await.status,
        403
    );
    assert_eq!(scalar(&app, "SELECT count(*) AS n FROM users WHERE status <> 'active'"), 0);
}

#[tokio::test]
async fn owners_manage_the_platform_team_and_the_last_owner_cannot_go() {
    let app = TestApp::spawn().await;
    let root = app.login(PLATFORM_OWNER).await;
    let staff = app.login(PLATFORM_STAFF).await;
    let owner_id = id_of(&app, &format!("SELECT id FROM users WHERE email = '{PLATFORM_OWNER}'"));

    // Staff see the team but may not change it.
    assert_eq!(staff.get("/platform/team").await.status, 200);
    assert_eq!(staff.post_form("/platform/team", &[("email", MEMBER), ("role", "staff")]).await.status, 403);
    assert_eq!(staff.post_form(&format!("/platform/team/{owner_id}/delete"), &[]).await.status, 403);

    // The only owner cannot remove themselves, nor step down to staff.
    let res = root.post_form(&format!("/platform/team/{owner_id}/delete"), &[]).await;
    assert!(root.get(res.location().unwrap()).await.body.contains("at least one owner"));
    let res = root.post_form("/platform/team", &[("email", PLATFORM_OWNER), ("role", "staff")]).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("only platform owner"));
    assert_eq!(scalar(&app, "SELECT count(*) AS n FROM users WHERE is_platform_owner"), 1);

    // An unknown address is answered next to the field.
    let res = root.post_form("/platform/team", &[("email", "nobody@example.com"), ("role", "staff")]).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("No account has this address"));

    // With a second owner, the first may leave; the new member reaches /platform.
    root.post_form("/platform/team", &[("email", ADMIN), ("role", "owner")]).await;
    let adam = app.admin().await;
    assert_eq!(adam.get("/platform").await.status, 200);
    assert!(adam.get("/dashboard").await.body.contains("/platform"), "the menu links to /platform");
    let res = root.post_form(&format!("/platform/team/{owner_id}/delete"), &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(root.get("/platform").await.status, 404, "gone from the team: the pages vanish");
    assert_eq!(logged(&app, "platform.team_added"), 1);
    assert_eq!(logged(&app, "platform.team_removed"), 1);
}

#[tokio::test]
async fn the_command_line_makes_the_first_platform_owner_of_an_existing_account() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    assert!(clienthub::platform::make_owner(&mut conn, "nobody@example.com").is_err());
    assert_eq!(app.member().await.get("/platform").await.status, 404);
    let name = clienthub::platform::make_owner(&mut conn, " Member@Northwind.example ").unwrap();
    assert_eq!(name, "Mia Laurent");
    assert_eq!(app.member().await.get("/platform").await.status, 200);
    assert_eq!(logged(&app, "platform.owner_created"), 1);
}

/// Other Corp is on the free plan: 10 projects.
fn fill_other_corp_projects(app: &TestApp, n: i64) {
    exec(
        app,
        &format!(
            "INSERT INTO projects (id, org_id, title)
             SELECT gen_random_uuid(), o.id, 'Seeded ' || g FROM organizations o, generate_series(1, {n}) g
             WHERE o.name = 'Other Corp'"
        ),
    );
}

#[tokio::test]
async fn parallel_creates_at_a_plan_limit_let_exactly_one_through() {
    let app = TestApp::spawn().await;
    fill_other_corp_projects(&app, 9);
    let otto = app.login(OTHER_OWNER).await;
    let titles: Vec<String> = (0..8).map(|i| format!("Racing {i}")).collect();
    let attempts = futures_util::future::join_all(
        titles
            .iter()
            .map(|t| async { otto.post_form("/projects", &[("title", t.as_str()), ("status", "active")]).await }),
    )
    .await;
    let created = attempts.iter().filter(|r| r.status == 303).count();
    let refused: Vec<_> = attempts.iter().filter(|r| r.status == 402).collect();
    assert_eq!(
        created,
        1,
        "one slot left, one project made: {:?}",
        attempts.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(refused.len(), 7);
    assert!(refused[0].body.contains("Free plan, which includes 10 projects"), "{}", refused[0].body);
    assert!(refused[0].body.contains("/support?topic=upgrade"), "the page says how to upgrade");
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) AS n FROM projects p JOIN organizations o ON o.id = p.org_id WHERE o.name = 'Other Corp'"
        ),
        10
    );

    // The dashboard's meter shows it, and the upgrade request starts written.
    let dashboard = otto.get("/dashboard").await;
    assert!(dashboard.body.contains("10 of 10"), "projects meter");
    assert!(dashboard.body.contains("Nearly at the limit"));
    let support = otto.get("/support?topic=upgrade").await;
    assert!(support.body.contains("upgrade Other Corp"));

    // Clients race the same way.
    exec(
        &app,
        "INSERT INTO clients (id, org_id, name)
         SELECT gen_random_uuid(), o.id, 'Seeded ' || g FROM organizations o, generate_series(1, 24) g
         WHERE o.name = 'Other Corp'",
    );
    let names: Vec<String> = (0..6).map(|i| format!("Client {i}")).collect();
    let attempts = futures_util::future::join_all(
        names.iter().map(|n| async { otto.post_form("/clients", &[("name", n.as_str())]).await }),
    )
    .await;
    assert_eq!(attempts.iter().filter(|r| r.status == 303).count(), 1);
    assert_eq!(attempts.iter().filter(|r| r.status == 402).count(), 5);
}

#[tokio::test]
async fn a_downgrade_below_usage_is_allowed_and_refuses_only_new_things() {
    let app = TestApp::spawn().await;
    let root = app.login(PLATFORM_OWNER).await;
    let northwind = org_id(&app, "Northwind Studio");
    // Northwind (Pro) has four staff; Free allows three.
    let res = root
        .post_form(
            &format!("/platform/subscriptions/{northwind}"),
            &[("plan", "free"), ("status", "active"), ("current_period_end", "2027-01-31")],
        )
        .await;
    assert_eq!(res.status, 303);
    let page = root.get(res.location().unwrap()).await;
    assert!(page.body.contains("Nothing is removed"), "{}", page.body);
    assert!(page.body.contains("4 team members (Free allows 3 team members)"));
    assert_eq!(logged(&app, "platform.subscription_changed"), 1);

    let olivia = app.owner().await;
    let dashboard = olivia.get("/dashboard").await;
    assert!(dashboard.body.contains("Free plan") && dashboard.body.contains("Over the limit"));
    let role = id_of(
        &app,
        "SELECT r.id FROM roles r JOIN organizations o ON o.id = r.org_id WHERE o.name = 'Northwind Studio' AND r.key = 'member'",
    );
    let invite =
        olivia.post_form("/invitations/send", &[("email_or_display_id", "new@example.com"), ("role_id", &role)]).await;
    assert_eq!(invite.status, 402, "no new seat");
    assert!(invite.body.contains("team members"));
    // Existing work goes on: a client is still under the free limit of 25.
    assert_eq!(olivia.post_form("/clients", &[("name", "Still fine")]).await.status, 303);

    // Bad input changes nothing.
    for fields in [
        [("plan", "platinum"), ("status", "active"), ("current_period_end", "")],
        [("plan", "pro"), ("status", "forever"), ("current_period_end", "")],
        [("plan", "pro"), ("status", "active"), ("current_period_end", "next week")],
    ] {
        assert_eq!(root.post_form(&format!("/platform/subscriptions/{northwind}"), &fields).await.status, 400);
    }
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT count(*) AS n FROM subscriptions WHERE org_id = '{northwind}' AND plan = 'free'")
        ),
        1
    );
}

#[tokio::test]
async fn a_feature_switched_off_for_one_organization_is_gone_there_only() {
    let app = TestApp::spawn().await;
    let root = app.login(PLATFORM_OWNER).await;
    let olivia = app.owner().await;
    let otto = app.login(OTHER_OWNER).await;
    assert!(olivia.get("/dashboard").await.body.contains("href=\"/chat\""));

    let res = root
        .post_form("/platform/feature-flags/chat", &[("organization", "northwind studio"), ("enabled", "off")])
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(olivia.get("/chat").await.status, 404);
    assert!(!olivia.get("/dashboard").await.body.contains("href=\"/chat\""), "and it leaves the navigation");
    assert_eq!(otto.get("/chat").await.status, 200);

    // Off for everyone, but Northwind's override now turns it on there.
    root.post_form("/platform/feature-flags/chat", &[("organization", "Northwind Studio"), ("enabled", "on")]).await;
    root.post_form("/platform/feature-flags/chat", &[("enabled", "off")]).await;
    assert_eq!(otto.get("/chat").await.status, 404);
    assert_eq!(olivia.get("/chat").await.status, 200);
    // Back to the default.
    root.post_form(
        "/platform/feature-flags/chat",
        &[("organization", &org_id(&app, "Northwind Studio")), ("enabled", "default")],
    )
    .await;
    assert_eq!(olivia.get("/chat").await.status, 404);

    // An unknown organization is answered next to the field.
    let res = root.post_form("/platform/feature-flags/chat", &[("organization", "Nope Ltd"), ("enabled", "on")]).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("No organization has that name"));
    assert_eq!(root.post_form("/platform/feature-flags/warp-drive", &[("enabled", "on")]).await.status, 404);
    assert_eq!(logged(&app, "platform.feature_flag_changed"), 4);
}

#[tokio::test]
async fn users_write_to_support_and_see_the_answer_with_a_notification() {
    let app = TestApp::spawn().await;
    let mia = app.member().await;
    assert_eq!(mia.post_form("/support", &[("body", "   ")]).await.status, 400);
    let long = "x".repeat(4001);
    let res = mia.post_form("/support", &[("body", &long)]).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("under 4000 characters"));
    let res = mia.post_form("/support", &[("body", "Our <script>alert(1)</script> invoices look odd")]).await;
    assert_eq!(res.status, 303);

    let staff = app.login(PLATFORM_STAFF).await;
    let inbox = staff.get("/platform/support").await;
    assert!(inbox.body.contains("Mia Laurent") && inbox.body.contains("Waiting"));
    let conversation = id_of(&app, "SELECT id FROM support_conversations");
    let thread = staff.get(&format!("/platform/support?c={conversation}")).await;
    assert!(thread.body.contains("alert(1)") && !thread.body.contains("<script>alert"), "escaped");
    let res = staff.post_form(&format!("/platform/support/{conversation}/reply"), &[("body", "Fixed, thanks!")]).await;
    assert_eq!(res.status, 303);

    let notifications = mia.get("/notifications").await;
    assert!(notifications.body.contains("Support answered your message"));
    let page = mia.get("/support").await;
    assert!(page.body.contains("Fixed, thanks!") && page.body.contains("Answered"));
    assert_eq!(
        scalar(&app, "SELECT count(*) AS n FROM notifications WHERE kind = 'support_reply' AND read_at IS NULL"),
        0,
        "read by reading it"
    );
    assert_eq!(logged(&app, "platform.support_answered"), 1);
    // Another user never sees it.
    assert!(!app.admin().await.get("/support").await.body.contains("Fixed, thanks!"));
}

#[tokio::test]
async fn the_platform_audit_log_filters_and_exports_csv() {
    let app = TestApp::spawn().await;
    let root = app.login(PLATFORM_OWNER).await;
    root.get("/platform/users?q=%3Dcmd").await;
    root.get("/platform/organizations").await;
    let page = root.get("/platform/audit-logs?action=platform.users_viewed").await;
    assert!(page.body.contains("Searched users for") && !page.body.contains("Listed organizations"));
    let (status, headers, body) = root.get_bytes("/platform/audit-logs.csv").await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = String::from_utf8(body).unwrap();
    assert!(csv.starts_with("time,action,actor"));
    assert!(csv.contains("\"Searched users for “=cmd”\""));
    assert_eq!(root.get("/platform/audit-logs?from=yesterday").await.status, 400);
    assert_eq!(logged(&app, "platform.audit_exported"), 1);
}

#[tokio::test]
async fn the_platform_role_reads_counts_and_names_but_no_secrets() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    for sql in [
        "SELECT password_hash FROM users",
        "SELECT name FROM clients",
        "SELECT total FROM invoices",
        "SELECT body FROM chat_messages",
        "UPDATE organizations SET name = 'Taken'",
        "DELETE FROM platform_audit_logs",
        "INSERT INTO notifications (id, org_id, user_id, kind, title, link) SELECT gen_random_uuid(), org_id, user_id, 'mention', 'x', '/' FROM memberships LIMIT 1",
    ] {
        let attempt = conn.transaction(|c| {
            diesel::sql_query("SET LOCAL ROLE clienthub_platform").execute(c)?;
            diesel::sql_query(sql).execute(c)
        });
        let err = attempt.expect_err(sql).to_string();
        assert!(err.contains("permission denied") || err.contains("row-level security"), "{sql}: {err}");
    }
    let orgs = conn
        .transaction(|c| {
            diesel::sql_query("SET LOCAL ROLE clienthub_platform").execute(c)?;
            diesel::sql_query("SELECT count(*) AS n FROM organizations").get_result::<N>(c)
        })
        .unwrap();
    assert_eq!(orgs.n, 2, "every organization");
}

#[derive(QueryableByName)]
pub struct N {
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

#[tokio::test]
async fn a_client_user_creates_an_organization_of_their_own() {
    let app = TestApp::spawn().await;
    let chloe = app.login(CLIENT).await;
    assert_eq!(chloe.post_form("/organizations", &[("name", "")]).await.status, 400);
    let res = chloe.post_form("/organizations", &[("name", "Durand Studio")]).await;
    assert_eq!(res.status, 303);
    let dashboard = chloe.get("/dashboard").await;
    assert_eq!(dashboard.status, 200, "her own organization's dashboard, not the portal");
    assert!(dashboard.body.contains("Get Durand Studio set up"), "with the first-run checklist");
    assert!(dashboard.body.contains("Add a client") && dashboard.body.contains("Free plan"));
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) AS n FROM subscriptions s JOIN organizations o ON o.id = s.org_id WHERE o.name = 'Durand Studio' AND s.plan = 'free'"
        ),
        1
    );
    // The portal membership stays.
    let mine = chloe.get("/organizations").await;
    assert!(mine.body.contains("Northwind Studio") && mine.body.contains("Durand Studio"));
}

#[tokio::test]
async fn the_dashboard_adds_up_the_organizations_work() {
    let app = TestApp::spawn().await;
    clienthub::demo::seed_documents(&mut app.conn()).unwrap();
    let olivia = app.owner().await;
    let page = olivia.get("/dashboard").await;
    assert_eq!(page.status, 200);
    let clients = scalar(
        &app,
        "SELECT count(*) AS n FROM clients c JOIN organizations o ON o.id = c.org_id WHERE o.name = 'Northwind Studio'",
    );
    assert!(page.body.contains(&format!("<div class=\"value\">{clients}</div>")));
    assert!(page.body.contains("<svg") && page.body.contains("Payments received per month in"), "the revenue chart");
    assert!(page.body.contains("Projects by status"));
    // What clients owe, per currency, to the cent.
    #[derive(QueryableByName)]
    struct Owed {
        #[diesel(sql_type = Text)]
        currency: String,
        #[diesel(sql_type = diesel::sql_types::Numeric)]
        outstanding: rust_decimal::Decimal,
    }
    let owed: Vec<Owed> = diesel::sql_query(
        "SELECT currency, sum(total - amount_paid) AS outstanding FROM invoices
         WHERE status IN ('sent', 'partially_paid') GROUP BY currency",
    )
    .load(&mut app.conn())
    .unwrap();
    assert!(!owed.is_empty(), "the demo has unpaid invoices");
    for o in owed {
        let shown = clienthub::money::amounts::with_currency(o.outstanding, &o.currency);
        assert!(page.body.contains(&shown), "{shown} owed");
    }
    // A member sees the work and what is owed, not the audit trail nor the plan.
    let mia = app.member().await.get("/dashboard").await;
    assert!(mia.body.contains("Owed to you"));
    assert!(!mia.body.contains("Recent activity") && !mia.body.contains("plan</h2>"));
}
