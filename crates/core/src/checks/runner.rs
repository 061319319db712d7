//! Runs the checks a target asks for: each starts as soon as its prerequisites are done, so
//! independent checks run at once and the wall time follows the longest chain of dependent
//! round trips; each has its own timeout; the whole run has a deadline, after which whatever
//! is left is reported as not finished, never waited for. A check whose prerequisite failed is
//! skipped with the reason. Progress is reported as it happens, for the app's tree.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::outcome::Outcome;
use super::target::Target;
use super::{Check, CheckId, CheckStatus, Report};
use crate::api::LinkedIdentity;
use crate::api::{Auth, Record, SnowClient};
use crate::http::{ClientOptions, HttpLog};
use crate::instance::InstanceUrl;

/// How a run goes.
#[derive(Clone)]
pub struct RunOptions {
    /// Only these checks (and what they need); all when empty.
    pub only: Vec<CheckId>,
    /// Each check's own limit.
    pub check_timeout: Duration,
    /// The whole run's limit.
    pub deadline: Duration,
    /// CA certificates (PEM) to trust beside the operating system's.
    pub ca_pem: Option<Vec<u8>>,
    /// Where the run's HTTP exchanges are recorded (the support bundle's log).
    pub log: HttpLog,
    /// Told when a check starts (`None`) and when it finishes.
    pub progress: Option<Progress>,
    /// An HTTP client built for these options, shared by runs; built per run when absent.
    pub http: Option<reqwest::Client>,
}

/// A progress callback: the check's id and, once finished, its result.
pub type Progress = Arc<dyn Fn(CheckId, Option<&Check>) + Send + Sync>;

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            only: Vec::new(),
            check_timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(60),
            ca_pem: None,
            log: HttpLog::default(),
            progress: None,
            http: None,
        }
    }
}

/// Who the credentials turned out to be, for the checks after `auth.credentials`.
#[derive(Debug, Clone)]
pub struct Session {
    pub client: SnowClient,
    pub identity: LinkedIdentity,
    /// When the access token in use expires (OAuth grants).
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The scopes granted to the token, when the server said.
    pub scopes: Vec<String>,
}

/// What the checks of one run share: the target, the HTTP options, and what earlier checks
/// found (each set once, by the check that finds it).
pub struct Ctx {
    pub target: Target,
    pub options: ClientOptions,
    /// One HTTP client for every request of the run (`None` when it could not be built: each
    /// check then reports why).
    pub http: Result<reqwest::Client, crate::http::TransportError>,
    /// The extra roots for the TLS check's own handshake.
    pub extra_roots_der: Vec<rustls::pki_types::CertificateDer<'static>>,
    pub instance: OnceLock<InstanceUrl>,
    pub addrs: OnceLock<Vec<SocketAddr>>,
    pub session: OnceLock<Session>,
    pub user_record: OnceLock<Record>,
    pub roles: OnceLock<BTreeSet<String>>,
}

impl Ctx {
    pub fn new(target: Target, options: &RunOptions) -> Self {
        let pem = options.ca_pem.clone().unwrap_or_default();
        let extra_roots = reqwest::Certificate::from_pem_bundle(&pem).unwrap_or_default();
        let extra_roots_der = super::trust::certificates_from_pem(&pem);
        let client_options = ClientOptions {
            timeout: options.check_timeout,
            extra_roots,
            log: Some(options.log.clone()),
        };
        let http = match &options.http {
            Some(http) => Ok(http.clone()),
            None => crate::http::client_with(&client_options),
        };
        Self {
            target,
            options: client_options,
            http,
            extra_roots_der,
            instance: OnceLock::new(),
            addrs: OnceLock::new(),
            session: OnceLock::new(),
            user_record: OnceLock::new(),
            roles: OnceLock::new(),
        }
    }

    /// The instance `url.parse` found; the runner never starts a later check without it.
    pub fn instance(&self) -> Result<&InstanceUrl, Outcome> {
        self.instance
            .get()
            .ok_or_else(|| Outcome::skip("the instance address was not understood"))
    }

    /// The run's HTTP client.
    pub fn http(&self) -> Result<reqwest::Client, Outcome> {
        self.http
            .clone()
            .map_err(|err| Outcome::fail(format!("The HTTP client could not be set up: {err}.")))
    }

    /// A client of the instance with `auth`, recording into the run's log.
    pub fn client(&self, auth: Auth) -> Result<SnowClient, Outcome> {
        let instance = self.instance()?.clone();
        Ok(SnowClient::with_http(
            instance,
            auth,
            self.http()?,
            &self.options,
        ))
    }

    /// The admin's client, when admin credentials were given.
    pub fn admin_client(&self) -> Option<SnowClient> {
        let admin = self.target.admin.as_ref()?;
        self.client(admin.auth()).ok()
    }

    /// The session `auth.credentials` opened.
    pub fn session(&self) -> Result<&Session, Outcome> {
        self.session
            .get()
            .ok_or_else(|| Outcome::skip("no signed-in session"))
    }

    /// A client that can read configuration records: the admin's, else the session's.
    pub fn reader(&self) -> Result<SnowClient, Outcome> {
        match self.admin_client() {
            Some(admin) => Ok(admin),
            None => Ok(self.session()?.client.clone()),
        }
    }
}

type CheckFuture<'a> = Pin<Box<dyn Future<Output = (CheckId, Outcome, Duration)> + Send + 'a>>;

