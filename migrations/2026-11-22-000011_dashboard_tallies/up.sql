-- The dashboard's costly figures, kept by the database in the same transaction as each
-- change, so that a view reads a few rows instead of counting an organization's open
-- tasks, summing what its clients owe and a year of its payments (450 ms a view at
-- 200,000 tasks and 50,000 invoices; bench/README.md). Statement-level triggers: a bulk change (a project
-- deleted with its tasks, a seed) is one upsert, applied in key order so that
-- concurrent changes lock the tally rows in the same order.

-- Open tasks per due date ('infinity' when there is none): all of them is the sum,
-- the overdue ones the sum of the dates before today.
CREATE TABLE open_task_tallies (
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  due_date date NOT NULL,
  open bigint NOT NULL,
  PRIMARY KEY (org_id, due_date)
);

-- Payments received per month, in their invoice's currency.
CREATE TABLE payment_tallies (
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  month date NOT NULL,
  currency text NOT NULL,
  received numeric(20, 2) NOT NULL,
  PRIMARY KEY (org_id, month, currency)
);

-- What clients owe per currency and due date: the sum and the invoices, overdue being
-- the due dates before today.
CREATE TABLE receivable_tallies (
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  currency text NOT NULL,
  due_date date NOT NULL,
  outstanding numeric(20, 2) NOT NULL,
  invoices bigint NOT NULL,
  PRIMARY KEY (org_id, currency, due_date)
);

CREATE FUNCTION open_tasks_tally() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO open_task_tallies AS t (org_id, due_date, open)
    SELECT org_id, COALESCE(due_date, 'infinity'), count(*) FROM new_rows WHERE status <> 'done'
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (org_id, due_date) DO UPDATE SET open = t.open + excluded.open;
  ELSIF TG_OP = 'UPDATE' THEN
    -- Most updates (a title, a card moved on the board) change no tally: nothing written.
    INSERT INTO open_task_tallies AS t (org_id, due_date, open)
    SELECT org_id, due_date, sum(n) FROM (
      SELECT org_id, COALESCE(due_date, 'infinity') AS due_date, 1 AS n FROM new_rows WHERE status <> 'done'
      UNION ALL
      SELECT org_id, COALESCE(due_date, 'infinity'), -1 FROM old_rows WHERE status <> 'done'
    ) change
    GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2
    ON CONFLICT (org_id, due_date) DO UPDATE SET open = t.open + excluded.open;
  ELSE
    -- Only ever down, on rows that exist: an update, never an insert, so that deleting
    -- an organization (whose tallies may be deleted first) cascades cleanly.
    UPDATE open_task_tallies t SET open = t.open - gone.n
    FROM (SELECT org_id, COALESCE(due_date, 'infinity') AS due_date, count(*) AS n
          FROM old_rows WHERE status <> 'done' GROUP BY 1, 2) gone
    WHERE t.org_id = gone.org_id AND t.due_date = gone.due_date;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER tasks_tally_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION open_tasks_tally();
CREATE TRIGGER tasks_tally_update AFTER UPDATE ON tasks REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION open_tasks_tally();
CREATE TRIGGER tasks_tally_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION open_tasks_tally();

