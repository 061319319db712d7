//! The update set a profile installs, in ServiceNow's "unload" XML format (docs/servicenow.md
//! §5): one `sys_remote_update_set` and one `sys_update_xml` per record — roles, ACLs, the
//! business rule that reports changes, the scripted REST API, the catalog. Built with a real
//! XML writer, never by concatenation, so no name or URL an admin types can add markup; the
//! payload documents are entity-escaped inside their `<payload>`. Every sys_id is derived from
//! the profile and the record's name, so the same inputs give the same document, byte for
//! byte. No secret is ever put in it (ServiceNow re-encrypts imported password fields, §1.13).

use std::io::Cursor;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use sha2::{Digest, Sha256};

use crate::profiles::{Profile, TemplateContext, UpdateSetSpec, render};

/// Why an update set cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateSetError {
    #[error("The profile {0} has no update set.")]
    NoUpdateSet(String),
    #[error("The business rule's URL \"{url}\" cannot be used: {reason}.")]
    BadUrl { url: String, reason: &'static str },
    #[error("The update set could not be written: {0}")]
    Xml(String),
    #[error("The update set cannot carry {0}: it holds a control character.")]
    ControlCharacter(String),
}

impl UpdateSetError {
    pub fn view(&self) -> crate::errors::ErrorView {
        let code = match self {
            Self::NoUpdateSet(_) => crate::errors::ErrorCode::NotFound,
            Self::BadUrl { .. } | Self::ControlCharacter(_) => {
                crate::errors::ErrorCode::InvalidInput
            }
            Self::Xml(_) => crate::errors::ErrorCode::Internal,
        };
        crate::errors::ErrorView::new(code, self.to_string(), self.hint())
    }

    pub fn hint(&self) -> String {
        match self {
            Self::NoUpdateSet(_) => "Choose a profile that installs an update set.".into(),
            Self::BadUrl { .. } => {
                "Give the https:// address the tool receives changes at, without quotes or spaces."
                    .into()
            }
            Self::Xml(_) => "Report this to Snowlink's maintainers.".into(),
            Self::ControlCharacter(_) => {
                "Remove the invisible character from the value typed or from the profile.".into()
            }
        }
    }
}

