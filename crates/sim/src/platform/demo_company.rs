//! The rest of the demo company, beside its users, catalog and incidents: the incident.io app
//! it installed from the Store, its assignment groups and their members, the servers and
//! computers of its CMDB, its catalog's categories, a problem with a task, and a change with its tasks — records of the
//! kind a personal developer instance ships.

use crate::db::store::record_of;
use crate::platform::instance::Instance;
use crate::platform::store_apps::{StoreApp, install};

/// `(group, description, members)`.
const GROUPS: &[(&str, &str, &[&str])] = &[
    (
        "Service Desk",
        "First line: takes every call",
        &["beth.anglin"],
    ),
    (
        "Network",
        "Routers, switches and firewalls",
        &["fred.luddy"],
    ),
    (
        "Database",
        "Database administrators",
        &["fred.luddy", "beth.anglin"],
    ),
];

/// `(class, name, os, ip_address)`.
const CIS: &[(&str, &str, &str, &str)] = &[
    (
        "cmdb_ci_linux_server",
        "lnux100",
        "Linux Red Hat",
        "10.0.0.100",
    ),
    (
        "cmdb_ci_linux_server",
        "lnux101",
        "Linux Red Hat",
        "10.0.0.101",
    ),
    (
        "cmdb_ci_linux_server",
        "db-prod-01",
        "Linux Ubuntu",
        "10.0.1.10",
    ),
    ("cmdb_ci_computer", "beth-laptop", "Windows 11", "10.1.0.21"),
    ("cmdb_ci_computer", "fred-laptop", "macOS", "10.1.0.22"),
];

/// Adds them to `instance`, whose demo users exist.
pub fn seed(instance: &mut Instance) {
    install(instance, StoreApp::IncidentIo);
    for (name, description, members) in GROUPS {
        let row = record_of(&[
            ("name", name),
            ("description", description),
            ("active", "true"),
        ]);
        let Ok(group) = instance.insert("sys_user_group", row, "system") else {
            continue;
        };
        for member in *members {
            let who = instance
                .sys_id_by("sys_user", "user_name", member)
                .unwrap_or_default();
            let row = record_of(&[("user", &who), ("group", &group["sys_id"])]);
            let _ = instance.insert("sys_user_grmember", row, "system");
        }
    }
    for (class, name, os, ip) in CIS {
        let row = record_of(&[
            ("name", name),
            ("os", os),
            ("ip_address", ip),
            ("operational_status", "1"),
            ("install_status", "1"),
        ]);
        let _ = instance.insert(class, row, "system");
    }
    catalog_categories(instance);
    // lnux100 depends on db-prod-01.
    let ci = |instance: &Instance, name: &str| {
        instance
            .sys_id_by("cmdb_ci", "name", name)
            .unwrap_or_default()
    };
    let kind = record_of(&[
        ("name", "Depends on::Used by"),
        ("parent_descriptor", "Depends on"),
        ("child_descriptor", "Used by"),
    ]);
    if let Ok(kind) = instance.insert("cmdb_rel_type", kind, "system") {
        let relation = record_of(&[
            ("parent", &ci(instance, "lnux100")),
            ("child", &ci(instance, "db-prod-01")),
            ("type", &kind["sys_id"]),
        ]);
        let _ = instance.insert("cmdb_rel_ci", relation, "system");
    }
    let admin = "admin";
    if let Ok(problem) = instance.insert(
        "problem",
        record_of(&[("short_description", "Email is slow for the whole company")]),
        admin,
    ) {
        let task = record_of(&[
            ("short_description", "Collect mail server logs"),
            ("problem", &problem["sys_id"]),
        ]);
        let _ = instance.insert("problem_task", task, admin);
    }
    if let Ok(change) = instance.insert(
        "change_request",
        record_of(&[("short_description", "Patch lnux100"), ("type", "normal")]),
        admin,
    ) {
        for step in ["Take a snapshot", "Apply the patch"] {
            let task = record_of(&[
                ("short_description", step),
                ("change_request", &change["sys_id"]),
            ]);
            let _ = instance.insert("change_task", task, admin);
        }
    }
}

/// The catalog's categories, and each item in its own: Hardware, and Access.
fn catalog_categories(instance: &mut Instance) {
    let Some(catalog) = instance.sys_id_by("sc_catalog", "title", "Service Catalog") else {
        return;
    };
    for (title, description, items) in [
        (
            "Hardware",
            "Laptops, phones and accessories",
            &["Standard Laptop", "Mobile phone"][..],
        ),
        (
            "Access",
            "Shares and permissions",
            &["Access to a shared drive"][..],
        ),
    ] {
        let row = record_of(&[
            ("title", title),
            ("description", description),
            ("active", "true"),
            ("sc_catalog", &catalog),
        ]);
        let Ok(category) = instance.insert("sc_category", row, "system") else {
            continue;
        };
        for item in items {
            if let Some(id) = instance.sys_id_by("sc_cat_item", "name", item) {
                let change = record_of(&[("category", &category["sys_id"])]);
                let _ = instance.update("sc_cat_item", &id, change, "system");
            }
        }
    }
}
