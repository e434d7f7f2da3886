-- Failed sign-ins, counted here rather than in one process's memory so that the limit
-- holds however many instances serve the app. Read and written by the app's own role
-- only (never inside a tenant transaction); swept after a day by the job worker.
CREATE TABLE login_failures (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL CHECK (length(email) <= 254),
  ip text CHECK (length(ip) <= 64),
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (email, at);
CREATE INDEX login_failures_ip_idx ON login_failures (ip, at) WHERE ip IS NOT NULL;
ALTER TABLE login_failures ENABLE ROW LEVEL SECURITY;

-- A mail server down for an hour loses nothing: after 7 failures (30 s, 1, 2, 4, 8, 16
-- and 32 min apart: 63.5 min) a job is retried hourly, up to 12 attempts (about 5.5 h).
ALTER TABLE jobs ALTER COLUMN max_attempts SET DEFAULT 12;
