//! Users, their effective roles and their local credentials: who a request is, and whether a
//! password (with its one-time code for MFA users) is accepted. Roles expand through
//! `includes_roles` transitively, as `gs.hasRole` sees them.

use std::collections::BTreeSet;

use chrono::Utc;
use sha2::{Digest, Sha256};

use crate::db::store::Record;
use crate::platform::instance::{Instance, StoreError};

/// The Basic auth restriction's properties (servicenow.md item 35): with both true, Basic auth
/// works only for web-service-only users, holders of [`BASIC_AUTH_ROLE`], or with a valid
/// one-time code appended to the password.
pub const BASIC_AUTH_RESTRICTION: [&str; 2] = [
    "glide.authenticate.basic_auth.restriction.active",
    "glide.authenticate.basic_auth.restriction.enforce",
];
/// The role that keeps Basic auth for the REST APIs while it is restricted.
pub const BASIC_AUTH_ROLE: &str = "snc_basic_auth_api_access";

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub user_name: String,
    pub roles: BTreeSet<String>,
    /// The OAuth scopes of the bearer token used; `None` for Basic auth.
    pub scopes: Option<Vec<String>>,
    /// The client id of the OAuth application whose token was used; `None` for Basic auth.
    pub client_id: Option<String>,
}

impl Caller {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.contains(role)
    }

    pub fn is_admin(&self) -> bool {
        self.has_role("admin")
    }
}

/// Why a local password was refused. Every reason gives the same 401 body; only MFA adds a
/// header, as on the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    Refused,
    MfaCodeMissing,
}

const TOTP_STEP_SECONDS: i64 = 30;

impl Instance {
    /// Grants `role` (created when missing) to the user `user_id`.
    pub fn grant_role(&mut self, user_id: &str, role: &str) -> Result<(), StoreError> {
        let role_id = match self.find_by("sys_user_role", "name", role) {
            Some(existing) => existing.get("sys_id").cloned().unwrap_or_default(),
            None => {
                let created = self.insert(
                    "sys_user_role",
                    Record::from([("name".into(), role.to_owned())]),
                    "admin",
                )?;
                created.get("sys_id").cloned().unwrap_or_default()
            }
        };
        let link = Record::from([
            ("user".into(), user_id.to_owned()),
            ("role".into(), role_id),
        ]);
        self.insert("sys_user_has_role", link, "admin")?;
        Ok(())
    }

    /// The caller behind a user record, with the roles active in a session that elevated
    /// none: every granted role except the elevated-privilege ones (`security_admin`). A REST
    /// request, Basic or bearer, is always such a caller (servicenow.md item 19).
    pub fn caller(&self, user_id: &str) -> Option<Caller> {
        self.caller_elevated(user_id, &BTreeSet::new())
    }

    /// The caller of a browser session that elevated to `elevated` (User menu > Elevate role):
    /// those of its elevated-privilege roles are active too.
    pub fn caller_elevated(&self, user_id: &str, elevated: &BTreeSet<String>) -> Option<Caller> {
        let user = self.get("sys_user", user_id)?;
        let roles = self
            .roles_of(user_id)
            .into_iter()
            .filter(|role| !self.is_elevated_role(role) || elevated.contains(role))
            .collect();
        Some(Caller {
            user_id: user_id.to_owned(),
            user_name: user.get("user_name").cloned().unwrap_or_default(),
            roles,
            scopes: None,
            client_id: None,
        })
    }

    /// Whether `role` is an elevated-privilege role: held, but inactive until the session
    /// elevates to it.
    pub fn is_elevated_role(&self, role: &str) -> bool {
        self.find_by("sys_user_role", "name", role)
            .is_some_and(|r| r.get("elevated_privilege").is_some_and(|v| v == "true"))
    }

    /// The elevated-privilege roles the user holds, which a browser session may elevate to.
    pub fn elevatable_roles(&self, user_id: &str) -> Vec<String> {
        self.roles_of(user_id)
            .into_iter()
            .filter(|role| self.is_elevated_role(role))
            .collect()
    }

