//! Team, roles and invitations: every power rule and every refusal.

use crate::support::*;

fn id_of(app: &TestApp, sql: &str) -> String {
    let id: uuid::Uuid =
        diesel::RunQueryDsl::get_result(diesel::dsl::sql::<diesel::sql_types::Uuid>(sql), &mut app.conn()).unwrap();
    id.to_string()
}

fn role_id(app: &TestApp, org: &str, key: &str) -> String {
    id_of(
        app,
        &format!(
            "SELECT r.id FROM roles r JOIN organizations o ON o.id = r.org_id WHERE o.name = '{org}' AND r.key = '{key}'"
        ),
    )
}

fn user_id(app: &TestApp, email: &str) -> String {
    id_of(app, &format!("SELECT id FROM users WHERE email = '{email}'"))
}

fn membership_id(app: &TestApp, email: &str) -> String {
    id_of(
        app,
        &format!(
            "SELECT m.id FROM memberships m JOIN users u ON u.id = m.user_id JOIN organizations o ON o.id = m.org_id
         WHERE u.email = '{email}' AND o.name = 'Northwind Studio'"
        ),
    )
}

async fn flash_after(client: &Client, res: &Page) -> String {
    client.get(res.location().unwrap_or("/team")).await.body
}

#[tokio::test]
async fn a_new_person_invited_by_email_signs_up_through_the_link_and_lands_in_the_organization() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let member_role = role_id(&app, "Northwind Studio", "member");
    let res = owner
        .post_form("/invitations/send", &[("email_or_display_id", "Nina@Example.com"), ("role_id", &member_role)])
        .await;
    assert_eq!(res.status, 303);
    let team = flash_after(&owner, &res).await;
    assert!(team.contains("Invitation sent to nina@example.com"));
    assert!(team.contains("Pending invitations"));

    let mail = app.mail.wait_for(1).await;
    assert_eq!(mail[0].to, vec!["nina@example.com".to_string()]);
    assert!(mail[0].subject().contains("Olivia Bennett invited you to Northwind Studio"));
    let link = mail[0].link(&format!("{}/invitations/open/", app.base)).unwrap();
    let path = link.strip_prefix(&app.base).unwrap().to_string();

    let nina = app.client();
    let page = nina.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Join Northwind Studio") && page.body.contains("nina@example.com"));
    let bad = nina.post_form(&path, &[("name", ""), ("password", "short")]).await;
    assert_eq!(bad.status, 400);
    assert_eq!(app.count("users WHERE email = 'nina@example.com'"), 0);
    let res = nina.post_form(&path, &[("name", "Nina Park"), ("password", "nina's long password")]).await;
    assert_eq!(res.status, 303);
    let dashboard = nina.get("/dashboard").await;
    assert!(dashboard.body.contains("Northwind Studio") && dashboard.body.contains("Member"));
    assert_eq!(app.count("organizations"), 2, "no organization of her own was made");
    assert_eq!(nina.get(&path).await.status, 404, "a used link is spent");
    assert_eq!(
        app.client().post_form(&path, &[("name", "Eve"), ("password", "eve's long password")]).await.status,
        404
    );
    assert_eq!(app.count("audit_logs WHERE action IN ('invitation.sent', 'invitation.accepted')"), 2);
}

#[tokio::test]
async fn an_existing_user_invited_by_display_id_accepts_from_their_invitations_page() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let otto = app.login(OTHER_OWNER).await;
    let display: String = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Text>(&format!(
            "SELECT display_id FROM users WHERE email = '{OTHER_OWNER}'"
        )),
        &mut app.conn(),
    )
    .unwrap();
    let member_role = role_id(&app, "Northwind Studio", "member");
    let res = admin
        .post_form("/invitations/send", &[("email_or_display_id", &display.to_lowercase()), ("role_id", &member_role)])
        .await;
    assert_eq!(res.status, 303);
    let page = otto.get("/invitations").await;
    assert!(page.body.contains("Northwind Studio"));
    // He hears of it in his own organization too: the bell, and the notification.
    let at_home = otto.get("/notifications").await;
    assert!(at_home.body.contains("Adam Okafor invited you to join Northwind Studio as Member"), "{}", at_home.body);
    assert!(otto.get("/dashboard").await.body.contains("aria-label=\"1 unread\""));
    let invitation = id_of(&app, "SELECT id FROM invitations");
    // Someone else cannot answer it.
    assert_eq!(app.member().await.post_form(&format!("/invitations/{invitation}/accept"), &[]).await.status, 404);
    let res = otto.post_form(&format!("/invitations/{invitation}/accept"), &[]).await;
    assert_eq!(res.location(), Some("/dashboard"));
    assert!(
        otto.get("/dashboard").await.body.contains("Northwind Studio"),
        "the new organization is now his active one"
    );
    assert_eq!(otto.post_form(&format!("/invitations/{invitation}/accept"), &[]).await.status, 404, "once only");
    assert_eq!(app.count("notifications WHERE kind = 'invitation' AND read_at IS NOT NULL"), 1, "answered, so read");
}

