//! The service user's roles, granted where missing.

use super::{AutomateError, Context, Plan, PlannedAction, change, find};
use crate::api::{ApiError, EncodedQuery, SnowClient, field};
use crate::profiles::Step;

async fn sys_id_of(
    client: &SnowClient,
    table: &str,
    key: &'static str,
    value: &str,
) -> Result<Option<String>, ApiError> {
    Ok(find(
        client,
        table,
        EncodedQuery::default().eq(key, value)?,
        &["sys_id"],
    )
    .await?
    .and_then(|r| field(&r, "sys_id").map(str::to_owned)))
}

pub(super) async fn work(
    ctx: &Context<'_>,
    step: &Step,
    apply: bool,
    plan: &mut Plan,
) -> Result<(), AutomateError> {
    let user = ctx
        .service_user
        .clone()
        .ok_or_else(|| AutomateError::NoUser("(no name yet)".into()))?;
    let user_id = user_id(ctx, &user).await?;
    if user_id.is_none() && apply {
        return Err(AutomateError::NoUser(user));
    }
    // A user an earlier step will create has no roles yet: planned as all to grant.
    let have = match &user_id {
        Some(id) => crate::api::roles_of(ctx.admin, id).await?,
        None => std::collections::BTreeSet::new(),
    };
    if step
        .verify
        .roles_sufficient
        .iter()
        .any(|r| have.contains(r))
    {
        change(
            plan,
            PlannedAction::Keep,
            "sys_user_has_role",
            format!("{user} has {}", step.verify.roles_sufficient.join(" or ")),
        );
        return Ok(());
    }
    for role in &step.verify.roles {
        if have.contains(role) {
            change(
                plan,
                PlannedAction::Keep,
                "sys_user_has_role",
                format!("{user} has {role}"),
            );
            continue;
        }
        let role_id = role_id(ctx, role).await?;
        change(
            plan,
            PlannedAction::Create,
            "sys_user_has_role",
            format!("Role {role} for {user}"),
        );
        if let Some(user_id) = user_id.as_ref().filter(|_| apply) {
            ctx.create(
                "sys_user_has_role",
                format!("Role {role} for {user}"),
                &[("user", user_id.clone()), ("role", role_id)],
            )
            .await?;
        }
    }
    Ok(())
}

/// The sys_id of the user called `user`, if there is one.
pub(super) async fn user_id(
    ctx: &Context<'_>,
    user: &str,
) -> Result<Option<String>, AutomateError> {
    Ok(sys_id_of(ctx.admin, "sys_user", "user_name", user).await?)
}

/// The sys_id of the role called `role`; a role the instance lacks is an error.
pub(super) async fn role_id(ctx: &Context<'_>, role: &str) -> Result<String, AutomateError> {
    sys_id_of(ctx.admin, "sys_user_role", "name", role)
        .await?
        .ok_or_else(|| AutomateError::NoRole(role.to_owned()))
}
