//! Chat: channels (created and deleted by those who manage them, optionally shared with
//! one client), messages (escaped, limited, rate-limited, paged back through history),
//! and live delivery over server-sent events — resumed after the last event id, and
//! across two app instances on one database.

use std::time::Duration;

use crate::money::{one, text};
use crate::support::*;

const CHLOE: &str = "SELECT id FROM clients WHERE name = 'Chloé Durand'";

/// Creates a channel (shared with `client` if given); its id.
async fn channel(owner: &Client, name: &str, client: Option<&str>) -> String {
    let res = owner.post_form("/chat/channels", &[("name", name), ("client_id", client.unwrap_or(""))]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    res.location().unwrap().rsplit('/').next().unwrap().to_string()
}

async fn say(who: &Client, channel: &str, body: &str) -> Page {
    who.post_form(&format!("/chat/channels/{channel}/messages"), &[("body", body)]).await
}

/// A server-sent event stream, read event by event.
pub struct Events {
    response: reqwest::Response,
    buffer: String,
}

#[derive(Debug)]
pub struct Event {
    pub id: Option<i64>,
    pub name: String,
    pub data: String,
}

impl Events {
    pub async fn open(client: &Client, path: &str, last_event_id: Option<i64>) -> Events {
        let mut request = client.http.get(client.url(path));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Events { response, buffer: String::new() }
    }

    /// The next event (comments and retry hints skipped), waiting up to 10 seconds.
    pub async fn next(&mut self) -> Event {
        tokio::time::timeout(Duration::from_secs(10), self.read()).await.expect("an event within 10 s")
    }

    /// Whether an event arrives within `wait` (for proving that none does).
    pub async fn quiet_for(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.read()).await.is_err()
    }

    async fn read(&mut self) -> Event {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Event { id: None, name: "message".into(), data: String::new() };
                let mut data = Vec::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        event.id = v.parse().ok();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event.name = v.to_string();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push(v);
                    }
                }
                if !data.is_empty() {
                    event.data = data.join("\n");
                    return event;
                }
            }
            let chunk = self.response.chunk().await.unwrap().expect("the stream stays open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

#[tokio::test]
async fn staff_create_channels_and_a_client_sees_only_the_one_shared_with_them() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let general = channel(&owner, "general", None).await;
    let shared = channel(&owner, "#Durand website", Some(&one(&app, CHLOE))).await;
    assert_eq!(text(&app, &format!("SELECT name FROM chat_channels WHERE id = '{shared}'")), "Durand website");
    let again = owner.post_form("/chat/channels", &[("name", "General"), ("client_id", "")]).await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("There is a channel of that name already."));
    let member = app.member().await;
    assert_eq!(member.post_form("/chat/channels", &[("name", "mine")]).await.status, 403, "members do not create");
    assert_eq!(app.count("chat_channels"), 2);

    // The owner is sent to the first channel; the page shows both.
    assert!(owner.get("/chat").await.location().unwrap().starts_with("/chat/channels/"));
    let page = owner.get(&format!("/chat/channels/{general}")).await;
    assert!(page.body.contains("# general") && page.body.contains("Durand website"));
    assert!(page.body.contains("The team and Chloé Durand"));

    // Chloé's portal user sees the shared channel only, and takes part.
    let chloe = app.login(CLIENT).await;
    assert_eq!(chloe.get("/chat").await.location(), Some(format!("/chat/channels/{shared}").as_str()));
    let page = chloe.get(&format!("/chat/channels/{shared}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("general"), "the staff channel is not listed");
    assert!(!page.body.contains("Create channel"));
    assert_eq!(chloe.get(&format!("/chat/channels/{general}")).await.status, 404);
    assert_eq!(say(&chloe, &general, "hello?").await.status, 404);
    assert_eq!(chloe.get(&format!("/chat/channels/{general}/stream")).await.status, 404);
    assert_eq!(chloe.post_form(&format!("/chat/channels/{shared}/delete"), &[]).await.status, 403);
    assert_eq!(say(&chloe, &shared, "Bonjour, the new logo looks great").await.status, 303);
    let page = owner.get(&format!("/chat/channels/{shared}")).await;
    assert!(page.body.contains("Bonjour, the new logo looks great") && page.body.contains(">Client</span>"));

    // Another organization: every channel route is a 404.
    let otto = app.login(OTHER_OWNER).await;
    for path in [
        format!("/chat/channels/{shared}"),
        format!("/chat/channels/{shared}/messages"),
        format!("/chat/channels/{shared}/stream"),
    ] {
        assert_eq!(otto.get(&path).await.status, 404, "{path}");
    }
    assert_eq!(say(&otto, &shared, "hi").await.status, 404);
    assert_eq!(otto.post_form(&format!("/chat/channels/{shared}/delete"), &[]).await.status, 404);
    assert_eq!(app.count("chat_messages"), 1);

    // Deleting a channel takes its messages; it is audited.
    let res = owner.post_form(&format!("/chat/channels/{shared}/delete"), &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(app.count("chat_messages"), 0);
    assert_eq!(app.count("audit_logs WHERE action = 'chat_channel.deleted'"), 1);
    assert_eq!(chloe.get("/chat").await.status, 200, "nothing shared with Chloé any more");
}

#[tokio::test]
async fn messages_are_escaped_limited_in_length_and_rate() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let general = channel(&owner, "general", None).await;

    assert_eq!(say(&owner, &general, "<script>alert('x')</script> & <b>bold</b>").await.status, 303);
    let page = owner.get(&format!("/chat/channels/{general}")).await;
    assert!(!page.body.contains("<script>alert"), "markup is shown as text");
    assert!(
        page.body.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; &#38; &#60;b&#62;bold&#60;/b&#62;")
    );

    // A megabyte of text is answered next to the field, and nothing is stored.
    let huge = "x".repeat(1024 * 1024);
    let res = say(&owner, &general, &huge).await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("A message can be at most 4,000 characters; this one has 1048576."));
    let res = say(&owner, &general, "  \r\n ").await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("Write a message first."));
    assert_eq!(app.count("chat_messages"), 1);

    // Eight in ten seconds; the ninth waits, and says so next to the field.
    for i in 2..=8 {
        assert_eq!(say(&owner, &general, &format!("message {i}")).await.status, 303);
    }
    let res = owner
        .http
        .post(owner.url(&format!("/chat/channels/{general}/messages")))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", owner.csrf().await)
        .form(&[("body", "one too many")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "10");
    let body = res.text().await.unwrap();
    assert!(body.contains("You are sending messages very fast") && body.contains("one too many"), "{body}");
    assert_eq!(app.count("chat_messages"), 8);
    assert_eq!(text(&app, "SELECT string_agg(seq::text, ',' ORDER BY seq) FROM chat_messages"), "1,2,3,4,5,6,7,8");
}

