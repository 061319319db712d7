//! Every environment variable Snowlink reads, named once. Scripts and support sessions give
//! credentials and settings through them; the ones holding secrets ([`SECRET_VARS`], and any
//! [`SECRET_INPUT_PREFIX`] variable) are removed from every child process's environment.

/// Overrides the config folder (tests, portable setups).
pub const CONFIG_DIR: &str = "SNOWLINK_CONFIG_DIR";

/// How a diagnosis of `--instance` signs in: `auth-code`, `password`, `client-credentials`,
/// `basic` or `api-key`.
pub const GRANT: &str = "SNOWLINK_GRANT";
pub const CLIENT_ID: &str = "SNOWLINK_CLIENT_ID";
pub const USERNAME: &str = "SNOWLINK_USERNAME";
pub const CLIENT_SECRET: &str = "SNOWLINK_CLIENT_SECRET";
pub const PASSWORD: &str = "SNOWLINK_PASSWORD";
pub const API_KEY: &str = "SNOWLINK_API_KEY";

/// The ServiceNow admin account the setup and the diagnosis may use, over Basic auth.
pub const ADMIN_USERNAME: &str = "SNOWLINK_ADMIN_USERNAME";
pub const ADMIN_PASSWORD: &str = "SNOWLINK_ADMIN_PASSWORD";
/// How the admin signs in: `auth-code` (through the browser, with Snowlink's own OAuth
/// application) or `basic`.
pub const ADMIN_GRANT: &str = "SNOWLINK_ADMIN_GRANT";
/// The Client ID of Snowlink's own OAuth application, and its secret when it is not a public
/// client.
pub const ADMIN_CLIENT_ID: &str = "SNOWLINK_ADMIN_CLIENT_ID";
pub const ADMIN_CLIENT_SECRET: &str = "SNOWLINK_ADMIN_CLIENT_SECRET";

/// The variables that hold secrets.
pub const SECRET_VARS: [&str; 5] = [
    CLIENT_SECRET,
    PASSWORD,
    API_KEY,
    ADMIN_PASSWORD,
    ADMIN_CLIENT_SECRET,
];

/// Prefix of the variables a script gives a setup's secret inputs with no connection field in
/// (`SNOWLINK_SECRET_SERVICE_PASSWORD`).
pub const SECRET_INPUT_PREFIX: &str = "SNOWLINK_SECRET_";

/// Set to `1` to have a front end report its first view (start-up benchmarks).
pub const REPORT_FIRST_VIEW: &str = "SNOWLINK_REPORT_FIRST_VIEW";

/// Whether a variable of that name holds a secret.
pub fn is_secret(name: &str) -> bool {
    SECRET_VARS.contains(&name) || name.starts_with(SECRET_INPUT_PREFIX)
}

/// What a child process must not inherit: every secret variable, and each of this process's
/// variables that holds a setup's secret input.
pub fn secrets_to_withhold() -> Vec<std::ffi::OsString> {
    secrets_among(std::env::vars_os().map(|(name, _)| name))
}

fn secrets_among(names: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out: Vec<std::ffi::OsString> = SECRET_VARS.iter().map(Into::into).collect();
    out.extend(names.filter(|name| {
        name.to_str()
            .is_some_and(|n| is_secret(n) && !SECRET_VARS.contains(&n))
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_variables_are_told_apart() {
        for name in SECRET_VARS {
            assert!(is_secret(name), "{name}");
        }
        assert!(is_secret("SNOWLINK_SECRET_SERVICE_PASSWORD"));
        for name in [
            GRANT,
            CLIENT_ID,
            USERNAME,
            ADMIN_USERNAME,
            CONFIG_DIR,
            "PATH",
        ] {
            assert!(!is_secret(name), "{name}");
        }
    }

    #[test]
    fn a_setup_s_secret_inputs_are_withheld_with_the_named_ones() {
        let names = [
            "PATH",
            "SNOWLINK_SECRET_SERVICE_PASSWORD",
            "SNOWLINK_GRANT",
            PASSWORD,
        ]
        .map(std::ffi::OsString::from);
        let withheld = secrets_among(names.into_iter());
        assert_eq!(withheld.len(), SECRET_VARS.len() + 1, "{withheld:?}");
        assert!(withheld.contains(&"SNOWLINK_SECRET_SERVICE_PASSWORD".into()));
        assert!(!withheld.contains(&"SNOWLINK_GRANT".into()));
    }
}
