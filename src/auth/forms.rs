//! Sign-up, login and password forms: raw fields in, validated values or
//! per-field messages out (parse, don't validate).

use serde::Deserialize;

use super::password;
pub use crate::web::form::FieldErrors;

/// A lower-cased address with a local part, an @ and a dotted domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, &'static str> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("Enter your email address.");
        }
        if email.len() > 254 {
            return Err("That email address is too long.");
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err("Enter an email address like name@example.com.");
        };
        let domain_ok =
            domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@');
        // No characters that make "name <address>" or lists out of one address.
        let odd = |c: char| c.is_whitespace() || c.is_control() || "<>\"(),;:[]\\".contains(c);
        if local.is_empty() || !domain_ok || email.chars().any(odd) {
            return Err("Enter an email address like name@example.com.");
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn required_text(raw: &str, max: usize, empty: &'static str, too_long: &'static str) -> Result<String, &'static str> {
    let value = raw.trim();
    if value.is_empty() {
        Err(empty)
    } else if value.chars().count() > max {
        Err(too_long)
    } else if value.chars().any(|c| c.is_control()) {
        Err("Use letters, numbers and punctuation only.")
    } else {
        Ok(value.to_string())
    }
}

pub fn new_password(raw: &str) -> Result<String, String> {
    let length = raw.chars().count();
    if length < password::MIN_LENGTH {
        Err(format!("Use at least {} characters.", password::MIN_LENGTH))
    } else if length > password::MAX_LENGTH {
        Err(format!("Use at most {} characters.", password::MAX_LENGTH))
    } else {
        Ok(raw.to_string())
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub org_name: String,
}

pub struct Signup {
    pub name: String,
    pub email: Email,
    pub password: String,
    pub org_name: String,
}

impl SignupForm {
    pub fn validate(&self) -> Result<Signup, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = required_text(&self.name, 120, "Enter your name.", "Use at most 120 characters.")
            .map_err(|e| errors.add("name", e));
        let email = Email::parse(&self.email).map_err(|e| errors.add("email", e));
        let password = new_password(&self.password).map_err(|e| errors.add("password", e));
        let org_name =
            required_text(&self.org_name, 120, "Enter your organization's name.", "Use at most 120 characters.")
                .map_err(|e| errors.add("org_name", e));
        match (name, email, password, org_name) {
            (Ok(name), Ok(email), Ok(password), Ok(org_name)) => Ok(Signup { name, email, password, org_name }),
            _ => Err(errors),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub next: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct PasswordChangeForm {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub password: String,
}

/// Where to go after login: only a path on this site, never another host.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_need_an_at_and_a_domain() {
        assert_eq!(Email::parse("  Ana@Example.COM ").unwrap().as_str(), "ana@example.com");
        assert!(Email::parse("ana.example.com").is_err());
        assert!(Email::parse("ana@localhost").is_err());
        assert!(Email::parse("@example.com").is_err());
        assert!(Email::parse("a na@example.com").is_err());
        assert!(Email::parse("x<victim@d.com>").is_err());
        assert!(Email::parse("a@b.com,c@d.com").is_err());
        assert!(Email::parse("").is_err());
    }

    #[test]
    fn signup_reports_every_bad_field_at_once() {
        let form = SignupForm { name: " ".into(), email: "nope".into(), password: "short".into(), org_name: "".into() };
        let errors = form.validate().err().unwrap();
        for field in ["name", "email", "password", "org_name"] {
            assert!(errors.get(field).is_some(), "{field} should have an error");
        }
    }

    #[test]
    fn next_must_stay_on_this_site() {
        assert_eq!(safe_next("/profile"), Some("/profile"));
        assert_eq!(safe_next("//evil.example"), None);
        assert_eq!(safe_next("https://evil.example"), None);
        assert_eq!(safe_next("/\\evil.example"), None);
    }
}
