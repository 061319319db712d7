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
    /// A reference to a record of the named table, rendered as `{link, value}`.
    Reference(String),
    /// A choice list: stored value and display label.
    Choice(&'static [(&'static str, &'static str)]),
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

const STATE_CHOICES: &[(&str, &str)] = &[
    ("1", "New"),
    ("2", "In Progress"),
    ("3", "On Hold"),
    ("6", "Resolved"),
    ("7", "Closed"),
    ("8", "Canceled"),
];
const PRIORITY_CHOICES: &[(&str, &str)] = &[
    ("1", "1 - Critical"),
    ("2", "2 - High"),
    ("3", "3 - Moderate"),
    ("4", "4 - Low"),
    ("5", "5 - Planning"),
];
const IMPACT_CHOICES: &[(&str, &str)] = &[("1", "1 - High"), ("2", "2 - Medium"), ("3", "3 - Low")];

/// The dictionary of all tables of the instance.
#[derive(Debug, Clone)]
pub struct Schemas {
    tables: BTreeMap<String, TableSchema>,
}

/// Short constructor for the built-in definitions below.
fn table(
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

impl Schemas {
    /// The tables a fresh instance has: the ones the setup checks read (issue 3, item 1).
    pub fn builtin() -> Self {
        let mut task = table(
            "task",
            None,
            "number",
            Some("TASK"),
            &[
                "number",
                "short_description",
                "description",
                "active",
                "correlation_id",
                "correlation_display",
                "sys_class_name",
                "work_notes",
            ],
            &[("assigned_to", "sys_user"), ("opened_by", "sys_user")],
        );
        task.fields
            .insert("state".into(), FieldKind::Choice(STATE_CHOICES));
        task.fields
            .insert("priority".into(), FieldKind::Choice(PRIORITY_CHOICES));
        task.fields
            .insert("impact".into(), FieldKind::Choice(IMPACT_CHOICES));
        task.fields
            .insert("urgency".into(), FieldKind::Choice(IMPACT_CHOICES));
        let all = vec![
            table(
                "sys_user",
                None,
                "name",
                None,
                &[
                    "user_name",
                    "first_name",
                    "last_name",
                    "name",
                    "email",
                    "title",
                    "active",
                    "locked_out",
                    "password_needs_reset",
                    "web_service_access_only",
                    "internal_integration_user",
                    "identity_type",
                    "enable_multifactor_authn",
                    "sso_source",
                ],
                &[("manager", "sys_user")],
            ),
            table(
                "sys_user_role",
                None,
                "name",
                None,
                &[
                    "name",
                    "description",
                    "elevated_privilege",
                    "includes_roles",
                ],
                &[],
            ),
            table(
                "sys_user_has_role",
                None,
                "role",
                None,
                &["inherited", "state"],
                &[("user", "sys_user"), ("role", "sys_user_role")],
            ),
            table(
                "sys_security_acl",
                None,
                "name",
                None,
                &[
                    "name",
                    "operation",
                    "type",
                    "active",
                    "admin_overrides",
                    "decision_type",
                    "condition",
                    "script",
                    "description",
                ],
                &[],
            ),
            table(
                "sys_security_acl_role",
                None,
                "sys_user_role",
                None,
                &[],
                &[
                    ("sys_security_acl", "sys_security_acl"),
                    ("sys_user_role", "sys_user_role"),
                ],
            ),
            table(
                "oauth_entity",
                None,
                "name",
                None,
                &[
                    "name",
                    "client_id",
                    "client_secret",
                    "redirect_url",
                    "logo_url",
                    "active",
                    "public_client",
                    "code_challenge_method",
                    "access_token_lifespan",
                    "refresh_token_lifespan",
                    "default_grant_type",
                    "type",
                ],
                &[("oauth_application_user", "sys_user")],
            ),
            table(
                "oauth_credential",
                None,
                "type",
                None,
                &["type", "token", "expires", "scopes", "client_id"],
                &[
                    ("peer", "oauth_entity"),
                    ("user", "sys_user"),
                    ("parent", "oauth_credential"),
                ],
            ),
            table(
                "sys_remote_update_set",
                None,
                "name",
                None,
                &[
                    "name",
                    "state",
                    "remote_sys_id",
                    "commit_date",
                    "description",
                    "application",
                ],
                &[],
            ),
            table(
                "sys_update_xml",
                None,
                "name",
                None,
                &[
                    "name",
                    "action",
                    "category",
                    "payload",
                    "table",
                    "target_name",
                    "type",
                    "update_guid",
                ],
                &[("remote_update_set", "sys_remote_update_set")],
            ),
            table(
                "sys_update_preview_problem",
                None,
                "description",
                None,
                &["type", "description", "status"],
                &[
                    ("remote_update_set", "sys_remote_update_set"),
                    ("remote_update", "sys_update_xml"),
                ],
            ),
            table(
                "sys_script",
                None,
                "name",
                None,
                &[
                    "name",
                    "collection",
                    "when",
                    "order",
                    "active",
                    "action_insert",
                    "action_update",
                    "action_delete",
                    "condition",
                    "filter_condition",
                    "script",
                ],
                &[],
            ),
            table(
                "sys_ws_definition",
                None,
                "name",
                None,
                &["name", "namespace", "service_id", "base_uri", "active"],
                &[],
            ),
            table(
                "sys_ws_operation",
                None,
                "name",
                None,
                &[
                    "name",
                    "http_method",
                    "relative_path",
                    "operation_uri",
                    "operation_script",
                    "requires_authentication",
                    "active",
                ],
                &[("web_service_definition", "sys_ws_definition")],
            ),
            table(
                "sc_catalog",
                None,
                "title",
                None,
                &["title", "description", "active"],
                &[],
            ),
            table(
                "sc_cat_item",
                None,
                "name",
                None,
                &[
                    "name",
                    "short_description",
                    "description",
                    "active",
                    "price",
                ],
                &[("sc_catalogs", "sc_catalog")],
            ),
            task,
            table(
                "incident",
                Some("task"),
                "number",
                Some("INC"),
                &["category", "subcategory"],
                &[("caller_id", "sys_user")],
            ),
            table(
                "change_request",
                Some("task"),
                "number",
                Some("CHG"),
                &["type", "risk"],
                &[],
            ),
            table(
                "sc_request",
                Some("task"),
                "number",
                Some("REQ"),
                &["request_state"],
                &[("requested_for", "sys_user")],
            ),
            table(
                "sc_req_item",
                Some("task"),
                "number",
                Some("RITM"),
                &["quantity"],
                &[("cat_item", "sc_cat_item"), ("request", "sc_request")],
            ),
            table(
                "sys_audit",
                None,
                "documentkey",
                None,
                &[
                    "tablename",
                    "documentkey",
                    "fieldname",
                    "oldvalue",
                    "newvalue",
                    "user",
                    "record_checkpoint",
                ],
                &[],
            ),
            table(
                "sys_properties",
                None,
                "name",
                None,
                &["name", "value", "type", "description"],
                &[],
            ),
            // REST API Access Policies, reduced to "this API needs this OAuth scope".
            table(
                "sys_api_access_policy",
                None,
                "name",
                None,
                &["name", "api", "required_scope", "active"],
                &[],
            ),
            // Rate-limit rules: the Rate limit fault answers in the name of one of these
            // (`X-RateLimit-Rule`, servicenow.md item 15). Only the columns it sets.
            table(
                "sys_rate_limit_rules",
                None,
                "name",
                None,
                &["name", "active"],
                &[],
            ),
            table(
                "sys_outbound_http_log",
                None,
                "url",
                None,
                &[
                    "url",
                    "method",
                    "response_status",
                    "duration",
                    "source_table",
                    "source_record",
                    "error",
                ],
                &[("business_rule", "sys_script")],
            ),
            table(
                "sys_db_object",
                None,
                "name",
                None,
                &["name", "label", "super_class", "number_prefix"],
                &[],
            ),
            table(
                "sys_dictionary",
                None,
                "element",
                None,
                &[
                    "name",
                    "element",
                    "internal_type",
                    "reference",
                    "max_length",
                    "column_label",
                ],
                &[],
            ),
        ];
        Self {
            tables: all.into_iter().map(|t| (t.name.clone(), t)).collect(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_inherits_task_fields_and_task_covers_incident() {
        let schemas = Schemas::builtin();
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
        let mut schemas = Schemas::builtin();
        schemas.define_table("u_a", None, None);
        schemas.define_table("u_b", Some("u_a"), None);
        schemas.define_table("u_a", Some("u_b"), None);
        assert_eq!(schemas.ancestry("u_a").len(), 2);
    }
}
