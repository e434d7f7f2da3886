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
        // A fresh profile per browser: a second browser must not inherit the first one's session.
        format!("--user-data-dir={}", driver.profile.join(uuid::Uuid::new_v4().simple().to_string()).display()),
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
             INSERT INTO tasks (id, org_id, project_id, title, assignee_id)
             SELECT gen_random_uuid(), p.org_id, p.id, 'Homepage design', u.id
             FROM p, users u WHERE u.email = 'member@northwind.example'
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

async fn click(browser: &Browser, css: &str) {
    browser
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("no {css}"))
        .click()
        .await
        .unwrap();
}

/// The id at the end of the current path (`/projects/{id}` → id).
async fn current_id(browser: &Browser) -> String {
    let url = browser.current_url().await.unwrap();
    url.path().rsplit('/').next().unwrap().to_string()
}

/// The board column (status) a card is in, as the page shows it.
async fn column_of(browser: &Browser, card: &str) -> String {
    let column = browser
        .execute(
            "return document.getElementById(arguments[0]).closest('ol.cards').dataset.status;",
            vec![serde_json::json!(card)],
        )
        .await
        .unwrap();
    column.as_str().unwrap_or_default().to_string()
}

/// Staff run a project end to end in a real browser: a client, a project for it,
/// tasks and a subtask, a card dragged across the board (and moved again with
/// JavaScript off), a comment that mentions a teammate, a file uploaded and downloaded.
#[tokio::test]
async fn staff_run_a_project_from_client_to_board_to_files() {
    let app = TestApp::spawn().await;
    let driver = start_driver().await;
    let browser = open_browser(&driver, true).await;
    log_in(&browser, &app.base, OWNER).await;

    // A client.
    browser.goto(&format!("{}/clients/new", app.base)).await.unwrap();
    fill(&browser, "#name", "Ada Lovelace").await;
    fill(&browser, "#company", "Analytical Engines Ltd").await;
    fill(&browser, "#email", "ada@engines.example").await;
    click(&browser, "main form button[type=submit]").await;
    wait_for_text(&browser, "h1", "Ada Lovelace").await;
    wait_for_text(&browser, ".flash", "Ada Lovelace has been added").await;

    // A project for that client, from the client's page.
    click(&browser, "a[href^='/projects/new?client_id=']").await;
    wait_for_text(&browser, "h1", "New project").await;
    fill(&browser, "#title", "Difference engine website").await;
    fill(&browser, "#budget", "12500").await;
    click(&browser, "main form button[type=submit]").await;
    wait_for_text(&browser, "h1", "Difference engine website").await;
    let project = current_id(&browser).await;
    assert!(text_of(&browser, ".crumbs").await.contains("Ada Lovelace"));

    // Three tasks, then a subtask of the first.
    for title in ["Write the copy", "Draw the diagrams", "Set up hosting"] {
        browser.goto(&format!("{}/tasks/new?project_id={project}", app.base)).await.unwrap();
        wait_for_text(&browser, "h1", "New task").await;
        fill(&browser, "#title", title).await;
        browser.find(Locator::Css("#assignee_id")).await.unwrap().select_by_label("Mia Laurent").await.unwrap();
        click(&browser, "main form button[type=submit]").await;
        wait_for_text(&browser, "h1", title).await;
    }
    browser.goto(&format!("{}/projects/{project}/board", app.base)).await.unwrap();
    browser.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css("[data-board-ready]")).await.unwrap();
    browser.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css("[data-board-ready]")).await.unwrap();
    click(&browser, ".task-card a[href^='/tasks/']").await;
    wait_for_text(&browser, "h1", "Write the copy").await;
    let first = current_id(&browser).await;
    fill(&browser, "#subtask-title", "Proof-read the copy").await;
    click(&browser, ".add-subtask button").await;
    wait_for_text(&browser, "#subtasks", "Proof-read the copy").await;
    wait_for_text(&browser, "#subtasks h2", "0/1 done").await;

    // A comment that mentions Mia.
    fill(&browser, "#body", "@Mia Laurent could you review the <em>tone</em>?").await;
    click(&browser, "form[action$='/comments'] button").await;
    wait_for_text(&browser, "#comments", "could you review the <em>tone</em>?").await;
    screenshot(&browser, "task").await;
    assert_eq!(app.count("notifications WHERE kind = 'mention'"), 1);

    // Drag the first card from To do to Review.
    browser.goto(&format!("{}/projects/{project}/board", app.base)).await.unwrap();
    browser.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css("[data-board-ready]")).await.unwrap();
    let card = browser.find(Locator::Id(&format!("task-{first}"))).await.unwrap();
    let target = browser.find(Locator::Css("ol.cards[data-status='review']")).await.unwrap();
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
    let drag = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement { element: card.clone(), duration: None, x: 0.0, y: -20.0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::MoveBy { duration: Some(Duration::from_millis(200)), x: 10.0, y: 10.0 })
        .then(PointerAction::MoveToElement {
            element: target.clone(),
            duration: Some(Duration::from_millis(400)),
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Pause { duration: Duration::from_millis(200) })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    browser.perform_actions(drag).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.count(&format!("tasks WHERE id = '{first}' AND status = 'review'")) == 0 {
        assert!(Instant::now() < deadline, "the drop was saved");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(column_of(&browser, &format!("task-{first}")).await, "review");
    screenshot(&browser, "board").await;
    // After a reload the card is still there.
    browser.refresh().await.unwrap();
    browser.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css("[data-board-ready]")).await.unwrap();
    assert_eq!(column_of(&browser, &format!("task-{first}")).await, "review");

    // A file, uploaded on the project page and downloaded again.
    let upload = std::env::temp_dir().join(format!("brief-{}.txt", uuid::Uuid::new_v4().simple()));
    std::fs::write(&upload, "Brief: twenty pages, three diagrams.\n").unwrap();
    browser.goto(&format!("{}/projects/{project}", app.base)).await.unwrap();
    browser
        .find(Locator::Css("#files input[type=file]"))
        .await
        .unwrap()
        .send_keys(&upload.to_string_lossy())
        .await
        .unwrap();
    click(&browser, "#files form[action='/files'] button[type=submit]").await;
    wait_for_text(&browser, "#files", upload.file_name().unwrap().to_str().unwrap()).await;
    screenshot(&browser, "project").await;
    browser.execute("document.getElementById('files').scrollIntoView()", vec![]).await.unwrap();
    screenshot(&browser, "project-files").await;
    let href =
        browser.find(Locator::Css("#files a[href$='/download']")).await.unwrap().attr("href").await.unwrap().unwrap();
    let res = with_session(&browser, &format!("{}{href}", app.base)).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(res.text().await.unwrap(), "Brief: twenty pages, three diagrams.\n");
    let _ = std::fs::remove_file(&upload);

    browser.goto(&format!("{}/clients", app.base)).await.unwrap();
    wait_for_text(&browser, "h1", "Clients").await;
    screenshot(&browser, "clients").await;
    browser.close().await.unwrap();

    // The same board without JavaScript: the column select moves the card.
    let plain = open_browser(&driver, false).await;
    log_in(&plain, &app.base, OWNER).await;
    plain.goto(&format!("{}/projects/{project}/board", app.base)).await.unwrap();
    let second: String = diesel::RunQueryDsl::get_result::<uuid::Uuid>(
        diesel::dsl::sql::<diesel::sql_types::Uuid>("SELECT id FROM tasks WHERE title = 'Draw the diagrams'"),
        &mut app.conn(),
    )
    .unwrap()
    .to_string();
    plain.find(Locator::Css(&format!("#move-{second}"))).await.unwrap().select_by_value("done").await.unwrap();
    click(&plain, &format!("#task-{second} form.move-to button")).await;
    wait_for_text(&plain, ".flash", "Moved to Done").await;
    assert_eq!(column_of(&plain, &format!("task-{second}")).await, "done");
    screenshot(&plain, "board-nojs").await;
    plain.close().await.unwrap();
    assert_eq!(
        app.count(&format!("tasks WHERE project_id = '{project}' AND status = 'done' AND completed_at IS NOT NULL")),
        1
    );
}

