-- Foundation: people, organizations, roles, memberships, audit log, sessions.
-- Tenant tables carry org_id, composite foreign keys (org_id, x_id) and
-- row-level security policies that compare org_id with the tenant context
-- set by the application's tenant transaction (see src/db/tenant.rs).

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'clienthub_tenant') THEN
    CREATE ROLE clienthub_tenant NOLOGIN;
  END IF;
END
$$;

-- The application's login role must be able to SET ROLE clienthub_tenant.
DO $$
BEGIN
  IF NOT pg_has_role(current_user, 'clienthub_tenant', 'MEMBER') THEN
    EXECUTE format('GRANT clienthub_tenant TO %I', current_user);
  END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO clienthub_tenant;

-- Tenant context, set per transaction with set_config(..., true).
CREATE FUNCTION app_org_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT NULLIF(current_setting('app.org_id', true), '')::uuid $$;
CREATE FUNCTION app_user_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT NULLIF(current_setting('app.user_id', true), '')::uuid $$;
GRANT EXECUTE ON FUNCTION app_org_id(), app_user_id() TO clienthub_tenant;

CREATE TABLE organizations (
  id uuid PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  plan text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'pro', 'enterprise')),
  brand_color text NOT NULL DEFAULT '#4f46e5' CHECK (brand_color ~ '^#[0-9a-f]{6}$'),
  default_currency text NOT NULL DEFAULT 'USD' CHECK (default_currency ~ '^[A-Z]{3}$'),
  timezone text NOT NULL DEFAULT 'UTC',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id uuid PRIMARY KEY,
  email text NOT NULL CHECK (email = lower(email) AND position('@' in email) > 1),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
  password_hash text NOT NULL,
  display_id text NOT NULL UNIQUE CHECK (display_id ~ '^CH-[0-9A-Z]{6}$'),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'banned')),
  is_platform_owner boolean NOT NULL DEFAULT false,
  active_org_id uuid REFERENCES organizations (id) ON DELETE SET NULL,
  last_login_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE roles (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  key text CHECK (key IN ('super_admin', 'admin', 'member', 'client')),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
  power integer NOT NULL CHECK (power BETWEEN 1 AND 100),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (org_id, key)
);
CREATE UNIQUE INDEX roles_org_name_key ON roles (org_id, lower(name));

CREATE TABLE role_permissions (
  org_id uuid NOT NULL,
  role_id uuid NOT NULL,
  permission text NOT NULL CHECK (permission IN (
    'manage_org', 'manage_roles', 'manage_members', 'invite_members', 'view_team',
    'view_clients', 'manage_clients', 'view_projects', 'create_project', 'edit_project',
    'delete_project', 'manage_tasks', 'view_files', 'upload_files', 'delete_files',
    'view_invoices', 'manage_invoices', 'send_invoices', 'view_quotations',
    'manage_quotations', 'send_quotations', 'manage_taxes', 'use_chat',
    'manage_channels', 'view_audit_logs', 'export_data')),
  PRIMARY KEY (org_id, role_id, permission),
  FOREIGN KEY (org_id, role_id) REFERENCES roles (org_id, id) ON DELETE CASCADE
);

CREATE TABLE memberships (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role_id uuid NOT NULL,
  -- Set for client-role members; the foreign key to clients arrives with that table.
  client_id uuid,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'invited', 'banned')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (org_id, user_id),
  FOREIGN KEY (org_id, role_id) REFERENCES roles (org_id, id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);
CREATE INDEX memberships_org_role_idx ON memberships (org_id, role_id);

CREATE TABLE audit_logs (
  id uuid PRIMARY KEY,
  -- NULL for events that belong to no organization (a failed login for an unknown address).
  org_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
  actor_id uuid REFERENCES users (id) ON DELETE SET NULL,
  action text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
  entity_type text,
  entity_id uuid,
  ip text,
  user_agent text,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_org_created_idx ON audit_logs (org_id, created_at DESC);
CREATE INDEX audit_logs_actor_idx ON audit_logs (actor_id, created_at DESC);

-- Server-side sessions: the cookie holds a random key; only its SHA-256 is stored.
CREATE TABLE sessions (
  id uuid PRIMARY KEY,
  key_hash bytea NOT NULL UNIQUE,
  user_id uuid REFERENCES users (id) ON DELETE CASCADE,
  state jsonb NOT NULL,
  ip text,
  user_agent text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Row-level security: the second wall behind the application's own checks.
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE role_permissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_logs ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON organizations
  USING (id = app_org_id()) WITH CHECK (id = app_org_id());
CREATE POLICY tenant_isolation ON roles
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());
CREATE POLICY tenant_isolation ON role_permissions
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());
CREATE POLICY tenant_isolation ON memberships
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());
-- A user may always see their own memberships (the organization switcher).
CREATE POLICY own_memberships ON memberships FOR SELECT
  USING (user_id = app_user_id());
CREATE POLICY tenant_isolation ON audit_logs
  USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id());
-- Users are not tenant-owned: a tenant sees itself and the members of its organization,
-- and changes only itself.
CREATE POLICY visible_users ON users FOR SELECT
  USING (id = app_user_id() OR EXISTS (
    SELECT 1 FROM memberships m
    WHERE m.user_id = users.id AND m.org_id = app_org_id() AND m.status <> 'invited'));
CREATE POLICY self_insert ON users FOR INSERT WITH CHECK (id = app_user_id());
CREATE POLICY self_update ON users FOR UPDATE
  USING (id = app_user_id()) WITH CHECK (id = app_user_id());

-- Column grants: a tenant can never touch an organization's status or plan, a user's
-- status or platform role, nor read anyone's password hash.
GRANT SELECT, INSERT ON organizations TO clienthub_tenant;
GRANT UPDATE (name, brand_color, default_currency, timezone, updated_at) ON organizations TO clienthub_tenant;
GRANT INSERT ON users TO clienthub_tenant;
GRANT SELECT (id, email, name, display_id, status, is_platform_owner, active_org_id, last_login_at,
              created_at, updated_at) ON users TO clienthub_tenant;
GRANT UPDATE (name, email, active_org_id, updated_at) ON users TO clienthub_tenant;
GRANT SELECT, INSERT, UPDATE, DELETE ON roles, role_permissions, memberships TO clienthub_tenant;
-- The audit log is append-only for tenants.
GRANT SELECT, INSERT ON audit_logs TO clienthub_tenant;
