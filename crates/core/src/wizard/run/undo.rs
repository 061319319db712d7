//! "Undo what Snowlink did": every record the setup created is deleted and every field it changed
//! put back, newest first, after a plan read from the instance as it is; then each is read back
//! to verify. A secret cannot be put back (no one can read the old one), and the plan says so.
//! An update set the admin uploaded and committed is the instance's own now: undoing it is
//! ServiceNow's Back Out, in the browser.

use std::collections::BTreeMap;

use super::{Setup, SetupError};
use crate::api::{ApiError, SnowClient, field};
use crate::wizard::automate::{AutomateError, Plan, PlannedAction, PlannedChange};
use crate::wizard::{Change, Event};

/// One record to take back, and how.
struct Undoing<'c> {
    change: &'c Change,
    /// The fields to put back (a changed record), or `None` to delete it (a created one).
    restore: Option<BTreeMap<String, String>>,
}

impl Setup {
    /// What "Undo what Snowlink did" would do on the instance.
    pub async fn plan_undo(&self) -> Result<Plan, SetupError> {
        let client = self.admin_client("Planning the undo")?;
        let mut plan = Plan {
            step: "undo".into(),
            changes: Vec::new(),
            changes_anything: false,
            hand: None,
            lands: None,
        };
        let mut secrets = Vec::new();
        for undoing in self.undoing() {
            let change = undoing.change;
            let exists = exists(&client, change).await?;
            let (action, what) = match (&undoing.restore, exists) {
                (_, false) => (
                    PlannedAction::Keep,
                    format!("{}: already gone", change.what),
                ),
                (None, true) => (PlannedAction::Delete, change.what.clone()),
                (Some(fields), true) => (
                    PlannedAction::Update,
                    format!("{}: {}", change.what, restored(fields)),
                ),
            };
            plan.changes_anything |= action != PlannedAction::Keep;
            plan.changes.push(PlannedChange {
                action,
                label: action.label().to_owned(),
                table: change.table.clone(),
                what,
            });
        }
        for change in self.state.changes.iter().filter(|c| !c.secrets.is_empty()) {
            if !self.created_here(change) {
                secrets.push(format!("{} ({})", change.what, change.secrets.join(", ")));
            }
        }
        if !secrets.is_empty() {
            plan.hand = Some(format!(
                "Snowlink set a new secret on {}; the old one cannot be put back (no one can \
                 read it): give anything that used it the new one, or set one by hand.",
                secrets.join(" and ")
            ));
        }
        if self.profile.update_set.is_some() {
            plan.lands = Some(
                "An update set you committed stays: back it out in the browser (System Update \
                 Sets > Update Sets to Commit... > Back Out) if you want it gone."
                    .into(),
            );
        }
        Ok(plan)
    }

    /// Takes back what Snowlink did, as [`Self::plan_undo`] says, verifies it by reading each
    /// record back, and puts the steps that change the instance back to do.
    pub async fn undo(&mut self) -> Result<Plan, SetupError> {
        let plan = self.plan_undo().await?;
        let client = self.admin_client("Undoing what Snowlink did")?;
        for undoing in self.undoing() {
            let change = undoing.change;
            let done = match &undoing.restore {
                None => client.delete(&change.table, &change.sys_id).await,
                Some(fields) => {
                    let body = serde_json::to_value(fields).unwrap_or_default();
                    client
                        .update(&change.table, &change.sys_id, &body)
                        .await
                        .map(|_| ())
                }
            };
            match done {
                Ok(()) | Err(ApiError::NotFound { .. }) => {}
                Err(err) => return Err(AutomateError::Api(err).into()),
            }
        }
        for undoing in self.undoing() {
            let change = undoing.change;
            let back = match &undoing.restore {
                None => !exists(&client, change).await?,
                Some(fields) => match client.get(&change.table, &change.sys_id).await {
                    Ok(record) => fields
                        .iter()
                        .all(|(f, v)| field(&record, f).unwrap_or_default() == v),
                    Err(ApiError::NotFound { .. }) => true,
                    Err(err) => return Err(AutomateError::Api(err).into()),
                },
            };
            if !back {
                return Err(AutomateError::NotUndone(change.what.clone()).into());
            }
        }
        self.commit(Event::Undone)?;
        self.store.forget_update_set(&self.state.draft);
        Ok(plan)
    }

    /// The records to take back, newest first: each created one deleted (its later changes
    /// with it), each changed one put back to its values before Snowlink's first change.
    fn undoing(&self) -> Vec<Undoing<'_>> {
        let mut out: Vec<Undoing<'_>> = Vec::new();
        for change in self.state.changes.iter().rev() {
            if self.created_here(change) && !change.created {
                continue;
            }
            if change.created {
                out.push(Undoing {
                    change,
                    restore: None,
                });
                continue;
            }
            if change.before.is_empty() {
                continue;
            }
            // The oldest value of each field is the one to put back: earlier changes come
            // later in this reversed walk and overwrite.
            match out
                .iter_mut()
                .find(|u| u.change.sys_id == change.sys_id && u.restore.is_some())
            {
                Some(existing) => {
                    if let Some(fields) = existing.restore.as_mut() {
                        fields.extend(change.before.clone());
                    }
                }
                None => out.push(Undoing {
                    change,
                    restore: Some(change.before.clone()),
                }),
            }
        }
        out
    }

    /// Whether Snowlink created the record `change` is about, in this setup.
    fn created_here(&self, change: &Change) -> bool {
        self.state
            .changes
            .iter()
            .any(|c| c.created && c.table == change.table && c.sys_id == change.sys_id)
    }
}

async fn exists(client: &SnowClient, change: &Change) -> Result<bool, SetupError> {
    match client.get(&change.table, &change.sys_id).await {
        Ok(_) => Ok(true),
        Err(ApiError::NotFound { .. }) => Ok(false),
        Err(err) => Err(AutomateError::Api(err).into()),
    }
}

fn restored(fields: &BTreeMap<String, String>) -> String {
    fields
        .iter()
        .map(|(f, v)| {
            if v.is_empty() {
                format!("{f} back to empty")
            } else {
                format!("{f} back to {v}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
