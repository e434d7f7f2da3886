DROP POLICY IF EXISTS visible_users ON users;
DROP TABLE IF EXISTS sessions;
DROP TABLE IF EXISTS audit_logs;
DROP TABLE IF EXISTS memberships;
DROP TABLE IF EXISTS role_permissions;
DROP TABLE IF EXISTS roles;
DROP TABLE IF EXISTS users;
DROP TABLE IF EXISTS organizations;
DROP FUNCTION IF EXISTS app_user_id();
DROP FUNCTION IF EXISTS app_org_id();
REVOKE USAGE ON SCHEMA public FROM clienthub_tenant;
-- The clienthub_tenant role is cluster-wide and may serve other databases; it is kept.
