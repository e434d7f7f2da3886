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
