//! Where a change lands (docs/servicenow.md 5.2): a record of a table ServiceNow tracks in update
//! sets (registry entries, roles, ACLs, properties, business rules, catalog items), written by a
//! user, is recorded as one `sys_update_xml` row in that user's current update set — the set the
//! user's `sys_user_preference` `sys_update_set` names while it is in progress, else `Default`.
//! Users and role grants are data: they are not recorded, and do not travel.

use crate::db::store::Record;
use crate::platform::instance::Instance;

/// Tables whose records go into update sets.
pub const CAPTURED: &[&str] = &[
    "oauth_entity",
    "oauth_entity_auth_scope_mapping",
    "sys_user_role",
    "sys_security_acl",
    "sys_security_acl_role",
    "sys_properties",
    "sys_script",
    "sys_ws_definition",
    "sys_ws_operation",
    "sc_catalog",
    "sc_cat_item",
];

/// The set every change lands in when the user has chosen none.
pub const DEFAULT_SET: &str = "Default";
/// The preference naming a user's current update set.
pub const PREFERENCE: &str = "sys_update_set";
const IN_PROGRESS: &str = "in progress";

impl Instance {
    /// The Default update set every instance has, where changes land until one is chosen.
    pub fn add_default_update_set(&mut self) {
        let set = Record::from([
            ("name".into(), DEFAULT_SET.into()),
            ("state".into(), IN_PROGRESS.into()),
            ("description".into(), "Default update set".into()),
        ]);
        let _ = self.insert("sys_update_set", set, "system");
    }

    /// The update set `user_name`'s changes land in: their chosen set while it is in progress,
    /// else `Default`.
    pub fn current_update_set(&self, user_name: &str) -> Option<Record> {
        let chosen = self
            .find_by("sys_user", "user_name", user_name)
            .and_then(|user| {
                let user_id = user.get("sys_id")?.clone();
                self.query(
                    "sys_user_preference",
                    &format!("user={user_id}^name={PREFERENCE}"),
                )
                .into_iter()
                .next()
            })
            .and_then(|pref| self.get("sys_update_set", pref.get("value")?))
            .filter(|set| set.get("state").map(String::as_str) == Some(IN_PROGRESS));
        chosen.or_else(|| self.find_by("sys_update_set", "name", DEFAULT_SET))
    }

    /// Makes the set `set_id` `user_name`'s current one, as the update set picker does; `false`
    /// when there is no such set in progress (nothing changes then).
    pub fn choose_update_set(&mut self, user_name: &str, set_id: &str) -> bool {
        let in_progress = self
            .get("sys_update_set", set_id)
            .is_some_and(|set| set.get("state").map(String::as_str) == Some(IN_PROGRESS));
        let Some(user_id) = self
            .find_by("sys_user", "user_name", user_name)
            .and_then(|u| u.get("sys_id").cloned())
        else {
            return false;
        };
        if !in_progress {
            return false;
        }
        let existing = self
            .query(
                "sys_user_preference",
                &format!("user={user_id}^name={PREFERENCE}"),
            )
            .into_iter()
            .next()
            .and_then(|p| p.get("sys_id").cloned());
        let fields = Record::from([
            ("user".into(), user_id),
            ("name".into(), PREFERENCE.into()),
            ("value".into(), set_id.to_owned()),
        ]);
        match existing {
            Some(sys_id) => self
                .update("sys_user_preference", &sys_id, fields, user_name)
                .is_ok(),
            None => self
                .insert("sys_user_preference", fields, user_name)
                .is_ok(),
        }
    }

    /// Records `user_name`'s write of `table`/`sys_id` (`action`: `INSERT_OR_UPDATE` or
    /// `DELETE`) in their current update set, when the table is one update sets carry. A
    /// record has one entry per set: a later change replaces it.
    pub fn capture(&mut self, table: &str, sys_id: &str, user_name: &str, action: &str) {
        let class = self
            .db
            .locate(table, sys_id)
            .map(|(physical, _)| physical)
            .unwrap_or_else(|| table.to_owned());
        if !CAPTURED.contains(&class.as_str()) {
            return;
        }
        let Some(set_id) = self
            .current_update_set(user_name)
            .and_then(|set| set.get("sys_id").cloned())
        else {
            return;
        };
        let name = format!("{class}_{sys_id}");
        let target = self
            .get(&class, sys_id)
            .and_then(|r| {
                let field = self.db.schemas.display_field(&class);
                r.get(&field).cloned()
            })
            .unwrap_or_default();
        let fields = Record::from([
            ("name".into(), name.clone()),
            ("action".into(), action.to_owned()),
            ("table".into(), class.clone()),
            ("type".into(), class),
            ("target_name".into(), target),
            ("update_set".into(), set_id.clone()),
        ]);
        let existing = self
            .query(
                "sys_update_xml",
                &format!("update_set={set_id}^name={name}"),
            )
            .into_iter()
            .next()
            .and_then(|r| r.get("sys_id").cloned());
        let _ = match existing {
            Some(id) => self.update("sys_update_xml", &id, fields, user_name),
            None => self.insert("sys_update_xml", fields, user_name),
        };
    }
}
