-- Money: taxes, invoices and quotations with their line items, payments, gapless
-- per-organization numbers, and the hashed tokens of the portal links that sent
-- documents carry. Amounts are NUMERIC, never floating point.

CREATE TABLE taxes (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
  -- Percent, up to 4 decimals (e.g. 8.8750).
  rate numeric(7, 4) NOT NULL CHECK (rate >= 0 AND rate <= 100),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id)
);
CREATE UNIQUE INDEX taxes_org_name_key ON taxes (org_id, lower(name));

-- The last number issued per organization, kind and year. The issuing transaction
-- increments its row, which serializes concurrent issuers and rolls back with them:
-- numbers have no gaps and no duplicates.
CREATE TABLE document_counters (
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('invoice', 'quotation')),
  year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  last_number integer NOT NULL CHECK (last_number > 0),
  PRIMARY KEY (org_id, kind, year)
);

CREATE TABLE quotations (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  client_id uuid NOT NULL,
  project_id uuid,
  -- Assigned when the draft is issued (sent).
  number text,
  status text NOT NULL DEFAULT 'draft'
    CHECK (status IN ('draft', 'sent', 'accepted', 'declined', 'expired')),
  issue_date date NOT NULL,
  valid_until date NOT NULL,
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  notes text NOT NULL DEFAULT '' CHECK (length(notes) <= 5000),
  terms text NOT NULL DEFAULT '' CHECK (length(terms) <= 5000),
  subtotal numeric(20, 2) NOT NULL DEFAULT 0,
  tax_total numeric(20, 2) NOT NULL DEFAULT 0,
  total numeric(20, 2) NOT NULL DEFAULT 0 CHECK (total >= 0),
  issued_at timestamptz,
  -- The client's and the organization's details as they were when issued: an issued
  -- document does not change when a client is edited.
  parties jsonb,
  sent_at timestamptz,
  sent_by uuid REFERENCES users (id) ON DELETE SET NULL,
  responded_at timestamptz,
  decline_reason text CHECK (length(decline_reason) <= 2000),
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (org_id, number),
  CHECK ((status = 'draft') = (number IS NULL)),
  CHECK (valid_until >= issue_date),
  -- A client with documents is not deleted (the application says why first).
  FOREIGN KEY (org_id, client_id) REFERENCES clients (org_id, id),
  FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE SET NULL (project_id)
);
CREATE INDEX quotations_org_idx ON quotations (org_id, id DESC);
CREATE INDEX quotations_client_idx ON quotations (org_id, client_id, id DESC);
CREATE INDEX quotations_status_idx ON quotations (org_id, status, id DESC);

CREATE TABLE invoices (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  client_id uuid NOT NULL,
  project_id uuid,
  number text,
  status text NOT NULL DEFAULT 'draft'
    CHECK (status IN ('draft', 'sent', 'partially_paid', 'paid', 'void')),
  issue_date date NOT NULL,
  due_date date NOT NULL,
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  notes text NOT NULL DEFAULT '' CHECK (length(notes) <= 5000),
  terms text NOT NULL DEFAULT '' CHECK (length(terms) <= 5000),
  subtotal numeric(20, 2) NOT NULL DEFAULT 0,
  tax_total numeric(20, 2) NOT NULL DEFAULT 0,
  total numeric(20, 2) NOT NULL DEFAULT 0 CHECK (total >= 0),
  amount_paid numeric(20, 2) NOT NULL DEFAULT 0 CHECK (amount_paid >= 0 AND amount_paid <= total),
  -- The quotation this invoice was converted from (one invoice per quotation).
  quotation_id uuid,
  issued_at timestamptz,
  -- The client's and the organization's details as they were when issued: an issued
  -- document does not change when a client is edited.
  parties jsonb,
  sent_at timestamptz,
  sent_by uuid REFERENCES users (id) ON DELETE SET NULL,
  voided_at timestamptz,
  void_reason text CHECK (length(void_reason) <= 2000),
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (org_id, number),
  UNIQUE (org_id, quotation_id),
  CHECK ((status = 'draft') = (number IS NULL)),
  CHECK (due_date >= issue_date),
  CHECK ((status = 'void') = (voided_at IS NOT NULL)),
  FOREIGN KEY (org_id, client_id) REFERENCES clients (org_id, id),
  FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE SET NULL (project_id),
  FOREIGN KEY (org_id, quotation_id) REFERENCES quotations (org_id, id) ON DELETE SET NULL (quotation_id)
);
CREATE INDEX invoices_org_idx ON invoices (org_id, id DESC);
CREATE INDEX invoices_client_idx ON invoices (org_id, client_id, id DESC);
CREATE INDEX invoices_status_idx ON invoices (org_id, status, id DESC);
CREATE INDEX invoices_due_idx ON invoices (org_id, due_date) WHERE status IN ('sent', 'partially_paid');

