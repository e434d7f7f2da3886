//! Demo data: an agency with members of every role, loaded by `clienthub seed-demo`
//! and on the first start of `make run`.

use diesel::pg::PgConnection;
use diesel::prelude::*;

use crate::auth::{password, queries};
use crate::db::schema::users;
use crate::team::roles::BuiltinRole;

pub const PASSWORD: &str = "clienthub-demo";

pub const LOGINS: &[(&str, &str, BuiltinRole)] = &[
    ("Olivia Bennett", "owner@northwind.example", BuiltinRole::Owner),
    ("Adam Okafor", "admin@northwind.example", BuiltinRole::Admin),
    ("Mia Laurent", "member@northwind.example", BuiltinRole::Member),
    ("Mateo Ruiz", "mateo@northwind.example", BuiltinRole::Member),
    ("Chloé Durand", "client@northwind.example", BuiltinRole::Client),
];

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

/// The lines `make run` prints so a newcomer can sign in at once.
pub fn describe_logins() -> String {
    let mut out = String::from("Demo logins (password: clienthub-demo):\n");
    for (name, email, role) in LOGINS {
        out.push_str(&format!("  {:<8} {:<28} {}\n", role.name(), email, name));
    }
    out
}
