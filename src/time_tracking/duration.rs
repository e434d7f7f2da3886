//! Durations as people type and read them: "90", "1:30", "1h 30m", "1.5h" in;
//! "1h 30m" out. Kept free of HTTP and SQL so the rules are tested on their own.

/// The longest single entry: a whole day.
pub const MAX_MINUTES: i32 = 1440;

/// Why a typed duration was refused, in words for the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationError {
    Empty,
    Unreadable,
    OutOfRange,
}

impl DurationError {
    pub fn message(self) -> &'static str {
        match self {
            DurationError::Empty => "Enter how long you worked, for example 90, 1:30 or 1h 30m.",
            DurationError::Unreadable => "We could not read this. Write it as 90 (minutes), 1:30 or 1h 30m.",
            DurationError::OutOfRange => "An entry is between 1 minute and 24 hours (1440 minutes).",
        }
    }
}

/// Reads a duration into whole minutes (1..=1440).
pub fn parse_minutes(raw: &str) -> Result<i32, DurationError> {
    let text = raw.trim().to_lowercase();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let minutes = if text.chars().all(|c| c.is_ascii_digit()) {
        text.parse::<i64>().map_err(|_| DurationError::OutOfRange)?
    } else if let Some((h, m)) = text.split_once(':') {
        clock_minutes(h, m)?
    } else {
        unit_minutes(&text)?
    };
    if (1..=i64::from(MAX_MINUTES)).contains(&minutes) { Ok(minutes as i32) } else { Err(DurationError::OutOfRange) }
}

/// "1:30" — hours, then two-digit minutes below 60.
fn clock_minutes(h: &str, m: &str) -> Result<i64, DurationError> {
    let digits = |s: &str| !s.is_empty() && s.len() <= 4 && s.chars().all(|c| c.is_ascii_digit());
    if !digits(h) || m.len() != 2 || !digits(m) {
        return Err(DurationError::Unreadable);
    }
    let (h, m) = (h.parse::<i64>().map_err(|_| DurationError::Unreadable)?, m.parse::<i64>().unwrap_or(60));
    if m >= 60 {
        return Err(DurationError::Unreadable);
    }
    Ok(h * 60 + m)
}

/// "1h 30m", "2 hours", "45 min", "1.5h": numbers each followed by a unit.
fn unit_minutes(text: &str) -> Result<i64, DurationError> {
    let mut total = 0.0_f64;
    let mut rest = text.trim_start();
    let mut parts = 0;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',')).unwrap_or(rest.len());
        let number: f64 = rest[..number_len].replace(',', ".").parse().map_err(|_| DurationError::Unreadable)?;
        rest = rest[number_len..].trim_start();
        let unit_len = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
        let per_unit = match &rest[..unit_len] {
            "h" | "hr" | "hrs" | "hour" | "hours" => 60.0,
            "m" | "min" | "mins" | "minute" | "minutes" => 1.0,
            _ => return Err(DurationError::Unreadable),
        };
        total += number * per_unit;
        rest = rest[unit_len..].trim_start();
        parts += 1;
        if parts > 2 || number > 10_000.0 {
            return Err(DurationError::Unreadable);
        }
    }
    // Fractions of a minute ("0.01h") round to the nearest minute.
    Ok(total.round() as i64)
}

/// "1h 30m", "45m", "8h".
pub fn format_minutes(minutes: i64) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m}m"),
    }
}

/// Minutes for a stopped timer: started minutes count in full (rounded up), at least
/// one, at most a day. The flag says the day limit cut it short.
pub fn timer_minutes(elapsed_seconds: i64) -> (i32, bool) {
    let minutes = (elapsed_seconds.max(0) + 59) / 60;
    if minutes > i64::from(MAX_MINUTES) { (MAX_MINUTES, true) } else { (minutes.max(1) as i32, false) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_ways_of_writing_time_are_read() {
        assert_eq!(parse_minutes("90"), Ok(90));
        assert_eq!(parse_minutes(" 1:30 "), Ok(90));
        assert_eq!(parse_minutes("1h 30m"), Ok(90));
        assert_eq!(parse_minutes("1H30M"), Ok(90));
        assert_eq!(parse_minutes("1.5h"), Ok(90));
        assert_eq!(parse_minutes("1,5 hours"), Ok(90));
        assert_eq!(parse_minutes("2 hrs"), Ok(120));
        assert_eq!(parse_minutes("45 min"), Ok(45));
        assert_eq!(parse_minutes("24h"), Ok(1440));
        assert_eq!(parse_minutes("0:05"), Ok(5));
    }

    #[test]
    fn nonsense_and_out_of_range_durations_are_refused() {
        assert_eq!(parse_minutes(""), Err(DurationError::Empty));
        assert_eq!(parse_minutes("0"), Err(DurationError::OutOfRange));
        assert_eq!(parse_minutes("1441"), Err(DurationError::OutOfRange));
        assert_eq!(parse_minutes("25h"), Err(DurationError::OutOfRange));
        assert_eq!(parse_minutes("99999999999999999999"), Err(DurationError::OutOfRange));
        assert_eq!(parse_minutes("1:75"), Err(DurationError::Unreadable));
        assert_eq!(parse_minutes("1:5"), Err(DurationError::Unreadable));
        assert_eq!(parse_minutes("-5"), Err(DurationError::Unreadable));
        assert_eq!(parse_minutes("abc"), Err(DurationError::Unreadable));
        assert_eq!(parse_minutes("1h 2h 3h"), Err(DurationError::Unreadable));
        assert_eq!(parse_minutes("5 parsecs"), Err(DurationError::Unreadable));
    }

    #[test]
    fn durations_read_back_naturally() {
        assert_eq!(format_minutes(45), "45m");
        assert_eq!(format_minutes(120), "2h");
        assert_eq!(format_minutes(90), "1h 30m");
    }

    #[test]
    fn a_timer_rounds_up_to_whole_minutes_and_stops_at_a_day() {
        assert_eq!(timer_minutes(0), (1, false));
        assert_eq!(timer_minutes(59), (1, false));
        assert_eq!(timer_minutes(61), (2, false));
        assert_eq!(timer_minutes(90 * 60), (90, false));
        assert_eq!(timer_minutes(24 * 3600), (1440, false));
        assert_eq!(timer_minutes(30 * 3600), (1440, true));
    }
}
