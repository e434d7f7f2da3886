//! `clienthub seed-bench`: the large dataset the benchmarks run on, built in seconds by
//! set-based SQL (`INSERT … SELECT` over `generate_series`: no row-by-row round trips).
//!
//! One busy organization (the demo's Northwind Studio) grows to the sizes of
//! [`Sizes::at_scale`]; beside it come many small organizations, each with an owner who
//! signs in with the demo password, so that every table holds other tenants' rows too.
//! Runs as the database owner (row-level security does not apply). Ids are time-ordered
//! UUIDv7 like the application's, so "newest first" keysets behave as in production.

use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;

use crate::auth::{password, queries};
use crate::db::ids::OrgId;

/// How much the busy organization holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub clients: i64,
    pub projects: i64,
    /// Board cards per project; a ninth as many subtasks come on top (100 tasks in all).
    pub cards_per_project: i64,
    pub invoices: i64,
    pub items_per_invoice: i64,
    pub audit_rows: i64,
}

impl Sizes {
    /// At scale 1: 10,000 clients, 2,000 projects, 200,000 tasks (100 per project),
    /// 50,000 invoices of 5 lines and 1,000,000 audit-log rows.
    pub fn at_scale(scale: f64) -> Sizes {
        let n = |full: f64| ((full * scale).round() as i64).max(1);
        Sizes {
            clients: n(10_000.0),
            projects: n(2_000.0),
            cards_per_project: 90,
            invoices: n(50_000.0),
            items_per_invoice: 5,
            audit_rows: n(1_000_000.0),
        }
    }

    pub fn tasks(&self) -> i64 {
        self.projects * (self.cards_per_project + self.subtasks_per_project())
    }

    fn subtasks_per_project(&self) -> i64 {
        (self.cards_per_project / 9).max(1)
    }
}

/// What one step built and how long it took.
pub struct Step {
    pub what: String,
    pub seconds: f64,
}

/// Refuses a database that holds anyone's real account: the benchmark's (and the
/// demo's) accounts share a published password, so they belong in a database of their
/// own, never beside real users. Every address they use ends in `.example`.
pub fn ensure_benchmark_database(conn: &mut PgConnection) -> anyhow::Result<()> {
    let real: i64 =
        diesel::dsl::sql::<diesel::sql_types::BigInt>("SELECT count(*) FROM users WHERE email NOT LIKE '%.example'")
            .get_result(conn)?;
    anyhow::ensure!(
        real == 0,
        "this database holds {}, so seed-bench will not run: it adds accounts with the published demo password, \
         and belongs in a database of its own (point DATABASE_URL at an empty one)",
        crate::web::error::plural(real.unsigned_abs(), "real account")
    );
    Ok(())
}

/// Grows `org_name` to `sizes` and adds `small_orgs` small organizations. Refuses an
/// organization that is already grown (more than 1,000 clients), so a second run adds
/// nothing twice.
pub fn seed(conn: &mut PgConnection, org_name: &str, sizes: &Sizes, small_orgs: u32) -> anyhow::Result<Vec<Step>> {
    conn.batch_execute("SET statement_timeout = 0; SET synchronous_commit = off")?;
    conn.batch_execute(UUID7)?;
    let org: OrgId = crate::db::schema::organizations::table
        .filter(crate::db::schema::organizations::name.eq(org_name))
        .order(crate::db::schema::organizations::created_at)
        .select(crate::db::schema::organizations::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| anyhow::anyhow!("no organization named {org_name:?} (run `clienthub seed-demo` first)"))?;
    let mut steps = Vec::new();
    let mut timed = |what: String, run: &mut dyn FnMut() -> anyhow::Result<()>| -> anyhow::Result<()> {
        let started = Instant::now();
        run()?;
        steps.push(Step { what, seconds: started.elapsed().as_secs_f64() });
        Ok(())
    };
    let clients: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>("SELECT count(*) FROM clients WHERE org_id = ")
        .bind::<diesel::sql_types::Uuid, _>(org)
        .get_result(conn)?;
    if clients > 1_000 {
        anyhow::bail!("{org_name} already holds {clients} clients: seed a fresh database");
    }
    timed(format!("{} clients, {} projects, {} tasks", sizes.clients, sizes.projects, sizes.tasks()), &mut || {
        Ok(conn.batch_execute(&work_sql(org, sizes))?)
    })?;
    timed(format!("{} invoices × {} lines, with payments", sizes.invoices, sizes.items_per_invoice), &mut || {
        Ok(conn.batch_execute(&invoices_sql(org, sizes))?)
    })?;
    timed(format!("{} audit-log rows", sizes.audit_rows), &mut || Ok(conn.batch_execute(&audit_sql(org, sizes))?))?;
    timed(format!("{small_orgs} small organizations"), &mut || small_organizations(conn, small_orgs))?;
    timed("ANALYZE".into(), &mut || Ok(conn.batch_execute("ANALYZE")?))?;
    Ok(steps)
}

