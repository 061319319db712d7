//! What an instance holds at start. `base` is what every instance has out of the box: the
//! admin (with `security_admin`), the base roles (those integrations ask for included: ITIL,
//! CMDB and import set roles), ACLs and OAuth properties. `demo` adds a small company: users,
//! catalogs, an Application Registry record and a few hundred incidents opened over the last
//! 150 days, some linked to an outside system through `correlation_id`, with an audit history
//! of their changes. Demo data is deterministic; its dates are relative to the start.

use chrono::{DateTime, TimeDelta, Utc};

use crate::db::store::{Record, record_of as fields};
use crate::platform::base_security::{ACLS, ROLES};
use crate::platform::identity::BASIC_AUTH_RESTRICTION;
use crate::platform::instance::{Instance, format_time, random_hex};

/// Client id of the demo seed's Application Registry record.
pub const DEMO_CLIENT_ID: &str = "5n0w1ink0demo0c1ient0000000000aa";
/// Its client secret.
pub const DEMO_CLIENT_SECRET: &str = "demo-secret-change-me";
/// Its redirect URLs: the short fixed list of loopback ports Snowlink's wizard tells the admin to
/// register (servicenow.md: arbitrary ports fall back silently to the first URL).
pub const DEMO_REDIRECT_URLS: &[&str] = &[
    "http://127.0.0.1:8765/callback",
    "http://127.0.0.1:8766/callback",
    "http://127.0.0.1:8767/callback",
];

/// Properties with their out-of-the-box values. The client-credentials property is not among
/// them: it does not exist until someone creates it (servicenow.md item 33).
pub const PROPERTIES: &[(&str, &str)] = &[
    ("glide.oauth.inbound.ropc.grant_type.disabled", "false"),
    (BASIC_AUTH_RESTRICTION[0], "false"),
    (BASIC_AUTH_RESTRICTION[1], "false"),
];

fn sys_id_of(record: Result<Record, crate::platform::instance::StoreError>) -> String {
    record
        .ok()
        .and_then(|r| r.get("sys_id").cloned())
        .unwrap_or_default()
}

/// The built-in admin's sys_id: the same on every instance (servicenow.md 4.1).
pub const ADMIN_SYS_ID: &str = "6816f79cc0a8016401c5a33be04be441";

/// Seeds the out-of-the-box instance and returns the admin's `(user_name, password)`.
pub fn base(instance: &mut Instance) -> (String, String) {
    for (name, value) in PROPERTIES {
        instance.set_property(name, value);
    }
    for (name, includes, description) in ROLES {
        let elevated = if *name == "security_admin" {
            "true"
        } else {
            "false"
        };
        let role = fields(&[
            ("name", name),
            ("includes_roles", includes),
            ("description", description),
            ("elevated_privilege", elevated),
        ]);
        let _ = instance.insert("sys_user_role", role, "system");
    }
    for (name, operation, roles, condition, admin_overrides) in ACLS {
        add_acl(
            instance,
            name,
            "record",
            operation,
            roles,
            condition,
            *admin_overrides,
            true,
        );
    }
    // The REST API ACL exists but is off, as on most instances; tests switch it on.
    add_acl(
        instance,
        "Table API",
        "rest_endpoint",
        "execute",
        "snc_platform_rest_api_access",
        "",
        true,
        false,
    );
    instance.add_default_update_set();
    crate::platform::dictionary::seed(instance);
    let password = random_hex(8);
    let admin = fields(&[
        ("sys_id", ADMIN_SYS_ID),
        ("user_name", "admin"),
        ("first_name", "System"),
        ("last_name", "Administrator"),
        ("email", "admin@example.com"),
        ("user_password", &password),
    ]);
    let admin_id = sys_id_of(instance.insert("sys_user", admin, "system"));
    for role in ["admin", "security_admin"] {
        let _ = instance.grant_role(&admin_id, role);
    }
    ("admin".to_owned(), password)
}

