//! Files: upload, list, download and delete as users experience them, and every refusal
//! leaving nothing behind (no row, no bytes).

use sha2::{Digest, Sha256};

use crate::support::*;

const NORTHWIND: &str = "Northwind Studio";

fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    bytes.resize(len.max(bytes.len()), b' ');
    bytes
}

fn elf() -> Vec<u8> {
    let mut bytes = b"\x7fELF\x02\x01\x01\x00".to_vec();
    bytes.resize(2048, 0);
    bytes
}

/// A project of the organization `org`, made with SQL (there are no project pages yet).
fn project(app: &TestApp, org: &str, title: &str) -> String {
    let id = uuid::Uuid::now_v7();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "INSERT INTO projects (id, org_id, title) SELECT '{id}', id, '{title}' FROM organizations WHERE name = '{org}'"
        )),
        &mut app.conn(),
    )
    .unwrap();
    id.to_string()
}

/// Every stored object under DATA_DIR/files, complete or partial.
fn stored_objects(app: &TestApp) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 })
            .sum()
    }
    walk(&app.settings.data.dir.join("files"))
}

fn storage_bytes(app: &TestApp, org: &str) -> i64 {
    diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
            "SELECT storage_bytes FROM organizations WHERE name = '{org}'"
        )),
        &mut app.conn(),
    )
    .unwrap()
}

fn file_id(app: &TestApp, name: &str) -> String {
    let id: uuid::Uuid = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Uuid>(&format!(
            "SELECT id FROM files WHERE original_name = '{}'",
            name.replace('\'', "''")
        )),
        &mut app.conn(),
    )
    .unwrap();
    id.to_string()
}

fn assert_nothing_stored(app: &TestApp, why: &str) {
    assert_eq!(app.count("files"), 0, "{why}: no row");
    assert_eq!(stored_objects(app), 0, "{why}: no bytes");
    assert_eq!(storage_bytes(app, NORTHWIND), 0, "{why}: no storage counted");
    assert_eq!(app.count("audit_logs WHERE action = 'file.uploaded'"), 0, "{why}: nothing audited");
}

#[tokio::test]
async fn an_upload_is_listed_and_downloads_byte_for_byte_with_safe_headers() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let website = project(&app, NORTHWIND, "Website redesign");
    let bytes = pdf(40_000);

    let res = owner.post_multipart("/files", &[("project_id", &website)], Some(("Offre été.pdf", bytes.clone()))).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), Some("/files"));

    let list = owner.get("/files").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Offre été.pdf"));
    assert!(list.body.contains("has been uploaded"), "the flash message");
    assert!(list.body.contains("Website redesign"), "the project");
    assert!(list.body.contains("39.1 kB"), "the size");
    assert!(list.body.contains("39.1 kB used"), "the storage used");
    assert!(list.body.contains("<td>Olivia Bennett</td>"), "the uploader");

    let id = file_id(&app, "Offre été.pdf");
    let sha: Vec<u8> = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Bytea>(&format!("SELECT sha256 FROM files WHERE id = '{id}'")),
        &mut app.conn(),
    )
    .unwrap();
    assert_eq!(sha, Sha256::digest(&bytes).to_vec());
    assert_eq!(storage_bytes(&app, NORTHWIND), bytes.len() as i64);
    assert_eq!(app.count("audit_logs WHERE action = 'file.uploaded'"), 1);
    assert_eq!(stored_objects(&app), 1);

    let res = owner.http.get(owner.url(&format!("/files/{id}/download"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"Offre _t_.pdf\"; filename*=UTF-8''Offre%20%C3%A9t%C3%A9.pdf"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-security-policy"], "sandbox");
    assert_eq!(headers["cache-control"], "private");
    assert_eq!(headers["content-length"], bytes.len().to_string().as_str());
    assert_eq!(res.bytes().await.unwrap().to_vec(), bytes, "the same bytes come back");

    // The list filtered by the project shows it; another project's list does not.
    let other = project(&app, NORTHWIND, "Brand book");
    assert!(owner.get(&format!("/files?project_id={website}")).await.body.contains("Offre été.pdf"));
    assert!(!owner.get(&format!("/files?project_id={other}")).await.body.contains("Offre été.pdf"));
}

#[tokio::test]
async fn an_upload_from_a_project_page_returns_there_and_never_to_another_site() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let website = project(&app, NORTHWIND, "Website");
    let back = format!("/projects/{website}");
    let res = owner
        .post_multipart("/files", &[("project_id", &website), ("return_to", &back)], Some(("a.pdf", pdf(100))))
        .await;
    assert_eq!(res.location(), Some(back.as_str()));
    let res = owner
        .post_multipart("/files", &[("return_to", "https://evil.example/")], Some(("b.txt", b"hello".to_vec())))
        .await;
    assert_eq!(res.location(), Some("/files"));
    assert_eq!(app.count("files"), 2);
}

#[tokio::test]
async fn deleting_a_file_removes_its_row_and_bytes_and_gives_back_the_storage() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let res = owner.post_multipart("/files", &[], Some(("notes.md", "# Plan\n\n- café\n".as_bytes().to_vec()))).await;
    assert_eq!(res.status, 303);
    assert!(storage_bytes(&app, NORTHWIND) > 0);
    let id = file_id(&app, "notes.md");

    let res = owner.post_form(&format!("/files/{id}/delete"), &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some("/files"));
    assert_eq!(app.count("files"), 0);
    assert_eq!(stored_objects(&app), 0);
    assert_eq!(storage_bytes(&app, NORTHWIND), 0);
    assert_eq!(app.count("audit_logs WHERE action = 'file.deleted' AND metadata->>'name' = 'notes.md'"), 1);
    assert!(owner.get("/files").await.body.contains("has been deleted"));
    assert_eq!(owner.get(&format!("/files/{id}/download")).await.status, 404);
}

