//! The setup wizard as a state machine: [`apply`] is a pure transition from a state and an
//! event to the next state (or an error that says why the event cannot happen now), and
//! [`view()`] ([`view`](mod@view)) is what the app and the terminal render: every step with
//! its state, the current step's instructions with the values filled in, its inputs, the
//! actions that apply and the last verification. The state holds no secret (which secret inputs were given is all it
//! knows), so it is saved after every event and a setup can be resumed. The work behind the
//! events — verifying against the instance, doing a step for the admin — is in [`run`].

mod automate;
mod change;
mod error;
mod handoff;
mod recipe;
pub mod run;
mod store;
mod templates;
mod view;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::checks::{Check, CheckStatus};
use crate::ids::ConnectionId;
use crate::profiles::{Profile, StepKind};

pub use automate::{AutomateError, Plan, PlannedAction, PlannedChange, Watch};
pub use change::Change;
pub use error::WizardError;
pub use handoff::handoff_text;
pub use recipe::{Recipe, RecipeStep, recipe};
pub use run::update_set_xml;
pub use store::{SetupStore, StoreError, Unreadable};
pub use view::{
    InputView, LinkView, SavedSetup, SavedSetups, StepSummary, StepView, ValueView, WizardAction,
    WizardView, saved_setups, secret_env_var, view,
};

/// The state file's format version.
pub const STATE_VERSION: u32 = 1;

/// A step's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(rename_all = "kebab-case")]
pub enum StepStatus {
    /// A step it requires is not done yet.
    Locked,
    Todo,
    Running,
    Verified,
    Failed,
    Skipped,
}

impl StepStatus {
    /// Verified or skipped: nothing more to do on the step.
    pub fn is_done(self) -> bool {
        matches!(self, Self::Verified | Self::Skipped)
    }
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct Verification {
    pub passed: bool,
    /// One sentence: what is done, or exactly what is wrong.
    pub message: String,
    pub checks: Vec<Check>,
    pub at: DateTime<Utc>,
}

impl Verification {
    /// A verification from check results: it passes when none failed and none was skipped
    /// for want of what it needs.
    pub fn from_checks(checks: Vec<Check>, done: &str) -> Self {
        let failed = checks
            .iter()
            .find(|c| c.status == CheckStatus::Fail)
            .or_else(|| {
                checks
                    .iter()
                    .find(|c| c.status == CheckStatus::Skip && c.next.is_some())
            });
        let message = match failed {
            Some(check) => check.summary.clone(),
            None => done.to_owned(),
        };
        Self {
            passed: failed.is_none(),
            message,
            checks,
            at: Utc::now(),
        }
    }

    /// A verification that did not run: `message` says why.
    pub fn refused(message: impl Into<String>) -> Self {
        Self {
            passed: false,
            message: message.into(),
            checks: Vec::new(),
            at: Utc::now(),
        }
    }
}

/// What is kept of one step.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepRecord {
    pub done: Option<Done>,
    pub last: Option<Verification>,
    pub running: bool,
}

/// How a step was finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Done {
    Verified,
    Skipped,
}

/// A setup in progress. Saved as it is: it holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WizardState {
    pub version: u32,
    /// The id the finished connection gets; its secrets are kept under it meanwhile.
    pub draft: ConnectionId,
    pub profile: String,
    /// The instance, as Snowlink writes it (`https://acme.service-now.com`): never with a
    /// user name or password, which the parser refuses.
    pub instance: String,
    pub connection_name: String,
    /// What was typed, but no secret.
    pub inputs: BTreeMap<String, String>,
    /// The secret inputs given (they are in the keyring).
    pub secrets: BTreeSet<String>,
    pub steps: BTreeMap<String, StepRecord>,
    pub current: String,
    /// The saved connection, once the connect step passed.
    pub finished: Option<ConnectionId>,
    pub updated_at: DateTime<Utc>,
    /// Every record Snowlink created or changed on the instance, in order: what "Undo what
    /// Snowlink did" takes back.
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// Something that happens to a setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    SetInstance {
        value: String,
    },
    SetConnectionName {
        value: String,
    },
    /// A non-secret input typed.
    SetInput {
        id: String,
        value: String,
    },
    /// A secret input given (its value went to the keyring, not here).
    SecretGiven {
        id: String,
    },
    Goto {
        step: String,
    },
    Next,
    Back,
    /// Skip the current step (only when it is not mandatory).
    Skip,
    /// Mark an info step read.
    Acknowledge,
    VerifyStarted,
    VerifyFinished {
        verification: Verification,
    },
    Finished {
        connection: ConnectionId,
    },
    /// Snowlink created or changed these records.
    Changed {
        changes: Vec<Change>,
    },
    /// What Snowlink did was taken back: the steps that change the instance are to do again,
    /// from the first of them.
    Undone,
}

