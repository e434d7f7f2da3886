-- Indexes measured on the benchmark dataset (bench/README.md), each for a page query
-- that scanned rows it then threw away. The INCLUDE columns are those the row-level
-- security policies read, so the counts can be answered from the index alone.

-- Dashboard: open and overdue tasks.
CREATE INDEX tasks_open_idx ON tasks (org_id, due_date) INCLUDE (client_visible, project_id)
  WHERE status <> 'done';
DROP INDEX tasks_due_idx;

-- Dashboard: payments of the last twelve months, per month and currency.
CREATE INDEX payments_paid_on_idx ON payments (org_id, paid_on) INCLUDE (invoice_id, amount);

-- Invoice list: totals per currency of every invoice the filters match.
CREATE INDEX invoices_totals_idx ON invoices (org_id, currency) INCLUDE (status, total, amount_paid, client_id);
