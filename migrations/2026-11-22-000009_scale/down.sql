ALTER TABLE jobs ALTER COLUMN max_attempts SET DEFAULT 8;
DROP TABLE login_failures;
