//! The test harness: each test gets its own database cloned from a migrated template,
//! and a real server on 127.0.0.1 (port 0) talking real HTTP.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;

use clienthub::config::Settings;
use clienthub::db::{self, PgPool};
use clienthub::{Application, demo};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use reqwest::header::HeaderMap;
use sha2::{Digest, Sha256};

use crate::smtp::SmtpSink;

pub const PASSWORD: &str = demo::PASSWORD;
pub const OWNER: &str = "owner@northwind.example";
pub const ADMIN: &str = "admin@northwind.example";
pub const MEMBER: &str = "member@northwind.example";
pub const CLIENT: &str = "client@northwind.example";
pub const OTHER_OWNER: &str = "owner@othercorp.example";
/// The demo's platform owner, and a platform staff member the tests add.
pub const PLATFORM_OWNER: &str = demo::PLATFORM_OWNER.1;
pub const PLATFORM_STAFF: &str = "staff@clienthub.example";

/// The server PostgreSQL that tests create their databases on.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string())
}

fn db_url(name: &str) -> String {
    let base = server_url();
    match base.split_once('?') {
        Some((head, query)) => format!("{}/{name}?{query}", head.trim_end_matches('/')),
        None => format!("{}/{name}", base.trim_end_matches('/')),
    }
}

fn admin_conn() -> PgConnection {
    PgConnection::establish(&db_url("postgres")).expect("connect to the test PostgreSQL (see README: make test)")
}

/// A name that changes whenever a migration changes, so a stale template is never used.
fn template_name() -> String {
    let mut hasher = Sha256::new();
    let mut files: Vec<PathBuf> = walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"));
    files.sort();
    for file in files {
        hasher.update(file.to_string_lossy().as_bytes());
        hasher.update(std::fs::read(&file).unwrap_or_default());
    }
    format!("clienthub_tmpl_{}", &hex::encode(hasher.finalize())[..12])
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Creates the migrated template once (per migrations version, across processes).
fn ensure_template(admin: &mut PgConnection) -> String {
    let name = template_name();
    admin.batch_execute("SELECT pg_advisory_lock(727274)").unwrap();
    let exists: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
        "SELECT count(*) FROM pg_database WHERE datname = '{name}'"
    ))
    .get_result(admin)
    .unwrap();
    if exists == 0 {
        let building = format!("{name}_building");
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {building}")).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {building}")).unwrap();
        {
            let mut conn = PgConnection::establish(&db_url(&building)).unwrap();
            db::migrate(&mut conn).unwrap();
        }
        admin.batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}")).unwrap();
        // Templates of older migrations are of no use any more.
        let stale: Vec<String> = diesel::dsl::sql::<diesel::sql_types::Text>(&format!(
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'clienthub_tmpl_%' AND datname <> '{name}'"
        ))
        .load(admin)
        .unwrap();
        for old in stale {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {old}"));
        }
    }
    admin.batch_execute("SELECT pg_advisory_unlock(727274)").unwrap();
    name
}

use diesel::RunQueryDsl;

/// A fresh, migrated, empty database for one test.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub fn new() -> TestDb {
        let mut admin = admin_conn();
        let template = ensure_template(&mut admin);
        let name = format!("clienthub_test_{}", uuid::Uuid::new_v4().simple());
        admin.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}")).unwrap();
        TestDb { url: db_url(&name), name }
    }

    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let mut admin = admin_conn();
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

pub fn test_settings() -> Settings {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut settings = Settings::load_files(&dir, "test").unwrap();
    settings.server.port = 0;
    settings.server.host = "127.0.0.1".into();
    settings.security.secret_key = hex::encode([7u8; 64]);
    settings.data.dir = std::env::temp_dir().join(format!("clienthub-test-{}", uuid::Uuid::new_v4().simple()));
    settings
}

pub struct TestApp {
    pub base: String,
    pub pool: PgPool,
    pub settings: Settings,
    handle: actix_web::dev::ServerHandle,
    /// Every email the app sends arrives here.
    pub mail: SmtpSink,
    // Dropped last: the database goes when the test ends.
    _db: TestDb,
}

impl TestApp {
    /// A server on an empty database.
    pub async fn empty() -> TestApp {
        Self::with(|_| {}).await
    }

