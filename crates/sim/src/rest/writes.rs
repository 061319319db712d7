//! What the Table API does with a posted body before the record sees it, as a real instance
//! does (servicenow.md items 19, 31, 32, 34, 39): a password is hashed only with
//! `sysparm_input_display_value=true` (otherwise stored as literal text no sign-in matches),
//! an encrypted field is saved only with it, a date-time typed with it is read in the caller's
//! time zone and formats, fields read-only over REST are dropped without an
//! error, and an elevated-privilege role can be granted only by a caller who holds it active.

use crate::db::schema::FieldKind;
use crate::db::store::Record;
use crate::platform::identity::Caller;
use crate::platform::instance::Instance;
use crate::rest::errors::ApiError;

/// The query parameter that makes the instance treat written values as typed in a form.
pub const INPUT_DISPLAY_VALUE: &str = "sysparm_input_display_value";

/// Fields a REST write never changes, silently (the record keeps its value, or a new record
/// gets the one the instance generates): servicenow.md items 32 and 34.
const READ_ONLY: &[(&str, &str)] = &[
    ("sys_remote_update_set", "state"),
    ("oauth_entity", "client_id"),
];

/// A body ready for the record, and the password it carried.
pub struct Prepared {
    pub fields: Record,
    /// `user_password`'s text and whether it is hashed.
    pub password: Option<(String, bool)>,
}

/// Applies the rules above to a body written to `table` by `caller`.
pub fn prepare(
    instance: &Instance,
    caller: &Caller,
    table: &str,
    mut fields: Record,
    input_display_value: bool,
) -> Result<Prepared, ApiError> {
    let schemas = &instance.db.schemas;
    let is_user = schemas.ancestry(table).iter().any(|t| t == "sys_user");
    let password = if is_user {
        fields
            .remove("user_password")
            .map(|text| (text, input_display_value))
    } else {
        None
    };
    if input_display_value {
        // Date-times typed as the caller sees them are stored in UTC.
        let viewer = crate::rest::dates::Viewer::of(instance, &caller.user_id);
        for (name, value) in fields.iter_mut() {
            if schemas.field(table, name) == Some(&FieldKind::DateTime)
                && let Some(utc) = viewer.read(value)
            {
                *value = utc;
            }
        }
    }
    fields.retain(|name, _| {
        let encrypted = schemas.field(table, name) == Some(&FieldKind::Password2);
        let read_only = READ_ONLY.contains(&(table, name.as_str()));
        !read_only && (!encrypted || input_display_value)
    });
    if table == "sys_user_has_role"
        && let Some(role) = fields.get("role")
    {
        let name = instance
            .get("sys_user_role", role)
            .and_then(|r| r.get("name").cloned())
            .unwrap_or_else(|| role.clone());
        if instance.is_elevated_role(&name) && !caller.has_role(&name) {
            return Err(ApiError::InsertDenied);
        }
    }
    Ok(Prepared { fields, password })
}

impl Prepared {
    /// Sets the password of the user `sys_id` the body was written to, if it carried one.
    pub fn set_password(self, instance: &mut Instance, sys_id: &str) {
        if let Some((text, hashed)) = self.password {
            instance.set_password(sys_id, text, hashed);
        }
    }
}