#[tokio::test]
async fn a_client_user_is_invited_for_one_client_and_lands_in_the_portal() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let client_role = role_id(&app, "Northwind Studio", "client");
    let hannah = id_of(&app, "SELECT id FROM clients WHERE name = 'Hannah Weber'");
    // The Client role needs a client; another organization's client is not one.
    let res = owner
        .post_form("/invitations/send", &[("email_or_display_id", "ben@weber-bau.example"), ("role_id", &client_role)])
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("Choose the client this person belongs to."));
    diesel::RunQueryDsl::execute(
        diesel::sql_query(
            "INSERT INTO clients (id, org_id, name) SELECT gen_random_uuid(), id, 'Elsewhere' FROM organizations WHERE name = 'Other Corp'",
        ),
        &mut app.conn(),
    )
    .unwrap();
    let elsewhere = id_of(&app, "SELECT id FROM clients WHERE name = 'Elsewhere'");
    let res = owner
        .post_form(
            "/invitations/send",
            &[("email_or_display_id", "ben@weber-bau.example"), ("role_id", &client_role), ("client_id", &elsewhere)],
        )
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(app.count("invitations"), 0);

    let res = owner
        .post_form(
            "/invitations/send",
            &[("email_or_display_id", "ben@weber-bau.example"), ("role_id", &client_role), ("client_id", &hannah)],
        )
        .await;
    assert_eq!(res.status, 303);
    let mail = app.mail.wait_for(1).await;
    assert!(mail[0].decoded().contains("as Client (Hannah Weber)"));
    let path =
        mail[0].link(&format!("{}/invitations/open/", app.base)).unwrap().strip_prefix(&app.base).unwrap().to_string();
    let ben = app.client();
    let res = ben.post_form(&path, &[("name", "Ben Weber"), ("password", "ben's long password")]).await;
    assert_eq!(res.status, 303);
    assert_eq!(ben.get("/dashboard").await.location(), Some("/portal"));
    assert_eq!(ben.get("/portal").await.status, 200);
    assert_eq!(ben.get("/clients").await.status, 403);
    assert_eq!(
        app.count(&format!(
            "memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'ben@weber-bau.example' AND m.client_id = '{hannah}'"
        )),
        1
    );
    // On the team page a client member's role is shown, not offered for change.
    let team = owner.get("/team").await;
    assert!(team.body.contains("Ben Weber"));
    assert!(!team.body.contains(&format!("<option value=\"{client_role}\" selected")));
}

