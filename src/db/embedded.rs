//! A private PostgreSQL for `make run` without DATABASE_URL: the system's own
//! binaries (initdb, pg_ctl) run a cluster under DATA_DIR/postgres that listens
//! only on a Unix socket inside that directory, and is stopped when the app exits.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use diesel::{Connection, PgConnection, RunQueryDsl};

const DB_USER: &str = "clienthub";
const DB_NAME: &str = "clienthub";
/// Unix socket paths are limited to about 107 bytes.
const MAX_SOCKET_DIR_LEN: usize = 90;

pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    pgdata: PathBuf,
    /// PostgreSQL refuses to run as root; as root it runs as this system user.
    run_as: Option<&'static str>,
    pub url: String,
}

impl EmbeddedPostgres {
    /// Initializes the cluster on first use, starts it and creates the app's database.
    pub fn start(data_dir: &Path) -> anyhow::Result<EmbeddedPostgres> {
        let bin_dir = find_bin_dir()?;
        std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let pgdata = data_dir.canonicalize()?.join("postgres");
        let socket_dir = pgdata.to_string_lossy().into_owned();
        if socket_dir.len() > MAX_SOCKET_DIR_LEN {
            bail!("DATA_DIR path is too long for a Unix socket ({socket_dir}); use a shorter DATA_DIR");
        }
        let run_as = if running_as_root()? { Some("postgres") } else { None };
        let pg = EmbeddedPostgres {
            url: format!("postgresql://{DB_USER}@/{DB_NAME}?host={socket_dir}"),
            bin_dir,
            pgdata,
            run_as,
        };
        pg.init_if_needed()?;
        pg.start_server()?;
        pg.create_database()?;
        Ok(pg)
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin_dir.join(program);
        match self.run_as {
            Some(user) => {
                let mut cmd = Command::new("runuser");
                cmd.arg("-u").arg(user).arg("--").arg(path);
                cmd
            }
            None => Command::new(path),
        }
    }

    fn run(&self, mut cmd: Command, what: &str) -> anyhow::Result<()> {
        let output = cmd.output().with_context(|| format!("running {what}"))?;
        if !output.status.success() {
            bail!(
                "{what} failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    fn init_if_needed(&self) -> anyhow::Result<()> {
        if self.pgdata.join("PG_VERSION").exists() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.pgdata)?;
        if let Some(user) = self.run_as {
            self.run(
                {
                    let mut c = Command::new("chown");
                    c.arg("-R").arg(format!("{user}:")).arg(&self.pgdata);
                    c
                },
                "chown of the PostgreSQL data directory",
            )?;
        }
        tracing::info!(pgdata = %self.pgdata.display(), "initializing a private PostgreSQL cluster");
        let mut cmd = self.command("initdb");
        cmd.arg("-D").arg(&self.pgdata).args([
            "-U",
            DB_USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        ]);
        self.run(cmd, "initdb")
    }

    fn start_server(&self) -> anyhow::Result<()> {
        let mut status = self.command("pg_ctl");
        status.arg("-D").arg(&self.pgdata).arg("status");
        if status.output().map(|o| o.status.success()).unwrap_or(false) {
            tracing::info!("private PostgreSQL already running");
            return Ok(());
        }
        let options = format!("-c listen_addresses='' -c unix_socket_directories='{}'", self.pgdata.display());
        let mut cmd = self.command("pg_ctl");
        cmd.arg("-D")
            .arg(&self.pgdata)
            .arg("-l")
            .arg(self.pgdata.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        self.run(cmd, "pg_ctl start")?;
        tracing::info!(pgdata = %self.pgdata.display(), "private PostgreSQL started");
        Ok(())
    }

    fn create_database(&self) -> anyhow::Result<()> {
        let admin_url = format!("postgresql://{DB_USER}@/postgres?host={}", self.pgdata.display());
        let mut conn = PgConnection::establish(&admin_url)?;
        let exists = diesel::sql_query(format!("SELECT 1 AS one FROM pg_database WHERE datname = '{DB_NAME}'"))
            .execute(&mut conn)?;
        if exists == 0 {
            diesel::sql_query(format!("CREATE DATABASE {DB_NAME}")).execute(&mut conn)?;
        }
        Ok(())
    }

    pub fn stop(&self) {
        let mut cmd = self.command("pg_ctl");
        cmd.arg("-D").arg(&self.pgdata).args(["-m", "fast", "-w", "stop"]);
        match self.run(cmd, "pg_ctl stop") {
            Ok(()) => tracing::info!("private PostgreSQL stopped"),
            Err(e) => tracing::warn!(error = %e, "stopping the private PostgreSQL"),
        }
    }
}

fn running_as_root() -> anyhow::Result<bool> {
    Ok(std::fs::metadata("/proc/self")?.uid() == 0)
}

/// pg_ctl on PATH, else the newest /usr/lib/postgresql/*/bin.
fn find_bin_dir() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("pg_ctl");
            if candidate.is_file() {
                let resolved = candidate.canonicalize().unwrap_or(candidate);
                if let Some(parent) = resolved.parent()
                    && parent.join("initdb").is_file()
                {
                    return Ok(parent.to_path_buf());
                }
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("pg_ctl").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!(
            "PostgreSQL binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql; \
             install PostgreSQL (apt-get install postgresql) or set DATABASE_URL"
        ),
    }
}
