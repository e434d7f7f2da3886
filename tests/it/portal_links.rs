//! Emailed portal links: the link in an invoice or quotation email signs its client in,
//! once, and opens that document; the session it makes sees only that client; a used,
//! expired, revoked or made-up link offers a fresh one, sent to the client's own
//! address; staff send portal access and revoke links from the client's page.

use crate::money::{HANNAH, numbered, one, save_document};
use crate::support::*;

fn execute(app: &TestApp, sql: &str) {
    diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut app.conn()).unwrap();
}

/// Sends a new invoice (or quotation) of one line to Hannah; its id.
async fn send_to_hannah(app: &TestApp, owner: &Client, kind: &str) -> String {
    let end = if kind == "invoices" { "due_date" } else { "valid_until" };
    let res = save_document(owner, &format!("/{kind}"), &one(app, HANNAH), end, &[("Work", "1", "250", "")], &[]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let id = res.location().unwrap().rsplit('/').next().unwrap().to_string();
    assert_eq!(owner.post_form(&format!("/{kind}/{id}/send"), &[]).await.status, 303);
    id
}

/// The link of the `n`th email (1-based) once it has arrived.
async fn link_in_mail(app: &TestApp, n: usize) -> String {
    let mail = app.mail.wait_for(n).await;
    assert_eq!(mail[n - 1].to, vec!["hannah@weber-bau.example".to_string()]);
    mail[n - 1].link(&format!("{}/p/", app.base)).expect("a portal link")
}

fn path_of(app: &TestApp, link: &str) -> String {
    link.strip_prefix(&app.base).unwrap().to_string()
}

/// Asks for a fresh link in place of `link` (a path /p/{token}), as its page's button does.
async fn renew(client: &Client, link: &str) -> Page {
    client.post_form("/p/renew", &[("token", link.trim_start_matches("/p/"))]).await
}

#[tokio::test]
async fn an_emailed_link_signs_the_client_in_once_and_opens_the_document() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let invoice = send_to_hannah(&app, &owner, "invoices").await;
    let link = path_of(&app, &link_in_mail(&app, 1).await);

    // A fresh browser: the link signs Hannah in (a new account, a client membership).
    let hannah = app.client();
    let res = hannah.get(&link).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some(format!("/portal/invoices/{invoice}").as_str()));
    let page = hannah.get(&format!("/portal/invoices/{invoice}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&numbered("INV", 1)) && page.body.contains("250.00"));
    let (status, _, pdf) = hannah.get_bytes(&format!("/portal/invoices/{invoice}/pdf")).await;
    assert_eq!(status, 200);
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(
        crate::money::text(
            &app,
            "SELECT r.key FROM memberships m JOIN users u ON u.id = m.user_id JOIN roles r ON r.id = m.role_id
             WHERE u.email = 'hannah@weber-bau.example' AND m.client_id = (SELECT id FROM clients WHERE name = 'Hannah Weber')"
        ),
        "client"
    );
    assert_eq!(hannah.get("/clients").await.status, 403, "still a client: staff pages are closed");
    // Chloé's records are not Hannah's.
    let chloe = one(&app, "SELECT id FROM clients WHERE name = 'Chloé Durand'");
    let res = save_document(&owner, "/invoices", &chloe, "due_date", &[("Other work", "1", "90", "")], &[]).await;
    let chloe_invoice = res.location().unwrap().rsplit('/').next().unwrap().to_string();
    assert_eq!(owner.post_form(&format!("/invoices/{chloe_invoice}/issue"), &[]).await.status, 303);
    assert_eq!(hannah.get(&format!("/portal/invoices/{chloe_invoice}")).await.status, 404);
    assert_eq!(app.count("audit_logs WHERE action = 'portal_link.opened'"), 1);

    // Used once: a second click, in any browser, gets the page that offers a new link.
    let again = app.client().get(&link).await;
    assert_eq!(again.status, 410);
    assert!(again.body.contains("Email me a new link"));
    assert!(again.body.contains(&format!("name=\"token\" value=\"{}\"", &link[3..])));
    let renewed = renew(&app.client(), &link).await;
    assert_eq!(renewed.status, 200);
    assert!(renewed.body.contains("Check your email"));
    let fresh = path_of(&app, &link_in_mail(&app, 2).await);
    assert_ne!(fresh, link);
    let other_browser = app.client();
    assert_eq!(other_browser.get(&fresh).await.location(), Some(format!("/portal/invoices/{invoice}").as_str()));
    assert_eq!(other_browser.get("/portal").await.status, 200);
}

#[tokio::test]
async fn made_up_expired_and_truncated_links_get_the_same_page_and_send_nothing_away() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    send_to_hannah(&app, &owner, "quotations").await;
    let link = path_of(&app, &link_in_mail(&app, 1).await);
    let anyone = app.client();
    let made_up = anyone.get(&format!("/p/{}", "a".repeat(64))).await;
    let truncated = anyone.get(&link[..link.len() - 4]).await;
    let huge = anyone.get(&format!("/p/{}", "A".repeat(5000))).await;
    let sneaky = anyone.get("/p/..%2Fmembers%2Fleave%3F").await;
    for page in [&made_up, &truncated, &huge, &sneaky] {
        assert_eq!(page.status, 410);
        assert!(page.body.contains("This link cannot be used"));
    }
    assert!(made_up.body.contains("Email me a new link"), "a well-formed token may ask again");
    assert!(!sneaky.body.contains("members") && !sneaky.body.contains("Email me a new link"), "never written back");
    // Asking for a fresh one with a made-up token answers the same, and mails nobody.
    let renewed = renew(&anyone, &format!("/p/{}", "a".repeat(64))).await;
    assert_eq!(renewed.status, 200);
    assert!(renewed.body.contains("Check your email"));

    // Expired: not signed in, and it says so the same way.
    execute(&app, "UPDATE portal_tokens SET expires_at = now() - interval '1 minute'");
    let expired = anyone.get(&link).await;
    assert_eq!(expired.status, 410);
    assert_eq!(anyone.get("/portal").await.status, 303, "still nobody");
    assert_eq!(app.count("memberships WHERE client_id IS NOT NULL"), 1, "only the demo's client user");
    // A client may ask again at most five times a day.
    for _ in 0..7 {
        renew(&anyone, &link).await;
    }
    app.mail.wait_for(6).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.mail.received().len(), 6, "the quotation and five fresh links");
    assert_eq!(app.count("portal_tokens WHERE created_by IS NULL"), 5);
}