/// A UUIDv7 for a moment in the past: the application's id shape.
const UUID7: &str = "
CREATE OR REPLACE FUNCTION pg_temp.uuid7(at timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7'
          || substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid
$$;";

/// Clients with realistic names (so search has something to find), projects of mixed
/// status, every staff member on every project, and tasks spread over the board's columns.
/// Only numbers and a typed UUID are interpolated.
fn work_sql(org: OrgId, s: &Sizes) -> String {
    let Sizes { clients, projects, cards_per_project: cards, .. } = *s;
    let subtasks = s.subtasks_per_project();
    format!(
        r#"
BEGIN;
CREATE TEMP TABLE bench_staff ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY user_id) - 1 AS n, user_id
  FROM memberships WHERE org_id = '{org}' AND client_id IS NULL AND status = 'active';
ANALYZE bench_staff;

INSERT INTO clients (id, org_id, name, company, email, phone, address, created_at, updated_at)
SELECT pg_temp.uuid7(at), '{org}', first || ' ' || last || ' ' || g,
       last || ' ' || (ARRAY['Studio', 'GmbH', 'Ltd', '& Co', 'Labs', 'Partners', 'SARL', 'Group'])[1 + g % 8],
       lower(first) || '.' || lower(last) || g || '@' || lower(last) || '.example',
       '+1 555 ' || lpad((g % 10000)::text, 4, '0'), g || ' Market Street, Springfield', at, at
FROM generate_series(1, {clients}) g,
     LATERAL (SELECT now() - make_interval(mins => {clients} - g) AS at,
                     (ARRAY['Ana', 'Ben', 'Chloé', 'David', 'Elif', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas',
                            'Kasia', 'Liam', 'Maya', 'Noah', 'Olga', 'Pablo'])[1 + g % 16] AS first,
                     (ARRAY['Schmidt', 'Rossi', 'Dubois', 'Kowalski', 'Tanaka', 'Okafor', 'Silva', 'Novak',
                            'Jensen', 'Moreau', 'Patel', 'Garcia', 'Nguyen'])[1 + (g / 16) % 13] AS last) n;

CREATE TEMP TABLE bench_clients ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM clients WHERE org_id = '{org}';
ANALYZE bench_clients;
CREATE TEMP TABLE bench_projects ON COMMIT DROP AS
  SELECT g - 1 AS n, pg_temp.uuid7(now() - make_interval(mins => {projects} - g)) AS id,
         now() - make_interval(mins => {projects} - g) AS at, g
  FROM generate_series(1, {projects}) g;
ANALYZE bench_projects;
INSERT INTO projects (id, org_id, client_id, title, description, status, start_date, due_date, budget, created_at,
                      updated_at)
SELECT p.id, '{org}', c.id,
       (ARRAY['Website redesign', 'Brand refresh', 'Mobile app', 'SEO audit', 'Newsletter', 'Shop launch',
              'Annual report', 'Campaign'])[1 + p.g % 8] || ' ' || p.g,
       'Scope, milestones and deliverables for project ' || p.g || '.',
       (ARRAY['active', 'active', 'active', 'planned', 'on_hold', 'completed', 'cancelled'])[1 + p.g % 7],
       current_date - (p.g % 200)::int, current_date + (p.g % 120)::int, (1000 + p.g * 37 % 50000)::numeric(14, 2),
       p.at, p.at
FROM bench_projects p
JOIN bench_clients c ON c.n = (p.g * 5) % (SELECT count(*) FROM bench_clients);

INSERT INTO project_members (org_id, project_id, user_id)
SELECT '{org}', p.id, s.user_id FROM bench_projects p CROSS JOIN bench_staff s
ON CONFLICT DO NOTHING;

INSERT INTO tasks (id, org_id, project_id, title, description, status, priority, assignee_id, due_date,
                   estimate_hours, position, completed_at, created_at, updated_at)
SELECT id, '{org}', project_id, title, description, status, priority, assignee_id, due_date, estimate_hours,
       (row_number() OVER (PARTITION BY project_id, status ORDER BY id) - 1)::int,
       CASE WHEN status = 'done' THEN created_at + interval '2 days' END, created_at, created_at
FROM (
  SELECT pg_temp.uuid7(now() - make_interval(secs => {projects} * {cards} - (p.n * {cards} + t))) AS id,
         p.id AS project_id,
         (ARRAY['Draft copy', 'Review layout', 'Fix navigation', 'Prepare assets', 'Client call', 'Write tests',
                'Update styles', 'Check analytics', 'Publish release'])[1 + t % 9] || ' #' || (p.n * {cards} + t) AS title,
         'Details of the task.' AS description,
         (ARRAY['todo', 'todo', 'in_progress', 'review', 'done', 'done'])[1 + (p.n + t) % 6] AS status,
         (ARRAY['low', 'medium', 'medium', 'high', 'urgent'])[1 + t % 5] AS priority,
         s.user_id AS assignee_id,
         CASE WHEN t % 3 = 0 THEN current_date + (t % 60 - 20)::int END AS due_date,
         CASE WHEN t % 2 = 0 THEN (1 + t % 8)::numeric(8, 2) END AS estimate_hours,
         now() - make_interval(secs => {projects} * {cards} - (p.n * {cards} + t)) AS created_at
  FROM bench_projects p, generate_series(0, {cards} - 1) t
  LEFT JOIN bench_staff s ON s.n = t % greatest((SELECT count(*) FROM bench_staff), 1)
) cards;

INSERT INTO tasks (id, org_id, project_id, parent_id, title, status, priority, assignee_id, created_at, updated_at)
SELECT pg_temp.uuid7(now()), '{org}', parent.project_id, parent.id, 'Subtask of ' || parent.title,
       CASE WHEN parent.k % 2 = 0 THEN 'done' ELSE 'todo' END, 'medium', parent.assignee_id, now(), now()
FROM (
  SELECT t.*, row_number() OVER (PARTITION BY t.project_id ORDER BY t.id) AS k
  FROM tasks t JOIN bench_projects p ON p.id = t.project_id WHERE t.parent_id IS NULL
) parent
WHERE parent.k <= {subtasks};
COMMIT;
"#
    )
}

