//! Date-times as the person reading them sees them (servicenow.md 2.17): stored in UTC
//! (`2026-01-31 23:59:59`), shown by `sysparm_display_value` in the caller's time zone and date
//! and time formats — their `sys_user` record's `time_zone`, `date_format` and `time_format`,
//! else the instance's `glide.sys.default.tz`, `glide.sys.date_format` and
//! `glide.sys.time_format` — and read that way back with `sysparm_input_display_value=true`.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::platform::instance::Instance;

const DEFAULT_ZONE: &str = "glide.sys.default.tz";
const DEFAULT_DATE_FORMAT: &str = "glide.sys.date_format";
const DEFAULT_TIME_FORMAT: &str = "glide.sys.time_format";
/// A personal developer instance's zone when neither the user nor the property says.
const FALLBACK_ZONE: &str = "America/Los_Angeles";
const STORED: &str = "%Y-%m-%d %H:%M:%S";

/// How one caller sees date-times.
#[derive(Debug, Clone)]
pub struct Viewer {
    zone: TimeZone,
    date_format: String,
    time_format: String,
}

impl Viewer {
    /// The viewer `user_id` is: their own settings, else the instance's.
    pub fn of(instance: &Instance, user_id: &str) -> Self {
        let user = instance.get("sys_user", user_id).unwrap_or_default();
        let setting = |field: &str, property: &str, fallback: &str| {
            user.get(field)
                .filter(|v| !v.trim().is_empty())
                .cloned()
                .or_else(|| instance.property(property).filter(|v| !v.trim().is_empty()))
                .unwrap_or_else(|| fallback.to_owned())
        };
        let zone_name = setting("time_zone", DEFAULT_ZONE, FALLBACK_ZONE);
        Self {
            zone: TimeZone::get(zone_name.trim()).unwrap_or(TimeZone::UTC),
            date_format: setting("date_format", DEFAULT_DATE_FORMAT, "yyyy-MM-dd"),
            time_format: setting("time_format", DEFAULT_TIME_FORMAT, "HH:mm:ss"),
        }
    }

    /// `stored` (UTC) as this viewer sees it; text that is no date-time is shown as it is.
    pub fn show(&self, stored: &str) -> String {
        let Ok(utc) = DateTime::strptime(STORED, stored.trim()) else {
            return stored.to_owned();
        };
        let Ok(zoned) = utc.to_zoned(TimeZone::UTC) else {
            return stored.to_owned();
        };
        let local = zoned.with_time_zone(self.zone.clone()).datetime();
        format!(
            "{} {}",
            java_format(&self.date_format, local),
            java_format(&self.time_format, local)
        )
    }

    /// A date-time typed in this viewer's zone and formats, stored as UTC; `None` when it is
    /// not one.
    pub fn read(&self, typed: &str) -> Option<String> {
        let pattern = format!(
            "{} {}",
            strptime_of(&self.date_format)?,
            strptime_of(&self.time_format)?
        );
        let local = DateTime::strptime(&pattern, typed.trim()).ok()?;
        let utc = local
            .to_zoned(self.zone.clone())
            .ok()?
            .with_time_zone(TimeZone::UTC);
        Some(utc.datetime().strftime(STORED).to_string())
    }
}

/// The runs of a Java date pattern (`dd.MM.yyyy hh:mm a`): a letter repeated, or literal text.
fn runs(pattern: &str) -> Vec<(char, usize)> {
    let mut out: Vec<(char, usize)> = Vec::new();
    for c in pattern.chars() {
        match out.last_mut() {
            Some((last, n)) if *last == c && c.is_ascii_alphabetic() => *n += 1,
            _ => out.push((c, 1)),
        }
    }
    out
}

/// `dt` written with the Java pattern the instance stores formats as.
fn java_format(pattern: &str, dt: DateTime) -> String {
    let hour12 = match dt.hour() % 12 {
        0 => 12,
        h => h,
    };
    runs(pattern)
        .into_iter()
        .map(|(c, n)| match (c, n) {
            ('y', 2) => format!("{:02}", dt.year() % 100),
            ('y', _) => format!("{:04}", dt.year()),
            ('M', 1) => dt.month().to_string(),
            ('M', 3) => dt.strftime("%b").to_string(),
            ('M', n) if n > 3 => dt.strftime("%B").to_string(),
            ('M', _) => format!("{:02}", dt.month()),
            ('d', 1) => dt.day().to_string(),
            ('d', _) => format!("{:02}", dt.day()),
            ('H', 1) => dt.hour().to_string(),
            ('H', _) => format!("{:02}", dt.hour()),
            ('h', 1) => hour12.to_string(),
            ('h', _) => format!("{hour12:02}"),
            ('m', _) => format!("{:02}", dt.minute()),
            ('s', _) => format!("{:02}", dt.second()),
            ('a', _) => (if dt.hour() < 12 { "AM" } else { "PM" }).to_owned(),
            (c, n) => c.to_string().repeat(n),
        })
        .collect()
}

/// The `strptime` pattern of a Java one, for reading typed values back; `None` for a pattern
/// with parts it cannot read.
fn strptime_of(pattern: &str) -> Option<String> {
    runs(pattern)
        .into_iter()
        .map(|(c, n)| {
            Some(match (c, n) {
                ('y', 2) => "%y".to_owned(),
                ('y', _) => "%Y".to_owned(),
                ('M', 3) => "%b".to_owned(),
                ('M', n) if n > 3 => "%B".to_owned(),
                ('M', _) => "%m".to_owned(),
                ('d', _) => "%d".to_owned(),
                ('H', _) => "%H".to_owned(),
                ('h', _) => "%I".to_owned(),
                ('m', _) => "%M".to_owned(),
                ('s', _) => "%S".to_owned(),
                ('a', _) => "%p".to_owned(),
                ('%', _) => "%%".to_owned(),
                (c, _) if c.is_ascii_alphabetic() => return None,
                (c, n) => c.to_string().repeat(n),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(zone: &str, date: &str, time: &str) -> Viewer {
        Viewer {
            zone: TimeZone::get(zone).unwrap(),
            date_format: date.into(),
            time_format: time.into(),
        }
    }

    #[test]
    fn a_stored_time_is_shown_in_the_viewers_zone_and_formats_and_read_back() {
        let berlin = viewer("Europe/Berlin", "dd.MM.yyyy", "HH:mm:ss");
        assert_eq!(berlin.show("2026-01-31 23:30:00"), "01.02.2026 00:30:00");
        assert_eq!(
            berlin.show("2026-07-01 12:00:00"),
            "01.07.2026 14:00:00",
            "summer time"
        );
        assert_eq!(
            berlin.read("01.02.2026 00:30:00").unwrap(),
            "2026-01-31 23:30:00"
        );
        let us = viewer("US/Pacific", "MM-dd-yyyy", "hh:mm:ss a");
        assert_eq!(us.show("2026-01-31 23:30:00"), "01-31-2026 03:30:00 PM");
        assert_eq!(
            us.read("01-31-2026 03:30:00 PM").unwrap(),
            "2026-01-31 23:30:00"
        );
        assert_eq!(us.show("not a date"), "not a date");
        assert_eq!(us.show(""), "");
        assert!(us.read("31.01.2026").is_none());
    }
}
