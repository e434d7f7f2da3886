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
pub mod throttle;
pub mod tokens;
pub mod totp;
pub mod two_factor;

use crate::web::routes::{Access, routes};
use handlers::*;

routes! {
    GET "/signup" => Access::Public, signup_page;
    POST "/signup" => Access::Public, signup;
    GET "/login" => Access::Public, login_page;
    POST "/login" => Access::Public, login;
    GET "/login/two-factor" => Access::Public, two_factor::challenge;
    POST "/login/two-factor" => Access::Public, two_factor::answer;
    POST "/logout" => Access::SignedIn, logout;
    GET "/password/forgot" => Access::Public, reset::forgot_page;
    POST "/password/forgot" => Access::Public, reset::forgot;
    GET "/password/reset/{token}" => Access::Public, reset::reset_page;
    POST "/password/reset/{token}" => Access::Public, reset::reset;
    GET "/profile" => Access::SignedIn, profile;
    POST "/profile" => Access::SignedIn, account::update;
    GET "/profile/email/confirm/{token}" => Access::Public, account::confirm_email;
    POST "/profile/password" => Access::SignedIn, change_password;
    GET "/profile/two-factor" => Access::SignedIn, two_factor::show;
    POST "/profile/two-factor/enable" => Access::SignedIn, two_factor::enable;
    POST "/profile/two-factor/disable" => Access::SignedIn, two_factor::disable;
    POST "/profile/two-factor/recovery-codes" => Access::SignedIn, two_factor::regenerate_codes;
    POST "/profile/sessions/{id}/revoke" => Access::SignedIn, revoke_session;
    POST "/profile/sessions/revoke-others" => Access::SignedIn, revoke_other_sessions;
}
