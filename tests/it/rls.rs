//! Row-level security alone keeps organizations apart: statements run in org A's
//! tenant transaction see and change only A's rows, even with no `WHERE org_id`.

use clienthub::db::ids::{OrgId, UserId};
use clienthub::db::{Tenant, tenant};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};

use crate::support::*;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
}

fn org_of(conn: &mut PgConnection, email: &str) -> (OrgId, UserId) {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        org: uuid::Uuid,
        #[diesel(sql_type = SqlUuid)]
        id: uuid::Uuid,
    }
    let row: Row = diesel::sql_query("SELECT active_org_id AS org, id FROM users WHERE email = $1")
        .bind::<Text, _>(email)
        .get_result(conn)
        .unwrap();
    (OrgId(row.org), UserId(row.id))
}

fn in_tenant<T>(
    conn: &mut PgConnection,
    tenant: Tenant,
    f: impl FnOnce(&mut PgConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    tenant::transaction(conn, &tenant, f)
}

#[tokio::test]
async fn a_tenant_transaction_sees_only_its_own_rows_without_any_where_clause() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    let (org_a, user_a) = org_of(&mut conn, OWNER);
    let a = Tenant { org_id: org_a, user_id: user_a, client_id: None };

    // Outside a tenant transaction the app's own role sees both organizations.
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM organizations"), 2);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM roles"), 8);

    in_tenant(&mut conn, a, |c| {
        assert_eq!(count(c, "SELECT count(*) AS n FROM organizations"), 1);
        assert_eq!(count(c, "SELECT count(*) AS n FROM roles"), 4);
        assert_eq!(count(c, "SELECT count(*) AS n FROM role_permissions WHERE org_id <> app_org_id()"), 0);
        assert_eq!(count(c, "SELECT count(*) AS n FROM memberships"), 5);
        assert_eq!(
            count(c, "SELECT count(*) AS n FROM audit_logs"),
            count(c, "SELECT count(*) AS n FROM audit_logs WHERE org_id = app_org_id()")
        );
        // Users: A's members, never B's owner.
        assert_eq!(count(c, &format!("SELECT count(*) AS n FROM users WHERE email = '{OTHER_OWNER}'")), 0);
        assert_eq!(count(c, "SELECT count(*) AS n FROM users"), 5);
        Ok(())
    })
    .unwrap();
}

#[tokio::test]
async fn a_tenant_transaction_cannot_change_another_organizations_rows() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    let (org_a, user_a) = org_of(&mut conn, OWNER);
    let (org_b, _) = org_of(&mut conn, OTHER_OWNER);
    let a = Tenant { org_id: org_a, user_id: user_a, client_id: None };

    let (renamed, deleted, users_renamed) = in_tenant(&mut conn, a, |c| {
        let renamed = diesel::sql_query("UPDATE roles SET name = name || ' (renamed)'").execute(c)?;
        let deleted = diesel::sql_query("DELETE FROM role_permissions WHERE permission = 'export_data'").execute(c)?;
        let users_renamed = diesel::sql_query("UPDATE users SET name = 'Hijacked'").execute(c)?;
        Ok((renamed, deleted, users_renamed))
    })
    .unwrap();
    assert_eq!(renamed, 4, "only A's four roles");
    assert_eq!(deleted, 2, "only A's Owner and Admin had export_data");
    assert_eq!(users_renamed, 1, "a user can change only themself");
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) AS n FROM roles WHERE org_id = '{org_b}' AND name LIKE '%renamed%'")
        ),
        0
    );
    assert_eq!(
        count(
            &mut conn,
            &format!(
                "SELECT count(*) AS n FROM role_permissions WHERE org_id = '{org_b}' AND permission = 'export_data'"
            )
        ),
        2
    );
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM users WHERE name = 'Hijacked'"), 1);

    // Writing a row into B from A's transaction is refused by the policy.
    let insert_into_b = in_tenant(&mut conn, a, |c| {
        diesel::sql_query(format!(
            "INSERT INTO roles (id, org_id, name, power) VALUES (gen_random_uuid(), '{org_b}', 'Spy', 5)"
        ))
        .execute(c)
    });
    let err = insert_into_b.unwrap_err().to_string();
    assert!(err.contains("row-level security"), "{err}");

    // Moving A's row into B is refused too.
    let move_to_b =
        in_tenant(&mut conn, a, |c| diesel::sql_query(format!("UPDATE memberships SET org_id = '{org_b}'")).execute(c));
    assert!(move_to_b.is_err());

    // Columns that only the platform may change, or that no tenant may read.
    for sql in [
        "UPDATE users SET is_platform_owner = true",
        "UPDATE users SET status = 'active'",
        "UPDATE organizations SET status = 'active'",
        "UPDATE subscriptions SET plan = 'enterprise'",
        "INSERT INTO subscriptions (org_id) VALUES (app_org_id())",
        "UPDATE feature_flags SET enabled = false",
        "INSERT INTO feature_flag_overrides (org_id, flag_key, enabled) VALUES (app_org_id(), 'chat', true)",
        "INSERT INTO platform_staff (user_id) VALUES (app_user_id())",
        "SELECT count(*) FROM platform_audit_logs",
        "SELECT count(*) FROM support_conversations",
        "SELECT password_hash FROM users",
    ] {
        let attempt = in_tenant(&mut conn, a, |c| diesel::sql_query(sql).execute(c));
        let err = attempt.expect_err(sql).to_string();
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }

    // The audit log is append-only for tenants.
    let erase = in_tenant(&mut conn, a, |c| diesel::sql_query("DELETE FROM audit_logs").execute(c));
    assert!(erase.unwrap_err().to_string().contains("permission denied"));
}

