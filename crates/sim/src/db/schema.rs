//! Table definitions: which tables exist, their fields, which fields are references to which
//! table, and the parent table each extends. ServiceNow decides a lot from this dictionary: an
//! unknown table answers 400 "Invalid table", an unknown query field is silently dropped, an
//! unknown field in a POST body is ignored, and `incident` extends `task` so that queries and
//! ACLs on `task` cover incidents. Tables created by a committed update set (`sys_db_object`,
//! `sys_dictionary`) are added here at run time.

use std::collections::BTreeMap;

/// What kind of value a field holds. Every value is a string on the wire; the kind decides
/// how a reference is rendered and what its display value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text, numbers, dates and booleans: rendered as the stored string.
    Text,
    /// A date-time, stored in UTC as `2026-01-31 23:59:59`; its display value is in the
    /// caller's time zone and formats (servicenow.md 2.17).
    DateTime,
    /// A reference to a record of the named table, rendered as `{link, value}`.
    Reference(String),
    /// A choice list: stored value and display label.
    Choice(&'static [(&'static str, &'static str)]),
    /// An encrypted two-way field (`password2`, such as a client secret): kept so the platform
    /// can use it, but the Table API reads it back encrypted and saves a write only with
    /// `sysparm_input_display_value=true` (servicenow.md item 32).
    Password2,
}

/// One table's definition.
#[derive(Debug, Clone)]
pub struct TableSchema {
    pub name: String,
    /// The table this one extends (`incident` → `task`).
    pub parent: Option<String>,
    /// Fields defined on this table itself (inherited ones live on the parent).
    pub fields: BTreeMap<String, FieldKind>,
    /// Prefix of the auto-numbered `number` field (`INC`, `REQ`, …), if the table has one.
    pub number_prefix: Option<String>,
    /// The field whose value is the record's display value (what a reference shows).
    pub display_field: String,
}

/// Fields every ServiceNow record carries.
pub const SYSTEM_FIELDS: &[&str] = &[
    "sys_id",
    "sys_created_on",
    "sys_created_by",
    "sys_updated_on",
    "sys_updated_by",
    "sys_mod_count",
];

/// The dictionary of all tables of the instance.
#[derive(Debug, Clone)]
pub struct Schemas {
    tables: BTreeMap<String, TableSchema>,
}

impl Schemas {
    /// A dictionary of `tables`.
    pub fn of(tables: Vec<TableSchema>) -> Self {
        Self {
            tables: tables.into_iter().map(|t| (t.name.clone(), t)).collect(),
        }
    }

    /// Every table's schema, by name.
    pub fn all(&self) -> impl Iterator<Item = &TableSchema> {
        self.tables.values()
    }

    pub fn exists(&self, table: &str) -> bool {
        self.tables.contains_key(table)
    }

    /// The table followed by its ancestors: `incident` → `[incident, task]`.
    pub fn ancestry(&self, table: &str) -> Vec<String> {
        self.ancestors(table)
            .map(|schema| schema.name.clone())
            .collect()
    }

