//! The client portal: a client user sees their own shared projects, tasks, files and
//! issued documents, and nothing of another client or organization — each such id is a
//! 404 on every portal route — and answers quotations, which notifies the staff.

use crate::money::{numbered, one, save_document, text};
use crate::support::*;

const CHLOE: &str = "SELECT id FROM clients WHERE name = 'Chloé Durand'";

fn execute(app: &TestApp, sql: &str) {
    diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut app.conn()).unwrap();
}

fn id_from(location: &str) -> String {
    location.rsplit('/').next().unwrap().to_string()
}

/// A document for `client`, issued (sent) unless `draft`; its id.
async fn document(owner: &Client, kind: &str, client: &str, draft: bool) -> String {
    let end = if kind == "invoices" { "due_date" } else { "valid_until" };
    let res = save_document(owner, &format!("/{kind}"), client, end, &[("Work", "1", "100", "")], &[]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let id = id_from(res.location().unwrap());
    if !draft {
        let action = if kind == "invoices" { "issue" } else { "send" };
        assert_eq!(owner.post_form(&format!("/{kind}/{id}/{action}"), &[]).await.status, 303);
    }
    id
}

#[tokio::test]
async fn a_client_sees_only_their_own_shared_records() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let (chloe, hannah) = (one(&app, CHLOE), one(&app, crate::money::HANNAH));
    let mine = document(&owner, "invoices", &chloe, false).await;
    let my_quote = document(&owner, "quotations", &chloe, false).await;
    let my_draft = document(&owner, "invoices", &chloe, true).await;
    let theirs = document(&owner, "invoices", &hannah, false).await;
    let their_quote = document(&owner, "quotations", &hannah, false).await;
    // Chloé's project is shared with one task shared and one not; a file on it.
    execute(&app, "UPDATE projects SET client_visible = true WHERE title = 'Website redesign'");
    execute(&app, "UPDATE tasks SET client_visible = (title = 'Visual design of the shop')");
    let upload = owner
        .post_multipart(
            "/files",
            &[("project_id", &one(&app, "SELECT id FROM projects WHERE title = 'Website redesign'"))],
            Some(("brief.pdf", b"%PDF-1.7\n".to_vec())),
        )
        .await;
    assert_eq!(upload.status, 303);
    let file = one(&app, "SELECT id FROM files");
    let project = one(&app, "SELECT id FROM projects WHERE title = 'Website redesign'");
    let hidden_project = one(&app, "SELECT id FROM projects WHERE title = 'Brand identity'");
    // Other Corp's records.
    let otto = app.login(OTHER_OWNER).await;
    let other_client = {
        execute(
            &app,
            "INSERT INTO clients (id, org_id, name, email) SELECT gen_random_uuid(), id, 'Other client', 'other@client.example' FROM organizations WHERE name = 'Other Corp'",
        );
        one(&app, "SELECT id FROM clients WHERE name = 'Other client'")
    };
    let other_invoice = document(&otto, "invoices", &other_client, false).await;
    let other_quote = document(&otto, "quotations", &other_client, false).await;

    let client = app.login(CLIENT).await;
    let res = client.get("/dashboard").await;
    assert_eq!(res.location(), Some("/portal"), "a client's dashboard is the portal");
    let portal = client.get("/portal").await;
    assert_eq!(portal.status, 200);
    assert!(portal.body.contains(&numbered("INV", 1)) && portal.body.contains(&numbered("QUO", 1)));
    assert!(!portal.body.contains(&numbered("INV", 2)), "Hannah's invoice is not listed");
    assert_eq!(client.get("/clients").await.status, 403, "staff pages are closed");
    assert_eq!(client.get(&format!("/invoices/{mine}")).await.status, 403);

    // Their own records.
    assert_eq!(client.get(&format!("/portal/invoices/{mine}")).await.status, 200);
    let (status, _, pdf) = client.get_bytes(&format!("/portal/invoices/{mine}/pdf")).await;
    assert_eq!(status, 200);
    assert!(crate::money::pdf_text(&pdf).contains(&numbered("INV", 1)));
    let page = client.get(&format!("/portal/projects/{project}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Visual design of the shop"));
    assert!(!page.body.contains("Wireframes"), "tasks not shared stay hidden");
    let (status, _, bytes) = client.get_bytes(&format!("/portal/files/{file}/download")).await;
    assert_eq!((status, bytes), (200, b"%PDF-1.7\n".to_vec()));

    // Everything else is a 404, on every portal route that takes an id.
    let foreign = [
        ("/portal/invoices/{id}", vec![&my_draft, &theirs, &other_invoice]),
        ("/portal/invoices/{id}/pdf", vec![&my_draft, &theirs, &other_invoice]),
        ("/portal/quotations/{id}", vec![&their_quote, &other_quote]),
        ("/portal/quotations/{id}/pdf", vec![&their_quote, &other_quote]),
        ("/portal/quotations/{id}/accept", vec![&their_quote, &other_quote]),
        ("/portal/quotations/{id}/decline", vec![&their_quote, &other_quote]),
        ("/portal/projects/{id}", vec![&hidden_project]),
    ];
    for (route, ids) in &foreign {
        for id in ids {
            let path = route.replace("{id}", id);
            let res = if path.ends_with("accept") || path.ends_with("decline") {
                client.post_form(&path, &[]).await
            } else {
                client.get(&path).await
            };
            assert_eq!(res.status, 404, "{path}");
        }
    }
    let portal_routes: Vec<_> = clienthub::routes::all()
        .into_iter()
        .filter(|r| r.path.starts_with("/portal/") && r.path.contains('{'))
        .collect();
    for route in portal_routes {
        let listed = foreign.iter().any(|(p, _)| *p == route.path) || route.path == "/portal/files/{id}/download";
        assert!(listed, "{} takes an id: try it with another client's ids here", route.path);
    }
    // A file of a project not shared with them.
    execute(&app, "UPDATE projects SET client_visible = false WHERE title = 'Website redesign'");
    assert_eq!(client.get(&format!("/portal/files/{file}/download")).await.status, 404);
    assert_eq!(app.count("quotations WHERE status = 'sent'"), 3, "nothing was answered");

    // Their quotation: a too long reason is refused; accepting notifies the sender.
    let long = "x".repeat(2001);
    let res = client.post_form(&format!("/portal/quotations/{my_quote}/decline"), &[("reason", &long)]).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("Use at most 2000 characters."));
    let res = client.post_form(&format!("/portal/quotations/{my_quote}/accept"), &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(text(&app, &format!("SELECT status FROM quotations WHERE id = '{my_quote}'")), "accepted");
    assert_eq!(app.count("notifications WHERE kind = 'quotation_accepted'"), 1);
    assert_eq!(app.count("audit_logs WHERE action = 'quotation.accepted'"), 1);
    let res = client.post_form(&format!("/portal/quotations/{my_quote}/decline"), &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(
        text(&app, &format!("SELECT status FROM quotations WHERE id = '{my_quote}'")),
        "accepted",
        "answered once"
    );
}
