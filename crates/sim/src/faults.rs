//! Fault injection: the conditions users hit on real instances (servicenow.md, "What users hit
//! when connecting" and "More failure modes") reproduced on demand, from the command line
//! (`--fault`) or from tests at run time. This is which faults are on and what each does to a
//! request; the server applies them (`server::faults`). TLS with an untrusted certificate is a
//! listener choice (see `server` and `tls`).

use std::str::FromStr;
use std::time::{Duration, Instant};

/// One injectable fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// A hibernating developer instance: HTTP 200 `text/html` on every path (item 1).
    Hibernate,
    /// Added latency before every response.
    Latency(Duration),
    /// A rate-limit rule (item 15): at most `limit` API requests per `window`, then 429 with
    /// `Retry-After`, `X-RateLimit-Limit`, `X-RateLimit-Reset` and `X-RateLimit-Rule` (the sys_id
    /// of a `sys_rate_limit_rules` record the simulator keeps active while the fault is on).
    RateLimit { limit: u32, window: Duration },
    /// A full API semaphore queue (item 15, KB0635398): every API request gets 429 with the
    /// error envelope and neither `Retry-After` nor any `X-RateLimit-*` header.
    QueueFull,
    /// Quota rules cancel slow reads (item 14): Table API list GETs and Aggregate API GETs
    /// answer 200 `application/json` with a partial result followed by the "Transaction
    /// cancelled" error envelope, so the body as a whole is not JSON.
    QuotaCancelled,
    /// The same cancellation as one well-formed JSON document (item 38): HTTP 200 with the
    /// first rows, the error and `"status":"failure"`.
    QuotaCancelledDocument,
    /// The next `n` API requests get the API-level 403 "Failed API level ACL Validation", later
    /// ones pass: the transient refusal seen after a node switch (item 17).
    FlakyAcl(u32),
    /// Connections are accepted and closed at once, before any response.
    DropConnections,
    /// Response bodies trickle out in small chunks with this pause between them.
    SlowBody(Duration),
    /// No CI/CD API: a release before it, or its plugin inactive (item 34). Its paths answer
    /// 400 "Requested URI does not represent any resource".
    NoCicd,
    /// The instance's CI/CD operation queue is busy (item 34): every operation stays "Running"
    /// while the fault is on, as previews that take minutes do.
    CicdBusy,
    /// Committing an update set that holds ACLs needs `security_admin` elevated, so the CI/CD
    /// API (never elevated) fails it and only an elevated browser session can commit it.
    /// *Unverified* on a real instance, hence a switch.
    CommitNeedsElevation,
    /// Basic auth restricted (item 35), by the instance's own properties: Basic then works
    /// only for web-service-only users, holders of `snc_basic_auth_api_access`, or with a
    /// valid one-time code appended to the password.
    BasicRestricted,
    /// Every CI/CD API operation is canceled before it runs, as when someone cancels it in the
    /// instance's queue: its progress ends with status 4 "Canceled" and nothing changes.
    CicdCanceled,
    /// A release before Zurich: no public clients and no inbound PKCE, so every authorization
    /// code exchange needs the application's client secret (servicenow.md 1.4).
    BeforeZurich,
}

/// The spellings `--fault` accepts.
pub const FAULT_SYNTAX: &str = "hibernate | latency=MS | ratelimit[=N] | queue-full | quota | quota-json | \
     flaky-acl=N | drop | slow=MS | no-cicd | cicd-busy | commit-needs-elevation | basic-restricted | before-zurich | cicd-canceled";

impl FromStr for Fault {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, value) = text
            .split_once('=')
            .map_or((text, None), |(n, v)| (n, Some(v)));
        match name {
            "hibernate" => Ok(Fault::Hibernate),
            "latency" => Ok(Fault::Latency(millis(name, value)?)),
            "slow" => Ok(Fault::SlowBody(millis(name, value)?)),
            "drop" => Ok(Fault::DropConnections),
            "ratelimit" => Ok(Fault::RateLimit {
                limit: value.map_or(Ok(0), count)?,
                window: Duration::from_secs(60),
            }),
            "queue-full" => Ok(Fault::QueueFull),
            "quota" => Ok(Fault::QuotaCancelled),
            "quota-json" => Ok(Fault::QuotaCancelledDocument),
            "no-cicd" => Ok(Fault::NoCicd),
            "cicd-busy" => Ok(Fault::CicdBusy),
            "commit-needs-elevation" => Ok(Fault::CommitNeedsElevation),
            "basic-restricted" => Ok(Fault::BasicRestricted),
            "before-zurich" => Ok(Fault::BeforeZurich),
            "cicd-canceled" => Ok(Fault::CicdCanceled),
            "flaky-acl" => {
                let value = value
                    .ok_or_else(|| format!("`{name}` needs a request count, e.g. {name}=2"))?;
                Ok(Fault::FlakyAcl(count(value)?))
            }
            other => Err(format!("unknown fault `{other}`")),
        }
    }
}

