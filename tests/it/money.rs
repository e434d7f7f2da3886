//! Money as staff and accountants use it: taxes, the document editor refusing bad
//! lines next to the field, gapless numbers under concurrent issuing, payments,
//! voiding, sending with the PDF attached, converting quotations, invoicing time,
//! and the same figures on the page, in the PDF, the email and the CSV.

use std::process::Command;

use crate::support::*;

pub fn one(app: &TestApp, sql: &str) -> String {
    let id: uuid::Uuid = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Uuid>(&format!("{sql} LIMIT 1")),
        &mut app.conn(),
    )
    .unwrap();
    id.to_string()
}

pub fn text(app: &TestApp, sql: &str) -> String {
    diesel::RunQueryDsl::get_result(diesel::dsl::sql::<diesel::sql_types::Text>(sql), &mut app.conn()).unwrap()
}

fn execute(app: &TestApp, sql: &str) {
    diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut app.conn()).unwrap();
}

/// The number of the n-th document of this year's series ("INV-2026-0001").
pub fn numbered(prefix: &str, n: u32) -> String {
    format!("{prefix}-{}-{n:04}", chrono::Datelike::year(&chrono::Utc::now().date_naive()))
}

pub const HANNAH: &str = "SELECT id FROM clients WHERE name = 'Hannah Weber'";

