//! Clients, projects and tasks as staff use them: forms that refuse bad input next to
//! the field and store nothing, lists that search, sort and page, the board's order
//! under concurrent moves, comments that notify, and the history of every change.

use crate::support::*;

fn one(app: &TestApp, sql: &str) -> String {
    let id: uuid::Uuid = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Uuid>(&format!("{sql} LIMIT 1")),
        &mut app.conn(),
    )
    .unwrap();
    id.to_string()
}

fn execute(app: &TestApp, sql: &str) {
    diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut app.conn()).unwrap();
}

const WEBSITE: &str = "SELECT id FROM projects WHERE title = 'Website redesign'";
const BRAND: &str = "SELECT id FROM projects WHERE title = 'Brand identity'";

/// Text as askama escapes it into HTML.
fn escaped(text: &str) -> String {
    text.replace('&', "&#38;").replace('<', "&#60;").replace('>', "&#62;").replace('"', "&#34;").replace('\'', "&#39;")
}

fn field_error<'a>(body: &'a str, field: &str) -> Option<&'a str> {
    let marker = format!("id=\"{field}-error\"");
    let start = body.find(&marker)?;
    let rest = &body[start..];
    let span = rest.find("<span>")? + "<span>".len();
    let end = rest[span..].find("</span>")? + span;
    Some(&rest[span..end])
}

#[tokio::test]
async fn clients_are_created_searched_sorted_and_paged() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let res = owner
        .post_form(
            "/clients",
            &[
                ("name", "Zoë <b>Zed</b>"),
                ("company", "Zed & Co"),
                ("email", "ZOE@zed.example"),
                ("phone", "+1 (555) 010-0100"),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    let page = owner.get(res.location().unwrap()).await;
    assert!(page.body.contains(&escaped("Zoë <b>Zed</b>")), "names are shown as text");
    assert!(page.body.contains("zoe@zed.example"));
    assert_eq!(app.count("audit_logs WHERE action = 'client.created'"), 1);

    // 120 more clients; pages of 50 by keyset cover each exactly once.
    execute(
        &app,
        "INSERT INTO clients (id, org_id, name, company) SELECT gen_random_uuid(), o.id, 'Bulk ' || lpad(n::text, 3, '0'), 'Bulk Ltd'
         FROM organizations o, generate_series(1, 120) n WHERE o.name = 'Northwind Studio'",
    );
    let mut seen = Vec::new();
    let mut next = Some("/clients?q=bulk&sort=name".to_string());
    while let Some(url) = next {
        let page = owner.get(&url).await;
        assert_eq!(page.status, 200);
        seen.extend(
            page.body
                .match_indices(">Bulk ")
                .map(|(i, _)| page.body[i + 1..i + 9].to_string())
                .filter(|name| name.ends_with(|c: char| c.is_ascii_digit())),
        );
        let body = page.body.replace("&#38;", "&").replace("&amp;", "&");
        next = body.find("href=\"/clients?q=bulk&sort=name&dir=asc&after=").map(|i| {
            let rest = &body[i + 6..];
            rest[..rest.find('"').unwrap()].to_string()
        });
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen.len(), 120, "every client once");
    assert_eq!(seen, sorted, "in name order");

    // Search by email prefix and company; the query is only data.
    assert!(owner.get("/clients?q=zoe%40zed").await.body.contains(&escaped("Zed & Co")));
    let weird = owner.get("/clients?q=%27%29%3B%20DROP%20TABLE%20clients%3B%20--%20%26%7C%21").await;
    assert_eq!(weird.status, 200);
    // Descending sort by company puts Zed & Co before Bulk Ltd.
    let desc = owner.get("/clients?sort=company&dir=desc").await.body;
    assert!(desc.find(&escaped("Zed & Co")).unwrap() < desc.find("Bulk Ltd").unwrap());
}

#[tokio::test]
async fn bad_client_and_project_input_is_refused_next_to_the_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let res = owner.post_form("/clients", &[("name", " "), ("email", "not-an-address"), ("phone", "call me")]).await;
    assert_eq!(res.status, 400);
    assert!(field_error(&res.body, "name").is_some());
    assert!(field_error(&res.body, "email").is_some());
    assert!(field_error(&res.body, "phone").is_some());
    assert_eq!(app.count("clients"), 4);

    execute(
        &app,
        "INSERT INTO clients (id, org_id, name) SELECT gen_random_uuid(), id, 'Theirs' FROM organizations WHERE name = 'Other Corp'",
    );
    let theirs = one(&app, "SELECT id FROM clients WHERE name = 'Theirs'");
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (
            &[("title", "X"), ("status", "active"), ("start_date", "2026-03-10"), ("due_date", "2026-03-01")],
            "due_date",
            "before the start date",
        ),
        (&[("title", "X"), ("status", "active"), ("due_date", "2026-02-30")], "due_date", "real date"),
        (&[("title", "X"), ("status", "active"), ("budget", "-5")], "budget", "positive"),
        (&[("title", "X"), ("status", "archived")], "status", "options"),
        (&[("title", "X"), ("status", "active"), ("client_id", &theirs)], "client_id", "options"),
        (&[("title", ""), ("status", "active")], "title", "Enter a title"),
    ];
    for (fields, field, message) in cases {
        let res = owner.post_form("/projects", fields).await;
        assert_eq!(res.status, 400, "{fields:?}");
        let error = field_error(&res.body, field).unwrap_or_else(|| panic!("an error next to {field} for {fields:?}"));
        assert!(error.contains(message), "{field}: {error}");
    }
    assert_eq!(app.count("projects"), 3);

    let res = owner
        .post_form(
            "/projects",
            &[
                ("title", "<script>alert(1)</script>"),
                ("status", "planned"),
                ("budget", "1500.50"),
                ("members", "not-an-id"),
            ],
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(field_error(&res.body, "members").is_some());
    assert!(!res.body.contains("<script>alert(1)</script>"));
    assert_eq!(app.count("projects"), 3);
}

