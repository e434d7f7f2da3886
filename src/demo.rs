//! Demo data: an agency with members of every role, loaded by `clienthub seed-demo`
//! and on the first start of `make run`.

use diesel::pg::PgConnection;
use diesel::prelude::*;

use crate::auth::display_id;
use crate::auth::{password, queries};
use crate::db::ids::UserId;
use crate::db::schema::{subscriptions, users};
use crate::team::roles::BuiltinRole;

pub const PASSWORD: &str = "clienthub-demo";

pub const LOGINS: &[(&str, &str, BuiltinRole)] = &[
    ("Olivia Bennett", "owner@northwind.example", BuiltinRole::Owner),
    ("Adam Okafor", "admin@northwind.example", BuiltinRole::Admin),
    ("Mia Laurent", "member@northwind.example", BuiltinRole::Member),
    ("Mateo Ruiz", "mateo@northwind.example", BuiltinRole::Member),
    ("Chloé Durand", "client@northwind.example", BuiltinRole::Client),
];

/// The demo platform owner: no organization of their own, every page of /platform.
pub const PLATFORM_OWNER: (&str, &str) = ("Priya Raman", "platform@clienthub.example");

/// Whether the database has no users yet (a first start).
pub fn is_empty(conn: &mut PgConnection) -> QueryResult<bool> {
    Ok(users::table.count().get_result::<i64>(conn)? == 0)
}

/// Loads the demo agency; does nothing if its owner already exists.
pub fn seed(conn: &mut PgConnection) -> anyhow::Result<bool> {
    if queries::find_by_email(conn, LOGINS[0].1)?.is_some() {
        return Ok(false);
    }
    let hash = password::hash(PASSWORD)?;
    let (owner_name, owner_email, _) = LOGINS[0];
    let (_, org_id) =
        match queries::sign_up(conn, &Default::default(), owner_name, owner_email, &hash, "Northwind Studio") {
            Ok(ids) => ids,
            Err(queries::SignupError::EmailTaken) => return Ok(false),
            Err(queries::SignupError::Db(e)) => return Err(e.into()),
        };
    for (name, email, role) in &LOGINS[1..] {
        queries::create_member(conn, org_id, *role, name, email, &hash)?;
    }
    seed_work(conn, org_id)?;
    // A busy agency: on the Pro plan. The platform's owner runs /platform.
    diesel::update(subscriptions::table.find(org_id)).set(subscriptions::plan.eq("pro")).execute(conn)?;
    let (name, email) = PLATFORM_OWNER;
    queries::insert_user(conn, UserId::new(), name, email, &hash, &display_id::generate())?;
    diesel::update(users::table.filter(users::email.eq(email))).set(users::is_platform_owner.eq(true)).execute(conn)?;
    Ok(true)
}

