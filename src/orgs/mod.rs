//! Organizations (tenants): provisioning a new one with its built-in roles.

pub mod queries;
