//! Notifications: the bell counts what is unread, the list shows it, opening one marks
//! it read and follows its link, and "mark all as read" clears the count. Nobody else
//! can read or mark them.

use crate::support::*;

#[tokio::test]
async fn assigned_work_rings_the_bell_until_it_is_read() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let mia = app.member().await;
    assert!(!mia.get("/dashboard").await.body.contains("class=\"bell-count\""), "nothing unread yet");

    // Two tasks assigned to Mia by the owner.
    let project = crate::money::one(&app, "SELECT id FROM projects WHERE title = 'Website redesign'");
    let mia_id = crate::money::one(&app, "SELECT id FROM users WHERE email = 'member@northwind.example'");
    for title in ["Write the copy", "Check the <b>links</b>"] {
        let res = owner
            .post_form(
                "/tasks",
                &[
                    ("project_id", &project),
                    ("title", title),
                    ("assignee_id", &mia_id),
                    ("status", "todo"),
                    ("priority", "medium"),
                ],
            )
            .await;
        assert_eq!(res.status, 303, "{}", res.body);
    }
    let dashboard = mia.get("/dashboard").await;
    assert!(dashboard.body.contains("aria-label=\"2 unread\""), "the bell shows 2");
    let list = mia.get("/notifications").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("2 unread."));
    assert!(list.body.contains("&#60;b&#62;links&#60;/b&#62;"), "titles are escaped");

    // Someone else cannot open (or mark) Mia's notification.
    let first = crate::money::one(&app, "SELECT id FROM notifications ORDER BY created_at");
    assert_eq!(app.admin().await.post_form(&format!("/notifications/{first}/read"), &[]).await.status, 404);
    assert_eq!(app.count("notifications WHERE read_at IS NULL"), 2);

    // Opening one marks it read and leads to the task.
    let res = mia.post_form(&format!("/notifications/{first}/read"), &[]).await;
    assert_eq!(res.status, 303);
    assert!(res.location().unwrap().starts_with("/tasks/"));
    assert!(mia.get("/dashboard").await.body.contains("aria-label=\"1 unread\""));
    let res = mia.post_form("/notifications/read-all", &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(app.count("notifications WHERE read_at IS NULL"), 0);
    assert!(!mia.get("/dashboard").await.body.contains("class=\"bell-count\""));
    assert!(mia.get("/notifications").await.body.contains("You are all caught up."));
}

#[tokio::test]
async fn notifications_are_emailed_as_each_person_chooses() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let mia = app.member().await;
    let project = crate::money::one(&app, "SELECT id FROM projects WHERE title = 'Website redesign'");
    let mia_id = crate::money::one(&app, "SELECT id FROM users WHERE email = 'member@northwind.example'");
    let assign = |title: &'static str| {
        let (owner, project, mia_id) = (&owner, project.clone(), mia_id.clone());
        async move {
            let fields = [
                ("project_id", project.as_str()),
                ("title", title),
                ("assignee_id", mia_id.as_str()),
                ("status", "todo"),
                ("priority", "medium"),
            ];
            let res = owner.post_form("/tasks", &fields).await;
            assert_eq!(res.status, 303, "{}", res.body);
            res.location().unwrap().to_string()
        }
    };
    // On by default: an assignment is emailed, with a link to the task.
    let task = assign("Write the <copy>").await;
    let mail = app.mail.wait_for(1).await;
    assert_eq!(mail[0].to, vec!["member@northwind.example".to_string()]);
    assert!(mail[0].subject().contains("assigned you"), "{}", mail[0].subject());
    let body = mail[0].decoded();
    assert!(body.contains("Write the <copy>"), "the plain text says what");
    assert!(body.contains("Hello Mia,") && body.contains(&format!("{}{task}", app.base)));
    assert!(body.contains("Write the &lt;copy&gt;") || body.contains("Write the &#60;copy&#62;"), "escaped in HTML");

    // The settings show the defaults; Mia turns assignments off and comments on.
    let page = mia.get("/notifications").await;
    assert!(page.body.contains("value=\"task_assigned\" checked") && page.body.contains("value=\"task_comment\">"));
    let res = mia.post_form("/notifications/email", &[("email", "task_comment"), ("email", "mention")]).await;
    assert_eq!(res.status, 303);
    assert_eq!(app.count("notification_email_settings WHERE email"), 2);
    assign("Check the links").await;
    owner.post_form(&format!("{task}/comments"), &[("body", "Please keep it short.")]).await;
    let mail = app.mail.wait_for(2).await;
    assert!(mail[1].subject().contains("commented"), "the comment, not the assignment: {}", mail[1].subject());
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.mail.received().len(), 2);
    assert_eq!(app.count("notifications WHERE kind = 'task_assigned'"), 2, "still in the list");
    // Only her own choices: someone else's post changes nothing of hers.
    owner.post_form("/notifications/email", &[]).await;
    assert_eq!(app.count("notification_email_settings WHERE email"), 2);
}
