DROP INDEX invoices_totals_idx;
DROP INDEX payments_paid_on_idx;
CREATE INDEX tasks_due_idx ON tasks (org_id, due_date) WHERE status <> 'done';
DROP INDEX tasks_open_idx;
