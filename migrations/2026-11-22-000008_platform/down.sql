DROP POLICY platform_support_reply ON notifications;
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['organizations', 'users', 'memberships', 'roles', 'clients', 'projects', 'tasks',
                           'files', 'invoices', 'quotations', 'audit_logs', 'invitations']
  LOOP
    EXECUTE format('DROP POLICY platform ON %I', t);
  END LOOP;
END
$$;
REVOKE ALL ON organizations, users, memberships, roles, clients, projects, tasks, files, invoices,
  quotations, audit_logs, notifications, sessions, invitations FROM clienthub_platform;
DROP FUNCTION org_usage(uuid);
DELETE FROM notifications WHERE kind = 'support_reply';
DROP POLICY notifications_create ON notifications;
CREATE POLICY notifications_create ON notifications FOR INSERT
  WITH CHECK (org_id = app_org_id() AND (kind <> 'invitation' OR EXISTS (
    SELECT 1 FROM invitations i
    WHERE i.org_id = app_org_id() AND i.id = notifications.entity_id AND i.invitee_id = notifications.user_id)));
DROP POLICY notifications_own ON notifications;
DROP POLICY notifications_own_update ON notifications;
CREATE POLICY notifications_own ON notifications FOR SELECT
  USING (user_id = app_user_id() AND (org_id = app_org_id() OR kind = 'invitation'));
CREATE POLICY notifications_own_update ON notifications FOR UPDATE
  USING (user_id = app_user_id() AND (org_id = app_org_id() OR kind = 'invitation'));
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (
  'task_assigned', 'task_comment', 'mention', 'invitation', 'quotation_accepted',
  'quotation_declined', 'invoice_paid'));
DROP TABLE support_messages;
DROP TABLE support_conversations;
DROP TABLE platform_audit_logs;
DROP TABLE platform_staff;
DROP FUNCTION org_features(uuid);
DROP TABLE feature_flag_overrides;
DROP TABLE feature_flags;
ALTER TABLE organizations ADD COLUMN plan text NOT NULL DEFAULT 'free'
  CHECK (plan IN ('free', 'pro', 'enterprise'));
UPDATE organizations o SET plan = s.plan FROM subscriptions s WHERE s.org_id = o.id;
DROP TRIGGER organizations_subscribe ON organizations;
DROP FUNCTION subscribe_new_organization();
DROP TABLE subscriptions;
DROP TABLE plans;
REVOKE ALL ON FUNCTION app_org_id(), app_user_id(), app_client_id() FROM clienthub_platform;
REVOKE USAGE ON SCHEMA public FROM clienthub_platform;
