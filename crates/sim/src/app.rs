//! What every request handler shares: the instance behind a `std` mutex (held only for short
//! synchronous sections, never across `.await`), the faults that are on, and the HTTP client
//! business rules call out with (each call logged as the instance logs it).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use chrono::Utc;

use crate::db::store::Record;
use crate::faults::{Fault, Faults};
use crate::platform::identity::BASIC_AUTH_RESTRICTION;
use crate::platform::instance::Instance;
use crate::platform::instance::OutboundCall;

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
}

/// Name of the `sys_rate_limit_rules` record the rate-limit fault answers for.
const RATE_LIMIT_RULE: &str = "Snowlink simulator rate limit";

impl App {
    /// Turns `fault` on. On a real instance a rate limit is a rule record, so the rule is
    /// written first (before the faults lock is taken: the two locks are never held together).
    pub fn switch_on(&self, fault: Fault) {
        let rule_id = matches!(fault, Fault::RateLimit { .. })
            .then(|| write_rate_limit_rule(&mut self.lock(), true));
        if fault == Fault::BasicRestricted {
            let mut instance = self.lock();
            for name in BASIC_AUTH_RESTRICTION {
                instance.set_property(name, "true");
            }
        }
        if fault == Fault::BeforeZurich {
            self.lock().release.pkce_supported = false;
        }
        self.faults().switch_on(fault, rule_id);
    }

    /// Turns every fault off; the rate-limit rule record, if any, stays but is made inactive so
    /// that what the instance's tables say matches how it answers.
    pub fn switch_off_all(&self) {
        if self.faults().clear() {
            write_rate_limit_rule(&mut self.lock(), false);
        }
    }
}

/// Creates or updates the simulator's rate-limit rule with `active`, and returns its sys_id.
fn write_rate_limit_rule(instance: &mut Instance, active: bool) -> String {
    const TABLE: &str = "sys_rate_limit_rules";
    let fields = Record::from([
        ("name".into(), RATE_LIMIT_RULE.into()),
        ("active".into(), active.to_string()),
    ]);
    let existing = instance
        .find_by(TABLE, "name", RATE_LIMIT_RULE)
        .and_then(|rule| rule.get("sys_id").cloned());
    let written = match existing {
        Some(sys_id) => instance.update(TABLE, &sys_id, fields, "system"),
        None => instance.insert(TABLE, fields, "system"),
    };
    // The table is built in; were the write to fail anyway, a well-formed sys_id still lets
    // clients read the header as they would on a real instance.
    written
        .ok()
        .and_then(|rule| rule.get("sys_id").cloned())
        .unwrap_or_else(|| crate::platform::instance::random_hex(16))
}

/// Seconds since the epoch, for rate-limit headers.
pub fn epoch_seconds() -> i64 {
    Utc::now().timestamp()
}