#[tokio::test]
async fn a_project_shows_its_progress_members_and_thread_and_messages_post_with_htmx() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let mia = one(&app, "SELECT id FROM users WHERE email = 'member@northwind.example'");
    let client = one(&app, "SELECT id FROM clients WHERE name = 'Sofia Rossi'");
    let res = owner
        .post_form(
            "/projects",
            &[
                ("title", "Catalogue"),
                ("client_id", &client),
                ("status", "active"),
                ("start_date", "2026-11-01"),
                ("due_date", "2026-12-01"),
                ("budget", "4200"),
                ("members", &mia),
                ("client_visible", "on"),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    let url = res.location().unwrap().to_string();
    let page = owner.get(&url).await.body;
    assert!(page.contains("Catalogue") && page.contains("Sofia Rossi") && page.contains("Mia Laurent"));
    assert!(page.contains("0 of 0 tasks done"));
    assert_eq!(app.count("project_members"), 10);

    let project = url.trim_start_matches("/projects/").to_string();
    let token = owner.csrf().await;
    let res = owner
        .http
        .post(owner.url(&format!("/projects/{project}/messages")))
        .header("hx-request", "true")
        .header("x-csrf-token", &token)
        .header("sec-fetch-site", "same-origin")
        .form(&[("body", "<img src=x onerror=alert(1)> ready for review")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let fragment = res.text().await.unwrap();
    assert!(fragment.contains("hx-swap-oob=\"beforeend:#messages-list\""), "the message is appended out of band");
    assert!(fragment.contains(&escaped("<img src=x onerror=alert(1)> ready for review")));
    assert!(!fragment.contains("<img src=x"));
    assert!(!fragment.contains("<html"), "a fragment, not a page");

    // Without JavaScript: a redirect back to the project, and an empty message is refused.
    let res = owner.post_form(&format!("/projects/{project}/messages"), &[("body", "Second")]).await;
    assert_eq!(res.status, 303);
    let res = owner.post_form(&format!("/projects/{project}/messages"), &[("body", "   ")]).await;
    assert_eq!(res.status, 400);
    assert!(field_error(&res.body, "body").is_some());
    assert_eq!(app.count(&format!("project_messages WHERE project_id = '{project}'")), 2);
    let thread = owner.get(&format!("/projects/{project}/messages")).await.body;
    assert!(thread.find("ready for review").unwrap() < thread.find("Second").unwrap(), "newest at the bottom");
}

#[tokio::test]
async fn bad_task_input_is_refused_next_to_the_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let website = one(&app, WEBSITE);
    let brand_task = one(&app, &format!("SELECT id FROM tasks WHERE project_id = ({BRAND})"));
    let subtask = one(&app, "SELECT id FROM tasks WHERE parent_id IS NOT NULL");
    let otto = one(&app, "SELECT id FROM users WHERE email = 'owner@othercorp.example'");
    let tasks_before = app.count("tasks");
    let cases: &[(&str, &str, &str, &str)] = &[
        ("assignee_id", &otto, "assignee_id", "your team"),
        ("parent_id", &brand_task, "parent_id", "same project"),
        ("parent_id", &subtask, "parent_id", "cannot have subtasks"),
        ("priority", "critical", "priority", "options"),
        ("status", "blocked", "status", "options"),
        ("due_date", "2026-02-30", "due_date", "real date"),
        ("estimate_hours", "-2", "estimate_hours", "positive"),
    ];
    for (name, value, field, message) in cases {
        let mut fields =
            vec![("project_id", website.as_str()), ("title", "A task"), ("status", "todo"), ("priority", "medium")];
        fields.retain(|(k, _)| k != name);
        fields.push((name, value));
        let res = owner.post_form("/tasks", &fields).await;
        assert_eq!(res.status, 400, "{name}={value}");
        let error = field_error(&res.body, field).unwrap_or_else(|| panic!("an error next to {field}"));
        assert!(error.contains(message), "{field}: {error}");
    }
    assert_eq!(app.count("tasks"), tasks_before);

    // Markup in every text field is shown as text.
    let res = owner
        .post_form(
            "/tasks",
            &[
                ("project_id", &website),
                ("title", "<b>bold</b>"),
                ("description", "<script>x()</script>"),
                ("status", "todo"),
                ("priority", "low"),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    let page = owner.get(res.location().unwrap()).await.body;
    assert!(page.contains(&escaped("<b>bold</b>")) && page.contains(&escaped("<script>x()</script>")));
    assert!(!page.contains("<script>x()"));
}

/// Positions of each board column: must be 0..n without gaps or repeats.
fn columns_are_dense(app: &TestApp, project: &str) {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
        #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Integer>)]
        positions: Vec<i32>,
    }
    let rows: Vec<Row> = diesel::RunQueryDsl::load(
        diesel::sql_query(format!(
            "SELECT status, array_agg(position ORDER BY position) AS positions FROM tasks
             WHERE project_id = '{project}' AND parent_id IS NULL GROUP BY status"
        )),
        &mut app.conn(),
    )
    .unwrap();
    for row in rows {
        let expected: Vec<i32> = (0..row.positions.len() as i32).collect();
        assert_eq!(row.positions, expected, "column {}", row.status);
    }
}

#[tokio::test]
async fn board_moves_keep_positions_dense_even_when_they_race() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let website = one(&app, WEBSITE);
    let todo: Vec<String> = {
        #[derive(diesel::QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: uuid::Uuid,
        }
        let ids: Vec<Id> = diesel::RunQueryDsl::load(
            diesel::sql_query(format!("SELECT id FROM tasks WHERE project_id = ({WEBSITE}) AND status = 'todo' AND parent_id IS NULL ORDER BY position")),
            &mut app.conn(),
        )
        .unwrap();
        ids.into_iter().map(|r| r.id.to_string()).collect()
    };
    assert_eq!(todo.len(), 3);

    // Without JavaScript: the column select moves a card to the end of another column.
    let res = owner.post_form(&format!("/tasks/{}/move", todo[0]), &[("status", "review"), ("position", "end")]).await;
    assert_eq!(res.status, 303);
    assert!(res.location().unwrap().starts_with(&format!("/projects/{website}/board")));
    assert_eq!(
        one(
            &app,
            &format!("SELECT id FROM tasks WHERE status = 'review' AND project_id = '{website}' AND position = 1")
        ),
        todo[0]
    );
    columns_are_dense(&app, &website);
    // A column that does not exist.
    let res = owner.post_form(&format!("/tasks/{}/move", todo[1]), &[("status", "archive"), ("position", "0")]).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("That column does not exist"));

    // Many moves at once, as htmx sends them after drag and drop.
    let token = owner.csrf().await;
    let mut moves = Vec::new();
    let all: Vec<String> = {
        #[derive(diesel::QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: uuid::Uuid,
        }
        let ids: Vec<Id> = diesel::RunQueryDsl::load(
            diesel::sql_query(format!("SELECT id FROM tasks WHERE project_id = '{website}' AND parent_id IS NULL")),
            &mut app.conn(),
        )
        .unwrap();
        ids.into_iter().map(|r| r.id.to_string()).collect()
    };
    for (i, task) in all.iter().cycle().take(24).enumerate() {
        let status = ["todo", "in_progress", "review", "done"][i % 4];
        let req = owner
            .http
            .post(owner.url(&format!("/tasks/{task}/move")))
            .header("hx-request", "true")
            .header("x-csrf-token", &token)
            .header("sec-fetch-site", "same-origin")
            .form(&[("status", status), ("position", &(i % 3).to_string())]);
        moves.push(tokio::spawn(async move { req.send().await.unwrap().status().as_u16() }));
    }
    for m in moves {
        assert_eq!(m.await.unwrap(), 204);
    }
    columns_are_dense(&app, &website);
    assert!(app.count("task_activity WHERE field = 'status'") > 0, "moves across columns are in the history");
}

