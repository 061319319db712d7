//! The state shared by every request handler: the instance behind a `std` mutex (held only for
//! short synchronous sections, never across `.await`), the active faults, and the HTTP client
//! business rules call out with. Authentication of API requests lives here because every API
//! does it the same way: Basic or Bearer, then the REST API ACL.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::http::{HeaderMap, header};
use base64::Engine;
use chrono::Utc;

use crate::acl::Acls;
use crate::errors::ApiError;
use crate::faults::Faults;
use crate::identity::{Caller, LoginRefusal};
use crate::instance::{Instance, now_text};
use crate::rules::OutboundCall;
use crate::store::Record;

/// Property that makes Basic auth fail for interactive (non web-service) users with the plain
/// 401, as instances that restrict API basic auth do. Off by default; *unverified* name.
pub const DENY_INTERACTIVE_BASIC_AUTH: &str = "snowlink.sim.deny_basic_auth_for_interactive_users";

pub struct App {
    instance: Mutex<Instance>,
    faults: Mutex<Faults>,
    http: reqwest::Client,
}

impl App {
    pub fn new(instance: Instance, faults: Faults) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            instance: Mutex::new(instance),
            faults: Mutex::new(faults),
            http,
        }
    }

    /// The instance; a panic elsewhere must not make the simulator unusable, so a poisoned
    /// lock is taken over.
    pub fn lock(&self) -> MutexGuard<'_, Instance> {
        self.instance
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sends the calls business rules queued, each in its own task, and logs each one in
    /// `sys_outbound_http_log` with its status and duration.
    pub fn flush_outbound(self: &Arc<Self>) {
        let calls: Vec<OutboundCall> = std::mem::take(&mut self.lock().outbound);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        for call in calls {
            let app = Arc::clone(self);
            runtime.spawn(async move { app.deliver(call).await });
        }
    }

    async fn deliver(&self, call: OutboundCall) {
        let started = Instant::now();
        let result = self.http.post(&call.url).json(&call.body).send().await;
        let duration = started.elapsed().as_millis().to_string();
        let (status, error) = match result {
            Ok(response) => (response.status().as_u16().to_string(), String::new()),
            Err(err) => ("0".to_owned(), err.to_string()),
        };
        let log = Record::from([
            ("url".into(), call.url),
            ("method".into(), "POST".into()),
            ("response_status".into(), status),
            ("duration".into(), duration),
            ("source_table".into(), call.table),
            ("source_record".into(), call.record_id),
            ("business_rule".into(), call.rule_id),
            ("error".into(), error),
        ]);
        let _ = self.lock().insert("sys_outbound_http_log", log, "system");
    }

    /// Authenticates an API request (Basic or Bearer) and applies the REST API ACL of `api`.
    pub fn api_caller(&self, headers: &HeaderMap, api: &str) -> Result<Caller, ApiError> {
        api_access(&self.lock(), headers, api).map(|(caller, _)| caller)
    }
}

/// [`App::api_caller`] under a lock the caller already holds, also handing back the ACLs it
/// loaded so the request can check its records against them without loading them again.
pub fn api_access(
    instance: &Instance,
    headers: &HeaderMap,
    api: &str,
) -> Result<(Caller, Acls), ApiError> {
    let caller = authenticate(instance, headers)?;
    let acls = Acls::load(instance, &caller);
    if !acls.api_allows(&caller, api) {
        return Err(ApiError::ApiAclFailed);
    }
    if let Some(scopes) = &caller.scopes {
        let missing = instance
            .query("sys_api_access_policy", "active=true")
            .iter()
            .filter(|p| p.get("api").is_some_and(|a| a == api || a == "*"))
            .filter_map(|p| p.get("required_scope").filter(|s| !s.is_empty()))
            .any(|required| !scopes.contains(required));
        if missing {
            return Err(ApiError::MissingScope);
        }
    }
    Ok((caller, acls))
}

/// Who sent `headers`, or the single 401.
pub fn authenticate(instance: &Instance, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let refused = ApiError::NotAuthenticated { mfa: false };
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(refused.clone())?;
    let user_id = if let Some(encoded) = strip_scheme(value, "basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| refused.clone())?;
        let text = String::from_utf8(decoded).map_err(|_| refused.clone())?;
        let (user_name, password) = text.split_once(':').ok_or(refused.clone())?;
        let user_id = instance
            .check_password(user_name, password)
            .map_err(|refusal| ApiError::NotAuthenticated {
                mfa: refusal == LoginRefusal::MfaCodeMissing,
            })?;
        if instance.property_is_true(DENY_INTERACTIVE_BASIC_AUTH) {
            let user = instance.get("sys_user", &user_id).unwrap_or_default();
            if user
                .get("web_service_access_only")
                .is_none_or(|v| v != "true")
            {
                return Err(refused);
            }
        }
        user_id
    } else if let Some(token) = strip_scheme(value, "bearer") {
        let (user_id, scopes) = bearer_user(instance, token.trim()).ok_or(refused.clone())?;
        let mut caller = instance.caller(&user_id).ok_or(refused)?;
        caller.scopes = Some(scopes);
        return Ok(caller);
    } else {
        return Err(refused);
    };
    instance.caller(&user_id).ok_or(refused)
}

/// The user behind a live access token whose user may still log in, and the token's scopes.
pub fn bearer_user(instance: &Instance, token: &str) -> Option<(String, Vec<String>)> {
    if token.is_empty() {
        return None;
    }
    let credential = instance.find_by("oauth_credential", "token", token)?;
    if credential.get("type").map(String::as_str) != Some("access_token") {
        return None;
    }
    let expires = credential.get("expires").map(String::as_str).unwrap_or("");
    if expires <= now_text().as_str() {
        return None;
    }
    let user_id = credential.get("user").cloned()?;
    let user = instance.get("sys_user", &user_id)?;
    let alive = user.get("active").is_some_and(|v| v == "true")
        && user.get("locked_out").is_none_or(|v| v != "true");
    let scopes = credential
        .get("scopes")
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    alive.then_some((user_id, scopes))
}

fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest)
}

/// Seconds since the epoch, for rate-limit headers.
pub fn epoch_seconds() -> i64 {
    Utc::now().timestamp()
}