#[allow(clippy::too_many_arguments)]
fn add_acl(
    instance: &mut Instance,
    name: &str,
    kind: &str,
    operation: &str,
    roles: &str,
    condition: &str,
    admin_overrides: bool,
    active: bool,
) {
    let acl = fields(&[
        ("name", name),
        ("type", kind),
        ("operation", operation),
        ("condition", condition),
        (
            "admin_overrides",
            if admin_overrides { "true" } else { "false" },
        ),
        ("active", if active { "true" } else { "false" }),
        ("decision_type", "allow"),
    ]);
    let acl_id = sys_id_of(instance.insert("sys_security_acl", acl, "system"));
    for role in roles.split(',').filter(|r| !r.is_empty()) {
        let role_id = instance
            .find_by("sys_user_role", "name", role)
            .and_then(|r| r.get("sys_id").cloned());
        if let Some(role_id) = role_id {
            let link = fields(&[("sys_security_acl", &acl_id), ("sys_user_role", &role_id)]);
            let _ = instance.insert("sys_security_acl_role", link, "system");
        }
    }
}

/// The admin credentials of a loaded state.
pub fn saved_admin(instance: &Instance) -> (String, String) {
    let password = instance
        .find_by("sys_user", "user_name", "admin")
        .and_then(|u| u.get("sys_id").cloned())
        .and_then(|id| instance.credentials.get(&id).map(|c| c.password.clone()))
        .unwrap_or_default();
    ("admin".to_owned(), password)
}

/// Demo users: `(user_name, first, last, roles, machine)`; every password is `Demo-1234!`.
const USERS: &[(&str, &str, &str, &str, bool)] = &[
    ("beth.anglin", "Beth", "Anglin", "itil", false),
    ("abel.tuter", "Abel", "Tuter", "", false),
    ("fred.luddy", "Fred", "Luddy", "itil,catalog_admin", false),
    (
        "svc.snowlink",
        "Snowlink",
        "Integration",
        "itil,snc_platform_rest_api_access",
        true,
    ),
];

/// Password of every demo user but the admin.
pub const DEMO_PASSWORD: &str = "Demo-1234!";

const DESCRIPTIONS: &[&str] = &[
    "Email not syncing on laptop",
    "VPN disconnects every hour",
    "Printer on floor 3 jams",
    "Cannot access payroll portal",
    "Request for new monitor",
    "Disk almost full on build server",
    "Password reset loop in SSO",
    "Slow network in Building B",
];

