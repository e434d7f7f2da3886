//! The time-entry form: what was typed, and the checked values it becomes. Whether the
//! task belongs to the organization is checked against the database by the handler.

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::duration;
use crate::db::ids::TaskId;
use crate::web::form::FieldErrors;

pub const NOTE_MAX: usize = 1000;
/// How far ahead time may be logged (a plan for tomorrow, not next month).
const MAX_DAYS_AHEAD: i64 = 7;

pub const TASK_MESSAGE: &str = "Choose a task from the list.";

#[derive(Deserialize, Default, Clone, Debug)]
pub struct EntryForm {
    #[serde(default)]
    pub task_id: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub minutes: String,
    #[serde(default)]
    pub note: String,
    /// A checkbox: present ("on") when ticked, absent when not.
    #[serde(default)]
    pub billable: Option<String>,
    /// Where to go afterwards (checked by `safe_return_to`).
    #[serde(default)]
    pub return_to: String,
}

impl EntryForm {
    /// A blank form for a new entry: today, billable.
    pub fn blank(today: NaiveDate) -> EntryForm {
        EntryForm { date: today.to_string(), billable: Some("on".into()), ..Default::default() }
    }

    pub fn is_billable(&self) -> bool {
        self.billable.is_some()
    }
}

/// The fields every entry has, checked.
#[derive(Debug, Clone)]
pub struct ValidFields {
    pub date: NaiveDate,
    pub minutes: i32,
    pub note: String,
    pub billable: bool,
}

/// Checks date, minutes and note; each problem is reported next to its field.
pub fn validate_fields(form: &EntryForm, today: NaiveDate, errors: &mut FieldErrors) -> Option<ValidFields> {
    let date = match parse_date(&form.date, today) {
        Ok(d) => Some(d),
        Err(message) => {
            errors.add("date", message);
            None
        }
    };
    let minutes = match duration::parse_minutes(&form.minutes) {
        Ok(m) => Some(m),
        Err(e) => {
            errors.add("minutes", e.message());
            None
        }
    };
    let note = form.note.trim().to_string();
    if note.chars().count() > NOTE_MAX {
        errors.add("note", format!("Keep the note under {NOTE_MAX} characters (it has {}).", note.chars().count()));
    }
    Some(ValidFields { date: date?, minutes: minutes?, note, billable: form.is_billable() })
        .filter(|_| errors.is_empty())
}

/// The task id as typed; anything unreadable is reported as the same choice-from-the-list
/// message as an unknown task, so the answer never tells whether an id exists elsewhere.
pub fn parse_task(form: &EntryForm) -> Option<TaskId> {
    form.task_id.trim().parse().ok()
}

fn parse_date(raw: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("Enter the day you worked.".into());
    }
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        let shaped = raw.len() == 10
            && raw.chars().enumerate().all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() });
        if shaped {
            "There is no such day in the calendar. Check the day and the month.".to_string()
        } else {
            "Enter the date as year-month-day, for example 2026-11-16.".to_string()
        }
    })?;
    if (date - today).num_days() > MAX_DAYS_AHEAD {
        return Err(format!("That is too far ahead. Time can be logged up to {MAX_DAYS_AHEAD} days from today."));
    }
    if date.year() < 2000 {
        return Err("That date is too far in the past.".into());
    }
    Ok(date)
}

/// Where a form may send the person back to: only this site's task and time pages.
/// Anything else (another site, `//evil`, a header trick) falls back to /time.
pub fn safe_return_to(raw: &str) -> Option<&str> {
    let local = raw.starts_with("/tasks/") || raw.starts_with("/time");
    let plain = raw.chars().all(|c| c.is_ascii_graphic()) && !raw.contains("//") && !raw.contains('\\');
    (local && plain && raw.len() <= 300).then_some(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()
    }

    fn form(date: &str, minutes: &str, note: &str) -> EntryForm {
        EntryForm { date: date.into(), minutes: minutes.into(), note: note.into(), ..EntryForm::blank(today()) }
    }

    #[test]
    fn a_good_entry_passes() {
        let mut errors = FieldErrors::default();
        let v = validate_fields(&form("2026-11-18", "1h 30m", "  design review "), today(), &mut errors).unwrap();
        assert_eq!((v.minutes, v.note.as_str(), v.billable), (90, "design review", true));
    }

    #[test]
    fn each_bad_field_gets_its_own_message() {
        let mut errors = FieldErrors::default();
        assert!(validate_fields(&form("2026-02-30", "0", &"x".repeat(1001)), today(), &mut errors).is_none());
        assert!(errors.get("date").unwrap().contains("no such day"));
        assert!(errors.get("minutes").unwrap().contains("between 1 minute and 24 hours"));
        assert!(errors.get("note").unwrap().contains("1000"));
        let mut errors = FieldErrors::default();
        validate_fields(&form("2027-01-30", "90", ""), today(), &mut errors);
        assert!(errors.get("date").unwrap().contains("too far ahead"));
        let mut errors = FieldErrors::default();
        validate_fields(&form("next tuesday", "90", ""), today(), &mut errors);
        assert!(errors.get("date").unwrap().contains("year-month-day"));
    }

    #[test]
    fn only_local_task_and_time_pages_are_returned_to() {
        assert_eq!(safe_return_to("/tasks/123"), Some("/tasks/123"));
        assert_eq!(safe_return_to("/time?week=2026-11-16"), Some("/time?week=2026-11-16"));
        assert_eq!(safe_return_to("https://evil.example/tasks/"), None);
        assert_eq!(safe_return_to("//evil.example"), None);
        assert_eq!(safe_return_to("/tasks//evil.example"), None);
        assert_eq!(safe_return_to("/tasks/\\evil"), None);
        assert_eq!(safe_return_to("/tasks/1\r\nSet-Cookie: x"), None);
        assert_eq!(safe_return_to("/dashboard"), None);
        assert_eq!(safe_return_to(""), None);
    }
}
