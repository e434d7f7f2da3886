//! Sign-up, login, logout and sessions, as a user experiences them.

use crate::support::*;

#[tokio::test]
async fn sign_up_creates_the_user_the_organization_its_roles_and_the_owner_membership() {
    let app = TestApp::empty().await;
    let client = app.client();
    let res = client
        .post_form(
            "/signup",
            &[
                ("name", "Ana Silva"),
                ("email", "Ana@Studio.example"),
                ("password", "long enough pw"),
                ("org_name", "Silva Studio"),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some("/dashboard"));

    let dashboard = client.get("/dashboard").await;
    assert_eq!(dashboard.status, 200);
    assert!(dashboard.body.contains("Silva Studio"));
    assert!(dashboard.body.contains("Welcome to Client Hub"), "the flash message is shown once");
    assert!(!client.get("/dashboard").await.body.contains("Welcome to Client Hub"), "and only once");

    assert_eq!(app.count("users WHERE email = 'ana@studio.example'"), 1);
    assert_eq!(app.count("organizations"), 1);
    assert_eq!(app.count("roles"), 4);
    assert_eq!(app.count("memberships m JOIN roles r ON r.id = m.role_id WHERE r.key = 'super_admin'"), 1);
    assert_eq!(app.count("role_permissions"), 26 + 26 + 11 + 5);
    assert_eq!(app.count("audit_logs WHERE action = 'org.created'"), 1);
}

#[tokio::test]
async fn login_lands_on_the_dashboard_and_logout_ends_the_session_on_the_server() {
    let app = TestApp::spawn().await;
    let client = app.owner().await;
    let page = client.get("/dashboard").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Northwind Studio"));
    assert!(page.body.contains("Olivia"));
    let stolen_cookies = client.cookie_header();

    let res = client.post_form("/logout", &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some("/login"));
    assert_eq!(client.get("/dashboard").await.status, 303);
    assert_eq!(app.count("sessions"), 0, "the session row is gone");

    // The cookie from before the logout opens nothing any more.
    let replay = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = replay.get(format!("{}/dashboard", app.base)).header("cookie", stolen_cookies).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(app.count("audit_logs WHERE action IN ('auth.login', 'auth.logout')"), 2);
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_login_and_come_back_after() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let res = client.get("/profile").await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some("/login?next=%2Fprofile"));
    let res = client.post_form("/login", &[("email", OWNER), ("password", PASSWORD), ("next", "/profile")]).await;
    assert_eq!(res.location(), Some("/profile"));
    let res =
        app.client().post_form("/login", &[("email", OWNER), ("password", PASSWORD), ("next", "//evil.example")]).await;
    assert_eq!(res.location(), Some("/dashboard"), "never redirect off-site");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let wrong = app.client().post_form("/login", &[("email", OWNER), ("password", "wrong password")]).await;
    let unknown =
        app.client().post_form("/login", &[("email", "nobody@nowhere.example"), ("password", "wrong password")]).await;
    assert_eq!(wrong.status, 400);
    assert_eq!(unknown.status, 400);
    let message = "The email or password is not right.";
    assert!(wrong.body.contains(message) && unknown.body.contains(message));
    assert_eq!(app.count("sessions"), 0);
    assert_eq!(app.count("audit_logs WHERE action = 'auth.login_failed'"), 2);
}

#[tokio::test]
async fn suspended_and_banned_users_cannot_log_in_and_lose_their_sessions() {
    let app = TestApp::spawn().await;
    let member = app.member().await;
    assert_eq!(member.get("/dashboard").await.status, 200);
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!("UPDATE users SET status = 'banned' WHERE email = '{MEMBER}'")),
        &mut app.conn(),
    )
    .unwrap();
    assert_eq!(member.get("/dashboard").await.status, 303, "the live session ends at the next request");
    let res = app.client().post_form("/login", &[("email", MEMBER), ("password", PASSWORD)]).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("suspended"));
}

#[tokio::test]
async fn login_issues_a_fresh_session_key() {
    let app = TestApp::spawn().await;
    let client = app.owner().await;
    let first = client.cookie_header();
    client.post_form("/login", &[("email", OWNER), ("password", PASSWORD)]).await;
    let second = client.cookie_header();
    let session = |h: &str| h.split("; ").find(|c| c.starts_with("session=")).map(str::to_string);
    assert!(session(&first).is_some());
    assert_ne!(session(&first), session(&second));
}

