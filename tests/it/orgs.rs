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

pub fn png() -> Vec<u8> {
    // A real 1×1 PNG.
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[
        0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0,
        13, b'I', b'D', b'A', b'T', 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0, 0x05, 0x00, 0x01, 0xff, 0x89,
        0x99, 0x3d, 0x1d, 0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82,
    ]);
    bytes
}

async fn upload(client: &Client, token: Option<&str>, file_name: &str, bytes: Vec<u8>) -> Page {
    let mut form = reqwest::multipart::Form::new();
    if let Some(token) = token {
        form = form.text("csrf_token", token.to_string());
    }
    form = form.part(
        "logo",
        reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string()).mime_str("image/png").unwrap(),
    );
    let res = client
        .http
        .post(client.url("/settings/logo"))
        .header("sec-fetch-site", "same-origin")
        .multipart(form)
        .send()
        .await
        .unwrap();
    Client::page(res).await
}

#[tokio::test]
async fn a_logo_is_uploaded_checked_by_its_bytes_and_served() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = owner.csrf().await;

    let res = upload(&owner, Some(&token), "logo.png", png()).await;
    assert_eq!(res.status, 303);
    let dashboard = owner.get("/dashboard").await;
    let start = dashboard.body.find("/orgs/").expect("the sidebar shows the logo");
    let url = &dashboard.body[start..start + dashboard.body[start..].find('"').unwrap()];
    let logo = app.client().get(url).await;
    assert_eq!(logo.status, 200);
    assert_eq!(logo.headers["content-type"], "image/png");
    assert_eq!(app.count("audit_logs WHERE action = 'settings.logo_updated'"), 1);

    for (name, bytes, message) in [
        (
            "logo.png",
            b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>".to_vec(),
            "Use a PNG, JPEG or WebP image.",
        ),
        (
            "logo.png",
            b"MZ\x90\x00\x03\x00\x00\x00 an executable in disguise".to_vec(),
            "Use a PNG, JPEG or WebP image.",
        ),
        ("logo.png", Vec::new(), "Choose an image file to upload."),
    ] {
        let res = upload(&owner, Some(&token), name, bytes).await;
        assert_eq!(res.status, 400);
        assert!(res.body.contains(message), "{message}");
    }
    let mut huge = png();
    huge.resize(600 * 1024, 0);
    let res = upload(&owner, Some(&token), "huge.png", huge).await;
    assert_eq!(res.status, 413);
    assert!(res.body.contains("larger than 512 kB"));
    assert_eq!(app.count("audit_logs WHERE action = 'settings.logo_updated'"), 1, "nothing else was stored");

    assert_eq!(upload(&owner, None, "logo.png", png()).await.status, 403, "an upload without the token is refused");
    let member = app.member().await;
    let member_token = member.csrf().await;
    assert_eq!(upload(&member, Some(&member_token), "logo.png", png()).await.status, 403);

    owner.post_form("/settings/logo/delete", &[]).await;
    assert_eq!(app.client().get(url).await.status, 404);
}
