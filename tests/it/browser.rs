//! Browser tests: headless Chromium through chromedriver, against a real server on
//! 127.0.0.1 — with JavaScript (htmx boosts forms and links) and without it.
//! Set SCREENSHOT_DIR to keep a PNG of every page visited.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client as Browser, ClientBuilder, Locator};

use crate::support::*;

struct Driver {
    process: Child,
    port: u16,
    profile: std::path::PathBuf,
}

impl Drop for Driver {
    /// Ends chromedriver and every Chromium it started (its process group), even when
    /// the test failed before closing the browser.
    fn drop(&mut self) {
        let group = format!("-{}", self.process.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(program)).find(|p| p.is_file())
}

async fn start_driver() -> Driver {
    let chromedriver = which("chromedriver")
        .expect("chromedriver is not installed: run `make test`, which installs chromium and chromium-driver");
    let port = free_port();
    let process = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let profile = std::env::temp_dir().join(format!("clienthub-chrome-{}", uuid::Uuid::new_v4().simple()));
    let driver = Driver { process, port, profile };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    driver
}

async fn open_browser(driver: &Driver, javascript: bool) -> Browser {
    let mut args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--window-size=1400,900".into(),
        "--hide-scrollbars".into(),
        format!("--user-data-dir={}", driver.profile.display()),
    ];
    if !javascript {
        args.push("--blink-settings=scriptEnabled=false".into());
    }
    let mut options = serde_json::json!({ "args": args });
    if let Some(chromium) = which("chromium") {
        options["binary"] = serde_json::json!(chromium.to_string_lossy());
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("open a Chromium session")
}

async fn screenshot(browser: &Browser, name: &str) {
    if let Some(dir) = std::env::var_os("SCREENSHOT_DIR") {
        let png = browser.screenshot().await.unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

async fn wait_for_path(browser: &Browser, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let url = browser.current_url().await.unwrap();
        if url.path() == path {
            return;
        }
        assert!(Instant::now() < deadline, "expected to reach {path}, still at {url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn text_of(browser: &Browser, css: &str) -> String {
    browser.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css(css)).await.unwrap().text().await.unwrap()
}

async fn fill(browser: &Browser, css: &str, value: &str) {
    let field = browser.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

async fn wait_for_text(browser: &Browser, css: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = browser.find(Locator::Css(css)).await.ok();
        let text = match text {
            Some(el) => el.text().await.unwrap_or_default(),
            None => String::new(),
        };
        if text.contains(expected) {
            return;
        }
        assert!(Instant::now() < deadline, "expected {css} to contain {expected:?}, got {text:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Logs out from the account menu.
async fn log_out(browser: &Browser) {
    browser.find(Locator::Css("details.menu > summary")).await.unwrap().click().await.unwrap();
    browser.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
    wait_for_path(browser, "/login").await;
}

async fn submit(browser: &Browser) {
    browser.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
}

/// Signs up, sees the dashboard, logs out, logs back in, opens the profile, logs out.
async fn sign_up_log_in_and_out(javascript: bool) {
    let app = TestApp::empty().await;
    let driver = start_driver().await;
    let browser = open_browser(&driver, javascript).await;
    let shot = |name: &str| format!("{}{}", name, if javascript { "" } else { "-nojs" });

    browser.goto(&format!("{}/signup", app.base)).await.unwrap();
    assert_eq!(text_of(&browser, "h1").await, "Create your workspace");
    screenshot(&browser, &shot("signup")).await;

    // A mistake first: the message appears next to the field, what was typed stays.
    fill(&browser, "#name", "Ana Silva").await;
    fill(&browser, "#email", "ana-at-example.com").await;
    fill(&browser, "#password", "correct horse battery").await;
    fill(&browser, "#org_name", "Silva & Daughters Studio").await;
    submit(&browser).await;
    wait_for_text(&browser, "#email-error", "Enter an email address like name@example.com.").await;
    screenshot(&browser, &shot("signup-error")).await;
    assert_eq!(
        browser.find(Locator::Css("#org_name")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("Silva & Daughters Studio")
    );

    fill(&browser, "#email", "ana@example.com").await;
    fill(&browser, "#password", "correct horse battery").await;
    submit(&browser).await;
    wait_for_path(&browser, "/dashboard").await;
    wait_for_text(&browser, "h1", "Good to see you, Ana").await;
    wait_for_text(&browser, ".flash", "Your workspace is ready").await;
    assert!(text_of(&browser, ".org-chip").await.contains("Silva & Daughters Studio"));
    screenshot(&browser, &shot("dashboard")).await;
    // On a phone the navigation folds away behind the menu button.
    browser.set_window_size(390, 844).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await; // the slide-out transition
    let sidebar_right_edge = |browser: Browser| async move {
        let (x, _, width, _) = browser.find(Locator::Css(".sidebar")).await.unwrap().rectangle().await.unwrap();
        x + width
    };
    assert!(sidebar_right_edge(browser.clone()).await <= 1.0, "the sidebar is off screen");
    screenshot(&browser, &shot("dashboard-phone")).await;
    browser.find(Locator::Css(".nav-toggle-label")).await.unwrap().click().await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await; // the slide-in transition
    assert!(sidebar_right_edge(browser.clone()).await > 200.0, "the menu button opens it");
    screenshot(&browser, &shot("dashboard-phone-menu")).await;
    browser.set_window_size(1400, 900).await.unwrap();

    log_out(&browser).await;
    wait_for_text(&browser, ".flash", "You have been logged out.").await;

    // A wrong password, then the right one.
    fill(&browser, "#email", "ana@example.com").await;
    fill(&browser, "#password", "wrong horse battery").await;
    submit(&browser).await;
    wait_for_text(&browser, ".form-error", "The email or password is not right.").await;
    screenshot(&browser, &shot("login-error")).await;
    fill(&browser, "#password", "correct horse battery").await;
    submit(&browser).await;
    wait_for_path(&browser, "/dashboard").await;
    wait_for_text(&browser, "h1", "Good to see you, Ana").await;

    browser.goto(&format!("{}/profile", app.base)).await.unwrap();
    wait_for_text(&browser, "#sessions", "This session").await;
    screenshot(&browser, &shot("profile")).await;

    log_out(&browser).await;
    screenshot(&browser, &shot("login")).await;
    browser.goto(&format!("{}/dashboard", app.base)).await.unwrap();
    wait_for_path(&browser, "/login").await;

    browser.close().await.unwrap();
    assert_eq!(app.count("sessions"), 0);
}

#[tokio::test]
async fn a_visitor_signs_up_logs_out_and_back_in_with_javascript() {
    sign_up_log_in_and_out(true).await;
}

#[tokio::test]
async fn a_visitor_signs_up_logs_out_and_back_in_without_javascript() {
    sign_up_log_in_and_out(false).await;
}

async fn log_in(browser: &Browser, base: &str, email: &str) {
    browser.goto(&format!("{base}/login")).await.unwrap();
    fill(browser, "#email", email).await;
    fill(browser, "#password", PASSWORD).await;
    submit(browser).await;
    wait_for_path(browser, "/dashboard").await;
}

/// The Owner invites a colleague by email; the colleague opens the emailed link,
/// signs up and lands in the organization as Admin.
#[tokio::test]
async fn an_owner_invites_a_colleague_who_signs_up_from_the_emailed_link() {
    let app = TestApp::spawn().await;
    let driver = start_driver().await;
    let browser = open_browser(&driver, true).await;
    log_in(&browser, &app.base, OWNER).await;

    browser.goto(&format!("{}/team", app.base)).await.unwrap();
    fill(&browser, "#email_or_display_id", "nina.park@example.com").await;
    browser.find(Locator::Css("#role_id")).await.unwrap().select_by_label("Admin").await.unwrap();
    browser.find(Locator::Css("form[action='/invitations/send'] button")).await.unwrap().click().await.unwrap();
    wait_for_text(&browser, ".flash", "Invitation sent to nina.park@example.com").await;
    wait_for_text(&browser, "#pending-title", "Pending invitations").await;
    screenshot(&browser, "team").await;

    // Screens an admin uses, while we are here.
    for (path, heading, name) in [
        ("/roles", "Roles", "roles"),
        ("/roles/new", "New role", "role-new"),
        ("/settings", "Settings", "settings"),
        ("/audit-logs", "Audit log", "audit-log"),
        ("/organizations", "Your organizations", "organizations"),
        ("/profile/two-factor", "Two-factor sign-in", "two-factor-setup"),
    ] {
        browser.goto(&format!("{}{path}", app.base)).await.unwrap();
        wait_for_text(&browser, "h1", heading).await;
        screenshot(&browser, name).await;
    }
    log_out(&browser).await;

    let mail = app.mail.wait_for(1).await;
    assert_eq!(mail[0].to, vec!["nina.park@example.com".to_string()]);
    let link = mail[0].link(&format!("{}/invitations/open/", app.base)).expect("the emailed link");
    browser.goto(&link).await.unwrap();
    wait_for_text(&browser, "h1", "Join Northwind Studio").await;
    screenshot(&browser, "invitation-open").await;
    fill(&browser, "#name", "Nina Park").await;
    fill(&browser, "#password", "nina's long password").await;
    submit(&browser).await;
    wait_for_path(&browser, "/dashboard").await;
    wait_for_text(&browser, ".flash", "Welcome to Northwind Studio").await;
    let chip = text_of(&browser, ".org-chip").await;
    assert!(chip.contains("Northwind Studio") && chip.contains("Admin"), "{chip}");
    screenshot(&browser, "dashboard-invited-admin").await;
    browser.close().await.unwrap();
    assert_eq!(
        app.count("memberships m JOIN users u ON u.id = m.user_id JOIN roles r ON r.id = m.role_id WHERE u.email = 'nina.park@example.com' AND r.key = 'admin'"),
        1
    );
}

/// A member logs time and stops a running timer with JavaScript off (plain forms),
/// then reads their timesheet.
#[tokio::test]
async fn a_member_logs_time_and_stops_the_timer_without_javascript() {
    let app = TestApp::spawn().await;
    let task: uuid::Uuid = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Uuid>(
            "WITH org AS (SELECT id FROM organizations WHERE name = 'Northwind Studio'),
                  p AS (INSERT INTO projects (id, org_id, title, hourly_rate)
                        SELECT gen_random_uuid(), id, 'Website relaunch', 95 FROM org RETURNING id, org_id)
             INSERT INTO tasks (id, org_id, project_id, title) SELECT gen_random_uuid(), org_id, id, 'Homepage design' FROM p
             RETURNING id",
        ),
        &mut app.conn(),
    )
    .unwrap();
    let driver = start_driver().await;
    let browser = open_browser(&driver, false).await;
    log_in(&browser, &app.base, MEMBER).await;

    browser.goto(&format!("{}/time", app.base)).await.unwrap();
    browser.find(Locator::Css("#task_id")).await.unwrap().select_by_label("Homepage design").await.unwrap();
    fill(&browser, "#minutes", "1h 30m").await;
    fill(&browser, "#note", "Hero section").await;
    browser.find(Locator::Css("form[action='/time'] button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_text(&browser, ".flash", "Logged 1h 30m on Homepage design").await;
    wait_for_text(&browser, "table", "Hero section").await;

    // A timer started elsewhere (the task page) shows here, and stops here.
    let mia = app.login(MEMBER).await;
    mia.post_form(&format!("/tasks/{task}/timer/start"), &[]).await;
    browser.goto(&format!("{}/time", app.base)).await.unwrap();
    wait_for_text(&browser, "#timer-title", "Your timer is running").await;
    screenshot(&browser, "time").await;
    browser.find(Locator::Css("form[action$='/timer/stop'] button")).await.unwrap().click().await.unwrap();
    wait_for_text(&browser, ".flash", "Timer stopped: 1m logged on Homepage design").await;

    browser.goto(&format!("{}/timesheets", app.base)).await.unwrap();
    wait_for_text(&browser, "tfoot", "1.52").await;
    screenshot(&browser, "timesheets").await;
    browser.close().await.unwrap();
}
