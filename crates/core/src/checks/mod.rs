//! Diagnostics as data. A [`Check`] is one layer of a connection (`url.parse` → `dns.resolve`
//! → `tcp.connect` → `tls.handshake` → `instance.awake` → `auth.credentials` → the user, its
//! roles, ACLs, the OAuth app, the update set, scripted REST, the outbound round trip, the
//! linked records) with a status, what was found, and two fixes: one for the person using the
//! connection, one for the ServiceNow admin with a link to the record to change. The ids are a
//! public contract shared by `snowlink doctor --json`, the support bundle and the app. The
//! runner ([`run`]) takes the checks a [`Target`] asks for, skips a check whose prerequisite
//! failed, runs the independent ones at once, each under its own timeout, and the whole run
//! under a deadline.

mod access;
mod account;
mod auth;
mod causes;
mod links;
mod network;
mod oauth;
mod outcome;
mod runner;
mod target;
mod tls;
mod trust;

use serde::{Deserialize, Serialize};

pub use links::count_linked;
pub use runner::{Progress, RUNS_AT_ONCE, RunOptions, run, run_all};
pub use target::{AdminCredentials, AdminSignIn, Credentials, KeepTokens, Target, TargetError};
pub use trust::{CaFileError, MAX_CA_FILE_BYTES, read_ca_file};

use crate::errors::NextStep;

/// Declares every check once: its variant, its stable id, its title, the checks it needs, and
/// the function that runs it. The enum, `ALL`, the names, the prerequisites and the dispatch
/// all come from this one table, so a check cannot be half declared.
macro_rules! checks {
    ($($variant:ident = $id:literal, $title:literal, [$($needs:ident),*], $run:path;)*) => {
        /// A check's stable id.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            ts_rs::TS,
        )]
        pub enum CheckId {
            $(#[serde(rename = $id)] $variant,)*
        }

        impl CheckId {
            /// Every check, prerequisites before what needs them.
            pub const ALL: &'static [CheckId] = &[$(Self::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $id,)*
                }
            }

            /// What the check looks at, in a few words (`--list-checks`, the app's tree).
            pub fn title(self) -> &'static str {
                match self {
                    $(Self::$variant => $title,)*
                }
            }

            /// The checks that must pass (or not apply) before this one can tell anything.
            pub fn prerequisites(self) -> &'static [CheckId] {
                match self {
                    $(Self::$variant => &[$(Self::$needs),*],)*
                }
            }
        }

        /// Runs one check.
        async fn run_one(id: CheckId, ctx: &runner::Ctx) -> Result<outcome::Outcome, outcome::Outcome> {
            match id {
                $(CheckId::$variant => $run(ctx).await,)*
            }
        }
    };
}

checks! {
    UrlParse = "url.parse", "Instance address", [], network::url_parse;
    DnsResolve = "dns.resolve", "Host name resolves", [UrlParse], network::dns_resolve;
    TcpConnect = "tcp.connect", "Network connection", [DnsResolve], network::tcp_connect;
    TlsHandshake = "tls.handshake", "TLS certificate", [TcpConnect], tls::tls_handshake;
    InstanceAwake = "instance.awake", "Instance is awake", [TlsHandshake], network::instance_awake;
    AuthCredentials = "auth.credentials", "Credentials accepted", [InstanceAwake], auth::auth_credentials;
    UserAccount = "user.account", "User account", [AuthCredentials], account::user_account;
    UserRoles = "user.roles", "User roles", [AuthCredentials], account::user_roles;
    AclTable = "acl.table", "Table access (ACLs)", [UserRoles], access::acl_table;
    OauthRedirect = "oauth.redirect", "OAuth application", [InstanceAwake], oauth::oauth_redirect;
    OauthScope = "oauth.scope", "OAuth scope", [AuthCredentials], oauth::oauth_scope;
    TokenLifetime = "token.lifetime", "Token lifetime", [AuthCredentials], oauth::token_lifetime;
    UpdatesetCommitted = "updateset.committed", "Update set committed", [AuthCredentials], access::updateset_committed;
    RestScripted = "rest.scripted", "Scripted REST endpoint", [AuthCredentials], access::rest_scripted;
    RoundtripOutbound = "roundtrip.outbound", "Outbound round trip", [AclTable, UpdatesetCommitted], access::roundtrip_outbound;
    LinksCount = "links.count", "Linked records", [AuthCredentials], links::links_count;
}