/// Sets the browser to answer every confirm() dialog with OK (destructive buttons ask).
/// A GET with the browser's own session cookie (downloads, which headless Chromium
/// would save to disk).
async fn with_session(browser: &Browser, url: &str) -> reqwest::Response {
    let session = browser.get_all_cookies().await.unwrap();
    let cookie: Vec<String> = session.iter().map(|c| format!("{}={}", c.name(), c.value())).collect();
    reqwest::Client::new().get(url).header("cookie", cookie.join("; ")).send().await.unwrap()
}

async fn accept_confirms(browser: &Browser) {
    browser.execute("window.confirm = function () { return true; };", vec![]).await.unwrap();
}

/// Renders each page of a PDF to PNG in SCREENSHOT_DIR, to look at.
fn pdf_screenshots(pdf: &[u8], name: &str) {
    if let Some(dir) = std::env::var_os("SCREENSHOT_DIR") {
        std::fs::create_dir_all(&dir).unwrap();
        let file = std::path::Path::new(&dir).join(format!("{name}.pdf"));
        std::fs::write(&file, pdf).unwrap();
        let _ = Command::new("pdftoppm")
            .args(["-r", "80", "-png"])
            .arg(&file)
            .arg(std::path::Path::new(&dir).join(name))
            .status();
    }
}

