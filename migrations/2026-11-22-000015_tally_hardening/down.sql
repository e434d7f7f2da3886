GRANT EXECUTE ON FUNCTION open_tasks_tally(), receivables_tally(), payments_tally(), clients_tally(),
  projects_tally(), invoices_list_tally() TO PUBLIC;
ALTER FUNCTION open_tasks_tally() SET search_path = public;
ALTER FUNCTION receivables_tally() SET search_path = public;
ALTER FUNCTION payments_tally() SET search_path = public;
ALTER FUNCTION clients_tally() SET search_path = public;
ALTER FUNCTION projects_tally() SET search_path = public;
ALTER FUNCTION invoices_list_tally() SET search_path = public;
