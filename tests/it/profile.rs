//! The profile: name at once, a new email address only once it is confirmed.

use crate::support::*;

#[tokio::test]
async fn a_new_email_address_is_used_only_once_confirmed() {
    let app = TestApp::spawn().await;
    let olivia = app.owner().await;
    let no_password =
        olivia.post_form("/profile", &[("name", "Olivia B. Bennett"), ("email", "Olivia@NewStudio.example")]).await;
    assert_eq!(no_password.status, 400, "a stolen session alone cannot move the account");
    assert!(no_password.body.contains("Enter your current password to change your email address."));
    let res = olivia
        .post_form(
            "/profile",
            &[("name", "Olivia B. Bennett"), ("email", "Olivia@NewStudio.example"), ("current_password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 303);
    let page = olivia.get("/profile").await;
    assert!(page.body.contains("We sent a link to olivia@newstudio.example"));
    assert!(page.body.contains("value=\"Olivia B. Bennett\""), "the name changed at once");
    assert!(page.body.contains(OWNER), "the email has not changed yet");

    let mail = app.mail.wait_for(2).await;
    let confirm =
        mail.iter().find(|m| m.to == vec!["olivia@newstudio.example".to_string()]).expect("a link to the new address");
    let notice = mail.iter().find(|m| m.to == vec![OWNER.to_string()]).expect("a notice to the old address");
    assert!(notice.decoded().contains("olivia@newstudio.example"));
    let link = confirm.link(&format!("{}/profile/email/confirm/", app.base)).unwrap();
    let path = link.strip_prefix(&app.base).unwrap().to_string();

    let res = olivia.get(&path).await;
    assert_eq!(res.location(), Some("/profile"));
    assert!(olivia.get("/profile").await.body.contains("Your email address is now olivia@newstudio.example"));
    let login =
        app.client().post_form("/login", &[("email", "olivia@newstudio.example"), ("password", PASSWORD)]).await;
    assert_eq!(login.status, 303);
    let again = app.client().get(&path).await;
    assert_eq!(again.location(), Some("/login"));
    assert_eq!(app.count("audit_logs WHERE action = 'profile.email_changed'"), 1);
}

#[tokio::test]
async fn an_address_of_another_account_or_a_bad_one_is_refused() {
    let app = TestApp::spawn().await;
    let olivia = app.owner().await;
    let taken = olivia
        .post_form("/profile", &[("name", "Olivia Bennett"), ("email", ADMIN), ("current_password", PASSWORD)])
        .await;
    assert_eq!(taken.status, 400);
    assert!(taken.body.contains("Another account already uses this address."));
    let bad = olivia.post_form("/profile", &[("name", ""), ("email", "nope")]).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("Enter your name.") && bad.body.contains("Enter an email address like"));
    assert_eq!(app.count("user_tokens"), 0);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(app.mail.received().is_empty());
}
