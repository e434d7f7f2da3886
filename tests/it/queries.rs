//! Every page asks the database a small, fixed number of statements: the count does not
//! grow with the rows a page shows (no N+1 queries). Counted by the application itself
//! and read from each response's `Server-Timing: …, db;dur=…;desc="N statements"`.

use diesel::RunQueryDsl;

use crate::support::*;

/// The most statements any page may send, the tenant transaction's own (BEGIN, its
/// context, COMMIT) and the session's included.
const MOST_STATEMENTS_PER_PAGE: u32 = 16;

fn statements(page: &Page) -> u32 {
    let timing = page.headers.get("server-timing").and_then(|v| v.to_str().ok()).unwrap_or_default();
    timing
        .split(',')
        .find_map(|metric| metric.trim().strip_prefix("db;"))
        .and_then(|db| db.split("desc=\"").nth(1))
        .and_then(|desc| desc.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no statement count in Server-Timing: {timing:?}"))
}

/// The fewest statements of two requests (the session's own bookkeeping comes and goes).
async fn count(client: &Client, path: &str) -> u32 {
    let mut fewest = u32::MAX;
    for _ in 0..2 {
        let page = client.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        fewest = fewest.min(statements(&page));
    }
    fewest
}

fn first_id(app: &TestApp, sql: &str) -> String {
    let id: uuid::Uuid = diesel::dsl::sql::<diesel::sql_types::Uuid>(sql).get_result(&mut app.conn()).unwrap();
    id.to_string()
}

#[tokio::test]
async fn pages_send_the_same_few_statements_however_many_rows_they_show() {
    let app = TestApp::spawn().await;
    clienthub::demo::seed_documents(&mut app.conn()).unwrap();
    let northwind = "(SELECT id FROM organizations WHERE name = 'Northwind Studio')";
    let client = first_id(&app, &format!("SELECT id FROM clients WHERE org_id = {northwind} ORDER BY name LIMIT 1"));
    let project = first_id(&app, &format!("SELECT id FROM projects WHERE org_id = {northwind} ORDER BY id LIMIT 1"));
    let task = first_id(&app, &format!("SELECT id FROM tasks WHERE project_id = '{project}' ORDER BY id LIMIT 1"));
    let invoice =
        first_id(&app, &format!("SELECT id FROM invoices WHERE org_id = {northwind} AND number IS NOT NULL LIMIT 1"));
    let quotation = first_id(&app, &format!("SELECT id FROM quotations WHERE org_id = {northwind} LIMIT 1"));
    let staff_pages = [
        "/dashboard".to_string(),
        "/clients".into(),
        "/clients?q=schmidt".into(),
        format!("/clients/{client}"),
        "/projects".into(),
        format!("/projects/{project}"),
        format!("/projects/{project}/board"),
        "/tasks".into(),
        format!("/tasks/{task}"),
        "/invoices".into(),
        format!("/invoices/{invoice}"),
        format!("/invoices/{invoice}/pdf"),
        "/quotations".into(),
        format!("/quotations/{quotation}"),
        "/files".into(),
        "/time".into(),
        "/timesheets".into(),
        "/notifications".into(),
        "/team".into(),
        "/audit-logs".into(),
        "/settings".into(),
    ];
    let platform_pages = ["/platform", "/platform/organizations", "/platform/users", "/platform/subscriptions"];
    let owner = app.owner().await;
    let platform = app.login(PLATFORM_OWNER).await;

    let mut before = Vec::new();
    for path in &staff_pages {
        before.push(count(&owner, path).await);
    }
    for path in platform_pages {
        before.push(count(&platform, path).await);
    }

    // Grow Northwind (clients, projects, tasks, invoices, audit rows) and add organizations.
    let sizes = clienthub::bench_data::Sizes::at_scale(0.004);
    clienthub::bench_data::seed(&mut app.conn(), "Northwind Studio", &sizes, 30).unwrap();
    assert!(app.count(&format!("clients WHERE org_id = {northwind}")) > 40);
    assert!(app.count(&format!("invoices WHERE org_id = {northwind}")) > 200);
    let inexact = "invoices d WHERE subtotal <> (SELECT sum(amount) FROM invoice_items i WHERE i.invoice_id = d.id)
                   OR total <> subtotal + tax_total OR amount_paid <> coalesce((SELECT sum(amount) FROM payments p
                   WHERE p.invoice_id = d.id), 0)";
    assert_eq!(app.count(inexact), 0, "the generated invoices add up");
    assert_tallies_add_up(&app);

    let mut after = Vec::new();
    for path in &staff_pages {
        after.push(count(&owner, path).await);
    }
    for path in platform_pages {
        after.push(count(&platform, path).await);
    }
    let paths: Vec<&str> = staff_pages.iter().map(String::as_str).chain(platform_pages).collect();
    for ((path, before), after) in paths.iter().zip(&before).zip(&after) {
        assert!(*after <= MOST_STATEMENTS_PER_PAGE, "{path} sends {after} statements");
        assert_eq!(before, after, "{path}: statements grew with the rows shown");
    }
}

/// Rows where the dashboard's tallies (kept by triggers) differ from a recount.
const TALLY_DRIFT: [&str; 6] = [
    "((SELECT org_id, currency, status, invoices, total, owed FROM invoice_tallies
       WHERE invoices <> 0 OR total <> 0 OR owed <> 0
       EXCEPT SELECT org_id, currency, status, count(*), sum(total), sum(total - amount_paid) FROM invoices GROUP BY 1, 2, 3)
      UNION ALL
      (SELECT org_id, currency, status, count(*), sum(total), sum(total - amount_paid) FROM invoices GROUP BY 1, 2, 3
       EXCEPT SELECT org_id, currency, status, invoices, total, owed FROM invoice_tallies)) drift",
    "((SELECT org_id, clients FROM client_tallies WHERE clients <> 0
       EXCEPT SELECT org_id, count(*) FROM clients GROUP BY 1)
      UNION ALL
      (SELECT org_id, count(*) FROM clients GROUP BY 1 EXCEPT SELECT org_id, clients FROM client_tallies)) drift",
    "((SELECT org_id, status, projects FROM project_tallies WHERE projects <> 0
       EXCEPT SELECT org_id, status, count(*) FROM projects GROUP BY 1, 2)
      UNION ALL
      (SELECT org_id, status, count(*) FROM projects GROUP BY 1, 2
       EXCEPT SELECT org_id, status, projects FROM project_tallies)) drift",
    "((SELECT org_id, due_date, open FROM open_task_tallies WHERE open <> 0
       EXCEPT SELECT org_id, COALESCE(due_date, 'infinity'), count(*) FROM tasks WHERE status <> 'done' GROUP BY 1, 2)
      UNION ALL
      (SELECT org_id, COALESCE(due_date, 'infinity'), count(*) FROM tasks WHERE status <> 'done' GROUP BY 1, 2
       EXCEPT SELECT org_id, due_date, open FROM open_task_tallies)) drift",
    "((SELECT org_id, month, currency, received FROM payment_tallies
       EXCEPT SELECT p.org_id, date_trunc('month', p.paid_on)::date, i.currency, sum(p.amount)
              FROM payments p JOIN invoices i ON i.org_id = p.org_id AND i.id = p.invoice_id GROUP BY 1, 2, 3)
      UNION ALL
      (SELECT p.org_id, date_trunc('month', p.paid_on)::date, i.currency, sum(p.amount)
       FROM payments p JOIN invoices i ON i.org_id = p.org_id AND i.id = p.invoice_id GROUP BY 1, 2, 3
       EXCEPT SELECT org_id, month, currency, received FROM payment_tallies)) drift",
    "((SELECT org_id, currency, due_date, outstanding, invoices FROM receivable_tallies
       WHERE invoices <> 0 OR outstanding <> 0
       EXCEPT SELECT org_id, currency, due_date, sum(total - amount_paid), count(*) FROM invoices
              WHERE status IN ('sent', 'partially_paid') AND total > amount_paid GROUP BY 1, 2, 3)
      UNION ALL
      (SELECT org_id, currency, due_date, sum(total - amount_paid), count(*) FROM invoices
       WHERE status IN ('sent', 'partially_paid') AND total > amount_paid GROUP BY 1, 2, 3
       EXCEPT SELECT org_id, currency, due_date, outstanding, invoices FROM receivable_tallies)) drift",
];

