//! Client Hub: the client hub for agencies and service businesses.
//! `Application::build` assembles the server for `main` and for the tests alike.

pub mod audit;
pub mod auth;
pub mod bench_data;
pub mod chat;
pub mod clients;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod demo;
pub mod files;
pub mod health;
pub mod jobs;
pub mod live;
pub mod mail;
pub mod money;
pub mod notifications;
pub mod orgs;
pub mod plans;
pub mod platform;
pub mod portal;
pub mod projects;
pub mod routes;
pub mod state;
pub mod support;
pub mod tasks;
pub mod team;
pub mod time_tracking;
pub mod web;

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use actix_session::SessionMiddleware;
use actix_session::config::{PersistentSession, TtlExtensionPolicy};
use actix_web::body::MessageBody;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse, ErrorHandlers, from_fn};
use actix_web::{App, HttpMessage, HttpResponse, HttpServer};
use anyhow::Context;
use rand::RngCore;
use tracing_actix_web::TracingLogger;

use crate::auth::session_store::PgSessionStore;
use crate::config::Settings;
use crate::db::PgPool;
use crate::state::AppState;
use crate::web::rate_limit::Limiters;

/// Pages may load only this site's own scripts, styles, images and fonts, and may not be framed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

pub struct Application {
    port: u16,
    server: Server,
    /// Stops (after its current job) when the application is dropped.
    worker: Option<jobs::worker::BackgroundWorker>,
    /// Stops listening for live updates when the application is dropped.
    _listener: live::Listener,
}

impl Application {
    /// Binds the listener (port 0 picks a free one) and builds the server.
    pub fn build(settings: Settings, pool: PgPool) -> anyhow::Result<Application> {
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| format!("binding {}:{}", settings.server.host, settings.server.port))?;
        Self::build_on(listener, settings, pool)
    }

    /// The same on a listener that is already bound (tests bind port 0 first, so that
    /// APP_URL can name the real port).
    pub fn build_on(listener: TcpListener, settings: Settings, pool: PgPool) -> anyhow::Result<Application> {
        let port = listener.local_addr()?.port();
        let cookie_key = cookie_key(&settings)?;
        let limiters = Arc::new(Limiters::new(&settings.rate_limit, &settings.server.trusted_proxies)?);
        let store = PgSessionStore::new(
            pool.clone(),
            chrono::Duration::minutes(settings.security.session_idle_minutes),
            chrono::Duration::hours(settings.security.session_absolute_hours),
        );
        let workers = match settings.server.workers {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            n => n,
        };
        let worker = if settings.jobs.in_process_worker {
            let mailer = mail::Mailer::from_settings(&settings)?;
            let poll = std::time::Duration::from_millis(settings.jobs.poll_interval_ms);
            Some(jobs::worker::BackgroundWorker::spawn(jobs::worker::Worker::new(pool.clone(), mailer, poll)))
        } else {
            None
        };
        let files: Arc<dyn files::FileStore> = Arc::new(files::LocalDisk::in_data_dir(&settings.data.dir));
        let live = live::Hub::new();
        let listener_thread =
            live::spawn_listener(settings.database.direct_url().to_string(), pool.clone(), live.clone())?;
        let state = actix_web::web::Data::new(AppState { settings: Arc::new(settings), pool, cookie_key, files, live });
        let server = HttpServer::new(move || app(state.clone(), store.clone(), limiters.clone()))
            .workers(workers)
            .shutdown_timeout(20)
            .listen(listener)?
            .run();
        Ok(Application { port, server, worker, _listener: listener_thread })
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, then drains in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        drop(self.worker);
        result
    }
}

