//! Times as people read them.

use chrono::{DateTime, Utc};

/// "just now", "5 minutes ago", "3 days ago", then the date.
pub fn ago(at: DateTime<Utc>) -> String {
    let secs = (Utc::now() - at).num_seconds().max(0);
    match secs {
        0..=59 => "just now".into(),
        60..=3599 => plural(secs / 60, "minute"),
        3600..=86_399 => plural(secs / 3600, "hour"),
        86_400..=2_591_999 => plural(secs / 86_400, "day"),
        _ => at.format("%e %b %Y").to_string().trim().to_string(),
    }
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 { format!("1 {unit} ago") } else { format!("{n} {unit}s ago") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_times_read_naturally() {
        let now = Utc::now();
        assert_eq!(ago(now), "just now");
        assert_eq!(ago(now - chrono::Duration::minutes(1)), "1 minute ago");
        assert_eq!(ago(now - chrono::Duration::hours(5)), "5 hours ago");
    }
}
