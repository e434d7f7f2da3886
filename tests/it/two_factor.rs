//! Two-factor sign-in: setup, the second step at login, recovery, and the org's rule.

use clienthub::auth::totp;

use crate::support::*;

fn secret_from(page: &str) -> Vec<u8> {
    let start = page.find("class=\"secret\">").unwrap() + 15;
    let key = &page[start..start + page[start..].find('<').unwrap()];
    base32_decode(key)
}

fn base32_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut buffer, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in s.chars() {
        buffer = (buffer << 5) | ALPHABET.find(c).unwrap() as u32;
        bits += 5;
        if bits >= 8 {
            out.push((buffer >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    out
}

fn code_now(secret: &[u8], offset_steps: i64) -> String {
    format!("{:06}", totp::code_at(secret, totp::step_at(chrono::Utc::now().timestamp()) + offset_steps))
}

async fn enable(app: &TestApp, client: &Client) -> (Vec<u8>, Vec<String>) {
    let page = client.get("/profile/two-factor").await;
    assert!(page.body.contains("<svg"), "a QR code drawn on the server");
    let secret = secret_from(&page.body);
    let wrong = client.post_form("/profile/two-factor/enable", &[("code", "000000")]).await;
    assert_eq!(wrong.status, 400);
    let res = client.post_form("/profile/two-factor/enable", &[("code", &code_now(&secret, 0))]).await;
    assert_eq!(res.status, 200);
    assert!(res.body.contains("they are shown only now"));
    let codes: Vec<String> =
        res.body.split("<li><code>").skip(1).map(|s| s[..s.find('<').unwrap()].to_string()).collect();
    assert_eq!(codes.len(), 10);
    assert_eq!(app.count("recovery_codes"), 10);
    (secret, codes)
}

#[tokio::test]
async fn login_asks_for_a_code_once_two_factor_is_on() {
    let app = TestApp::spawn().await;
    let olivia = app.owner().await;
    let (secret, _) = enable(&app, &olivia).await;
    let stored: String = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Text>(&format!("SELECT totp_secret FROM users WHERE email = '{OWNER}'")),
        &mut app.conn(),
    )
    .unwrap();
    assert!(!stored.contains(&totp::base32(&secret)), "the secret is encrypted at rest");

    let browser = app.client();
    let res = browser.post_form("/login", &[("email", OWNER), ("password", PASSWORD)]).await;
    assert_eq!(res.location(), Some("/login/two-factor"));
    assert_eq!(browser.get("/dashboard").await.status, 303, "not signed in before the second step");
    let wrong = browser.post_form("/login/two-factor", &[("code", "123456")]).await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("That code is not right."));
    // The code used to turn it on cannot be replayed; the next one works.
    let res = browser.post_form("/login/two-factor", &[("code", &code_now(&secret, 1))]).await;
    assert_eq!(res.location(), Some("/dashboard"));
    assert_eq!(browser.get("/dashboard").await.status, 200);
    let replay = app.client();
    replay.post_form("/login", &[("email", OWNER), ("password", PASSWORD)]).await;
    assert_eq!(
        replay.post_form("/login/two-factor", &[("code", &code_now(&secret, 1))]).await.status,
        400,
        "no replay"
    );
    // Without a password first, the second step is nothing.
    assert_eq!(
        app.client().post_form("/login/two-factor", &[("code", &code_now(&secret, 0))]).await.location(),
        Some("/login")
    );
}

#[tokio::test]
async fn a_recovery_code_works_once_and_an_admin_can_reset_two_factor() {
    let app = TestApp::spawn().await;
    let mia = app.member().await;
    let (_, codes) = enable(&app, &mia).await;
    let phone_lost = app.client();
    phone_lost.post_form("/login", &[("email", MEMBER), ("password", PASSWORD)]).await;
    let res = phone_lost.post_form("/login/two-factor", &[("recovery_code", &codes[3].to_uppercase())]).await;
    assert_eq!(res.location(), Some("/dashboard"));
    let again = app.client();
    again.post_form("/login", &[("email", MEMBER), ("password", PASSWORD)]).await;
    assert_eq!(
        again.post_form("/login/two-factor", &[("recovery_code", &codes[3])]).await.status,
        400,
        "each code works once"
    );

    let admin = app.admin().await;
    let membership: uuid::Uuid = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Uuid>(&format!(
            "SELECT m.id FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = '{MEMBER}'"
        )),
        &mut app.conn(),
    )
    .unwrap();
    let res = admin.post_form(&format!("/members/{membership}/reset-two-factor"), &[]).await;
    assert!(admin.get(res.location().unwrap()).await.body.contains("has been reset"));
    let res = app.client().post_form("/login", &[("email", MEMBER), ("password", PASSWORD)]).await;
    assert_eq!(res.location(), Some("/dashboard"), "password alone again");
    assert_eq!(app.count("recovery_codes"), 0);
    // Not upwards: a member cannot reset the admin's.
    let admin_membership: uuid::Uuid = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Uuid>(&format!(
            "SELECT m.id FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = '{ADMIN}'"
        )),
        &mut app.conn(),
    )
    .unwrap();
    assert_eq!(
        app.member().await.post_form(&format!("/members/{admin_membership}/reset-two-factor"), &[]).await.status,
        403
    );
}

