//! The audit log page and its CSV export.

use crate::support::*;

#[tokio::test]
async fn the_audit_log_lists_filters_and_pages_the_organizations_own_entries() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    app.admin().await;
    app.login(OTHER_OWNER).await;
    let page = owner.get("/audit-logs").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("auth.login") && page.body.contains("Adam Okafor"));
    assert!(!page.body.contains("Otto Other"), "another organization's entries never show");

    let filtered = owner.get("/audit-logs?action=auth.login&actor=").await;
    assert!(!filtered.body.contains("<code>org.created</code>"));
    let future = owner.get("/audit-logs?from=2999-01-01").await;
    assert!(future.body.contains("No entries match."));
    let bad = owner.get("/audit-logs?from=2026-02-30").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("The start date is not a date"));
    let reversed = owner.get("/audit-logs?from=2026-05-02&to=2026-05-01").await;
    assert!(reversed.body.contains("The start date is after the end date."));

    // 60 more entries: two pages, no entry on both.
    diesel::RunQueryDsl::execute(
        diesel::sql_query(
            "INSERT INTO audit_logs (id, org_id, action, created_at)
             SELECT gen_random_uuid(), o.id, 'test.filler', now() - (g || ' minutes')::interval
             FROM organizations o, generate_series(1, 60) g WHERE o.name = 'Northwind Studio'",
        ),
        &mut app.conn(),
    )
    .unwrap();
    let first = owner.get("/audit-logs?action=test.filler").await;
    assert_eq!(first.body.matches("<code>test.filler</code>").count(), 50);
    let pager = &first.body[first.body.find("class=\"card-body pager\"").expect("a link to older entries")..];
    let start = pager.find("href=\"").unwrap() + 6;
    let href = pager[start..start + pager[start..].find('"').unwrap()].replace("&amp;", "&").replace("&#38;", "&");
    let second = owner.get(&href).await;
    assert_eq!(second.body.matches("<code>test.filler</code>").count(), 10);
    assert_eq!(app.member().await.get("/audit-logs").await.status, 403);
}

#[tokio::test]
async fn the_csv_export_is_formula_safe() {
    let app = TestApp::empty().await;
    let client = app.client();
    let res = client
        .post_form(
            "/signup",
            &[
                ("name", "=HYPERLINK(\"http://evil.example\")"),
                ("email", "eve@example.com"),
                ("password", "long enough pw"),
                ("org_name", "+Evil, Inc"),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    client.post_form("/logout", &[]).await;
    client.post_form("/login", &[("email", "eve@example.com"), ("password", "long enough pw")]).await;
    let csv = client.get("/audit-logs.csv").await;
    assert_eq!(csv.status, 200);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert!(csv.body.starts_with("time,action,actor,"));
    assert!(csv.body.contains("\"'=HYPERLINK(\"\"http://evil.example\"\")\""), "{}", csv.body);
    assert!(!csv.body.contains(",\"=HYPERLINK"));
    assert!(csv.body.contains("auth.login"));
}