/// Money end to end in a real browser: taxes, a quotation of three lines with live
/// totals, sent by email with its PDF, converted into an invoice that is issued,
/// paid in two parts, and downloaded as a PDF whose text shows the number and totals.
#[tokio::test]
async fn an_owner_quotes_invoices_and_is_paid() {
    let app = TestApp::spawn().await;
    let driver = start_driver().await;
    let browser = open_browser(&driver, true).await;
    log_in(&browser, &app.base, OWNER).await;

    browser.goto(&format!("{}/taxes", app.base)).await.unwrap();
    for (name, rate) in [("VAT", "20"), ("Reduced", "5.5")] {
        fill(&browser, "#name", name).await;
        fill(&browser, "#rate", rate).await;
        click(&browser, "form[action='/taxes'] button[type=submit]").await;
        wait_for_text(&browser, ".flash", &format!("{name} has been added.")).await;
    }
    screenshot(&browser, "taxes").await;
    let tax = |name: &str| {
        diesel::RunQueryDsl::get_result::<uuid::Uuid>(
            diesel::dsl::sql::<diesel::sql_types::Uuid>(&format!("SELECT id FROM taxes WHERE name = '{name}'")),
            &mut app.conn(),
        )
        .unwrap()
        .to_string()
    };
    let (vat, reduced) = (tax("VAT"), tax("Reduced"));
    let hannah: uuid::Uuid = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Uuid>("SELECT id FROM clients WHERE name = 'Hannah Weber'"),
        &mut app.conn(),
    )
    .unwrap();

    // A quotation of three lines; rows are added in place and totals follow the typing.
    browser.goto(&format!("{}/quotations/new?client_id={hannah}", app.base)).await.unwrap();
    wait_for_text(&browser, "h1", "New quotation").await;
    let lines = [
        ("Brand strategy workshop", "1", "1800", vat.as_str()),
        ("Logo design — three concepts", "2", "1250.50", vat.as_str()),
        ("Café print run, 500 flyers", "500", "0.355", reduced.as_str()),
    ];
    for (i, (description, quantity, price, tax)) in lines.iter().enumerate() {
        if i > 0 {
            click(&browser, "button[name=op][value=add]").await;
            browser
                .wait()
                .at_most(Duration::from_secs(30))
                .for_element(Locator::Css(&format!("#item-{i}-description")))
                .await
                .unwrap();
        }
        fill(&browser, &format!("#item-{i}-description"), description).await;
        fill(&browser, &format!("#item-{i}-quantity"), quantity).await;
        fill(&browser, &format!("#item-{i}-unit_price"), price).await;
        browser.find(Locator::Css(&format!("#item-{i}-tax_id"))).await.unwrap().select_by_value(tax).await.unwrap();
    }
    fill(&browser, "#currency", "EUR").await;
    fill(&browser, "#terms", "Half on acceptance, half on delivery.").await;
    // 1,800.00 + 2,501.00 + 177.50 = 4,478.50; VAT 20% of 4,301.00 = 860.20; 5.5% of 177.50 = 9.76.
    wait_for_text(&browser, "#totals", "5,348.46 EUR").await;
    wait_for_text(&browser, "#amount-2", "177.50").await;
    screenshot(&browser, "quotation-editor").await;
    click(&browser, "button[name=op][value=save]").await;
    wait_for_text(&browser, ".flash", "The draft quotation has been saved.").await;
    let quotation = current_id(&browser).await;

    // Sent: issued with its number, emailed with the PDF attached.
    accept_confirms(&browser).await;
    click(&browser, &format!("form[action='/quotations/{quotation}/send'] button")).await;
    wait_for_text(&browser, ".flash", "is on its way to hannah@weber-bau.example").await;
    let (quo, inv) = (crate::money::numbered("QUO", 1), crate::money::numbered("INV", 1));
    wait_for_text(&browser, "h1", &quo).await;
    screenshot(&browser, "quotation").await;
    let mail = app.mail.wait_for(1).await;
    assert!(mail[0].subject().contains(&format!("Quotation {quo}")));
    let attached = mail[0].attachment(&format!("{quo}.pdf")).expect("the quotation's PDF is attached");
    let printed = crate::money::pdf_text(&attached);
    assert!(printed.contains(&quo) && printed.contains("5,348.46 EUR"), "{printed}");
    pdf_screenshots(&attached, "quotation-pdf");

    // Converted into an invoice draft, which is issued.
    click(&browser, &format!("form[action='/quotations/{quotation}/convert'] button")).await;
    wait_for_text(&browser, ".flash", "converted into this draft invoice").await;
    let invoice = current_id(&browser).await;
    wait_for_text(&browser, "aside.stack", &quo).await;
    accept_confirms(&browser).await;
    click(&browser, &format!("form[action='/invoices/{invoice}/issue'] button")).await;
    wait_for_text(&browser, ".flash", &format!("Invoice {inv} has been issued.")).await;

    // Paid in two parts.
    fill(&browser, "#pay-amount", "2000").await;
    click(&browser, &format!("form[action='/invoices/{invoice}/payments'] button")).await;
    wait_for_text(&browser, ".flash", "3,348.46 EUR remains to be paid").await;
    // The form offers the balance; paying it settles the invoice.
    click(&browser, &format!("form[action='/invoices/{invoice}/payments'] button")).await;
    wait_for_text(&browser, ".flash", &format!("{inv} is paid in full")).await;
    wait_for_text(&browser, "h1", "Paid").await;
    screenshot(&browser, "invoice").await;

    // The PDF, downloaded with the browser's session.
    let res = with_session(&browser, &format!("{}/invoices/{invoice}/pdf", app.base)).await;
    assert_eq!(res.status(), 200);
    let pdf = res.bytes().await.unwrap().to_vec();
    let printed = crate::money::pdf_text(&pdf);
    for expected in [
        inv.as_str(),
        "Café print run, 500 flyers",
        "VAT 20% on 4,301.00",
        "860.20 EUR",
        "Reduced 5.5% on 177.50",
        "9.76 EUR",
        "4,478.50 EUR",
        "5,348.46 EUR",
        "PAID",
    ] {
        assert!(printed.contains(expected), "the invoice PDF shows {expected:?}:\n{printed}");
    }
    pdf_screenshots(&pdf, "invoice-pdf");

    browser.goto(&format!("{}/invoices", app.base)).await.unwrap();
    wait_for_text(&browser, "h1", "Invoices").await;
    screenshot(&browser, "invoices").await;
    browser.close().await.unwrap();
}

