//! Organization queries. Each runs inside the tenant transaction of the organization.

use diesel::pg::PgConnection;
use diesel::prelude::*;

use crate::db::ids::{MembershipId, OrgId, RoleId, UserId};
use crate::db::schema::{memberships, organizations, role_permissions, roles};
use crate::team::roles::BuiltinRole;

#[derive(Insertable)]
#[diesel(table_name = organizations)]
struct NewOrganization<'a> {
    id: OrgId,
    name: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = roles)]
struct NewRole<'a> {
    id: RoleId,
    org_id: OrgId,
    key: Option<&'a str>,
    name: &'a str,
    power: i32,
}

#[derive(Insertable)]
#[diesel(table_name = role_permissions)]
struct NewRolePermission<'a> {
    org_id: OrgId,
    role_id: RoleId,
    permission: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = memberships)]
pub struct NewMembership {
    pub id: MembershipId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub role_id: RoleId,
}

/// Creates the organization, its four built-in roles with their default permissions,
/// and the Owner membership of `owner`. Runs in the new organization's tenant
/// transaction, so it is all or nothing.
pub fn provision(conn: &mut PgConnection, org_id: OrgId, name: &str, owner: UserId) -> QueryResult<()> {
    diesel::insert_into(organizations::table).values(NewOrganization { id: org_id, name }).execute(conn)?;
    let mut owner_role = None;
    for builtin in BuiltinRole::ALL {
        let role_id = RoleId::new();
        diesel::insert_into(roles::table)
            .values(NewRole {
                id: role_id,
                org_id,
                key: Some(builtin.key()),
                name: builtin.name(),
                power: builtin.power(),
            })
            .execute(conn)?;
        let permissions: Vec<_> = builtin
            .default_permissions()
            .iter()
            .map(|p| NewRolePermission { org_id, role_id, permission: p.key() })
            .collect();
        diesel::insert_into(role_permissions::table).values(&permissions).execute(conn)?;
        if builtin == BuiltinRole::Owner {
            owner_role = Some(role_id);
        }
    }
    let role_id = owner_role.ok_or(diesel::result::Error::NotFound)?;
    add_member(conn, org_id, owner, role_id)
}

pub fn add_member(conn: &mut PgConnection, org_id: OrgId, user_id: UserId, role_id: RoleId) -> QueryResult<()> {
    diesel::insert_into(memberships::table)
        .values(NewMembership { id: MembershipId::new(), org_id, user_id, role_id })
        .execute(conn)
        .map(|_| ())
}

/// The id of a built-in role of the organization.
pub fn builtin_role_id(conn: &mut PgConnection, org_id: OrgId, role: BuiltinRole) -> QueryResult<RoleId> {
    roles::table.filter(roles::org_id.eq(org_id)).filter(roles::key.eq(role.key())).select(roles::id).first(conn)
}
