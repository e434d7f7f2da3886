-- The rest of the dashboard's and the plan meters' counts, kept like migration 11's
-- tallies: clients, and projects per status, per organization. Creating a client or a
-- project already takes turns per organization (the plan-limit lock), so the one tally
-- row it updates adds no waiting.

CREATE TABLE client_tallies (
  org_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  clients bigint NOT NULL
);

CREATE TABLE project_tallies (
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  status text NOT NULL,
  projects bigint NOT NULL,
  PRIMARY KEY (org_id, status)
);

-- A client never moves to another organization: inserts and deletes are the changes.
CREATE FUNCTION clients_tally() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO client_tallies AS t (org_id, clients)
    SELECT org_id, count(*) FROM new_rows GROUP BY 1 ORDER BY 1
    ON CONFLICT (org_id) DO UPDATE SET clients = t.clients + excluded.clients;
  ELSE
    -- Down only, on rows that exist (see open_tasks_tally).
    UPDATE client_tallies t SET clients = t.clients - gone.n
    FROM (SELECT org_id, count(*) AS n FROM old_rows GROUP BY 1) gone WHERE t.org_id = gone.org_id;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER clients_tally_insert AFTER INSERT ON clients REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION clients_tally();
CREATE TRIGGER clients_tally_delete AFTER DELETE ON clients REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION clients_tally();

CREATE FUNCTION projects_tally() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO project_tallies AS t (org_id, status, projects)
    SELECT org_id, status, count(*) FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (org_id, status) DO UPDATE SET projects = t.projects + excluded.projects;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO project_tallies AS t (org_id, status, projects)
    SELECT org_id, status, sum(n) FROM (
      SELECT org_id, status, 1 AS n FROM new_rows
      UNION ALL
      SELECT org_id, status, -1 FROM old_rows
    ) change
    GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2
    ON CONFLICT (org_id, status) DO UPDATE SET projects = t.projects + excluded.projects;
  ELSE
    UPDATE project_tallies t SET projects = t.projects - gone.n
    FROM (SELECT org_id, status, count(*) AS n FROM old_rows GROUP BY 1, 2) gone
    WHERE t.org_id = gone.org_id AND t.status = gone.status;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER projects_tally_insert AFTER INSERT ON projects REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION projects_tally();
CREATE TRIGGER projects_tally_update AFTER UPDATE ON projects REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION projects_tally();
CREATE TRIGGER projects_tally_delete AFTER DELETE ON projects REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION projects_tally();

INSERT INTO client_tallies (org_id, clients) SELECT org_id, count(*) FROM clients GROUP BY 1;
INSERT INTO project_tallies (org_id, status, projects) SELECT org_id, status, count(*) FROM projects GROUP BY 1, 2;

ALTER TABLE client_tallies ENABLE ROW LEVEL SECURITY;
ALTER TABLE project_tallies ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON client_tallies FOR SELECT USING (org_id = app_org_id() AND app_client_id() IS NULL);
CREATE POLICY tenant_isolation ON project_tallies FOR SELECT USING (org_id = app_org_id() AND app_client_id() IS NULL);
CREATE POLICY platform ON client_tallies FOR SELECT TO clienthub_platform USING (true);
CREATE POLICY platform ON project_tallies FOR SELECT TO clienthub_platform USING (true);
GRANT SELECT ON client_tallies, project_tallies TO clienthub_tenant, clienthub_platform;

-- Plan usage reads the tallies: the limit check before every new client or project,
-- and the meters, no longer count.
CREATE OR REPLACE FUNCTION org_usage(org uuid, OUT members bigint, OUT clients bigint, OUT projects bigint, OUT storage bigint)
LANGUAGE sql STABLE AS $$
  SELECT (SELECT count(*) FROM memberships m JOIN roles r ON r.org_id = m.org_id AND r.id = m.role_id
          WHERE m.org_id = org AND m.status <> 'banned' AND r.key IS DISTINCT FROM 'client')
         + (SELECT count(*) FROM invitations i
            WHERE i.org_id = org AND i.status = 'pending' AND i.client_id IS NULL AND i.expires_at > now()),
         COALESCE((SELECT t.clients FROM client_tallies t WHERE t.org_id = org), 0),
         COALESCE((SELECT sum(t.projects) FROM project_tallies t WHERE t.org_id = org), 0)::bigint,
         (SELECT COALESCE(sum(f.size_bytes), 0)::bigint FROM files f WHERE f.org_id = org)
$$;
