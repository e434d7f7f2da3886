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
