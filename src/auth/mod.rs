//! Accounts: sign-up, login, logout, the profile's security section (password,
//! sessions), and the PostgreSQL session store behind them.

pub mod account;
pub mod display_id;
pub mod forms;
mod handlers;
pub mod password;
pub mod queries;
pub mod reset;
pub mod session_store;
pub mod tokens;

use crate::web::routes::{Access, routes};
use handlers::*;

routes! {
    GET "/signup" => Access::Public, signup_page;
    POST "/signup" => Access::Public, signup;
    GET "/login" => Access::Public, login_page;
    POST "/login" => Access::Public, login;
    POST "/logout" => Access::SignedIn, logout;
    GET "/password/forgot" => Access::Public, reset::forgot_page;
    POST "/password/forgot" => Access::Public, reset::forgot;
    GET "/password/reset/{token}" => Access::Public, reset::reset_page;
    POST "/password/reset/{token}" => Access::Public, reset::reset;
    GET "/profile" => Access::SignedIn, profile;
    POST "/profile" => Access::SignedIn, account::update;
    GET "/profile/email/confirm/{token}" => Access::Public, account::confirm_email;
    POST "/profile/password" => Access::SignedIn, change_password;
    POST "/profile/sessions/{id}/revoke" => Access::SignedIn, revoke_session;
    POST "/profile/sessions/revoke-others" => Access::SignedIn, revoke_other_sessions;
}