/// The duration of `name=MS`.
fn millis(name: &str, value: Option<&str>) -> Result<Duration, String> {
    let value =
        value.ok_or_else(|| format!("`{name}` needs a value in milliseconds, e.g. {name}=500"))?;
    value
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| format!("`{value}` is not a number of milliseconds"))
}

/// The number of `name=N`.
fn count(value: &str) -> Result<u32, String> {
    value
        .parse()
        .map_err(|_| format!("`{value}` is not a request count"))
}

/// The set of active faults.
#[derive(Debug, Default, Clone)]
pub struct Faults {
    hibernate: bool,
    latency: Option<Duration>,
    rate_limit: Option<RateLimitRule>,
    queue_full: bool,
    quota_cancelled: Option<QuotaShape>,
    /// API requests still to refuse with the API-level 403.
    flaky_acl_left: u32,
    pub drop_connections: bool,
    slow_body: Option<Duration>,
    pub no_cicd: bool,
    pub cicd_busy: bool,
    pub cicd_canceled: bool,
    pub commit_needs_elevation: bool,
}

/// How a quota rule's cancellation reads (item 38).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaShape {
    /// The partial body with the error envelope appended: not JSON as a whole.
    Appended,
    /// One JSON document with the partial result, the error and `"status":"failure"`.
    Document,
}

/// An active rate-limit rule: the record it answers for and the window it counts in.
#[derive(Debug, Clone)]
struct RateLimitRule {
    limit: u32,
    window: Duration,
    /// sys_id of its `sys_rate_limit_rules` record, sent as `X-RateLimit-Rule`.
    rule_id: String,
    window_start: Option<Instant>,
    window_count: u32,
}

impl RateLimitRule {
    /// Counts one API request; `Some(seconds until the window resets)` when over the limit.
    fn count(&mut self) -> Option<u64> {
        let now = Instant::now();
        let start = *self.window_start.get_or_insert(now);
        if now.duration_since(start) >= self.window {
            self.window_start = Some(now);
            self.window_count = 0;
        }
        self.window_count += 1;
        let elapsed = now.duration_since(self.window_start.unwrap_or(now));
        let remaining = self.window.saturating_sub(elapsed);
        (self.window_count > self.limit).then(|| remaining.as_secs().max(1))
    }
}

/// Why the fault layer answers an API request itself instead of the instance.
pub enum Refusal {
    QueueFull,
    RateLimited {
        retry_after: u64,
        limit: u32,
        rule_id: String,
    },
    FlakyAcl,
}

impl Faults {
    /// Counts one API request against the faults that refuse requests outright; the first that
    /// applies answers. A flaky 403 is used up only by a request it actually refused.
    fn refusal(&mut self) -> Option<Refusal> {
        if self.queue_full {
            return Some(Refusal::QueueFull);
        }
        if let Some(rule) = &mut self.rate_limit
            && let Some(retry_after) = rule.count()
        {
            return Some(Refusal::RateLimited {
                retry_after,
                limit: rule.limit,
                rule_id: rule.rule_id.clone(),
            });
        }
        if self.flaky_acl_left > 0 {
            self.flaky_acl_left -= 1;
            return Some(Refusal::FlakyAcl);
        }
        None
    }
}

