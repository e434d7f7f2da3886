//! Parsing typed values out of raw form text, one field at a time: each parser
//! returns the value or records a message for that field (parse, don't validate).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::web::form::FieldErrors;

/// Trimmed text of at most `max` characters; `required` names what to ask for when empty.
pub fn text(errors: &mut FieldErrors, field: &'static str, raw: &str, max: usize, required: Option<&str>) -> String {
    let value = raw.trim();
    if value.is_empty() {
        if let Some(what) = required {
            errors.add(field, format!("Enter {what}."));
        }
    } else if value.chars().count() > max {
        errors.add(field, format!("Use at most {max} characters."));
    } else if value.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        errors.add(field, "Use letters, numbers and punctuation only.");
    }
    value.replace("\r\n", "\n")
}

/// A single-line value: like `text`, but line breaks are refused.
pub fn line(errors: &mut FieldErrors, field: &'static str, raw: &str, max: usize, required: Option<&str>) -> String {
    let value = text(errors, field, raw, max, required);
    if value.contains('\n') {
        errors.add(field, "Keep this on one line.");
    }
    value
}

/// An optional date in the form's YYYY-MM-DD; impossible dates (2026-02-30) are refused.
pub fn date(errors: &mut FieldErrors, field: &'static str, raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    parse_date(raw).map_err(|message| errors.add(field, message)).ok()
}

/// A YYYY-MM-DD date in the years 2000 to 2100. chrono alone reads "-262000-01-01" or
/// "+99999-12-31", which no page needs and which make ranges of millions of weeks.
pub fn parse_date(raw: &str) -> Result<NaiveDate, &'static str> {
    match NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
        Ok(d) if (2000..=2100).contains(&chrono::Datelike::year(&d)) => Ok(d),
        Ok(_) => Err("Choose a date between the years 2000 and 2100."),
        Err(_) => Err("Enter a real date, like 2026-03-31."),
    }
}

/// Both dates given and in the wrong order: the message goes on the later field.
pub fn date_order(errors: &mut FieldErrors, field: &'static str, start: Option<NaiveDate>, end: Option<NaiveDate>) {
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        errors.add(field, "This date is before the start date.");
    }
}

/// A typed number without its thousands separators: "12,500.50" and "12 500.50" read
/// as 12500.50. A comma anywhere else is refused rather than guessed: "12,50" is twelve
/// and a half in much of Europe, and must not become 1250.
pub fn ungrouped(raw: &str) -> Result<String, &'static str> {
    let text: String = raw.trim().chars().filter(|c| *c != ' ' && *c != '\u{a0}').collect();
    if !text.contains(',') {
        return Ok(text);
    }
    let digits = text.strip_prefix('-').unwrap_or(&text);
    let whole = digits.split('.').next().unwrap_or_default();
    let mut groups = whole.split(',');
    let first_ok = groups.next().is_some_and(|g| (1..=3).contains(&g.len()) && g.chars().all(|c| c.is_ascii_digit()));
    if first_ok && groups.all(|g| g.len() == 3 && g.chars().all(|c| c.is_ascii_digit())) {
        Ok(text.replace(',', ""))
    } else {
        Err("Use a dot for decimals, like 12.50.")
    }
}

/// An optional non-negative amount with at most `scale` decimals and below `max`.
pub fn amount(errors: &mut FieldErrors, field: &'static str, raw: &str, scale: u32, max: Decimal) -> Option<Decimal> {
    let raw = match ungrouped(raw) {
        Ok(text) => text,
        Err(message) => {
            errors.add(field, message);
            return None;
        }
    };
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<Decimal>() {
        Ok(d) if d.is_sign_negative() && !d.is_zero() => {
            errors.add(field, "Use zero or a positive number.");
            None
        }
        Ok(d) if d.normalize().scale() > scale => {
            errors.add(field, format!("Use at most {scale} decimal places."));
            None
        }
        Ok(d) if d >= max => {
            errors.add(field, format!("Use a number below {max}."));
            None
        }
        Ok(d) => Some(d.normalize()),
        Err(_) => {
            errors.add(field, "Enter a number, like 1500 or 1500.50.");
            None
        }
    }
}

/// One of `allowed`; anything else is refused rather than guessed.
pub fn choice(errors: &mut FieldErrors, field: &'static str, raw: &str, allowed: &[&str]) -> String {
    let value = raw.trim();
    if allowed.contains(&value) {
        value.to_string()
    } else {
        errors.add(field, "Choose one of the options in the list.");
        allowed.first().map(|s| s.to_string()).unwrap_or_default()
    }
}

/// An optional id; a malformed one gets the same message as one that matches nothing.
pub fn optional_id<T: std::str::FromStr>(errors: &mut FieldErrors, field: &'static str, raw: &str) -> Option<T> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    raw.parse().ok().or_else(|| {
        errors.add(field, "Choose one of the options in the list.");
        None
    })
}

/// An HTML checkbox: present (any value) means checked.
pub fn checked(raw: &Option<String>) -> bool {
    raw.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_and_reversed_dates_are_refused() {
        let mut errors = FieldErrors::default();
        assert_eq!(date(&mut errors, "due_date", "2026-02-30"), None);
        assert!(errors.get("due_date").is_some());
        let mut errors = FieldErrors::default();
        let start = date(&mut errors, "start_date", "2026-03-10");
        let end = date(&mut errors, "due_date", "2026-03-01");
        date_order(&mut errors, "due_date", start, end);
        assert_eq!(errors.get("due_date"), Some("This date is before the start date."));
    }

    #[test]
    fn amounts_are_exact_non_negative_and_limited_in_scale() {
        let mut errors = FieldErrors::default();
        assert_eq!(
            amount(&mut errors, "budget", "1,500.50", 2, Decimal::from(1_000_000)),
            Some(Decimal::new(150050, 2))
        );
        assert!(errors.is_empty());
        assert_eq!(amount(&mut errors, "budget", "-1", 2, Decimal::from(1_000_000)), None);
        assert_eq!(errors.get("budget"), Some("Use zero or a positive number."));
        let mut errors = FieldErrors::default();
        assert_eq!(amount(&mut errors, "budget", "1.005", 2, Decimal::from(1_000_000)), None);
        assert!(errors.get("budget").is_some());
    }

    #[test]
    fn commas_are_thousands_separators_or_refused() {
        assert_eq!(ungrouped("12,500.50"), Ok("12500.50".into()));
        assert_eq!(ungrouped("1 250"), Ok("1250".into()));
        assert_eq!(ungrouped("-1,000"), Ok("-1000".into()));
        assert!(ungrouped("12,50").is_err());
        assert!(ungrouped("1,5").is_err());
        assert!(ungrouped("1,2345").is_err());
        let mut errors = FieldErrors::default();
        assert_eq!(amount(&mut errors, "amount", "100,50", 2, Decimal::from(1000)), None);
        assert_eq!(errors.get("amount"), Some("Use a dot for decimals, like 12.50."));
    }

    #[test]
    fn choices_outside_the_list_are_refused() {
        let mut errors = FieldErrors::default();
        choice(&mut errors, "status", "archived", &["todo", "done"]);
        assert!(errors.get("status").is_some());
    }
}