/// Invoices over the last three years, numbered per year after the organization's own,
/// with VAT at 20% on lines priced in multiples of 5 (so every total is exact), issued as
/// the application issues them (parties copied), and paid, part-paid, sent, overdue,
/// void or still drafts in realistic shares.
fn invoices_sql(org: OrgId, s: &Sizes) -> String {
    let Sizes { invoices, items_per_invoice: items, .. } = *s;
    let owner = crate::team::roles::BuiltinRole::Owner.key();
    format!(
        r#"
BEGIN;
CREATE TEMP TABLE bench_clients ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM clients WHERE org_id = '{org}';
ANALYZE bench_clients;
CREATE TEMP TABLE bench_inv ON COMMIT DROP AS
  SELECT g, pg_temp.uuid7(now() - make_interval(mins => {invoices} - g)) AS id, c.id AS client_id,
         current_date - ((({invoices} - g) * 1095) / {invoices})::int AS issue_date,
         CASE WHEN g % 20 IN (0, 1) THEN 'draft' WHEN g % 20 = 2 THEN 'void' WHEN g % 20 = 3 THEN 'partially_paid'
              WHEN g % 20 IN (4, 5, 6) OR g > {invoices} - 60 THEN 'sent' ELSE 'paid' END AS status
  FROM generate_series(1, {invoices}) g
  JOIN bench_clients c ON c.n = (g * 7) % (SELECT count(*) FROM bench_clients);
ANALYZE bench_inv;
CREATE TEMP TABLE bench_items ON COMMIT DROP AS
  SELECT i.g, k, (1 + (i.g + k) % 5)::numeric(12, 3) AS quantity,
         (5 * (10 + (i.g * 7 + k * 13) % 80))::numeric(20, 2) AS unit_price
  FROM bench_inv i, generate_series(0, {items} - 1) k;
ANALYZE bench_items;
CREATE TEMP TABLE bench_totals ON COMMIT DROP AS
  SELECT g, sum(quantity * unit_price) AS subtotal FROM bench_items GROUP BY g;
ANALYZE bench_totals;

INSERT INTO invoices (id, org_id, client_id, status, issue_date, due_date, currency, subtotal, tax_total, total,
                      created_by, created_at, updated_at)
SELECT i.id, '{org}', i.client_id, 'draft', i.issue_date, i.issue_date + 30, o.default_currency,
       t.subtotal, t.subtotal * 0.2, t.subtotal * 1.2, owner.user_id, i.issue_date, i.issue_date
FROM bench_inv i JOIN bench_totals t USING (g) CROSS JOIN organizations o
LEFT JOIN LATERAL (SELECT m.user_id FROM memberships m JOIN roles r ON r.id = m.role_id
                   WHERE m.org_id = '{org}' AND r.key = '{owner}' LIMIT 1) owner ON true
WHERE o.id = '{org}';
-- The items' trigger looks each parent up: let it plan with the new rows counted.
ANALYZE invoices;

INSERT INTO invoice_items (id, org_id, invoice_id, position, description, quantity, unit_price, amount, tax_id,
                           tax_name, tax_rate)
SELECT gen_random_uuid(), '{org}', i.id, it.k,
       (ARRAY['Design work', 'Development', 'Project management', 'Copywriting', 'Hosting (monthly)', 'Workshop',
              'Photography', 'Consulting'])[1 + (it.g + it.k) % 8],
       it.quantity, it.unit_price, it.quantity * it.unit_price,
       (SELECT id FROM taxes WHERE org_id = '{org}' AND name = 'VAT' LIMIT 1), 'VAT', 20
FROM bench_items it JOIN bench_inv i USING (g);

CREATE TEMP TABLE bench_numbers ON COMMIT DROP AS
  SELECT i.g, extract(year FROM i.issue_date)::int AS year,
         coalesce((SELECT last_number FROM document_counters c
                   WHERE c.org_id = '{org}' AND c.kind = 'invoice' AND c.year = extract(year FROM i.issue_date)), 0)
         + row_number() OVER (PARTITION BY extract(year FROM i.issue_date) ORDER BY i.issue_date, i.g) AS n
  FROM bench_inv i WHERE i.status <> 'draft';
ANALYZE bench_numbers;

UPDATE invoices d SET
  status = i.status,
  number = o.invoice_prefix || '-' || nb.year || '-' || lpad(nb.n::text, greatest(4, length(nb.n::text)), '0'),
  issued_at = i.issue_date + time '10:00', sent_at = i.issue_date + time '10:05', sent_by = d.created_by,
  amount_paid = CASE i.status WHEN 'paid' THEN d.total WHEN 'partially_paid' THEN d.total / 2 ELSE 0 END,
  voided_at = CASE WHEN i.status = 'void' THEN i.issue_date + time '16:00' END,
  void_reason = CASE WHEN i.status = 'void' THEN 'Issued to the wrong client.' END,
  parties = jsonb_build_object(
    'client', jsonb_build_object('name', c.name, 'company', c.company, 'address', c.address, 'tax_id', c.tax_id),
    'issuer', jsonb_build_object('name', o.name, 'address', o.address, 'tax_id', o.tax_id))
FROM bench_inv i JOIN bench_numbers nb USING (g), organizations o, clients c
WHERE d.id = i.id AND o.id = '{org}' AND c.id = i.client_id AND c.org_id = '{org}';

INSERT INTO document_counters (org_id, kind, year, last_number)
SELECT '{org}', 'invoice', year, max(n) FROM bench_numbers GROUP BY year
ON CONFLICT (org_id, kind, year) DO UPDATE SET last_number = greatest(document_counters.last_number, excluded.last_number);

INSERT INTO payments (id, org_id, invoice_id, paid_on, amount, method, recorded_by, created_at)
SELECT pg_temp.uuid7(d.issue_date + 20), '{org}', d.id, least(d.issue_date + 20, current_date), d.amount_paid,
       (ARRAY['bank_transfer', 'bank_transfer', 'card', 'cheque'])[1 + (i.g % 4)], d.created_by, d.issue_date + 20
FROM bench_inv i JOIN invoices d ON d.id = i.id WHERE d.amount_paid > 0;
COMMIT;
"#
    )
}

