//! Update sets, as a real instance takes them (servicenow.md item 34): no REST call imports
//! one, so the admin uploads the file in the browser (Retrieved Update Sets > Import Update Set
//! from XML); Snowlink then finds the loaded set and previews and commits it through the
//! CI/CD API, polling its progress for as long as the instance's queue takes. Where the API is
//! missing or refuses, the admin is told to click Preview and Commit in the browser.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{AutomateError, Context, Plan, PlannedAction, change, find, unfilled};
use crate::api::{ApiError, EncodedQuery, Forbidden, field};

/// The profile's own update set.
pub(super) async fn work(
    ctx: &Context<'_>,
    apply: bool,
    plan: &mut Plan,
) -> Result<(), AutomateError> {
    // A set the vendor gives, once uploaded, is the one to preview and commit; Snowlink's
    // stand-in only otherwise.
    if let Some(spec) = ctx
        .profile
        .update_set
        .as_ref()
        .filter(|s| s.vendor_supplied)
        && latest(ctx, &spec.name).await?.is_some()
    {
        return load(ctx, (&spec.name, None), apply, plan).await;
    }
    // The stand-in is made from what was typed: a business rule with no address to post to
    // cannot be made, and the input it needs is named.
    let rules = ctx
        .profile
        .update_set
        .iter()
        .flat_map(|s| &s.business_rules);
    if let Some(input) = rules.filter_map(|rule| unfilled(ctx, &rule.url)).next() {
        return Err(AutomateError::Unfilled {
            value: "update set's business rule".into(),
            input: input.label.clone(),
        });
    }
    let records = crate::updateset::records(ctx.profile, ctx.templates)?;
    load(
        ctx,
        (&records.name, Some(records.updates.len())),
        apply,
        plan,
    )
    .await
}

/// The latest loaded set called `name`.
async fn latest(ctx: &Context<'_>, name: &str) -> Result<Option<crate::api::Record>, ApiError> {
    find(
        ctx.admin,
        "sys_remote_update_set",
        EncodedQuery::default()
            .eq("name", name)?
            .and_raw("ORDERBYDESCsys_created_on"),
        &["sys_id", "state"],
    )
    .await
}

/// Why loading needs the admin: the words the plan and the errors use.
pub const UPLOAD_BY_HAND: &str = "No REST call can import an update set: you upload it in the \
                                  browser (System Update Sets > Retrieved Update Sets > Import \
                                  Update Set from XML).";

/// Plans, or does, what brings the set called `name` (of `count` records, when Snowlink
/// made it) to committed: the admin's upload first, then the CI/CD API's preview and commit.
pub(super) async fn load(
    ctx: &Context<'_>,
    (name, count): (&str, Option<usize>),
    apply: bool,
    plan: &mut Plan,
) -> Result<(), AutomateError> {
    let name = &name.to_owned();
    let Some(set) = latest(ctx, name).await? else {
        plan.hand = Some(UPLOAD_BY_HAND.to_owned());
        change(
            plan,
            PlannedAction::Create,
            "sys_remote_update_set",
            format!(
                "Update set {name} ({} records): you upload it in the browser, then Snowlink \
                 previews and commits it through the CI/CD API",
                count.unwrap_or_default()
            ),
        );
        if apply {
            return Err(AutomateError::UploadFirst { name: name.clone() });
        }
        return Ok(());
    };
    let set_id = field(&set, "sys_id").unwrap_or_default().to_owned();
    let state = field(&set, "state").unwrap_or_default().to_owned();
    if state == "committed" {
        change(
            plan,
            PlannedAction::Keep,
            "sys_remote_update_set",
            format!("Update set {name} (committed)"),
        );
        return Ok(());
    }
    change(
        plan,
        PlannedAction::Update,
        "sys_remote_update_set",
        format!("Update set {name}: preview and commit it through the CI/CD API (it is {state})"),
    );
    if !apply {
        return Ok(());
    }
    let by_hand = |reason: String| AutomateError::CommitByHand {
        name: name.clone(),
        reason,
    };
    if state != "previewed" {
        let preview = Operation {
            path: format!("/api/sn_cicd/update_set/preview/{set_id}"),
            doing: format!("preview the update set \"{name}\""),
        };
        cicd(ctx, &preview)
            .await
            .map_err(|err| err.by_hand(&by_hand))?;
    }
    let open = EncodedQuery::raw("statusISEMPTY").eq("remote_update_set", &set_id)?;
    let problems = ctx
        .admin
        .count("sys_update_preview_problem", Some(&open))
        .await?;
    if problems > 0 {
        let first = find(
            ctx.admin,
            "sys_update_preview_problem",
            open,
            &["description"],
        )
        .await?
        .and_then(|p| field(&p, "description").map(|d| crate::text::untrusted(d, 200)))
        .unwrap_or_default();
        return Err(AutomateError::PreviewProblems {
            count: problems,
            first,
        });
    }
    let commit = Operation {
        path: format!("/api/sn_cicd/update_set/commit/{set_id}"),
        doing: format!("commit the update set \"{name}\""),
    };
    cicd(ctx, &commit)
        .await
        .map_err(|err| err.by_hand(&by_hand))
}

/// A CI/CD API operation: where it starts, and what it does in words ("preview the update
/// set …").
struct Operation {
    path: String,
    doing: String,
}