/// The text pdftotext reads from a PDF (layout kept, so a row stays on one line).
pub fn pdf_text(bytes: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("clienthub-pdf-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("doc.pdf");
    std::fs::write(&file, bytes).unwrap();
    let out = Command::new("pdftotext").arg("-layout").arg(&file).arg("-").output().expect("pdftotext (poppler-utils)");
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    if let Ok(target) = std::env::var("SCREENSHOT_DIR") {
        let _ = std::fs::copy(&file, std::path::Path::new(&target).join(format!("{}.pdf", uuid::Uuid::new_v4())));
    }
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8(out.stdout).unwrap()
}

pub fn pdf_pages(bytes: &[u8]) -> usize {
    pdf_text(bytes).matches('\u{c}').count().max(1)
}

/// Creates a tax and returns its id.
pub async fn tax(app: &TestApp, owner: &Client, name: &str, rate: &str) -> String {
    let res = owner.post_form("/taxes", &[("name", name), ("rate", rate)]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    one(app, &format!("SELECT id FROM taxes WHERE name = '{name}'"))
}

/// Posts the editor's form with `lines` of (description, quantity, unit price, tax id).
pub async fn save_document(
    owner: &Client,
    path: &str,
    client: &str,
    end_field: &str,
    lines: &[(&str, &str, &str, &str)],
    extra: &[(&str, &str)],
) -> Page {
    let mut fields: Vec<(String, String)> = vec![
        ("client_id".into(), client.into()),
        ("issue_date".into(), "2026-11-02".into()),
        (end_field.into(), "2026-12-02".into()),
        ("currency".into(), "EUR".into()),
        ("terms".into(), "Bank transfer within 30 days.".into()),
    ];
    for (i, (d, q, p, t)) in lines.iter().enumerate() {
        fields.push((format!("items[{i}][description]"), d.to_string()));
        fields.push((format!("items[{i}][quantity]"), q.to_string()));
        fields.push((format!("items[{i}][unit_price]"), p.to_string()));
        fields.push((format!("items[{i}][tax_id]"), t.to_string()));
    }
    for (k, v) in extra {
        fields.push((k.to_string(), v.to_string()));
    }
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    owner.post_form(path, &borrowed).await
}

fn id_from(location: &str) -> String {
    location.rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn an_invoice_is_drafted_issued_paid_and_printed_with_the_same_figures_everywhere() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let vat = tax(&app, &owner, "VAT", "20").await;
    let reduced = tax(&app, &owner, "Reduced", "5.5").await;
    let client = one(&app, HANNAH);
    let res = save_document(
        &owner,
        "/invoices",
        &client,
        "due_date",
        &[
            ("Design — Größe Łódź, café & crème", "2.5", "19.99", &vat),
            ("Hosting ₹ ¥ €", "3", "0.335", &reduced),
            ("Discount", "1", "-5", ""),
        ],
        &[],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let id = id_from(res.location().unwrap());
    // 2.5 × 19.99 = 49.975 → 49.98; 3 × 0.335 = 1.005 → 1.01; VAT 20% of 49.98 = 10.00 (9.996);
    // 5.5% of 1.01 = 0.06 (0.05555); subtotal 45.99; total 56.05.
    assert_eq!(
        text(
            &app,
            &format!(
                "SELECT subtotal::text || '/' || tax_total::text || '/' || total::text FROM invoices WHERE id = '{id}'"
            )
        ),
        "45.99/10.06/56.05"
    );
    let page = owner.get(&format!("/invoices/{id}")).await;
    assert!(page.body.contains("56.05 EUR"), "the page shows the total");
    assert!(page.body.contains("VAT 20%"));

    // Issuing assigns the first number of the issue date's year.
    let res = owner.post_form(&format!("/invoices/{id}/issue"), &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(text(&app, &format!("SELECT number FROM invoices WHERE id = '{id}'")), numbered("INV", 1));
    assert_eq!(app.count("audit_logs WHERE action = 'invoice.issued'"), 1);

    // Payments: too much is refused; part, then the rest.
    let res = owner
        .post_form(
            &format!("/invoices/{id}/payments"),
            &[("date", "2026-11-10"), ("amount", "60"), ("method", "bank_transfer")],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(app.count("payments"), 0, "an overpayment is refused");
    owner
        .post_form(
            &format!("/invoices/{id}/payments"),
            &[("date", "2026-11-10"), ("amount", "20"), ("method", "card"), ("note", "=HYPERLINK(\"x\")")],
        )
        .await;
    assert_eq!(text(&app, &format!("SELECT status FROM invoices WHERE id = '{id}'")), "partially_paid");
    owner
        .post_form(
            &format!("/invoices/{id}/payments"),
            &[("date", "2026-11-12"), ("amount", "36.05"), ("method", "bank_transfer")],
        )
        .await;
    assert_eq!(text(&app, &format!("SELECT status FROM invoices WHERE id = '{id}'")), "paid");
    assert_eq!(app.count("audit_logs WHERE action = 'invoice.payment_recorded'"), 2);

    // The PDF: real text with the number, the Unicode descriptions and the same totals.
    let (status, headers, pdf) = owner.get_bytes(&format!("/invoices/{id}/pdf")).await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-type").unwrap(), "application/pdf");
    assert!(pdf.len() < 60_000, "a one-page invoice embeds only the glyphs it uses ({} bytes)", pdf.len());
    let printed = pdf_text(&pdf);
    for expected in [
        &numbered("INV", 1),
        "Größe Łódź, café & crème",
        "₹ ¥ €",
        "49.98",
        "1.01",
        "-5.00",
        "VAT 20% on 49.98",
        "10.00 EUR",
        "Reduced 5.5% on 1.01",
        "0.06 EUR",
        "45.99 EUR",
        "56.05 EUR",
        "PAID",
        "Page 1 of 1",
        "Bank transfer within 30 days.",
    ] {
        assert!(printed.contains(expected), "the PDF shows {expected:?}:\n{printed}");
    }

    // The CSV: the same figures, formula-safe.
    let (status, _, csv) = owner.get_bytes("/invoices.csv").await;
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).unwrap();
    // Issued today: the issue date becomes the day of issue, the 30 days' term stays.
    let today = chrono::Utc::now().date_naive();
    let due = today + chrono::Duration::days(30);
    let inv = numbered("INV", 1);
    let row = format!(
        "\"{inv}\",\"paid\",\"Hannah Weber\",\"{today}\",\"{due}\",\"EUR\",\"45.99\",\"10.06\",\"56.05\",\"56.05\",\"0.00\""
    );
    assert!(csv.contains(&row), "{csv}");

    // Issued invoices are immutable, also by a hand-made POST.
    let res =
        save_document(&owner, &format!("/invoices/{id}"), &client, "due_date", &[("Changed", "1", "1", "")], &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(app.count(&format!("invoice_items WHERE invoice_id = '{id}' AND description = 'Changed'")), 0);
    assert_eq!(text(&app, &format!("SELECT total::text FROM invoices WHERE id = '{id}'")), "56.05");
    // And the database refuses it too.
    let mut conn = app.conn();
    let refused = diesel::RunQueryDsl::execute(
        diesel::sql_query(format!("UPDATE invoices SET total = 1 WHERE id = '{id}'")),
        &mut conn,
    );
    assert!(refused.is_err(), "the trigger keeps issued invoices as they are");
    for sql in [
        format!("DELETE FROM invoices WHERE id = '{id}'"),
        format!("UPDATE invoices SET status = 'sent' WHERE id = '{id}'"),
        format!("UPDATE invoices SET due_date = due_date + 1 WHERE id = '{id}'"),
        format!("DELETE FROM invoice_items WHERE invoice_id = '{id}'"),
    ] {
        let refused = diesel::RunQueryDsl::execute(diesel::sql_query(&sql), &mut conn);
        assert!(refused.is_err(), "refused: {sql}");
    }
    // An item of a draft cannot be moved onto the issued invoice either.
    let res = save_document(&owner, "/invoices", &client, "due_date", &[("Sneaked in", "1", "1", "")], &[]).await;
    let draft = id_from(res.location().unwrap());
    let moved = diesel::RunQueryDsl::execute(
        diesel::sql_query(format!("UPDATE invoice_items SET invoice_id = '{id}' WHERE invoice_id = '{draft}'")),
        &mut conn,
    );
    assert!(moved.is_err(), "items do not move onto an issued invoice");

    // The client's details are kept as they were when issued.
    execute(&app, "UPDATE clients SET name = 'Hannah Renamed', address = 'Elsewhere 1' WHERE name = 'Hannah Weber'");
    let page = owner.get(&format!("/invoices/{id}")).await;
    assert!(page.body.contains("Friedrichstraße 10") && !page.body.contains("Hannah Renamed"));
    let (_, _, pdf) = owner.get_bytes(&format!("/invoices/{id}/pdf")).await;
    assert!(pdf_text(&pdf).contains("Hannah Weber"));
}

#[tokio::test]
async fn issuing_assigns_gapless_numbers_under_concurrency() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let client = one(&app, HANNAH);
    let mut ids = Vec::new();
    for i in 0..12 {
        let res =
            save_document(&owner, "/invoices", &client, "due_date", &[(&format!("Work {i}"), "1", "100", "")], &[])
                .await;
        assert_eq!(res.status, 303);
        ids.push(id_from(res.location().unwrap()));
    }
    // Every draft issued at once, some twice, from separate sessions.
    let sessions = [app.owner().await, app.owner().await, app.admin().await];
    let paths: Vec<String> = ids.iter().chain(ids.iter().take(4)).map(|id| format!("/invoices/{id}/issue")).collect();
    let requests = paths.iter().enumerate().map(|(i, path)| sessions[i % sessions.len()].post_form(path, &[]));
    futures_util::future::join_all(requests).await;
    let numbers: Vec<String> = diesel::RunQueryDsl::load(
        diesel::dsl::sql::<diesel::sql_types::Text>("SELECT number FROM invoices ORDER BY number"),
        &mut app.conn(),
    )
    .unwrap();
    let expected: Vec<String> = (1..=12).map(|n| numbered("INV", n)).collect();
    assert_eq!(numbers, expected, "each draft got one number, with no gaps and no duplicates");
    assert_eq!(app.count("audit_logs WHERE action = 'invoice.issued'"), 12);
}

#[tokio::test]
async fn bad_lines_are_refused_next_to_their_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let client = one(&app, HANNAH);
    let otto = app.login(OTHER_OWNER).await;
    let foreign_tax = tax(&app, &otto, "Foreign VAT", "19").await;
    let long: String = "Ünïcödé 🎉 שלום עולם مرحبا ".repeat(200).chars().take(5001).collect();
    type Line<'a> = (&'a str, &'a str, &'a str, &'a str);
    let cases: Vec<(Vec<Line>, &str)> = vec![
        (vec![("Work", "two", "10", "")], "Enter a number, like 2 or 1250.50."),
        (vec![("Work", "-1", "10", "")], "For a discount, add a line with a negative price."),
        (vec![("Work", "1", "100000000000000000000", "")], "Use a number below 1,000,000,000."),
        (vec![("Work", "1", "1.00001", "")], "Use at most 4 decimal places."),
        (vec![("Work", "1.0005", "1", "")], "Use at most 3 decimal places."),
        (vec![("Work", "1", "10", &foreign_tax)], "Choose one of the taxes in the list."),
        (vec![(&long, "1", "10", "")], "Use at most 5000 characters."),
        (vec![("Work", "1", "100", ""), ("Discount", "1", "-200", "")], "the total would be below zero"),
        (vec![("Work", "1,5", "10", "")], "Use a dot for decimals, like 12.50."),
    ];
    for (lines, message) in &cases {
        let res = save_document(&owner, "/invoices", &client, "due_date", lines, &[]).await;
        assert_eq!(res.status, 400, "{message}");
        assert!(res.body.contains(message), "the page says {message:?}");
    }
    // A client of another organization is not one of ours.
    let res =
        save_document(&owner, "/invoices", &foreign_client_id(&app), "due_date", &[("Work", "1", "1", "")], &[]).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("Choose one of the options in the list."));
    // 10,000 rows: refused whole, with the limit named.
    let mut rows = Vec::new();
    for _ in 0..10_000 {
        rows.push(("Row", "1", "1", ""));
    }
    let res = save_document(&owner, "/invoices", &client, "due_date", &rows, &[]).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("at most 500 lines"));
    assert_eq!(app.count("invoices"), 0);
    assert_eq!(app.count("invoice_items"), 0);

    // Adding and removing rows re-renders the editor without saving.
    let res = save_document(
        &owner,
        "/invoices",
        &client,
        "due_date",
        &[("Kept", "1", "5", ""), ("Gone", "1", "7", "")],
        &[("op", "remove-1")],
    )
    .await;
    assert_eq!(res.status, 200);
    assert!(res.body.contains("Kept") && !res.body.contains("Gone"));
    assert!(res.body.contains("5.00 EUR"), "totals are recomputed");
    assert_eq!(app.count("invoices"), 0);

    // A 5,000-character description with emoji and right-to-left text still renders and wraps.
    let long: String = long.chars().take(5000).collect();
    let res = save_document(
        &owner,
        "/invoices",
        &client,
        "due_date",
        &[(&long, "1", "10", ""), ("After", "2", "3", "")],
        &[],
    )
    .await;
    assert_eq!(res.status, 303);
    let id = id_from(res.location().unwrap());
    let (status, _, pdf) = owner.get_bytes(&format!("/invoices/{id}/pdf")).await;
    assert_eq!(status, 200);
    assert!(pdf_pages(&pdf) >= 2, "the long line flows onto a second page");
    let printed = pdf_text(&pdf);
    assert!(printed.contains("Ünïcödé"));
    assert!(printed.contains("16.00 EUR"), "{printed}");
    assert!(printed.contains("Page 2 of"));
}

fn foreign_client_id(app: &TestApp) -> String {
    execute(
        app,
        "INSERT INTO clients (id, org_id, name) SELECT gen_random_uuid(), id, 'Foreign client' FROM organizations WHERE name = 'Other Corp'",
    );
    one(app, "SELECT id FROM clients WHERE name = 'Foreign client'")
}

#[tokio::test]
async fn void_needs_a_reason_takes_no_payments_and_releases_time() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let client = one(&app, HANNAH);
    let res = save_document(&owner, "/invoices", &client, "due_date", &[("Work", "1", "100", "")], &[]).await;
    let id = id_from(res.location().unwrap());
    // A draft is deleted, not voided.
    owner.post_form(&format!("/invoices/{id}/void"), &[("reason", "wrong")]).await;
    assert_eq!(text(&app, &format!("SELECT status FROM invoices WHERE id = '{id}'")), "draft");
    owner.post_form(&format!("/invoices/{id}/issue"), &[]).await;
    owner.post_form(&format!("/invoices/{id}/void"), &[("reason", " ")]).await;
    assert_eq!(text(&app, &format!("SELECT status FROM invoices WHERE id = '{id}'")), "sent", "a reason is required");
    owner.post_form(&format!("/invoices/{id}/void"), &[("reason", "Billed to the wrong client")]).await;
    assert_eq!(text(&app, &format!("SELECT status FROM invoices WHERE id = '{id}'")), "void");
    assert_eq!(app.count("audit_logs WHERE action = 'invoice.voided'"), 1);
    let res = owner
        .post_form(&format!("/invoices/{id}/payments"), &[("date", "2026-11-10"), ("amount", "10"), ("method", "cash")])
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(app.count("payments"), 0, "a void invoice takes no payments");
    let res = owner.post_form(&format!("/invoices/{id}/delete"), &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(app.count("invoices"), 1, "issued invoices are never deleted");
    // The number stays used: the next invoice gets the next one.
    let res = save_document(&owner, "/invoices", &client, "due_date", &[("Work", "1", "100", "")], &[]).await;
    let next = id_from(res.location().unwrap());
    owner.post_form(&format!("/invoices/{next}/issue"), &[]).await;
    assert_eq!(text(&app, &format!("SELECT number FROM invoices WHERE id = '{next}'")), numbered("INV", 2));

    // An invoice with a (mistyped) payment can still be voided; the payment stays on record.
    owner
        .post_form(
            &format!("/invoices/{next}/payments"),
            &[("date", "2026-11-10"), ("amount", "10"), ("method", "cash")],
        )
        .await;
    let res = owner.post_form(&format!("/invoices/{next}/void"), &[("reason", "Payment typed wrong; reissued")]).await;
    assert_eq!(res.status, 303);
    assert_eq!(text(&app, &format!("SELECT status FROM invoices WHERE id = '{next}'")), "void");
    assert_eq!(app.count("payments"), 1);

    // A zero-total invoice is paid as soon as it is issued.
    let res = save_document(&owner, "/invoices", &client, "due_date", &[("Goodwill visit", "1", "0", "")], &[]).await;
    let free = id_from(res.location().unwrap());
    owner.post_form(&format!("/invoices/{free}/issue"), &[]).await;
    assert_eq!(text(&app, &format!("SELECT status FROM invoices WHERE id = '{free}'")), "paid");
}

#[tokio::test]
async fn unbilled_time_becomes_a_draft_that_reserves_it_until_deleted() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    execute(
        &app,
        "INSERT INTO time_entries (id, org_id, task_id, user_id, entry_date, minutes, billable, hourly_rate)
         SELECT gen_random_uuid(), t.org_id, t.id, u.id, DATE '2026-11-02', m.minutes, m.billable, 90
         FROM tasks t, users u, (VALUES (90, true), (30, true), (45, false)) AS m(minutes, billable)
         WHERE t.title = 'Visual design of the shop' AND u.email = 'member@northwind.example'",
    );
    let project = one(&app, "SELECT id FROM projects WHERE title = 'Website redesign'");
    let page = owner.get(&format!("/invoices/from-time?project_id={project}")).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body.matches("name=\"time_entry_ids\"").count(), 2, "billable time only");
    let entries: Vec<uuid::Uuid> = diesel::RunQueryDsl::load(
        diesel::dsl::sql::<diesel::sql_types::Uuid>("SELECT id FROM time_entries WHERE billable"),
        &mut app.conn(),
    )
    .unwrap();
    let (a, b) = (entries[0].to_string(), entries[1].to_string());
    let res = owner
        .post_form("/invoices/from-time", &[("project_id", &project), ("time_entry_ids", &a), ("time_entry_ids", &b)])
        .await;
    assert_eq!(res.status, 303);
    let id = id_from(res.location().unwrap());
    assert_eq!(app.count(&format!("time_entries WHERE invoice_id = '{id}'")), 2);
    // One line for the task: 2 hours × 90.
    assert_eq!(
        text(
            &app,
            &format!("SELECT quantity::text || ' × ' || unit_price::text FROM invoice_items WHERE invoice_id = '{id}'")
        ),
        "2.000 × 90.0000"
    );
    assert_eq!(text(&app, &format!("SELECT total::text FROM invoices WHERE id = '{id}'")), "180.00");
    // Taken time is not offered again, nor taken twice.
    let res = owner.post_form("/invoices/from-time", &[("project_id", &project), ("time_entry_ids", &a)]).await;
    assert!(res.location().unwrap().starts_with("/invoices/from-time"));
    assert_eq!(app.count("invoices"), 1);
    // Deleting the draft releases the time.
    owner.post_form(&format!("/invoices/{id}/delete"), &[]).await;
    assert_eq!(app.count("time_entries WHERE invoice_id IS NOT NULL"), 0);
}