-- Line items. Issued documents keep the tax's name and rate by copy, so deleting or
-- renaming a tax never changes them.
CREATE TABLE invoice_items (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  invoice_id uuid NOT NULL,
  position integer NOT NULL CHECK (position >= 0),
  description text NOT NULL CHECK (length(description) BETWEEN 1 AND 5000),
  quantity numeric(12, 3) NOT NULL CHECK (quantity > 0),
  unit_price numeric(16, 4) NOT NULL,
  amount numeric(20, 2) NOT NULL,
  tax_id uuid,
  tax_name text,
  tax_rate numeric(7, 4),
  UNIQUE (invoice_id, position),
  FOREIGN KEY (org_id, invoice_id) REFERENCES invoices (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, tax_id) REFERENCES taxes (org_id, id) ON DELETE SET NULL (tax_id),
  CHECK ((tax_name IS NULL) = (tax_rate IS NULL))
);

CREATE INDEX invoice_items_tax_idx ON invoice_items (org_id, tax_id) WHERE tax_id IS NOT NULL;

CREATE TABLE quotation_items (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  quotation_id uuid NOT NULL,
  position integer NOT NULL CHECK (position >= 0),
  description text NOT NULL CHECK (length(description) BETWEEN 1 AND 5000),
  quantity numeric(12, 3) NOT NULL CHECK (quantity > 0),
  unit_price numeric(16, 4) NOT NULL,
  amount numeric(20, 2) NOT NULL,
  tax_id uuid,
  tax_name text,
  tax_rate numeric(7, 4),
  UNIQUE (quotation_id, position),
  FOREIGN KEY (org_id, quotation_id) REFERENCES quotations (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, tax_id) REFERENCES taxes (org_id, id) ON DELETE SET NULL (tax_id),
  CHECK ((tax_name IS NULL) = (tax_rate IS NULL))
);

CREATE INDEX quotation_items_tax_idx ON quotation_items (org_id, tax_id) WHERE tax_id IS NOT NULL;

CREATE TABLE payments (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  invoice_id uuid NOT NULL,
  paid_on date NOT NULL,
  amount numeric(20, 2) NOT NULL CHECK (amount > 0),
  method text NOT NULL CHECK (method IN ('bank_transfer', 'card', 'cash', 'cheque', 'other')),
  note text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
  recorded_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (org_id, invoice_id) REFERENCES invoices (org_id, id) ON DELETE CASCADE
);
CREATE INDEX payments_invoice_idx ON payments (org_id, invoice_id, paid_on);

-- Time billed by an invoice: reserved while it is a draft (deleting the draft
-- releases it), billed once it is issued.
ALTER TABLE time_entries
  ADD FOREIGN KEY (org_id, invoice_id) REFERENCES invoices (org_id, id) ON DELETE SET NULL (invoice_id);
CREATE INDEX time_entries_invoice_idx ON time_entries (org_id, invoice_id) WHERE invoice_id IS NOT NULL;

-- Emailed links that open one document for its client (the portal consumes them).
-- Only the SHA-256 of the token is kept.
CREATE TABLE portal_tokens (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  client_id uuid NOT NULL,
  purpose text NOT NULL CHECK (purpose IN ('invoice', 'quotation', 'portal')),
  document_id uuid,
  token_hash bytea NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  revoked_at timestamptz,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (org_id, client_id) REFERENCES clients (org_id, id) ON DELETE CASCADE,
  CHECK ((purpose = 'portal') = (document_id IS NULL))
);
CREATE INDEX portal_tokens_client_idx ON portal_tokens (org_id, client_id, created_at DESC);

