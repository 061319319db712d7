//! How records are rendered by the REST APIs: every value a string, reference fields as
//! `{link, value}`, `sysparm_display_value=true|false|all`, `sysparm_exclude_reference_link`,
//! `sysparm_fields` (dot-walks included), and fields hidden by field-level ACLs left out.

use serde_json::{Map, Value, json};

use crate::db::schema::FieldKind;
use crate::platform::acl::Acls;
use crate::platform::identity::Caller;
use crate::platform::instance::Instance;

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

/// What `sysparm_display_value=true` shows for `value` in a field of this kind: a choice's
/// label, the referenced record's display field (empty when it is gone), else the value.
pub fn display_of(instance: &Instance, kind: &FieldKind, value: &str) -> String {
    match kind {
        FieldKind::Text => value.to_owned(),
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
    fields: Vec<String>,
}

impl<'a> Renderer<'a> {
    /// Fields are fixed per request: the requested ones, else every field of the table, minus
    /// those a field-level read ACL hides from this caller.
    pub fn new(
        instance: &'a Instance,
        table: &'a str,
        options: RenderOptions,
        acls: &Acls,
        caller: &Caller,
    ) -> Self {
        let fields = match &options.fields {
            Some(fields) => fields.clone(),
            None => instance.db.schemas.field_names(table),
        };
        let fields = fields
            .into_iter()
            .filter(|f| {
                acls.field_readable(instance, caller, table, f.split('.').next().unwrap_or(f))
            })
            .collect();
        Self {
            instance,
            table,
            options,
            fields,
        }
    }

    pub fn record(&self, physical: &str, row: usize) -> Value {
        let Some(stored) = self.instance.db.tables.get(physical) else {
            return Value::Object(Map::new());
        };
        let mut out = Map::new();
        for field in &self.fields {
            if let Some((base, inner)) = field.split_once('.') {
                // A dot-walked field: the value of `inner` on the referenced record.
                if let Some(FieldKind::Reference(target)) =
                    self.instance.db.schemas.field(self.table, base)
                {
                    let id = stored.value(row, base);
                    let value = self
                        .instance
                        .get(target, id)
                        .and_then(|r| r.get(inner).cloned())
                        .unwrap_or_default();
                    out.insert(field.clone(), self.plain(value.clone(), value));
                }
                continue;
            }
            let Some(kind) = self.instance.db.schemas.field(self.table, field) else {
                continue;
            };
            let value = stored.value(row, field).to_owned();
            out.insert(field.clone(), self.value(kind, value));
        }
        Value::Object(out)
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
            FieldKind::Password2 => {
                let shown = encrypted(&value);
                self.plain(shown.clone(), shown)
            }
            FieldKind::Choice(_) => self.plain(display_of(self.instance, kind, &value), value),
            FieldKind::Reference(target) => {
                if value.is_empty() {
                    return self.plain(String::new(), value);
                }
                let display = display_of(self.instance, kind, &value);
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
