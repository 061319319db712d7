//! What a setup did on the instance, kept with it for "Undo what Snowlink did".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One record Snowlink created or changed on the instance. Secret fields are named, never
/// kept: a secret cannot be read back, so an old one cannot be restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub table: String,
    pub sys_id: String,
    /// The record in words: "OAuth application incident.io".
    pub what: String,
    /// Created by Snowlink (undone by deleting it), else changed (undone by restoring).
    pub created: bool,
    /// The changed fields' values before (empty for a created record).
    #[serde(default)]
    pub before: BTreeMap<String, String>,
    /// The secret fields Snowlink set.
    #[serde(default)]
    pub secrets: Vec<String>,
}
