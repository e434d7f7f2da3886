-- The client portal's second wall: for a client user (app.client_id set by the tenant
-- transaction) restrictive policies narrow every table the portal reads to that
-- client's own records, shared with them: client-visible projects and tasks, files of
-- those projects, and issued (never draft) invoices and quotations. Staff, whose
-- app.client_id is empty, are not affected.

CREATE FUNCTION app_client_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT NULLIF(current_setting('app.client_id', true), '')::uuid $$;
GRANT EXECUTE ON FUNCTION app_client_id() TO clienthub_tenant;

CREATE POLICY client_scope ON clients AS RESTRICTIVE
  USING (app_client_id() IS NULL OR id = app_client_id());
CREATE POLICY client_scope ON projects AS RESTRICTIVE
  USING (app_client_id() IS NULL OR (client_id = app_client_id() AND client_visible));
CREATE POLICY client_scope ON tasks AS RESTRICTIVE
  USING (app_client_id() IS NULL OR (client_visible AND EXISTS (
    SELECT 1 FROM projects p WHERE p.org_id = tasks.org_id AND p.id = tasks.project_id)));
CREATE POLICY client_scope ON files AS RESTRICTIVE
  USING (app_client_id() IS NULL OR EXISTS (
    SELECT 1 FROM projects p WHERE p.org_id = files.org_id AND p.id = files.project_id));
CREATE POLICY client_scope ON invoices AS RESTRICTIVE
  USING (app_client_id() IS NULL OR (client_id = app_client_id() AND status <> 'draft'));
CREATE POLICY client_scope ON quotations AS RESTRICTIVE
  USING (app_client_id() IS NULL OR (client_id = app_client_id() AND status <> 'draft'));
CREATE POLICY client_scope ON invoice_items AS RESTRICTIVE
  USING (app_client_id() IS NULL OR EXISTS (
    SELECT 1 FROM invoices i WHERE i.org_id = invoice_items.org_id AND i.id = invoice_items.invoice_id));
CREATE POLICY client_scope ON quotation_items AS RESTRICTIVE
  USING (app_client_id() IS NULL OR EXISTS (
    SELECT 1 FROM quotations q WHERE q.org_id = quotation_items.org_id AND q.id = quotation_items.quotation_id));
CREATE POLICY client_scope ON payments AS RESTRICTIVE
  USING (app_client_id() IS NULL OR EXISTS (
    SELECT 1 FROM invoices i WHERE i.org_id = payments.org_id AND i.id = payments.invoice_id));
-- What clients never see at all.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['task_comments', 'task_activity', 'time_entries', 'project_messages', 'project_members',
                           'taxes', 'document_counters', 'portal_tokens'] LOOP
    EXECUTE format('CREATE POLICY client_scope ON %I AS RESTRICTIVE USING (app_client_id() IS NULL)', t);
  END LOOP;
END
$$;