#[tokio::test]
async fn an_organization_that_requires_two_factor_sends_staff_to_set_it_up() {
    let app = TestApp::spawn().await;
    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE organizations SET require_two_factor = true WHERE name = 'Northwind Studio'"),
        &mut app.conn(),
    )
    .unwrap();
    let mia = app.member().await;
    let res = mia.get("/dashboard").await;
    assert_eq!(res.location(), Some("/profile/two-factor?required=1"));
    let page = mia.get("/profile/two-factor?required=1").await;
    assert!(page.body.contains("Your organization requires two-factor sign-in"));
    enable(&app, &mia).await;
    assert_eq!(mia.get("/dashboard").await.status, 200);
    // Clients are not held to it: their dashboard is the portal.
    let client = app.login(CLIENT).await;
    assert_eq!(client.get("/dashboard").await.location(), Some("/portal"));
    assert_eq!(client.get("/portal").await.status, 200);
}

#[tokio::test]
async fn turning_two_factor_off_needs_the_password() {
    let app = TestApp::spawn().await;
    let olivia = app.owner().await;
    enable(&app, &olivia).await;
    let wrong = olivia.post_form("/profile/two-factor/disable", &[("password", "nope")]).await;
    assert_eq!(wrong.status, 400);
    let res = olivia.post_form("/profile/two-factor/disable", &[("password", PASSWORD)]).await;
    assert_eq!(res.status, 303);
    assert_eq!(app.count("users WHERE totp_enabled_at IS NOT NULL"), 0);
    assert_eq!(app.count("audit_logs WHERE action IN ('auth.two_factor_enabled', 'auth.two_factor_disabled')"), 2);
}

#[tokio::test]
async fn wrong_codes_lock_the_second_step_for_the_account() {
    let app = TestApp::spawn().await;
    let olivia = app.owner().await;
    let (secret, _) = enable(&app, &olivia).await;
    let attacker = app.client();
    attacker.post_form("/login", &[("email", OWNER), ("password", PASSWORD)]).await;
    let mut last = 0;
    for _ in 0..5 {
        last = attacker.post_form("/login/two-factor", &[("code", "000001")]).await.status;
    }
    assert_eq!(last, 429);
    // Even the right code waits out the lock, from any address.
    let res = attacker.post_form("/login/two-factor", &[("code", &code_now(&secret, 1))]).await;
    assert_eq!(res.status, 429);
    assert!(res.body.contains("locked for 15 minutes"));
}

#[tokio::test]
async fn an_admin_cannot_reset_the_two_factor_of_someone_who_is_also_elsewhere() {
    let app = TestApp::spawn().await;
    let mia = app.member().await;
    enable(&app, &mia).await;
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "INSERT INTO memberships (id, org_id, user_id, role_id)
             SELECT gen_random_uuid(), r.org_id, u.id, r.id FROM roles r, users u, organizations o
             WHERE o.name = 'Other Corp' AND r.org_id = o.id AND r.key = 'admin' AND u.email = '{MEMBER}'"
        )),
        &mut app.conn(),
    )
    .unwrap();
    let membership: uuid::Uuid = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Uuid>(&format!(
            "SELECT m.id FROM memberships m JOIN users u ON u.id = m.user_id JOIN organizations o ON o.id = m.org_id
             WHERE u.email = '{MEMBER}' AND o.name = 'Northwind Studio'"
        )),
        &mut app.conn(),
    )
    .unwrap();
    let admin = app.admin().await;
    let res = admin.post_form(&format!("/members/{membership}/reset-two-factor"), &[]).await;
    assert!(admin.get(res.location().unwrap()).await.body.contains("also belong to other organizations"));
    assert_eq!(app.count("users WHERE totp_enabled_at IS NOT NULL"), 1);
}