fn assert_tallies_add_up(app: &TestApp) {
    for drift in TALLY_DRIFT {
        assert_eq!(app.count(drift), 0, "a tally differs from its recount: {drift}");
    }
}

#[tokio::test]
async fn the_dashboards_tallies_follow_every_change_to_the_records_they_count() {
    let app = TestApp::spawn().await;
    clienthub::demo::seed_documents(&mut app.conn()).unwrap();
    let northwind = "(SELECT id FROM organizations WHERE name = 'Northwind Studio')";
    let project = first_id(&app, &format!("SELECT project_id FROM tasks WHERE org_id = {northwind} LIMIT 1"));
    // Every kind of change, one row and many at a time: tasks done, reopened, their due
    // dates moved, set and cleared, projects put on hold and completed, a project deleted
    // with its tasks, clients deleted, payments recorded, invoices part-paid, paid and
    // voided, another organization deleted with everything.
    let changes = [
        format!(
            "UPDATE tasks SET status = 'done' WHERE id IN (SELECT id FROM tasks WHERE org_id = {northwind} LIMIT 3)"
        ),
        "UPDATE tasks SET due_date = COALESCE(due_date, current_date) - 40 WHERE status <> 'done'".into(),
        format!(
            "UPDATE tasks SET due_date = NULL
             WHERE id IN (SELECT id FROM tasks WHERE org_id = {northwind} AND status <> 'done' AND project_id <> '{project}' LIMIT 2)"
        ),
        "UPDATE tasks SET title = title || ' (checked)'".into(),
        format!(
            "UPDATE tasks SET status = 'todo' WHERE id IN (SELECT id FROM tasks WHERE org_id = {northwind} AND status = 'done' LIMIT 1)"
        ),
        format!("UPDATE projects SET status = 'on_hold' WHERE org_id = {northwind} AND status = 'active'"),
        format!("UPDATE projects SET status = 'completed' WHERE id = '{project}'"),
        format!("DELETE FROM projects WHERE id = '{project}'"),
        format!(
            "DELETE FROM clients c WHERE org_id = {northwind}
             AND NOT EXISTS (SELECT 1 FROM invoices d WHERE d.client_id = c.id)
             AND NOT EXISTS (SELECT 1 FROM quotations d WHERE d.client_id = c.id)
             AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.client_id = c.id)"
        ),
        format!(
            "INSERT INTO payments (id, org_id, invoice_id, paid_on, amount, method)
             SELECT gen_random_uuid(), org_id, id, issue_date + 3, 0.01, 'card' FROM invoices
             WHERE org_id = {northwind} AND status IN ('sent', 'partially_paid') AND total - amount_paid >= 0.01"
        ),
        format!(
            "UPDATE invoices SET amount_paid = amount_paid + 0.01,
                    status = CASE WHEN total - amount_paid = 0.01 THEN 'paid' ELSE 'partially_paid' END
             WHERE org_id = {northwind} AND status IN ('sent', 'partially_paid') AND total - amount_paid >= 0.01"
        ),
        format!(
            "UPDATE invoices SET status = 'void', voided_at = now(), void_reason = 'Sent twice'
             WHERE id IN (SELECT id FROM invoices WHERE org_id = {northwind} AND status = 'partially_paid' LIMIT 1)"
        ),
        "DELETE FROM organizations WHERE name = 'Other Corp'".into(),
    ];
    for change in &changes {
        let rows =
            diesel::sql_query(change.as_str()).execute(&mut app.conn()).unwrap_or_else(|e| panic!("{change}: {e}"));
        assert!(rows > 0, "changed nothing: {change}");
    }
    assert_tallies_add_up(&app);
    assert_eq!(app.count("open_task_tallies WHERE org_id NOT IN (SELECT id FROM organizations)"), 0);

    let open = app.count(&format!("tasks WHERE org_id = {northwind} AND status <> 'done'"));
    let overdue =
        app.count(&format!("tasks WHERE org_id = {northwind} AND status <> 'done' AND due_date < current_date"));
    assert!(overdue > 0 && open > overdue, "{open} open, {overdue} overdue");
    let page = app.owner().await.get("/dashboard").await;
    let figure = |label: &str| {
        let after = &page.body[page.body.find(label).unwrap_or_else(|| panic!("no {label}"))..];
        let value = &after[after.find("<div class=\"value\">").unwrap() + 19..];
        value[..value.find('<').unwrap()].to_string()
    };
    assert_eq!(figure("Open tasks"), open.to_string());
    assert_eq!(figure("Overdue tasks"), overdue.to_string());
}

#[tokio::test]
async fn the_benchmark_seed_refuses_a_database_with_real_accounts() {
    let app = TestApp::spawn().await;
    clienthub::bench_data::ensure_benchmark_database(&mut app.conn()).expect("the demo's accounts are all .example");
    app.client()
        .post_form(
            "/signup",
            &[
                ("name", "Ana Real"),
                ("email", "ana@agency.com"),
                ("password", "a long real passphrase"),
                ("org_name", "Real Agency"),
            ],
        )
        .await;
    assert_eq!(app.count("users WHERE email = 'ana@agency.com'"), 1);
    let refused = clienthub::bench_data::ensure_benchmark_database(&mut app.conn()).unwrap_err().to_string();
    assert!(refused.contains("1 real account,") && refused.contains("database of its own"), "{refused}");
}
