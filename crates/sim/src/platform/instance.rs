//! The whole state of one simulated instance and its record operations. Every write goes
//! through `insert` / `update` / `delete` here so that the platform's side effects happen
//! whichever door the write came through (Table API, admin form, update set, library call):
//! system fields, auto-numbers, Application Registry credentials, and business rules.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::database::{Db, QueryContext};
use crate::db::query::Query;
use crate::db::store::Record;

/// A failed record operation, mapped to the Table API's error bodies by the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("Invalid table {0}")]
    InvalidTable(String),
    #[error("No Record found")]
    NotFound,
}

/// A user's local credentials. They live beside the record, never in it, so no Table API read
/// can return them (the instance keeps `user_password` one-way hashed).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Credentials {
    pub password: String,
    /// Shared TOTP secret when the user has multi-factor authentication.
    pub mfa_secret: Option<String>,
    /// The password was written over the Table API without `sysparm_input_display_value=true`:
    /// stored as the literal text, which the sign-in never matches (servicenow.md item 31).
    #[serde(default)]
    pub unhashed: bool,
}

/// A browser session of the login page and admin screens.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    /// Per-session form token, like the instance's `sysparm_ck`, checked on every form post.
    pub form_token: String,
    /// The elevated-privilege roles this session elevated to; they end with the session.
    pub elevated: std::collections::BTreeSet<String>,
}

/// An authorization code issued by the consent page.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub client_id: String,
    pub user_id: String,
    pub requested_redirect: String,
    pub used_redirect: String,
    pub code_challenge: Option<String>,
    /// Space-separated scopes the client asked for.
    pub scope: String,
    pub expires: DateTime<Utc>,
}

/// A CI/CD API operation. The work is done when it starts; its progress record says "Running"
/// for a few reads first, as an operation queued behind the instance-wide lock does.
#[derive(Debug, Clone)]
pub struct Job {
    /// 2 Successful or 3 Failed, once running is over.
    pub status: u8,
    pub message: String,
    pub error: String,
    /// Progress reads still to answer 1 "Running".
    pub running_reads: u32,
}

/// Release-dependent behaviour that tests switch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Release {
    /// Inbound PKCE for public clients (Zurich and later). Off: `code_challenge` is ignored and
    /// the token exchange always needs the client secret.
    pub pkce_supported: bool,
}

pub struct Instance {
    pub db: Db,
    pub credentials: BTreeMap<String, Credentials>,
    pub(crate) sequences: BTreeMap<String, u64>,
    pub sessions: HashMap<String, Session>,
    pub codes: HashMap<String, AuthCode>,
    pub release: Release,
    /// Business-rule calls waiting to be sent once the lock is released.
    pub outbound: Vec<OutboundCall>,
    /// CI/CD API progress records by id.
    pub progress: HashMap<String, Job>,
    /// The instance's own address, for reference links.
    pub base_url: String,
}

pub use crate::db::values::{format_time, now_text, random_hex};

/// The simulator's own switch (not ServiceNow's): `true` makes queries compare text with its
/// case, as a column with `i18n_locale_text_match` does on an instance (servicenow.md 2.2).
pub const CASE_SENSITIVE_QUERIES: &str = "snowlink.sim.case_sensitive_queries";

/// One call a rule wants made; sent after the state lock is released.
#[derive(Debug, Clone)]
pub struct OutboundCall {
    pub url: String,
    pub body: serde_json::Value,
    pub rule_id: String,
    pub table: String,
    pub record_id: String,
}

impl Instance {
    pub fn new(base_url: String) -> Self {
        Self {
            db: Db {
                schemas: crate::db::tables::builtin_schemas(),
                tables: BTreeMap::new(),
            },
            credentials: BTreeMap::new(),
            sequences: BTreeMap::new(),
            sessions: HashMap::new(),
            codes: HashMap::new(),
            release: Release {
                pkce_supported: true,
            },
            outbound: Vec::new(),
            progress: HashMap::new(),
            base_url,
        }
    }