#[tokio::test]
async fn a_tax_used_by_a_draft_is_kept_and_issued_documents_keep_their_rate() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let client = one(&app, HANNAH);
    let vat = tax(&app, &owner, "VAT", "20").await;
    // Bad rates.
    for (rate, message) in
        [("20.00001", "at most 4 decimal places"), ("101", "from 0 to 100"), ("abc", "Enter the rate")]
    {
        let res = owner.post_form("/taxes", &[("name", "Bad"), ("rate", rate)]).await;
        assert_eq!(res.status, 400);
        assert!(res.body.contains(message), "{rate}");
    }
    let res = save_document(&owner, "/invoices", &client, "due_date", &[("Work", "1", "100", &vat)], &[]).await;
    let id = id_from(res.location().unwrap());
    owner.post_form(&format!("/taxes/{vat}/delete"), &[]).await;
    assert_eq!(app.count("taxes"), 1, "a draft uses it");
    owner.post_form(&format!("/invoices/{id}/issue"), &[]).await;
    owner.post_form(&format!("/taxes/{vat}/delete"), &[]).await;
    assert_eq!(app.count("taxes"), 0, "issued documents do not hold it");
    assert_eq!(
        text(&app, &format!("SELECT tax_name || ' ' || tax_rate::text FROM invoice_items WHERE invoice_id = '{id}'")),
        "VAT 20.0000"
    );
    let (_, _, pdf) = owner.get_bytes(&format!("/invoices/{id}/pdf")).await;
    assert!(pdf_text(&pdf).contains("VAT 20% on 100.00"));
}

