//! Password reset by email.

use crate::support::*;

#[tokio::test]
async fn a_forgotten_password_is_reset_through_a_single_use_emailed_link() {
    let app = TestApp::spawn().await;
    let elsewhere = app.owner().await;
    let client = app.client();
    let token = client.csrf().await;
    // A forged Host header must not change the emailed link.
    let res = client
        .http
        .post(client.url("/password/forgot"))
        .header("host", "evil.example")
        .header("sec-fetch-site", "same-origin")
        .form(&[("csrf_token", token.as_str()), ("email", OWNER)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(client.get("/login").await.body.contains("If an account exists for that address"));

    let mail = app.mail.wait_for(1).await;
    assert_eq!(mail[0].to, vec![OWNER.to_string()]);
    assert!(mail[0].subject().contains("Reset your Client Hub password"));
    assert!(mail[0].raw.contains("text/plain") && mail[0].raw.contains("text/html"), "both parts");
    assert!(!mail[0].decoded().contains("evil.example"));
    let link = mail[0].link(&format!("{}/password/reset/", app.base)).expect("a link built from APP_URL");
    let path = link.strip_prefix(&app.base).unwrap().to_string();

    assert!(client.get(&path).await.body.contains("Choose a new password"));
    let short = client.post_form(&path, &[("password", "short")]).await;
    assert_eq!(short.status, 400);
    let res = client.post_form(&path, &[("password", "a fresh new password")]).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some("/login"));

    assert_eq!(elsewhere.get("/dashboard").await.status, 303, "every old session ended");
    let login = app.client().post_form("/login", &[("email", OWNER), ("password", "a fresh new password")]).await;
    assert_eq!(login.status, 303);
    let again = client.get(&path).await;
    assert_eq!(again.status, 404);
    assert!(again.body.contains("This link no longer works"));
    assert_eq!(client.post_form(&path, &[("password", "another new password")]).await.status, 404);
    assert_eq!(app.count("audit_logs WHERE action = 'auth.password_reset'"), 1);
}

#[tokio::test]
async fn the_answer_is_the_same_for_an_unknown_address_and_no_mail_goes_out() {
    let app = TestApp::spawn().await;
    let known = app.client().post_form("/password/forgot", &[("email", OWNER)]).await;
    let unknown = app.client().post_form("/password/forgot", &[("email", "nobody@nowhere.example")]).await;
    assert_eq!((known.status, known.location()), (unknown.status, unknown.location()));
    app.mail.wait_for(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.mail.received().len(), 1, "only the known address got mail");
    let bad = app.client().post_form("/password/forgot", &[("email", "not an email")]).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn an_expired_or_superseded_link_does_not_work() {
    let app = TestApp::spawn().await;
    let client = app.client();
    client.post_form("/password/forgot", &[("email", OWNER)]).await;
    let first = app.mail.wait_for(1).await[0].link(&format!("{}/password/reset/", app.base)).unwrap();
    client.post_form("/password/forgot", &[("email", OWNER)]).await;
    let second = app.mail.wait_for(2).await[1].link(&format!("{}/password/reset/", app.base)).unwrap();
    assert_eq!(client.get(first.strip_prefix(&app.base).unwrap()).await.status, 404, "only the newest link works");
    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE user_tokens SET expires_at = now() - interval '1 second'"),
        &mut app.conn(),
    )
    .unwrap();
    assert_eq!(client.get(second.strip_prefix(&app.base).unwrap()).await.status, 404);
}