/// How a CI/CD operation ended, when not well.
enum CicdFailure {
    /// The API is not there or may not be used: the browser's buttons do the same.
    Unavailable(String),
    /// It ran and failed.
    Failed(String),
    /// Anything else the instance answered.
    Api(ApiError),
    /// The person stopped waiting for it.
    Stopped(String),
}

impl CicdFailure {
    fn by_hand(self, by_hand: &impl Fn(String) -> AutomateError) -> AutomateError {
        match self {
            Self::Unavailable(reason) => by_hand(reason),
            // A commit refused for want of elevation is done in an elevated browser session.
            Self::Failed(error) if error.contains("security_admin") => by_hand(error),
            Self::Failed(error) => AutomateError::Cicd(error),
            Self::Api(err) => AutomateError::Api(err),
            Self::Stopped(doing) => AutomateError::StoppedWaiting(doing),
        }
    }
}

impl From<ApiError> for CicdFailure {
    fn from(err: ApiError) -> Self {
        match err {
            ApiError::PathNotFound { .. } | ApiError::NotFound { .. } => Self::Unavailable(
                "this instance has no CI/CD API (a release before Yokohama, or its plugin \
                 inactive)"
                    .into(),
            ),
            ApiError::Forbidden {
                kind: Forbidden::ApiAcl | Forbidden::RecordAcl | Forbidden::Other,
                ..
            } => Self::Unavailable(
                "your account may not use the CI/CD API (it needs admin or \
                 sn_cicd.sys_ci_automation)"
                    .into(),
            ),
            other => Self::Api(other),
        }
    }
}

/// The longest a CI/CD operation is waited for: operations queue behind an instance-wide lock,
/// and a preview can take minutes.
const CICD_WAIT: Duration = Duration::from_secs(15 * 60);

/// Starts a CI/CD API operation and reads its progress until it ends, telling the watcher how
/// it goes and stopping when told to.
async fn cicd(ctx: &Context<'_>, operation: &Operation) -> Result<(), CicdFailure> {
    let admin = ctx.admin;
    let doing = &operation.doing;
    ctx.watch.tell(&format!("Asking the instance to {doing}…"));
    let started = admin.post_path(&operation.path, &json!({})).await?;
    let progress = started["result"]["links"]["progress"]["id"]
        .as_str()
        .filter(|id| crate::text::SysId::parse(id).is_ok())
        .map(str::to_owned)
        .ok_or_else(|| CicdFailure::Failed("the CI/CD API gave no progress record".into()))?;
    let began = Instant::now();
    let mut pause = Duration::from_millis(200);
    while began.elapsed() < CICD_WAIT {
        if ctx.watch.stopped() {
            return Err(CicdFailure::Stopped(doing.clone()));
        }
        let answer = admin
            .get_path(&format!("/api/sn_cicd/progress/{progress}"))
            .await?;
        let result = &answer["result"];
        match result["status"].as_str() {
            Some("2") => return Ok(()),
            Some("3") => {
                let error = result["error"].as_str().unwrap_or("it failed");
                return Err(CicdFailure::Failed(crate::text::untrusted(error, 300)));
            }
            Some("4") => return Err(CicdFailure::Failed("it was canceled".into())),
            _ => {
                let label = result["status_label"]
                    .as_str()
                    .map(|l| crate::text::untrusted(l, 40))
                    .unwrap_or_else(|| "Pending".into());
                let percent = result["percent_complete"].as_u64().unwrap_or(0).min(100);
                ctx.watch.tell(&format!(
                    "Waiting for the instance to {doing}: {label}, {percent}% ({} s so far; the \
                     instance's queue can take minutes)",
                    began.elapsed().as_secs()
                ));
                // Short naps, so that stopping takes effect at once.
                let until = Instant::now() + pause;
                while Instant::now() < until && !ctx.watch.stopped() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
    Err(CicdFailure::Failed(
        "it did not finish within 15 minutes; the instance's operation queue may be busy".into(),
    ))
}

/// What the instance lacks of the records the integration's update set installs, as the
/// vendor's page lists them (its role, its ACLs, its business rule, its catalog): a set of the
/// right name that holds something else does not pass.
pub async fn lacks(ctx: &Context<'_>) -> Result<Vec<String>, AutomateError> {
    let Some(spec) = &ctx.profile.update_set else {
        return Ok(Vec::new());
    };
    let mut lacks = Vec::new();
    let exists = async |table: &str, key: &'static str, value: &str| {
        find(
            ctx.admin,
            table,
            EncodedQuery::default().eq(key, value)?,
            &["sys_id"],
        )
        .await
        .map(|r| r.is_some())
    };
    for role in &spec.roles {
        if !exists("sys_user_role", "name", &role.name).await? {
            lacks.push(format!("the role {}", role.name));
        }
    }
    for rule in &spec.business_rules {
        if !exists("sys_script", "name", &rule.name).await? {
            lacks.push(format!("the business rule {}", rule.name));
        }
    }
    for catalog in &spec.catalogs {
        if !exists("sc_catalog", "title", &catalog.name).await? {
            lacks.push(format!("the catalog {}", catalog.name));
        }
    }
    for acl in &spec.acls {
        let query = EncodedQuery::raw("active=true")
            .eq("name", &acl.name)?
            .eq("operation", &acl.operation)?;
        if find(ctx.admin, "sys_security_acl", query, &["sys_id"])
            .await?
            .is_none()
        {
            lacks.push(format!("an ACL {} / {}", acl.name, acl.operation));
        }
    }
    Ok(lacks)
}