#[tokio::test]
async fn a_quotation_is_sent_with_its_pdf_and_converted_once() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let client = one(&app, HANNAH);
    let vat = tax(&app, &owner, "VAT", "19").await;
    let res = save_document(
        &owner,
        "/quotations",
        &client,
        "valid_until",
        &[("Brand book", "1", "4000", &vat), ("Logo", "1", "1500", &vat)],
        &[],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let id = id_from(res.location().unwrap());
    // Converting a draft is refused.
    owner.post_form(&format!("/quotations/{id}/convert"), &[]).await;
    assert_eq!(app.count("invoices"), 0);

    let res = owner.post_form(&format!("/quotations/{id}/send"), &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(
        text(&app, &format!("SELECT number || ' ' || status FROM quotations WHERE id = '{id}'")),
        format!("{} sent", numbered("QUO", 1))
    );
    let mail = app.mail.wait_for(1).await;
    assert_eq!(mail[0].to, vec!["hannah@weber-bau.example".to_string()]);
    assert!(mail[0].subject().contains(&numbered("QUO", 1)));
    let body = mail[0].decoded();
    assert!(body.contains("6,545.00 EUR"), "the email shows the total");
    let link = mail[0].link(&format!("{}/p/", app.base)).expect("a portal link");
    let token = link.rsplit('/').next().unwrap();
    assert_eq!(app.count("portal_tokens WHERE purpose = 'quotation'"), 1);
    let stored: Vec<u8> = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Bytea>("SELECT token_hash FROM portal_tokens"),
        &mut app.conn(),
    )
    .unwrap();
    assert_ne!(stored, token.as_bytes(), "only the hash is stored");
    let pdf = mail[0].attachment(&format!("{}.pdf", numbered("QUO", 1))).expect("the PDF is attached");
    let printed = pdf_text(&pdf);
    assert!(printed.contains("QUOTATION") && printed.contains("6,545.00 EUR"), "{printed}");
    assert_eq!(app.count("audit_logs WHERE action = 'quotation.sent'"), 1);
    assert!(
        text(
            &app,
            &format!("SELECT (sent_at IS NOT NULL AND sent_by IS NOT NULL)::text FROM quotations WHERE id = '{id}'")
        ) == "true"
    );

    let res = owner.post_form(&format!("/quotations/{id}/convert"), &[]).await;
    assert_eq!(res.status, 303);
    let invoice = id_from(res.location().unwrap());
    assert_eq!(
        text(
            &app,
            &format!(
                "SELECT status || ' ' || total::text FROM invoices WHERE id = '{invoice}' AND quotation_id = '{id}'"
            )
        ),
        "draft 6545.00"
    );
    assert_eq!(app.count(&format!("invoice_items WHERE invoice_id = '{invoice}'")), 2);
    let page = owner.get(&format!("/quotations/{id}")).await;
    assert!(page.body.contains(&format!("/invoices/{invoice}")), "the quotation links to its invoice");
    let page = owner.get(&format!("/invoices/{invoice}")).await;
    assert!(page.body.contains(&numbered("QUO", 1)), "the invoice links to its quotation");
    owner.post_form(&format!("/quotations/{id}/convert"), &[]).await;
    assert_eq!(app.count("invoices"), 1, "converting twice is refused");
    assert_eq!(app.count("audit_logs WHERE action = 'quotation.converted'"), 1);
}

