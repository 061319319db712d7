//! The placeholders a profile's texts may use, filled from the wizard's state: `{instance}`,
//! `{instance_name}` (`acme` of `acme.service-now.com`), `{callback_urls}`, `{connection_name}`,
//! `{update_set}`, `{profile}`, and `{input:<id>}` for
//! what the admin typed in an earlier step. A placeholder whose value is not known yet is shown
//! as `‹name›`, so an instruction never shows a wrong value.

use std::collections::BTreeMap;

/// The names a profile may use besides `input:<id>`.
pub const NAMES: [&str; 6] = [
    "instance",
    "instance_name",
    "callback_urls",
    "connection_name",
    "update_set",
    "profile",
];

/// What the placeholders stand for now.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub values: BTreeMap<String, String>,
    pub inputs: BTreeMap<String, String>,
}

/// The placeholders of `text`, as written (`instance`, `input:client_id`).
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                found.push(&after[..end]);
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    found
}

/// `text` with its placeholders filled.
pub fn render(text: &str, context: &Context) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        let value = match name.strip_prefix("input:") {
            Some(input) => context.inputs.get(input),
            None => context.values.get(name),
        };
        match value.filter(|v| !v.is_empty()) {
            Some(value) => out.push_str(value),
            None => {
                out.push('‹');
                out.push_str(name.strip_prefix("input:").unwrap_or(name));
                out.push('›');
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_or_marked_unknown() {
        let mut context = Context::default();
        context
            .values
            .insert("instance".into(), "https://acme.service-now.com".into());
        context
            .inputs
            .insert("service_user".into(), "svc.atlan".into());
        assert_eq!(
            render(
                "Open {instance} as {input:service_user} for {connection_name}.",
                &context
            ),
            "Open https://acme.service-now.com as svc.atlan for ‹connection_name›."
        );
        assert_eq!(render("a { b", &context), "a { b");
        assert_eq!(placeholders("{x} and {input:y}"), vec!["x", "input:y"]);
    }
}
