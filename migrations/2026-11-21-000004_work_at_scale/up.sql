-- Work pages at scale (10k clients, 100k tasks), and hardening from review.
--
-- Under row-level security PostgreSQL only uses a condition of the query in an index
-- when its functions are leakproof. lower() and the full-text match (@@) are not, so
-- keyset conditions on lower(name) and searches were filters over every row of the
-- organization. Hence: sort keys stored as columns (compared with leakproof text
-- operators), and full-text matches run by functions that see only the current
-- organization's rows and use the GIN indexes.

ALTER TABLE clients
  ADD COLUMN name_key text GENERATED ALWAYS AS (lower(name)) STORED,
  ADD COLUMN company_key text GENERATED ALWAYS AS (lower(company)) STORED,
  ADD COLUMN email_key text GENERATED ALWAYS AS (lower(email)) STORED;
DROP INDEX clients_name_idx;
DROP INDEX clients_company_idx;
DROP INDEX clients_email_idx;
CREATE INDEX clients_name_idx ON clients (org_id, name_key, id);
CREATE INDEX clients_company_idx ON clients (org_id, company_key, id);
CREATE INDEX clients_email_idx ON clients (org_id, email_key, id);

-- The current organization's clients (projects) whose text matches `query`, found
-- through the GIN index. SECURITY DEFINER bypasses row-level security, so the
-- organization filter is here; the rows returned are the caller's organization's only.
CREATE FUNCTION clients_matching(query tsquery) RETURNS SETOF clients
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp ROWS 100 AS
$$ SELECT * FROM clients WHERE org_id = app_org_id() AND search @@ query $$;
CREATE FUNCTION projects_matching(query tsquery) RETURNS SETOF projects
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp ROWS 100 AS
$$ SELECT * FROM projects WHERE org_id = app_org_id() AND search @@ query $$;
REVOKE ALL ON FUNCTION clients_matching(tsquery), projects_matching(tsquery) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clients_matching(tsquery), projects_matching(tsquery) TO clienthub_tenant;

-- The task list filtered by status, newest first.
CREATE INDEX tasks_status_idx ON tasks (org_id, status, id DESC);

-- Review: the storage trigger resolves names in public only; files are never updated
-- in place (a new upload is a new row), so the tenant role loses UPDATE on them.
ALTER FUNCTION files_track_storage() SET search_path = public, pg_temp;
REVOKE UPDATE ON files FROM clienthub_tenant;

-- Notifications are personal: a member sees and marks only their own; anyone in the
-- organization may create one for a colleague (a mention, an assignment).
DROP POLICY IF EXISTS tenant_isolation ON notifications;
CREATE POLICY notifications_create ON notifications FOR INSERT
  WITH CHECK (org_id = app_org_id());
CREATE POLICY notifications_own ON notifications FOR SELECT
  USING (org_id = app_org_id() AND user_id = app_user_id());
CREATE POLICY notifications_own_update ON notifications FOR UPDATE
  USING (org_id = app_org_id() AND user_id = app_user_id());
CREATE POLICY notifications_own_delete ON notifications FOR DELETE
  USING (org_id = app_org_id() AND user_id = app_user_id());
-- A link is a path on this site: "//host" would leave it.
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_link_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_link_check CHECK (link ~ '^/[^/\\]');