#[tokio::test]
async fn a_quotation_is_answered_once_and_only_while_valid() {
    use clienthub::money::quotations::{Answer, AnswerRefused, answer};
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let client = one(&app, HANNAH);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let res = save_document(&owner, "/quotations", &client, "valid_until", &[("Work", "1", "100", "")], &[]).await;
        ids.push(uuid::Uuid::parse_str(&id_from(res.location().unwrap())).unwrap());
    }
    let tenant = tenant_of(&app);
    let mut conn = app.conn();
    let run = |conn: &mut diesel::PgConnection, id, a: &Answer, today| {
        clienthub::db::tenant::transaction(conn, &tenant, |c| answer(c, id, a, today)).unwrap()
    };
    assert_eq!(run(&mut conn, ids[0], &Answer::Accept, chrono::Utc::now().date_naive()), Err(AnswerRefused::NotSent));
    owner.post_form(&format!("/quotations/{}/send", ids[0]), &[]).await;
    owner.post_form(&format!("/quotations/{}/send", ids[1]), &[]).await;
    // Sent today, valid for 30 days: the day after that, it has expired.
    let until = chrono::Utc::now().date_naive() + chrono::Duration::days(30);
    let after = until + chrono::Duration::days(1);
    assert_eq!(run(&mut conn, ids[0], &Answer::Accept, after), Err(AnswerRefused::Expired(until)));
    assert_eq!(run(&mut conn, ids[0], &Answer::Accept, until), Ok(()));
    assert_eq!(
        run(&mut conn, ids[0], &Answer::Decline { reason: String::new() }, until),
        Err(AnswerRefused::AlreadyAnswered("accepted".into()))
    );
    assert_eq!(run(&mut conn, ids[1], &Answer::Decline { reason: "Too dear".into() }, until), Ok(()));
    assert_eq!(
        text(&app, &format!("SELECT status || ' ' || decline_reason FROM quotations WHERE id = '{}'", ids[1])),
        "declined Too dear"
    );
    // A declined quotation is not converted.
    owner.post_form(&format!("/quotations/{}/convert", ids[1]), &[]).await;
    assert_eq!(app.count("invoices"), 0);
}