    /// Granted role names plus every role they include, transitively.
    pub fn roles_of(&self, user_id: &str) -> BTreeSet<String> {
        let mut pending: Vec<String> = self
            .query("sys_user_has_role", &format!("user={user_id}"))
            .iter()
            .filter(|grant| grant.get("user").map(String::as_str) == Some(user_id))
            .filter_map(|grant| {
                grant
                    .get("role")
                    .and_then(|id| self.get("sys_user_role", id))
            })
            .filter_map(|role| role.get("name").cloned())
            .collect();
        let mut roles = BTreeSet::new();
        while let Some(name) = pending.pop() {
            if !roles.insert(name.clone()) {
                continue;
            }
            if let Some(role) = self.find_by("sys_user_role", "name", &name) {
                let includes = role.get("includes_roles").cloned().unwrap_or_default();
                pending.extend(
                    includes
                        .split(',')
                        .map(str::trim)
                        .filter(|r| !r.is_empty())
                        .map(str::to_owned),
                );
            }
        }
        roles
    }

    /// Whether Basic auth is refused to `user_id` (whose password was right) by the
    /// restriction: on, and the user neither web-service-only, nor holding the role, nor one
    /// who appended a one-time code (an MFA user, whose password check already wanted it).
    pub fn basic_auth_restricted_for(&self, user_id: &str) -> bool {
        if !BASIC_AUTH_RESTRICTION
            .iter()
            .all(|name| self.property_is_true(name))
        {
            return false;
        }
        let user = self.get("sys_user", user_id).unwrap_or_default();
        let web_only = user
            .get("web_service_access_only")
            .is_some_and(|v| v == "true");
        let mfa = self
            .credentials
            .get(user_id)
            .is_some_and(|c| c.mfa_secret.is_some());
        !(web_only || mfa || self.roles_of(user_id).contains(BASIC_AUTH_ROLE))
    }

    /// Whether the user record allows any login at all.
    pub fn user_can_log_in(&self, user: &crate::db::store::Record) -> bool {
        let flag = |field: &str| user.get(field).is_some_and(|v| v == "true");
        user.get("active").is_some_and(|v| v == "true")
            && !flag("locked_out")
            && !flag("password_needs_reset")
            && user.get("sso_source").is_none_or(String::is_empty)
    }

    /// Checks a local password (with the one-time code appended for MFA users) and returns
    /// the user's sys_id.
    pub fn check_password(&self, user_name: &str, given: &str) -> Result<String, LoginRefusal> {
        let user = self
            .find_by("sys_user", "user_name", user_name)
            .ok_or(LoginRefusal::Refused)?;
        let user_id = user.get("sys_id").cloned().unwrap_or_default();
        let credentials = self
            .credentials
            .get(&user_id)
            .filter(|c| !c.unhashed)
            .ok_or(LoginRefusal::Refused)?;
        if let Some(secret) = &credentials.mfa_secret {
            // Basic auth for an MFA user is the password immediately followed by the code.
            let code = given
                .strip_prefix(credentials.password.as_str())
                .filter(|code| code.len() == 6);
            let valid = code.is_some_and(|code| totp_accepts(secret, code));
            if !valid {
                return Err(LoginRefusal::MfaCodeMissing);
            }
        } else if credentials.password.is_empty() || credentials.password != given {
            return Err(LoginRefusal::Refused);
        }
        if !self.user_can_log_in(&user) {
            return Err(LoginRefusal::Refused);
        }
        Ok(user_id)
    }
}

/// The current one-time code for `secret` (RFC 6238 TOTP, 30 s steps, 6 digits, HMAC-SHA-256,
/// which RFC 6238 §1.2 allows).
pub fn totp_now(secret: &str) -> String {
    totp_at(secret, Utc::now().timestamp() / TOTP_STEP_SECONDS)
}

/// Accepts the code of the current step and its neighbours, for clock skew.
fn totp_accepts(secret: &str, code: &str) -> bool {
    let step = Utc::now().timestamp() / TOTP_STEP_SECONDS;
    (step - 1..=step + 1).any(|s| totp_at(secret, s) == code)
}

fn totp_at(secret: &str, step: i64) -> String {
    let mac = hmac_sha256(secret.as_bytes(), &step.to_be_bytes());
    // RFC 4226 §5.3 dynamic truncation.
    let offset = usize::from(mac[31] & 0x0f);
    let bytes = [
        mac[offset],
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ];
    let value = u32::from_be_bytes(bytes) & 0x7fff_ffff;
    format!("{:06}", value % 1_000_000)
}

/// HMAC (RFC 2104) over SHA-256.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner_key: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let outer_key: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&inner_key)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(&outer_key)
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn totp_codes_are_six_digits_and_stable_within_a_step() {
        assert_eq!(totp_at("s", 1).len(), 6);
        assert_eq!(totp_at("s", 1), totp_at("s", 1));
        assert!(totp_accepts("s", &totp_now("s")));
    }
}
