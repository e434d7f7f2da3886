//! The job queue: each job runs once, failures retry with backoff, dead jobs stay.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use clienthub::jobs::{self, worker::Worker};
use clienthub::mail::{Mailer, OutgoingEmail};
use diesel::prelude::*;

use crate::smtp::SmtpSink;
use crate::support::*;

fn email(to: &str, subject: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.into(),
        from_name: Some("Northwind Studio".into()),
        subject: subject.into(),
        text: "Hello".into(),
        html: "<p>Hello</p>".into(),
        attachments: Vec::new(),
    }
}

fn mailer_for(sink: &SmtpSink) -> Mailer {
    let mut settings = test_settings();
    settings.mail.smtp_url = sink.url();
    Mailer::from_settings(&settings).unwrap()
}

#[tokio::test]
async fn two_workers_never_run_the_same_job() {
    let db = TestDb::new();
    let settings = test_settings();
    let pool = clienthub::db::build_pool(&db.url, &settings.database).unwrap();
    let sink = SmtpSink::start();
    {
        let mut conn = pool.get().unwrap();
        for i in 0..40 {
            clienthub::mail::enqueue(
                &mut conn,
                None,
                &email(&format!("person{i}@example.com"), &format!("Message {i}")),
            )
            .unwrap();
        }
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let worker = Worker::new(pool.clone(), mailer_for(&sink), std::time::Duration::from_millis(10));
            let seen = seen.clone();
            std::thread::spawn(move || {
                while worker.run_once().unwrap() {
                    seen.lock().unwrap().push(worker.name.clone());
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let received = sink.received();
    assert_eq!(received.len(), 40, "every job ran");
    let subjects: HashSet<_> = received.iter().map(|r| r.subject()).collect();
    assert_eq!(subjects.len(), 40, "and none twice");
    let by_worker: HashSet<_> = seen.lock().unwrap().iter().cloned().collect();
    assert_eq!(by_worker.len(), 2, "both workers took part");
    let done: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>("SELECT count(*) FROM jobs WHERE status = 'done'")
        .get_result(&mut pool.get().unwrap())
        .unwrap();
    assert_eq!(done, 40);
}

#[tokio::test]
async fn mail_waits_while_smtp_refuses_and_goes_out_when_it_is_back() {
    let db = TestDb::new();
    let settings = test_settings();
    let pool = clienthub::db::build_pool(&db.url, &settings.database).unwrap();
    let sink = SmtpSink::start();
    let mut conn = pool.get().unwrap();
    clienthub::mail::enqueue(&mut conn, None, &email("ana@example.com", "Your invitation")).unwrap();
    let worker = Worker::new(pool.clone(), mailer_for(&sink), std::time::Duration::from_millis(10));

    sink.refuse(true);
    assert!(worker.run_once().unwrap());
    let (status, attempts, error): (String, i32, Option<String>) = clienthub::db::schema::jobs::table
        .select((
            clienthub::db::schema::jobs::status,
            clienthub::db::schema::jobs::attempts,
            clienthub::db::schema::jobs::last_error,
        ))
        .first(&mut conn)
        .unwrap();
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert!(error.unwrap().contains("451"), "the SMTP answer is kept for the operator");
    assert!(!worker.run_once().unwrap(), "not retried before its backoff");

    sink.refuse(false);
    diesel::sql_query("UPDATE jobs SET run_at = now()").execute(&mut conn).unwrap();
    assert!(worker.run_once().unwrap());
    assert_eq!(sink.received().len(), 1);
    assert_eq!(sink.received()[0].to, vec!["ana@example.com".to_string()]);
}

#[tokio::test]
async fn a_mail_server_down_for_over_an_hour_loses_no_mail() {
    let db = TestDb::new();
    let settings = test_settings();
    let pool = clienthub::db::build_pool(&db.url, &settings.database).unwrap();
    let mut conn = pool.get().unwrap();
    clienthub::mail::enqueue(&mut conn, None, &email("ana@example.com", "Your invoice")).unwrap();
    let sink = SmtpSink::start();
    let worker = Worker::new(pool.clone(), mailer_for(&sink), std::time::Duration::from_millis(10));

    sink.refuse(true);
    let mut down_for = chrono::Duration::zero();
    // Each retry when its backoff comes due, until the server has been down 75 minutes.
    while down_for <= chrono::Duration::minutes(75) {
        assert!(worker.run_once().unwrap());
        let (status, attempts): (String, i32) = clienthub::db::schema::jobs::table
            .select((clienthub::db::schema::jobs::status, clienthub::db::schema::jobs::attempts))
            .first(&mut conn)
            .unwrap();
        assert_eq!(status, "pending", "still waiting after {attempts} attempts, {down_for} down");
        down_for += jobs::backoff(attempts);
        diesel::sql_query("UPDATE jobs SET run_at = now()").execute(&mut conn).unwrap();
    }
    sink.refuse(false);
    assert!(worker.run_once().unwrap());
    assert_eq!(sink.received().len(), 1, "delivered once the server is back");
    assert_eq!(jobs::troubled(&mut conn, 10).unwrap().len(), 0);
}

#[tokio::test]
async fn a_job_that_keeps_failing_ends_dead_and_visible() {
    let db = TestDb::new();
    let settings = test_settings();
    let pool = clienthub::db::build_pool(&db.url, &settings.database).unwrap();
    let mut conn = pool.get().unwrap();
    jobs::enqueue(&mut conn, None, "no_such_kind", &serde_json::json!({}), None).unwrap();
    diesel::sql_query("UPDATE jobs SET max_attempts = 2").execute(&mut conn).unwrap();
    let sink = SmtpSink::start();
    let worker = Worker::new(pool.clone(), mailer_for(&sink), std::time::Duration::from_millis(10));
    assert!(worker.run_once().unwrap());
    diesel::sql_query("UPDATE jobs SET run_at = now()").execute(&mut conn).unwrap();
    assert!(worker.run_once().unwrap());
    let troubled = jobs::troubled(&mut conn, 10).unwrap();
    assert_eq!(troubled.len(), 1);
    assert_eq!(troubled[0].status, "dead");
    assert!(troubled[0].last_error.as_deref().unwrap().contains("unknown job kind"));
    assert!(!worker.run_once().unwrap(), "dead jobs are not run again");
}

#[tokio::test]
async fn a_job_enqueued_in_a_rolled_back_transaction_never_runs() {
    let db = TestDb::new();
    let settings = test_settings();
    let pool = clienthub::db::build_pool(&db.url, &settings.database).unwrap();
    let mut conn = pool.get().unwrap();
    let _ = conn.transaction(|c| {
        clienthub::mail::enqueue(c, None, &email("ana@example.com", "Never")).unwrap();
        Err::<(), _>(diesel::result::Error::RollbackTransaction)
    });
    let count: i64 =
        diesel::dsl::sql::<diesel::sql_types::BigInt>("SELECT count(*) FROM jobs").get_result(&mut conn).unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn mail_stays_queued_while_the_smtp_server_is_down() {
    let db = TestDb::new();
    let mut settings = test_settings();
    let pool = clienthub::db::build_pool(&db.url, &settings.database).unwrap();
    let mut conn = pool.get().unwrap();
    clienthub::mail::enqueue(&mut conn, None, &email("ana@example.com", "Queued")).unwrap();
    // Nothing listens on this port: the connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    settings.mail.smtp_url = format!("smtp://127.0.0.1:{closed}");
    let down =
        Worker::new(pool.clone(), Mailer::from_settings(&settings).unwrap(), std::time::Duration::from_millis(10));
    assert!(down.run_once().unwrap());
    let (status, error): (String, Option<String>) = clienthub::db::schema::jobs::table
        .select((clienthub::db::schema::jobs::status, clienthub::db::schema::jobs::last_error))
        .first(&mut conn)
        .unwrap();
    assert_eq!(status, "pending", "kept for a retry");
    assert!(error.is_some());

    let sink = SmtpSink::start();
    diesel::sql_query("UPDATE jobs SET run_at = now()").execute(&mut conn).unwrap();
    let back = Worker::new(pool.clone(), mailer_for(&sink), std::time::Duration::from_millis(10));
    assert!(back.run_once().unwrap());
    assert_eq!(sink.received().len(), 1, "sent once the server is back");
}

#[tokio::test]
async fn the_sweep_removes_only_what_has_expired() {
    let app = TestApp::spawn().await;
    let _live = app.owner().await;
    let mut conn = app.conn();
    diesel::sql_query(
        "INSERT INTO sessions (id, key_hash, state, expires_at) VALUES
           (gen_random_uuid(), '\\x01', '{}', now() - interval '1 minute'),
           (gen_random_uuid(), '\\x02', '{}', now() + interval '1 day')",
    )
    .execute(&mut conn)
    .unwrap();
    let removed = clienthub::jobs::worker::sweep(&mut conn).unwrap();
    assert_eq!(removed, 1);
    assert_eq!(app.count("sessions"), 2, "the live login and the unexpired anonymous row stay");
}