fn tenant_of(app: &TestApp) -> clienthub::db::Tenant {
    let org: uuid::Uuid =
        uuid::Uuid::parse_str(&one(app, "SELECT id FROM organizations WHERE name = 'Northwind Studio'")).unwrap();
    let user: uuid::Uuid =
        uuid::Uuid::parse_str(&one(app, "SELECT id FROM users WHERE email = 'owner@northwind.example'")).unwrap();
    clienthub::db::Tenant {
        org_id: clienthub::db::ids::OrgId(org),
        user_id: clienthub::db::ids::UserId(user),
        client_id: None,
    }
}

#[tokio::test]
async fn lists_filter_by_status_client_and_dates_and_total_per_currency() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let client = one(&app, HANNAH);
    let mut ids = Vec::new();
    for (price, currency) in [("100", "EUR"), ("250.50", "EUR"), ("80", "USD")] {
        let res = save_document(
            &owner,
            "/invoices",
            &client,
            "due_date",
            &[("Work", "1", price, "")],
            &[("currency", currency)],
        )
        .await;
        let id = id_from(res.location().unwrap());
        owner.post_form(&format!("/invoices/{id}/issue"), &[]).await;
        ids.push(id);
    }
    // One was issued in October and was due on 5 November (dates no page can set).
    diesel::connection::SimpleConnection::batch_execute(
        &mut *app.conn(),
        &format!(
            "ALTER TABLE invoices DISABLE TRIGGER invoices_issued_are_frozen;
             UPDATE invoices SET issue_date = '2026-10-06', due_date = '2026-11-05' WHERE id = '{}';
             ALTER TABLE invoices ENABLE TRIGGER invoices_issued_are_frozen;",
            ids[1]
        ),
    )
    .unwrap();
    let page = owner.get("/invoices").await;
    assert!(page.body.contains("350.50 EUR") && page.body.contains("80.00 USD"), "totals per currency");
    // Narrowed by a status alone, the sums come from the database's tallies; with a date
    // filter too, from the invoices themselves: the same figures.
    let totals = |body: &str| {
        let start = body.find("<ul class=\"currency-totals\"").map(|i| &body[i..]).unwrap_or("");
        start[..start.find("</ul>").unwrap_or(0)].to_string()
    };
    for status in ["", "draft", "sent", "partially_paid", "paid", "void"] {
        let tallied = owner.get(&format!("/invoices?status={status}")).await;
        let scanned = owner.get(&format!("/invoices?status={status}&from=2000-01-01")).await;
        assert_eq!(totals(&tallied.body), totals(&scanned.body), "status {status:?}");
    }
    assert!(totals(&page.body).contains("350.50 EUR"));
    // The one due on 5 November has passed its due date with a balance.
    let overdue = owner.get("/invoices?status=overdue").await;
    assert_eq!(overdue.body.matches("class=\"badge doc-status-overdue\"").count(), 1);
    assert!(overdue.body.contains("250.50 EUR"));
    let usd = owner.get(&format!("/invoices?client_id={client}&status=sent")).await;
    assert_eq!(usd.body.matches("<tr>").count(), 1 + 3, "sent includes the overdue one");
    let none = owner.get("/invoices?to=2026-10-01").await;
    assert!(none.body.contains("Nothing matches these filters."));
    let bad = owner.get("/invoices?from=2026-02-30").await;
    assert_eq!(bad.status, 400);
    let member = app.member().await;
    assert_eq!(member.get("/invoices").await.status, 200, "members read invoices");
    assert_eq!(member.get("/invoices/new").await.status, 403);
}

