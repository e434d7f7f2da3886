//! Web plumbing: health, readiness, security headers, static files, error pages,
//! rate limits.

use crate::support::*;

#[tokio::test]
async fn health_and_ready_answer() {
    let app = TestApp::empty().await;
    let client = app.client();
    let health = client.get("/health").await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    assert_eq!(client.get("/ready").await.status, 200);
}

#[tokio::test]
async fn ready_is_503_while_the_database_is_unreachable() {
    let db = TestDb::new();
    let mut settings = test_settings();
    settings.database.connect_timeout_secs = 1;
    // Nothing listens on port 1: every connection attempt fails at once.
    let pool = clienthub::db::build_pool("postgres://postgres@127.0.0.1:1/none", &settings.database).unwrap();
    let app = TestApp::start(db, settings, pool).await;
    let client = app.client();
    assert_eq!(client.get("/health").await.status, 200);
    let ready = client.get("/ready").await;
    assert_eq!(ready.status, 503);
    let page = client.post_form("/login", &[("email", OWNER), ("password", PASSWORD)]).await;
    assert_eq!(page.status, 503);
    assert!(page.body.contains("briefly unavailable"));
    assert!(!page.body.to_lowercase().contains("connection refused"), "no internals leak");
}

#[tokio::test]
async fn a_signed_in_page_is_503_while_the_database_is_away_and_comes_back_with_it() {
    let app = TestApp::spawn().await;
    let olivia = app.owner().await;
    assert_eq!(olivia.get("/dashboard").await.status, 200);

    app.database_away();
    // Every connection the pool holds is gone, and no new one can be made.
    for path in ["/dashboard", "/clients", "/dashboard"] {
        let page = olivia.get(path).await;
        assert_eq!(page.status, 503, "{path}");
        assert!(page.body.contains("briefly unavailable"), "the 503 page: {}", page.body);
    }
    assert_eq!(app.client().get("/ready").await.status, 503);

    // The same process, the same session: no restart, no second sign-in.
    app.database_back();
    let mut page = olivia.get("/dashboard").await;
    for _ in 0..20 {
        if page.status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        page = olivia.get("/dashboard").await;
    }
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Northwind Studio"));
    assert_eq!(app.client().get("/ready").await.status, 200);
}

#[tokio::test]
async fn pages_carry_the_security_headers() {
    let app = TestApp::spawn().await;
    let page = app.client().get("/login").await;
    let h = |name: &str| page.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let csp = h("content-security-policy");
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(h("x-frame-options"), "DENY");
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert_eq!(h("referrer-policy"), "same-origin");
    assert_eq!(h("x-request-id").len(), 36, "a request id to match the logs");
    // Timings only for the signed in: a sign-in's or a reset's would tell an account
    // from none.
    assert_eq!(h("server-timing"), "", "no timings for the anonymous");
    let signed_in = app.owner().await.get("/clients").await;
    let timing = signed_in.headers.get("server-timing").and_then(|v| v.to_str().ok()).unwrap_or("");
    let (app_time, db_time) = timing.split_once(", ").expect(timing);
    let ms: f64 = app_time.strip_prefix("app;dur=").and_then(|d| d.parse().ok()).expect(timing);
    assert!(ms >= 0.0, "the server time of the request, for dev tools and benchmarks");
    assert!(db_time.starts_with("db;dur=") && db_time.ends_with(" statements\""), "{timing}");
    assert!(page.headers.get("access-control-allow-origin").is_none(), "no CORS");
    let cookie = h("set-cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
}

#[tokio::test]
async fn an_htmx_request_of_a_signed_out_user_redirects_the_whole_page() {
    let app = TestApp::empty().await;
    let res =
        app.client().http.get(format!("{}/dashboard", app.base)).header("hx-request", "true").send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["hx-redirect"], "/login");
}

#[tokio::test]
async fn secure_cookies_get_the_host_prefix_over_https() {
    let app = TestApp::empty().await;
    // The test server speaks plain HTTP; what matters is the cookie it sets.
    let mut settings = app.settings.clone();
    settings.server.app_url = "https://hub.example".into();
    assert!(settings.https());
    assert_eq!(clienthub::web::csrf::cookie_name(settings.https()), "__Host-csrf");
}

#[tokio::test]
async fn static_files_are_served_with_long_caching_and_no_inline_scripts_are_needed() {
    let app = TestApp::empty().await;
    let client = app.client();
    let login = client.get("/login").await;
    let css = login.body.split("href=\"").find_map(|s| s.strip_prefix("/static/app.css")).unwrap();
    let version = &css[..css.find('"').unwrap()];
    let res = client.get(&format!("/static/app.css{version}")).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.headers["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(res.headers["content-type"], "text/css; charset=utf-8");
    assert!(client.get("/static/htmx.min.js").await.body.contains("htmx"));
    assert!(!login.body.contains("<script>"), "no inline script");
    assert!(!login.body.contains("style=\""), "no inline style");
    assert_eq!(client.get("/static/../Cargo.toml").await.status, 404);
    let brand = client.get("/brand.css?c=112233").await;
    assert!(brand.body.contains("--brand:#112233"));
    assert!(client.get("/brand.css?c=x;}body{").await.body.contains("--brand:#4f46e5"), "only hex colors");
}

#[tokio::test]
async fn unknown_pages_get_a_friendly_404_without_internals() {
    let app = TestApp::empty().await;
    let page = app.client().get("/no/such/page").await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains("Page not found"));
    assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    let wrong_method = app.client().http.put(format!("{}/login", app.base)).send().await.unwrap();
    assert_eq!(wrong_method.status(), 404);
}

#[tokio::test]
async fn login_attempts_are_rate_limited_with_retry_after() {
    let app = TestApp::with(|s| {
        s.rate_limit.auth_per_minute = 1;
        s.rate_limit.auth_burst = 3;
    })
    .await;
    app.seed();
    let client = app.client();
    let mut statuses = Vec::new();
    // Percent-encoded paths reach the same handler and count against the same limit.
    for path in ["/login", "/%6cogin", "/login", "/%6C%6F%67%69%6E", "/login"] {
        statuses.push(client.post_form(path, &[("email", OWNER), ("password", "wrong")]).await);
    }
    assert!(statuses[..3].iter().all(|p| p.status == 400), "the encoded path is the login form");
    let limited = statuses.iter().find(|p| p.status == 429).expect("a 429 after the burst");
    assert!(limited.headers.get("retry-after").is_some());
    assert!(limited.body.contains("Too many requests"));
    assert!(limited.body.contains("<html"));
    // Reading pages is not limited by the login limiter.
    assert_eq!(client.get("/login").await.status, 200);
}

#[tokio::test]
async fn the_navigation_shows_what_the_role_may_open() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await.get("/dashboard").await.body;
    for link in ["href=\"/team\"", "href=\"/roles\"", "href=\"/settings\"", "href=\"/audit-logs\""] {
        assert!(owner.contains(link), "the Owner sees {link}");
    }
    let member = app.member().await.get("/dashboard").await.body;
    assert!(member.contains("href=\"/team\""));
    for link in ["href=\"/roles\"", "href=\"/settings\"", "href=\"/audit-logs\""] {
        assert!(!member.contains(link), "a Member does not see {link}");
    }
}
