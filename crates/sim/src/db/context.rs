//! Who is asking a query, and the values the instance resolves for them: `javascript:` calls
//! for the caller and relative dates.

use chrono::{DateTime, TimeDelta, Utc};

use crate::db::values::format_time;

/// Who is asking, for `javascript:gs.getUserID()` / `gs.getUserName()` in query values and ACL
/// conditions.
#[derive(Debug, Clone, Default)]
pub struct QueryContext {
    pub user_id: String,
    pub user_name: String,
    /// Text compares regardless of case, as a person's and a client's queries do on an instance
    /// (servicenow.md 2.2). Off for the simulator's own lookups (tokens, codes, ids), which are
    /// exact.
    pub fold_case: bool,
}

impl QueryContext {
    /// Resolves the `javascript:` calls the instance evaluates in queries: the caller's
    /// `gs.getUserID()` / `gs.getUserName()`, and the dates the list filters write,
    /// `gs.daysAgo(N)`, `gs.daysAgoStart(N)`, `gs.daysAgoEnd(N)`, `gs.dateGenerate('D','T')`,
    /// `gs.beginningOfToday()` and its kin. Any other script is kept as text and so matches
    /// nothing, since there is no JavaScript engine here.
    pub fn resolve(&self, value: &str) -> String {
        match value.strip_prefix("javascript:").map(str::trim) {
            Some(script) if script.starts_with("gs.getUserID()") => self.user_id.clone(),
            Some(script) if script.starts_with("gs.getUserName()") => self.user_name.clone(),
            Some(script) => days_ago(script, Utc::now())
                .or_else(|| date_script(script, Utc::now()))
                .unwrap_or_else(|| value.to_owned()),
            None => value.to_owned(),
        }
    }
}

/// `gs.dateGenerate('2026-01-31','23:59:59')` (`'start'` / `'end'` for the day's bounds),
/// `gs.beginningOfToday()`, `gs.endOfToday()`, `gs.beginningOfYesterday()`,
/// `gs.endOfYesterday()`, `gs.beginningOfTomorrow()`, `gs.endOfTomorrow()`: the date-times the
/// condition builder writes for "on" and "between" (UTC here).
fn date_script(script: &str, now: DateTime<Utc>) -> Option<String> {
    let (function, rest) = script.split_once('(')?;
    let (argument, after) = rest.split_once(')')?;
    if !after.trim().trim_end_matches(';').is_empty() {
        return None;
    }
    let today = now.date_naive();
    let day = |offset: i64| today.checked_add_signed(TimeDelta::try_days(offset)?);
    let (date, time) = match function.trim() {
        "gs.dateGenerate" => {
            let mut parts = argument
                .split(',')
                .map(|p| p.trim().trim_matches(['\'', '"']));
            let date = chrono::NaiveDate::parse_from_str(parts.next()?, "%Y-%m-%d").ok()?;
            let time = match parts.next().unwrap_or("start") {
                "start" => chrono::NaiveTime::from_hms_opt(0, 0, 0)?,
                "end" => chrono::NaiveTime::from_hms_opt(23, 59, 59)?,
                text => chrono::NaiveTime::parse_from_str(text, "%H:%M:%S").ok()?,
            };
            (date, time)
        }
        name => {
            let offset = match name.trim_start_matches("gs.") {
                "beginningOfToday" | "endOfToday" => 0,
                "beginningOfYesterday" | "endOfYesterday" => -1,
                "beginningOfTomorrow" | "endOfTomorrow" => 1,
                _ => return None,
            };
            let time = if name.contains("beginning") {
                chrono::NaiveTime::from_hms_opt(0, 0, 0)?
            } else {
                chrono::NaiveTime::from_hms_opt(23, 59, 59)?
            };
            (day(offset)?, time)
        }
    };
    Some(format_time(date.and_time(time).and_utc()))
}

/// `gs.daysAgo(N)`: the date-time N days before `now` (after it for a negative N);
/// `gs.daysAgoStart(N)` / `gs.daysAgoEnd(N)`: the start (00:00:00) / end (23:59:59) of that
/// day. Written as the instance stores dates ("2026-01-31 00:00:00", UTC here), so `>=` and `<`
/// compare them as text. `None` for any other script or an argument out of range.
pub fn days_ago(script: &str, now: DateTime<Utc>) -> Option<String> {
    let (function, rest) = script.split_once('(')?;
    let (argument, after) = rest.split_once(')')?;
    if !after.trim().trim_end_matches(';').is_empty() {
        return None;
    }
    let days: i64 = argument.trim().parse().ok()?;
    let then = now.checked_sub_signed(TimeDelta::try_days(days)?)?;
    let day = then.date_naive();
    let time = match function.trim() {
        "gs.daysAgo" => return Some(format_time(then)),
        "gs.daysAgoStart" => day.and_hms_opt(0, 0, 0)?,
        "gs.daysAgoEnd" => day.and_hms_opt(23, 59, 59)?,
        _ => return None,
    };
    Some(format_time(time.and_utc()))
}