/// The events a person causes from a front end; the others (a verification's result, the
/// finish, a secret stored) come only from [`run`], so a front end cannot fake them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[ts(tag = "kind", rename_all = "kebab-case")]
pub enum PersonEvent {
    SetInstance { value: String },
    SetConnectionName { value: String },
    SetInput { id: String, value: String },
    Goto { step: String },
    Next,
    Back,
    Skip,
    Acknowledge,
}

impl From<PersonEvent> for Event {
    fn from(event: PersonEvent) -> Self {
        match event {
            PersonEvent::SetInstance { value } => Self::SetInstance { value },
            PersonEvent::SetConnectionName { value } => Self::SetConnectionName { value },
            PersonEvent::SetInput { id, value } => Self::SetInput { id, value },
            PersonEvent::Goto { step } => Self::Goto { step },
            PersonEvent::Next => Self::Next,
            PersonEvent::Back => Self::Back,
            PersonEvent::Skip => Self::Skip,
            PersonEvent::Acknowledge => Self::Acknowledge,
        }
    }
}

impl WizardState {
    /// A new setup of `profile` on `instance`.
    pub fn new(
        profile: &Profile,
        instance: &crate::instance::InstanceUrl,
        draft: ConnectionId,
    ) -> Self {
        let mut inputs = BTreeMap::new();
        for step in &profile.steps {
            for input in step.inputs.iter().filter(|i| !i.secret) {
                if let Some(default) = &input.default {
                    inputs.insert(input.id.clone(), default.clone());
                }
            }
        }
        Self {
            version: STATE_VERSION,
            draft,
            profile: profile.id.clone(),
            instance: instance.to_string(),
            connection_name: profile.connection_name.clone(),
            inputs,
            secrets: BTreeSet::new(),
            steps: BTreeMap::new(),
            current: profile
                .steps
                .first()
                .map(|s| s.id.clone())
                .unwrap_or_default(),
            finished: None,
            updated_at: Utc::now(),
            changes: Vec::new(),
        }
    }

    fn record(&self, step: &str) -> StepRecord {
        self.steps.get(step).cloned().unwrap_or_default()
    }

    /// A step's state, locks included.
    pub fn status(&self, profile: &Profile, step: &str) -> StepStatus {
        let record = self.record(step);
        if record.running {
            return StepStatus::Running;
        }
        match record.done {
            Some(Done::Verified) => return StepStatus::Verified,
            Some(Done::Skipped) => return StepStatus::Skipped,
            None => {}
        }
        if self.blocker(profile, step).is_some() {
            return StepStatus::Locked;
        }
        match record.last {
            Some(last) if !last.passed => StepStatus::Failed,
            _ => StepStatus::Todo,
        }
    }

    /// The first required step not done yet.
    fn blocker(&self, profile: &Profile, step: &str) -> Option<String> {
        let step = profile.step(step)?;
        step.requires
            .iter()
            .find(|needed| self.record(needed).done.is_none())
            .cloned()
    }

    /// Forgets that `step` and the steps needing it were done: what they checked changed.
    fn reopen(&mut self, profile: &Profile, step: &str) {
        let mut pending = vec![step.to_owned()];
        while let Some(id) = pending.pop() {
            if let Some(record) = self.steps.get_mut(&id)
                && record.done.is_some()
            {
                record.done = None;
                pending.extend(
                    profile
                        .steps
                        .iter()
                        .filter(|s| s.requires.contains(&id))
                        .map(|s| s.id.clone()),
                );
            }
        }
    }
}

/// The step an input belongs to.
fn step_of_input<'a>(profile: &'a Profile, input: &str) -> Option<&'a crate::profiles::Step> {
    profile
        .steps
        .iter()
        .find(|s| s.inputs.iter().any(|i| i.id == input))
}