impl CheckId {
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|id| id.as_str() == text)
    }

    /// The check a person named; a name that is none says which there are.
    pub fn named(text: &str) -> Result<Self, UnknownCheck> {
        Self::parse(text).ok_or_else(|| UnknownCheck(crate::text::untrusted(text, 60)))
    }

    /// Whether the check looks for what the integration profile expects (roles, tables, the
    /// update set, its endpoint and business rule, what counts as linked).
    pub fn uses_profile(self) -> bool {
        matches!(
            self,
            Self::UserRoles
                | Self::AclTable
                | Self::UpdatesetCommitted
                | Self::RestScripted
                | Self::RoundtripOutbound
                | Self::LinksCount
        )
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A check name that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("There is no check \"{0}\".")]
pub struct UnknownCheck(pub String);

impl UnknownCheck {
    pub fn view(&self) -> crate::errors::ErrorView {
        let ids: Vec<&str> = CheckId::ALL.iter().map(|id| id.as_str()).collect();
        crate::errors::ErrorView::new(
            crate::errors::ErrorCode::InvalidInput,
            self.to_string(),
            format!("Use one of: {}.", ids.join(", ")),
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    /// Works, with something to improve (an advisory) or a partial answer.
    Warn,
    Fail,
    /// Not run: a prerequisite failed, it does not apply, or it needs what was not given.
    Skip,
}

/// A link into the instance (or a document) that helps fix a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct Check {
    pub id: CheckId,
    pub title: String,
    pub status: CheckStatus,
    /// One line on what was found.
    pub summary: String,
    pub detail: Option<String>,
    /// For the person using the connection ("ask your ServiceNow admin to …").
    pub remedy_user: Option<String>,
    /// For the ServiceNow admin, naming the record and field to change.
    pub remedy_admin: Option<String>,
    pub links: Vec<Link>,
    /// What to do next, for each front end to phrase (a flag, a button).
    pub next: Option<NextStep>,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    pub skipped_because: Option<String>,
    /// Whether its findings and fixes are shown under it (a failure or an advisory): the one
    /// rule every front end and the text report follow.
    pub expanded: bool,
}

/// The connection's overall state after a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing failed.
    Connected,
    /// The instance and the credentials work; something above them failed.
    Degraded,
    /// The instance cannot be reached or the credentials are refused.
    Disconnected,
}

/// A whole run, as `doctor --json` prints it and the bundle keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct Report {
    pub instance: String,
    pub profile: String,
    pub verdict: Verdict,
    pub checks: Vec<Check>,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    /// "2 problems found in 14 checks (1.2 s)".
    pub summary: String,
}

impl Report {
    pub fn new(instance: String, profile: String, checks: Vec<Check>, elapsed_ms: u64) -> Self {
        let verdict = verdict(&checks);
        let count = |status| checks.iter().filter(|c| c.status == status).count();
        let (failed, warned) = (count(CheckStatus::Fail), count(CheckStatus::Warn));
        let ran = checks.len() - count(CheckStatus::Skip);
        let seconds = elapsed_ms as f64 / 1000.0;
        let problems = match failed {
            0 => "No problems".to_owned(),
            1 => "1 problem".to_owned(),
            n => format!("{n} problems"),
        };
        let advisories = match warned {
            0 => String::new(),
            1 => ", 1 advisory".to_owned(),
            n => format!(", {n} advisories"),
        };
        let summary = format!("{problems} found in {ran} checks{advisories} ({seconds:.1} s)");
        Self {
            instance,
            profile,
            verdict,
            checks,
            elapsed_ms,
            summary,
        }
    }

    pub fn check(&self, id: CheckId) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    pub fn has_failures(&self) -> bool {
        self.checks.iter().any(|c| c.status == CheckStatus::Fail)
    }

    /// The report as the terminal and the app's "Copy report" show it: one line per check
    /// after its `mark`, the findings and fixes under a failure or an advisory, the summary.
    /// Every text from the instance is made terminal-safe, so `mark` may carry colors; `next`
    /// phrases a check's next step in the front end's words.
    pub fn to_text(
        &self,
        heading: &str,
        mark: &dyn Fn(CheckStatus) -> &'static str,
        next: &dyn Fn(NextStep) -> Option<String>,
    ) -> String {
        let safe = crate::text::for_terminal;
        let mut lines = vec![safe(heading)];
        for check in &self.checks {
            lines.push(format!(
                "{} {:<20} {}",
                mark(check.status),
                check.id.as_str(),
                safe(&check.summary)
            ));
            if !check.expanded {
                continue;
            }
            let mut under = Vec::new();
            if let Some(detail) = &check.detail {
                under.push(detail.clone());
            }
            if let Some(user) = &check.remedy_user {
                under.push(format!("fix: {user}"));
            }
            if let Some(admin) = check
                .remedy_admin
                .as_ref()
                .filter(|a| check.remedy_user.as_ref() != Some(*a))
            {
                under.push(format!("admin: {admin}"));
            }
            under.extend(
                check
                    .links
                    .iter()
                    .map(|l| format!("{}: {}", l.label, l.url)),
            );
            if let Some(step) = check.next.and_then(next) {
                under.push(format!("next: {step}"));
            }
            lines.extend(under.iter().map(|line| format!("      {}", safe(line))));
        }
        lines.push(self.summary.clone());
        lines.join("\n")
    }
}

