DROP TABLE notifications, files, project_messages, time_entries, task_activity, task_comments, tasks,
  project_members, projects CASCADE;
DROP FUNCTION files_track_storage();
ALTER TABLE organizations DROP COLUMN storage_bytes;
ALTER TABLE invitations DROP CONSTRAINT IF EXISTS invitations_org_id_client_id_fkey;
ALTER TABLE memberships DROP CONSTRAINT IF EXISTS memberships_org_id_client_id_fkey;
ALTER TABLE memberships DROP COLUMN hourly_rate;
DROP TABLE clients CASCADE;
