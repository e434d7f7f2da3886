DROP POLICY notifications_own ON notifications;
DROP POLICY notifications_own_update ON notifications;
CREATE POLICY notifications_own ON notifications FOR SELECT
  USING (org_id = app_org_id() AND user_id = app_user_id());
CREATE POLICY notifications_own_update ON notifications FOR UPDATE
  USING (org_id = app_org_id() AND user_id = app_user_id());
DROP TABLE notification_email_settings;
DROP TABLE chat_messages;
DROP TABLE chat_channels;