/// The marks of a plain-text report.
pub fn plain_mark(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pass => "✓",
        CheckStatus::Warn => "!",
        CheckStatus::Fail => "✗",
        CheckStatus::Skip => "–",
    }
}

/// Disconnected when a layer up to the credentials failed, degraded when one above failed.
fn verdict(checks: &[Check]) -> Verdict {
    let failed = |id: CheckId| {
        checks
            .iter()
            .any(|c| c.id == id && c.status == CheckStatus::Fail)
    };
    let base = [
        CheckId::UrlParse,
        CheckId::DnsResolve,
        CheckId::TcpConnect,
        CheckId::TlsHandshake,
        CheckId::InstanceAwake,
        CheckId::AuthCredentials,
    ];
    if base.into_iter().any(failed) {
        Verdict::Disconnected
    } else if checks.iter().any(|c| c.status == CheckStatus::Fail) {
        Verdict::Degraded
    } else {
        Verdict::Connected
    }
}

/// Runs one check, with what the profile's absence means for it.
async fn dispatch(id: CheckId, ctx: &runner::Ctx) -> outcome::Outcome {
    let result = run_one(id, ctx).await;
    let outcome = result.unwrap_or_else(|outcome| outcome);
    match &ctx.target.profile_problem {
        Some(problem) if id.uses_profile() => without_profile(outcome, problem),
        _ => outcome,
    }
}

/// A check that found nothing wrong without the profile's expectations, which could not be
/// read, says so: a pass or "nothing to check" would hide that what the integration needs was
/// never looked at.
fn without_profile(outcome: outcome::Outcome, problem: &str) -> outcome::Outcome {
    if !matches!(outcome.status, CheckStatus::Pass | CheckStatus::Skip) {
        return outcome;
    }
    outcome::Outcome::warn(format!(
        "{} The integration profile's expectations were not checked: it could not be read.",
        outcome.summary.trim_end_matches('.').to_owned() + "."
    ))
    .detail(problem.to_owned())
    .user("Ask whoever set Snowlink up to repair the profile file, or to set the connection up again.")
    .admin("Fix the profile file named above (or remove it, and set the connection up with a built-in profile).")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_prerequisites_come_first() {
        for (index, &id) in CheckId::ALL.iter().enumerate() {
            assert_eq!(CheckId::parse(id.as_str()), Some(id));
            assert_eq!(
                serde_json::to_value(id).unwrap(),
                serde_json::Value::String(id.as_str().into())
            );
            for before in id.prerequisites() {
                let at = CheckId::ALL.iter().position(|c| c == before).unwrap();
                assert!(at < index, "{id} depends on the later {before}");
            }
        }
        assert_eq!(CheckId::parse("dns"), None);
    }

    fn check(id: CheckId, status: CheckStatus) -> Check {
        Check {
            id,
            title: id.title().into(),
            status,
            summary: String::new(),
            detail: None,
            remedy_user: None,
            remedy_admin: None,
            links: Vec::new(),
            next: None,
            elapsed_ms: 0,
            skipped_because: None,
            expanded: matches!(status, CheckStatus::Fail | CheckStatus::Warn),
        }
    }

    #[test]
    fn the_verdict_follows_the_layer_that_failed() {
        let ok = check(CheckId::AuthCredentials, CheckStatus::Pass);
        let roles = check(CheckId::UserRoles, CheckStatus::Fail);
        let awake = check(CheckId::InstanceAwake, CheckStatus::Fail);
        let warn = check(CheckId::UserAccount, CheckStatus::Warn);
        assert_eq!(verdict(&[ok.clone(), warn.clone()]), Verdict::Connected);
        assert_eq!(verdict(&[ok.clone(), roles.clone()]), Verdict::Degraded);
        assert_eq!(verdict(&[awake, roles]), Verdict::Disconnected);
        let report = Report::new("i".into(), "custom".into(), vec![ok, warn], 1234);
        assert_eq!(
            report.summary,
            "No problems found in 2 checks, 1 advisory (1.2 s)"
        );
    }
}