/// Clients, projects with tasks on every board column, comments and messages, so a
/// newcomer sees a working agency; the client login belongs to the first client.
fn seed_work(conn: &mut PgConnection, org_id: crate::db::ids::OrgId) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    // Only constants and a typed UUID are interpolated.
    conn.batch_execute(&format!(
        r#"
        DROP TABLE IF EXISTS demo_people;
        CREATE TEMP TABLE demo_people AS
          SELECT u.id, u.email FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.org_id = '{org_id}';
        INSERT INTO clients (id, org_id, name, company, email, phone, address, tax_id, notes) VALUES
          (gen_random_uuid(), '{org_id}', 'Chloé Durand', 'Durand & Fils', 'chloe@durand.example', '+33 1 42 68 53 00',
           '12 rue de Rivoli
75004 Paris
France', 'FR40303265045', 'Prefers email. Invoices in EUR.'),
          (gen_random_uuid(), '{org_id}', 'Hannah Weber', 'Weber Bau GmbH', 'hannah@weber-bau.example', '+49 30 1234567',
           'Friedrichstraße 10
10117 Berlin', 'DE123456789', ''),
          (gen_random_uuid(), '{org_id}', 'Raj Patel', 'Patel Foods', 'raj@patelfoods.example', '+44 20 7946 0958',
           '221 King''s Road
London SW3', 'GB980780684', 'Quarterly review in March.'),
          (gen_random_uuid(), '{org_id}', 'Sofia Rossi', 'Rossi Design', 'sofia@rossi.example', '+39 02 1234 5678', 'Via Roma 1
Milano', '', '');
        UPDATE memberships SET client_id = (SELECT id FROM clients WHERE org_id = '{org_id}' AND name = 'Chloé Durand')
          WHERE org_id = '{org_id}' AND user_id = (SELECT id FROM demo_people WHERE email = 'client@northwind.example');
        INSERT INTO projects (id, org_id, client_id, title, description, status, start_date, due_date, budget, client_visible, created_by)
        SELECT gen_random_uuid(), '{org_id}', c.id, p.title, p.description, p.status, p.start_date::date, p.due_date::date,
               p.budget::numeric, p.visible, (SELECT id FROM demo_people WHERE email = 'owner@northwind.example')
        FROM (VALUES
          ('Chloé Durand', 'Website redesign', 'New brand site with a shop and a blog.', 'active', '2026-10-01', '2027-01-31', '18000', true),
          ('Hannah Weber', 'Brand identity', 'Logo, colours, type and a short brand book.', 'planned', '2026-12-01', '2027-02-15', '9500', false),
          ('Raj Patel', 'Packaging for the spring range', 'Six boxes and a display stand.', 'on_hold', '2026-09-15', NULL, '12000', true)
        ) AS p(client, title, description, status, start_date, due_date, budget, visible)
        JOIN clients c ON c.org_id = '{org_id}' AND c.name = p.client;
        INSERT INTO project_members (org_id, project_id, user_id)
        SELECT '{org_id}', p.id, d.id FROM projects p, demo_people d
        WHERE p.org_id = '{org_id}' AND d.email IN ('owner@northwind.example', 'member@northwind.example', 'mateo@northwind.example');
        INSERT INTO tasks (id, org_id, project_id, title, description, status, priority, assignee_id, due_date, position, client_visible)
        SELECT gen_random_uuid(), '{org_id}', p.id, t.title, t.description, t.status, t.priority,
               (SELECT id FROM demo_people WHERE email = t.assignee), t.due::date, t.position, t.visible
        FROM (VALUES
          ('Website redesign', 'Sitemap and content inventory', '', 'done', 'high', 'member@northwind.example', '2026-10-20', 0, true),
          ('Website redesign', 'Wireframes for the home page', 'Desktop and phone.', 'done', 'high', 'member@northwind.example', '2026-11-05', 1, true),
          ('Website redesign', 'Visual design of the shop', '', 'review', 'medium', 'mateo@northwind.example', '2026-11-28', 0, true),
          ('Website redesign', 'Product page template', '', 'in_progress', 'high', 'mateo@northwind.example', '2026-12-05', 0, false),
          ('Website redesign', 'Blog template', '', 'in_progress', 'low', 'member@northwind.example', '2026-12-12', 1, false),
          ('Website redesign', 'Migrate old articles', 'About 140 posts from the old CMS.', 'todo', 'medium', NULL, '2026-12-19', 0, false),
          ('Website redesign', 'Payment provider set-up', '', 'todo', 'urgent', 'owner@northwind.example', '2026-11-20', 1, false),
          ('Website redesign', 'Launch checklist', '', 'todo', 'medium', NULL, '2027-01-25', 2, true),
          ('Brand identity', 'Mood boards', '', 'todo', 'medium', 'mateo@northwind.example', '2026-12-10', 0, false),
          ('Brand identity', 'Kick-off workshop', '', 'todo', 'high', 'owner@northwind.example', '2026-12-03', 1, true),
          ('Packaging for the spring range', 'Die-cut templates from the printer', '', 'review', 'medium', 'member@northwind.example', NULL, 0, false)
        ) AS t(project, title, description, status, priority, assignee, due, position, visible)
        JOIN projects p ON p.org_id = '{org_id}' AND p.title = t.project;
        UPDATE tasks SET completed_at = now() WHERE org_id = '{org_id}' AND status = 'done';
        INSERT INTO tasks (id, org_id, project_id, parent_id, title, status, priority, position)
        SELECT gen_random_uuid(), '{org_id}', t.project_id, t.id, s.title, s.status, 'medium', 0
        FROM (VALUES ('Product page template', 'Image gallery', 'done'), ('Product page template', 'Size and colour picker', 'todo'),
                     ('Product page template', 'Reviews block', 'todo')) AS s(parent, title, status)
        JOIN tasks t ON t.org_id = '{org_id}' AND t.title = s.parent;
        INSERT INTO task_comments (id, org_id, task_id, author_id, body)
        SELECT gen_random_uuid(), '{org_id}', t.id, (SELECT id FROM demo_people WHERE email = c.author), c.body
        FROM (VALUES ('Visual design of the shop', 'owner@northwind.example', 'Looks great. @Mateo Ruiz can we try a darker footer?'),
                     ('Visual design of the shop', 'mateo@northwind.example', 'Sure, new version this afternoon.')) AS c(task, author, body)
        JOIN tasks t ON t.org_id = '{org_id}' AND t.title = c.task;
        INSERT INTO project_messages (id, org_id, project_id, author_id, body, created_at)
        SELECT gen_random_uuid(), '{org_id}', p.id, (SELECT id FROM demo_people WHERE email = m.author), m.body, now() - m.ago::interval
        FROM (VALUES ('owner@northwind.example', 'Kick-off notes are in the shared folder. First review on Friday.', '3 days'),
                     ('member@northwind.example', 'Wireframes are up for review.', '1 day'),
                     ('mateo@northwind.example', 'Shop design is in review — feedback welcome.', '2 hours')) AS m(author, body, ago)
        JOIN projects p ON p.org_id = '{org_id}' AND p.title = 'Website redesign';
        DROP TABLE demo_people;
        "#
    ))
}

/// Taxes, invoices and quotations in every state, made by the same code the pages use
/// (so numbers and totals follow the rules): for `make run` and `seed-demo`; tests make
/// their own.
pub fn seed_documents(conn: &mut PgConnection) -> anyhow::Result<()> {
    use crate::db::ids::{ClientId, OrgId, UserId};
    use crate::db::tenant::{Tenant, transaction};
    use crate::money::amounts::line_amount;
    use crate::money::document::{self, DocKind, DraftHeader, Item};
    use rust_decimal::Decimal;

    #[derive(QueryableByName)]
    struct Owner {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        org_id: OrgId,
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        user_id: UserId,
    }
    let owner: Owner = diesel::sql_query(
        "SELECT m.org_id, m.user_id FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE u.email = 'owner@northwind.example'",
    )
    .get_result(conn)?;
    let tenant = Tenant { org_id: owner.org_id, user_id: owner.user_id, client_id: None };
    let d = |s: &str| s.parse::<Decimal>().unwrap_or_default();
    transaction(conn, &tenant, |conn| -> anyhow::Result<()> {
        let vat = crate::db::ids::TaxId::new();
        diesel::sql_query(
            "INSERT INTO taxes (id, org_id, name, rate) VALUES ($1, app_org_id(), 'VAT', 20), (gen_random_uuid(), app_org_id(), 'Reduced VAT', 5.5)",
        )
        .bind::<diesel::sql_types::Uuid, _>(vat)
        .execute(conn)?;
        let client = |conn: &mut PgConnection, name: &str| -> QueryResult<ClientId> {
            use crate::db::schema::clients;
            clients::table.filter(clients::name.eq(name)).select(clients::id).first(conn)
        };
        let line = |i: i32, text: &str, q: &str, p: &str| Item {
            position: i,
            description: text.into(),
            quantity: d(q),
            unit_price: d(p),
            amount: line_amount(d(q), d(p)),
            tax_id: Some(vat),
            tax_name: Some("VAT".into()),
            tax_rate: Some(Decimal::from(20)),
        };
        let today = document::today();
        let days = |n: i64| today + chrono::Duration::days(n);
        // (kind, client, issued days ago, lines, then: issue, paid amount)
        type DemoDocument<'a> = (DocKind, &'a str, i64, Vec<Item>, bool, Option<&'a str>);
        let documents: Vec<DemoDocument> = vec![
            (
                DocKind::Invoice,
                "Chloé Durand",
                40,
                vec![line(0, "Discovery workshop", "1", "1800"), line(1, "Sitemap and wireframes", "12", "95")],
                true,
                Some("3528.00"),
            ),
            (
                DocKind::Invoice,
                "Hannah Weber",
                35,
                vec![line(0, "Logo concepts, three directions", "1", "2400")],
                true,
                Some("1000"),
            ),
            (
                DocKind::Invoice,
                "Chloé Durand",
                10,
                vec![
                    line(0, "Visual design of the shop", "18.5", "95"),
                    line(1, "Hosting setup, first year", "1", "240"),
                ],
                true,
                None,
            ),
            (DocKind::Invoice, "Hannah Weber", 0, vec![line(0, "Brand book layout", "1", "1500")], false, None),
            (
                DocKind::Quotation,
                "Hannah Weber",
                5,
                vec![
                    line(0, "Brand identity: logo, colours, type", "1", "6500"),
                    line(1, "Brand book, 24 pages", "1", "3000"),
                ],
                true,
                None,
            ),
        ];
        for (kind, name, ago, items, issue, paid) in documents {
            let id = uuid::Uuid::now_v7();
            let issue_date = days(-ago);
            let header = DraftHeader {
                client_id: client(conn, name)?,
                project_id: None,
                issue_date,
                end_date: issue_date + chrono::Duration::days(30),
                currency: "EUR".into(),
                notes: "Thank you for your business.".into(),
                terms: "Payable by bank transfer within 30 days. IBAN DE02 1001 0010 0123 4567 89.".into(),
            };
            document::insert_draft(conn, kind, id, tenant.user_id, &header, &items)?;
            if issue {
                document::issue(conn, kind, id, issue_date)?;
            }
            if let Some(amount) = paid {
                let total: Decimal = document::find(conn, kind, id).map_err(|e| anyhow::anyhow!("{e}"))?.total;
                let amount = d(amount).min(total);
                diesel::sql_query(
                    "INSERT INTO payments (id, org_id, invoice_id, paid_on, amount, method) VALUES (gen_random_uuid(), app_org_id(), $1, $2, $3, 'bank_transfer')",
                )
                .bind::<diesel::sql_types::Uuid, _>(id)
                .bind::<diesel::sql_types::Date, _>(days(-ago + 20))
                .bind::<diesel::sql_types::Numeric, _>(amount)
                .execute(conn)?;
                diesel::sql_query("UPDATE invoices SET amount_paid = $2, status = CASE WHEN $2 = total THEN 'paid' ELSE 'partially_paid' END WHERE id = $1")
                    .bind::<diesel::sql_types::Uuid, _>(id)
                    .bind::<diesel::sql_types::Numeric, _>(amount)
                    .execute(conn)?;
            }
        }
        Ok(())
    })
}

/// The lines `make run` prints so a newcomer can sign in at once.
pub fn describe_logins() -> String {
    let mut out = String::from("Demo logins (password: clienthub-demo):\n");
    for (name, email, role) in LOGINS {
        out.push_str(&format!("  {:<8} {:<28} {}\n", role.name(), email, name));
    }
    out.push_str(&format!("  {:<8} {:<28} {} (/platform)\n", "Platform", PLATFORM_OWNER.1, PLATFORM_OWNER.0));
    out
}