/// Random documents (generated by proptest, deterministically): the figures the page,
/// the PDF, the email and the CSV show are the same, and are those of the arithmetic.
#[tokio::test]
async fn random_documents_show_the_same_figures_on_the_page_in_the_pdf_the_email_and_the_csv() {
    use proptest::strategy::{Strategy, ValueTree};
    use rust_decimal::Decimal;

    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let client = one(&app, HANNAH);
    let taxes = [tax(&app, &owner, "VAT", "20").await, tax(&app, &owner, "Sales", "8.875").await];
    let strategy = proptest::collection::vec(
        (1i64..100_000_000, -1_000_000i64..1_000_000_000, proptest::option::of(0usize..2)),
        1..25,
    );
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let documents = 6;
    let mut compared = 0;
    for n in 0..documents {
        let lines: Vec<(String, String, String, String)> = strategy
            .new_tree(&mut runner)
            .unwrap()
            .current()
            .into_iter()
            .enumerate()
            .map(|(i, (q, p, t))| {
                (
                    format!("Line {i} of document {n}"),
                    Decimal::new(q, 3).normalize().to_string(),
                    Decimal::new(p, 4).normalize().to_string(),
                    t.map(|t| taxes[t].clone()).unwrap_or_default(),
                )
            })
            .collect();
        let borrowed: Vec<(&str, &str, &str, &str)> =
            lines.iter().map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str())).collect();
        let res = save_document(&owner, "/invoices", &client, "due_date", &borrowed, &[]).await;
        if res.status == 400 {
            // Discounts larger than the rest: refused, as they must be.
            assert!(res.body.contains("the total would be below zero"), "{}", res.body);
            continue;
        }
        assert_eq!(res.status, 303, "{}", res.body);
        let id = id_from(res.location().unwrap());
        owner.post_form(&format!("/invoices/{id}/send"), &[]).await;
        let number = text(&app, &format!("SELECT number FROM invoices WHERE id = '{id}'"));

        // The arithmetic, from the lines as stored.
        let items: Vec<(String, String, String)> = diesel::RunQueryDsl::load(
            diesel::dsl::sql::<(diesel::sql_types::Text, diesel::sql_types::Text, diesel::sql_types::Text)>(&format!(
                "SELECT amount::text, coalesce(tax_name, ''), coalesce(tax_rate::text, '') FROM invoice_items WHERE invoice_id = '{id}' ORDER BY position"
            )),
            &mut app.conn(),
        )
        .unwrap();
        let applied: Vec<Option<clienthub::money::amounts::AppliedTax>> = items
            .iter()
            .map(|(_, name, rate)| {
                (!name.is_empty())
                    .then(|| clienthub::money::amounts::AppliedTax { name: name.clone(), rate: rate.parse().unwrap() })
            })
            .collect();
        let totals = clienthub::money::amounts::totals(
            items.iter().zip(&applied).map(|((amount, _, _), t)| (amount.parse::<Decimal>().unwrap(), t.as_ref())),
        );
        let shown = |d: Decimal| clienthub::money::amounts::with_currency(d, "EUR");
        let mut figures = vec![shown(totals.subtotal), shown(totals.total)];
        figures.extend(totals.taxes.iter().map(|t| shown(t.amount)));

        let page = owner.get(&format!("/invoices/{id}")).await.body;
        let (_, _, pdf) = owner.get_bytes(&format!("/invoices/{id}/pdf")).await;
        let printed = pdf_text(&pdf);
        // One email per document sent so far, this one last.
        let mail = app.mail.wait_for(compared + 1).await;
        let email = mail.iter().find(|m| m.subject().contains(&number)).expect("the invoice's email").decoded();
        for figure in &figures {
            assert!(page.contains(figure), "the page of {number} shows {figure}");
            assert!(printed.contains(figure), "the PDF of {number} shows {figure}:\n{printed}");
        }
        assert!(email.contains(&shown(totals.total)), "the email of {number} shows its total");
        let (_, _, csv) = owner.get_bytes("/invoices.csv").await;
        let csv = String::from_utf8(csv).unwrap();
        let row = csv.lines().find(|l| l.starts_with(&format!("\"{number}\""))).expect("the CSV row");
        let money = clienthub::money::amounts::money;
        assert!(
            row.contains(&format!(
                "\"{}\",\"{}\",\"{}\"",
                money(totals.subtotal),
                money(totals.tax_total),
                money(totals.total)
            )),
            "the CSV row of {number} has the same figures: {row}"
        );
        compared += 1;
    }
    assert!(compared >= documents / 2, "most random documents are valid and were compared ({compared})");
}