/// The whole application: middleware, static files and every domain's routes.
pub fn app(
    state: actix_web::web::Data<AppState>,
    store: PgSessionStore,
    limiters: Arc<Limiters>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let settings = state.settings.clone();
    let https = settings.https();
    let session = SessionMiddleware::builder(store, state.cookie_key.clone())
        .cookie_name(if https { "__Host-session" } else { "session" }.to_string())
        .cookie_secure(https)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_path("/".into())
        .session_lifecycle(
            PersistentSession::default()
                .session_ttl(actix_web::cookie::time::Duration::hours(settings.security.session_absolute_hours))
                .session_ttl_extension_policy(TtlExtensionPolicy::OnStateChanges),
        )
        .build();
    let mut headers = DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add(("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add(("Cross-Origin-Resource-Policy", "same-origin"))
        .add((header::CACHE_CONTROL, "no-store"));
    if https {
        headers = headers.add((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains"));
    }
    App::new()
        .app_data(state)
        .app_data(
            actix_web::web::PathConfig::default().error_handler(|_, _| crate::web::error::AppError::NotFound.into()),
        )
        .app_data(actix_web::web::QueryConfig::default().error_handler(|_, _| {
            crate::web::error::AppError::BadRequest("The address has a parameter we could not read.".into()).into()
        }))
        .route("/static/{name}", actix_web::web::get().to(crate::web::assets::serve))
        .route("/brand.css", actix_web::web::get().to(crate::web::assets::brand_css))
        .service(
            actix_web::web::scope("")
                .wrap(from_fn(crate::web::csrf::protect))
                .wrap(from_fn(crate::web::cookies::apply))
                .wrap(session)
                .wrap(actix_governor::Governor::new(&limiters.auth))
                .wrap(actix_governor::Governor::new(&limiters.write))
                .wrap(actix_governor::Governor::new(&limiters.read))
                .configure(routes::configure),
        )
        .default_service(actix_web::web::to(|| async { Err::<HttpResponse, _>(crate::web::error::AppError::NotFound) }))
        .wrap(ErrorHandlers::new().default_handler(html_error_page))
        .wrap(headers)
        .wrap(from_fn(request_id_header))
        .wrap(TracingLogger::default())
}

/// Returns the request id of the logs as `X-Request-Id`, so a user's report can be
/// matched with the server's log lines, and the server time spent on the request as
/// `Server-Timing` to the signed in (browser dev tools and the benchmarks read it): the
/// app's time and the database's share.
async fn request_id_header(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let id = req.extensions().get::<tracing_actix_web::RequestId>().map(|id| id.to_string());
    let (res, db) = crate::db::usage::scope(next.call(req)).await;
    let mut res = match res {
        Ok(res) => res,
        // A middleware (the session's) failed because PostgreSQL is away: the 503 page
        // rather than a bare 500.
        Err(_) if db.unavailable => {
            return Err(crate::web::error::AppError::Unavailable("database unreachable".into()).into());
        }
        Err(e) => return Err(e),
    };
    if let Some(value) = id.and_then(|id| header::HeaderValue::from_str(&id).ok()) {
        res.headers_mut().insert(header::HeaderName::from_static("x-request-id"), value);
    }
    // Timings only to the signed in: to anyone else, how long a sign-in or a password
    // reset took, and how many statements it sent, would tell which addresses have
    // accounts.
    let signed_in = matches!(res.request().extensions().get::<Option<crate::web::auth::Auth>>(), Some(Some(_)));
    if signed_in {
        let timing = format!(
            "app;dur={:.2}, db;dur={:.2};desc=\"{} statements\"",
            started.elapsed().as_secs_f64() * 1000.0,
            db.waited.as_secs_f64() * 1000.0,
            db.statements
        );
        if let Ok(value) = header::HeaderValue::from_str(&timing) {
            res.headers_mut().insert(header::HeaderName::from_static("server-timing"), value);
        }
    }
    Ok(res)
}

/// Gives an HTML error page to error responses that have none (a 405 from routing,
/// a 500 from a middleware), so no plain-text or empty error reaches a user.
fn html_error_page<B: MessageBody + 'static>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_html = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_html {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (req, old) = res.into_parts();
    let mut page = crate::web::error::error_response(status, None);
    // Keep headers such as Retry-After or Allow that explain the error.
    for name in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(value) = old.headers().get(&name) {
            page.headers_mut().insert(name, value.clone());
        }
    }
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, page).map_into_right_body()))
}

/// The key that signs and encrypts cookies: SECRET_KEY, else one generated once and kept
/// in DATA_DIR/secret_key (so sessions survive restarts and are shared by instances).
fn cookie_key(settings: &Settings) -> anyhow::Result<Key> {
    let configured = settings.security.secret_key.trim();
    if !configured.is_empty() {
        let bytes = hex::decode(configured).unwrap_or_else(|_| configured.as_bytes().to_vec());
        anyhow::ensure!(bytes.len() >= 64, "SECRET_KEY must be at least 64 bytes (128 hex characters)");
        return Ok(Key::from(&bytes));
    }
    let path = settings.data.dir.join("secret_key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let bytes = hex::decode(existing.trim()).context("DATA_DIR/secret_key is not hex")?;
        anyhow::ensure!(bytes.len() >= 64, "DATA_DIR/secret_key is too short");
        return Ok(Key::from(&bytes));
    }
    let mut bytes = [0u8; 64];
    rand::rng().fill_bytes(&mut bytes);
    write_private_file(&path, &hex::encode(bytes))?;
    tracing::info!(path = %path.display(), "generated a new secret key");
    Ok(Key::from(&bytes))
}

fn write_private_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

/// Sets up logging once (RUST_LOG overrides the default level).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,actix_server=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).try_init();
}
