//! Tenant isolation: every route that takes an id answers 404 when the id belongs to
//! another organization (or another user) — never the record, never a 403 that would
//! confirm it exists. A new route with an id fails this test until it is listed here.

use crate::support::*;

/// For each route with `{id}`: SQL that finds a real id of Northwind Studio (or of a
/// Northwind user) for Other Corp's owner to try.
const NORTHWIND_IDS: &[(&str, &str)] = &[
    (
        "/profile/sessions/{id}/revoke",
        "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'owner@northwind.example'",
    ),
    ("/users/{id}/role", "SELECT id FROM users WHERE email = 'member@northwind.example'"),
    ("/members/{id}/remove", MEMBERSHIP),
    ("/members/{id}/ban", MEMBERSHIP),
    ("/members/{id}/unban", MEMBERSHIP),
    ("/members/{id}/reset-two-factor", MEMBERSHIP),
    ("/roles/{id}", ROLE),
    ("/roles/{id}/delete", ROLE),
    ("/invitations/{id}/accept", INVITATION),
    ("/invitations/{id}/reject", INVITATION),
    ("/invitations/{id}/resend", INVITATION),
    ("/invitations/{id}/revoke", INVITATION),
    ("/clients/{id}", CLIENT_RECORD),
    ("/clients/{id}/edit", CLIENT_RECORD),
    ("/clients/{id}/delete", CLIENT_RECORD),
    ("/projects/{id}", PROJECT),
    ("/projects/{id}/edit", PROJECT),
    ("/projects/{id}/delete", PROJECT),
    ("/projects/{id}/board", PROJECT),
    ("/projects/{id}/messages", PROJECT),
    ("/tasks/{id}", TASK),
    ("/tasks/{id}/edit", TASK),
    ("/tasks/{id}/delete", TASK),
    ("/tasks/{id}/move", TASK),
    ("/tasks/{id}/comments", TASK),
    ("/files/{id}/download", FILE),
    ("/files/{id}/delete", FILE),
    ("/members/{id}/rate", MEMBERSHIP),
    ("/time/{id}/edit", TIME_ENTRY),
    ("/time/{id}", TIME_ENTRY),
    ("/time/{id}/delete", TIME_ENTRY),
    ("/tasks/{id}/timer/start", TIMED_TASK),
    ("/tasks/{id}/timer/stop", TIMED_TASK),
    ("/taxes/{id}/delete", "SELECT id FROM taxes"),
    ("/invoices/{id}", INVOICE),
    ("/invoices/{id}/edit", INVOICE),
    ("/invoices/{id}/delete", INVOICE),
    ("/invoices/{id}/pdf", INVOICE),
    ("/invoices/{id}/issue", INVOICE),
    ("/invoices/{id}/send", INVOICE),
    ("/invoices/{id}/payments", INVOICE),
    ("/invoices/{id}/void", INVOICE),
    ("/quotations/{id}", QUOTATION),
    ("/quotations/{id}/edit", QUOTATION),
    ("/quotations/{id}/delete", QUOTATION),
    ("/quotations/{id}/pdf", QUOTATION),
    ("/quotations/{id}/send", QUOTATION),
    ("/quotations/{id}/convert", QUOTATION),
    ("/notifications/{id}/read", "SELECT id FROM notifications"),
    ("/clients/{id}/portal-access", CLIENT_RECORD),
    ("/chat/channels/{id}", CHANNEL),
    ("/chat/channels/{id}/delete", CHANNEL),
    ("/chat/channels/{id}/messages", CHANNEL),
    ("/chat/channels/{id}/stream", CHANNEL),
    ("/clients/{id}/portal-links/{link_id}/revoke", CLIENT_RECORD),
];

const INVOICE: &str = "SELECT id FROM invoices";
const CHANNEL: &str = "SELECT id FROM chat_channels";
const QUOTATION: &str = "SELECT id FROM quotations";

