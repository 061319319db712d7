//! The tables a fresh instance has, with their fields, references, parents, display fields,
//! number prefixes and choice lists: the data of the dictionary, apart from how it is used.

use super::schema::{FieldKind, Schemas, TableSchema, table};

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

/// The dictionary of a fresh instance.
pub fn builtin_schemas() -> Schemas {
    Schemas::of(builtin())
}

/// The tables a fresh instance has: the ones the setup checks read (issue 3, item 1).
fn builtin() -> Vec<TableSchema> {
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
            "approval",
        ],
        &[("assigned_to", "sys_user"), ("opened_by", "sys_user")],
    );
    task.fields.insert("opened_at".into(), FieldKind::DateTime);
    task.fields
        .insert("state".into(), FieldKind::Choice(STATE_CHOICES));
    task.fields
        .insert("priority".into(), FieldKind::Choice(PRIORITY_CHOICES));
    task.fields
        .insert("impact".into(), FieldKind::Choice(IMPACT_CHOICES));
    task.fields
        .insert("urgency".into(), FieldKind::Choice(IMPACT_CHOICES));
    let mut all = vec![
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
                "time_zone",
                "date_format",
                "time_format",
            ],
            &[("manager", "sys_user")],
        ),
        // Attachments: metadata, and the bytes (base64, one chunk) of each.
        table(
            "sys_attachment",
            None,
            "file_name",
            None,
            &[
                "file_name",
                "content_type",
                "size_bytes",
                "table_name",
                "table_sys_id",
                "hash",
            ],
            &[],
        ),
        table(
            "sys_attachment_doc",
            None,
            "position",
            None,
            &["position", "data"],
            &[("sys_attachment", "sys_attachment")],
        ),
        // The choice lists of choice fields, as a fresh instance has them.
        table(
            "sys_choice",
            None,
            "label",
            None,
            &[
                "name", "element", "value", "label", "sequence", "inactive", "language",
            ],
            &[],
        ),
        // Applications installed from the ServiceNow Store (an application scope each).
        table(
            "sys_store_app",
            None,
            "name",
            None,
            &["scope", "name", "version", "active"],
            &[],
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
                "use_pkce",
                "scope_restriction_status",
                "inbound_grant_type",
            ],
            &[("user", "sys_user")],
        ),
        table(
            "oauth_entity_auth_scope_mapping",
            None,
            "auth_scope",
            None,
            &["auth_scope"],
            &[("oauth_entity", "oauth_entity")],
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
            &[
                ("remote_update_set", "sys_remote_update_set"),
                ("update_set", "sys_update_set"),
            ],
        ),
        table(
            "sys_update_set",
            None,
            "name",
            None,
            &["name", "state", "description", "application"],
            &[],
        ),
        table(
            "sys_user_preference",
            None,
            "name",
            None,
            &["name", "value", "type", "description"],
            &[("user", "sys_user")],
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
            &[("sc_catalogs", "sc_catalog"), ("category", "sc_category")],
        ),
        table(
            "sc_category",
            None,
            "title",
            None,
            &["title", "description", "active"],
            &[("sc_catalog", "sc_catalog"), ("parent", "sc_category")],
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
        // The dictionary's tables: one row per table, `super_class` the one it extends,
        // `number_ref` its numbering (`sys_number`: the prefix and the next number).
        table(
            "sys_db_object",
            None,
            "name",
            None,
            &["name", "label", "is_extendable"],
            &[
                ("super_class", "sys_db_object"),
                ("number_ref", "sys_number"),
            ],
        ),
        table(
            "sys_number",
            None,
            "prefix",
            None,
            &["category", "prefix", "number", "maximum_digits"],
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
    all.extend(super::itsm_tables::tables());
    for schema in &mut all {
        if schema.name == "oauth_entity" {
            schema
                .fields
                .insert("client_secret".into(), FieldKind::Password2);
        }
    }
    all
}