/// A client signs in, lands on their portal, opens the quotation waiting for them and
/// accepts it; the staff member who sent it gets a notification.
#[tokio::test]
async fn a_client_opens_the_emailed_link_downloads_the_invoice_and_accepts_the_quotation() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let one = |sql: &str| crate::money::one(&app, sql);
    let (chloe, hannah) = (one("SELECT id FROM clients WHERE name = 'Chloé Durand'"), one(crate::money::HANNAH));
    let draft = |client: String,
                 kind: &'static str,
                 lines: &'static [(&'static str, &'static str, &'static str, &'static str)]| {
        let owner = &owner;
        async move {
            let end = if kind == "/invoices" { "due_date" } else { "valid_until" };
            let res = crate::money::save_document(owner, kind, &client, end, lines, &[]).await;
            res.location().unwrap().rsplit('/').next().unwrap().to_string()
        }
    };
    // Hannah's invoice is issued first (…-0001): Chloé must never see it.
    let hannahs = draft(hannah, "/invoices", &[("Brand workshop", "1", "900", "")]).await;
    assert_eq!(owner.post_form(&format!("/invoices/{hannahs}/issue"), &[]).await.status, 303);
    let invoice = draft(chloe.clone(), "/invoices", &[("Shop launch support", "12", "95", "")]).await;
    let quotation = draft(
        chloe,
        "/quotations",
        &[
            ("Shop redesign: templates and checkout", "1", "7200", ""),
            ("Product photography, 40 items", "40", "35", ""),
        ],
    )
    .await;

    // The owner sends both from their pages.
    let driver = start_driver().await;
    let staff = open_browser(&driver, true).await;
    log_in(&staff, &app.base, OWNER).await;
    for (kind, id) in [("invoices", &invoice), ("quotations", &quotation)] {
        staff.goto(&format!("{}/{kind}/{id}", app.base)).await.unwrap();
        accept_confirms(&staff).await;
        click(&staff, &format!("form[action='/{kind}/{id}/send'] button")).await;
        wait_for_text(&staff, ".flash", "chloe@durand.example").await;
    }
    let mail = app.mail.wait_for(2).await;
    let invoice_mail = mail.iter().find(|m| m.subject().contains(&crate::money::numbered("INV", 2))).unwrap();
    let link = invoice_mail.link(&format!("{}/p/", app.base)).expect("the emailed link");
    // The owner waits on the dashboard.
    staff.goto(&format!("{}/dashboard", app.base)).await.unwrap();
    wait_for_text(&staff, "h1", "Good to see you").await;

    // Chloé opens the link in a fresh browser: signed in, on her invoice.
    let client = open_browser(&driver, true).await;
    client.goto(&link).await.unwrap();
    wait_for_path(&client, &format!("/portal/invoices/{invoice}")).await;
    wait_for_text(&client, "h1", &crate::money::numbered("INV", 2)).await;
    wait_for_text(&client, "main", "1,140.00").await;
    screenshot(&client, "portal-invoice").await;
    let res = with_session(&client, &format!("{}/portal/invoices/{invoice}/pdf", app.base)).await;
    assert_eq!(res.status(), 200);
    let printed = crate::money::pdf_text(&res.bytes().await.unwrap());
    assert!(printed.contains(&crate::money::numbered("INV", 2)) && printed.contains("1,140.00"));
    // Only her own documents.
    click(&client, "nav a[href='/portal']").await;
    wait_for_text(&client, "#quotations-title", "Quotations awaiting your answer").await;
    screenshot(&client, "portal").await;
    let summary = text_of(&client, "main").await;
    assert!(!summary.contains(&crate::money::numbered("INV", 1)), "not Hannah's invoice");
    client.goto(&format!("{}/portal/invoices/{hannahs}", app.base)).await.unwrap();
    wait_for_text(&client, "h1", "Page not found").await;
    // She accepts the quotation.
    client.goto(&format!("{}/portal/quotations/{quotation}", app.base)).await.unwrap();
    wait_for_text(&client, "#answer-title", "Your answer").await;
    screenshot(&client, "portal-quotation").await;
    click(&client, &format!("form[action='/portal/quotations/{quotation}/accept'] button")).await;
    wait_for_text(&client, ".flash", "is accepted").await;
    wait_for_text(&client, "h1", "Accepted").await;
    client.close().await.unwrap();

    // The owner's bell rings where they are, without a reload; they open it.
    wait_for_text(&staff, ".bell-count", "1").await;
    assert_eq!(staff.current_url().await.unwrap().path(), "/dashboard");
    click(&staff, "a.bell").await;
    wait_for_text(&staff, ".notifications", "Chloé Durand accepted quotation").await;
    screenshot(&staff, "notifications").await;
    click(&staff, ".notifications button.link-button").await;
    wait_for_path(&staff, &format!("/quotations/{quotation}")).await;
    wait_for_text(&staff, "h1", "Accepted").await;
    staff.close().await.unwrap();
}