/// The next state after `event`.
pub fn apply(
    profile: &Profile,
    state: &WizardState,
    event: Event,
) -> Result<WizardState, WizardError> {
    let mut next = state.clone();
    next.updated_at = Utc::now();
    let position = profile
        .steps
        .iter()
        .position(|s| s.id == state.current)
        .ok_or_else(|| WizardError::UnknownStep(state.current.clone()))?;
    let current = &profile.steps[position];
    let busy = state.record(&current.id).running;
    match event {
        Event::SetInstance { value } => {
            next.instance = crate::instance::InstanceUrl::parse(&value)?.to_string();
            // Everything was checked against the old instance.
            next.steps.clear();
        }
        Event::SetConnectionName { value } => next.connection_name = value.trim().to_owned(),
        Event::SetInput { id, value } => {
            let input = profile
                .input(&id)
                .ok_or_else(|| WizardError::UnknownInput(id.clone()))?;
            if input.secret {
                return Err(WizardError::SecretInState(id));
            }
            if next.inputs.get(&id) != Some(&value) {
                next.inputs.insert(id.clone(), value);
                if let Some(step) = step_of_input(profile, &id) {
                    next.reopen(profile, &step.id);
                }
            }
        }
        Event::SecretGiven { id } => {
            let input = profile
                .input(&id)
                .ok_or_else(|| WizardError::UnknownInput(id.clone()))?;
            if !input.secret {
                return Err(WizardError::UnknownInput(id));
            }
            next.secrets.insert(id.clone());
            if let Some(step) = step_of_input(profile, &id) {
                next.reopen(profile, &step.id);
            }
        }
        Event::Goto { step } => {
            if profile.step(&step).is_none() {
                return Err(WizardError::UnknownStep(step));
            }
            if let Some(needs) = state.blocker(profile, &step) {
                return Err(WizardError::Locked { step, needs });
            }
            next.current = step;
        }
        Event::Next => {
            let target = profile
                .steps
                .get(position + 1)
                .ok_or(WizardError::NoMove("last"))?;
            if let Some(needs) = state.blocker(profile, &target.id) {
                return Err(WizardError::Locked {
                    step: target.id.clone(),
                    needs,
                });
            }
            next.current = target.id.clone();
        }
        Event::Back => {
            let target = position
                .checked_sub(1)
                .ok_or(WizardError::NoMove("first"))?;
            next.current = profile.steps[target].id.clone();
        }
        Event::Skip => {
            if current.mandatory {
                return Err(WizardError::Mandatory(current.title.clone()));
            }
            next.steps.entry(current.id.clone()).or_default().done = Some(Done::Skipped);
            advance(profile, &mut next, position);
        }
        Event::Acknowledge => {
            if current.kind != StepKind::Info {
                return Err(WizardError::NotInfo);
            }
            next.steps.entry(current.id.clone()).or_default().done = Some(Done::Verified);
            advance(profile, &mut next, position);
        }
        Event::VerifyStarted => {
            if busy {
                return Err(WizardError::Busy);
            }
            if let Some(needs) = state.blocker(profile, &current.id) {
                return Err(WizardError::Locked {
                    step: current.id.clone(),
                    needs,
                });
            }
            for input in current.inputs.iter().filter(|i| i.required) {
                let given = if input.secret {
                    state.secrets.contains(&input.id)
                } else {
                    state
                        .inputs
                        .get(&input.id)
                        .is_some_and(|v| !v.trim().is_empty())
                };
                if !given {
                    return Err(WizardError::MissingInput(input.label.clone()));
                }
            }
            next.steps.entry(current.id.clone()).or_default().running = true;
        }
        Event::VerifyFinished { verification } => {
            let record = next.steps.entry(current.id.clone()).or_default();
            record.running = false;
            record.done = verification.passed.then_some(Done::Verified);
            let passed = verification.passed;
            record.last = Some(verification);
            if passed {
                advance(profile, &mut next, position);
            }
        }
        Event::Finished { connection } => next.finished = Some(connection),
        Event::Changed { changes } => next.changes.extend(changes),
        Event::Undone => {
            next.changes.clear();
            let changing = profile
                .steps
                .iter()
                .filter(|s| s.kind.changes_the_instance());
            for step in changing.clone() {
                next.steps.remove(&step.id);
            }
            if let Some(first) = changing.map(|s| s.id.clone()).next() {
                next.current = first;
            }
        }
    }
    Ok(next)
}

/// After a skip or an acknowledgement, the next step (when it is open).
fn advance(profile: &Profile, state: &mut WizardState, position: usize) {
    if let Some(next) = profile.steps.get(position + 1)
        && state.blocker(profile, &next.id).is_none()
    {
        state.current = next.id.clone();
    }
}

#[cfg(test)]
mod tests;
