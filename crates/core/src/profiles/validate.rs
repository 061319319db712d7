//! Reading a profile file: TOML into [`Profile`], then every rule a profile must keep, each
//! failure naming the file and the field (`incident-sync.toml: steps[3].inputs[0].id: …`).

use std::collections::BTreeSet;

use super::template::{NAMES, placeholders};
use super::{Profile, StepKind};
use crate::errors::InputField;

/// Why a profile file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}{problem}", if field.is_empty() { String::new() } else { format!("{field}: ") })]
pub struct ProfileError {
    pub file: String,
    /// Where in the file (`steps[2].inputs[0].id`), or empty for the whole file.
    pub field: String,
    pub problem: String,
    /// The profile id the file seems meant to hold, so asking for that id says why it is not
    /// there instead of calling it unknown.
    pub claims: Option<String>,
}

impl ProfileError {
    pub fn invalid(file: &str, field: &str, problem: &str) -> Self {
        Self {
            file: file.to_owned(),
            field: field.to_owned(),
            problem: problem.to_owned(),
            claims: None,
        }
    }

    pub fn read(file: &str, failure: &crate::files::ReadFailure) -> Self {
        Self::invalid(file, "", &format!("it cannot be read: {failure}"))
    }

    /// The same problem, for a file that seems meant to hold profile `id`.
    pub fn claiming(mut self, id: Option<String>) -> Self {
        self.claims = id;
        self
    }

    pub fn hint(&self) -> String {
        "Fix the field named (see the built-in profiles for the format), or remove the file \
         from the profiles folder."
            .into()
    }

    pub fn view(&self) -> crate::errors::ErrorView {
        crate::errors::ErrorView::new(
            crate::errors::ErrorCode::ConfigError,
            self.to_string(),
            self.hint(),
        )
    }
}

/// Parses and validates one profile file.
pub fn parse(file: &str, text: &str) -> Result<Profile, ProfileError> {
    let profile: Profile = toml::from_str(text).map_err(|err| {
        let problem = crate::text::untrusted(err.message(), crate::text::MAX_MESSAGE_CHARS);
        let at = err
            .span()
            .map(|span| {
                format!(
                    "line {}",
                    text[..span.start.min(text.len())].lines().count().max(1)
                )
            })
            .unwrap_or_default();
        ProfileError::invalid(file, &at, &problem)
    })?;
    check(file, &profile)?;
    Ok(super::admin_access::prepend(profile))
}

/// The id a profile file names, even when the file is not a valid profile (a first line
/// `id = "…"` is enough), for saying why that id is missing.
pub fn claimed_id(text: &str) -> Option<String> {
    if let Ok(table) = toml::from_str::<toml::Table>(text) {
        return table.get("id")?.as_str().map(str::to_owned);
    }
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "id")
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|id| is_id(id))
    })
}

fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_input_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// ServiceNow names (tables, roles): letters, digits, `_` and `.`; `*` for a wildcard ACL.
fn is_record_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 80
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '*'))
}

