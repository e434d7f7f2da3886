-- Review of the tallies (migrations 11-14): their trigger functions resolve names in
-- public and then nowhere else (a temporary table cannot stand in for a tally), and no
-- one may call them but their triggers.
ALTER FUNCTION open_tasks_tally() SET search_path = public, pg_temp;
ALTER FUNCTION receivables_tally() SET search_path = public, pg_temp;
ALTER FUNCTION payments_tally() SET search_path = public, pg_temp;
ALTER FUNCTION clients_tally() SET search_path = public, pg_temp;
ALTER FUNCTION projects_tally() SET search_path = public, pg_temp;
ALTER FUNCTION invoices_list_tally() SET search_path = public, pg_temp;
REVOKE EXECUTE ON FUNCTION open_tasks_tally(), receivables_tally(), payments_tally(), clients_tally(),
  projects_tally(), invoices_list_tally() FROM PUBLIC;
