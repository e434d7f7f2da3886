-- Chat channels and messages (SPEC §4), notification email settings, and invitations
-- as notifications of the person invited.

-- A channel is the staff's; with client_id set it is shared with that client's portal
-- users too. Messages are numbered per channel (seq) in commit order: posting locks
-- the channel row and takes last_seq + 1, so a browser resuming after message N
-- (Last-Event-ID) misses nothing and sees nothing twice.
CREATE TABLE chat_channels (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
  client_id uuid,
  last_seq bigint NOT NULL DEFAULT 0,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, client_id) REFERENCES clients (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX chat_channels_name_key ON chat_channels (org_id, lower(name));

CREATE TABLE chat_messages (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  channel_id uuid NOT NULL,
  seq bigint NOT NULL,
  author_id uuid REFERENCES users (id) ON DELETE SET NULL,
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, channel_id, seq),
  FOREIGN KEY (org_id, channel_id) REFERENCES chat_channels (org_id, id) ON DELETE CASCADE
);
-- Posting is rate-limited per author, counted here so it holds across instances.
CREATE INDEX chat_messages_author_idx ON chat_messages (author_id, created_at);

ALTER TABLE chat_channels ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat_messages ENABLE ROW LEVEL SECURITY;
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['chat_channels', 'chat_messages'] LOOP
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id())', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO clienthub_tenant', t);
  END LOOP;
END
$$;
-- A client user sees the channels shared with their client, and those channels' messages.
CREATE POLICY client_scope ON chat_channels AS RESTRICTIVE
  USING (app_client_id() IS NULL OR client_id = app_client_id());
CREATE POLICY client_scope ON chat_messages AS RESTRICTIVE
  USING (app_client_id() IS NULL OR EXISTS (
    SELECT 1 FROM chat_channels c WHERE c.org_id = chat_messages.org_id AND c.id = chat_messages.channel_id));
-- Messages are history: they are not edited. Posting moves a channel's counter, nothing else.
REVOKE UPDATE ON chat_messages FROM clienthub_tenant;
REVOKE UPDATE ON chat_channels FROM clienthub_tenant;
GRANT UPDATE (last_seq) ON chat_channels TO clienthub_tenant;
-- Clients take part; they do not remove channels or messages.
CREATE POLICY client_keeps ON chat_channels AS RESTRICTIVE FOR DELETE USING (app_client_id() IS NULL);
CREATE POLICY client_keeps ON chat_messages AS RESTRICTIVE FOR DELETE USING (app_client_id() IS NULL);

-- A portal link works only while the client's address is the one it was mailed to.
ALTER TABLE portal_tokens ADD COLUMN email text;

-- Which notifications a user also wants by email; a missing row means the default
-- (see notifications::Kind::emails_by_default).
CREATE TABLE notification_email_settings (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('task_assigned', 'task_comment', 'mention',
                                     'quotation_accepted', 'quotation_declined', 'invoice_paid')),
  email boolean NOT NULL,
  PRIMARY KEY (user_id, kind)
);
-- Whoever notifies a colleague reads the colleague's choice; only the user changes theirs.
ALTER TABLE notification_email_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_colleagues ON notification_email_settings FOR SELECT
  USING (user_id = app_user_id() OR EXISTS (
    SELECT 1 FROM memberships m WHERE m.org_id = app_org_id() AND m.user_id = notification_email_settings.user_id));
CREATE POLICY own_insert ON notification_email_settings FOR INSERT WITH CHECK (user_id = app_user_id());
CREATE POLICY own_update ON notification_email_settings FOR UPDATE USING (user_id = app_user_id());
CREATE POLICY own_delete ON notification_email_settings FOR DELETE USING (user_id = app_user_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON notification_email_settings TO clienthub_tenant;

-- An invitation is the invitee's notification in whichever organization they are working:
-- it belongs to the inviting organization but is shown to its addressee everywhere.
DROP POLICY notifications_own ON notifications;
DROP POLICY notifications_own_update ON notifications;
CREATE POLICY notifications_own ON notifications FOR SELECT
  USING (user_id = app_user_id() AND (org_id = app_org_id() OR kind = 'invitation'));
CREATE POLICY notifications_own_update ON notifications FOR UPDATE
  USING (user_id = app_user_id() AND (org_id = app_org_id() OR kind = 'invitation'));
-- Marking read is the only change.
REVOKE UPDATE ON notifications FROM clienthub_tenant;
GRANT UPDATE (read_at) ON notifications TO clienthub_tenant;
-- An invitation notice is made only with a real invitation of this organization, to its invitee.
DROP POLICY notifications_create ON notifications;
CREATE POLICY notifications_create ON notifications FOR INSERT
  WITH CHECK (org_id = app_org_id() AND (kind <> 'invitation' OR EXISTS (
    SELECT 1 FROM invitations i
    WHERE i.org_id = app_org_id() AND i.id = notifications.entity_id AND i.invitee_id = notifications.user_id)));