fn check(file: &str, profile: &Profile) -> Result<(), ProfileError> {
    let fail = |field: &str, problem: &str| Err(ProfileError::invalid(file, field, problem));
    if !is_id(&profile.id) {
        return fail(
            "id",
            "use lowercase letters, digits and hyphens, like incident-sync",
        );
    }
    if profile.steps.is_empty() {
        return fail("steps", "a profile needs at least one step");
    }
    let inputs: Vec<&str> = profile
        .steps
        .iter()
        .flat_map(|s| s.inputs.iter().map(|i| i.id.as_str()))
        .collect();
    let mut seen_steps: BTreeSet<&str> = BTreeSet::new();
    let mut seen_inputs: BTreeSet<&str> = BTreeSet::new();
    for (n, step) in profile.steps.iter().enumerate() {
        let at = |field: &str| format!("steps[{n}].{field}");
        if !is_id(&step.id) {
            return fail(&at("id"), "use lowercase letters, digits and hyphens");
        }
        if step.kind == StepKind::AdminAccess || step.id == super::admin_access::STEP_ID {
            return fail(
                &at("kind"),
                "Snowlink starts every setup with \"Let Snowlink in\" itself; remove this step",
            );
        }
        if !seen_steps.insert(&step.id) {
            return fail(
                &at("id"),
                &format!("\"{}\" is the id of an earlier step", step.id),
            );
        }
        for required in &step.requires {
            if !seen_steps.contains(required.as_str()) || required == &step.id {
                return fail(
                    &at("requires"),
                    &format!("\"{required}\" is not the id of an earlier step"),
                );
            }
        }
        for (i, input) in step.inputs.iter().enumerate() {
            if !is_input_id(&input.id) {
                return fail(
                    &at(&format!("inputs[{i}].id")),
                    "use lowercase letters, digits and underscores",
                );
            }
            let reserved = [
                super::admin_access::CLIENT_ID_INPUT,
                super::admin_access::CLIENT_SECRET_INPUT,
            ];
            if reserved.contains(&input.id.as_str()) || !seen_inputs.insert(&input.id) {
                return fail(
                    &at(&format!("inputs[{i}].id")),
                    &format!("\"{}\" is the id of another input", input.id),
                );
            }
            let secret_field = input.field.is_some_and(|f| f.secret_kind().is_some());
            if input.field.is_some() && secret_field != input.secret {
                return fail(
                    &at(&format!("inputs[{i}].secret")),
                    "a client secret, password or API key is secret, and nothing else is",
                );
            }
        }
        let texts = std::iter::once((at("instructions"), step.instructions.as_str()))
            .chain(
                step.values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (at(&format!("values[{i}].value")), v.value.as_str())),
            )
            .chain(
                step.links
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (at(&format!("links[{i}].target")), l.target.as_str())),
            )
            .chain(step.inputs.iter().enumerate().filter_map(|(i, input)| {
                input
                    .default
                    .as_deref()
                    .map(|d| (at(&format!("inputs[{i}].default")), d))
            }));
        for (field, text) in texts {
            for name in placeholders(text) {
                let known = match name.strip_prefix("input:") {
                    Some(input) => inputs.contains(&input),
                    None => NAMES.contains(&name),
                };
                if !known {
                    return fail(
                        &field,
                        &format!("{{{name}}} is not a placeholder a profile may use"),
                    );
                }
            }
            if text.chars().any(|c| c.is_control() && c != '\n') {
                return fail(&field, "it holds a control character");
            }
        }
        for (i, link) in step.links.iter().enumerate() {
            if link.target.contains("://")
                || link.target.starts_with('/')
                || link.target.contains("javascript:")
            {
                return fail(
                    &at(&format!("links[{i}].target")),
                    "a link is a classic UI target on the instance, like oauth_entity_list.do",
                );
            }
        }
        let names = step
            .verify
            .roles
            .iter()
            .chain(&step.verify.roles_sufficient)
            .map(String::as_str)
            .chain(step.verify.tables.iter().map(|t| t.table.as_str()));
        for name in names {
            if !is_record_name(name) {
                return fail(
                    &at("verify"),
                    &format!("\"{name}\" is not a ServiceNow name"),
                );
            }
        }
        for table in &step.verify.tables {
            for operation in &table.operations {
                if !matches!(operation.as_str(), "read" | "create" | "write" | "delete") {
                    return fail(
                        &at("verify.tables"),
                        &format!("\"{operation}\" is not read, create, write or delete"),
                    );
                }
            }
        }
        if step.automation
            && !matches!(
                step.kind,
                StepKind::OauthApp
                    | StepKind::UpdateSet
                    | StepKind::ServiceUser
                    | StepKind::Roles
                    | StepKind::Acls
            )
        {
            return fail(
                &at("automation"),
                "only OAuth app, update set, service user, roles and ACL steps can be done for the admin",
            );
        }
        if step.kind == StepKind::Acls && step.automation && step.acl_role.is_none() {
            return fail(
                &at("acl_role"),
                "an ACL step done for the admin names the role its ACLs require",
            );
        }
        if step.acl_role.as_deref().is_some_and(|r| !is_record_name(r)) {
            return fail(&at("acl_role"), "it is not a ServiceNow role name");
        }
        if step.kind == StepKind::UpdateSet && profile.update_set.is_none() {
            return fail(
                &at("kind"),
                "an update-set step needs the profile's [update_set]",
            );
        }
    }
    if !profile.steps.iter().any(|s| s.kind == StepKind::Connect) {
        return fail("steps", "a profile needs a connect step");
    }
    // The connection's grant must find every input it needs among the steps.
    for needed in profile.grant.inputs().iter().filter(|i| i.required) {
        let given = profile
            .steps
            .iter()
            .flat_map(|s| &s.inputs)
            .any(|i| i.field == Some(needed.field));
        if !given {
            return fail(
                "grant",
                &format!(
                    "the {} sign-in needs {}, which no step asks for (an input with field = \"{}\")",
                    profile.grant,
                    needed.field.label(),
                    field_name(needed.field)
                ),
            );
        }
    }
    if let Some(set) = &profile.update_set {
        for (field, text) in update_set_texts(set) {
            if let Some(problem) = unfit_for_update_set(&text) {
                return fail(&field, problem);
            }
        }
        for (i, acl) in set.acls.iter().enumerate() {
            if !is_record_name(&acl.name) || !is_record_name(&acl.role) {
                return fail(
                    &format!("update_set.acls[{i}]"),
                    "names are ServiceNow names",
                );
            }
        }
        for (i, rest) in set.scripted_rest.iter().enumerate() {
            if !is_input_id(&rest.namespace) || !is_input_id(&rest.id) {
                return fail(
                    &format!("update_set.scripted_rest[{i}]"),
                    "namespace and id are lowercase names",
                );
            }
            if rest.behaviour != "caller_identity" {
                return fail(
                    &format!("update_set.scripted_rest[{i}].behaviour"),
                    "the one behaviour is caller_identity",
                );
            }
        }
    }
    Ok(())
}