/// An audit trail of three years: sign-ins, changes to clients and invoices, settings,
/// by the organization's staff from a handful of addresses.
fn audit_sql(org: OrgId, s: &Sizes) -> String {
    let rows = s.audit_rows;
    format!(
        r#"
BEGIN;
CREATE TEMP TABLE bench_staff ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY user_id) - 1 AS n, user_id
  FROM memberships WHERE org_id = '{org}' AND client_id IS NULL;
ANALYZE bench_staff;
CREATE TEMP TABLE bench_clients ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM clients WHERE org_id = '{org}';
ANALYZE bench_clients;
INSERT INTO audit_logs (id, org_id, actor_id, action, entity_type, entity_id, ip, user_agent, metadata, created_at)
SELECT pg_temp.uuid7(at), '{org}', s.user_id, a.action, a.entity_type,
       CASE WHEN a.entity_type = 'client' THEN c.id END,
       '203.0.113.' || (g % 50), 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Firefox/131.0', '{{}}'::jsonb, at
FROM generate_series(1, {rows}) g
CROSS JOIN LATERAL (SELECT now() - make_interval(secs => ({rows} - g) * (94608000.0 / {rows})) AS at) t
CROSS JOIN LATERAL (SELECT (ARRAY['auth.login', 'client.updated', 'client.created', 'invoice.sent', 'settings.updated',
                                  'file.uploaded', 'auth.logout', 'invitation.sent'])[1 + g % 8] AS action,
                           (ARRAY[NULL, 'client', 'client', 'invoice', 'organization', 'file', NULL,
                                  'invitation'])[1 + g % 8] AS entity_type) a
LEFT JOIN bench_staff s ON s.n = g % greatest((SELECT count(*) FROM bench_staff), 1)
LEFT JOIN bench_clients c ON c.n = g % greatest((SELECT count(*) FROM bench_clients), 1);
COMMIT;
"#
    )
}

