-- The platform: plans and subscriptions, the platform team and its audit log, feature
-- flags and support conversations. Platform pages read across tenants only through the
-- clienthub_platform role (src/platform/db.rs): column grants keep secrets (password
-- hashes, client records, documents) out of its reach, and it may change only what the
-- platform owns (statuses, plans, flags, the team).

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'clienthub_platform') THEN
    CREATE ROLE clienthub_platform NOLOGIN;
  END IF;
  IF NOT pg_has_role(current_user, 'clienthub_platform', 'MEMBER') THEN
    EXECUTE format('GRANT clienthub_platform TO %I', current_user);
  END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO clienthub_platform;
GRANT EXECUTE ON FUNCTION app_org_id(), app_user_id(), app_client_id() TO clienthub_platform;

-- Plans and their limits, the one place they are defined. NULL: unlimited.
CREATE TABLE plans (
  key text PRIMARY KEY CHECK (key IN ('free', 'pro', 'enterprise')),
  name text NOT NULL,
  position integer NOT NULL UNIQUE,
  price text NOT NULL,
  max_members integer CHECK (max_members > 0),
  max_clients integer CHECK (max_clients > 0),
  max_projects integer CHECK (max_projects > 0),
  max_storage_bytes bigint CHECK (max_storage_bytes > 0)
);
INSERT INTO plans VALUES
  ('free', 'Free', 1, 'Free', 3, 25, 10, 1073741824),
  ('pro', 'Pro', 2, '$29 per month', 25, 1000, 500, 107374182400),
  ('enterprise', 'Enterprise', 3, 'Custom', NULL, NULL, NULL, NULL);

-- One subscription per organization; a canceled one counts as the free plan.
CREATE TABLE subscriptions (
  org_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  plan text NOT NULL DEFAULT 'free' REFERENCES plans (key),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('trialing', 'active', 'past_due', 'canceled')),
  current_period_end date,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO subscriptions (org_id, plan) SELECT id, plan FROM organizations;
ALTER TABLE organizations DROP COLUMN plan;
CREATE INDEX subscriptions_plan_idx ON subscriptions (plan, status);

-- What an organization uses of its plan, the one definition the limit checks, the
-- meters and the platform's lists share. Team seats are staff memberships (client users
-- belong to clients) and staff invitations still pending. Runs with the caller's rights.
CREATE FUNCTION org_usage(org uuid, OUT members bigint, OUT clients bigint, OUT projects bigint, OUT storage bigint)
LANGUAGE sql STABLE AS $$
  SELECT (SELECT count(*) FROM memberships m JOIN roles r ON r.org_id = m.org_id AND r.id = m.role_id
          WHERE m.org_id = org AND m.status <> 'banned' AND r.key IS DISTINCT FROM 'client')
         + (SELECT count(*) FROM invitations i
            WHERE i.org_id = org AND i.status = 'pending' AND i.client_id IS NULL AND i.expires_at > now()),
         (SELECT count(*) FROM clients c WHERE c.org_id = org),
         (SELECT count(*) FROM projects p WHERE p.org_id = org),
         (SELECT COALESCE(sum(f.size_bytes), 0)::bigint FROM files f WHERE f.org_id = org)
$$;

-- Sign-up stays one transaction: the database subscribes each new organization to the
-- free plan, so tenants need no right to write subscriptions.
CREATE FUNCTION subscribe_new_organization() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  INSERT INTO subscriptions (org_id) VALUES (NEW.id);
  RETURN NEW;
END
$$;
CREATE TRIGGER organizations_subscribe AFTER INSERT ON organizations
  FOR EACH ROW EXECUTE FUNCTION subscribe_new_organization();

ALTER TABLE subscriptions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON subscriptions FOR SELECT USING (org_id = app_org_id());
GRANT SELECT ON plans, subscriptions TO clienthub_tenant;

