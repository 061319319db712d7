//! Update sets in the "unload" XML format: import (→ `sys_remote_update_set` in state
//! `loaded` with its `sys_update_xml` rows), preview (problems such as a referenced table that
//! does not exist, recorded in `sys_update_preview_problem`; state `previewed`) and commit (each
//! payload applied as a record insert, update or delete; state `committed`). Committed
//! `sys_db_object` / `sys_dictionary` payloads create tables and columns, so an uncommitted
//! update set shows as 400 "Invalid table" exactly as on an instance.

use std::collections::{BTreeMap, BTreeSet};

use quick_xml::Reader;
use quick_xml::events::{BytesRef, Event};

use crate::db::store::Record;
use crate::platform::dictionary_xml::parse_database;
use crate::platform::instance::{Instance, now_text};

/// One record element of an XML document.
#[derive(Debug, Clone, Default)]
pub struct XmlRecord {
    pub table: String,
    pub action: String,
    pub fields: Record,
    /// `display_value` attributes of reference fields (`<super_class display_value="task">`).
    pub display: BTreeMap<String, String>,
}

/// Why an update set operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateSetError {
    #[error("The XML is not an update set: {0}")]
    Invalid(String),
    #[error("No Record found")]
    NotFound,
    #[error("Update set must be previewed before it is committed (state: {0})")]
    NotPreviewed(String),
    #[error("Update set has {0} unresolved preview problem(s)")]
    Problems(usize),
}

fn entity(reference: &BytesRef<'_>) -> String {
    if let Ok(Some(c)) = reference.resolve_char_ref() {
        return c.to_string();
    }
    let name = reference
        .decode()
        .map(|n| n.into_owned())
        .unwrap_or_default();
    match name.as_str() {
        "amp" => "&".into(),
        "lt" => "<".into(),
        "gt" => ">".into(),
        "quot" => "\"".into(),
        "apos" => "'".into(),
        other => format!("&{other};"),
    }
}