-- An issued document is immutable: only its status (along the allowed steps), payment
-- and sending columns change, its items not at all, and it is never deleted (an
-- organization's deletion excepted). The application checks first; this is the wall.
CREATE FUNCTION documents_issued_are_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  end_changed boolean;
  step_allowed boolean;
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.status <> 'draft' AND EXISTS (SELECT 1 FROM organizations WHERE id = OLD.org_id) THEN
      RAISE EXCEPTION 'issued document % cannot be deleted', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN OLD;
  END IF;
  IF OLD.status = 'draft' THEN
    RETURN NEW;
  END IF;
  IF TG_TABLE_NAME = 'invoices' THEN
    end_changed := NEW.due_date IS DISTINCT FROM OLD.due_date;
    step_allowed := NEW.status = OLD.status
      OR (OLD.status IN ('sent', 'partially_paid') AND NEW.status IN ('partially_paid', 'paid', 'void'))
      OR (OLD.status = 'paid' AND NEW.status = 'void');
  ELSE
    end_changed := NEW.valid_until IS DISTINCT FROM OLD.valid_until;
    step_allowed := NEW.status = OLD.status
      OR (OLD.status = 'sent' AND NEW.status IN ('accepted', 'declined', 'expired'));
  END IF;
  IF NOT step_allowed OR end_changed
    OR NEW.client_id IS DISTINCT FROM OLD.client_id OR NEW.number IS DISTINCT FROM OLD.number
    OR NEW.issue_date IS DISTINCT FROM OLD.issue_date OR NEW.currency IS DISTINCT FROM OLD.currency
    OR NEW.notes IS DISTINCT FROM OLD.notes OR NEW.terms IS DISTINCT FROM OLD.terms
    OR NEW.subtotal IS DISTINCT FROM OLD.subtotal OR NEW.tax_total IS DISTINCT FROM OLD.tax_total
    OR NEW.total IS DISTINCT FROM OLD.total OR NEW.parties IS DISTINCT FROM OLD.parties
    OR NEW.issued_at IS DISTINCT FROM OLD.issued_at THEN
    RAISE EXCEPTION 'issued document % cannot be changed that way', OLD.id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER invoices_issued_are_frozen BEFORE UPDATE OR DELETE ON invoices
  FOR EACH ROW EXECUTE FUNCTION documents_issued_are_frozen();
CREATE TRIGGER quotations_issued_are_frozen BEFORE UPDATE OR DELETE ON quotations
  FOR EACH ROW EXECUTE FUNCTION documents_issued_are_frozen();

CREATE FUNCTION document_items_of_drafts_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  parents uuid[];
BEGIN
  -- Deleting a tax clears the link on issued items; what they show (its copy) stays.
  IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'tax_id') = (to_jsonb(OLD) - 'tax_id') THEN
    RETURN NEW;
  END IF;
  IF TG_TABLE_NAME = 'invoice_items' THEN
    parents := ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN OLD.invoice_id END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.invoice_id END];
    IF EXISTS (SELECT 1 FROM invoices WHERE id = ANY (parents) AND status <> 'draft') THEN
      RAISE EXCEPTION 'items of an issued invoice cannot change' USING ERRCODE = 'check_violation';
    END IF;
  ELSE
    parents := ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN OLD.quotation_id END, CASE WHEN TG_OP <> 'DELETE' THEN NEW.quotation_id END];
    IF EXISTS (SELECT 1 FROM quotations WHERE id = ANY (parents) AND status <> 'draft') THEN
      RAISE EXCEPTION 'items of an issued quotation cannot change' USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  -- A cascading delete of a whole (draft) document, or of an organization, finds no
  -- issued parent and passes.
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER invoice_items_of_drafts_only BEFORE INSERT OR UPDATE OR DELETE ON invoice_items
  FOR EACH ROW EXECUTE FUNCTION document_items_of_drafts_only();
CREATE TRIGGER quotation_items_of_drafts_only BEFORE INSERT OR UPDATE OR DELETE ON quotation_items
  FOR EACH ROW EXECUTE FUNCTION document_items_of_drafts_only();

ALTER TABLE taxes ENABLE ROW LEVEL SECURITY;
ALTER TABLE document_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE quotations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoice_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE quotation_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal_tokens ENABLE ROW LEVEL SECURITY;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['taxes', 'document_counters', 'quotations', 'invoices', 'invoice_items',
                           'quotation_items', 'payments', 'portal_tokens'] LOOP
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id())', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO clienthub_tenant', t);
  END LOOP;
END
$$;
-- Payments are a ledger: recorded, never edited or removed (void the invoice instead).
REVOKE UPDATE, DELETE ON payments FROM clienthub_tenant;
-- Numbers only go up.
REVOKE DELETE ON document_counters FROM clienthub_tenant;
-- Token hashes are looked up by the app's own role; tenants write and revoke them.
REVOKE SELECT ON portal_tokens FROM clienthub_tenant;
GRANT SELECT (id, org_id, client_id, purpose, document_id, expires_at, used_at, revoked_at, created_by, created_at)
  ON portal_tokens TO clienthub_tenant;