-- Feature flags: a global default and per-organization overrides, read through
-- org_features() (the one function the app and the platform pages use).
CREATE TABLE feature_flags (
  key text PRIMARY KEY CHECK (key ~ '^[a-z][a-z_]{1,39}$'),
  name text NOT NULL,
  description text NOT NULL,
  enabled boolean NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO feature_flags (key, name, description, enabled) VALUES
  ('chat', 'Team chat', 'Chat channels for the team and shared with clients (/chat).', true);
CREATE TABLE feature_flag_overrides (
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  flag_key text NOT NULL REFERENCES feature_flags (key) ON DELETE CASCADE,
  enabled boolean NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, flag_key)
);
CREATE FUNCTION org_features(org uuid) RETURNS text[] LANGUAGE sql STABLE AS $$
  SELECT COALESCE(array_agg(f.key ORDER BY f.key), '{}')
  FROM feature_flags f
  LEFT JOIN feature_flag_overrides o ON o.flag_key = f.key AND o.org_id = org
  WHERE COALESCE(o.enabled, f.enabled)
$$;
ALTER TABLE feature_flag_overrides ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON feature_flag_overrides FOR SELECT USING (org_id = app_org_id());
GRANT SELECT ON feature_flags, feature_flag_overrides TO clienthub_tenant;
GRANT EXECUTE ON FUNCTION org_features(uuid) TO clienthub_tenant, clienthub_platform;
GRANT EXECUTE ON FUNCTION org_usage(uuid) TO clienthub_tenant, clienthub_platform;

-- The platform team: owners are users.is_platform_owner (they manage the team);
-- staff are listed here.
CREATE TABLE platform_staff (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  added_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Everything platform staff do, and every cross-tenant page they open.
CREATE TABLE platform_audit_logs (
  id uuid PRIMARY KEY,
  actor_id uuid REFERENCES users (id) ON DELETE SET NULL,
  action text NOT NULL,
  target_type text,
  target_id uuid,
  summary text NOT NULL DEFAULT '',
  ip text,
  user_agent text,
  metadata jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX platform_audit_logs_time_idx ON platform_audit_logs (created_at DESC, id DESC);
CREATE INDEX platform_audit_logs_actor_idx ON platform_audit_logs (actor_id, created_at DESC);

-- Support: one conversation per user with the platform team.
CREATE TABLE support_conversations (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
  -- The organization the user was working in when they last wrote (context for staff,
  -- and where their reply notification lands).
  org_id uuid REFERENCES organizations (id) ON DELETE SET NULL,
  status text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'answered')),
  last_message_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX support_conversations_queue_idx ON support_conversations (status, last_message_at DESC);
CREATE TABLE support_messages (
  id uuid PRIMARY KEY,
  conversation_id uuid NOT NULL REFERENCES support_conversations (id) ON DELETE CASCADE,
  author_id uuid REFERENCES users (id) ON DELETE SET NULL,
  from_staff boolean NOT NULL,
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX support_messages_conversation_idx ON support_messages (conversation_id, created_at);

-- A support answer is the user's notification wherever they work, like an invitation.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (
  'task_assigned', 'task_comment', 'mention', 'invitation', 'quotation_accepted',
  'quotation_declined', 'invoice_paid', 'support_reply'));
DROP POLICY notifications_own ON notifications;
DROP POLICY notifications_own_update ON notifications;
CREATE POLICY notifications_own ON notifications FOR SELECT
  USING (user_id = app_user_id() AND (org_id = app_org_id() OR kind IN ('invitation', 'support_reply')));
CREATE POLICY notifications_own_update ON notifications FOR UPDATE
  USING (user_id = app_user_id() AND (org_id = app_org_id() OR kind IN ('invitation', 'support_reply')));
-- Tenants never write support answers.
DROP POLICY notifications_create ON notifications;
CREATE POLICY notifications_create ON notifications FOR INSERT TO clienthub_tenant
  WITH CHECK (org_id = app_org_id() AND kind <> 'support_reply' AND (kind <> 'invitation' OR EXISTS (
    SELECT 1 FROM invitations i
    WHERE i.org_id = app_org_id() AND i.id = notifications.entity_id AND i.invitee_id = notifications.user_id)));

