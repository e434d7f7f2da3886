//! The `clienthub` command: serve (default), migrate, worker, seed-demo, seed-bench,
//! jobs, create-platform-owner.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use clienthub::config::Settings;
use clienthub::db::{self, embedded::EmbeddedPostgres};
use clienthub::{Application, demo, init_tracing};

#[derive(Parser)]
#[command(name = "clienthub", version, about = "Client Hub: the client hub for agencies")]
struct Cli {
    /// Folder holding default.toml and {CLIENTHUB_ENV}.toml.
    #[arg(long, default_value = "config", env = "CLIENTHUB_CONFIG_DIR")]
    config_dir: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo agency and print its logins.
    SeedDemo,
    /// Build the benchmarks' large dataset: the demo agency grown to SCALE × (10k clients,
    /// 2k projects, 200k tasks, 50k invoices of 5 lines, 1M audit rows) and ORGS small
    /// organizations beside it. For a benchmark database only: logins use the demo password.
    SeedBench {
        #[arg(long, default_value_t = 1000)]
        orgs: u32,
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// Run a job worker alone (sending email, …) until SIGINT/SIGTERM.
    Worker,
    /// List failing and dead jobs.
    Jobs,
    /// Make the account with this email a platform owner (who can then open /platform
    /// and add the rest of the platform team).
    CreatePlatformOwner {
        /// The email of an existing account (sign up first).
        email: String,
    },
}

fn main() -> anyhow::Result<()> {
    init_tracing();
    let cli = Cli::parse();
    let settings = Settings::load(&cli.config_dir)?;
    // Without DATABASE_URL: a private PostgreSQL under DATA_DIR, stopped when we exit.
    let embedded =
        if settings.database.url.is_empty() { Some(EmbeddedPostgres::start(&settings.data.dir)?) } else { None };
    let url = embedded.as_ref().map(|pg| pg.url.clone()).unwrap_or_else(|| settings.database.url.clone());
    // Demo accounts share a published password: only ever on the private database.
    let may_seed = embedded.is_some() && settings.demo.seed_on_first_start;
    let result = run(cli.command.unwrap_or(Command::Serve), settings, &url, may_seed);
    if let Some(pg) = embedded {
        pg.stop();
    }
    result
}

fn run(command: Command, mut settings: Settings, url: &str, may_seed: bool) -> anyhow::Result<()> {
    // The live-update listener opens its own connection to the same database.
    settings.database.url = url.to_string();
    let pool = db::build_pool(url, &settings.database).context("connecting to PostgreSQL")?;
    // Migrations hold a session-level lock: over a direct connection, never pgbouncer's.
    let mut direct = <diesel::PgConnection as diesel::Connection>::establish(settings.database.direct_url())
        .context("connecting to PostgreSQL")?;
    let applied = db::migrate(&mut direct)?;
    drop(direct);
    let mut conn = pool.get().context("connecting to PostgreSQL")?;
    if !applied.is_empty() {
        tracing::info!(?applied, "migrations applied");
    }
    match command {
        Command::Migrate => {
            println!("Database is up to date ({} migrations applied now).", applied.len());
            Ok(())
        }
        Command::SeedDemo => {
            if demo::seed(&mut conn)? {
                demo::seed_documents(&mut conn)?;
                println!("Demo agency loaded.");
            } else {
                println!("Demo agency already present.");
            }
            print!("{}", demo::describe_logins());
            Ok(())
        }
        Command::SeedBench { orgs, scale } => {
            anyhow::ensure!(scale > 0.0 && scale <= 100.0, "--scale must be above 0 and at most 100");
            clienthub::bench_data::ensure_benchmark_database(&mut conn)?;
            if demo::seed(&mut conn)? {
                demo::seed_documents(&mut conn)?;
            }
            let sizes = clienthub::bench_data::Sizes::at_scale(scale);
            let started = std::time::Instant::now();
            for step in clienthub::bench_data::seed(&mut conn, "Northwind Studio", &sizes, orgs)? {
                println!("{:>7.1} s  {}", step.seconds, step.what);
            }
            println!("{:>7.1} s  in all", started.elapsed().as_secs_f64());
            Ok(())
        }
        Command::Worker => {
            drop(conn);
            let mailer = clienthub::mail::Mailer::from_settings(&settings)?;
            let poll = std::time::Duration::from_millis(settings.jobs.poll_interval_ms);
            let worker = clienthub::jobs::worker::Worker::new(pool, mailer, poll);
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = stop.clone();
            let thread = std::thread::spawn(move || worker.run(&flag));
            actix_web::rt::System::new().block_on(async {
                let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
                let ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
                let term = std::pin::pin!(term.recv());
                futures_util::future::select(ctrl_c, term).await;
                Ok::<_, std::io::Error>(())
            })?;
            // The job in hand is finished before the worker stops.
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            let _ = thread.join();
            Ok(())
        }
        Command::Jobs => {
            let troubled = clienthub::jobs::troubled(&mut conn, 50)?;
            if troubled.is_empty() {
                println!("No failing or dead jobs.");
            }
            for job in troubled {
                println!(
                    "{}  {:<6} {:<8} attempts={} next={} error={}",
                    job.id,
                    job.kind,
                    job.status,
                    job.attempts,
                    job.run_at.format("%Y-%m-%d %H:%M:%S"),
                    job.last_error.unwrap_or_default()
                );
            }
            Ok(())
        }
        Command::CreatePlatformOwner { email } => {
            let name = clienthub::platform::make_owner(&mut conn, &email)?;
            println!("{name} <{}> is a platform owner: sign in and open /platform.", email.trim().to_lowercase());
            Ok(())
        }
        Command::Serve => {
            if may_seed && demo::is_empty(&mut conn)? {
                demo::seed(&mut conn)?;
                demo::seed_documents(&mut conn)?;
                print!("{}", demo::describe_logins());
            }
            drop(conn);
            let app_url = settings.app_url().to_string();
            let system = actix_web::rt::System::new();
            system.block_on(async move {
                let app = Application::build(settings, pool)?;
                println!("Client Hub is running at {app_url} (port {})", app.port());
                app.run_until_stopped().await?;
                Ok::<_, anyhow::Error>(())
            })
        }
    }
}