/// Every text of the update set that goes into its XML, with where it is in the file.
fn update_set_texts(set: &super::UpdateSetSpec) -> Vec<(String, String)> {
    let mut texts = vec![
        ("update_set.name".to_owned(), set.name.clone()),
        ("update_set.description".to_owned(), set.description.clone()),
    ];
    for (i, role) in set.roles.iter().enumerate() {
        texts.push((format!("update_set.roles[{i}].name"), role.name.clone()));
        texts.push((
            format!("update_set.roles[{i}].description"),
            role.description.clone(),
        ));
    }
    for (i, rule) in set.business_rules.iter().enumerate() {
        texts.push((
            format!("update_set.business_rules[{i}].name"),
            rule.name.clone(),
        ));
        texts.push((
            format!("update_set.business_rules[{i}].table"),
            rule.table.clone(),
        ));
        texts.push((
            format!("update_set.business_rules[{i}].url"),
            rule.url.clone(),
        ));
    }
    for (i, rest) in set.scripted_rest.iter().enumerate() {
        texts.push((
            format!("update_set.scripted_rest[{i}].name"),
            rest.name.clone(),
        ));
    }
    for (i, catalog) in set.catalogs.iter().enumerate() {
        texts.push((
            format!("update_set.catalogs[{i}].name"),
            catalog.name.clone(),
        ));
        for (j, item) in catalog.items.iter().enumerate() {
            texts.push((format!("update_set.catalogs[{i}].items[{j}]"), item.clone()));
        }
    }
    texts
}

/// Why a text cannot go into an update set's XML: a control character (XML 1.0 has no way to
/// write most of them, escaped or not), or a name longer than a ServiceNow field holds.
fn unfit_for_update_set(text: &str) -> Option<&'static str> {
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Some("it holds a control character, which an update set cannot carry");
    }
    if text.chars().count() > 1000 {
        return Some("it is longer than 1000 characters");
    }
    None
}