/// Two people chat live, each through a different app instance on the same database:
/// what one sends appears at once in the other's browser, once.
#[tokio::test]
async fn two_people_chat_live_across_two_app_instances() {
    let app = TestApp::spawn().await;
    let other = app.another_instance();
    let driver = start_driver().await;
    let olivia = open_browser(&driver, true).await;
    log_in(&olivia, &app.base, OWNER).await;
    olivia.goto(&format!("{}/chat", app.base)).await.unwrap();
    wait_for_text(&olivia, ".chat-main", "No channel open").await;
    fill(&olivia, "#channel-name", "launch").await;
    click(&olivia, ".new-channel button").await;
    wait_for_text(&olivia, "#channel-title", "# launch").await;

    let mia = open_browser(&driver, true).await;
    log_in(&mia, &other.base, MEMBER).await;
    click(&mia, "nav a[href='/chat']").await;
    wait_for_text(&mia, "#channel-title", "# launch").await;

    fill(&olivia, "#chat-body", "Launch is on Friday at <b>9:00</b>.").await;
    click(&olivia, "#composer button").await;
    wait_for_text(&mia, "#messages", "Launch is on Friday at <b>9:00</b>.").await;
    // Mia answers with Enter.
    fill(&mia, "#chat-body", "Great, I will prepare the checklist.\u{E007}").await;
    wait_for_text(&olivia, "#messages", "I will prepare the checklist").await;
    wait_for_text(&mia, "#messages", "I will prepare the checklist").await;
    screenshot(&olivia, "chat").await;
    for browser in [&olivia, &mia] {
        let shown = browser.find_all(Locator::Css("#messages [data-seq]")).await.unwrap().len();
        assert_eq!(shown, 2, "each message once");
    }
    assert_eq!(app.count("chat_messages"), 2);
    olivia.close().await.unwrap();
    mia.close().await.unwrap();
}