    /// Who asks a query, and how its text compares: regardless of case, as on an instance,
    /// unless [`CASE_SENSITIVE_QUERIES`] is true.
    pub fn context_for(&self, user_id: &str) -> QueryContext {
        let user_name = self
            .get("sys_user", user_id)
            .and_then(|r| r.get("user_name").cloned())
            .unwrap_or_default();
        QueryContext {
            user_id: user_id.to_owned(),
            user_name,
            fold_case: !self.property_is_true(CASE_SENSITIVE_QUERIES),
        }
    }

    /// The record of `table` (or a table extending it) with `sys_id`.
    pub fn get(&self, table: &str, sys_id: &str) -> Option<Record> {
        let (physical, row) = self.db.locate(table, sys_id)?;
        Some(self.db.record(&physical, row))
    }

    /// The first record of `table` whose `field` equals `value` exactly.
    pub fn find_by(&self, table: &str, field: &str, value: &str) -> Option<Record> {
        // Built as a term, not parsed, so a value holding `^` cannot split the query.
        let mut query = Query::default();
        query.and_equals(field, value);
        let (_, rows) = self
            .db
            .select(table, &query, &QueryContext::default(), 0, 1);
        rows.into_iter()
            .next()
            .map(|(physical, row)| self.db.record(&physical, row))
    }

    /// The sys_id of the first record of `table` whose `field` is `value`.
    pub fn sys_id_by(&self, table: &str, field: &str, value: &str) -> Option<String> {
        self.find_by(table, field, value)
            .and_then(|r| r.get("sys_id").cloned())
    }

    /// Records of `table` matching an encoded query (no ACLs: the library's view).
    pub fn query(&self, table: &str, encoded: &str) -> Vec<Record> {
        let query = Query::parse(encoded);
        let (_, rows) = self
            .db
            .select(table, &query, &QueryContext::default(), 0, usize::MAX);
        rows.into_iter()
            .map(|(physical, row)| self.db.record(&physical, row))
            .collect()
    }

    pub fn property(&self, name: &str) -> Option<String> {
        self.find_by("sys_properties", "name", name)
            .and_then(|r| r.get("value").cloned())
    }