/// The organization's logo is drawn on its documents, on the paper size it chose.
#[tokio::test]
async fn documents_carry_the_logo_on_the_chosen_paper() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let client = one(&app, HANNAH);
    let logo = hex::encode(crate::orgs::png());
    execute(
        &app,
        &format!(
            "UPDATE organizations SET logo = decode('{logo}', 'hex'), logo_content_type = 'image/png', logo_updated_at = now(),
                    paper_size = 'Letter', address = '12 Harbour Street\nBristol BS1 4RW', tax_id = 'GB123456789'
             WHERE name = 'Northwind Studio'"
        ),
    );
    let res = save_document(&owner, "/quotations", &client, "valid_until", &[("Work", "1", "100", "")], &[]).await;
    let id = id_from(res.location().unwrap());
    let (status, headers, pdf) = owner.get_bytes(&format!("/quotations/{id}/pdf")).await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-disposition").unwrap(), "inline; filename=\"quotation-draft.pdf\"");
    let dir = std::env::temp_dir().join(format!("clienthub-logo-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("q.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let info = String::from_utf8(Command::new("pdfinfo").arg(&file).output().unwrap().stdout).unwrap();
    assert!(info.contains("612 x 792 pts (letter)"), "Letter paper:\n{info}");
    let images = String::from_utf8(Command::new("pdfimages").arg("-list").arg(&file).output().unwrap().stdout).unwrap();
    assert!(images.lines().any(|l| l.split_whitespace().nth(2) == Some("image")), "the logo is drawn:\n{images}");
    let _ = std::fs::remove_dir_all(&dir);
    let printed = pdf_text(&pdf);
    assert!(
        printed.contains("12 Harbour Street") && printed.contains("Tax ID: GB123456789") && printed.contains("DRAFT")
    );
}

/// Whoever sent an invoice is told when someone else records the payment that settles it.
#[tokio::test]
async fn the_sender_is_notified_when_an_invoice_is_paid() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let client = one(&app, HANNAH);
    let res = save_document(&owner, "/invoices", &client, "due_date", &[("Work", "1", "100", "")], &[]).await;
    let id = id_from(res.location().unwrap());
    owner.post_form(&format!("/invoices/{id}/issue"), &[]).await;
    let admin = app.admin().await;
    admin
        .post_form(&format!("/invoices/{id}/payments"), &[("date", "2026-11-20"), ("amount", "40"), ("method", "card")])
        .await;
    assert_eq!(app.count("notifications WHERE kind = 'invoice_paid'"), 0, "partly paid is not settled");
    admin
        .post_form(&format!("/invoices/{id}/payments"), &[("date", "2026-11-21"), ("amount", "60"), ("method", "card")])
        .await;
    assert_eq!(
        app.count("notifications n JOIN users u ON u.id = n.user_id WHERE n.kind = 'invoice_paid' AND u.email = 'owner@northwind.example'"),
        1
    );
    assert!(
        owner
            .get("/notifications")
            .await
            .body
            .contains(&format!("Invoice {} from Hannah Weber is paid in full", numbered("INV", 1)))
    );
}