fn field_name(field: InputField) -> String {
    serde_json::to_value(field)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
id = "tiny"
name = "Tiny"
vendor = "Test"
summary = "A test."
source = "none"
vendor_actions = 1
grant = "basic"
connection_name = "Tiny"
[links]
table = "task"
label = "tasks"
[[steps]]
id = "sign-in"
title = "Sign in"
kind = "connect"
instructions = "Type the user of {instance}."
[[steps.inputs]]
id = "user"
label = "User name"
field = "username"
[[steps.inputs]]
id = "password"
label = "Password"
field = "password"
secret = true
"#;

    #[test]
    fn update_set_names_with_control_characters_are_refused() {
        for (section, field) in [
            ("[update_set]\nname = \"Set\\u0001\"\n", "update_set.name"),
            (
                "[update_set]\nname = \"Set\"\ndescription = \"a\\u001b[2J\"\n",
                "update_set.description",
            ),
            (
                "[update_set]\nname = \"Set\"\n[[update_set.catalogs]]\nname = \"C\"\nitems = [\"I\\u0007\"]\n",
                "update_set.catalogs[0].items[0]",
            ),
            (
                "[update_set]\nname = \"Set\"\n[[update_set.roles]]\nname = \"r\"\ndescription = \"\\u0000\"\n",
                "update_set.roles[0].description",
            ),
        ] {
            let text = MINIMAL.replace("[[steps]]", &format!("{section}[[steps]]"));
            let err = parse("tiny.toml", &text).unwrap_err();
            assert_eq!(err.field, field, "{err}");
            assert!(err.problem.contains("control character"), "{err}");
        }
    }

    #[test]
    fn a_minimal_profile_is_valid_and_starts_by_letting_snowlink_in() {
        let profile = parse("tiny.toml", MINIMAL).unwrap();
        assert_eq!(profile.steps[0].kind, StepKind::AdminAccess);
        assert_eq!(profile.steps[1].kind, StepKind::Connect);
        assert!(profile.steps[1].mandatory);
        // The admin signs in as an admin; the connection's own user needs no such role.
        assert!(profile.steps[0].verify.roles.contains(&"admin".to_string()));
        assert!(profile.check_params().roles.is_empty());
    }

    #[test]
    fn a_profile_cannot_declare_snowlink_s_own_step_or_its_inputs() {
        let own = MINIMAL.replace("kind = \"connect\"", "kind = \"admin-access\"");
        let err = parse("tiny.toml", &own).unwrap_err();
        assert!(err.problem.contains("Let Snowlink in"), "{err}");
        let input = MINIMAL.replace(
            "[[steps]]",
            "[[steps]]\nid = \"first\"\ntitle = \"First\"\nkind = \"info\"\ninstructions = \"x\"\n[[steps.inputs]]\nid = \"snowlink_client_id\"\nlabel = \"x\"\n[[steps]]",
        );
        let err = parse("tiny.toml", &input).unwrap_err();
        assert!(err.field.contains("inputs[0].id"), "{err}");
    }

    #[test]
    fn errors_name_the_file_and_the_field() {
        let cases = [
            (
                MINIMAL.replace("id = \"tiny\"", "id = \"Tiny!\""),
                "tiny.toml: id:",
            ),
            (
                MINIMAL.replace("{instance}", "{nonsense}"),
                "steps[0].instructions: {nonsense}",
            ),
            (
                MINIMAL.replace("secret = true", "secret = false"),
                "steps[0].inputs[1].secret",
            ),
            (
                MINIMAL.replace("field = \"password\"\n", ""),
                "grant: the basic sign-in needs the password",
            ),
            (
                MINIMAL.replace("kind = \"connect\"", "kind = \"teleport\""),
                "tiny.toml: line",
            ),
            (
                MINIMAL.replace(
                    "title = \"Sign in\"",
                    "title = \"Sign in\"\ncolour = \"red\"",
                ),
                "unknown field",
            ),
            (
                MINIMAL.replace(
                    "kind = \"connect\"",
                    "kind = \"connect\"\nrequires = [\"later\"]",
                ),
                "steps[0].requires",
            ),
        ];
        for (text, expected) in cases {
            let err = parse("tiny.toml", &text).unwrap_err();
            assert!(err.claims.is_none(), "parse alone claims nothing");
            assert!(
                err.to_string().contains(expected),
                "{expected:?} not in {err}"
            );
        }
    }
}
