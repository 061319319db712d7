//! The dictionary a fresh instance answers from: `sys_db_object`, one row per table with
//! `super_class` pointing at the table it extends (`incident` → `task`) and `number_ref` at its
//! numbering in `sys_number` (prefix `INC`, the next number, 7 digits), and `sys_choice`, the
//! choice list of every choice field (`state`, `priority`, `impact`, `urgency`…) with its labels
//! in order, for each table that has the field (servicenow.md 4.10). Both are written from the simulator's own schemas, so they
//! always describe the tables it serves.

use std::collections::BTreeMap;

use crate::db::schema::FieldKind;
use crate::db::store::record_of;
use crate::platform::instance::Instance;

/// Writes the dictionary's rows; a table's parent comes before it.
pub fn seed(instance: &mut Instance) {
    let mut schemas: Vec<_> = instance.db.schemas.all().cloned().collect();
    // Parents first: a table's row references its parent's.
    schemas.sort_by_key(|s| instance.db.schemas.ancestry(&s.name).len());
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for schema in &schemas {
        let super_class = schema
            .parent
            .as_ref()
            .and_then(|p| ids.get(p).cloned())
            .unwrap_or_default();
        let mut row = record_of(&[
            ("name", &schema.name),
            ("label", &label(&schema.name)),
            ("super_class", &super_class),
            ("is_extendable", "true"),
        ]);
        if let Some(prefix) = &schema.number_prefix {
            let numbering = record_of(&[
                ("category", &schema.name),
                ("prefix", prefix),
                ("number", "10001"),
                ("maximum_digits", "7"),
            ]);
            if let Ok(numbering) = instance.insert("sys_number", numbering, "system") {
                row.insert("number_ref".into(), numbering["sys_id"].clone());
            }
        }
        if let Ok(created) = instance.insert("sys_db_object", row, "system") {
            ids.insert(schema.name.clone(), created["sys_id"].clone());
        }
    }
    // Each table has its own rows for the choice fields it has, inherited ones included
    // (`name=incident^element=state`), as clients look them up by their table.
    for schema in &schemas {
        let inherited: Vec<(String, FieldKind)> = instance
            .db
            .schemas
            .ancestry(&schema.name)
            .iter()
            .filter_map(|t| schemas.iter().find(|s| &s.name == t))
            .flat_map(|s| s.fields.clone())
            .collect();
        for (field, kind) in &inherited {
            let FieldKind::Choice(choices) = kind else {
                continue;
            };
            for (sequence, (value, text)) in choices.iter().enumerate() {
                let row = record_of(&[
                    ("name", &schema.name),
                    ("element", field),
                    ("value", value),
                    ("label", text),
                    ("sequence", &sequence.to_string()),
                    ("inactive", "false"),
                    ("language", "en"),
                ]);
                let _ = instance.insert("sys_choice", row, "system");
            }
        }
    }
}

/// `change_request` → "Change Request".
fn label(table: &str) -> String {
    table
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}