#[tokio::test]
async fn invitations_that_cannot_be_sent_are_refused_next_to_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let member_role = role_id(&app, "Northwind Studio", "member");
    let admin_role = role_id(&app, "Northwind Studio", "admin");
    let other_org_role = role_id(&app, "Other Corp", "member");
    let cases: Vec<(&str, &str, &str)> = vec![
        ("CH-ZZZZZZ", member_role.as_str(), "No one has that display ID"),
        ("CH-12", member_role.as_str(), "A display ID looks like CH-7K3F9Q"),
        ("not an address", member_role.as_str(), "Enter an email address or a display ID"),
        (MEMBER, member_role.as_str(), "already a member"),
        ("new@example.com", admin_role.as_str(), "Choose a role below your own"),
        ("new@example.com", other_org_role.as_str(), "Choose a role below your own"),
    ];
    for (target, role, message) in cases {
        let res = admin.post_form("/invitations/send", &[("email_or_display_id", target), ("role_id", role)]).await;
        assert_eq!(res.status, 400, "{target}");
        assert!(res.body.contains(message), "{target}: expected {message:?}");
    }
    assert_eq!(app.count("invitations"), 0);
    let ok = admin
        .post_form("/invitations/send", &[("email_or_display_id", "new@example.com"), ("role_id", &member_role)])
        .await;
    assert_eq!(ok.status, 303);
    let again = admin
        .post_form("/invitations/send", &[("email_or_display_id", "new@example.com"), ("role_id", &member_role)])
        .await;
    assert!(again.body.contains("There is already a pending invitation for them."));
    assert_eq!(app.count("invitations"), 1);
    let member = app.member().await;
    assert_eq!(
        member
            .post_form("/invitations/send", &[("email_or_display_id", "x@example.com"), ("role_id", &member_role)])
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn expired_revoked_and_resent_invitation_links() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let member_role = role_id(&app, "Northwind Studio", "member");
    owner
        .post_form("/invitations/send", &[("email_or_display_id", "late@example.com"), ("role_id", &member_role)])
        .await;
    let first = app.mail.wait_for(1).await[0].link(&format!("{}/invitations/open/", app.base)).unwrap();
    let invitation = id_of(&app, "SELECT id FROM invitations");

    owner.post_form(&format!("/invitations/{invitation}/resend"), &[]).await;
    let second = app.mail.wait_for(2).await[1].link(&format!("{}/invitations/open/", app.base)).unwrap();
    let visitor = app.client();
    assert_eq!(visitor.get(first.strip_prefix(&app.base).unwrap()).await.status, 404, "the old link stops working");
    assert_eq!(visitor.get(second.strip_prefix(&app.base).unwrap()).await.status, 200);

    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE invitations SET expires_at = now() - interval '1 minute'"),
        &mut app.conn(),
    )
    .unwrap();
    let expired = visitor.get(second.strip_prefix(&app.base).unwrap()).await;
    assert_eq!(expired.status, 404);
    assert!(expired.body.contains("no longer valid"));

    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE invitations SET expires_at = now() + interval '1 day'"),
        &mut app.conn(),
    )
    .unwrap();
    owner.post_form(&format!("/invitations/{invitation}/revoke"), &[]).await;
    assert_eq!(visitor.get(second.strip_prefix(&app.base).unwrap()).await.status, 404);
    // Another organization cannot touch it.
    let otto = app.login(OTHER_OWNER).await;
    assert_eq!(otto.post_form(&format!("/invitations/{invitation}/resend"), &[]).await.status, 404);
}

#[tokio::test]
async fn members_are_managed_only_below_your_own_power() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let member_role = role_id(&app, "Northwind Studio", "member");
    let admin_role = role_id(&app, "Northwind Studio", "admin");
    let owner_id = user_id(&app, OWNER);
    let admin_id = user_id(&app, ADMIN);
    let mia_id = user_id(&app, MEMBER);

    let res = admin.post_form(&format!("/users/{owner_id}/role"), &[("role_id", &member_role)]).await;
    assert!(flash_after(&admin, &res).await.contains("only manage members whose role is below yours"));
    let res = admin.post_form(&format!("/users/{admin_id}/role"), &[("role_id", &member_role)]).await;
    assert!(flash_after(&admin, &res).await.contains("cannot do that to yourself"));
    let res = admin.post_form(&format!("/users/{mia_id}/role"), &[("role_id", &admin_role)]).await;
    assert!(flash_after(&admin, &res).await.contains("Choose a role below your own"), "no one grants their own level");
    assert_eq!(app.count("memberships m JOIN roles r ON r.id = m.role_id WHERE r.key = 'admin'"), 1);

    let owner = app.owner().await;
    let res = owner.post_form(&format!("/users/{mia_id}/role"), &[("role_id", &admin_role)]).await;
    assert!(flash_after(&owner, &res).await.contains("Mia Laurent is now Admin"), "the Owner may grant Admin");
    assert_eq!(app.count("audit_logs WHERE action = 'member.role_changed'"), 1);

    let member = app.login("mateo@northwind.example").await;
    assert_eq!(member.post_form(&format!("/users/{mia_id}/role"), &[("role_id", &member_role)]).await.status, 403);
    assert_eq!(member.get("/roles").await.status, 403);
    assert_eq!(member.get("/team").await.status, 200, "members may see the team");
}

