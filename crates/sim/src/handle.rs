//! The library's handle on a running instance, for tests and the demo: read and change records
//! directly (with the same side effects as the APIs: numbers, generated client ids, business
//! rules), create users and OAuth apps, revoke tokens, switch release behaviour, save the state.
//! Every method takes the lock for one synchronous section only.

use std::path::Path;
use std::sync::Arc;

use crate::SimError;
use crate::app::App;
use crate::db::store::Record;
use crate::platform::identity::totp_now;
use crate::platform::instance::{StoreError, random_hex};

/// A clonable handle on a running simulator's state.
#[derive(Clone)]
pub struct StateHandle {
    app: Arc<App>,
}

/// A user to create. `Default` is an active human with no roles and no password.
#[derive(Debug, Clone, Default)]
pub struct UserSpec {
    pub user_name: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub roles: Vec<String>,
    pub inactive: bool,
    pub locked_out: bool,
    pub password_needs_reset: bool,
    pub web_service_access_only: bool,
    /// `Human` (default), `Machine` or `AI`.
    pub identity_type: Option<String>,
    /// Multi-factor authentication: Basic auth then needs the one-time code appended.
    pub mfa: bool,
    /// Signs in through an identity provider only; every local password is refused.
    pub sso_only: bool,
}

impl UserSpec {
    pub fn new(user_name: &str, password: &str) -> Self {
        Self {
            user_name: user_name.to_owned(),
            password: password.to_owned(),
            ..Self::default()
        }
    }
}

/// A created user.
#[derive(Debug, Clone)]
pub struct CreatedUser {
    pub sys_id: String,
    /// The TOTP secret of an MFA user; codes come from [`StateHandle::otp`].
    pub mfa_secret: Option<String>,
}

/// An Application Registry record to create ("OAuth API endpoint for external clients").
#[derive(Debug, Clone, Default)]
pub struct OAuthAppSpec {
    pub name: String,
    /// Registered redirect URLs, in order; the first is the silent fallback.
    pub redirect_urls: Vec<String>,
    /// Generated when `None`, as the registry does.
    pub client_id: Option<String>,
    /// Generated when `None`, as the registry does.
    pub client_secret: Option<String>,
    pub public_client: bool,
    /// `user_name` of the OAuth Application User (needed for client_credentials).
    pub application_user: Option<String>,
    pub access_token_lifespan: Option<u64>,
    pub refresh_token_lifespan: Option<u64>,
}

/// A created Application Registry record.
#[derive(Debug, Clone)]
pub struct OAuthApp {
    pub sys_id: String,
    pub client_id: String,
    pub client_secret: String,
}

impl StateHandle {
    pub(crate) fn new(app: Arc<App>) -> Self {
        Self { app }
    }

    /// Inserts a record (unknown fields dropped, system fields filled, rules fired).
    pub fn insert(&self, table: &str, fields: Record) -> Result<Record, StoreError> {
        let record = self.app.lock().insert(table, fields, "admin");
        self.app.flush_outbound();
        record
    }

    /// Inserts many records under one lock; for large fixtures such as the benchmark's.
    pub fn insert_many(
        &self,
        table: &str,
        records: impl IntoIterator<Item = Record>,
    ) -> Result<usize, StoreError> {
        let mut count = 0;
        {
            let mut instance = self.app.lock();
            for record in records {
                instance.insert_id(table, record, "admin")?;
                count += 1;
            }
        }
        self.app.flush_outbound();
        Ok(count)
    }

    pub fn get(&self, table: &str, sys_id: &str) -> Option<Record> {
        self.app.lock().get(table, sys_id)
    }

    /// Records matching an encoded query, ignoring ACLs.
    pub fn query(&self, table: &str, encoded_query: &str) -> Vec<Record> {
        self.app.lock().query(table, encoded_query)
    }

    pub fn count(&self, table: &str, encoded_query: &str) -> usize {
        let instance = self.app.lock();
        instance.db.count(
            table,
            &crate::db::query::Query::parse(encoded_query),
            &Default::default(),
        )
    }

    pub fn update(&self, table: &str, sys_id: &str, fields: Record) -> Result<Record, StoreError> {
        let record = self.app.lock().update(table, sys_id, fields, "admin");
        self.app.flush_outbound();
        record
    }

    pub fn delete(&self, table: &str, sys_id: &str) -> Result<(), StoreError> {
        self.app.lock().delete(table, sys_id)
    }

    /// Turns the Table API's REST API ACL on or off: when on, callers need
    /// `snc_platform_rest_api_access` (or admin).
    pub fn set_rest_api_acl(&self, active: bool) {
        let mut instance = self.app.lock();
        let acls = instance.query("sys_security_acl", "type=rest_endpoint^name=Table API");
        for acl in acls {
            let sys_id = acl.get("sys_id").cloned().unwrap_or_default();
            let fields = Record::from([("active".into(), active.to_string())]);
            let _ = instance.update("sys_security_acl", &sys_id, fields, "admin");
        }
    }

    pub fn set_property(&self, name: &str, value: &str) {
        self.app.lock().set_property(name, value);
    }

    pub fn property(&self, name: &str) -> Option<String> {
        self.app.lock().property(name)
    }

