//! Bad input gets a clear message or status and changes nothing.

use crate::support::*;

fn signup_fields<'a>(name: &'a str, email: &'a str, password: &'a str, org: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("name", name), ("email", email), ("password", password), ("org_name", org)]
}

async fn nothing_created(app: &TestApp) {
    assert_eq!(app.count("users"), 0);
    assert_eq!(app.count("organizations"), 0);
    assert_eq!(app.count("sessions"), 0);
}

#[tokio::test]
async fn an_email_without_at_is_refused_next_to_the_field() {
    let app = TestApp::empty().await;
    let res =
        app.client().post_form("/signup", &signup_fields("Ana", "ana.example.com", "long enough pw", "Studio")).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("id=\"email-error\""));
    assert!(res.body.contains("Enter an email address like name@example.com."));
    assert!(res.body.contains("value=\"Studio\""), "what was typed is kept");
    assert!(!res.body.contains("long enough pw"), "but never the password");
    nothing_created(&app).await;
}

#[tokio::test]
async fn a_short_password_is_refused() {
    let app = TestApp::empty().await;
    let res = app.client().post_form("/signup", &signup_fields("Ana", "ana@example.com", "short", "Studio")).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("Use at least 8 characters."));
    nothing_created(&app).await;
}

#[tokio::test]
async fn an_empty_form_reports_every_field() {
    let app = TestApp::empty().await;
    let res = app.client().post_form("/signup", &[]).await;
    assert_eq!(res.status, 400);
    for field in ["name", "email", "password", "org_name"] {
        assert!(res.body.contains(&format!("id=\"{field}-error\"")), "{field} has its message");
    }
    nothing_created(&app).await;
}

#[tokio::test]
async fn a_duplicate_email_is_refused_clearly() {
    let app = TestApp::spawn().await;
    let before = app.count("users");
    let res = app
        .client()
        .post_form("/signup", &signup_fields("Olivia", " OWNER@northwind.example ", "long enough pw", "Copycat"))
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("An account with this email already exists."));
    assert_eq!(app.count("users"), before);
    assert_eq!(app.count("organizations WHERE name = 'Copycat'"), 0);
}

#[tokio::test]
async fn an_overlong_body_is_refused_with_413() {
    let app = TestApp::empty().await;
    let huge = "x".repeat(11 * 1024);
    let res = app.client().post_form("/signup", &signup_fields(&huge, "a@b.example", "long enough pw", "Studio")).await;
    assert_eq!(res.status, 413);
    assert!(res.body.contains("larger than the 10 kB"));
    nothing_created(&app).await;
}

#[tokio::test]
async fn non_utf8_text_is_refused() {
    let app = TestApp::empty().await;
    let body = b"name=%FF%FE&email=a%40b.example&password=long+enough+pw&org_name=Studio".to_vec();
    let res = app.client().post_body("/signup", "application/x-www-form-urlencoded", body).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("not valid text"));
    nothing_created(&app).await;
}

#[tokio::test]
async fn a_malformed_body_or_wrong_content_type_is_refused() {
    let app = TestApp::empty().await;
    let res = app.client().post_body("/signup", "application/json", br#"{"name":"x"}"#.to_vec()).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("format we do not accept"));
    let res =
        app.client().post_body("/signup", "application/x-www-form-urlencoded", b"name=%zz&&==&email".to_vec()).await;
    assert_eq!(res.status, 400);
    nothing_created(&app).await;
}

#[tokio::test]
async fn a_missing_or_wrong_csrf_token_is_refused() {
    let app = TestApp::empty().await;
    let client = app.client();
    client.csrf().await; // the cookie exists, the form lacks the token
    let fields = signup_fields("Ana", "ana@example.com", "long enough pw", "Studio");
    let res = client.post_raw("/signup", &fields).await;
    assert_eq!(res.status, 403);
    assert!(res.body.contains("This form has expired"));
    let mut wrong = fields.clone();
    wrong.push(("csrf_token", "0000"));
    assert_eq!(client.post_raw("/signup", &wrong).await.status, 403);
    // Without any cookie (a forged cross-site form) it is refused too.
    let mut with_token = fields.clone();
    let token = client.csrf().await;
    with_token.push(("csrf_token", &token));
    assert_eq!(app.client().post_raw("/signup", &with_token).await.status, 403);
    nothing_created(&app).await;
}

#[tokio::test]
async fn a_cross_site_post_is_refused_even_with_a_token() {
    let app = TestApp::empty().await;
    let client = app.client();
    let token = client.csrf().await;
    let mut fields = signup_fields("Ana", "ana@example.com", "long enough pw", "Studio");
    fields.push(("csrf_token", &token));
    let res = client
        .http
        .post(client.url("/signup"))
        .header("sec-fetch-site", "cross-site")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = client
        .http
        .post(client.url("/signup"))
        .header("origin", "https://evil.example")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    nothing_created(&app).await;
}

#[tokio::test]
async fn a_tampered_or_unknown_session_cookie_is_treated_as_signed_out() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for cookie in
        ["session=garbage", "session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]
    {
        let res = http.get(format!("{}/dashboard", app.base)).header("cookie", cookie).send().await.unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/login");
    }
    // A real cookie with one character changed fails its signature.
    let owner = app.owner().await;
    let cookies = owner.cookie_header();
    let session = cookies.split("; ").find(|c| c.starts_with("session=")).unwrap();
    let mut tampered = session.to_string().into_bytes();
    let i = tampered.len() - 5;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let res = http
        .get(format!("{}/dashboard", app.base))
        .header("cookie", String::from_utf8(tampered).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn a_session_deleted_on_the_server_is_signed_out() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE sessions SET expires_at = now() - interval '1 second'"),
        &mut app.conn(),
    )
    .unwrap();
    assert_eq!(owner.get("/dashboard").await.status, 303);
}