-- The platform role: reads across tenants (counts and names, not contents), and writes
-- only what the platform owns.
ALTER TABLE platform_staff ENABLE ROW LEVEL SECURITY;
ALTER TABLE platform_audit_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE feature_flags ENABLE ROW LEVEL SECURITY;
ALTER TABLE support_conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE support_messages ENABLE ROW LEVEL SECURITY;
CREATE POLICY everyone_reads ON feature_flags FOR SELECT USING (true);
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['organizations', 'users', 'memberships', 'roles', 'subscriptions', 'clients',
                           'projects', 'tasks', 'files', 'invoices', 'quotations', 'feature_flags',
                           'feature_flag_overrides', 'platform_staff', 'support_conversations',
                           'support_messages', 'audit_logs', 'invitations']
  LOOP
    EXECUTE format('CREATE POLICY platform ON %I TO clienthub_platform USING (true) WITH CHECK (true)', t);
  END LOOP;
END
$$;
-- The platform's own log: read all, write only as oneself.
CREATE POLICY platform_read ON platform_audit_logs FOR SELECT TO clienthub_platform USING (true);
CREATE POLICY platform_write ON platform_audit_logs FOR INSERT TO clienthub_platform
  WITH CHECK (actor_id = app_user_id());
CREATE POLICY platform_support_reply ON notifications FOR INSERT TO clienthub_platform
  WITH CHECK (kind = 'support_reply' AND EXISTS (
    SELECT 1 FROM support_conversations c
    WHERE c.id = notifications.entity_id AND c.user_id = notifications.user_id AND c.org_id = notifications.org_id));

GRANT SELECT (id, name, status, default_currency, timezone, created_at, updated_at) ON organizations TO clienthub_platform;
GRANT UPDATE (status, updated_at) ON organizations TO clienthub_platform;
GRANT SELECT (id, email, name, display_id, status, is_platform_owner, active_org_id, last_login_at, created_at)
  ON users TO clienthub_platform;
GRANT UPDATE (status, is_platform_owner, updated_at) ON users TO clienthub_platform;
GRANT SELECT (id, org_id, user_id, role_id, client_id, status, created_at) ON memberships TO clienthub_platform;
GRANT SELECT (id, org_id, key, name, power) ON roles TO clienthub_platform;
GRANT SELECT ON plans TO clienthub_platform;
GRANT SELECT, UPDATE (plan, status, current_period_end, updated_at) ON subscriptions TO clienthub_platform;
GRANT SELECT (id, org_id, created_at) ON clients, projects TO clienthub_platform;
GRANT SELECT (id, org_id, status, due_date) ON tasks TO clienthub_platform;
GRANT SELECT (id, org_id, size_bytes, created_at) ON files TO clienthub_platform;
GRANT SELECT (id, org_id, status, issued_at, created_at) ON invoices, quotations TO clienthub_platform;
GRANT SELECT (id, org_id, created_at) ON audit_logs TO clienthub_platform;
GRANT SELECT (id, org_id, status, client_id, expires_at) ON invitations TO clienthub_platform;
GRANT SELECT, UPDATE (enabled, updated_at) ON feature_flags TO clienthub_platform;
GRANT SELECT, INSERT, UPDATE, DELETE ON feature_flag_overrides TO clienthub_platform;
GRANT SELECT, INSERT, DELETE ON platform_staff TO clienthub_platform;
GRANT SELECT, INSERT ON platform_audit_logs TO clienthub_platform;
GRANT SELECT, UPDATE (status, last_message_at) ON support_conversations TO clienthub_platform;
GRANT SELECT, INSERT ON support_messages TO clienthub_platform;
GRANT INSERT ON notifications TO clienthub_platform;
-- A banned or suspended user's sessions end in the same transaction.
GRANT SELECT (id, user_id), DELETE ON sessions TO clienthub_platform;