/// The invoice editor without JavaScript: rows are added and totals updated by plain
/// form posts, and the draft is saved.
#[tokio::test]
async fn an_invoice_is_written_without_javascript() {
    let app = TestApp::spawn().await;
    let driver = start_driver().await;
    let plain = open_browser(&driver, false).await;
    log_in(&plain, &app.base, OWNER).await;
    let hannah = crate::money::one(&app, "SELECT id FROM clients WHERE name = 'Hannah Weber'");
    plain.goto(&format!("{}/invoices/new?client_id={hannah}", app.base)).await.unwrap();
    wait_for_text(&plain, "h1", "New invoice").await;
    fill(&plain, "#item-0-description", "Workshop").await;
    fill(&plain, "#item-0-unit_price", "1200").await;
    click(&plain, "button[name=op][value=add]").await;
    plain.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css("#item-1-description")).await.unwrap();
    assert_eq!(
        plain.find(Locator::Css("#item-0-description")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("Workshop"),
        "what was typed stays"
    );
    fill(&plain, "#item-1-description", "Follow-up call").await;
    fill(&plain, "#item-1-quantity", "1.5").await;
    fill(&plain, "#item-1-unit_price", "90").await;
    click(&plain, "button[name=op][value=recalc]").await;
    wait_for_text(&plain, "#totals", "1,335.00").await;
    screenshot(&plain, "invoice-editor-nojs").await;
    click(&plain, "button[name=op][value=save]").await;
    wait_for_text(&plain, ".flash", "The draft invoice has been saved.").await;
    wait_for_text(&plain, ".paper", "1,335.00").await;
    plain.close().await.unwrap();
}

