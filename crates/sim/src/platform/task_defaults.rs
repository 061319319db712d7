//! What the instance fills in when a task (`incident`, `change_request`, `sc_request`… any
//! table extending `task`) is inserted without it, as a fresh instance's dictionary defaults
//! and its priority lookup do (servicenow.md 4.9): `opened_by` the caller, `opened_at` now,
//! `state` New/Open (`1`), `impact` and `urgency` Low (`3`), and `priority` from impact and
//! urgency.

use crate::db::store::Record;

/// Fills the defaults of a task record inserted by the user whose sys_id is `caller`.
pub(crate) fn apply(record: &mut Record, caller: Option<String>) {
    let mut defaults = vec![
        ("state", "1".to_owned()),
        ("impact", "3".to_owned()),
        ("urgency", "3".to_owned()),
        ("opened_at", crate::db::values::now_text()),
    ];
    defaults.extend(caller.map(|c| ("opened_by", c)));
    for (field, value) in defaults {
        default(record, field, value);
    }
    if let Some(priority) = priority(record.get("impact"), record.get("urgency")) {
        default(record, "priority", priority);
    }
}

fn default(record: &mut Record, field: &str, value: String) {
    if record.get(field).is_none_or(String::is_empty) {
        record.insert(field.to_owned(), value);
    }
}

/// The priority a fresh instance's lookup gives impact and urgency (each 1 High to 3 Low):
/// 1 Critical for High/High down to 5 Planning for Low/Low.
fn priority(impact: Option<&String>, urgency: Option<&String>) -> Option<String> {
    let level = |v: Option<&String>| {
        v.and_then(|v| v.trim().parse::<u8>().ok())
            .filter(|v| (1..=3).contains(v))
    };
    Some((level(impact)? + level(urgency)? - 1).to_string())
}

#[cfg(test)]
mod tests {
    use super::priority;

    #[test]
    fn priority_follows_the_impact_and_urgency_lookup() {
        let p = |i: &str, u: &str| priority(Some(&i.to_owned()), Some(&u.to_owned()));
        assert_eq!(p("1", "1").as_deref(), Some("1"));
        assert_eq!(p("1", "3").as_deref(), Some("3"));
        assert_eq!(p("2", "3").as_deref(), Some("4"));
        assert_eq!(p("3", "3").as_deref(), Some("5"));
        assert_eq!(p("4", "1"), None);
        assert_eq!(p("x", "1"), None);
    }
}