/// `count` small agencies ("Bench Agency N", owner ownerN@bench.example with the demo
/// password), signed up as the application signs people up, each with 5 clients, 3
/// projects of 10 tasks, 5 invoices and 50 audit-log rows.
fn small_organizations(conn: &mut PgConnection, count: u32) -> anyhow::Result<()> {
    if count == 0 {
        return Ok(());
    }
    let hash = password::hash(crate::demo::PASSWORD)?;
    for n in 1..=count {
        let email = format!("owner{n}@bench.example");
        if queries::find_by_email(conn, &email)?.is_some() {
            continue;
        }
        let signed_up = queries::sign_up(
            conn,
            &Default::default(),
            &format!("Owner {n}"),
            &email,
            &hash,
            &format!("Bench Agency {n}"),
        );
        match signed_up {
            Ok(_) | Err(queries::SignupError::EmailTaken) => {}
            Err(queries::SignupError::Db(e)) => return Err(e.into()),
        }
    }
    conn.batch_execute(SMALL_ORG_CONTENT)?;
    Ok(())
}

const SMALL_ORG_CONTENT: &str = r#"
BEGIN;
CREATE TEMP TABLE bench_small ON COMMIT DROP AS
  SELECT o.id AS org_id, m.user_id AS owner_id, o.default_currency
  FROM organizations o JOIN memberships m ON m.org_id = o.id
  WHERE o.name LIKE 'Bench Agency %' AND NOT EXISTS (SELECT 1 FROM clients c WHERE c.org_id = o.id);