    /// A server whose database holds the demo agency (Owner, Admin, two Members, a Client)
    /// and a second organization of its own ("Other Corp").
    pub async fn spawn() -> TestApp {
        let app = Self::empty().await;
        app.seed();
        app
    }

    pub async fn with(configure: impl FnOnce(&mut Settings)) -> TestApp {
        let db = TestDb::new();
        let mut settings = test_settings();
        settings.database.url = db.url.clone();
        configure(&mut settings);
        let pool = db::build_pool(&db.url, &settings.database).unwrap();
        Self::start(db, settings, pool).await
    }

    /// Starts the server on its own thread with its own actix system, with its mail
    /// going to a fresh SMTP listener and APP_URL naming its real port.
    pub async fn start(db: TestDb, mut settings: Settings, pool: PgPool) -> TestApp {
        let mail = SmtpSink::start();
        if settings.mail.smtp_url.is_empty() {
            settings.mail.smtp_url = mail.url();
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        settings.server.app_url = format!("http://127.0.0.1:{port}");
        let handle = serve(listener, settings.clone(), pool.clone());
        TestApp { base: format!("http://127.0.0.1:{port}"), pool, settings, handle, mail, _db: db }
    }

    /// A second app instance on the same database (another process, as far as the app
    /// can tell): sessions, jobs and live updates go through PostgreSQL alone.
    pub fn another_instance(&self) -> Instance {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let pool = db::build_pool(&self.settings.database.url, &self.settings.database).unwrap();
        let handle = serve(listener, self.settings.clone(), pool);
        Instance { base: format!("http://127.0.0.1:{port}"), handle }
    }

    pub fn seed(&self) {
        let mut conn = self.pool.get().unwrap();
        demo::seed(&mut conn).unwrap();
        let hash = clienthub::auth::password::hash(PASSWORD).unwrap();
        match clienthub::auth::queries::sign_up(
            &mut conn,
            &Default::default(),
            "Otto Other",
            OTHER_OWNER,
            &hash,
            "Other Corp",
        ) {
            Ok(_) => {}
            Err(_) => panic!("seeding the other organization failed"),
        }
        let staff = clienthub::db::ids::UserId::new();
        clienthub::auth::queries::insert_user(&mut conn, staff, "Sam Staff", PLATFORM_STAFF, &hash, "CH-STAFF1")
            .unwrap();
        diesel::RunQueryDsl::execute(
            diesel::sql_query(format!("INSERT INTO platform_staff (user_id) VALUES ('{staff}')")),
            &mut conn,
        )
        .unwrap();
    }

    pub fn conn(&self) -> db::PgConn {
        self.pool.get().unwrap()
    }

    /// A browser-like client: keeps cookies, does not follow redirects.
    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    pub async fn login(&self, email: &str) -> Client {
        log_in(self.client(), email).await
    }

    pub async fn owner(&self) -> Client {
        self.login(OWNER).await
    }
    pub async fn admin(&self) -> Client {
        self.login(ADMIN).await
    }
    pub async fn member(&self) -> Client {
        self.login(MEMBER).await
    }

    /// A Northwind invoice (a bare draft) for time to be billed on; its id.
    pub fn northwind_invoice(&self) -> String {
        let id: uuid::Uuid = diesel::RunQueryDsl::get_result(
            diesel::dsl::sql::<diesel::sql_types::Uuid>(
                "INSERT INTO invoices (id, org_id, client_id, issue_date, due_date, currency)
                 SELECT gen_random_uuid(), c.org_id, c.id, current_date, current_date, 'EUR'
                 FROM clients c WHERE c.name = 'Hannah Weber' RETURNING id",
            ),
            &mut self.conn(),
        )
        .unwrap();
        id.to_string()
    }

    /// PostgreSQL gone, as the app sees it: its database refuses new connections and
    /// those open are closed, until [`TestApp::database_back`].
    pub fn database_away(&self) {
        admin_conn()
            .batch_execute(&format!(
                "ALTER DATABASE {0} ALLOW_CONNECTIONS false;
                 SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{0}'",
                self._db.name
            ))
            .unwrap();
    }

    pub fn database_back(&self) {
        admin_conn().batch_execute(&format!("ALTER DATABASE {} ALLOW_CONNECTIONS true", self._db.name)).unwrap();
    }

    pub fn count(&self, table: &str) -> i64 {
        let mut conn = self.conn();
        diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!("SELECT count(*) FROM {table}"))
            .get_result(&mut conn)
            .unwrap()
    }
}

