//! Applications from the ServiceNow Store. Installing one creates its application scope
//! (`sys_store_app`) and the roles it ships: an `x_<vendor>_<app>.*` role exists only on an
//! instance that installed the app, and belongs to that app's scope — an integration's setup
//! grants it, never creates it.

use std::str::FromStr;

use crate::db::store::record_of as fields;
use crate::platform::instance::Instance;

/// A Store application the simulator can install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreApp {
    /// incident.io's app (store id `2ee3e7b697a9cbd8fe857a121153af21`): scope `x_incident_io`,
    /// role `x_incident_io.api_user`.
    IncidentIo,
}

/// The names `--app` takes.
pub const STORE_APP_SYNTAX: &str = "incident-io";

impl FromStr for StoreApp {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "incident-io" => Ok(Self::IncidentIo),
            other => Err(format!("unknown store app \"{other}\"")),
        }
    }
}

impl StoreApp {
    /// `(scope, name, version)` of the application record.
    fn record(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::IncidentIo => ("x_incident_io", "incident.io", "2.4.0"),
        }
    }

    /// `(name, description)` of the roles it ships.
    fn roles(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::IncidentIo => &[(
                "x_incident_io.api_user",
                "incident.io: the API access sync configuration and incident writes need",
            )],
        }
    }
}

/// Installs `app` (again is a no-op): its application record and roles.
pub fn install(instance: &mut Instance, app: StoreApp) {
    let (scope, name, version) = app.record();
    if instance.find_by("sys_store_app", "scope", scope).is_none() {
        let record = fields(&[
            ("scope", scope),
            ("name", name),
            ("version", version),
            ("active", "true"),
        ]);
        let _ = instance.insert("sys_store_app", record, "system");
    }
    for (role, description) in app.roles() {
        if instance.find_by("sys_user_role", "name", role).is_none() {
            let record = fields(&[
                ("name", role),
                ("description", description),
                ("elevated_privilege", "false"),
                ("includes_roles", ""),
            ]);
            let _ = instance.insert("sys_user_role", record, "system");
        }
    }
}