#[tokio::test]
async fn sessions_are_listed_and_can_be_revoked_from_the_profile() {
    let app = TestApp::spawn().await;
    let laptop = app.owner().await;
    let phone = app.owner().await;
    let profile = laptop.get("/profile").await;
    assert_eq!(profile.status, 200);
    assert_eq!(profile.body.matches("/revoke\"").count(), 2, "both sessions are listed");
    assert!(profile.body.contains("This session"));
    assert!(profile.body.contains("CH-"), "the display ID is shown");

    let res = laptop.post_form("/profile/sessions/revoke-others", &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(phone.get("/dashboard").await.status, 303, "the phone is signed out");
    assert_eq!(laptop.get("/dashboard").await.status, 200, "the laptop stays in");
}

#[tokio::test]
async fn a_session_of_another_user_cannot_be_revoked() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let _admin = app.admin().await;
    let admin_session: uuid::Uuid = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Uuid>(&format!(
            "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = '{ADMIN}'"
        )),
        &mut app.conn(),
    )
    .unwrap();
    let res = owner.post_form(&format!("/profile/sessions/{admin_session}/revoke"), &[]).await;
    assert_eq!(res.status, 404);
    assert_eq!(app.count("sessions"), 2);
}

#[tokio::test]
async fn changing_the_password_signs_out_other_sessions() {
    let app = TestApp::spawn().await;
    let here = app.owner().await;
    let elsewhere = app.owner().await;
    let wrong = here
        .post_form("/profile/password", &[("current_password", "not it"), ("password", "a brand new password")])
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("That is not your current password."));

    let res = here
        .post_form("/profile/password", &[("current_password", PASSWORD), ("password", "a brand new password")])
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(elsewhere.get("/dashboard").await.status, 303);
    assert_eq!(here.get("/dashboard").await.status, 200);
    let old = app.client().post_form("/login", &[("email", OWNER), ("password", PASSWORD)]).await;
    assert_eq!(old.status, 400);
    let new = app.client().post_form("/login", &[("email", OWNER), ("password", "a brand new password")]).await;
    assert_eq!(new.status, 303);
}

#[tokio::test]
async fn an_idle_session_expires() {
    let app = TestApp::with(|s| s.security.session_idle_minutes = 0).await;
    app.seed();
    let client = app.owner().await;
    assert_eq!(client.get("/dashboard").await.status, 303);
}

#[tokio::test]
async fn signed_in_users_skip_the_login_and_signup_pages() {
    let app = TestApp::spawn().await;
    let client = app.owner().await;
    assert_eq!(client.get("/login").await.location(), Some("/dashboard"));
    assert_eq!(client.get("/signup").await.location(), Some("/dashboard"));
    assert_eq!(client.get("/").await.location(), Some("/dashboard"));
    assert_eq!(app.client().get("/").await.location(), Some("/login"));
}

#[tokio::test]
async fn logging_in_sweeps_away_the_users_dead_sessions() {
    let app = TestApp::spawn().await;
    let _yesterday = app.owner().await;
    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE sessions SET expires_at = now() - interval '1 second'"),
        &mut app.conn(),
    )
    .unwrap();
    let _today = app.owner().await;
    assert_eq!(app.count("sessions"), 1);
}

#[tokio::test]
async fn a_ban_ends_every_session_of_the_account() {
    let app = TestApp::spawn().await;
    let laptop = app.member().await;
    let _phone = app.member().await;
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!("UPDATE users SET status = 'banned' WHERE email = '{MEMBER}'")),
        &mut app.conn(),
    )
    .unwrap();
    assert_eq!(laptop.get("/dashboard").await.status, 303);
    assert_eq!(app.count(&format!("sessions s JOIN users u ON u.id = s.user_id WHERE u.email = '{MEMBER}'")), 0);
}

#[tokio::test]
async fn the_csrf_token_changes_at_login_and_logout() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let before = client.csrf().await;
    client.post_form("/login", &[("email", OWNER), ("password", PASSWORD)]).await;
    let during = client.csrf().await;
    assert_ne!(before, during);
    client.post_form("/logout", &[]).await;
    assert_ne!(during, client.csrf().await);
    // The old token no longer passes.
    let res = client.post_raw("/login", &[("csrf_token", &during), ("email", OWNER), ("password", PASSWORD)]).await;
    assert_eq!(res.status, 403);
}