    /// Creates a user with its roles and credentials.
    pub fn create_user(&self, spec: UserSpec) -> Result<CreatedUser, StoreError> {
        let mut instance = self.app.lock();
        let flag = |b: bool| if b { "true" } else { "false" }.to_owned();
        let mut fields = Record::from([
            ("user_name".into(), spec.user_name.clone()),
            ("first_name".into(), spec.first_name),
            ("last_name".into(), spec.last_name),
            ("email".into(), spec.email),
            ("active".into(), flag(!spec.inactive)),
            ("locked_out".into(), flag(spec.locked_out)),
            (
                "password_needs_reset".into(),
                flag(spec.password_needs_reset),
            ),
            (
                "web_service_access_only".into(),
                flag(spec.web_service_access_only),
            ),
            ("enable_multifactor_authn".into(), flag(spec.mfa)),
            ("user_password".into(), spec.password),
        ]);
        if let Some(kind) = spec.identity_type {
            fields.insert("identity_type".into(), kind);
        }
        if spec.sso_only {
            fields.insert("sso_source".into(), "sso:default_idp".into());
        }
        let user = instance.insert("sys_user", fields, "admin")?;
        let sys_id = user.get("sys_id").cloned().unwrap_or_default();
        for role in &spec.roles {
            instance.grant_role(&sys_id, role)?;
        }
        let mfa_secret = spec.mfa.then(|| random_hex(20));
        if let Some(secret) = &mfa_secret {
            instance
                .credentials
                .entry(sys_id.clone())
                .or_default()
                .mfa_secret = Some(secret.clone());
        }
        Ok(CreatedUser { sys_id, mfa_secret })
    }

    /// Installs a ServiceNow Store application: its scope and the roles it ships.
    pub fn install_app(&self, app: crate::StoreApp) {
        crate::platform::store_apps::install(&mut self.app.lock(), app);
    }

    /// Grants a role (created when missing) to a user.
    pub fn grant_role(&self, user_name: &str, role: &str) -> Result<(), StoreError> {
        let mut instance = self.app.lock();
        let user = instance
            .find_by("sys_user", "user_name", user_name)
            .ok_or(StoreError::NotFound)?;
        let sys_id = user.get("sys_id").cloned().unwrap_or_default();
        instance.grant_role(&sys_id, role)
    }

    /// The current one-time code of an MFA user.
    pub fn otp(&self, user_name: &str) -> Option<String> {
        let instance = self.app.lock();
        let user = instance.find_by("sys_user", "user_name", user_name)?;
        let secret = instance
            .credentials
            .get(user.get("sys_id")?)?
            .mfa_secret
            .clone()?;
        Some(totp_now(&secret))
    }

    /// Creates an Application Registry record; ids and secret are generated unless given.
    pub fn create_oauth_app(&self, spec: OAuthAppSpec) -> Result<OAuthApp, StoreError> {
        let mut instance = self.app.lock();
        let mut fields = Record::from([
            ("name".into(), spec.name),
            ("redirect_url".into(), spec.redirect_urls.join(",")),
            ("public_client".into(), spec.public_client.to_string()),
        ]);
        let optional = [
            ("client_id", spec.client_id),
            ("client_secret", spec.client_secret),
            (
                "access_token_lifespan",
                spec.access_token_lifespan.map(|s| s.to_string()),
            ),
            (
                "refresh_token_lifespan",
                spec.refresh_token_lifespan.map(|s| s.to_string()),
            ),
        ];
        for (field, value) in optional {
            if let Some(value) = value {
                fields.insert(field.into(), value);
            }
        }
        if let Some(user_name) = spec.application_user {
            let user = instance
                .find_by("sys_user", "user_name", &user_name)
                .ok_or(StoreError::NotFound)?;
            fields.insert(
                "user".into(),
                user.get("sys_id").cloned().unwrap_or_default(),
            );
        }
        let record = instance.insert("oauth_entity", fields, "admin")?;
        let text = |f: &str| record.get(f).cloned().unwrap_or_default();
        Ok(OAuthApp {
            sys_id: text("sys_id"),
            client_id: text("client_id"),
            client_secret: text("client_secret"),
        })
    }

    /// Deletes every OAuth token issued to `user_name`; returns how many.
    pub fn revoke_tokens(&self, user_name: &str) -> usize {
        let mut instance = self.app.lock();
        let Some(user) = instance.find_by("sys_user", "user_name", user_name) else {
            return 0;
        };
        let user_id = user.get("sys_id").cloned().unwrap_or_default();
        let tokens = instance.query("oauth_credential", &format!("user={user_id}"));
        for token in &tokens {
            let _ = instance.delete(
                "oauth_credential",
                token.get("sys_id").map(String::as_str).unwrap_or(""),
            );
        }
        tokens.len()
    }

    /// The outbound calls business rules made (`sys_outbound_http_log`), oldest first.
    pub fn outbound_log(&self) -> Vec<Record> {
        self.app
            .lock()
            .query("sys_outbound_http_log", "ORDERBYsys_created_on")
    }

    /// Switches inbound PKCE (Zurich and later) on or off. On: public clients must send an S256
    /// `code_challenge`. Off (older releases): `code_challenge` is ignored and the token
    /// exchange needs the client secret.
    pub fn set_pkce_required(&self, on: bool) {
        self.app.lock().release.pkce_supported = on;
    }

    /// Saves the whole state as JSON.
    pub fn save(&self, path: &Path) -> Result<(), SimError> {
        let text = crate::platform::persist::to_json(&self.app.lock());
        std::fs::write(path, text).map_err(|err| SimError::State {
            path: path.to_owned(),
            reason: err.to_string(),
        })
    }
}
