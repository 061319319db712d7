//! The roles and record ACLs every instance has out of the box, as the base seed writes them.

pub(crate) const ROLES: &[(&str, &str, &str)] = &[
    (
        "admin",
        "itil,catalog_admin,user_admin,oauth_admin,web_service_admin",
        "System administrator",
    ),
    (
        "security_admin",
        "",
        "Elevated: edit ACLs and import update sets",
    ),
    (
        "maint",
        "",
        "ServiceNow's own maintenance role: no customer account holds it",
    ),
    (
        "sn_cicd.sys_ci_automation",
        "",
        "Run the CI/CD API: preview and commit update sets",
    ),
    (
        "snc_basic_auth_api_access",
        "",
        "Keep Basic auth for the REST APIs while it is restricted",
    ),
    ("itil", "", "Fulfiller: work on tasks"),
    ("catalog_admin", "", "Manage the service catalog"),
    ("user_admin", "", "Manage users and groups"),
    ("oauth_admin", "", "Manage the Application Registry"),
    ("web_service_admin", "", "Manage web services"),
    (
        "snc_platform_rest_api_access",
        "",
        "Use the REST APIs when the REST API ACL is enabled",
    ),
    (
        "itil_admin",
        "itil",
        "ITIL administrator: everything itil does, plus deleting tasks",
    ),
    (
        "incident_manager",
        "",
        "Manage incidents: assign, escalate, resolve and close them",
    ),
    ("cmdb_read", "", "Read the configuration items of the CMDB"),
    (
        "sn_cmdb_user",
        "",
        "Use the CMDB Workspace: view configuration items",
    ),
    (
        "import_admin",
        "import_transformer",
        "Administer import sets, data sources and transform maps",
    ),
    (
        "import_transformer",
        "",
        "Create and run transform maps of import sets",
    ),
];

/// `(name, operation, roles, condition, admin_overrides)` of the base record ACLs.
pub(crate) const ACLS: &[(&str, &str, &str, &str, bool)] = &[
    ("task", "read", "itil", "", true),
    ("task", "write", "itil", "", true),
    ("task", "create", "itil", "", true),
    ("incident", "read", "itil", "", true),
    (
        "incident",
        "read",
        "",
        "caller_id=javascript:gs.getUserID()",
        true,
    ),
    ("incident", "create", "", "", true),
    ("incident", "write", "itil", "", true),
    (
        "sc_request",
        "read",
        "",
        "requested_for=javascript:gs.getUserID()",
        true,
    ),
    ("sc_request", "read", "itil", "", true),
    ("sys_user", "read", "", "", true),
    ("sys_user", "write", "user_admin", "", true),
    ("sys_user", "create", "user_admin", "", true),
    // The elevated-privilege roles' own records are hidden until the session elevates to them
    // (servicenow.md item 19); admin does not override either ACL.
    (
        "sys_user_role",
        "read",
        "",
        "elevated_privilege=false",
        false,
    ),
    ("sys_user_role", "read", "security_admin", "", false),
    ("sys_user_has_role", "read", "", "", true),
    ("sc_catalog", "read", "", "", true),
    ("sc_category", "read", "", "", true),
    // Configuration items: fulfillers and CMDB readers (servicenow.md 2.13).
    ("cmdb_ci", "read", "itil,cmdb_read", "", true),
    ("sc_cat_item", "read", "", "", true),
    // ACLs: admins read them; changing them needs security_admin elevated, which no REST
    // call has, so over the Table API nobody can (item 19).
    ("sys_security_acl", "read", "admin", "", false),
    ("sys_security_acl", "write", "security_admin", "", false),
    ("sys_security_acl", "create", "security_admin", "", false),
    ("sys_security_acl", "delete", "security_admin", "", false),
    ("sys_security_acl_role", "read", "admin", "", false),
    (
        "sys_security_acl_role",
        "write",
        "security_admin",
        "",
        false,
    ),
    (
        "sys_security_acl_role",
        "create",
        "security_admin",
        "",
        false,
    ),
    (
        "sys_security_acl_role",
        "delete",
        "security_admin",
        "",
        false,
    ),
    // Update sets arrive through the upload page, never as rows over the Table API (item 34).
    ("sys_update_xml", "read", "admin", "", false),
    ("sys_update_xml", "create", "maint", "", false),
    ("sys_update_xml", "write", "maint", "", false),
    ("sys_remote_update_set", "read", "admin", "", false),
    ("sys_remote_update_set", "create", "maint", "", false),
    ("sys_remote_update_set", "write", "admin", "", false),
    // Tiny URLs are made through their API by anyone signed in; their rows are admins'.
    ("sys_tiny_url", "read", "admin", "", true),
    ("sys_tiny_url", "write", "admin", "", true),
    // Attachments are read and written through the Attachment API, which checks the record
    // they belong to; over the Table API only an admin reaches them.
    ("sys_attachment", "read", "admin", "", true),
    ("sys_attachment", "write", "admin", "", true),
    ("sys_attachment", "create", "admin", "", true),
    ("sys_attachment_doc", "read", "admin", "", true),
    ("sys_attachment_doc", "write", "admin", "", true),
    ("sys_attachment_doc", "create", "admin", "", true),
];
