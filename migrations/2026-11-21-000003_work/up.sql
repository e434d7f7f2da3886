-- Work: clients, projects and their members, tasks with comments and activity,
-- time entries, project messages, files, and notifications (shown from issue 6).
-- Same rules as before: org_id on every row, composite foreign keys so a row can
-- never point at another organization's row, row-level security on every table.

CREATE TABLE clients (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
  company text NOT NULL DEFAULT '' CHECK (length(company) <= 120),
  email text NOT NULL DEFAULT '' CHECK (length(email) <= 254),
  phone text NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
  address text NOT NULL DEFAULT '' CHECK (length(address) <= 500),
  tax_id text NOT NULL DEFAULT '' CHECK (length(tax_id) <= 60),
  notes text NOT NULL DEFAULT '' CHECK (length(notes) <= 5000),
  search tsvector GENERATED ALWAYS AS (
    -- The address both whole and split at @ and dots, so "ana@acme" finds ana@acme.example.
    to_tsvector('simple', name || ' ' || company || ' ' || email || ' ' || translate(email, '@.', '  ')
                          || ' ' || phone || ' ' || tax_id)) STORED,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id)
);
-- Keyset pagination: each sortable column with id as the tie-breaker.
CREATE INDEX clients_name_idx ON clients (org_id, lower(name), id);
CREATE INDEX clients_company_idx ON clients (org_id, lower(company), id);
CREATE INDEX clients_email_idx ON clients (org_id, lower(email), id);
CREATE INDEX clients_search_idx ON clients USING gin (search);

ALTER TABLE memberships ADD COLUMN hourly_rate numeric(10, 2) CHECK (hourly_rate >= 0);
-- A client-role membership belongs to one client; the client is not deleted under it.
ALTER TABLE memberships ADD FOREIGN KEY (org_id, client_id) REFERENCES clients (org_id, id);
ALTER TABLE invitations ADD FOREIGN KEY (org_id, client_id) REFERENCES clients (org_id, id) ON DELETE CASCADE;

CREATE TABLE projects (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  client_id uuid,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 160),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 10000),
  status text NOT NULL DEFAULT 'active'
    CHECK (status IN ('planned', 'active', 'on_hold', 'completed', 'cancelled')),
  start_date date,
  due_date date,
  budget numeric(14, 2) CHECK (budget >= 0),
  -- Overrides each member's default hourly rate on this project.
  hourly_rate numeric(10, 2) CHECK (hourly_rate >= 0),
  client_visible boolean NOT NULL DEFAULT false,
  search tsvector GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || description)) STORED,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  CHECK (due_date IS NULL OR start_date IS NULL OR due_date >= start_date),
  FOREIGN KEY (org_id, client_id) REFERENCES clients (org_id, id) ON DELETE SET NULL (client_id)
);
CREATE INDEX projects_org_idx ON projects (org_id, id DESC);
CREATE INDEX projects_client_idx ON projects (org_id, client_id);
CREATE INDEX projects_search_idx ON projects USING gin (search);

CREATE TABLE project_members (
  org_id uuid NOT NULL,
  project_id uuid NOT NULL,
  user_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, user_id),
  FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE
);
CREATE INDEX project_members_user_idx ON project_members (org_id, user_id);

CREATE TABLE tasks (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  project_id uuid NOT NULL,
  -- Subtasks are one level deep (checked by the application under the parent's lock).
  parent_id uuid,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 10000),
  status text NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'in_progress', 'review', 'done')),
  priority text NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
  assignee_id uuid,
  due_date date,
  estimate_hours numeric(8, 2) CHECK (estimate_hours >= 0),
  -- Order within the board column (project, status); dense from 0 for top-level tasks.
  position integer NOT NULL DEFAULT 0 CHECK (position >= 0),
  client_visible boolean NOT NULL DEFAULT false,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  completed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (org_id, project_id, id),
  FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE,
  -- A parent in the same organization and the same project.
  FOREIGN KEY (org_id, project_id, parent_id) REFERENCES tasks (org_id, project_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, assignee_id) REFERENCES memberships (org_id, user_id) ON DELETE SET NULL (assignee_id),
  CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX tasks_board_idx ON tasks (org_id, project_id, status, position) WHERE parent_id IS NULL;
