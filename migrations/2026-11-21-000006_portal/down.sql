DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['clients', 'projects', 'tasks', 'files', 'invoices', 'quotations', 'invoice_items',
                           'quotation_items', 'payments', 'task_comments', 'task_activity', 'time_entries',
                           'project_messages', 'project_members', 'taxes', 'document_counters', 'portal_tokens'] LOOP
    EXECUTE format('DROP POLICY client_scope ON %I', t);
  END LOOP;
END
$$;
DROP FUNCTION app_client_id();