#[tokio::test]
async fn a_member_of_a_suspended_organization_moves_to_another_of_theirs() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    // Olivia also belongs to Other Corp, as a Member.
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "INSERT INTO memberships (id, org_id, user_id, role_id)
             SELECT gen_random_uuid(), r.org_id, u.id, r.id FROM roles r, users u, organizations o
             WHERE o.name = 'Other Corp' AND r.org_id = o.id AND r.key = 'member' AND u.email = '{OWNER}'"
        )),
        &mut conn,
    )
    .unwrap();
    let olivia = app.owner().await;
    assert!(olivia.get("/dashboard").await.body.contains("Northwind Studio"));
    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE organizations SET status = 'suspended' WHERE name = 'Northwind Studio'"),
        &mut conn,
    )
    .unwrap();
    let page = olivia.get("/dashboard").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Other Corp"));
    // Someone with no other organization sees why they are locked out.
    let mia = app.member().await;
    let page = mia.get("/dashboard").await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("suspended"));
}

/// A login attempt from `address`, as a trusted proxy in front of the app reports it.
async fn login_from(client: &Client, address: &str, email: &str, password: &str) -> Page {
    let token = client.csrf().await;
    let fields = [("csrf_token", token.as_str()), ("email", email), ("password", password)];
    let res = client
        .http
        .post(client.url("/login"))
        .header("x-forwarded-for", address)
        .header("sec-fetch-site", "same-origin")
        .form(&fields)
        .send()
        .await
        .unwrap();
    Client::page(res).await
}

#[tokio::test]
async fn failed_sign_ins_lock_the_account_on_every_instance_until_the_window_passes() {
    let app = TestApp::spawn().await;
    let other = app.another_instance();
    let (first, second) = (Client::new(&app.base), Client::new(&other.base));
    for n in 0..clienthub::auth::throttle::PER_ACCOUNT_AND_ADDRESS {
        let client = if n % 2 == 0 { &first } else { &second };
        let page = client.post_form("/login", &[("email", OWNER), ("password", "guess")]).await;
        assert_eq!(page.status, 400, "attempt {n} is answered as a wrong password");
    }
    // The right password no longer gets in, on either instance, and is not even checked.
    for client in [&first, &second] {
        let page = client.post_form("/login", &[("email", OWNER), ("password", PASSWORD)]).await;
        assert_eq!(page.status, 429);
        assert!(page.body.contains("Too many failed sign-ins"), "{}", page.body);
        let retry: i64 = page.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=15 * 60).contains(&retry), "{retry}");
    }
    assert_eq!(app.count("sessions WHERE user_id IS NOT NULL"), 0);
    // The lock-out is audited once, however many attempts it refuses.
    assert_eq!(app.count("audit_logs WHERE action = 'auth.login_throttled'"), 1);
    // Another account is not affected.
    assert_eq!(first.post_form("/login", &[("email", ADMIN), ("password", PASSWORD)]).await.status, 303);

    // Once the failures are older than the window, the owner signs in, which clears them.
    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE login_failures SET at = at - interval '16 minutes'"),
        &mut app.conn(),
    )
    .unwrap();
    assert_eq!(second.post_form("/login", &[("email", OWNER), ("password", PASSWORD)]).await.status, 303);
    assert_eq!(app.count(&format!("login_failures WHERE email = '{OWNER}'")), 0);
}

#[tokio::test]
async fn one_address_guessing_many_accounts_is_locked_out_as_an_address() {
    let app = TestApp::with(|s| s.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    app.seed();
    let client = app.client();
    let limit = clienthub::auth::throttle::PER_ADDRESS;
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "INSERT INTO login_failures (email, ip) SELECT 'user' || g || '@guess.example', '203.0.113.7'
             FROM generate_series(1, {}) g",
            limit - 1
        )),
        &mut app.conn(),
    )
    .unwrap();
    assert_eq!(login_from(&client, "203.0.113.7", "last@guess.example", "guess").await.status, 400);
    let locked = login_from(&client, "203.0.113.7", MEMBER, PASSWORD).await;
    assert_eq!(locked.status, 429, "the address has used up its attempts, whatever the account");
    // Another client behind the same proxy signs in; the address counted is the client's.
    assert_eq!(login_from(&client, "198.51.100.4", MEMBER, PASSWORD).await.status, 303);
    assert_eq!(app.count("login_failures WHERE ip = '127.0.0.1'"), 0);
}

#[tokio::test]
async fn simultaneous_guesses_cannot_slip_past_the_limit() {
    let app = TestApp::spawn().await;
    let clients: Vec<Client> = (0..20).map(|_| app.client()).collect();
    let answers = futures_util::future::join_all(
        clients.iter().map(|c| c.post_form("/login", &[("email", OWNER), ("password", "guess")])),
    )
    .await;
    let checked = answers.iter().filter(|p| p.status == 400).count() as i64;
    assert_eq!(checked, clienthub::auth::throttle::PER_ACCOUNT_AND_ADDRESS, "only so many passwords are checked");
    assert!(answers.iter().all(|p| p.status == 400 || p.status == 429));
}