#[tokio::test]
async fn history_pages_back_through_older_messages() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let general = channel(&owner, "general", None).await;
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "WITH c AS (UPDATE chat_channels SET last_seq = 120 WHERE id = '{general}' RETURNING id, org_id)
             INSERT INTO chat_messages (id, org_id, channel_id, seq, author_id, body, created_at)
             SELECT gen_random_uuid(), c.org_id, c.id, n, (SELECT id FROM users WHERE email = '{OWNER}'),
                    'Note number ' || n, now() - (120 - n) * interval '1 minute'
             FROM c, generate_series(1, 120) AS n"
        )),
        &mut app.conn(),
    )
    .unwrap();
    let page = owner.get(&format!("/chat/channels/{general}")).await;
    assert!(page.body.contains("Note number 120") && page.body.contains("Note number 71<"));
    assert!(!page.body.contains("Note number 70<"), "the latest 50 only");
    assert!(page.body.contains(&format!("/chat/channels/{general}?before=71")));
    assert!(page.body.contains("stream?after=120"), "the stream resumes after the last shown");

    // Without JavaScript: the page before message 71.
    let earlier = owner.get(&format!("/chat/channels/{general}?before=71")).await;
    assert!(earlier.body.contains("Note number 21<") && earlier.body.contains("Note number 70<"));
    assert!(!earlier.body.contains("Note number 71<") && !earlier.body.contains("Note number 20<"));
    assert!(earlier.body.contains("Jump to the latest messages"));
    // With htmx: the fragment, with its own link further back; at the start, none.
    let fragment = owner.get(&format!("/chat/channels/{general}/messages?before=71")).await;
    assert!(fragment.body.contains("?before=21") && !fragment.body.contains("<html"));
    let start = owner.get(&format!("/chat/channels/{general}/messages?before=21")).await;
    assert!(start.body.contains("Note number 1<") && !start.body.contains("Load earlier"));
    // Polling: what came after a number.
    let after = owner.get(&format!("/chat/channels/{general}/messages?after=118")).await;
    assert!(after.body.contains("msg-119") && after.body.contains("msg-120") && !after.body.contains("msg-118"));
}

