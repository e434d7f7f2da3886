-- Grows one organization to list-page scale: 10,000 clients, 2,000 projects and
-- 100,000 tasks (90,000 cards and 10,000 subtasks), spread over the org's staff.
-- Used to measure the clients, projects, tasks and board pages (bench/README.md).
--
--   psql "$DATABASE_URL" -v org="'Northwind Studio'" -f bench/seed-work.sql
--
-- Runs as the database owner (row-level security does not apply). Ids are
-- time-ordered UUIDv7 like the application's, so "newest first" keysets behave as in
-- production. Takes about half a minute.
\set ON_ERROR_STOP on
\if :{?org}
\else
  \set org '''Northwind Studio'''
\endif

BEGIN;

CREATE FUNCTION pg_temp.uuid7(at timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7'
          || substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid
$$;

CREATE TEMP TABLE bench_org ON COMMIT DROP AS
  SELECT id FROM organizations WHERE name = :org ORDER BY created_at LIMIT 1;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM bench_org) THEN RAISE EXCEPTION 'no such organization'; END IF;
END $$;

CREATE TEMP TABLE bench_staff ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY m.user_id) - 1 AS n, m.user_id
  FROM memberships m JOIN bench_org o ON o.id = m.org_id
  WHERE m.client_id IS NULL AND m.status = 'active';

-- Clients: realistic names, companies and addresses so search has something to find.
INSERT INTO clients (id, org_id, name, company, email, phone, address, created_at, updated_at)
SELECT pg_temp.uuid7(now() - make_interval(mins => 10000 - g)), o.id,
       first || ' ' || last || ' ' || g,
       last || ' ' || (ARRAY['Studio', 'GmbH', 'Ltd', '& Co', 'Labs', 'Partners', 'SARL', 'Group'])[1 + g % 8],
       lower(first) || '.' || lower(last) || g || '@' || lower(last) || '.example',
       '+1 555 ' || lpad((g % 10000)::text, 4, '0'),
       g || ' Market Street, Springfield',
       now() - make_interval(mins => 10000 - g), now() - make_interval(mins => 10000 - g)
FROM bench_org o,
     generate_series(1, 10000) g,
     LATERAL (SELECT (ARRAY['Ana', 'Ben', 'Chloé', 'David', 'Elif', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas',
                            'Kasia', 'Liam', 'Maya', 'Noah', 'Olga', 'Pablo'])[1 + g % 16] AS first,
                     (ARRAY['Schmidt', 'Rossi', 'Dubois', 'Kowalski', 'Tanaka', 'Okafor', 'Silva', 'Novak',
                            'Jensen', 'Moreau', 'Patel', 'Garcia', 'Nguyen'])[1 + (g / 16) % 13] AS last) n;

-- Projects: five per 25 clients, statuses mixed, budgets and dates set on most.
CREATE TEMP TABLE bench_clients ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY c.id) - 1 AS n, c.id FROM clients c JOIN bench_org o ON o.id = c.org_id;
INSERT INTO projects (id, org_id, client_id, title, description, status, start_date, due_date, budget, created_at,
                      updated_at)
SELECT pg_temp.uuid7(now() - make_interval(mins => 2000 - g)), o.id, c.id,
       (ARRAY['Website redesign', 'Brand refresh', 'Mobile app', 'SEO audit', 'Newsletter', 'Shop launch',
              'Annual report', 'Campaign'])[1 + g % 8] || ' ' || g,
       'Scope, milestones and deliverables for project ' || g || '.',
       (ARRAY['active', 'active', 'active', 'planned', 'on_hold', 'completed', 'cancelled'])[1 + g % 7],
       current_date - (g % 200), current_date + (g % 120), (1000 + g * 37 % 50000)::numeric(14, 2),
       now() - make_interval(mins => 2000 - g), now() - make_interval(mins => 2000 - g)
FROM bench_org o, generate_series(1, 2000) g
JOIN bench_clients c ON c.n = (g * 5) % 10000;

INSERT INTO project_members (org_id, project_id, user_id)
SELECT p.org_id, p.id, s.user_id FROM projects p JOIN bench_org o ON o.id = p.org_id CROSS JOIN bench_staff s
ON CONFLICT DO NOTHING;

-- Tasks: 45 cards per project, then 5 subtasks per project under its first cards.
CREATE TEMP TABLE bench_projects ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY p.id) - 1 AS n, p.id, p.org_id
  FROM projects p JOIN bench_org o ON o.id = p.org_id WHERE p.title ~ ' [0-9]+$';
INSERT INTO tasks (id, org_id, project_id, title, description, status, priority, assignee_id, due_date,
                   estimate_hours, position, completed_at, created_at, updated_at)
SELECT id, org_id, project_id, title, description, status, priority, assignee_id, due_date, estimate_hours,
       (row_number() OVER (PARTITION BY project_id, status ORDER BY id) - 1)::int,
       CASE WHEN status = 'done' THEN created_at + interval '2 days' END, created_at, created_at
FROM (
  SELECT pg_temp.uuid7(now() - make_interval(secs => 100000 - (p.n * 45 + t))) AS id, p.org_id, p.id AS project_id,
         (ARRAY['Draft copy', 'Review layout', 'Fix navigation', 'Prepare assets', 'Client call', 'Write tests',
                'Update styles', 'Check analytics', 'Publish release'])[1 + t % 9] || ' #' || (p.n * 45 + t) AS title,
         'Details of the task.' AS description,
         (ARRAY['todo', 'todo', 'in_progress', 'review', 'done', 'done'])[1 + (p.n + t) % 6] AS status,
         (ARRAY['low', 'medium', 'medium', 'high', 'urgent'])[1 + t % 5] AS priority,
         s.user_id AS assignee_id,
         CASE WHEN t % 3 = 0 THEN current_date + (t - 20) END AS due_date,
         CASE WHEN t % 2 = 0 THEN (1 + t % 8)::numeric(8, 2) END AS estimate_hours,
         now() - make_interval(secs => 100000 - (p.n * 45 + t)) AS created_at
  FROM bench_projects p, generate_series(0, 44) t
  LEFT JOIN bench_staff s ON s.n = t % greatest((SELECT count(*) FROM bench_staff), 1)
) cards;

INSERT INTO tasks (id, org_id, project_id, parent_id, title, status, priority, assignee_id, created_at, updated_at)
SELECT pg_temp.uuid7(now()), parent.org_id, parent.project_id, parent.id, 'Subtask of ' || parent.title,
       CASE WHEN parent.k % 2 = 0 THEN 'done' ELSE 'todo' END, 'medium', parent.assignee_id, now(), now()
FROM (
  SELECT t.*, row_number() OVER (PARTITION BY t.project_id ORDER BY t.id) AS k
  FROM tasks t JOIN bench_projects p ON p.id = t.project_id WHERE t.parent_id IS NULL
) parent
WHERE parent.k <= 5;

COMMIT;
ANALYZE clients;
ANALYZE projects;
ANALYZE project_members;
ANALYZE tasks;

SELECT (SELECT count(*) FROM clients c JOIN organizations o ON o.id = c.org_id WHERE o.name = :org) AS clients,
       (SELECT count(*) FROM projects p JOIN organizations o ON o.id = p.org_id WHERE o.name = :org) AS projects,
       (SELECT count(*) FROM tasks t JOIN organizations o ON o.id = t.org_id WHERE o.name = :org) AS tasks;
