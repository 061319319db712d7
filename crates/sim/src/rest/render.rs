//! How records are rendered by the REST APIs: every value a string, reference fields as
//! `{link, value}`, `sysparm_display_value=true|false|all`, `sysparm_exclude_reference_link`,
//! `sysparm_fields` (dot-walks included), and fields hidden by field-level ACLs left out.

use serde_json::{Map, Value, json};

use crate::db::schema::FieldKind;
use crate::platform::acl::Acls;
use crate::platform::identity::Caller;
use crate::platform::instance::Instance;
use crate::rest::dates::Viewer;

/// `sysparm_display_value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayMode {
    Value,
    Display,
    All,
}

/// Rendering options read from the request's parameters.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub display: DisplayMode,
    pub exclude_links: bool,
    pub fields: Option<Vec<String>>,
}

impl RenderOptions {
    pub fn from_params(params: &[(String, String)]) -> Self {
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let display = match get("sysparm_display_value").map(str::to_ascii_lowercase) {
            Some(v) if v == "true" => DisplayMode::Display,
            Some(v) if v == "all" => DisplayMode::All,
            _ => DisplayMode::Value,
        };
        let fields = get("sysparm_fields")
            .filter(|f| !f.trim().is_empty())
            .map(|f| {
                f.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            });
        Self {
            display,
            exclude_links: crate::rest::params::flag(params, "sysparm_exclude_reference_link"),
            fields,
        }
    }
}

/// What `sysparm_display_value=true` shows `viewer` for `value` in a field of this kind: a
/// choice's label, the referenced record's display field (empty when it is gone), a date-time
/// in their zone and formats, else the value.
pub fn display_of(instance: &Instance, viewer: &Viewer, kind: &FieldKind, value: &str) -> String {
    match kind {
        FieldKind::Text => value.to_owned(),
        FieldKind::DateTime => viewer.show(value),
        FieldKind::Password2 => encrypted(value),
        FieldKind::Choice(choices) => choices
            .iter()
            .find(|(v, _)| *v == value)
            .map_or(value.to_owned(), |(_, l)| (*l).to_owned()),
        FieldKind::Reference(_) if value.is_empty() => String::new(),
        FieldKind::Reference(target) => instance
            .get(target, value)
            .and_then(|r| r.get(&instance.db.schemas.display_field(target)).cloned())
            .unwrap_or_default(),
    }
}

/// How the Table API shows an encrypted field: an opaque text derived from the value, never
/// the value (empty stays empty).
fn encrypted(value: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    if value.is_empty() {
        return String::new();
    }
    let digest = Sha256::digest(format!("password2:{value}"));
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// Renders records of one query table for one caller.
pub struct Renderer<'a> {
    pub instance: &'a Instance,
    pub table: &'a str,
    pub options: RenderOptions,
    fields: Vec<Column>,
    viewer: Viewer,
}

/// One field to render: the table's own, or one reached through references
/// (`caller_id.manager.email`).
enum Column {
    Own(String),
    Walked {
        name: String,
        /// The reference fields followed, from the query table on, each with the table it
        /// points to (never empty).
        hops: Vec<(String, String)>,
        /// The field read on the last referenced record, and its kind there.
        last: String,
        kind: FieldKind,
    },
}

/// References a `sysparm_fields` entry may walk through.
const MAX_HOPS: usize = 4;

impl<'a> Renderer<'a> {
    /// Fields are fixed per request: the requested ones, else every field of the table, minus
    /// those a field-level read ACL hides from this caller — for a dot-walked field, on every
    /// table it passes through — and those that name no field.
    pub fn new(
        instance: &'a Instance,
        table: &'a str,
        options: RenderOptions,
        acls: &Acls,
        caller: &Caller,
    ) -> Self {
        let names = match &options.fields {
            Some(fields) => fields.clone(),
            None => instance.db.schemas.field_names(table),
        };
        let fields = names
            .into_iter()
            .filter_map(|name| column(instance, acls, caller, table, name))
            .collect();
        Self {
            instance,
            table,
            options,
            fields,
            viewer: Viewer::of(instance, &caller.user_id),
        }
    }