    pub fn property_is_true(&self, name: &str) -> bool {
        self.property(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    pub fn set_property(&mut self, name: &str, value: &str) {
        let fields = Record::from([("name".into(), name.into()), ("value".into(), value.into())]);
        match self
            .find_by("sys_properties", "name", name)
            .and_then(|r| r.get("sys_id").cloned())
        {
            Some(sys_id) => {
                let _ = self.update("sys_properties", &sys_id, fields, "system");
            }
            None => {
                let _ = self.insert("sys_properties", fields, "system");
            }
        }
    }

    /// Keeps only fields the table knows; the instance ignores the rest of a POST body.
    fn known_fields(&self, table: &str, fields: Record) -> Record {
        fields
            .into_iter()
            .filter(|(name, _)| self.db.schemas.field(table, name).is_some())
            .collect()
    }

    fn next_number(&mut self, prefix: &str) -> String {
        let counter = self.sequences.entry(prefix.to_owned()).or_insert(10000);
        *counter += 1;
        format!("{prefix}{counter:07}")
    }

    /// Inserts a record as `by`, with the platform's defaults and side effects.
    pub fn insert(&mut self, table: &str, fields: Record, by: &str) -> Result<Record, StoreError> {
        let sys_id = self.insert_id(table, fields, by)?;
        self.get(table, &sys_id).ok_or(StoreError::NotFound)
    }

    /// `insert` without reading the record back: returns its sys_id. Bulk loads use it.
    pub fn insert_id(
        &mut self,
        table: &str,
        fields: Record,
        by: &str,
    ) -> Result<String, StoreError> {
        if !self.db.schemas.exists(table) {
            return Err(StoreError::InvalidTable(table.to_owned()));
        }
        let password = fields
            .get("user_password")
            .cloned()
            .filter(|_| table == "sys_user");
        let mut record = self.known_fields(table, fields);
        let now = now_text();
        let given = record.get("sys_id").filter(|id| !id.is_empty()).cloned();
        let sys_id = given.clone().unwrap_or_else(|| random_hex(16));
        record.insert("sys_id".into(), sys_id.clone());
        record.insert("sys_created_on".into(), now.clone());
        record.insert("sys_updated_on".into(), now);
        record.insert("sys_created_by".into(), by.to_owned());
        record.insert("sys_updated_by".into(), by.to_owned());
        record.insert("sys_mod_count".into(), "0".into());
        if self.db.schemas.field(table, "sys_class_name").is_some() {
            record.insert("sys_class_name".into(), table.to_owned());
        }
        if self.db.schemas.field(table, "active").is_some() {
            record
                .entry("active".into())
                .or_insert_with(|| "true".into());
        }
        if let Some(prefix) = self.db.schemas.number_prefix(table)
            && record.get("number").is_none_or(String::is_empty)
        {
            let number = self.next_number(&prefix);
            record.insert("number".into(), number);
        }
        self.apply_table_defaults(table, &mut record);
        if given.is_none() && self.db.schemas.ancestry(table).iter().any(|t| t == "task") {
            let caller = self.sys_id_by("sys_user", "user_name", by);
            crate::platform::task_defaults::apply(&mut record, caller);
        }
        // An update set may re-insert a record that exists: that is an update of it.
        if given.is_some() && self.db.locate(table, &sys_id).is_some() {
            return self.update(table, &sys_id, record, by).map(|_| sys_id);
        }
        self.db
            .tables
            .entry(table.to_owned())
            .or_default()
            .insert(&record);
        if let Some(password) = password {
            self.set_password(&sys_id, password, true);
        }
        self.after_write(table, &sys_id, "insert");
        Ok(sys_id)
    }

    /// What the instance fills in for particular tables.
    fn apply_table_defaults(&self, table: &str, record: &mut Record) {
        match table {
            // The Application Registry generates the client id, and a secret when none is given.
            "oauth_entity" => {
                for (field, default) in [
                    ("access_token_lifespan", "1800"),
                    ("refresh_token_lifespan", "8640000"),
                    ("public_client", "false"),
                    ("type", "client"),
                ] {
                    record.entry(field.into()).or_insert_with(|| default.into());
                }
                if record.get("client_id").is_none_or(String::is_empty) {
                    record.insert("client_id".into(), random_hex(16));
                }
                if record.get("client_secret").is_none_or(String::is_empty) {
                    record.insert("client_secret".into(), random_secret());
                }
            }
            "sys_user" => {
                // Identity type Machine implies web-service-access-only (servicenow.md).
                if record.get("identity_type").is_some_and(|t| t == "Machine") {
                    record.insert("web_service_access_only".into(), "true".into());
                }
                for field in [
                    "locked_out",
                    "password_needs_reset",
                    "web_service_access_only",
                ] {
                    record.entry(field.into()).or_insert_with(|| "false".into());
                }
                record
                    .entry("identity_type".into())
                    .or_insert_with(|| "Human".into());
                if !record.contains_key("name") {
                    let first = record.get("first_name").cloned().unwrap_or_default();
                    let last = record.get("last_name").cloned().unwrap_or_default();
                    record.insert("name".into(), format!("{first} {last}").trim().to_owned());
                }
            }
            "sys_security_acl" => {
                for (field, default) in [
                    ("type", "record"),
                    ("decision_type", "allow"),
                    ("admin_overrides", "true"),
                ] {
                    record.entry(field.into()).or_insert_with(|| default.into());
                }
            }
            "sys_user_has_role" => {
                record
                    .entry("inherited".into())
                    .or_insert_with(|| "false".into());
            }
            "sys_user_role" => {
                record
                    .entry("elevated_privilege".into())
                    .or_insert_with(|| "false".into());
            }
            _ => {}
        }
    }

    /// Updates the given fields of a record (of `table` or a table extending it).
    pub fn update(
        &mut self,
        table: &str,
        sys_id: &str,
        fields: Record,
        by: &str,
    ) -> Result<Record, StoreError> {
        if !self.db.schemas.exists(table) {
            return Err(StoreError::InvalidTable(table.to_owned()));
        }
        let (physical, row) = self.db.locate(table, sys_id).ok_or(StoreError::NotFound)?;
        let password = fields
            .get("user_password")
            .cloned()
            .filter(|_| physical == "sys_user");
        let fields = self.known_fields(&physical, fields);
        let t = self
            .db
            .tables
            .get_mut(&physical)
            .ok_or(StoreError::NotFound)?;
        let count: u64 = t.value(row, "sys_mod_count").parse().unwrap_or(0);
        let mut changes = Vec::new();
        for (field, value) in &fields {
            // Creation facts and the identity of a record never change through an update.
            let fixed = matches!(
                field.as_str(),
                "sys_id" | "sys_created_on" | "sys_created_by" | "sys_class_name"
            );
            let old = t.value(row, field);
            if !fixed && old != value {
                changes.push((field.clone(), old.to_owned(), value.clone()));
                t.set(row, field, value);
            }
        }
        t.set(row, "sys_updated_on", &now_text());
        t.set(row, "sys_updated_by", by);
        t.set(row, "sys_mod_count", &(count + 1).to_string());
        if let Some(password) = password {
            self.set_password(sys_id, password, true);
        }
        let changed: Vec<String> = changes.iter().map(|(f, ..)| f.clone()).collect();
        self.audit(&physical, sys_id, changes, by);
        self.roll_up_request(&physical, sys_id, &changed);
        self.after_write(&physical, sys_id, "update");
        self.get(table, sys_id).ok_or(StoreError::NotFound)
    }

    /// Sets a user's password: `hashed` as the login form, the admin screens and a Table API
    /// write with `sysparm_input_display_value=true` store it; otherwise as literal text that
    /// no sign-in matches.
    pub fn set_password(&mut self, user_id: &str, password: String, hashed: bool) {
        let credentials = self.credentials.entry(user_id.to_owned()).or_default();
        credentials.password = password;
        credentials.unhashed = !hashed;
    }

    pub fn delete(&mut self, table: &str, sys_id: &str) -> Result<(), StoreError> {
        if !self.db.schemas.exists(table) {
            return Err(StoreError::InvalidTable(table.to_owned()));
        }
        let (physical, row) = self.db.locate(table, sys_id).ok_or(StoreError::NotFound)?;
        if let Some(t) = self.db.tables.get_mut(&physical) {
            t.delete(row);
        }
        if physical == "sys_user" {
            self.credentials.remove(sys_id);
        }
        Ok(())
    }

    /// Records field changes in `sys_audit` for the audited tables (tasks and the security
    /// records), as the instance's history does.
    fn audit(
        &mut self,
        physical: &str,
        sys_id: &str,
        changes: Vec<(String, String, String)>,
        by: &str,
    ) {
        let audited = matches!(
            physical,
            "sys_user" | "sys_user_has_role" | "sys_security_acl" | "oauth_entity"
        ) || self
            .db
            .schemas
            .ancestry(physical)
            .iter()
            .any(|t| t == "task");
        if !audited {
            return;
        }
        for (field, old, new) in changes {
            let entry = Record::from([
                ("tablename".into(), physical.to_owned()),
                ("documentkey".into(), sys_id.to_owned()),
                ("fieldname".into(), field),
                ("oldvalue".into(), old),
                ("newvalue".into(), new),
                ("user".into(), by.to_owned()),
            ]);
            let _ = self.insert_id("sys_audit", entry, by);
        }
    }

    /// Business rules: queues the outbound calls of rules that fire on this write.
    fn after_write(&mut self, physical: &str, sys_id: &str, operation: &str) {
        // Writing the log of an outbound call must never itself call out again.
        let no_rules = self
            .db
            .tables
            .get("sys_script")
            .is_none_or(|t| t.rows().next().is_none());
        if physical == "sys_outbound_http_log" || no_rules {
            return;
        }
        let calls = self.calls_for(physical, sys_id, operation);
        self.outbound.extend(calls);
    }
}

/// A client secret in the shape the Application Registry shows: printable, not hex.
fn random_secret() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!$()*+,-.:;<=>?@[]^_{|}~";
    let mut rng = rand::rng();
    (0..32)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}
