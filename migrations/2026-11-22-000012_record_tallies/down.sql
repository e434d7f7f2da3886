CREATE OR REPLACE FUNCTION org_usage(org uuid, OUT members bigint, OUT clients bigint, OUT projects bigint, OUT storage bigint)
LANGUAGE sql STABLE AS $$
  SELECT (SELECT count(*) FROM memberships m JOIN roles r ON r.org_id = m.org_id AND r.id = m.role_id
          WHERE m.org_id = org AND m.status <> 'banned' AND r.key IS DISTINCT FROM 'client')
         + (SELECT count(*) FROM invitations i
            WHERE i.org_id = org AND i.status = 'pending' AND i.client_id IS NULL AND i.expires_at > now()),
         (SELECT count(*) FROM clients c WHERE c.org_id = org),
         (SELECT count(*) FROM projects p WHERE p.org_id = org),
         (SELECT COALESCE(sum(f.size_bytes), 0)::bigint FROM files f WHERE f.org_id = org)
$$;
DROP TRIGGER clients_tally_insert ON clients;
DROP TRIGGER clients_tally_delete ON clients;
DROP TRIGGER projects_tally_insert ON projects;
DROP TRIGGER projects_tally_update ON projects;
DROP TRIGGER projects_tally_delete ON projects;
DROP FUNCTION clients_tally();
DROP FUNCTION projects_tally();
DROP TABLE client_tallies;
DROP TABLE project_tallies;
