DROP POLICY notifications_own ON notifications;
DROP POLICY notifications_own_update ON notifications;
CREATE POLICY notifications_own ON notifications FOR SELECT
  USING (org_id = app_org_id() AND user_id = app_user_id());
CREATE POLICY notifications_own_update ON notifications FOR UPDATE
  USING (org_id = app_org_id() AND user_id = app_user_id());
DROP POLICY notifications_create ON notifications;
CREATE POLICY notifications_create ON notifications FOR INSERT WITH CHECK (org_id = app_org_id());
GRANT UPDATE ON notifications TO clienthub_tenant;
ALTER TABLE portal_tokens DROP COLUMN email;
DROP TABLE notification_email_settings;
DROP TABLE chat_messages;
DROP TABLE chat_channels;
