-- People and access: organization settings, invitations, account tokens, two-factor
-- sign-in, and the PostgreSQL job queue that sends every email.

ALTER TABLE organizations
  ADD COLUMN address text NOT NULL DEFAULT '' CHECK (length(address) <= 500),
  ADD COLUMN tax_id text NOT NULL DEFAULT '' CHECK (length(tax_id) <= 60),
  ADD COLUMN invoice_prefix text NOT NULL DEFAULT 'INV' CHECK (invoice_prefix ~ '^[A-Z0-9]{1,10}$'),
  ADD COLUMN quotation_prefix text NOT NULL DEFAULT 'QUO' CHECK (quotation_prefix ~ '^[A-Z0-9]{1,10}$'),
  ADD COLUMN payment_terms_days integer NOT NULL DEFAULT 30 CHECK (payment_terms_days BETWEEN 0 AND 365),
  ADD COLUMN paper_size text NOT NULL DEFAULT 'A4' CHECK (paper_size IN ('A4', 'Letter')),
  ADD COLUMN require_two_factor boolean NOT NULL DEFAULT false,
  -- The logo lives in the database: small, and shared by every app instance.
  ADD COLUMN logo bytea CHECK (octet_length(logo) <= 524288),
  ADD COLUMN logo_content_type text CHECK (logo_content_type IN ('image/png', 'image/jpeg', 'image/webp')),
  ADD COLUMN logo_updated_at timestamptz;

ALTER TABLE users
  ADD COLUMN totp_secret text,
  ADD COLUMN totp_enabled_at timestamptz,
  -- The last TOTP time step accepted, so a code cannot be replayed.
  ADD COLUMN totp_last_step bigint,
  -- Wrong second-step codes in a row; at the limit the second step is locked a while.
  ADD COLUMN two_factor_failures integer NOT NULL DEFAULT 0,
  ADD COLUMN two_factor_locked_until timestamptz;

CREATE TABLE recovery_codes (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash bytea NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id);

-- Single-purpose links mailed to a user (password reset, email change); only the
-- SHA-256 of the token is kept.
CREATE TABLE user_tokens (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose text NOT NULL CHECK (purpose IN ('password_reset', 'email_change')),
  token_hash bytea NOT NULL UNIQUE,
  new_email text,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_tokens_user_idx ON user_tokens (user_id, purpose);

CREATE TABLE invitations (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  -- Invited by address: the address (the emailed link proves who holds it).
  email text CHECK (email = lower(email) AND position('@' in email) > 1),
  -- Invited by display ID: the account (whose address is never shown to the inviter).
  invitee_id uuid REFERENCES users (id) ON DELETE CASCADE,
  -- What the inviter typed, as shown to them: the address or the display ID.
  invitee_label text NOT NULL CHECK (length(invitee_label) BETWEEN 3 AND 254),
  role_id uuid NOT NULL,
  client_id uuid,
  invited_by uuid REFERENCES users (id) ON DELETE SET NULL,
  token_hash bytea NOT NULL UNIQUE,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'accepted', 'rejected', 'revoked')),
  expires_at timestamptz NOT NULL,
  sent_count integer NOT NULL DEFAULT 1,
  last_sent_at timestamptz NOT NULL DEFAULT now(),
  responded_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, role_id) REFERENCES roles (org_id, id) ON DELETE CASCADE,
  CHECK (email IS NOT NULL OR invitee_id IS NOT NULL)
);
CREATE INDEX invitations_org_idx ON invitations (org_id, created_at DESC);
CREATE INDEX invitations_invitee_idx ON invitations (invitee_id) WHERE status = 'pending';
CREATE INDEX invitations_email_idx ON invitations (email) WHERE status = 'pending';
-- One pending invitation per address per organization.
CREATE UNIQUE INDEX invitations_pending_key ON invitations (org_id, invitee_label) WHERE status = 'pending';

-- The job queue. Workers claim with FOR UPDATE SKIP LOCKED; failed jobs retry with
-- backoff and stay visible as 'dead' after the last attempt.
CREATE TABLE jobs (
  id uuid PRIMARY KEY,
  org_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
  kind text NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'dead')),
  run_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 8,
  last_error text,
  locked_by text,
  locked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX jobs_ready_idx ON jobs (run_at) WHERE status = 'pending';
CREATE INDEX jobs_running_idx ON jobs (locked_at) WHERE status = 'running';
CREATE INDEX jobs_org_idx ON jobs (org_id, created_at DESC);

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invitations
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());
-- An invitee sees the invitations addressed to them, from any organization.
CREATE POLICY own_invitations ON invitations FOR SELECT
  USING (invitee_id = app_user_id());
CREATE POLICY tenant_isolation ON jobs
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON invitations TO clienthub_tenant;
-- Whether someone uses two-factor sign-in is shown on the team page; the secret is not readable.
GRANT SELECT (totp_enabled_at) ON users TO clienthub_tenant;
GRANT UPDATE (address, tax_id, invoice_prefix, quotation_prefix, payment_terms_days, paper_size,
              require_two_factor, logo, logo_content_type, logo_updated_at) ON organizations TO clienthub_tenant;
-- Tenants only enqueue; workers run as the app's role. Payloads may carry a mailed
-- link's token, so tenants cannot read them back.
GRANT INSERT ON jobs TO clienthub_tenant;
