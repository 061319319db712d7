//! The ACLs the integration needs. No REST call may create one: an ACL needs `security_admin`
//! elevated in the session, and a REST call is never elevated (servicenow.md item 19). So the
//! ones missing travel in a small update set of their own, which the admin uploads in the
//! browser and Snowlink then commits; or the admin creates them by hand after elevating.

use super::roles::role_id;
use super::{AutomateError, Context, Plan, PlannedAction, change};
use crate::api::{EncodedQuery, TableQuery, field};
use crate::profiles::Step;
use crate::updateset::{AclGrant, Records};

/// The update set the missing ACLs travel in.
pub fn set_name(connection_name: &str) -> String {
    format!("{connection_name} ACLs")
}

/// What the step's ACLs come to for its service user.
#[derive(Debug)]
pub enum AclVerdict {
    /// The user holds a role the step says makes them unneeded (`admin`, which the ACLs let
    /// through): `(user, role)`. The vendor's page says to skip the step then.
    Covered(String, String),
    /// The ACLs the page asks for (table, operation, required role) that are not there.
    Missing(Vec<AclGrant>),
}

/// The step's ACLs for its service user: covered by a role, or those still missing.
pub async fn verdict(ctx: &Context<'_>, step: &Step) -> Result<AclVerdict, AutomateError> {
    if let Some(user) = &ctx.service_user
        && !step.verify.roles_sufficient.is_empty()
        && let Some(user_id) = super::roles::user_id(ctx, user).await?
    {
        let have = crate::api::roles_of(ctx.admin, &user_id).await?;
        if let Some(role) = step
            .verify
            .roles_sufficient
            .iter()
            .find(|r| have.contains(*r))
        {
            return Ok(AclVerdict::Covered(user.clone(), role.clone()));
        }
    }
    Ok(AclVerdict::Missing(missing(ctx, step).await?))
}

/// The step's ACLs that no active ACL grants its role yet, each with the role's sys_id.
async fn missing(ctx: &Context<'_>, step: &Step) -> Result<Vec<AclGrant>, AutomateError> {
    let role = step.acl_role.clone().ok_or(AutomateError::NotAutomated)?;
    let role_id = role_id(ctx, &role).await?;
    let mut missing = Vec::new();
    for access in &step.verify.tables {
        for operation in &access.operations {
            let query = EncodedQuery::raw("active=true")
                .eq("name", &access.table)?
                .eq("operation", operation)?;
            let acls = ctx
                .admin
                .query(
                    "sys_security_acl",
                    &TableQuery {
                        query: Some(query),
                        fields: vec!["sys_id".into()],
                        limit: Some(50),
                        ..TableQuery::default()
                    },
                )
                .await?;
            let mut granted = false;
            for acl_id in acls.records.iter().filter_map(|acl| field(acl, "sys_id")) {
                let link = EncodedQuery::default()
                    .eq("sys_security_acl", acl_id)?
                    .eq("sys_user_role", &role_id)?;
                if ctx
                    .admin
                    .count("sys_security_acl_role", Some(&link))
                    .await?
                    > 0
                {
                    granted = true;
                    break;
                }
            }
            if !granted {
                missing.push(AclGrant {
                    table: access.table.clone(),
                    operation: operation.clone(),
                    role: role.clone(),
                    role_sys_id: role_id.clone(),
                });
            }
        }
    }
    Ok(missing)
}

/// The update set holding the step's missing ACLs; `None` when none is missing.
pub async fn update_set(ctx: &Context<'_>, step: &Step) -> Result<Option<Records>, AutomateError> {
    let missing = missing(ctx, step).await?;
    if missing.is_empty() {
        return Ok(None);
    }
    Ok(Some(crate::updateset::acl_set(
        &ctx.profile.id,
        &set_name(ctx.connection_name),
        &missing,
    )?))
}

pub(super) async fn work(
    ctx: &Context<'_>,
    step: &Step,
    apply: bool,
    plan: &mut Plan,
) -> Result<(), AutomateError> {
    let missing = match verdict(ctx, step).await? {
        AclVerdict::Covered(user, role) => {
            change(
                plan,
                PlannedAction::Keep,
                "sys_security_acl",
                format!("No ACL needed: {user} has {role}, which the ACLs let through"),
            );
            return Ok(());
        }
        AclVerdict::Missing(missing) => missing,
    };
    for access in &step.verify.tables {
        for operation in &access.operations {
            let role = step.acl_role.as_deref().unwrap_or_default();
            let what = format!("ACL {} / {operation} requiring {role}", access.table);
            let needed = missing
                .iter()
                .any(|m| m.table == access.table && &m.operation == operation);
            if needed {
                change(
                    plan,
                    PlannedAction::Create,
                    "sys_security_acl",
                    format!("{what}, in the update set below"),
                );
            } else {
                change(plan, PlannedAction::Keep, "sys_security_acl", what);
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let records =
        crate::updateset::acl_set(&ctx.profile.id, &set_name(ctx.connection_name), &missing)?;
    super::update_set::load(
        ctx,
        (&records.name, Some(records.updates.len())),
        apply,
        plan,
    )
    .await?;
    if plan.hand.is_some() {
        plan.hand = Some(format!(
            "ACLs need security_admin elevated in the browser; no REST call can create them. \
             {}",
            super::update_set::UPLOAD_BY_HAND
        ));
    }
    Ok(())
}