ANALYZE bench_small;
INSERT INTO clients (id, org_id, name, company, email, created_at, updated_at)
SELECT pg_temp.uuid7(now() - make_interval(days => k)), b.org_id, 'Client ' || k, 'Company ' || k,
       'client' || k || '@' || replace(b.org_id::text, '-', '') || '.example', now(), now()
FROM bench_small b, generate_series(1, 5) k;
INSERT INTO projects (id, org_id, client_id, title, status, created_at, updated_at)
SELECT pg_temp.uuid7(now() - make_interval(days => k)), b.org_id,
       (SELECT id FROM clients c WHERE c.org_id = b.org_id ORDER BY id LIMIT 1 OFFSET k - 1),
       'Project ' || k, 'active', now(), now()
FROM bench_small b, generate_series(1, 3) k;
INSERT INTO tasks (id, org_id, project_id, title, status, priority, position, created_at, updated_at)
SELECT pg_temp.uuid7(now() - make_interval(mins => t)), p.org_id, p.id, 'Task ' || t,
       (ARRAY['todo', 'in_progress', 'review', 'done'])[1 + t % 4], 'medium', t, now(), now()
FROM projects p JOIN bench_small b ON b.org_id = p.org_id, generate_series(1, 10) t;
INSERT INTO invoices (id, org_id, client_id, status, issue_date, due_date, currency, subtotal, tax_total, total,
                      created_at, updated_at)
SELECT pg_temp.uuid7(now() - make_interval(days => k)), b.org_id,
       (SELECT id FROM clients c WHERE c.org_id = b.org_id ORDER BY id LIMIT 1 OFFSET k - 1),
       'draft', current_date - k, current_date - k + 30, b.default_currency, 100 * k, 0, 100 * k, now(), now()
FROM bench_small b, generate_series(1, 5) k;
INSERT INTO invoice_items (id, org_id, invoice_id, position, description, quantity, unit_price, amount)
SELECT gen_random_uuid(), d.org_id, d.id, 0, 'Services', 1, d.total, d.total
FROM invoices d JOIN bench_small b ON b.org_id = d.org_id;
INSERT INTO audit_logs (id, org_id, actor_id, action, metadata, created_at)
SELECT pg_temp.uuid7(now() - make_interval(hours => k)), b.org_id, b.owner_id,
       (ARRAY['auth.login', 'client.created', 'settings.updated'])[1 + k % 3], '{}'::jsonb,
       now() - make_interval(hours => k)
FROM bench_small b, generate_series(1, 50) k;
COMMIT;
"#;

#[cfg(test)]
mod tests {
    use super::Sizes;

    #[test]
    fn scale_one_is_the_large_organization_of_the_benchmarks() {
        let s = Sizes::at_scale(1.0);
        assert_eq!((s.clients, s.projects, s.invoices, s.audit_rows), (10_000, 2_000, 50_000, 1_000_000));
        assert_eq!(s.tasks(), 200_000);
        assert_eq!(s.items_per_invoice, 5);
    }

    #[test]
    fn small_scales_keep_at_least_one_of_everything() {
        let s = Sizes::at_scale(0.00001);
        assert_eq!((s.clients, s.projects, s.invoices, s.audit_rows), (1, 1, 1, 10));
    }
}
