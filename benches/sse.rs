//! Live chat under load: opens many server-sent-event streams on one app instance,
//! measures how fast it answers other requests meanwhile, how long a posted message
//! takes to reach every stream, and the server's memory. Prints figures; asserts
//! nothing. Run by `bench/sse.sh`, which starts the server (see bench/README.md).
//!
//! Environment: BASE (the server's URL), SERVER_PID (for its RSS), STREAMS (1000),
//! MESSAGES (20).

#![expect(clippy::unwrap_used, reason = "a benchmark stops at the first thing that goes wrong")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn meta_csrf(html: &str) -> String {
    let start = html.find("name=\"csrf-token\" content=\"").unwrap() + "name=\"csrf-token\" content=\"".len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

struct Session {
    http: reqwest::Client,
    base: String,
    /// The session's CSRF token, read from a page (it changes at sign-in).
    csrf: String,
}

impl Session {
    async fn read_csrf(&mut self, path: &str) {
        let page = self.http.get(format!("{}{path}", self.base)).send().await.unwrap().text().await.unwrap();
        self.csrf = meta_csrf(&page);
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &self.csrf));
        self.http.post(format!("{}{path}", self.base)).form(&form).send().await.unwrap()
    }
}

fn rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn summary(label: &str, mut ms: Vec<f64>) {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{label:<44} n={:<6} p50={:>7.2} ms  p99={:>7.2} ms  max={:>7.2} ms",
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        ms.last().copied().unwrap_or(f64::NAN)
    );
}

/// Sequential requests to `path`; their latencies in milliseconds.
async fn latencies(session: &Session, path: &str, rounds: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        let res = session.http.get(format!("{}{path}", session.base)).send().await.unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.bytes().await.unwrap();
        out.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    out
}

fn main() {
    // `cargo bench` passes --bench; this benchmark takes its settings from the environment.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let base = env_or("BASE", "http://127.0.0.1:18080");
    let pid = env_or("SERVER_PID", "");
    let streams: usize = env_or("STREAMS", "1000").parse().unwrap();
    let messages: i64 = env_or("MESSAGES", "20").parse().unwrap();
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(streams + 16)
        .build()
        .unwrap();
    let mut session = Session { http, base: base.clone(), csrf: String::new() };
    session.read_csrf("/login").await;
    let password = clienthub::demo::PASSWORD;
    let res = session.post("/login", &[("email", "owner@northwind.example"), ("password", password)]).await;
    assert_eq!(res.status(), 303, "log in as the demo owner");
    session.read_csrf("/profile").await;
    let res = session.post("/chat/channels", &[("name", &format!("bench-{}", std::process::id()))]).await;
    assert_eq!(res.status(), 303, "create a channel");
    let channel = res.headers()["location"].to_str().unwrap().to_string();
    let page = channel.clone();

    println!("Client Hub live chat: {streams} streams on one instance at {base}");
    if let Some(kib) = rss_kib(&pid) {
        println!("server RSS before streams: {:.1} MiB", kib as f64 / 1024.0);
    }
    summary("GET /health, no streams open", latencies(&session, "/health", 300).await);
    summary("GET chat page, no streams open", latencies(&session, &page, 200).await);

    // Open the streams; each reports (message number, arrival) as events come.
    let (arrivals_tx, mut arrivals) = mpsc::unbounded_channel::<(i64, Instant)>();
    let opened = Arc::new(tokio::sync::Semaphore::new(0));
    let started = Instant::now();
    for _ in 0..streams {
        let (http, url, tx, opened) =
            (session.http.clone(), format!("{base}{channel}/stream?after=0"), arrivals_tx.clone(), opened.clone());
        tokio::spawn(async move {
            let mut res = http.get(url).send().await.unwrap();
            assert_eq!(res.status(), 200);
            opened.add_permits(1);
            let mut buffer = String::new();
            while let Ok(Some(chunk)) = res.chunk().await {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let block: String = buffer.drain(..end + 2).collect();
                    if let Some(id) = block.lines().find_map(|l| l.strip_prefix("id: ")) {
                        let _ = tx.send((id.parse().unwrap(), Instant::now()));
                    }
                }
            }
        });
    }
    let _all = opened.acquire_many(streams as u32).await.unwrap();
    println!("opened {streams} streams in {:.0} ms", started.elapsed().as_secs_f64() * 1000.0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    if let Some(kib) = rss_kib(&pid) {
        println!("server RSS with {streams} streams: {:.1} MiB", kib as f64 / 1024.0);
    }
    summary(&format!("GET /health, {streams} streams open"), latencies(&session, "/health", 300).await);
    summary(&format!("GET chat page, {streams} streams open"), latencies(&session, &page, 200).await);

    // Post messages one after another; each must reach every stream.
    let mut delivery = Vec::new();
    let mut slowest = Vec::new();
    for n in 1..=messages {
        let posted = Instant::now();
        let res = session.post(&format!("{channel}/messages"), &[("body", &format!("Message {n}"))]).await;
        assert_eq!(res.status(), 303);
        let mut reached = 0;
        let mut last = posted;
        while reached < streams {
            let (seq, at) = tokio::time::timeout(Duration::from_secs(30), arrivals.recv()).await.unwrap().unwrap();
            assert_eq!(seq, n, "every stream gets each message once, in order");
            delivery.push((at - posted).as_secs_f64() * 1000.0);
            last = last.max(at);
            reached += 1;
        }
        slowest.push((last - posted).as_secs_f64() * 1000.0);
        // Stay under the posting rate limit (8 in 10 s per person).
        tokio::time::sleep(Duration::from_millis(1300)).await;
    }
    summary(&format!("post → each of {streams} streams (per stream)"), delivery);
    summary(&format!("post → last of {streams} streams (per message)"), slowest);
    if let Some(kib) = rss_kib(&pid) {
        println!("server RSS after {messages} messages: {:.1} MiB", kib as f64 / 1024.0);
    }
}