/// Runs the checks `options` asks for against `target`.
pub async fn run(target: Target, options: RunOptions) -> Report {
    let started = Instant::now();
    let instance_text = target.typed.clone();
    let profile = target.profile.clone();
    let ctx = Ctx::new(target, &options);
    let wanted = wanted(&options.only);
    let mut finished: HashMap<CheckId, (Check, bool)> = HashMap::new();
    let mut running: FuturesUnordered<CheckFuture<'_>> = FuturesUnordered::new();
    let mut started_ids: BTreeSet<CheckId> = BTreeSet::new();
    let deadline = tokio::time::sleep(options.deadline);
    tokio::pin!(deadline);
    let report = |id: CheckId, check: &Check| {
        if let Some(progress) = &options.progress {
            progress(id, Some(check));
        }
    };
    loop {
        for &id in &wanted {
            if started_ids.contains(&id) {
                continue;
            }
            let prerequisites = id.prerequisites();
            if !prerequisites.iter().all(|p| finished.contains_key(p)) {
                continue;
            }
            started_ids.insert(id);
            if let Some(blocker) = prerequisites.iter().find(|p| finished[p].1) {
                let check = skipped(id, &format!("{blocker} did not pass"));
                report(id, &check);
                finished.insert(id, (check, true));
                continue;
            }
            if let Some(progress) = &options.progress {
                progress(id, None);
            }
            let ctx = &ctx;
            let limit = options.check_timeout;
            running.push(Box::pin(async move {
                let begun = Instant::now();
                let outcome = match tokio::time::timeout(limit, super::dispatch(id, ctx)).await {
                    Ok(outcome) => outcome,
                    Err(_) => timed_out(limit),
                };
                (id, outcome, begun.elapsed())
            }));
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            Some((id, outcome, elapsed)) = running.next() => {
                let check = into_check(id, outcome, elapsed);
                let blocking = check.status == CheckStatus::Fail;
                report(id, &check);
                finished.insert(id, (check, blocking));
            }
            () = &mut deadline => {
                let limit = options.deadline.as_secs();
                for &id in &wanted {
                    if let std::collections::hash_map::Entry::Vacant(slot) = finished.entry(id) {
                        let check = into_check(
                            id,
                            Outcome::fail(format!("Not finished: the run stopped at its {limit} s deadline."))
                                .fix("The instance answers slowly: check the network or VPN, then run again with a longer timeout."),
                            started.elapsed(),
                        );
                        report(id, &check);
                        slot.insert((check, true));
                    }
                }
                break;
            }
        }
    }
    drop(running);
    let checks = wanted
        .iter()
        .filter_map(|id| finished.remove(id).map(|(check, _)| check))
        .collect();
    let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Report::new(instance_text, profile, checks, elapsed)
}

/// Diagnoses run at once by [`run_all`]: enough that fifty saved connections take a few times
/// one run (each run mostly waits on the network), few enough for a small machine.
pub const RUNS_AT_ONCE: usize = 32;

/// Diagnoses every target, [`RUNS_AT_ONCE`] at a time, each with its own HTTP log; the
/// reports come back in the targets' order, each with its log.
pub async fn run_all(targets: Vec<Target>, options: &RunOptions) -> Vec<(Report, HttpLog)> {
    let mut options = options.clone();
    if options.http.is_none() {
        let pem = options.ca_pem.clone().unwrap_or_default();
        let shared = ClientOptions {
            timeout: options.check_timeout,
            extra_roots: reqwest::Certificate::from_pem_bundle(&pem).unwrap_or_default(),
            log: None,
        };
        options.http = crate::http::client_with(&shared).ok();
    }
    let options = &options;
    futures::stream::iter(targets)
        .map(|target| {
            let mut options = options.clone();
            options.log = HttpLog::default();
            let log = options.log.clone();
            async move { (run(target, options).await, log) }
        })
        .buffered(RUNS_AT_ONCE)
        .collect()
        .await
}

/// The asked checks and everything they need, in catalogue order.
fn wanted(only: &[CheckId]) -> Vec<CheckId> {
    if only.is_empty() {
        return CheckId::ALL.to_vec();
    }
    let mut needed: BTreeSet<CheckId> = BTreeSet::new();
    let mut pending: Vec<CheckId> = only.to_vec();
    while let Some(id) = pending.pop() {
        if needed.insert(id) {
            pending.extend_from_slice(id.prerequisites());
        }
    }
    CheckId::ALL
        .iter()
        .copied()
        .filter(|id| needed.contains(id))
        .collect()
}

fn timed_out(limit: Duration) -> Outcome {
    Outcome::fail(format!("Timed out after {} s.", limit.as_secs().max(1))).fix(
        "The instance answers slowly: check the network or VPN, or run again when it is less busy.",
    )
}

fn skipped(id: CheckId, because: &str) -> Check {
    let outcome = Outcome::skip(format!("Skipped: {because}.")).because(because);
    into_check(id, outcome, Duration::ZERO)
}

fn into_check(id: CheckId, outcome: Outcome, elapsed: Duration) -> Check {
    let outcome = outcome.into_parts();
    Check {
        id,
        title: id.title().into(),
        status: outcome.status,
        summary: outcome.summary,
        detail: outcome.detail,
        remedy_user: outcome.remedy_user,
        remedy_admin: outcome.remedy_admin,
        links: outcome.links,
        next: outcome.next,
        elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        skipped_because: outcome.skipped_because,
        expanded: matches!(outcome.status, CheckStatus::Fail | CheckStatus::Warn),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_asked_check_brings_what_it_needs() {
        let ids = wanted(&[CheckId::AclTable]);
        assert_eq!(
            ids,
            vec![
                CheckId::UrlParse,
                CheckId::DnsResolve,
                CheckId::TcpConnect,
                CheckId::TlsHandshake,
                CheckId::InstanceAwake,
                CheckId::AuthCredentials,
                CheckId::UserRoles,
                CheckId::AclTable
            ]
        );
        assert_eq!(wanted(&[]).len(), CheckId::ALL.len());
    }
}