/// A Northwind tax, an issued invoice and a sent quotation, each with a line.
fn add_northwind_money(app: &TestApp) {
    let sql = "WITH org AS (SELECT id FROM organizations WHERE name = 'Northwind Studio'),
                    client AS (SELECT c.id FROM clients c, org WHERE c.org_id = org.id LIMIT 1),
                    tax AS (INSERT INTO taxes (id, org_id, name, rate) SELECT gen_random_uuid(), id, 'VAT', 20 FROM org RETURNING id),
                    inv AS (INSERT INTO invoices (id, org_id, client_id, issue_date, due_date, currency, subtotal, total)
                            SELECT gen_random_uuid(), org.id, client.id, current_date, current_date + 30, 'EUR', 100, 100
                            FROM org, client RETURNING id, org_id),
                    quo AS (INSERT INTO quotations (id, org_id, client_id, issue_date, valid_until, currency, subtotal, total)
                            SELECT gen_random_uuid(), org.id, client.id, current_date, current_date + 30, 'EUR', 100, 100
                            FROM org, client RETURNING id, org_id),
                    ii AS (INSERT INTO invoice_items (id, org_id, invoice_id, position, description, quantity, unit_price, amount)
                           SELECT gen_random_uuid(), org_id, id, 0, 'Work', 1, 100, 100 FROM inv),
                    qi AS (INSERT INTO quotation_items (id, org_id, quotation_id, position, description, quantity, unit_price, amount)
                           SELECT gen_random_uuid(), org_id, id, 0, 'Work', 1, 100, 100 FROM quo),
                    link AS (INSERT INTO portal_tokens (id, org_id, client_id, purpose, token_hash, expires_at)
                             SELECT gen_random_uuid(), org.id, client.id, 'portal', '\\x00', now() + interval '1 day' FROM org, client),
                    chat AS (INSERT INTO chat_channels (id, org_id, name, last_seq) SELECT gen_random_uuid(), org.id, 'general', 1 FROM org RETURNING id, org_id),
                    said AS (INSERT INTO chat_messages (id, org_id, channel_id, seq, body) SELECT gen_random_uuid(), org_id, id, 1, 'Hello' FROM chat)
               INSERT INTO notifications (id, org_id, user_id, kind, title, link)
               SELECT gen_random_uuid(), org.id, u.id, 'mention', 'Mia mentioned you', '/tasks' FROM org, users u
               WHERE u.email = 'owner@northwind.example'";
    diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut app.conn()).unwrap();
}

const CLIENT_RECORD: &str = "SELECT c.id FROM clients c JOIN organizations o ON o.id = c.org_id WHERE o.name = 'Northwind Studio' AND c.name = 'Hannah Weber'";
const PROJECT: &str =
    "SELECT p.id FROM projects p JOIN organizations o ON o.id = p.org_id WHERE o.name = 'Northwind Studio'";
const TASK: &str = "SELECT t.id FROM tasks t JOIN organizations o ON o.id = t.org_id WHERE o.name = 'Northwind Studio' AND t.parent_id IS NULL";

const MEMBERSHIP: &str =
    "SELECT m.id FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'member@northwind.example'";
const ROLE: &str = "SELECT r.id FROM roles r JOIN organizations o ON o.id = r.org_id WHERE o.name = 'Northwind Studio' AND r.key = 'member'";
const INVITATION: &str = "SELECT id FROM invitations";
const FILE: &str = "SELECT f.id FROM files f JOIN organizations o ON o.id = f.org_id WHERE o.name = 'Northwind Studio'";
const TIME_ENTRY: &str = "SELECT id FROM time_entries";
const TIMED_TASK: &str = "SELECT id FROM tasks";

/// A Northwind time entry on a demo task.
fn add_northwind_time(app: &TestApp) {
    let sql = "INSERT INTO time_entries (id, org_id, task_id, user_id, entry_date, minutes)
               SELECT gen_random_uuid(), t.org_id, t.id, u.id, current_date, 30
               FROM tasks t, users u WHERE t.title = 'Visual design of the shop' AND u.email = 'member@northwind.example'";
    diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut app.conn()).unwrap();
}

/// Routes whose parameter is not a record id: secret tokens (worthless unless held)
/// and the public logo of an organization.
const NOT_RECORD_IDS: &[&str] = &[
    "/password/reset/{token}",
    "/invitations/open/{token}",
    "/profile/email/confirm/{token}",
    "/orgs/{id}/logo",
    "/p/{token}",
    "/p/{token}/renew",
];