#[tokio::test]
async fn a_stream_delivers_each_message_once_and_resumes_after_the_last_event_id() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let admin = app.admin().await;
    let general = channel(&owner, "general", None).await;
    let stream_path = format!("/chat/channels/{general}/stream?after=0");

    let mut events = Events::open(&owner, &stream_path, None).await;
    say(&admin, &general, "first <i>one</i>").await;
    let event = events.next().await;
    assert_eq!((event.id, event.name.as_str()), (Some(1), "message"));
    assert!(event.data.contains("first &#60;i&#62;one&#60;/i&#62;") && event.data.contains("id=\"msg-1\""));
    assert!(event.data.contains("Adam Okafor"), "{}", event.data);

    // The browser goes away; two messages are posted; it comes back with Last-Event-ID.
    drop(events);
    say(&admin, &general, "second").await;
    say(&admin, &general, "third\nwith two lines").await;
    let mut events = Events::open(&owner, &stream_path, Some(1)).await;
    let (second, third) = (events.next().await, events.next().await);
    assert_eq!((second.id, third.id), (Some(2), Some(3)));
    assert!(third.data.contains("third\nwith two lines"), "lines are kept: {}", third.data);
    say(&owner, &general, "fourth").await;
    assert_eq!(events.next().await.id, Some(4));
    assert!(events.quiet_for(Duration::from_millis(500)).await, "nothing twice");

    // Deleting the channel ends its streams with a word.
    owner.post_form(&format!("/chat/channels/{general}/delete"), &[]).await;
    let gone = events.next().await;
    assert_eq!(gone.name, "gone");
}

#[tokio::test]
async fn two_instances_deliver_to_each_others_browsers() {
    let app = TestApp::spawn().await;
    let other = app.another_instance();
    let owner_here = app.owner().await;
    let owner_there = other.login(OWNER).await;
    let mia_there = other.login(MEMBER).await;
    let general = channel(&owner_here, "general", None).await;

    let mut chat = Events::open(&owner_there, &format!("/chat/channels/{general}/stream?after=0"), None).await;
    let mut bell = Events::open(&mia_there, "/notifications/stream", None).await;
    let first = bell.next().await;
    assert_eq!(first.name, "bell");
    assert!(!first.data.contains("bell-count"), "nothing unread yet");

    say(&app.admin().await, &general, "posted on the first instance").await;
    let event = chat.next().await;
    assert!(event.data.contains("posted on the first instance"));

    // A task assigned on the first instance rings Mia's bell on the second.
    let project = one(&app, "SELECT id FROM projects WHERE title = 'Website redesign'");
    let mia_id = one(&app, &format!("SELECT id FROM users WHERE email = '{MEMBER}'"));
    let res = owner_here
        .post_form(
            "/tasks",
            &[
                ("project_id", &project),
                ("title", "Check the contact form"),
                ("assignee_id", &mia_id),
                ("status", "todo"),
                ("priority", "medium"),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    let rang = bell.next().await;
    assert!(rang.data.contains("aria-label=\"1 unread\""), "{}", rang.data);
}