impl Faults {
    /// Turns `fault` on; a rate limit answers for the rule record `rule_id`.
    pub fn switch_on(&mut self, fault: Fault, rule_id: Option<String>) {
        match fault {
            Fault::Hibernate => self.hibernate = true,
            Fault::Latency(delay) => self.latency = Some(delay),
            Fault::RateLimit { limit, window } => {
                self.rate_limit = Some(RateLimitRule {
                    limit,
                    window,
                    rule_id: rule_id.unwrap_or_default(),
                    window_start: None,
                    window_count: 0,
                });
            }
            Fault::QueueFull => self.queue_full = true,
            Fault::QuotaCancelled => self.quota_cancelled = Some(QuotaShape::Appended),
            Fault::QuotaCancelledDocument => self.quota_cancelled = Some(QuotaShape::Document),
            Fault::NoCicd => self.no_cicd = true,
            Fault::CicdBusy => self.cicd_busy = true,
            Fault::CicdCanceled => self.cicd_canceled = true,
            Fault::CommitNeedsElevation => self.commit_needs_elevation = true,
            // The instance's own properties and release say it; `App::switch_on` sets them.
            Fault::BasicRestricted | Fault::BeforeZurich => {}
            Fault::FlakyAcl(requests) => self.flaky_acl_left = requests,
            Fault::DropConnections => self.drop_connections = true,
            Fault::SlowBody(pause) => self.slow_body = Some(pause),
        }
    }

    /// Turns every fault off; whether a rate-limit rule was on.
    pub fn clear(&mut self) -> bool {
        std::mem::take(self).rate_limit.is_some()
    }

    /// What the faults do to one request: counted against the refusing faults when it is an API
    /// request (`is_api`), cancelled partway when quota rules watch it (`watched`).
    pub fn for_request(&mut self, is_api: bool, watched: bool) -> RequestFaults {
        // A hibernating instance answers before any API logic, so it uses up no counter.
        let refusal = if is_api && !self.hibernate {
            self.refusal()
        } else {
            None
        };
        RequestFaults {
            hibernate: self.hibernate,
            latency: self.latency,
            slow_body: self.slow_body,
            refusal,
            cancel: self.quota_cancelled.filter(|_| watched),
        }
    }
}

/// What the faults do to one request.
pub struct RequestFaults {
    pub hibernate: bool,
    pub latency: Option<Duration>,
    pub slow_body: Option<Duration>,
    pub refusal: Option<Refusal>,
    /// A quota rule cancels it after the first rows, answering in this shape.
    pub cancel: Option<QuotaShape>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_spellings_parse() {
        assert_eq!("hibernate".parse(), Ok(Fault::Hibernate));
        assert_eq!(
            "latency=250".parse(),
            Ok(Fault::Latency(Duration::from_millis(250)))
        );
        assert_eq!(
            "ratelimit=5".parse(),
            Ok(Fault::RateLimit {
                limit: 5,
                window: Duration::from_secs(60)
            })
        );
        assert_eq!(
            "ratelimit".parse(),
            Ok(Fault::RateLimit {
                limit: 0,
                window: Duration::from_secs(60)
            })
        );
        assert_eq!("queue-full".parse(), Ok(Fault::QueueFull));
        assert_eq!("quota".parse(), Ok(Fault::QuotaCancelled));
        assert_eq!("quota-json".parse(), Ok(Fault::QuotaCancelledDocument));
        assert_eq!("no-cicd".parse(), Ok(Fault::NoCicd));
        assert_eq!("cicd-busy".parse(), Ok(Fault::CicdBusy));
        assert_eq!("basic-restricted".parse(), Ok(Fault::BasicRestricted));
        assert_eq!("flaky-acl=3".parse(), Ok(Fault::FlakyAcl(3)));
        assert_eq!("drop".parse(), Ok(Fault::DropConnections));
        assert_eq!(
            "slow=20".parse(),
            Ok(Fault::SlowBody(Duration::from_millis(20)))
        );
        assert!("latency".parse::<Fault>().is_err());
        assert!("flaky-acl".parse::<Fault>().is_err());
        assert!("flaky-acl=many".parse::<Fault>().is_err());
        assert!("meteor".parse::<Fault>().is_err());
    }

    #[test]
    fn every_spelling_in_the_syntax_parses() {
        for spelling in FAULT_SYNTAX.split(" | ") {
            let example = spelling
                .replace("[=N]", "")
                .replace("=MS", "=1")
                .replace("=N", "=1");
            assert!(example.parse::<Fault>().is_ok(), "{spelling}");
        }
    }
}
