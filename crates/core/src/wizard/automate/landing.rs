//! Where "Do it for me"'s changes land (docs/servicenow.md 5.2). Registry entries, roles, ACLs
//! and properties go into the admin's current update set; Snowlink makes a set of its own
//! current for them first ("Snowlink: <integration>"), through the update set picker's endpoint
//! (undocumented, read back to be sure), so the admin can move the integration from dev to test
//! to production. Users and role grants are data: no update set carries them, and the plan says
//! they must be made again on each instance.

use super::{AutomateError, Context, Plan, PlannedAction, change, find};
use crate::api::{EncodedQuery, SnowClient, field};
use crate::profiles::StepKind;

const CURRENT: &str = "/api/now/ui/concoursepicker/current";
const CHOOSE: &str = "/api/now/ui/concoursepicker/updateset";
const TABLE: &str = "sys_update_set";

/// The update set Snowlink's changes for `profile_name` land in.
fn set_name(profile_name: &str) -> String {
    format!("Snowlink: {profile_name}")
}

/// Plans (and with `apply`, does) where the step's changes land, and says it on the plan.
pub(super) async fn work(
    ctx: &Context<'_>,
    kind: StepKind,
    apply: bool,
    plan: &mut Plan,
) -> Result<(), AutomateError> {
    match kind {
        StepKind::OauthApp => {}
        StepKind::ServiceUser | StepKind::Roles => {
            plan.lands = Some(
                "Users and role grants are data: no update set carries them, so do this step \
                 again on each instance (test, production)."
                    .into(),
            );
            return Ok(());
        }
        _ => return Ok(()),
    }
    let name = set_name(&ctx.profile.name);
    let Some(current) = current_set(ctx.admin).await else {
        plan.lands = Some(
            "The instance offers no update set picker Snowlink can call: these changes land in \
             your current update set (the picker at the top of the page shows which)."
                .into(),
        );
        return Ok(());
    };
    let existing = find(
        ctx.admin,
        TABLE,
        EncodedQuery::default()
            .eq("name", &name)?
            .eq("state", "in progress")?,
        &["sys_id"],
    )
    .await?;
    let existing_id = existing.as_ref().and_then(|r| field(r, "sys_id"));
    if existing_id.is_some() && existing_id == Some(current.as_str()) {
        change(
            plan,
            PlannedAction::Keep,
            TABLE,
            format!("Update set {name}, your current one"),
        );
    } else {
        let action = if existing.is_some() {
            PlannedAction::Update
        } else {
            PlannedAction::Create
        };
        change(
            plan,
            action,
            TABLE,
            format!("Update set {name}, made your current one"),
        );
    }
    plan.lands = Some(format!(
        "The registry entry goes into the update set \"{name}\": complete it and move it to \
         test and production as any other."
    ));
    if !apply || existing_id == Some(current.as_str()) {
        return Ok(());
    }
    let set_id = match existing_id {
        Some(id) => id.to_owned(),
        None => {
            let fields = [
                ("name", name.clone()),
                ("state", "in progress".to_owned()),
                (
                    "description",
                    "What Snowlink set up for this integration.".to_owned(),
                ),
            ];
            let created = ctx
                .create(TABLE, format!("Update set {name}"), &fields)
                .await?;
            field(&created, "sys_id").unwrap_or_default().to_owned()
        }
    };
    let chosen = serde_json::json!({ "sysId": set_id, "name": name });
    ctx.admin.put_path(CHOOSE, &chosen).await?;
    if current_set(ctx.admin).await.as_deref() != Some(set_id.as_str()) {
        return Err(AutomateError::CurrentSet(name));
    }
    Ok(())
}

/// The sys_id of the admin's current update set, or `None` when the picker's endpoint does not
/// answer as expected.
async fn current_set(admin: &SnowClient) -> Option<String> {
    let answer = admin.get_path(CURRENT).await.ok()?;
    answer
        .pointer("/result/currentUpdateSet/sysId")
        .and_then(serde_json::Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}