CREATE INDEX tasks_parent_idx ON tasks (org_id, parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX tasks_list_idx ON tasks (org_id, id DESC);
CREATE INDEX tasks_project_idx ON tasks (org_id, project_id, id DESC);
CREATE INDEX tasks_assignee_idx ON tasks (org_id, assignee_id, id DESC);
CREATE INDEX tasks_due_idx ON tasks (org_id, due_date) WHERE status <> 'done';

CREATE TABLE task_comments (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  task_id uuid NOT NULL,
  author_id uuid REFERENCES users (id) ON DELETE SET NULL,
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (org_id, task_id) REFERENCES tasks (org_id, id) ON DELETE CASCADE
);
CREATE INDEX task_comments_task_idx ON task_comments (org_id, task_id, created_at);

-- Who changed which field of a task from what to what.
CREATE TABLE task_activity (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  task_id uuid NOT NULL,
  actor_id uuid REFERENCES users (id) ON DELETE SET NULL,
  field text NOT NULL,
  old_value text,
  new_value text,
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (org_id, task_id) REFERENCES tasks (org_id, id) ON DELETE CASCADE
);
CREATE INDEX task_activity_task_idx ON task_activity (org_id, task_id, created_at);

CREATE TABLE time_entries (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  task_id uuid NOT NULL,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  entry_date date NOT NULL,
  -- NULL while the timer runs (started_at is then set).
  minutes integer CHECK (minutes BETWEEN 1 AND 1440),
  started_at timestamptz,
  note text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
  billable boolean NOT NULL DEFAULT true,
  hourly_rate numeric(10, 2) CHECK (hourly_rate >= 0),
  -- Set when an issued invoice bills this entry (the money issue).
  invoice_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, task_id) REFERENCES tasks (org_id, id) ON DELETE CASCADE,
  CHECK (minutes IS NOT NULL OR started_at IS NOT NULL)
);
-- One running timer per person.
CREATE UNIQUE INDEX time_entries_running_key ON time_entries (user_id) WHERE minutes IS NULL;
CREATE INDEX time_entries_user_idx ON time_entries (org_id, user_id, entry_date);
CREATE INDEX time_entries_task_idx ON time_entries (org_id, task_id);

CREATE TABLE project_messages (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  project_id uuid NOT NULL,
  author_id uuid REFERENCES users (id) ON DELETE SET NULL,
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE
);
CREATE INDEX project_messages_project_idx ON project_messages (org_id, project_id, created_at);

CREATE TABLE files (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  project_id uuid,
  uploaded_by uuid REFERENCES users (id) ON DELETE SET NULL,
  -- As the uploader named it: shown, never used as a path.
  original_name text NOT NULL CHECK (length(original_name) BETWEEN 1 AND 255),
  content_type text NOT NULL,
  size_bytes bigint NOT NULL CHECK (size_bytes > 0),
  -- Where the storage backend keeps the bytes (generated, never user input).
  storage_key text NOT NULL UNIQUE,
  sha256 bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE SET NULL (project_id)
);
CREATE INDEX files_org_idx ON files (org_id, id DESC);
CREATE INDEX files_project_idx ON files (org_id, project_id, id DESC);

-- Storage used per organization, kept by the database itself so no code path can forget it.
ALTER TABLE organizations ADD COLUMN storage_bytes bigint NOT NULL DEFAULT 0;
CREATE FUNCTION files_track_storage() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE organizations SET storage_bytes = storage_bytes + NEW.size_bytes WHERE id = NEW.org_id;
  ELSE
    UPDATE organizations SET storage_bytes = greatest(storage_bytes - OLD.size_bytes, 0) WHERE id = OLD.org_id;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER files_track_storage AFTER INSERT OR DELETE ON files
  FOR EACH ROW EXECUTE FUNCTION files_track_storage();

-- Stored now (mentions, assignments); the bell and list arrive with issue 6.
CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  actor_id uuid REFERENCES users (id) ON DELETE SET NULL,
  kind text NOT NULL CHECK (kind IN ('task_assigned', 'task_comment', 'mention', 'invitation',
                                     'quotation_accepted', 'quotation_declined', 'invoice_paid')),
  title text NOT NULL,
  link text NOT NULL CHECK (link ~ '^/'),
  entity_type text,
  entity_id uuid,
  read_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC);

ALTER TABLE clients ENABLE ROW LEVEL SECURITY;
ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE project_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE task_comments ENABLE ROW LEVEL SECURITY;
ALTER TABLE task_activity ENABLE ROW LEVEL SECURITY;
ALTER TABLE time_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE project_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE files ENABLE ROW LEVEL SECURITY;
ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['clients', 'projects', 'project_members', 'tasks', 'task_comments', 'task_activity',
                           'time_entries', 'project_messages', 'files', 'notifications'] LOOP
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (org_id = app_org_id()) WITH CHECK (org_id = app_org_id())', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO clienthub_tenant', t);
  END LOOP;
END
$$;
GRANT SELECT (storage_bytes) ON organizations TO clienthub_tenant;
-- Activity history is append-only.
REVOKE UPDATE, DELETE ON task_activity FROM clienthub_tenant;