#[tokio::test]
async fn without_a_tenant_context_the_tenant_role_sees_nothing() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    let seen = conn
        .transaction(|c| {
            diesel::sql_query("SET LOCAL ROLE clienthub_tenant").execute(c)?;
            Ok::<_, diesel::result::Error>((
                count(c, "SELECT count(*) AS n FROM organizations"),
                count(c, "SELECT count(*) AS n FROM memberships"),
                count(c, "SELECT count(*) AS n FROM users"),
            ))
        })
        .unwrap();
    assert_eq!(seen, (0, 0, 0));
    // And sessions are never readable by tenants at all.
    let sessions = conn.transaction(|c| {
        diesel::sql_query("SET LOCAL ROLE clienthub_tenant").execute(c)?;
        diesel::sql_query("SELECT 1 FROM sessions").execute(c)
    });
    assert!(sessions.is_err());
}

#[tokio::test]
async fn notifications_are_read_only_by_their_recipient() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    let (org, owner) = org_of(&mut conn, OWNER);
    let (_, member) = org_of(&mut conn, MEMBER);
    let as_owner = Tenant { org_id: org, user_id: owner, client_id: None };
    let as_member = Tenant { org_id: org, user_id: member, client_id: None };
    // The owner may notify a colleague (a mention)...
    in_tenant(&mut conn, as_owner, |c| {
        diesel::sql_query(format!(
            "INSERT INTO notifications (id, org_id, user_id, actor_id, kind, title, link)
             VALUES (gen_random_uuid(), '{org}', '{member}', '{owner}', 'mention', 'You were mentioned', '/tasks')"
        ))
        .execute(c)
    })
    .unwrap();
    // ...but neither reads, marks nor deletes it; the recipient does.
    in_tenant(&mut conn, as_owner, |c| {
        assert_eq!(count(c, "SELECT count(*) AS n FROM notifications"), 0);
        assert_eq!(diesel::sql_query("UPDATE notifications SET read_at = now()").execute(c)?, 0);
        assert_eq!(diesel::sql_query("DELETE FROM notifications").execute(c)?, 0);
        Ok(())
    })
    .unwrap();
    in_tenant(&mut conn, as_member, |c| {
        assert_eq!(count(c, "SELECT count(*) AS n FROM notifications"), 1);
        Ok(())
    })
    .unwrap();
    // A link must stay on this site.
    let offsite = in_tenant(&mut conn, as_owner, |c| {
        diesel::sql_query(format!(
            "INSERT INTO notifications (id, org_id, user_id, actor_id, kind, title, link)
             VALUES (gen_random_uuid(), '{org}', '{member}', '{owner}', 'mention', 'x', '//evil.example/')"
        ))
        .execute(c)
    });
    assert!(offsite.unwrap_err().to_string().contains("notifications_link_check"));
}