/// One record of the set: its table and its fields in order.
struct Change {
    table: &'static str,
    sys_id: String,
    name: String,
    kind: &'static str,
    fields: Vec<(&'static str, String)>,
}

/// A sys_id for `key` within `profile`: 32 hex digits of SHA-256, stable across runs.
pub fn stable_sys_id(profile: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("snowlink/{profile}/{key}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The records of an update set: the header's fields and each `sys_update_xml`'s fields (its
/// payload document included), as the unload document carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Records {
    pub name: String,
    /// The set's own sys_id (`remote_sys_id` once loaded).
    pub sys_id: String,
    pub header: Vec<(&'static str, String)>,
    pub updates: Vec<Vec<(&'static str, String)>>,
}

/// The update set of `profile`.
pub fn records(profile: &Profile, context: &TemplateContext) -> Result<Records, UpdateSetError> {
    let spec = profile
        .update_set
        .as_ref()
        .ok_or_else(|| UpdateSetError::NoUpdateSet(profile.id.clone()))?;
    set_of(
        &profile.id,
        &spec.generated_name(),
        &spec.description,
        changes(profile, spec, context)?,
    )
}

/// One ACL an integration needs, with the sys_id its role has on the instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclGrant {
    pub table: String,
    pub operation: String,
    pub role: String,
    pub role_sys_id: String,
}

/// An update set of `profile_id` named `name` holding only `acls` (each with its role link):
/// how ACLs reach an instance, since no REST call may create them (servicenow.md item 19).
pub fn acl_set(profile_id: &str, name: &str, acls: &[AclGrant]) -> Result<Records, UpdateSetError> {
    let changes = acls
        .iter()
        .flat_map(|acl| {
            acl_changes(
                profile_id,
                &acl.table,
                &acl.operation,
                &acl.role,
                acl.role_sys_id.clone(),
            )
        })
        .collect();
    set_of(
        profile_id,
        name,
        "The ACLs the integration needs; they need security_admin, so they arrive in an \
         update set.",
        changes,
    )
}

fn set_of(
    profile_id: &str,
    name: &str,
    description: &str,
    changes: Vec<Change>,
) -> Result<Records, UpdateSetError> {
    let set_id = stable_sys_id(profile_id, &format!("update_set/{name}"));
    let mut updates = Vec::new();
    for change in changes {
        let target = format!("{}_{}", change.table, change.sys_id);
        updates.push(vec![
            ("action", "INSERT_OR_UPDATE".to_owned()),
            ("category", "customer".to_owned()),
            ("name", target.clone()),
            ("payload", payload(&change)?),
            ("table", change.table.to_owned()),
            ("target_name", change.name.clone()),
            ("type", change.kind.to_owned()),
            (
                "update_guid",
                stable_sys_id(profile_id, &format!("guid/{target}")),
            ),
        ]);
    }
    Ok(Records {
        name: name.to_owned(),
        sys_id: set_id.clone(),
        header: vec![
            ("application", "global".to_owned()),
            ("description", description.to_owned()),
            ("name", name.to_owned()),
            ("remote_sys_id", set_id),
            ("state", "loaded".to_owned()),
        ],
        updates,
    })
}

/// The update set of `profile`, its templates filled from `context`, dated `unload_date`
/// (`YYYY-MM-DD HH:MM:SS`, the only thing that differs between two runs).
pub fn generate(
    profile: &Profile,
    context: &TemplateContext,
    unload_date: &str,
) -> Result<String, UpdateSetError> {
    unload(&records(profile, context)?, unload_date)
}

/// `records` as the unload document an admin imports, dated `unload_date`.
pub fn unload(records: &Records, unload_date: &str) -> Result<String, UpdateSetError> {
    let set_id = &records.sys_id;
    let mut writer = Writer::new(Cursor::new(Vec::new()));
    let xml = |err: std::io::Error| UpdateSetError::Xml(err.to_string());
    writer
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(xml)?;
    let mut unload = BytesStart::new("unload");
    unload.push_attribute(("unload_date", unload_date));
    writer.write_event(Event::Start(unload)).map_err(xml)?;
    let mut header = BytesStart::new("sys_remote_update_set");
    header.push_attribute(("action", "INSERT_OR_UPDATE"));
    writer.write_event(Event::Start(header)).map_err(xml)?;
    for (name, value) in &records.header {
        let display = (*name == "application").then_some(("display_value", "Global"));
        element_with(&mut writer, name, value, display)?;
    }
    element(&mut writer, "sys_id", set_id)?;
    writer
        .write_event(Event::End(BytesEnd::new("sys_remote_update_set")))
        .map_err(xml)?;
    for update in &records.updates {
        let mut start = BytesStart::new("sys_update_xml");
        start.push_attribute(("action", "INSERT_OR_UPDATE"));
        writer.write_event(Event::Start(start)).map_err(xml)?;
        for (name, value) in update {
            element(&mut writer, name, value)?;
        }
        element_with(
            &mut writer,
            "remote_update_set",
            set_id,
            Some(("display_value", &records.name)),
        )?;
        writer
            .write_event(Event::End(BytesEnd::new("sys_update_xml")))
            .map_err(xml)?;
    }
    writer
        .write_event(Event::End(BytesEnd::new("unload")))
        .map_err(xml)?;
    String::from_utf8(writer.into_inner().into_inner())
        .map_err(|err| UpdateSetError::Xml(err.to_string()))
}

fn element(
    writer: &mut Writer<Cursor<Vec<u8>>>,
    name: &str,
    text: &str,
) -> Result<(), UpdateSetError> {
    element_with(writer, name, text, None)
}

fn element_with(
    writer: &mut Writer<Cursor<Vec<u8>>>,
    name: &str,
    text: &str,
    attribute: Option<(&str, &str)>,
) -> Result<(), UpdateSetError> {
    let xml = |err: std::io::Error| UpdateSetError::Xml(err.to_string());
    // XML 1.0 has no way to write most control characters, escaped or not: a document holding
    // one is not well-formed, and the instance refuses it.
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(UpdateSetError::ControlCharacter(format!(
            "the {name} field"
        )));
    }
    let mut start = BytesStart::new(name);
    if let Some(attribute) = attribute {
        start.push_attribute(attribute);
    }
    writer.write_event(Event::Start(start)).map_err(xml)?;
    writer
        .write_event(Event::Text(BytesText::new(text)))
        .map_err(xml)?;
    writer
        .write_event(Event::End(BytesEnd::new(name)))
        .map_err(xml)?;
    Ok(())
}

/// An ACL allowing `operation` on `table` to the role `role` (whose sys_id is `role_id`), and
/// its role link.
fn acl_changes(
    profile_id: &str,
    table: &str,
    operation: &str,
    role: &str,
    role_id: String,
) -> [Change; 2] {
    let id = |key: String| stable_sys_id(profile_id, &key);
    let acl_id = id(format!("acl/{table}/{operation}"));
    [
        Change {
            table: "sys_security_acl",
            sys_id: acl_id.clone(),
            name: format!("{table} / {operation}"),
            kind: "Access Control",
            fields: vec![
                ("name", table.to_owned()),
                ("operation", operation.to_owned()),
                ("type", "record".into()),
                ("active", "true".into()),
                ("admin_overrides", "true".into()),
                ("decision_type", "allow".into()),
            ],
        },
        Change {
            table: "sys_security_acl_role",
            sys_id: id(format!("acl_role/{table}/{operation}/{role}")),
            name: format!("{table} / {operation} / {role}"),
            kind: "Access Roles",
            fields: vec![("sys_security_acl", acl_id), ("sys_user_role", role_id)],
        },
    ]
}

/// The `<record_update>` document of one change, as text (escaped again by its container).
fn payload(change: &Change) -> Result<String, UpdateSetError> {
    let xml = |err: std::io::Error| UpdateSetError::Xml(err.to_string());
    let mut writer = Writer::new(Cursor::new(Vec::new()));
    writer
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(xml)?;
    let mut record = BytesStart::new("record_update");
    record.push_attribute(("table", change.table));
    writer.write_event(Event::Start(record)).map_err(xml)?;
    let mut row = BytesStart::new(change.table);
    row.push_attribute(("action", "INSERT_OR_UPDATE"));
    writer.write_event(Event::Start(row)).map_err(xml)?;
    for (name, value) in &change.fields {
        element(&mut writer, name, value)?;
    }
    element(&mut writer, "sys_id", &change.sys_id)?;
    writer
        .write_event(Event::End(BytesEnd::new(change.table)))
        .map_err(xml)?;
    writer
        .write_event(Event::End(BytesEnd::new("record_update")))
        .map_err(xml)?;
    String::from_utf8(writer.into_inner().into_inner())
        .map_err(|err| UpdateSetError::Xml(err.to_string()))
}

/// Every record the set holds, roles first (the others refer to them).
fn changes(
    profile: &Profile,
    spec: &UpdateSetSpec,
    context: &TemplateContext,
) -> Result<Vec<Change>, UpdateSetError> {
    let id = |key: String| stable_sys_id(&profile.id, &key);
    let yes_no = |b: bool| if b { "true" } else { "false" }.to_owned();
    let mut out = Vec::new();
    for role in &spec.roles {
        out.push(Change {
            table: "sys_user_role",
            sys_id: id(format!("role/{}", role.name)),
            name: role.name.clone(),
            kind: "Role",
            fields: vec![
                ("name", role.name.clone()),
                ("description", role.description.clone()),
            ],
        });
    }
    for acl in &spec.acls {
        out.extend(acl_changes(
            &profile.id,
            &acl.name,
            &acl.operation,
            &acl.role,
            id(format!("role/{}", acl.role)),
        ));
    }
    for rule in &spec.business_rules {
        let url = checked_url(&render(&rule.url, context))?;
        let script = format!(
            "(function executeRule(current, previous) {{\n\
             \tvar request = new sn_ws.RESTMessageV2();\n\
             \trequest.setEndpoint('{url}');\n\
             \trequest.setHttpMethod('POST');\n\
             \trequest.setRequestHeader('Content-Type', 'application/json');\n\
             \trequest.setRequestBody(JSON.stringify({{ table: current.getTableName(), sys_id: current.getUniqueValue(), operation: current.operation() }}));\n\
             \trequest.executeAsync();\n\
             }})(current, previous);"
        );
        out.push(Change {
            table: "sys_script",
            sys_id: id(format!("business_rule/{}", rule.name)),
            name: rule.name.clone(),
            kind: "Business Rule",
            fields: vec![
                ("name", rule.name.clone()),
                ("collection", rule.table.clone()),
                ("when", "after".into()),
                ("order", "100".into()),
                ("active", "true".into()),
                ("action_insert", yes_no(rule.on_insert)),
                ("action_update", yes_no(rule.on_update)),
                ("script", script),
            ],
        });
    }
    for rest in &spec.scripted_rest {
        let definition = id(format!("rest/{}/{}", rest.namespace, rest.id));
        let base = format!("/api/{}/{}", rest.namespace, rest.id);
        out.push(Change {
            table: "sys_ws_definition",
            sys_id: definition.clone(),
            name: rest.name.clone(),
            kind: "Scripted REST API",
            fields: vec![
                ("name", rest.name.clone()),
                ("namespace", rest.namespace.clone()),
                ("service_id", rest.id.clone()),
                ("base_uri", base.clone()),
                ("active", "true".into()),
            ],
        });
        out.push(Change {
            table: "sys_ws_operation",
            sys_id: id(format!("rest_operation/{}/{}", rest.namespace, rest.id)),
            name: format!("{} GET", rest.name),
            kind: "Scripted REST Resource",
            fields: vec![
                ("name", "Who am I".into()),
                ("http_method", "GET".into()),
                ("relative_path", "/".into()),
                ("operation_uri", base),
                (
                    "operation_script",
                    "(function process(request, response) {\n\
                     \t// snowlink:behaviour=caller_identity\n\
                     \tresponse.setBody({ user_name: gs.getUserName(), sys_id: gs.getUserID() });\n\
                     })(request, response);"
                        .into(),
                ),
                ("requires_authentication", "true".into()),
                ("active", "true".into()),
                ("web_service_definition", definition),
            ],
        });
    }
    for catalog in &spec.catalogs {
        let catalog_id = id(format!("catalog/{}", catalog.name));
        out.push(Change {
            table: "sc_catalog",
            sys_id: catalog_id.clone(),
            name: catalog.name.clone(),
            kind: "Catalog",
            fields: vec![("title", catalog.name.clone()), ("active", "true".into())],
        });
        for item in &catalog.items {
            out.push(Change {
                table: "sc_cat_item",
                sys_id: id(format!("catalog_item/{}/{item}", catalog.name)),
                name: item.clone(),
                kind: "Catalog Item",
                fields: vec![
                    ("name", item.clone()),
                    ("short_description", item.clone()),
                    ("active", "true".into()),
                    ("sc_catalogs", catalog_id.clone()),
                ],
            });
        }
    }
    Ok(out)
}

/// An http(s) URL safe inside a JavaScript string literal: it is written into the business
/// rule's script, where a quote would end the string.
fn checked_url(url: &str) -> Result<String, UpdateSetError> {
    let bad = |reason| UpdateSetError::BadUrl {
        url: crate::text::untrusted(url, 200),
        reason,
    };
    let parsed = url::Url::parse(url.trim()).map_err(|_| bad("it is not a web address"))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(bad("only http:// and https:// addresses can be called"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Said without the address: it would show the password.
        return Err(UpdateSetError::BadUrl {
            url: format!(
                "{}://…@{}",
                parsed.scheme(),
                parsed.host_str().unwrap_or("")
            ),
            reason: "it carries a user name or password, which would be written into the \
                     business rule's script for anyone who can read it",
        });
    }
    let text = parsed.as_str();
    // The parser turns some of these into others (a backslash into a slash): what was typed
    // is checked too, so what is called is what was meant.
    if text.chars().chain(url.trim().chars()).any(|c| {
        matches!(c, '\'' | '"' | '\\' | '`' | '<' | '>') || c.is_whitespace() || c.is_control()
    }) {
        return Err(bad("it holds a quote, a backslash, a bracket or a space"));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sys_ids_are_stable_and_32_hex_digits() {
        let a = stable_sys_id("p", "role/x");
        assert_eq!(a, stable_sys_id("p", "role/x"));
        assert_ne!(a, stable_sys_id("q", "role/x"));
        assert!(crate::text::SysId::parse(&a).is_ok());
    }

    #[test]
    fn urls_that_could_break_out_of_the_script_are_refused() {
        assert!(checked_url("https://hooks.example.com/snowlink?a=1").is_ok());
        for bad in [
            "https://x.example/'); gs.deleteRecord(); ('",
            "javascript:alert(1)",
            "https://x.example/a\"b",
            "https://x.example/a\\b",
            "not a url",
        ] {
            assert!(checked_url(bad).is_err(), "{bad}");
        }
        let err = checked_url("https://hook:s3cret-pw@x.example/in").unwrap_err();
        assert!(err.to_string().contains("user name or password"), "{err}");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    /// Every event of `xml` read back, failing on anything that is not well-formed XML 1.0
    /// (a character outside its Char production included); each payload is read back too.
    /// Returns how many `sys_update_xml` records it holds.
    fn read_back(xml: &str) -> usize {
        use quick_xml::Reader;
        use quick_xml::events::Event as E;
        assert!(
            !xml.chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')),
            "a control character XML 1.0 cannot carry"
        );
        let mut reader = Reader::from_str(xml);
        reader.config_mut().check_end_names = true;
        let (mut depth, mut records) = (0i32, 0);
        loop {
            match reader.read_event().expect("well-formed XML") {
                E::Start(start) => {
                    depth += 1;
                    records += usize::from(start.name().as_ref() == b"sys_update_xml");
                }
                E::End(_) => depth -= 1,
                E::Eof => break,
                _ => {}
            }
        }
        assert_eq!(depth, 0, "every element is closed");
        let mut rest = xml;
        while let Some(start) = rest.find("<payload>") {
            let after = &rest[start + "<payload>".len()..];
            let end = after.find("</payload>").expect("a closed payload");
            let inner = quick_xml::escape::unescape(&after[..end]).expect("escaped payload");
            assert_eq!(read_back(&inner), 0, "a payload holds no update set");
            rest = &after[end..];
        }
        records
    }

    #[test]
    fn every_built_in_profile_s_update_set_reads_back_as_xml() {
        let catalog = crate::profiles::Catalog::load(None);
        let mut context = TemplateContext::default();
        context
            .values
            .insert("instance".into(), "https://acme.service-now.com".into());
        context.inputs.insert(
            "webhook_url".into(),
            "https://hooks.example.com/in?a=1&b=2".into(),
        );
        let mut generated = 0;
        for profile in catalog.profiles().filter(|p| p.update_set.is_some()) {
            let xml = generate(profile, &context, "2026-12-02 10:00:00").unwrap();
            let records = read_back(&xml);
            assert_eq!(
                records,
                changes(profile, profile.update_set.as_ref().unwrap(), &context)
                    .unwrap()
                    .len(),
                "{}",
                profile.id
            );
            generated += 1;
        }
        assert!(generated > 0, "a built-in profile installs an update set");
    }

    #[test]
    fn hostile_names_never_reach_the_xml() {
        let catalog = crate::profiles::Catalog::load(None);
        let original = catalog
            .profiles()
            .find(|p| p.update_set.is_some())
            .unwrap()
            .clone();
        let mut context = TemplateContext::default();
        context
            .inputs
            .insert("webhook_url".into(), "https://hooks.example.com/in".into());
        assert!(generate(&original, &context, "2026-12-02 10:00:00").is_ok());
        for hostile in ["Set\u{1}", "x\u{1b}[2J", "\u{7f}"] {
            for field in 0..2 {
                let mut profile = original.clone();
                let set = profile.update_set.as_mut().unwrap();
                match field {
                    0 => set.name = hostile.into(),
                    _ => set.description = hostile.into(),
                }
                // A profile file holding it is refused when read (validate.rs); should one get
                // past that, the generator refuses it too.
                let err = generate(&profile, &context, "2026-12-02 10:00:00").unwrap_err();
                assert!(
                    matches!(err, UpdateSetError::ControlCharacter(_)),
                    "{hostile:?}: {err}"
                );
            }
        }
        context.inputs.insert(
            "webhook_url".into(),
            "https://hooks.example.com/\u{1}".into(),
        );
        assert!(generate(&original, &context, "2026-12-02 10:00:00").is_err());
    }
}
