//! Reading every version of the connections file there has been. Each older version is brought
//! up one step at a time as JSON, then parsed as the current format, so a schema change never
//! sets a user's connections aside. A version newer than this build is refused untouched.
//!
//! - v1 → v2: a browser sign-in connection with no linked account is "not linked" (v1 called
//!   it "disconnected"); `status.refreshIssuedAt` is new; a linked identity whose sys_id is
//!   not one (v1 did not check) is dropped, leaving the connection to be checked again.
//! - v2 → v3: `status.linked` (linked-record counts) is new; nothing to change. The version
//!   moves so a v2 Snowlink, which refuses unknown fields, leaves a v3 file alone instead of
//!   setting it aside as unreadable.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Connection, ConnectionId};

/// The format version this build reads and writes.
pub const FILE_VERSION: u64 = 3;

/// A parsed file, and the version it was migrated from when it was older.
#[derive(Debug)]
pub struct Loaded {
    pub connections: Vec<Connection>,
    pub migrated_from: Option<u64>,
}

impl Loaded {
    pub fn current(connections: Vec<Connection>) -> Self {
        Self {
            connections,
            migrated_from: None,
        }
    }
}

#[derive(Debug)]
pub enum Problem {
    /// Written by a newer Snowlink.
    Newer(u64),
    /// Not a connections file of any version; the text says why without quoting it.
    Unusable(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Current {
    version: u64,
    connections: Vec<Connection>,
}

pub fn parse(bytes: &[u8]) -> Result<Loaded, Problem> {
    let mut value: Value = serde_json::from_slice(bytes).map_err(|err| position(&err))?;
    let found = value
        .get("version")
        .and_then(Value::as_u64)
        .ok_or_else(|| Problem::Unusable("it has no format version".into()))?;
    if found > FILE_VERSION {
        return Err(Problem::Newer(found));
    }
    if found == 0 {
        return Err(Problem::Unusable("unknown format version 0".into()));
    }
    for from in found..FILE_VERSION {
        value = step(from, value)?;
    }
    let file: Current = serde_json::from_value(value).map_err(|err| position(&err))?;
    debug_assert_eq!(file.version, FILE_VERSION);
    if let Some(id) = first_duplicate(&file.connections) {
        return Err(Problem::Unusable(format!(
            "connection id {id} appears twice"
        )));
    }
    Ok(Loaded {
        connections: file.connections,
        migrated_from: (found < FILE_VERSION).then_some(found),
    })
}

/// One migration, from version `from` to `from + 1`.
fn step(from: u64, value: Value) -> Result<Value, Problem> {
    match from {
        1 => Ok(v1_to_v2(value)),
        2 => Ok(renumbered(value, 3)),
        _ => Err(Problem::Unusable(format!("unknown format version {from}"))),
    }
}

fn v1_to_v2(mut value: Value) -> Value {
    if let Some(connections) = value.get_mut("connections").and_then(Value::as_array_mut) {
        for connection in connections {
            let identity_ok = match &connection["linkedIdentity"] {
                Value::Null => true,
                identity => identity["sysId"]
                    .as_str()
                    .is_some_and(|id| crate::text::SysId::parse(id).is_ok()),
            };
            if !identity_ok {
                connection["linkedIdentity"] = Value::Null;
                connection["status"] = json!({
                    "state": "disconnected",
                    "lastChecked": null,
                    "tokenExpiresAt": null,
                    "reason": "The saved account was not valid; check the connection again."
                });
            }
            let awaits_link = connection["grant"] == "auth-code"
                && connection["linkedIdentity"].is_null()
                && connection["status"]["state"] == "disconnected";
            if awaits_link {
                connection["status"]["state"] = json!("not-linked");
                connection["status"]["reason"] = Value::Null;
            }
        }
    }
    renumbered(value, 2)
}

fn renumbered(mut value: Value, version: u64) -> Value {
    value["version"] = json!(version);
    value
}

/// Only the position: serde's message may quote the file's content.
fn position(err: &serde_json::Error) -> Problem {
    Problem::Unusable(format!(
        "{} at line {}, column {}",
        match err.classify() {
            serde_json::error::Category::Eof => "it ends too early",
            serde_json::error::Category::Syntax => "it is not valid JSON",
            _ => "an entry is not a valid connection",
        },
        err.line(),
        err.column()
    ))
}

fn first_duplicate(connections: &[Connection]) -> Option<&ConnectionId> {
    let mut seen = std::collections::HashSet::new();
    connections
        .iter()
        .map(|c| &c.id)
        .find(|id| !seen.insert(*id))
}