#[tokio::test]
async fn a_banned_member_is_locked_out_until_unbanned_and_a_removed_one_is_gone() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mia = app.member().await;
    let mia_membership = membership_id(&app, MEMBER);
    let res = admin.post_form(&format!("/members/{mia_membership}/ban"), &[]).await;
    assert!(flash_after(&admin, &res).await.contains("Mia Laurent has been banned"));
    let locked = mia.get("/dashboard").await;
    assert_eq!(locked.status, 403);
    assert!(locked.body.contains("not an active member"));
    assert!(locked.body.contains("href=\"/invitations\""), "the way on is to their invitations");
    admin.post_form(&format!("/members/{mia_membership}/unban"), &[]).await;
    assert_eq!(mia.get("/dashboard").await.status, 200);

    let mateo_membership = membership_id(&app, "mateo@northwind.example");
    admin.post_form(&format!("/members/{mateo_membership}/remove"), &[]).await;
    assert_eq!(
        app.count("memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'mateo@northwind.example'"),
        0
    );
    assert_eq!(app.count("audit_logs WHERE action IN ('member.banned', 'member.unbanned', 'member.removed')"), 3);

    // Another organization's owner cannot touch Northwind's members: 404, not a leak.
    let otto = app.login(OTHER_OWNER).await;
    assert_eq!(otto.post_form(&format!("/members/{mia_membership}/ban"), &[]).await.status, 404);
}

#[tokio::test]
async fn the_last_owner_cannot_leave_but_a_member_can() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let res = owner.post_form("/members/leave", &[]).await;
    assert!(flash_after(&owner, &res).await.contains("only Owner"));
    assert_eq!(
        app.count("memberships m JOIN roles r ON r.id = m.role_id JOIN organizations o ON o.id = m.org_id WHERE r.key = 'super_admin' AND o.name = 'Northwind Studio'"),
        1
    );
    let mia = app.member().await;
    let res = mia.post_form("/members/leave", &[]).await;
    assert_eq!(res.location(), Some("/dashboard"));
    assert_eq!(mia.get("/dashboard").await.status, 403);
}

#[tokio::test]
async fn custom_roles_are_created_checked_and_take_effect_on_the_next_request() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let too_strong =
        admin.post_form("/roles", &[("name", "Boss"), ("power", "95"), ("permissions", "view_team")]).await;
    assert_eq!(too_strong.status, 400);
    assert!(too_strong.body.contains("below your own power"));
    let unknown =
        admin.post_form("/roles", &[("name", "Odd"), ("power", "40"), ("permissions", "launch_rockets")]).await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.body.contains("Choose only permissions from the list"));
    let duplicate = admin.post_form("/roles", &[("name", "member"), ("power", "40")]).await;
    assert!(duplicate.body.contains("already a role with this name"));

    let res = admin
        .post_form(
            "/roles",
            &[("name", "Freelancer"), ("power", "40"), ("permissions", "view_team"), ("permissions", "view_projects")],
        )
        .await;
    assert_eq!(res.status, 303);
    let freelancer = id_of(&app, "SELECT id FROM roles WHERE name = 'Freelancer'");
    let mia_id = user_id(&app, MEMBER);
    admin.post_form(&format!("/users/{mia_id}/role"), &[("role_id", &freelancer)]).await;
    let mia = app.member().await;
    assert_eq!(mia.get("/team").await.status, 200);

    let refused = admin.post_form(&format!("/roles/{freelancer}/delete"), &[]).await;
    assert!(flash_after(&admin, &refused).await.contains("still given to 1 member"));
    admin
        .post_form(
            &format!("/roles/{freelancer}"),
            &[("name", "Freelancer"), ("power", "40"), ("permissions", "view_projects")],
        )
        .await;
    assert_eq!(mia.get("/team").await.status, 403, "the permission is gone at the next request");

    let builtin = role_id(&app, "Northwind Studio", "member");
    let res = admin.post_form(&format!("/roles/{builtin}/delete"), &[]).await;
    assert!(flash_after(&admin, &res).await.contains("Built-in roles cannot be deleted"));
    assert_eq!(admin.post_form(&format!("/roles/{builtin}"), &[("name", "Member"), ("power", "50")]).await.status, 403);
    let other = role_id(&app, "Other Corp", "member");
    assert_eq!(admin.get(&format!("/roles/{other}")).await.status, 404);

    let owner = app.owner().await;
    let member_role = role_id(&app, "Northwind Studio", "member");
    owner.post_form(&format!("/users/{mia_id}/role"), &[("role_id", &member_role)]).await;
    let res = admin.post_form(&format!("/roles/{freelancer}/delete"), &[]).await;
    assert!(flash_after(&admin, &res).await.contains("has been deleted"));
    assert_eq!(app.count("audit_logs WHERE action IN ('role.created', 'role.updated', 'role.deleted')"), 3);
}

