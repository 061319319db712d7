//! The ITSM, group and CMDB tables a fresh instance has beside those the setup reads:
//! problems, change and catalog tasks, groups and their members, the system log, metadata,
//! standard change versions, a few CMDB classes (servicenow.md 4.11), and the tiny URLs the
//! UI shortens long addresses to (2.15).

use super::schema::{TableSchema, table};

pub fn tables() -> Vec<TableSchema> {
    vec![
        table(
            "problem",
            Some("task"),
            "number",
            Some("PRB"),
            &["problem_statement", "known_error", "cause_notes"],
            &[],
        ),
        table(
            "problem_task",
            Some("task"),
            "number",
            Some("PTASK"),
            &["problem_task_type"],
            &[("problem", "problem")],
        ),
        table(
            "change_task",
            Some("task"),
            "number",
            Some("CTASK"),
            &["change_task_type"],
            &[("change_request", "change_request")],
        ),
        table(
            "sc_task",
            Some("task"),
            "number",
            Some("SCTASK"),
            &[],
            &[("request_item", "sc_req_item"), ("request", "sc_request")],
        ),
        table(
            "sys_user_group",
            None,
            "name",
            None,
            &["name", "description", "email", "active", "type"],
            &[("manager", "sys_user")],
        ),
        table(
            "sys_user_grmember",
            None,
            "user",
            None,
            &[],
            &[("user", "sys_user"), ("group", "sys_user_group")],
        ),
        table(
            "sys_metadata",
            None,
            "sys_name",
            None,
            &[
                "sys_name",
                "sys_update_name",
                "sys_class_name",
                "sys_package",
                "sys_scope",
            ],
            &[],
        ),
        table(
            "syslog",
            None,
            "message",
            None,
            &["level", "message", "source"],
            &[],
        ),
        table(
            "std_change_producer_version",
            None,
            "name",
            None,
            &["name", "version", "template_value"],
            &[],
        ),
        table(
            "cmdb_ci",
            None,
            "name",
            None,
            &[
                "name",
                "serial_number",
                "asset_tag",
                "ip_address",
                "operational_status",
                "install_status",
                "sys_class_name",
            ],
            &[
                ("assigned_to", "sys_user"),
                ("support_group", "sys_user_group"),
            ],
        ),
        table(
            "cmdb_ci_computer",
            Some("cmdb_ci"),
            "name",
            None,
            &["os", "os_version", "cpu_count", "ram"],
            &[],
        ),
        table(
            "cmdb_rel_type",
            None,
            "name",
            None,
            &["name", "parent_descriptor", "child_descriptor"],
            &[],
        ),
        table(
            "cmdb_rel_ci",
            None,
            "type",
            None,
            &[],
            &[
                ("parent", "cmdb_ci"),
                ("child", "cmdb_ci"),
                ("type", "cmdb_rel_type"),
            ],
        ),
        table(
            "sys_tiny_url",
            None,
            "tiny_url",
            None,
            &["tiny_url", "data"],
            &[],
        ),
        // On an instance it extends cmdb_ci_server, itself a computer; the simulator skips
        // that class.
        table(
            "cmdb_ci_linux_server",
            Some("cmdb_ci_computer"),
            "name",
            None,
            &["kernel_release"],
            &[],
        ),
    ]
}