    pub fn record(&self, physical: &str, row: usize) -> Value {
        let Some(stored) = self.instance.db.tables.get(physical) else {
            return Value::Object(Map::new());
        };
        let mut out = Map::new();
        for field in &self.fields {
            match field {
                Column::Own(name) => {
                    if let Some(kind) = self.instance.db.schemas.field(self.table, name) {
                        let value = stored.value(row, name).to_owned();
                        out.insert(name.clone(), self.value(kind, value));
                    }
                }
                Column::Walked {
                    name,
                    hops,
                    last,
                    kind,
                } => {
                    let first = hops
                        .first()
                        .map_or("", |(field, _)| stored.value(row, field));
                    let value = self.walk(first, hops, last);
                    out.insert(name.clone(), self.value(kind, value));
                }
            }
        }
        Value::Object(out)
    }

    /// The value of `last` on the record reached through `hops`, starting from the first
    /// hop's value `first`; empty when a reference on the way is empty or gone.
    fn walk(&self, first: &str, hops: &[(String, String)], last: &str) -> String {
        let mut id = first.to_owned();
        let mut record = None;
        for (at, (_, target)) in hops.iter().enumerate() {
            let Some(next) = self.instance.get(target, &id) else {
                return String::new();
            };
            if let Some((field, _)) = hops.get(at + 1) {
                id = next.get(field).cloned().unwrap_or_default();
            }
            record = Some(next);
        }
        record
            .and_then(|r| r.get(last).cloned())
            .unwrap_or_default()
    }

    fn plain(&self, display: String, value: String) -> Value {
        match self.options.display {
            DisplayMode::Value => json!(value),
            DisplayMode::Display => json!(display),
            DisplayMode::All => json!({ "display_value": display, "value": value }),
        }
    }

    fn value(&self, kind: &FieldKind, value: String) -> Value {
        match kind {
            FieldKind::Text => self.plain(value.clone(), value),
            FieldKind::DateTime => self.plain(self.viewer.show(&value), value),
            FieldKind::Password2 => {
                let shown = encrypted(&value);
                self.plain(shown.clone(), shown)
            }
            FieldKind::Choice(_) => {
                self.plain(display_of(self.instance, &self.viewer, kind, &value), value)
            }
            FieldKind::Reference(target) => {
                if value.is_empty() {
                    return self.plain(String::new(), value);
                }
                let display = display_of(self.instance, &self.viewer, kind, &value);
                if self.options.exclude_links {
                    return self.plain(display, value);
                }
                let link = format!("{}/api/now/table/{target}/{value}", self.instance.base_url);
                match self.options.display {
                    DisplayMode::Value => json!({ "link": link, "value": value }),
                    DisplayMode::Display => json!({ "display_value": display, "link": link }),
                    DisplayMode::All => {
                        json!({ "display_value": display, "link": link, "value": value })
                    }
                }
            }
        }
    }
}

/// The column `name` asks for on `table`, if it names a field this caller may read.
fn column(
    instance: &Instance,
    acls: &Acls,
    caller: &Caller,
    table: &str,
    name: String,
) -> Option<Column> {
    let mut parts: Vec<&str> = name.split('.').collect();
    let last = parts.pop()?.to_owned();
    if parts.len() > MAX_HOPS {
        return None;
    }
    let mut at = table.to_owned();
    let mut hops = Vec::new();
    for hop in &parts {
        if !acls.field_readable(instance, caller, &at, hop) {
            return None;
        }
        let Some(FieldKind::Reference(target)) = instance.db.schemas.field(&at, hop) else {
            return None;
        };
        hops.push(((*hop).to_owned(), target.clone()));
        at = target.clone();
    }
    if !acls.field_readable(instance, caller, &at, &last) {
        return None;
    }
    if parts.is_empty() {
        // A field of the table itself; an unknown one is left out when rendering.
        return Some(Column::Own(name));
    }
    let kind = instance.db.schemas.field(&at, &last)?.clone();
    Some(Column::Walked {
        hops,
        last,
        kind,
        name,
    })
}
