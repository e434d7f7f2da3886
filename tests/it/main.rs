//! Integration tests: one binary, a real PostgreSQL (a fresh database per test) and
//! real HTTP against a real server. Browser tests drive headless Chromium.

mod auth;
mod bad_input;
mod browser;
mod plumbing;
mod rls;
mod routes;
mod schema;
mod support;
