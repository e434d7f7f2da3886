//! Organizations: the switcher and the settings page.

use crate::support::*;

#[tokio::test]
async fn a_member_of_two_organizations_switches_between_them() {
    let app = TestApp::spawn().await;
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "INSERT INTO memberships (id, org_id, user_id, role_id)
             SELECT gen_random_uuid(), r.org_id, u.id, r.id FROM roles r, users u, organizations o
             WHERE o.name = 'Other Corp' AND r.org_id = o.id AND r.key = 'member' AND u.email = '{OWNER}'"
        )),
        &mut app.conn(),
    )
    .unwrap();
    let olivia = app.owner().await;
    let list = olivia.get("/organizations").await;
    assert!(list.body.contains("Northwind Studio") && list.body.contains("Other Corp"));
    let other: uuid::Uuid = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Uuid>("SELECT id FROM organizations WHERE name = 'Other Corp'"),
        &mut app.conn(),
    )
    .unwrap();
    let res = olivia.post_form("/organizations/switch", &[("org_id", &other.to_string())]).await;
    assert_eq!(res.location(), Some("/dashboard"));
    let page = olivia.get("/dashboard").await;
    assert!(page.body.contains("Other Corp") && page.body.contains("Member"));
    assert_eq!(olivia.get("/settings").await.status, 403, "a Member there, so no settings");

    // An organization one does not belong to cannot be switched to.
    let mia = app.member().await;
    assert_eq!(mia.post_form("/organizations/switch", &[("org_id", &other.to_string())]).await.status, 404);
    assert!(mia.get("/dashboard").await.body.contains("Northwind Studio"));
}

#[tokio::test]
async fn settings_are_saved_audited_and_the_brand_color_reaches_every_page() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    assert!(owner.get("/settings").await.body.contains("value=\"Northwind Studio\""));
    let fields = [
        ("name", "Northwind & Co"),
        ("brand_color", "#0F766E"),
        ("address", "12 Harbour Road\nBristol"),
        ("tax_id", "GB123456789"),
        ("default_currency", "GBP"),
        ("timezone", "Europe/London"),
        ("invoice_prefix", "nw"),
        ("quotation_prefix", "NQ"),
        ("payment_terms_days", "14"),
        ("paper_size", "A4"),
    ];
    let res = owner.post_form("/settings", &fields).await;
    assert_eq!(res.status, 303);
    let page = owner.get("/settings").await;
    assert!(page.body.contains("Settings saved."));
    assert!(page.body.contains("Northwind &#38; Co") || page.body.contains("Northwind &amp; Co"), "names are escaped");
    assert!(page.body.contains("value=\"NW\""));
    assert!(owner.get("/dashboard").await.body.contains("/brand.css?c=0f766e"));
    assert_eq!(app.count("audit_logs WHERE action = 'settings.updated'"), 1);

    let mut bad = fields.to_vec();
    bad[1] = ("brand_color", "javascript:alert(1)");
    bad[4] = ("default_currency", "BTC");
    let res = owner.post_form("/settings", &bad).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("Use a color like #4f46e5.") && res.body.contains("Choose a currency from the list."));
    assert_eq!(app.count("organizations WHERE default_currency = 'BTC'"), 0);
    assert_eq!(app.member().await.get("/settings").await.status, 403);
}