/// A platform owner finds an organization and suspends it; its member, mid-session in
/// another browser, is locked out at their next click. Screenshots of /platform.
#[tokio::test]
async fn a_platform_owner_suspends_an_organization_and_its_member_is_locked_out() {
    let app = TestApp::spawn().await;
    clienthub::demo::seed_documents(&mut app.conn()).unwrap();
    let driver = start_driver().await;
    let mia = open_browser(&driver, true).await;
    log_in(&mia, &app.base, MEMBER).await;
    // Someone waits for an answer from support.
    app.login(MEMBER)
        .await
        .post_form("/support", &[("body", "Can we get a second workspace for our Berlin office?")])
        .await;

    let root = open_browser(&driver, true).await;
    root.goto(&format!("{}/login", app.base)).await.unwrap();
    fill(&root, "#email", PLATFORM_OWNER).await;
    fill(&root, "#password", PASSWORD).await;
    submit(&root).await;
    wait_for_path(&root, "/platform").await;
    wait_for_text(&root, "main", "Documents issued").await;
    screenshot(&root, "platform-overview").await;
    for (path, name) in [
        ("/platform/subscriptions", "platform-subscriptions"),
        ("/platform/feature-flags", "platform-flags"),
        ("/platform/support", "platform-support"),
        ("/platform/users", "platform-users"),
        ("/platform/team", "platform-team"),
        ("/platform/audit-logs", "platform-audit"),
    ] {
        root.goto(&format!("{}{path}", app.base)).await.unwrap();
        wait_for_path(&root, path).await;
        screenshot(&root, name).await;
    }
    click(&root, "nav a[href='/platform/organizations']").await;
    wait_for_path(&root, "/platform/organizations").await;
    fill(&root, "#q", "Northwind").await;
    click(&root, "form[role=search] button").await;
    wait_for_text(&root, "table", "Northwind Studio").await;
    screenshot(&root, "platform-organizations").await;
    click(&root, "button[aria-label='Suspend Northwind Studio']").await;
    wait_for_text(&root, ".flash", "Northwind Studio is suspended").await;
    wait_for_text(&root, "table", "Suspended").await;

    // Mia's next click meets the suspension, not her projects.
    click(&mia, "nav a[href='/projects']").await;
    wait_for_text(&mia, "body", "This organization has been suspended").await;
    screenshot(&mia, "organization-suspended").await;
    let status = with_session(&mia, &format!("{}/dashboard", app.base)).await.status();
    assert_eq!(status, 403);
    click(&mia, "a[href='/support']").await;
    wait_for_text(&mia, "main", "Can we get a second workspace").await;
    screenshot(&mia, "support").await;

    click(&root, "button[aria-label='Reactivate Northwind Studio']").await;
    wait_for_text(&root, ".flash", "active again").await;
    mia.goto(&format!("{}/dashboard", app.base)).await.unwrap();
    wait_for_text(&mia, "main", "Here is what is happening at Northwind Studio").await;
    root.close().await.unwrap();
    mia.close().await.unwrap();
}

/// A member of an organization at its plan's project limit creates a project without
/// JavaScript and meets the 402 page, which names the limit and the way to upgrade.
/// Screenshot of the owner's dashboard with its meters and chart.
#[tokio::test]
async fn a_member_at_the_plan_limit_sees_what_the_plan_allows_and_how_to_upgrade() {
    let app = TestApp::spawn().await;
    clienthub::demo::seed_documents(&mut app.conn()).unwrap();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(
            "WITH org AS (SELECT id FROM organizations WHERE name = 'Northwind Studio')
             INSERT INTO projects (id, org_id, title)
             SELECT gen_random_uuid(), org.id, 'Retainer ' || g
             FROM org, generate_series(1, 10 - (SELECT count(*) FROM projects WHERE org_id = (SELECT id FROM org))::int) g",
        ),
        &mut app.conn(),
    )
    .unwrap();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(
            "UPDATE subscriptions SET plan = 'free' WHERE org_id = (SELECT id FROM organizations WHERE name = 'Northwind Studio')",
        ),
        &mut app.conn(),
    )
    .unwrap();
    let driver = start_driver().await;
    let owner = open_browser(&driver, true).await;
    log_in(&owner, &app.base, OWNER).await;
    wait_for_text(&owner, "main", "Free plan").await;
    screenshot(&owner, "dashboard-analytics").await;
    owner.close().await.unwrap();

    let mia = open_browser(&driver, false).await;
    log_in(&mia, &app.base, MEMBER).await;
    mia.goto(&format!("{}/projects/new", app.base)).await.unwrap();
    fill(&mia, "#title", "One too many").await;
    click(&mia, "main form button[type=submit]").await;
    wait_for_text(&mia, "h1", "Plan limit reached").await;
    let text = text_of(&mia, "main").await;
    assert!(text.contains("Free plan, which includes 10 projects"), "{text}");
    screenshot(&mia, "plan-limit").await;
    click(&mia, "a[href='/support?topic=upgrade']").await;
    wait_for_path(&mia, "/support").await;
    let body = mia.find(Locator::Css("#body")).await.unwrap().prop("value").await.unwrap().unwrap_or_default();
    assert!(body.contains("upgrade Northwind Studio"), "{body}");
    assert_eq!(app.count("projects WHERE title = 'One too many'"), 0, "nothing was created");
    mia.close().await.unwrap();
}