/// Starts a server on its own thread with its own actix system.
fn serve(listener: std::net::TcpListener, settings: Settings, pool: PgPool) -> actix_web::dev::ServerHandle {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let system = actix_web::rt::System::new();
        system.block_on(async move {
            let app = Application::build_on(listener, settings, pool).expect("build app");
            tx.send(app.handle()).expect("report the server handle");
            let _ = app.run_until_stopped().await;
        });
    });
    rx.recv().unwrap()
}

pub struct Instance {
    pub base: String,
    handle: actix_web::dev::ServerHandle,
}

impl Instance {
    pub async fn login(&self, email: &str) -> Client {
        log_in(Client::new(&self.base), email).await
    }
}

async fn log_in(client: Client, email: &str) -> Client {
    let res = client.post_form("/login", &[("email", email), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), 303, "login of {email} should redirect");
    client
}

impl Drop for Instance {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
        let _ = std::fs::remove_dir_all(&self.settings.data.dir);
    }
}

pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
}

pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    pub fn status(&self) -> u16 {
        self.status
    }
}

impl Client {
    pub fn new(base: &str) -> Client {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Client { base: base.to_string(), http, jar }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn page(res: reqwest::Response) -> Page {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        // An event stream stays open: its status and headers are the answer.
        if headers.get("content-type").is_some_and(|t| t == "text/event-stream") {
            return Page { status, headers, body: String::new() };
        }
        let body = res.text().await.unwrap_or_default();
        Page { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::page(self.http.get(self.url(path)).send().await.unwrap()).await
    }

    /// A response's status, headers and raw bytes (a PDF, a CSV).
    pub async fn get_bytes(&self, path: &str) -> (u16, HeaderMap, Vec<u8>) {
        let res = self.http.get(self.url(path)).send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        (status, headers, res.bytes().await.unwrap_or_default().to_vec())
    }

    /// The CSRF token: the one in the page's meta tag (a public page mints it).
    pub async fn csrf(&self) -> String {
        let page = self.get("/login").await;
        let page = if page.status == 303 { self.get("/organizations").await } else { page };
        extract_meta_csrf(&page.body).expect("a page with a csrf-token meta tag")
    }

    /// Posts a form with the CSRF token, as the browser would.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts exactly these fields (no token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let res =
            self.http.post(self.url(path)).header("sec-fetch-site", "same-origin").form(fields).send().await.unwrap();
        Self::page(res).await
    }

    /// Posts a raw body with the given content type and the CSRF header.
    pub async fn post_body(&self, path: &str, content_type: &str, body: Vec<u8>) -> Page {
        let token = self.csrf().await;
        let res = self
            .http
            .post(self.url(path))
            .header("content-type", content_type)
            .header("x-csrf-token", token)
            .body(body)
            .send()
            .await
            .unwrap();
        Self::page(res).await
    }

    /// Posts a multipart form as a browser does: the CSRF token first, then `fields`, then
    /// the file (name and bytes) as `file`. Names are sent as typed, not percent-encoded.
    pub async fn post_multipart(&self, path: &str, fields: &[(&str, &str)], file: Option<(&str, Vec<u8>)>) -> Page {
        let token = self.csrf().await;
        let mut form = reqwest::multipart::Form::new().percent_encode_noop().text("csrf_token", token);
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        if let Some((file_name, bytes)) = file {
            let part = reqwest::multipart::Part::bytes(bytes)
                .file_name(file_name.to_string())
                .mime_str("application/octet-stream")
                .unwrap();
            form = form.part("file", part);
        }
        let res = self
            .http
            .post(self.url(path))
            .header("sec-fetch-site", "same-origin")
            .multipart(form)
            .send()
            .await
            .unwrap();
        Self::page(res).await
    }

    pub fn cookie_header(&self) -> String {
        use reqwest::cookie::CookieStore;
        self.jar
            .cookies(&self.base.parse().unwrap())
            .and_then(|v| v.to_str().ok().map(str::to_string))
            .unwrap_or_default()
    }
}

pub fn extract_meta_csrf(html: &str) -> Option<String> {
    let marker = "name=\"csrf-token\" content=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}
