//! Saving and loading the state as one JSON document, so a demo survives a restart. Tables
//! defined by committed update sets are re-created from their `sys_db_object` and
//! `sys_dictionary` records on load. Sessions, authorization codes and queued calls are
//! transient and not saved.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::db::store::Record;
use crate::platform::instance::{Credentials, Instance, Release};

#[derive(Serialize, Deserialize)]
struct Snapshot {
    format: u32,
    tables: BTreeMap<String, Vec<Record>>,
    credentials: BTreeMap<String, Credentials>,
    sequences: BTreeMap<String, u64>,
    release: Release,
}

const FORMAT: u32 = 1;

pub fn to_json(instance: &Instance) -> String {
    let tables = instance
        .db
        .tables
        .iter()
        .map(|(name, table)| {
            (
                name.clone(),
                table.rows().map(|row| table.record(row)).collect(),
            )
        })
        .collect();
    let snapshot = Snapshot {
        format: FORMAT,
        tables,
        credentials: instance.credentials.clone(),
        sequences: instance.sequences.clone(),
        release: instance.release.clone(),
    };
    serde_json::to_string(&snapshot).unwrap_or_default()
}

/// Largest state file read: a demo instance takes well under a megabyte.
const MAX_STATE_BYTES: u64 = 512 * 1024 * 1024;

/// The state file's text: only a regular file, opened without waiting on a named pipe, and no
/// more than [`MAX_STATE_BYTES`] of it.
fn read_state_file(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("it is not a regular file (a folder, a named pipe or a device?)".into());
    }
    if meta.len() > MAX_STATE_BYTES {
        return Err("it is larger than 512 MiB".into());
    }
    let mut text = String::new();
    file.take(MAX_STATE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    Ok(text)
}

pub fn load(path: &Path) -> Result<Instance, String> {
    let text = read_state_file(path)?;
    let snapshot: Snapshot =
        serde_json::from_str(&text).map_err(|e| format!("not a saved simulator state: {e}"))?;
    if snapshot.format != FORMAT {
        return Err(format!(
            "saved in format {}, this simulator reads format {FORMAT}",
            snapshot.format
        ));
    }
    let mut instance = Instance::new(String::new());
    for (name, records) in snapshot.tables {
        let table = instance.db.tables.entry(name).or_default();
        for record in &records {
            table.insert(record);
        }
    }
    instance.credentials = snapshot.credentials;
    instance.sequences = snapshot.sequences;
    instance.release = snapshot.release;
    define_custom_tables(&mut instance);
    Ok(instance)
}

/// Defines the tables and columns that `sys_db_object` / `sys_dictionary` records describe.
pub fn define_custom_tables(instance: &mut Instance) {
    for table in instance.query("sys_db_object", "") {
        let text = |f: &str| table.get(f).cloned().unwrap_or_default();
        let parent = instance
            .get("sys_db_object", &text("super_class"))
            .and_then(|p| p.get("name").cloned())
            .unwrap_or_else(|| text("super_class"));
        // Its numbering: the record `number_ref` names, else the one of its category.
        let prefix = instance
            .get("sys_number", &text("number_ref"))
            .or_else(|| instance.find_by("sys_number", "category", &text("name")))
            .and_then(|n| n.get("prefix").cloned())
            .unwrap_or_default();
        instance
            .db
            .schemas
            .define_table(&text("name"), Some(&parent), Some(&prefix));
    }
    for column in instance.query("sys_dictionary", "") {
        let text = |f: &str| column.get(f).cloned().unwrap_or_default();
        if !text("element").is_empty() {
            let reference = text("reference");
            instance
                .db
                .schemas
                .define_field(&text("name"), &text("element"), Some(&reference));
        }
    }
}