#[tokio::test]
async fn a_link_signs_out_whoever_was_signed_in_and_sees_only_its_client() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    // Hannah's address is also a client account of Other Corp's (nothing more).
    execute(
        &app,
        "WITH org AS (SELECT id FROM organizations WHERE name = 'Other Corp'),
              c AS (INSERT INTO clients (id, org_id, name, email) SELECT gen_random_uuid(), id, 'Weber at Other', 'x@y.example' FROM org RETURNING id, org_id),
              u AS (INSERT INTO users (id, email, name, password_hash, display_id, active_org_id)
                    SELECT gen_random_uuid(), 'hannah@weber-bau.example', 'Hannah Weber', '!', 'CH-HANNA1', org_id FROM c RETURNING id)
         INSERT INTO memberships (id, org_id, user_id, role_id, client_id)
         SELECT gen_random_uuid(), c.org_id, u.id, r.id, c.id FROM c, u, roles r WHERE r.org_id = c.org_id AND r.key = 'client'",
    );
    let invoice = send_to_hannah(&app, &owner, "invoices").await;
    let link = path_of(&app, &link_in_mail(&app, 1).await);

    // Chloé's portal user is signed in in this browser; the link replaces her session.
    let browser = app.login(CLIENT).await;
    let res = browser.get(&link).await;
    assert_eq!(res.location(), Some(format!("/portal/invoices/{invoice}").as_str()), "{}", res.body);
    assert_eq!(browser.get(&format!("/portal/invoices/{invoice}")).await.status, 200);
    let portal = browser.get("/portal").await;
    assert!(!portal.body.contains("Chloé"), "no longer Chloé");

    // The session made from the link sees Northwind's client Hannah only, not the
    // account's other organization, and cannot change the account.
    assert_eq!(browser.get("/dashboard").await.location(), Some("/portal"));
    let orgs = browser.get("/organizations").await;
    assert!(orgs.body.contains("Northwind") && !orgs.body.contains("Other Corp"), "{}", orgs.body);
    let other = one(&app, "SELECT id FROM organizations WHERE name = 'Other Corp'");
    assert_eq!(browser.post_form("/organizations/switch", &[("org_id", &other)]).await.status, 403);
    assert_eq!(browser.get("/profile").await.status, 403);
    assert_eq!(browser.get("/profile/two-factor").await.status, 403);
    assert_eq!(browser.get("/invitations").await.status, 403);
    assert_eq!(browser.get("/dashboard").await.location(), Some("/portal"), "still only the portal");
}