#[tokio::test]
async fn a_file_over_the_limit_is_stopped_with_413_and_nothing_kept() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let limit = app.settings.files.max_upload_bytes as usize;
    let res = owner.post_multipart("/files", &[], Some(("big.pdf", pdf(limit + 1)))).await;
    assert_eq!(res.status, 413);
    assert!(res.body.contains("This file is larger than 256 kB"), "{}", res.body);
    assert!(res.body.contains("id=\"file-error\""), "next to the file field");
    assert_nothing_stored(&app, "too large");
    // Far over: the answer still arrives, and still nothing is kept.
    let res = owner.post_multipart("/files", &[], Some(("huge.pdf", pdf(4 * 1024 * 1024)))).await;
    assert_eq!(res.status, 413);
    assert_nothing_stored(&app, "far too large");
    // Exactly at the limit is fine.
    assert_eq!(owner.post_multipart("/files", &[], Some(("max.pdf", pdf(limit)))).await.status, 303);
}

#[tokio::test]
async fn bad_files_are_refused_next_to_the_field_and_leave_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let long_name = format!("{}.pdf", "a".repeat(252));
    // Text for 100 kB, then a NUL: checked to the end, not only at the start.
    let mut late_nul = "line of text\n".repeat(8000).into_bytes();
    late_nul.push(0);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.pdf", Vec::new(), "This file is empty."),
        ("../../etc/passwd", b"root:x:0:0".to_vec(), "The file name may not contain / or"),
        ("..\\..\\boot.ini", b"[boot]".to_vec(), "The file name may not contain / or"),
        ("report.pdf", elf(), "This file is not a PDF, although its name ends in .pdf. It looks like a program"),
        ("setup.exe", b"MZ\x90\x00\x03".to_vec(), "Files ending in .exe cannot be uploaded."),
        ("data.bin", vec![1, 2, 3, 4], "Files ending in .bin cannot be uploaded."),
        ("README", b"plain words".to_vec(), "The file name has no ending"),
        ("photo.png", pdf(100), "This file is not a PNG image"),
        ("notes.txt", b"text and then \x00 a NUL".to_vec(), "This file is not a text file"),
        ("latin1.csv", b"caf\xe9;1\n".to_vec(), "This file is not a CSV file"),
        (&long_name, pdf(100), "longer than 255 characters"),
        ("log.txt", late_nul.clone(), "This file is not a text file"),
    ];
    for (name, bytes, message) in cases {
        let res = owner.post_multipart("/files", &[], Some((name, bytes))).await;
        assert_eq!(res.status, 400, "{name}");
        assert!(res.body.contains(message), "{name}: expected {message:?}");
        assert!(res.body.contains("id=\"file-error\""), "{name}: next to the file field");
        assert_nothing_stored(&app, name);
    }
    let res = owner.post_multipart("/files", &[], None).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("Choose a file to upload."));
    assert_nothing_stored(&app, "no file");
}

/// A multipart body written by hand, for names no well-behaved client sends.
fn raw_upload(token: &str, disposition: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n\
         --XyZ\r\nContent-Disposition: form-data; name=\"file\"; {disposition}\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    body
}