    /// Walks `table` and its parents. A cycle in a hostile update set must not loop forever, so
    /// a table already visited ends the walk.
    fn ancestors<'a>(&'a self, table: &str) -> impl Iterator<Item = &'a TableSchema> + 'a {
        let mut current = self.tables.get(table);
        let mut seen: Vec<&'a str> = Vec::new();
        std::iter::from_fn(move || {
            let schema = current?;
            if seen.contains(&schema.name.as_str()) {
                return None;
            }
            seen.push(&schema.name);
            current = schema.parent.as_deref().and_then(|p| self.tables.get(p));
            Some(schema)
        })
    }

    /// The table followed by every table that extends it, directly or not.
    pub fn with_descendants(&self, table: &str) -> Vec<String> {
        self.tables
            .values()
            .filter(|schema| self.ancestry(&schema.name).iter().any(|t| t == table))
            .map(|schema| schema.name.clone())
            .collect()
    }

    /// The kind of `field` on `table`, inherited fields included; `None` when unknown.
    pub fn field(&self, table: &str, field: &str) -> Option<&FieldKind> {
        if matches!(field, "sys_created_on" | "sys_updated_on") {
            return Some(&FieldKind::DateTime);
        }
        if SYSTEM_FIELDS.contains(&field) {
            return Some(&FieldKind::Text);
        }
        self.ancestors(table)
            .find_map(|schema| schema.fields.get(field))
    }

    /// Every field of `table`, system and inherited ones included, in a stable order.
    pub fn field_names(&self, table: &str) -> Vec<String> {
        let mut names: Vec<String> = SYSTEM_FIELDS.iter().map(|f| (*f).to_owned()).collect();
        for t in self.ancestry(table) {
            if let Some(schema) = self.tables.get(&t) {
                names.extend(schema.fields.keys().cloned());
            }
        }
        names.sort();
        names.dedup();
        names
    }

    pub fn number_prefix(&self, table: &str) -> Option<String> {
        self.tables.get(table).and_then(|s| s.number_prefix.clone())
    }

    pub fn display_field(&self, table: &str) -> String {
        self.tables
            .get(table)
            .map_or_else(|| "sys_id".to_owned(), |s| s.display_field.clone())
    }

    /// Creates a table the way a committed `sys_db_object` record does. An existing table is
    /// left alone apart from its parent, which the record may set.
    pub fn define_table(&mut self, name: &str, parent: Option<&str>, number_prefix: Option<&str>) {
        let parent = parent
            .filter(|p| !p.is_empty() && self.tables.contains_key(*p))
            .map(str::to_owned);
        let entry = self
            .tables
            .entry(name.to_owned())
            .or_insert_with(|| TableSchema {
                name: name.to_owned(),
                parent: None,
                fields: BTreeMap::new(),
                number_prefix: None,
                display_field: "sys_id".to_owned(),
            });
        if parent.is_some() {
            entry.parent = parent;
        }
        if let Some(prefix) = number_prefix.filter(|p| !p.is_empty()) {
            entry.number_prefix = Some(prefix.to_owned());
        }
    }

    /// Adds a column the way a committed `sys_dictionary` record does.
    pub fn define_field(&mut self, table: &str, field: &str, reference: Option<&str>) -> bool {
        let Some(schema) = self.tables.get_mut(table) else {
            return false;
        };
        let kind = match reference.filter(|r| !r.is_empty()) {
            Some(target) => FieldKind::Reference(target.to_owned()),
            None => FieldKind::Text,
        };
        schema.fields.insert(field.to_owned(), kind);
        true
    }
}

/// A table's schema from its name, the table it extends, its display field, its number
/// prefix, its text fields and its `(field, table)` references: how the built-in tables are
/// written.
pub fn table(
    name: &str,
    parent: Option<&str>,
    display_field: &str,
    number_prefix: Option<&str>,
    text: &[&str],
    references: &[(&str, &str)],
) -> TableSchema {
    let mut fields: BTreeMap<String, FieldKind> = text
        .iter()
        .map(|f| ((*f).to_owned(), FieldKind::Text))
        .collect();
    for (field, target) in references {
        fields.insert(
            (*field).to_owned(),
            FieldKind::Reference((*target).to_owned()),
        );
    }
    TableSchema {
        name: name.to_owned(),
        parent: parent.map(str::to_owned),
        fields,
        number_prefix: number_prefix.map(str::to_owned),
        display_field: display_field.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn incident_inherits_task_fields_and_task_covers_incident() {
        let schemas = crate::db::tables::builtin_schemas();
        assert_eq!(schemas.ancestry("incident"), vec!["incident", "task"]);
        assert!(schemas.field("incident", "correlation_id").is_some());
        assert!(schemas.field("task", "caller_id").is_none());
        let family = schemas.with_descendants("task");
        assert!(
            family.contains(&"incident".to_owned()) && family.contains(&"sc_request".to_owned())
        );
        assert!(!family.contains(&"sys_user".to_owned()));
    }

    #[test]
    fn a_parent_cycle_does_not_hang() {
        let mut schemas = crate::db::tables::builtin_schemas();
        schemas.define_table("u_a", None, None);
        schemas.define_table("u_b", Some("u_a"), None);
        schemas.define_table("u_a", Some("u_b"), None);
        assert_eq!(schemas.ancestry("u_a").len(), 2);
    }
}