#[tokio::test]
async fn edits_are_recorded_with_old_and_new_values_and_comments_mention_members() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let task = one(&app, "SELECT id FROM tasks WHERE title = 'Migrate old articles'");
    let website = one(&app, WEBSITE);
    let mateo = one(&app, "SELECT id FROM users WHERE email = 'mateo@northwind.example'");
    let res = owner
        .post_form(
            &format!("/tasks/{task}"),
            &[
                ("project_id", &website),
                ("title", "Migrate old articles"),
                ("description", "About 140 posts from the old CMS."),
                ("status", "in_progress"),
                ("priority", "high"),
                ("assignee_id", &mateo),
                ("due_date", "2026-12-19"),
                ("estimate_hours", "6.5"),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    let page = owner.get(&format!("/tasks/{task}")).await.body;
    assert!(page.contains("changed the status from To do to In progress"), "{page}");
    assert!(page.contains("changed the priority from Medium to High"));
    assert!(page.contains("set the assignee to Mateo Ruiz"));
    assert!(page.contains("set the estimate to 6.5 h"));
    assert_eq!(app.count(&format!("notifications WHERE kind = 'task_assigned' AND user_id = '{mateo}'")), 1);

    let res = owner
        .post_form(&format!("/tasks/{task}/comments"), &[("body", "@Mia can you help @Mateo Ruiz? <i>thanks</i>")])
        .await;
    assert_eq!(res.status, 303);
    assert!(res.location().unwrap().contains("#comment-"));
    assert_eq!(app.count("notifications WHERE kind = 'mention'"), 2, "Mia and Mateo are mentioned");
    assert_eq!(app.count("notifications WHERE kind = 'task_comment'"), 0, "the assignee heard through the mention");
    let page = owner.get(&format!("/tasks/{task}")).await.body;
    assert!(page.contains(&escaped("<i>thanks</i>")));
    let res = owner.post_form(&format!("/tasks/{task}/comments"), &[("body", "")]).await;
    assert_eq!(res.status, 400);
    assert!(field_error(&res.body, "body").is_some());
}

#[tokio::test]
async fn subtasks_are_one_level_deep_and_counted_on_their_parent() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let parent = one(&app, "SELECT id FROM tasks WHERE title = 'Product page template'");
    let website = one(&app, WEBSITE);
    let res = owner
        .post_form(
            "/tasks",
            &[
                ("project_id", &website),
                ("parent_id", &parent),
                ("title", "Zoom on hover"),
                ("status", "done"),
                ("priority", "medium"),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some(format!("/tasks/{parent}#subtasks").as_str()));
    let page = owner.get(&format!("/tasks/{parent}")).await.body;
    assert!(page.contains("2/4 done"), "subtask counts on the parent");
    assert!(owner.get(&format!("/projects/{website}/board")).await.body.contains("2/4"));
    // A task with subtasks cannot become a subtask.
    let other = one(&app, "SELECT id FROM tasks WHERE title = 'Blog template'");
    let res = owner
        .post_form(
            &format!("/tasks/{parent}"),
            &[
                ("title", "Product page template"),
                ("status", "in_progress"),
                ("priority", "high"),
                ("parent_id", &other),
            ],
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(field_error(&res.body, "parent_id").unwrap().contains("has subtasks"));
    // Deleting the parent takes its subtasks; the column closes the gap.
    let res = owner.post_form(&format!("/tasks/{parent}/delete"), &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(app.count(&format!("tasks WHERE parent_id = '{parent}'")), 0);
    assert_eq!(app.count("audit_logs WHERE action = 'task.deleted'"), 1);
    columns_are_dense(&app, &website);
}

#[tokio::test]
async fn a_client_in_use_by_a_portal_user_is_not_deleted_and_others_are() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let chloe = one(&app, "SELECT id FROM clients WHERE name = 'Chloé Durand'");
    let res = owner.post_form(&format!("/clients/{chloe}/delete"), &[]).await;
    assert_eq!(res.status, 303);
    let page = owner.get(res.location().unwrap()).await.body;
    assert!(page.contains("cannot be deleted") && page.contains("portal user"), "says why");
    assert_eq!(app.count("clients"), 4);

    let raj = one(&app, "SELECT id FROM clients WHERE name = 'Raj Patel'");
    let res = owner.post_form(&format!("/clients/{raj}/delete"), &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(app.count("clients"), 3);
    assert_eq!(
        app.count("projects WHERE title = 'Packaging for the spring range' AND client_id IS NULL"),
        1,
        "the project stays"
    );
    assert_eq!(app.count("audit_logs WHERE action = 'client.deleted'"), 1);
    // A member may read clients but not change them.
    let member = app.member().await;
    assert_eq!(member.get("/clients").await.status, 200);
    assert_eq!(member.post_form("/clients", &[("name", "Nope")]).await.status, 403);
}

#[tokio::test]
async fn tasks_and_projects_with_billed_time_are_not_deleted() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let task = one(&app, "SELECT id FROM tasks WHERE title = 'Visual design of the shop'");
    let project = one(&app, &format!("SELECT project_id AS id FROM tasks WHERE id = '{task}'"));
    execute(
        &app,
        &format!(
            "INSERT INTO time_entries (id, org_id, task_id, user_id, entry_date, minutes, invoice_id)
             SELECT gen_random_uuid(), t.org_id, t.id, u.id, current_date, 60, '{}'
             FROM tasks t, users u WHERE t.id = '{task}' AND u.email = '{OWNER}'",
            app.northwind_invoice()
        ),
    );
    let res = owner.post_form(&format!("/tasks/{task}/delete"), &[]).await;
    assert_eq!(res.location(), Some(format!("/tasks/{task}").as_str()));
    assert!(owner.get(&format!("/tasks/{task}")).await.body.contains("some of its time is billed on an invoice"));
    let res = owner.post_form(&format!("/projects/{project}/delete"), &[]).await;
    assert_eq!(res.location(), Some(format!("/projects/{project}").as_str()));
    assert!(owner.get(&format!("/projects/{project}")).await.body.contains("some of its time is billed"));
    assert_eq!(app.count(&format!("tasks WHERE id = '{task}'")), 1);
    assert_eq!(app.count("time_entries"), 1);
    assert_eq!(app.count("audit_logs WHERE action IN ('task.deleted', 'project.deleted')"), 0);
}

#[tokio::test]
async fn selects_of_clients_and_projects_stay_small_and_keep_the_chosen_one() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    // 300 clients: an old one first, then newer ones (ids are time ordered).
    execute(
        &app,
        "INSERT INTO clients (id, org_id, name)
         SELECT gen_random_uuid(), o.id, 'Ancient Client' FROM organizations o WHERE o.name = 'Northwind Studio'",
    );
    let ancient = one(&app, "SELECT id FROM clients WHERE name = 'Ancient Client'");
    execute(
        &app,
        "INSERT INTO clients (id, org_id, name)
         SELECT ('ffffffff-0000-7000-8000-' || lpad(n::text, 12, '0'))::uuid, o.id, 'Recent ' || n
         FROM organizations o, generate_series(1, 300) n WHERE o.name = 'Northwind Studio'",
    );
    let form = owner.get("/projects/new").await;
    assert_eq!(form.status, 200);
    assert_eq!(form.body.matches(">Recent ").count(), 200, "the newest 200, no more");
    assert!(form.body.contains(">Recent 300<") && !form.body.contains(">Recent 100<"));
    assert!(!form.body.contains("Ancient Client"));
    assert!(form.body.contains("start the project from that client's page"));
    // Started from the old client's page, it is there and chosen.
    let form = owner.get(&format!("/projects/new?client_id={ancient}")).await;
    assert!(form.body.contains(&format!("<option value=\"{ancient}\" selected>Ancient Client</option>")));
    // The projects filter lists it too when it is the filter.
    let list = owner.get(&format!("/projects?client_id={ancient}")).await;
    assert!(list.body.contains(&format!("<option value=\"{ancient}\" selected>Ancient Client</option>")));
    assert!(list.body.contains("open that client from"));
}
