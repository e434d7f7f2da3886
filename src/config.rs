//! Typed settings: `config/default.toml`, then `config/{CLIENTHUB_ENV}.toml`,
//! then `CLIENTHUB__SECTION__KEY`, then the conventional variables (DATABASE_URL, …).

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub data: DataSettings,
    pub security: SecuritySettings,
    pub rate_limit: RateLimitSettings,
    pub mail: MailSettings,
    pub jobs: JobSettings,
    pub demo: DemoSettings,
    pub files: FileSettings,
    pub portal: PortalSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FileSettings {
    /// The largest upload accepted; a larger one is stopped as soon as it passes this.
    pub max_upload_bytes: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct JobSettings {
    /// Run a job worker inside `clienthub serve`.
    pub in_process_worker: bool,
    pub poll_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub app_url: String,
    pub workers: usize,
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
    pub statement_timeout_ms: u64,
    pub connect_timeout_secs: u64,
    /// PostgreSQL itself, for what needs a session of its own (migrations under their
    /// lock, the live-update listener's LISTEN) when `url` goes through pgbouncer.
    /// Empty: `url`.
    #[serde(default)]
    pub direct_url: String,
    /// Whether connections keep prepared statements; off behind a pgbouncer older than
    /// 1.21 in transaction mode, which cannot carry them between server connections.
    #[serde(default = "yes")]
    pub statement_cache: bool,
}

fn yes() -> bool {
    true
}

impl DatabaseSettings {
    pub fn direct_url(&self) -> &str {
        if self.direct_url.is_empty() { &self.url } else { &self.direct_url }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct DataSettings {
    pub dir: PathBuf,
}

#[derive(Clone, Deserialize)]
pub struct SecuritySettings {
    pub secret_key: String,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    pub max_form_bytes: usize,
}

// Secrets are never printed.
impl std::fmt::Debug for SecuritySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecuritySettings")
            .field("secret_key", &"<redacted>")
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("session_absolute_hours", &self.session_absolute_hours)
            .field("max_form_bytes", &self.max_form_bytes)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct RateLimitSettings {
    pub auth_per_minute: u64,
    pub auth_burst: u32,
    pub write_per_second: u64,
    pub write_burst: u32,
    pub read_per_second: u64,
    pub read_burst: u32,
}

#[derive(Clone, Deserialize)]
pub struct MailSettings {
    pub smtp_url: String,
    pub from: String,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("smtp_url", &if self.smtp_url.is_empty() { "" } else { "<set>" })
            .field("from", &self.from)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct PortalSettings {
    /// How long an emailed document link signs its client in.
    pub link_days: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DemoSettings {
    pub seed_on_first_start: bool,
}

/// The conventional variables, which override every other layer.
const CONVENTIONAL_VARIABLES: &[(&str, &str)] = &[
    ("DATABASE_URL", "database.url"),
    ("HOST", "server.host"),
    ("PORT", "server.port"),
    ("APP_URL", "server.app_url"),
    ("SMTP_URL", "mail.smtp_url"),
    ("DATA_DIR", "data.dir"),
    ("SECRET_KEY", "security.secret_key"),
];

impl Settings {
    /// Loads the layered settings from `config_dir` and the process environment.
    pub fn load(config_dir: &Path) -> anyhow::Result<Settings> {
        let env = std::env::var("CLIENTHUB_ENV").unwrap_or_else(|_| "development".into());
        Self::load_layers(config_dir, &env, true)
    }

    /// The files of `env` only, without the process environment (for tests).
    pub fn load_files(config_dir: &Path, env: &str) -> anyhow::Result<Settings> {
        Self::load_layers(config_dir, env, false)
    }

    fn load_layers(config_dir: &Path, env: &str, use_environment: bool) -> anyhow::Result<Settings> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from(config_dir.join("default.toml")))
            .add_source(config::File::from(config_dir.join(format!("{env}.toml"))).required(false));
        if use_environment {
            builder = builder.add_source(
                config::Environment::with_prefix("CLIENTHUB")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    .list_separator(",")
                    .with_list_parse_key("server.trusted_proxies"),
            );
        }
        let conventional = if use_environment { CONVENTIONAL_VARIABLES } else { &[] };
        for (var, key) in conventional {
            if let Ok(value) = std::env::var(var) {
                builder = builder.set_override(*key, value)?;
            }
        }
        let settings: Settings = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .with_context(|| format!("reading settings from {}", config_dir.display()))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.server.app_url.starts_with("http://") || self.server.app_url.starts_with("https://"),
            "server.app_url (APP_URL) must start with http:// or https://"
        );
        anyhow::ensure!(self.database.pool_size > 0, "database.pool_size must be positive");
        anyhow::ensure!(self.files.max_upload_bytes > 0, "files.max_upload_bytes must be positive");
        Ok(())
    }

    /// Cookies get `Secure` and the `__Host-` prefix when the app is served over https.
    pub fn https(&self) -> bool {
        self.server.app_url.starts_with("https://")
    }

    /// The public base URL without a trailing slash.
    pub fn app_url(&self) -> &str {
        self.server.app_url.trim_end_matches('/')
    }
}