/// Adds the demo company.
pub fn demo(instance: &mut Instance) {
    let now = Utc::now();
    let mut user_ids = Vec::new();
    for (user_name, first, last, roles, machine) in USERS {
        let email = format!("{user_name}@example.com");
        let mut user = fields(&[
            ("user_name", user_name),
            ("first_name", first),
            ("last_name", last),
            ("email", &email),
            ("user_password", DEMO_PASSWORD),
        ]);
        if *machine {
            user.insert("identity_type".into(), "Machine".into());
        }
        let id = sys_id_of(instance.insert("sys_user", user, "system"));
        backdate(
            instance,
            "sys_user",
            &id,
            now - TimeDelta::days(HISTORY_DAYS + 30),
        );
        for role in roles.split(',').filter(|r| !r.is_empty()) {
            let _ = instance.grant_role(&id, role);
        }
        user_ids.push(id);
    }
    let catalog = sys_id_of(instance.insert(
        "sc_catalog",
        fields(&[
            ("title", "Service Catalog"),
            ("description", "Order IT products and services"),
        ]),
        "system",
    ));
    for (name, price) in [
        ("Standard Laptop", "1100"),
        ("Access to a shared drive", "0"),
        ("Mobile phone", "600"),
    ] {
        let item = fields(&[
            ("name", name),
            ("short_description", name),
            ("price", price),
            ("sc_catalogs", &catalog),
        ]);
        let _ = instance.insert("sc_cat_item", item, "system");
    }
    let app = fields(&[
        ("name", "Snowlink Demo"),
        ("client_id", DEMO_CLIENT_ID),
        ("client_secret", DEMO_CLIENT_SECRET),
        ("redirect_url", &DEMO_REDIRECT_URLS.join(",")),
    ]);
    let _ = instance.insert("oauth_entity", app, "system");
    // A small linear congruential generator keeps the demo the same on every start.
    let mut state: u64 = 0x5eed;
    let mut next = |modulo: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from((state >> 33) % modulo).unwrap_or(0)
    };
    for n in 0..300_i64 {
        let state_value = ["1", "2", "3", "6", "7"][next(5)];
        let priority = (next(5) + 1).to_string();
        let caller = user_ids.get(next(3)).cloned().unwrap_or_default();
        let mut incident = fields(&[
            (
                "short_description",
                DESCRIPTIONS[next(DESCRIPTIONS.len() as u64)],
            ),
            ("state", state_value),
            ("priority", &priority),
            ("impact", &(next(3) + 1).to_string()),
            ("urgency", &(next(3) + 1).to_string()),
            ("caller_id", &caller),
            (
                "category",
                ["network", "software", "hardware", "inquiry"][next(4)],
            ),
            (
                "active",
                if matches!(state_value, "6" | "7") {
                    "false"
                } else {
                    "true"
                },
            ),
        ]);
        if n % 7 == 0 {
            incident.insert("correlation_id".into(), format!("OPS-{}", 1000 + n));
            incident.insert("correlation_display".into(), "Snowlink".into());
        }
        if let Some(assignee) = user_ids.first().filter(|_| next(2) == 0) {
            incident.insert("assigned_to".into(), assignee.clone());
        }
        let Ok(sys_id) = instance.insert_id("incident", incident, "system") else {
            continue;
        };
        // Opened over the last HISTORY_DAYS days, the lower numbers first, as a real
        // instance's history is; the newest a few hours ago.
        let opened = now
            - TimeDelta::days(HISTORY_DAYS * (300 - n) / 300)
            - TimeDelta::minutes(n * 53 % 600);
        backdate(instance, "incident", &sys_id, opened);
        // Every fifth incident past New was moved on by beth.anglin a day after it was
        // opened: its one change is in the audit history.
        if n % 5 == 2 && state_value != "1" {
            let changed = (opened + TimeDelta::days(1)).min(now);
            audit(
                instance,
                ("incident", &sys_id),
                ("state", "1", state_value),
                "beth.anglin",
                changed,
            );
        }
    }
    // abel.tuter locked himself out three weeks ago and was unlocked the next day.
    if let Some(abel) = user_ids.get(1) {
        for (days, old, new) in [(21, "false", "true"), (20, "true", "false")] {
            audit(
                instance,
                ("sys_user", abel),
                ("locked_out", old, new),
                "admin",
                now - TimeDelta::days(days),
            );
        }
    }
    crate::platform::demo_company::seed(instance);
}

/// How far back the demo's incidents go.
const HISTORY_DAYS: i64 = 150;

/// Sets a seeded record's creation and last update to `at` (and a task's `opened_at`), as if
/// it had been made then.
fn backdate(instance: &mut Instance, table: &str, sys_id: &str, at: DateTime<Utc>) {
    let when = format_time(at);
    if let Some(stored) = instance.db.tables.get_mut(table)
        && let Some(row) = stored.find(sys_id)
    {
        stored.set(row, "sys_created_on", &when);
        stored.set(row, "sys_updated_on", &when);
        if !stored
            .record(row)
            .get("opened_at")
            .is_none_or(String::is_empty)
        {
            stored.set(row, "opened_at", &when);
        }
    }
}

/// Records a past change of `field` on a seeded record, by `user` at `at`: a `sys_audit`
/// entry, and the record's last update.
fn audit(
    instance: &mut Instance,
    (table, sys_id): (&str, &str),
    (field, old, new): (&str, &str, &str),
    user: &str,
    at: DateTime<Utc>,
) {
    let entry = fields(&[
        ("tablename", table),
        ("documentkey", sys_id),
        ("fieldname", field),
        ("oldvalue", old),
        ("newvalue", new),
        ("user", user),
    ]);
    if let Ok(entry_id) = instance.insert_id("sys_audit", entry, user) {
        backdate(instance, "sys_audit", &entry_id, at);
    }
    if let Some(stored) = instance.db.tables.get_mut(table)
        && let Some(row) = stored.find(sys_id)
    {
        let count: u64 = stored.value(row, "sys_mod_count").parse().unwrap_or(0);
        stored.set(row, "sys_updated_on", &format_time(at));
        stored.set(row, "sys_updated_by", user);
        stored.set(row, "sys_mod_count", &(count + 1).to_string());
    }
}
