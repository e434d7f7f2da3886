-- Review of the tallies: a delete lowers its tally rows with UPDATE … FROM, which locks
-- them in no particular order, while inserts and updates lock them in key order; two
-- multi-row deletes in one organization could deadlock. Each delete now locks its rows
-- in key order first. (The bodies are otherwise those of migrations 11, 12 and 14.)

CREATE OR REPLACE FUNCTION open_tasks_tally() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
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
    PERFORM 1 FROM open_task_tallies t
    JOIN (SELECT DISTINCT org_id, COALESCE(due_date, 'infinity') AS due_date FROM old_rows WHERE status <> 'done') gone
      USING (org_id, due_date)
    ORDER BY t.org_id, t.due_date FOR UPDATE OF t;
    UPDATE open_task_tallies t SET open = t.open - gone.n
    FROM (SELECT org_id, COALESCE(due_date, 'infinity') AS due_date, count(*) AS n
          FROM old_rows WHERE status <> 'done' GROUP BY 1, 2) gone
    WHERE t.org_id = gone.org_id AND t.due_date = gone.due_date;
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION receivables_tally() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
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
    PERFORM 1 FROM receivable_tallies t
    JOIN (SELECT DISTINCT org_id, currency, due_date FROM old_rows
          WHERE status IN ('sent', 'partially_paid') AND total > amount_paid) gone USING (org_id, currency, due_date)
    ORDER BY t.org_id, t.currency, t.due_date FOR UPDATE OF t;
    UPDATE receivable_tallies t SET outstanding = t.outstanding - gone.owed, invoices = t.invoices - gone.n
    FROM (SELECT org_id, currency, due_date, sum(total - amount_paid) AS owed, count(*) AS n FROM old_rows
          WHERE status IN ('sent', 'partially_paid') AND total > amount_paid GROUP BY 1, 2, 3) gone
    WHERE t.org_id = gone.org_id AND t.currency = gone.currency AND t.due_date = gone.due_date;
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION clients_tally() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO client_tallies AS t (org_id, clients)
    SELECT org_id, count(*) FROM new_rows GROUP BY 1 ORDER BY 1
    ON CONFLICT (org_id) DO UPDATE SET clients = t.clients + excluded.clients;
  ELSE
    -- Down only, on rows that exist (see open_tasks_tally).
    PERFORM 1 FROM client_tallies t JOIN (SELECT DISTINCT org_id FROM old_rows) gone USING (org_id)
    ORDER BY t.org_id FOR UPDATE OF t;
    UPDATE client_tallies t SET clients = t.clients - gone.n
    FROM (SELECT org_id, count(*) AS n FROM old_rows GROUP BY 1) gone WHERE t.org_id = gone.org_id;
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION projects_tally() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
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
    PERFORM 1 FROM project_tallies t JOIN (SELECT DISTINCT org_id, status FROM old_rows) gone USING (org_id, status)
    ORDER BY t.org_id, t.status FOR UPDATE OF t;
    UPDATE project_tallies t SET projects = t.projects - gone.n
    FROM (SELECT org_id, status, count(*) AS n FROM old_rows GROUP BY 1, 2) gone
    WHERE t.org_id = gone.org_id AND t.status = gone.status;
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION invoices_list_tally() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO invoice_tallies AS t (org_id, currency, status, invoices, total, owed)
    SELECT org_id, currency, status, count(*), sum(total), sum(total - amount_paid) FROM new_rows
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (org_id, currency, status) DO UPDATE
    SET invoices = t.invoices + excluded.invoices, total = t.total + excluded.total, owed = t.owed + excluded.owed;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO invoice_tallies AS t (org_id, currency, status, invoices, total, owed)
    SELECT org_id, currency, status, sum(n), sum(total), sum(owed) FROM (
      SELECT org_id, currency, status, 1 AS n, total, total - amount_paid AS owed FROM new_rows
      UNION ALL
      SELECT org_id, currency, status, -1, -total, amount_paid - total FROM old_rows
    ) change
    GROUP BY 1, 2, 3 HAVING sum(n) <> 0 OR sum(total) <> 0 OR sum(owed) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (org_id, currency, status) DO UPDATE
    SET invoices = t.invoices + excluded.invoices, total = t.total + excluded.total, owed = t.owed + excluded.owed;
  ELSE
    -- Down only, on rows that exist (see open_tasks_tally).
    PERFORM 1 FROM invoice_tallies t
    JOIN (SELECT DISTINCT org_id, currency, status FROM old_rows) gone USING (org_id, currency, status)
    ORDER BY t.org_id, t.currency, t.status FOR UPDATE OF t;
    UPDATE invoice_tallies t
    SET invoices = t.invoices - gone.n, total = t.total - gone.total, owed = t.owed - gone.owed
    FROM (SELECT org_id, currency, status, count(*) AS n, sum(total) AS total, sum(total - amount_paid) AS owed
          FROM old_rows GROUP BY 1, 2, 3) gone
    WHERE t.org_id = gone.org_id AND t.currency = gone.currency AND t.status = gone.status;
  END IF;
  RETURN NULL;
END
$$;
