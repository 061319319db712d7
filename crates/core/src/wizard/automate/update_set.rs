//! The integration's update set, loaded, previewed and committed.

use std::time::Duration;

use serde_json::json;

use super::{AutomateError, Context, Plan, PlannedAction, change, find, object};
use crate::api::{EncodedQuery, SnowClient, field};

pub(super) async fn work(
    ctx: &Context<'_>,
    apply: bool,
    plan: &mut Plan,
) -> Result<(), AutomateError> {
    let records = crate::updateset::records(ctx.profile, ctx.templates)?;
    let name = records.name.clone();
    let existing = find(
        ctx.admin,
        "sys_remote_update_set",
        EncodedQuery::default()
            .eq("name", &name)?
            .and_raw("ORDERBYDESCsys_created_on"),
        &["sys_id", "state"],
    )
    .await?;
    let (set_id, state) = match &existing {
        Some(set) => (
            field(set, "sys_id").unwrap_or_default().to_owned(),
            field(set, "state").unwrap_or_default().to_owned(),
        ),
        None => (String::new(), String::new()),
    };
    if state == "committed" {
        change(
            plan,
            PlannedAction::Keep,
            "sys_remote_update_set",
            format!("Update set {name} (committed)"),
        );
        return Ok(());
    }
    if existing.is_none() {
        change(
            plan,
            PlannedAction::Create,
            "sys_remote_update_set",
            format!(
                "Update set {name} with {} records, loaded, previewed and committed",
                records.updates.len()
            ),
        );
    } else {
        change(
            plan,
            PlannedAction::Update,
            "sys_remote_update_set",
            format!("Update set {name}: preview and commit (it is {state})"),
        );
    }
    if !apply {
        return Ok(());
    }
    let set_id = if existing.is_none() {
        let header: Vec<(&str, String)> = records.header.clone();
        let set = ctx
            .admin
            .create("sys_remote_update_set", &object(&header))
            .await?;
        let id = field(&set, "sys_id").unwrap_or_default().to_owned();
        for update in &records.updates {
            let mut fields = update.clone();
            fields.push(("remote_update_set", id.clone()));
            ctx.admin.create("sys_update_xml", &object(&fields)).await?;
        }
        id
    } else {
        set_id
    };
    if state != "previewed" {
        cicd(
            ctx.admin,
            &format!("/api/sn_cicd/update_set/preview/{set_id}"),
        )
        .await?;
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
    cicd(
        ctx.admin,
        &format!("/api/sn_cicd/update_set/commit/{set_id}"),
    )
    .await?;
    Ok(())
}

/// Starts a CI/CD API job and waits for its progress record to finish.
async fn cicd(admin: &SnowClient, path: &str) -> Result<(), AutomateError> {
    let started = admin.post_path(path, &json!({})).await?;
    let progress = started["result"]["links"]["progress"]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| AutomateError::Cicd("no progress record".into()))?;
    for _ in 0..120 {
        let answer = admin
            .get_path(&format!("/api/sn_cicd/progress/{progress}"))
            .await?;
        match answer["result"]["status"].as_str() {
            Some("2") => return Ok(()),
            Some("3") | Some("4") => {
                let error = answer["result"]["error"].as_str().unwrap_or("failed");
                return Err(AutomateError::Cicd(crate::text::untrusted(error, 200)));
            }
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
    Err(AutomateError::Cicd(
        "the job did not finish within a minute".into(),
    ))
}