#[tokio::test]
async fn a_link_never_stands_in_for_the_password_of_an_account_that_can_do_more() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    // Hannah's address is Other Corp's owner's account.
    execute(&app, "UPDATE users SET email = 'hannah@weber-bau.example' WHERE email = 'owner@othercorp.example'");
    let invoice = send_to_hannah(&app, &owner, "invoices").await;
    let link = path_of(&app, &link_in_mail(&app, 1).await);
    let browser = app.client();
    let page = browser.get(&link).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Log in to open this link") && page.body.contains(&format!("/login?next={link}")));
    assert_eq!(browser.get("/dashboard").await.status, 303, "not signed in");
    // Signed in with the password, the same link opens the invoice (once).
    let full = app.login("hannah@weber-bau.example").await;
    let res = full.get(&link).await;
    assert_eq!(res.location(), Some(format!("/portal/invoices/{invoice}").as_str()));
    assert_eq!(full.get(&format!("/portal/invoices/{invoice}")).await.status, 200);
    assert_eq!(full.get("/profile").await.status, 200, "still the account's own session");
    assert_eq!(app.client().get(&link).await.status, 410, "used");
}

#[tokio::test]
async fn a_link_stops_working_when_the_clients_address_changes() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    send_to_hannah(&app, &owner, "invoices").await;
    let link = path_of(&app, &link_in_mail(&app, 1).await);
    execute(&app, "UPDATE clients SET email = 'someone.else@example.com' WHERE name = 'Hannah Weber'");
    let page = app.client().get(&link).await;
    assert_eq!(page.status, 410);
    assert_eq!(app.count("users WHERE email = 'someone.else@example.com'"), 0);
    // A fresh one goes to the address the client has now.
    renew(&app.client(), &link).await;
    let mail = app.mail.wait_for(2).await;
    assert_eq!(mail[1].to, vec!["someone.else@example.com".to_string()]);
}

#[tokio::test]
async fn staff_send_portal_access_and_revoke_links_from_the_clients_page() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let hannah_id = one(&app, HANNAH);
    let res = owner.post_form(&format!("/clients/{hannah_id}/portal-access"), &[]).await;
    assert_eq!(res.status, 303);
    let link = path_of(&app, &link_in_mail(&app, 1).await);
    let page = owner.get(&format!("/clients/{hannah_id}")).await;
    assert!(page.body.contains("Portal access") && page.body.contains("Unused, until"));

    let hannah = app.client();
    assert_eq!(hannah.get(&link).await.location(), Some("/portal"));
    assert_eq!(hannah.get("/portal").await.status, 200);
    let page = owner.get(&format!("/clients/{hannah_id}")).await;
    assert!(page.body.contains("Opened") && page.body.contains("Hannah Weber"));

    // Revoking the used link signs out the browser it opened.
    let link_id = one(&app, "SELECT id FROM portal_tokens");
    let member = app.member().await;
    assert_eq!(
        member.post_form(&format!("/clients/{hannah_id}/portal-links/{link_id}/revoke"), &[]).await.status,
        403,
        "members may not"
    );
    let res = owner.post_form(&format!("/clients/{hannah_id}/portal-links/{link_id}/revoke"), &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(hannah.get("/portal").await.status, 303, "signed out");
    assert_eq!(app.count("audit_logs WHERE action = 'portal_link.revoked'"), 1);
    // A revoked link offers no fresh one by mail.
    renew(&app.client(), &link).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.mail.received().len(), 1);

    // Another organization's owner cannot revoke or send for Northwind's client.
    let otto = app.login(OTHER_OWNER).await;
    assert_eq!(otto.post_form(&format!("/clients/{hannah_id}/portal-access"), &[]).await.status, 404);
    let chloe_id = one(&app, "SELECT id FROM clients WHERE name = 'Chloé Durand'");
    owner.post_form(&format!("/clients/{chloe_id}/portal-access"), &[]).await;
    let chloe_link = one(&app, "SELECT id FROM portal_tokens WHERE revoked_at IS NULL");
    assert_eq!(
        otto.post_form(&format!("/clients/{hannah_id}/portal-links/{chloe_link}/revoke"), &[]).await.status,
        404
    );
    assert_eq!(
        owner.post_form(&format!("/clients/{hannah_id}/portal-links/{chloe_link}/revoke"), &[]).await.status,
        404,
        "a link of another client"
    );
}
