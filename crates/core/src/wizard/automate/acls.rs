//! The ACLs the integration needs, created where none grants its role.

use serde_json::json;

use super::roles::role_id;
use super::{AutomateError, Context, Plan, PlannedAction, change};
use crate::api::{EncodedQuery, TableQuery, field};
use crate::profiles::Step;

pub(super) async fn work(
    ctx: &Context<'_>,
    step: &Step,
    apply: bool,
    plan: &mut Plan,
) -> Result<(), AutomateError> {
    let role = step.acl_role.clone().ok_or(AutomateError::NotAutomated)?;
    let role_id = role_id(ctx, &role).await?;
    for access in &step.verify.tables {
        for operation in &access.operations {
            let what = format!("ACL {} / {operation} requiring {role}", access.table);
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
            if granted {
                change(plan, PlannedAction::Keep, "sys_security_acl", what);
                continue;
            }
            change(plan, PlannedAction::Create, "sys_security_acl", what);
            if apply {
                let acl = ctx
                    .admin
                    .create(
                        "sys_security_acl",
                        &json!({
                            "name": access.table, "operation": operation, "type": "record",
                            "active": "true", "admin_overrides": "true", "decision_type": "allow"
                        }),
                    )
                    .await?;
                let acl_id = field(&acl, "sys_id").unwrap_or_default().to_owned();
                ctx.admin
                    .create(
                        "sys_security_acl_role",
                        &json!({ "sys_security_acl": acl_id, "sys_user_role": role_id }),
                    )
                    .await?;
            }
        }
    }
    Ok(())
}