-- An invoice is owed while it is sent or part-paid and not paid in full.
CREATE FUNCTION receivables_tally() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO receivable_tallies AS t (org_id, currency, due_date, outstanding, invoices)
    SELECT org_id, currency, due_date, sum(total - amount_paid), count(*) FROM new_rows
    WHERE status IN ('sent', 'partially_paid') AND total > amount_paid
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (org_id, currency, due_date)
    DO UPDATE SET outstanding = t.outstanding + excluded.outstanding, invoices = t.invoices + excluded.invoices;
  ELSIF TG_OP = 'UPDATE' THEN
    -- Most updates (a draft edited, an invoice sent by email) change no tally.
    INSERT INTO receivable_tallies AS t (org_id, currency, due_date, outstanding, invoices)
    SELECT org_id, currency, due_date, sum(owed), sum(n) FROM (
      SELECT org_id, currency, due_date, total - amount_paid AS owed, 1 AS n FROM new_rows
      WHERE status IN ('sent', 'partially_paid') AND total > amount_paid
      UNION ALL
      SELECT org_id, currency, due_date, amount_paid - total, -1 FROM old_rows
      WHERE status IN ('sent', 'partially_paid') AND total > amount_paid
    ) change
    GROUP BY 1, 2, 3 HAVING sum(owed) <> 0 OR sum(n) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (org_id, currency, due_date)
    DO UPDATE SET outstanding = t.outstanding + excluded.outstanding, invoices = t.invoices + excluded.invoices;
  ELSE
    UPDATE receivable_tallies t SET outstanding = t.outstanding - gone.owed, invoices = t.invoices - gone.n
    FROM (SELECT org_id, currency, due_date, sum(total - amount_paid) AS owed, count(*) AS n FROM old_rows
          WHERE status IN ('sent', 'partially_paid') AND total > amount_paid GROUP BY 1, 2, 3) gone
    WHERE t.org_id = gone.org_id AND t.currency = gone.currency AND t.due_date = gone.due_date;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER invoices_tally_insert AFTER INSERT ON invoices REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION receivables_tally();
CREATE TRIGGER invoices_tally_update AFTER UPDATE ON invoices REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION receivables_tally();
CREATE TRIGGER invoices_tally_delete AFTER DELETE ON invoices REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION receivables_tally();

-- Payments are a ledger (never updated; deleted only with their organization, since an
-- issued invoice cannot be deleted) and an issued invoice's currency never changes, so
-- recording one is the only change to count.
CREATE FUNCTION payments_tally() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS $$
BEGIN
  INSERT INTO payment_tallies AS t (org_id, month, currency, received)
  SELECT p.org_id, date_trunc('month', p.paid_on)::date, i.currency, sum(p.amount)
  FROM new_rows p JOIN invoices i ON i.org_id = p.org_id AND i.id = p.invoice_id
  GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (org_id, month, currency) DO UPDATE SET received = t.received + excluded.received;
  RETURN NULL;
END
$$;
CREATE TRIGGER payments_tally AFTER INSERT ON payments REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION payments_tally();

INSERT INTO open_task_tallies (org_id, due_date, open)
SELECT org_id, COALESCE(due_date, 'infinity'), count(*) FROM tasks WHERE status <> 'done' GROUP BY 1, 2;
INSERT INTO receivable_tallies (org_id, currency, due_date, outstanding, invoices)
SELECT org_id, currency, due_date, sum(total - amount_paid), count(*) FROM invoices
WHERE status IN ('sent', 'partially_paid') AND total > amount_paid GROUP BY 1, 2, 3;
INSERT INTO payment_tallies (org_id, month, currency, received)
SELECT p.org_id, date_trunc('month', p.paid_on)::date, i.currency, sum(p.amount)
FROM payments p JOIN invoices i ON i.org_id = p.org_id AND i.id = p.invoice_id GROUP BY 1, 2, 3;

-- Staff of the organization read them; clients (app.client_id set) and writes only
-- through the triggers.
ALTER TABLE open_task_tallies ENABLE ROW LEVEL SECURITY;
ALTER TABLE payment_tallies ENABLE ROW LEVEL SECURITY;
ALTER TABLE receivable_tallies ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON open_task_tallies FOR SELECT USING (org_id = app_org_id() AND app_client_id() IS NULL);
CREATE POLICY tenant_isolation ON payment_tallies FOR SELECT USING (org_id = app_org_id() AND app_client_id() IS NULL);
CREATE POLICY tenant_isolation ON receivable_tallies FOR SELECT USING (org_id = app_org_id() AND app_client_id() IS NULL);
GRANT SELECT ON open_task_tallies, payment_tallies, receivable_tallies TO clienthub_tenant;