fn attribute(start: &quick_xml::events::BytesStart<'_>, name: &[u8]) -> Option<String> {
    start
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// The records directly under the root element (`<unload>` or `<record_update>`): each child
/// element is a record of the table it is named after, its children are the fields.
pub fn parse_records(xml: &str) -> Result<Vec<XmlRecord>, String> {
    let mut reader = Reader::from_str(xml);
    let mut records = Vec::new();
    let mut depth = 0usize;
    let mut current: Option<XmlRecord> = None;
    let mut field: Option<(String, String)> = None;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(start) => {
                depth += 1;
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                match depth {
                    2 => {
                        let action = attribute(&start, b"action")
                            .unwrap_or_else(|| "INSERT_OR_UPDATE".into());
                        current = Some(XmlRecord {
                            table: name,
                            action,
                            ..XmlRecord::default()
                        });
                    }
                    3 => {
                        if let (Some(record), Some(display)) =
                            (current.as_mut(), attribute(&start, b"display_value"))
                        {
                            record.display.insert(name.clone(), display);
                        }
                        field = Some((name, String::new()));
                    }
                    _ => {}
                }
            }
            Event::Empty(start) if depth == 1 => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                let action =
                    attribute(&start, b"action").unwrap_or_else(|| "INSERT_OR_UPDATE".into());
                records.push(XmlRecord {
                    table: name,
                    action,
                    ..XmlRecord::default()
                });
            }
            Event::Empty(start) if depth == 2 => {
                if let Some(record) = current.as_mut() {
                    record.fields.insert(
                        String::from_utf8_lossy(start.name().as_ref()).into_owned(),
                        String::new(),
                    );
                }
            }
            Event::Text(text) => {
                if let Some((_, value)) = field.as_mut() {
                    value.push_str(&text.decode().map_err(|e| e.to_string())?);
                }
            }
            Event::CData(data) => {
                if let Some((_, value)) = field.as_mut() {
                    value.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Event::GeneralRef(reference) => {
                if let Some((_, value)) = field.as_mut() {
                    value.push_str(&entity(&reference));
                }
            }
            Event::End(_) => {
                match depth {
                    2 => records.extend(current.take()),
                    3 => {
                        if let (Some(record), Some((name, value))) =
                            (current.as_mut(), field.take())
                        {
                            record.fields.insert(name, value);
                        }
                    }
                    _ => {}
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 {
        return Err("the document ends inside an element".into());
    }
    Ok(records)
}

fn id_of(record: &Record) -> String {
    record.get("sys_id").cloned().unwrap_or_default()
}

/// Imports an unload document; returns the new `sys_remote_update_set` sys_id.
pub fn import(instance: &mut Instance, xml: &str, by: &str) -> Result<String, UpdateSetError> {
    let records = parse_records(xml).map_err(UpdateSetError::Invalid)?;
    let header = records
        .iter()
        .find(|r| r.table == "sys_remote_update_set" || r.table == "sys_update_set")
        .ok_or_else(|| UpdateSetError::Invalid("no <sys_remote_update_set> element".into()))?;
    let mut fields = header.fields.clone();
    let original = fields.remove("sys_id").unwrap_or_default();
    fields
        .entry("remote_sys_id".into())
        .or_insert(original.clone());
    fields.insert("state".into(), "loaded".into());
    fields.remove("commit_date");
    // Importing the same document twice makes a second retrieved set, as on the instance.
    if !original.is_empty() && instance.get("sys_remote_update_set", &original).is_none() {
        fields.insert("sys_id".into(), original);
    }
    let set = instance
        .insert("sys_remote_update_set", fields, by)
        .map_err(|e| UpdateSetError::Invalid(e.to_string()))?;
    let set_id = id_of(&set);
    for update in records.iter().filter(|r| r.table == "sys_update_xml") {
        let mut fields = update.fields.clone();
        fields.remove("sys_id");
        fields.insert("remote_update_set".into(), set_id.clone());
        let _ = instance.insert("sys_update_xml", fields, by);
    }
    Ok(set_id)
}

/// The record a `sys_update_xml` payload carries.
fn payload_record(update: &Record) -> Option<XmlRecord> {
    let payload = update.get("payload")?;
    parse_records(payload).ok()?.into_iter().next()
}

/// Tables whose names mark them as customer-made (`u_…`, scoped `x_…`). Only for those can the
/// simulator tell "missing"; other platform tables it does not model are applied as unknown.
fn is_custom(table: &str) -> bool {
    table.starts_with("u_") || table.starts_with("x_")
}

fn updates_of(instance: &Instance, set_id: &str) -> Vec<Record> {
    instance.query("sys_update_xml", &format!("remote_update_set={set_id}"))
}

/// Whether the set changes ACLs: one of its customer updates is a `sys_security_acl…` record.
pub fn holds_acls(instance: &Instance, set_id: &str) -> bool {
    updates_of(instance, set_id).iter().any(|u| {
        u.get("payload")
            .is_some_and(|p| p.contains("<record_update table=\"sys_security_acl"))
    })
}

/// Previews an imported set: records problems and moves it to `previewed`. Returns the
/// problem descriptions.
pub fn preview(
    instance: &mut Instance,
    set_id: &str,
    by: &str,
) -> Result<Vec<String>, UpdateSetError> {
    instance
        .get("sys_remote_update_set", set_id)
        .ok_or(UpdateSetError::NotFound)?;
    for old in instance.query(
        "sys_update_preview_problem",
        &format!("remote_update_set={set_id}"),
    ) {
        let _ = instance.delete("sys_update_preview_problem", &id_of(&old));
    }
    let updates = updates_of(instance, set_id);
    let payloads: Vec<(Record, Option<XmlRecord>)> = updates
        .into_iter()
        .map(|u| {
            let payload = payload_record(&u);
            (u, payload)
        })
        .collect();
    let new_tables: BTreeSet<String> = payloads
        .iter()
        .filter_map(|(_, p)| p.as_ref())
        .filter(|p| p.table == "sys_db_object")
        .filter_map(|p| p.fields.get("name").cloned())
        .chain(
            payloads
                .iter()
                .filter_map(|(u, _)| u.get("payload"))
                .flat_map(|xml| parse_database(xml))
                .map(|t| t.name),
        )
        .collect();
    let new_ids: BTreeSet<String> = payloads
        .iter()
        .filter_map(|(_, p)| p.as_ref())
        .filter_map(|p| p.fields.get("sys_id").cloned())
        .collect();
    let table_exists = |name: &str| {
        !is_custom(name) || instance.db.schemas.exists(name) || new_tables.contains(name)
    };
    let mut problems = Vec::new();
    for (update, payload) in &payloads {
        let Some(payload) = payload else {
            problems.push((
                id_of(update),
                "Could not parse the payload of this update".to_owned(),
            ));
            continue;
        };
        let missing_table =
            |name: &str| format!("Could not find a table named {name} referenced in this update");
        if payload.table != "database" && !table_exists(&payload.table) {
            problems.push((id_of(update), missing_table(&payload.table)));
        }
        let referenced = match payload.table.as_str() {
            "sys_script" => payload.fields.get("collection").cloned(),
            "sys_security_acl" if payload.fields.get("type").is_none_or(|t| t == "record") => {
                payload
                    .fields
                    .get("name")
                    .map(|n| n.split('.').next().unwrap_or("").to_owned())
            }
            "sys_dictionary" => payload.fields.get("name").cloned(),
            _ => None,
        };
        if let Some(table) = referenced.filter(|t| !t.is_empty() && *t != "*" && !table_exists(t)) {
            problems.push((id_of(update), missing_table(&table)));
        }
        if payload.table == "sys_security_acl_role" {
            let role = payload
                .fields
                .get("sys_user_role")
                .cloned()
                .unwrap_or_default();
            if instance.get("sys_user_role", &role).is_none() && !new_ids.contains(&role) {
                problems.push((
                    id_of(update),
                    "Could not find a record in sys_user_role for column sys_user_role referenced in this update".into(),
                ));
            }
        }
    }
    for (update_id, description) in &problems {
        let problem = Record::from([
            ("type".into(), "error".into()),
            ("description".into(), description.clone()),
            ("remote_update_set".into(), set_id.to_owned()),
            ("remote_update".into(), update_id.clone()),
        ]);
        let _ = instance.insert("sys_update_preview_problem", problem, by);
    }
    let state = Record::from([("state".into(), "previewed".into())]);
    let _ = instance.update("sys_remote_update_set", set_id, state, by);
    Ok(problems.into_iter().map(|(_, d)| d).collect())
}

/// Resolves one preview problem: `accept` applies its update anyway, otherwise it is skipped.
pub fn resolve_problem(
    instance: &mut Instance,
    problem_id: &str,
    accept: bool,
    by: &str,
) -> Result<(), UpdateSetError> {
    let status = if accept { "ignored" } else { "skipped" };
    let fields = Record::from([("status".into(), status.into())]);
    instance
        .update("sys_update_preview_problem", problem_id, fields, by)
        .map(|_| ())
        .map_err(|_| UpdateSetError::NotFound)
}

/// Commits a previewed set with no open problems.
pub fn commit(instance: &mut Instance, set_id: &str, by: &str) -> Result<usize, UpdateSetError> {
    let set = instance
        .get("sys_remote_update_set", set_id)
        .ok_or(UpdateSetError::NotFound)?;
    let state = set.get("state").cloned().unwrap_or_default();
    if state != "previewed" {
        return Err(UpdateSetError::NotPreviewed(state));
    }
    // A problem is resolved as on the instance: "Accept remote update" (status `ignored`)
    // applies the update anyway, "Skip remote update" (status `skipped`) leaves it out.
    let problems = instance.query(
        "sys_update_preview_problem",
        &format!("remote_update_set={set_id}"),
    );
    let open = problems
        .iter()
        .filter(|p| p.get("status").is_none_or(String::is_empty))
        .count();
    if open > 0 {
        return Err(UpdateSetError::Problems(open));
    }
    let skipped: BTreeSet<&str> = problems
        .iter()
        .filter(|p| p.get("status").is_some_and(|s| s == "skipped"))
        .filter_map(|p| p.get("remote_update").map(String::as_str))
        .collect();
    let mut payloads: Vec<(XmlRecord, String)> = updates_of(instance, set_id)
        .iter()
        .filter(|u| !skipped.contains(id_of(u).as_str()))
        .filter_map(|u| Some((payload_record(u)?, u.get("payload")?.clone())))
        .collect();
    // Tables and columns first, so the records that use them find them.
    payloads.sort_by_key(|(p, _)| match p.table.as_str() {
        "database" | "sys_db_object" => 0,
        "sys_dictionary" => 1,
        "sys_user_role" => 2,
        _ => 3,
    });
    let mut applied = 0;
    for (mut payload, raw) in payloads {
        if payload.table == "database" {
            applied += apply_database(instance, &raw, by);
            continue;
        }
        let sys_id = payload.fields.get("sys_id").cloned().unwrap_or_default();
        if payload.action == "DELETE" {
            applied += usize::from(instance.delete(&payload.table, &sys_id).is_ok());
            continue;
        }
        if let Some(parent) = payload
            .display
            .get("super_class")
            .filter(|p| instance.db.schemas.exists(p))
        {
            payload.fields.insert("super_class".into(), parent.clone());
        }
        let schema_change = matches!(payload.table.as_str(), "sys_db_object" | "sys_dictionary");
        applied += usize::from(instance.insert(&payload.table, payload.fields, by).is_ok());
        if schema_change {
            crate::platform::persist::define_custom_tables(instance);
        }
    }
    let done = Record::from([
        ("state".into(), "committed".into()),
        ("commit_date".into(), now_text()),
    ]);
    let _ = instance.update("sys_remote_update_set", set_id, done, by);
    Ok(applied)
}

/// Creates the tables of a `<database>` payload through `sys_db_object` / `sys_dictionary`
/// records, so they also survive a save and load.
fn apply_database(instance: &mut Instance, xml: &str, by: &str) -> usize {
    let mut applied = 0;
    for table in parse_database(xml) {
        // `super_class` references the extended table's own dictionary row.
        let super_class = instance
            .sys_id_by("sys_db_object", "name", &table.extends)
            .unwrap_or_else(|| table.extends.clone());
        let object = Record::from([
            ("name".into(), table.name.clone()),
            ("label".into(), table.label.clone()),
            ("super_class".into(), super_class),
        ]);
        applied += usize::from(instance.insert("sys_db_object", object, by).is_ok());
        crate::platform::persist::define_custom_tables(instance);
        for (field, reference) in &table.fields {
            let column = Record::from([
                ("name".into(), table.name.clone()),
                ("element".into(), field.clone()),
                ("reference".into(), reference.clone()),
            ]);
            let _ = instance.insert("sys_dictionary", column, by);
        }
        crate::platform::persist::define_custom_tables(instance);
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdata_and_escaped_payloads_parse_alike() {
        let inner = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><record_update table=\"sys_user_role\">\
                     <sys_user_role action=\"INSERT_OR_UPDATE\"><name>x_role</name><description>a &amp; b</description>\
                     </sys_user_role></record_update>";
        let escaped = inner
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        for payload in [format!("<![CDATA[{inner}]]>"), escaped] {
            let doc = format!(
                "<unload><sys_update_xml action=\"INSERT_OR_UPDATE\"><payload>{payload}</payload></sys_update_xml></unload>"
            );
            let records = parse_records(&doc).unwrap();
            let inner = parse_records(&records[0].fields["payload"]).unwrap();
            assert_eq!(inner[0].table, "sys_user_role");
            assert_eq!(inner[0].fields["description"], "a & b");
        }
    }

    #[test]
    fn hostile_xml_is_an_error_not_a_panic() {
        for doc in [
            "",
            "<unload>",
            "<unload><a><b>",
            "&&&",
            "<unload><x a='1' a='2'/></unload>",
            "<<<>>>",
        ] {
            let _ = parse_records(doc);
        }
        assert!(parse_records("<unload><a>").is_err());
    }
}