#[tokio::test]
async fn names_with_nul_or_control_characters_are_refused() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let token = owner.csrf().await;
    for disposition in ["filename*=UTF-8''report%00.pdf", "filename*=UTF-8''report%0A.pdf", "filename=\"a\tb.pdf\""] {
        let body = raw_upload(&token, disposition, &pdf(100));
        let res = owner.post_body("/files", "multipart/form-data; boundary=XyZ", body).await;
        assert_eq!(res.status, 400, "{disposition:?}");
        assert!(res.body.contains("invisible control characters"), "{disposition:?}");
    }
    // A raw NUL or control character in the part's headers is not even a readable upload.
    for name in ["report\0.pdf", "a\x01b.pdf"] {
        let res = owner.post_multipart("/files", &[], Some((name, pdf(100)))).await;
        assert_eq!(res.status, 400, "{name:?}");
        assert!(res.body.contains("We could not read this upload."), "{name:?}");
    }
    assert_nothing_stored(&app, "NUL in the name");
}

#[tokio::test]
async fn a_project_of_another_organization_is_refused_like_an_unknown_one() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let theirs = project(&app, "Other Corp", "Secret plans");
    let unknown = uuid::Uuid::now_v7().to_string();
    for project_id in [theirs.as_str(), unknown.as_str(), "not-an-id"] {
        let res = owner.post_multipart("/files", &[("project_id", project_id)], Some(("a.pdf", pdf(100)))).await;
        assert_eq!(res.status, 400, "{project_id}");
        assert!(res.body.contains("Choose a project from the list, or no project."), "{project_id}");
        assert!(res.body.contains("id=\"project_id-error\""));
        assert!(!res.body.contains("Secret plans"), "never another organization's project");
        assert_nothing_stored(&app, project_id);
    }
}

#[tokio::test]
async fn another_organizations_file_is_not_found() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    owner.post_multipart("/files", &[], Some(("contract.pdf", pdf(500)))).await;
    let id = file_id(&app, "contract.pdf");
    let otto = app.login(OTHER_OWNER).await;
    assert_eq!(otto.get(&format!("/files/{id}/download")).await.status, 404);
    assert_eq!(otto.post_form(&format!("/files/{id}/delete"), &[]).await.status, 404);
    assert!(!otto.get("/files").await.body.contains("contract.pdf"));
    assert_eq!(app.count("files"), 1);
    assert_eq!(stored_objects(&app), 1);
    assert_eq!(otto.get("/files/not-an-id/download").await.status, 404);
}

#[tokio::test]
async fn a_member_uploads_but_may_not_delete() {
    let app = TestApp::spawn().await;
    let member = app.member().await;
    let res = member.post_multipart("/files", &[], Some(("brief.txt", b"Our brief".to_vec()))).await;
    assert_eq!(res.status, 303);
    let id = file_id(&app, "brief.txt");
    let list = member.get("/files").await;
    assert!(list.body.contains("brief.txt"));
    assert!(!list.body.contains("/delete\""), "no delete button without delete_files");
    assert_eq!(member.post_form(&format!("/files/{id}/delete"), &[]).await.status, 403);
    assert_eq!(app.count("files"), 1);
    assert_eq!(stored_objects(&app), 1);
}

#[tokio::test]
async fn a_name_with_html_is_shown_as_text() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let name = "<img src=x onerror=alert(1)>.txt";
    let res = owner.post_multipart("/files", &[], Some((name, b"harmless".to_vec()))).await;
    assert_eq!(res.status, 303);
    let list = owner.get("/files").await;
    assert!(!list.body.contains("<img src=x"), "never as markup");
    assert!(list.body.contains("&#60;img src=x onerror=alert(1)&#62;.txt") || list.body.contains("&lt;img src=x"));
}

#[tokio::test]
async fn the_list_pages_by_keyset_newest_first() {
    let app = TestApp::spawn().await;
    diesel::RunQueryDsl::execute(
        diesel::sql_query(
            "INSERT INTO files (id, org_id, original_name, content_type, size_bytes, storage_key, sha256)
             SELECT ('00000000-0000-7000-8000-' || lpad(n::text, 12, '0'))::uuid, o.id, 'file-' || lpad(n::text, 2, '0') || '.txt',
                    'text/plain; charset=utf-8', 10, o.id || '/' || gen_random_uuid(), '\\x00'
             FROM organizations o, generate_series(1, 55) AS n WHERE o.name = 'Northwind Studio'",
        ),
        &mut app.conn(),
    )
    .unwrap();
    let owner = app.owner().await;
    let first = owner.get("/files").await;
    assert!(first.body.contains("file-55.txt") && first.body.contains("file-06.txt"));
    assert!(!first.body.contains("file-05.txt"));
    assert!(first.body.contains("550 bytes used"));
    let start = first.body.find("/files?before=").expect("a link to older files");
    let next = &first.body[start..start + first.body[start..].find('"').unwrap()];
    let second = owner.get(next).await;
    assert!(second.body.contains("file-05.txt") && second.body.contains("file-01.txt"));
    assert!(!second.body.contains("file-06.txt"));
    assert!(!second.body.contains("/files?before="), "the last page");
}
