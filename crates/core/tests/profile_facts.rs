//! Each built-in profile against its fact table (`docs/profiles/<id>.md`): every fact of the
//! vendor's page mapped to the profile step that mirrors it, with the roles, tables, values,
//! menu paths and buttons it names in backticks. Those must all be in the profile, in the
//! page's own words, and the action count must be the profile's `vendor_actions`: a profile
//! edited away from its page, or a table that claims more than the profile does, fails here.

use std::path::PathBuf;

use snowlink_core::profiles::{Catalog, Profile};

fn docs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/profiles")
}

/// Every string of the profile, whitespace runs collapsed, joined.
fn corpus(profile: &Profile) -> String {
    fn walk(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::String(s) => {
                out.push(s.split_whitespace().collect::<Vec<_>>().join(" "))
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            serde_json::Value::Object(map) => map.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&serde_json::to_value(profile).unwrap(), &mut out);
    out.join("\n")
}

/// The backticked tokens of `cell`.
fn tokens(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// The table's rows as cells, and the action count its header states.
fn table(text: &str) -> (Vec<Vec<String>>, Option<u32>) {
    let count = text.lines().find_map(|l| {
        l.strip_prefix("Actions the page asks of the admin: ")
            .and_then(|n| n.trim().parse().ok())
    });
    let rows = text
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect();
    (rows, count)
}

/// What is wrong with `profile` against the fact table `text`.
fn drift(profile: &Profile, text: &str) -> Vec<String> {
    let corpus = corpus(profile);
    let (rows, count) = table(text);
    let mut wrong = Vec::new();
    if count != Some(profile.vendor_actions) {
        wrong.push(format!(
            "the table counts {count:?} actions, the profile's vendor_actions is {}",
            profile.vendor_actions
        ));
    }
    if rows.is_empty() {
        wrong.push("the table has no rows".into());
    }
    for row in &rows {
        let [number, _, step, claims] = row.as_slice() else {
            wrong.push(format!("row {row:?} does not have 4 cells"));
            continue;
        };
        let step = step.trim_matches('`');
        if step != "profile" && profile.step(step).is_none() {
            wrong.push(format!("row {number}: no step {step}"));
        }
        for token in tokens(claims) {
            if !corpus.contains(&token) {
                wrong.push(format!("row {number}: `{token}` is not in the profile"));
            }
        }
    }
    wrong
}

#[test]
fn every_built_in_profile_says_what_its_fact_table_says_its_page_says() {
    let catalog = Catalog::load(None);
    let mut checked = 0;
    for profile in catalog.profiles() {
        let path = docs().join(format!("{}.md", profile.id));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        let wrong = drift(profile, &text);
        assert!(
            wrong.is_empty(),
            "{}:\n{}",
            path.display(),
            wrong.join("\n")
        );
        checked += 1;
    }
    assert_eq!(checked, 4, "the four built-in profiles");
}

#[test]
fn a_profile_edited_away_from_its_page_is_caught() {
    let catalog = Catalog::load(None);
    let mut profile = catalog.get("security-audit").unwrap().clone();
    let text = std::fs::read_to_string(docs().join("security-audit.md")).unwrap();
    assert!(drift(&profile, &text).is_empty());
    // A role renamed in the profile, the action count changed, a step removed.
    for step in &mut profile.steps {
        step.instructions = step.instructions.replace("REST API", "web API");
    }
    profile.vendor_actions += 1;
    profile.steps.retain(|s| s.id != "rest-api");
    let wrong = drift(&profile, &text).join("\n");
    assert!(wrong.contains("vendor_actions"), "{wrong}");
    assert!(wrong.contains("no step rest-api"), "{wrong}");
    assert!(wrong.contains("is not in the profile"), "{wrong}");
}
