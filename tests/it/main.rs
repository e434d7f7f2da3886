//! Integration tests: one binary, a real PostgreSQL (a fresh database per test) and
//! real HTTP against a real server. Browser tests drive headless Chromium.

#![expect(clippy::unwrap_used, reason = "in tests a failed unwrap is a failed test, with its location")]

mod audit;
mod auth;
mod bad_input;
mod browser;
mod chat;
mod files;
mod isolation;
mod jobs;
mod money;
mod notifications;
mod orgs;
mod platform;
mod plumbing;
mod portal;
mod portal_links;
mod profile;
mod queries;
mod reset;
mod rls;
mod routes;
mod schema;
mod smtp;
mod support;
mod team;
mod time_tracking;
mod two_factor;
mod work;