#[tokio::test]
async fn an_invitation_by_address_is_answered_only_through_its_emailed_link() {
    let app = TestApp::spawn().await;
    // Someone registers first with the address a colleague is about to be invited at.
    let squatter = app.client();
    squatter
        .post_form(
            "/signup",
            &[
                ("name", "Squatter"),
                ("email", "nina@example.com"),
                ("password", "long enough pw"),
                ("org_name", "Squat"),
            ],
        )
        .await;
    let owner = app.owner().await;
    let admin_role = role_id(&app, "Northwind Studio", "admin");
    owner
        .post_form("/invitations/send", &[("email_or_display_id", "nina@example.com"), ("role_id", &admin_role)])
        .await;
    let invitation = id_of(&app, "SELECT id FROM invitations");
    assert!(
        !squatter.get("/invitations").await.body.contains("Northwind Studio"),
        "not listed for an unproven address"
    );
    assert_eq!(squatter.post_form(&format!("/invitations/{invitation}/accept"), &[]).await.status, 404);

    // The holder of the link answers it, signed in with any account of theirs.
    let mail = app.mail.wait_for(1).await;
    assert!(mail[0].raw.contains("Northwind Studio via Client Hub"), "the sender says whose address it is");
    let path =
        mail[0].link(&format!("{}/invitations/open/", app.base)).unwrap().strip_prefix(&app.base).unwrap().to_string();
    let otto = app.login(OTHER_OWNER).await;
    let page = otto.get(&path).await;
    assert!(page.body.contains("You will join as <strong>owner@othercorp.example</strong>"));
    let res = otto.post_form(&path, &[("answer", "accept")]).await;
    assert_eq!(res.location(), Some("/dashboard"));
    assert!(otto.get("/dashboard").await.body.contains("Northwind Studio"));
}

#[tokio::test]
async fn an_invitation_by_display_id_never_shows_the_invitees_address() {
    let app = TestApp::spawn().await;
    let owner = app.owner().await;
    let display: String = diesel::RunQueryDsl::get_result(
        diesel::dsl::sql::<diesel::sql_types::Text>(&format!(
            "SELECT display_id FROM users WHERE email = '{OTHER_OWNER}'"
        )),
        &mut app.conn(),
    )
    .unwrap();
    let member_role = role_id(&app, "Northwind Studio", "member");
    let res =
        owner.post_form("/invitations/send", &[("email_or_display_id", &display), ("role_id", &member_role)]).await;
    let team = owner.get(res.location().unwrap()).await.body;
    assert!(team.contains(&format!("Invitation sent to {display}")));
    assert!(!team.contains(OTHER_OWNER));
    assert!(!owner.get("/audit-logs").await.body.contains(OTHER_OWNER));
    assert_eq!(app.mail.wait_for(1).await[0].to, vec![OTHER_OWNER.to_string()], "the mail still reaches them");
}

#[tokio::test]
async fn a_role_cannot_grant_permissions_it_does_not_have_nor_manage_stronger_invitations() {
    let app = TestApp::spawn().await;
    // A strong but narrow role: power 80, may only invite.
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "WITH r AS (INSERT INTO roles (id, org_id, name, power)
                        SELECT gen_random_uuid(), id, 'Recruiter', 80 FROM organizations WHERE name = 'Northwind Studio' RETURNING id, org_id),
                  p AS (INSERT INTO role_permissions (org_id, role_id, permission)
                        SELECT org_id, id, k FROM r, (VALUES ('invite_members'), ('view_team')) AS v(k))
             UPDATE memberships SET role_id = (SELECT id FROM r)
             WHERE user_id = (SELECT id FROM users WHERE email = '{MEMBER}')"
        )),
        &mut app.conn(),
    )
    .unwrap();
    let recruiter = app.member().await;
    let member_role = role_id(&app, "Northwind Studio", "member");
    let res = recruiter
        .post_form("/invitations/send", &[("email_or_display_id", "x@example.com"), ("role_id", &member_role)])
        .await;
    assert_eq!(res.status, 400, "Member holds permissions the recruiter lacks");
    assert!(res.body.contains("Choose a role below your own"));

    let owner = app.owner().await;
    let admin_role = role_id(&app, "Northwind Studio", "admin");
    owner
        .post_form("/invitations/send", &[("email_or_display_id", "boss@example.com"), ("role_id", &admin_role)])
        .await;
    let invitation = id_of(&app, "SELECT id FROM invitations");
    assert_eq!(recruiter.post_form(&format!("/invitations/{invitation}/revoke"), &[]).await.status, 403);
    assert_eq!(recruiter.post_form(&format!("/invitations/{invitation}/resend"), &[]).await.status, 403);
    assert_eq!(app.count("invitations WHERE status = 'pending'"), 1);
}