#[tokio::test]
async fn another_organizations_ids_are_404_on_every_route() {
    let app = TestApp::spawn().await;
    add_northwind_time(&app);
    add_northwind_money(&app);
    let _northwind_session = app.owner().await;
    let owner = app.owner().await;
    let member_role = id(&app, ROLE);
    owner
        .post_form("/invitations/send", &[("email_or_display_id", "pending@example.com"), ("role_id", &member_role)])
        .await;
    let upload = owner.post_multipart("/files", &[], Some(("plan.pdf", b"%PDF-1.7\n".to_vec()))).await;
    assert_eq!(upload.status, 303, "a Northwind file to try");

    let with_ids: Vec<_> = clienthub::routes::all().into_iter().filter(|r| r.path.contains('{')).collect();
    for route in &with_ids {
        // Portal routes are for client users: tests/it/portal.rs tries them with another
        // client's and another organization's ids. Platform routes reach across
        // organizations by design, for the platform team alone (tests/it/routes.rs walks
        // them as every role; tests/it/platform.rs uses them).
        let listed = NORTHWIND_IDS.iter().any(|(p, _)| *p == route.path)
            || NOT_RECORD_IDS.contains(&route.path)
            || route.path.starts_with("/portal/")
            || route.path.starts_with("/platform/");
        assert!(listed, "{} {} takes an id: add it to the isolation test", route.method, route.path);
    }

    let otto = app.login(OTHER_OWNER).await;
    for route in with_ids.iter().filter(|r| {
        !NOT_RECORD_IDS.contains(&r.path) && !r.path.starts_with("/portal/") && !r.path.starts_with("/platform/")
    }) {
        let sql = NORTHWIND_IDS.iter().find(|(p, _)| *p == route.path).map(|(_, sql)| *sql).unwrap();
        let path =
            route.path.replace("{id}", &id(&app, sql)).replace("{link_id}", &id(&app, "SELECT id FROM portal_tokens"));
        let res = match route.method {
            "GET" => otto.get(&path).await,
            _ => otto.post_form(&path, &[]).await,
        };
        assert_eq!(res.status, 404, "{} {path} as Other Corp's owner", route.method);
    }
    // Nothing of Northwind's changed.
    assert_eq!(app.count("invitations WHERE status = 'pending'"), 1);
    assert_eq!(app.count("memberships m JOIN organizations o ON o.id = m.org_id WHERE o.name = 'Northwind Studio' AND m.status = 'active'"), 5);
    assert_eq!(app.count("roles r JOIN organizations o ON o.id = r.org_id WHERE o.name = 'Northwind Studio'"), 4);
    assert_eq!(app.count("clients"), 4);
    assert_eq!(app.count("projects"), 3);
    assert_eq!(app.count("tasks"), 14);
    assert_eq!(app.count("task_comments"), 2);
    assert_eq!(app.count("project_messages"), 3);
    assert_eq!(app.count("files"), 1);
    assert_eq!(app.count("time_entries WHERE minutes = 30 AND invoice_id IS NULL"), 1);
    assert_eq!(app.count("time_entries"), 1, "no timer started on another organization's task");
    assert_eq!(app.count("memberships WHERE hourly_rate IS NOT NULL"), 0);
    assert_eq!(app.count("taxes"), 1);
    assert_eq!(app.count("invoices WHERE status = 'draft' AND number IS NULL"), 1);
    assert_eq!(app.count("quotations WHERE status = 'draft' AND number IS NULL"), 1);
    assert_eq!(app.count("invoice_items"), 1, "nothing converted");
    assert_eq!(app.count("payments"), 0);
    assert_eq!(app.count("portal_tokens WHERE revoked_at IS NULL"), 1, "nothing sent, nothing revoked");
    assert_eq!(app.count("notifications WHERE read_at IS NULL"), 1, "not marked read by another organization");
    assert_eq!(app.count("chat_channels"), 1);
    assert_eq!(app.count("chat_messages"), 1, "nothing posted into another organization's channel");
}

fn id(app: &TestApp, sql: &str) -> String {
    let id: uuid::Uuid = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Uuid>(&format!("{sql} LIMIT 1")),
        &mut app.conn(),
    )
    .unwrap();
    id.to_string()
}
