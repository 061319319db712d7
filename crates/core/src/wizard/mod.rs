//! The setup wizard as a state machine: [`apply`] is a pure transition from a state and an
//! event to the next state (or an error that says why the event cannot happen now), and
//! [`view`] is what the app and the terminal render: every step with its state, the current
//! step's instructions with the values filled in, its inputs, the actions that apply and the
//! last verification. The state holds no secret (which secret inputs were given is all it
//! knows), so it is saved after every event and a setup can be resumed. The work behind the
//! events — verifying against the instance, doing a step for the admin — is in [`run`].

mod automate;
mod handoff;
pub mod run;
mod store;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::checks::{Check, CheckStatus};
use crate::ids::ConnectionId;
use crate::profiles::{Profile, StepKind, TemplateContext, render};

pub use automate::{Plan, PlannedAction, PlannedChange};
pub use handoff::handoff_text;
pub use run::update_set_xml;
pub use store::{SetupStore, StoreError, Unreadable};

/// The state file's format version.
pub const STATE_VERSION: u32 = 1;

/// The environment variable a secret input may be given in: its connection field's
/// (`SNOWLINK_CLIENT_SECRET`), else [`crate::env::SECRET_INPUT_PREFIX`] and its id.
pub fn secret_env_var(input: &crate::profiles::Input) -> String {
    input
        .field
        .and_then(crate::errors::InputField::env_var)
        .map_or_else(
            || {
                format!(
                    "{}{}",
                    crate::env::SECRET_INPUT_PREFIX,
                    input.id.to_uppercase()
                )
            },
            str::to_owned,
        )
}

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

/// Why an event cannot happen now; the message says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WizardError {
    #[error("There is no step \"{0}\" in this setup.")]
    UnknownStep(String),
    #[error("\"{step}\" needs \"{needs}\" done first.")]
    Locked { step: String, needs: String },
    #[error("{0} is required before this step can be verified.")]
    MissingInput(String),
    #[error("\"{0}\" must be done; it cannot be skipped.")]
    Mandatory(String),
    #[error("There is no input \"{0}\" in this setup.")]
    UnknownInput(String),
    #[error("\"{0}\" is secret: it goes to the keyring, never into the setup's state.")]
    SecretInState(String),
    #[error("This is the {0} step already.")]
    NoMove(&'static str),
    #[error("The step is being verified; wait for the answer.")]
    Busy,
    #[error(transparent)]
    Instance(#[from] crate::instance::InstanceUrlError),
    #[error("This step is verified against the instance, not acknowledged.")]
    NotInfo,
}

impl WizardError {
    pub fn view(&self) -> crate::errors::ErrorView {
        let view = crate::errors::ErrorView::new(
            crate::errors::ErrorCode::InvalidInput,
            self.to_string(),
            self.hint(),
        );
        match self {
            Self::Instance(_) => view.field(crate::errors::InputField::Instance),
            _ => view,
        }
    }

    pub fn hint(&self) -> String {
        match self {
            Self::Locked { needs, .. } => {
                format!("Finish \"{needs}\" first, or skip it if it may be skipped.")
            }
            Self::MissingInput(_) => "Fill it in on this step, then verify again.".into(),
            Self::Mandatory(_) => "Do it and verify it; the setup cannot work without it.".into(),
            Self::Instance(err) => err.hint(),
            _ => "Go on from the step the wizard shows.".into(),
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

    /// What the templates of the profile stand for now.
    pub fn template_context(&self, callback_urls: &[String]) -> TemplateContext {
        let mut context = TemplateContext::default();
        let instance = crate::instance::InstanceUrl::parse(&self.instance)
            .map(|i| i.to_string())
            .unwrap_or_else(|_| self.instance.clone());
        for (name, value) in [
            ("instance", instance),
            ("callback_urls", callback_urls.join(",")),
            ("connection_name", self.connection_name.clone()),
            ("profile", self.profile.clone()),
        ] {
            context.values.insert(name.into(), value);
        }
        context.inputs = self.inputs.clone();
        context
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

/// What a person can do on the current step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(rename_all = "kebab-case")]
pub enum WizardAction {
    Verify,
    Acknowledge,
    DoItForMe,
    Skip,
    Next,
    Back,
    DownloadUpdateSet,
    HandOff,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct StepSummary {
    pub id: String,
    pub title: String,
    pub status: StepStatus,
    pub current: bool,
    pub mandatory: bool,
    /// Whether a person may go to it now (every step it needs is done).
    pub reachable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ValueView {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct LinkView {
    pub label: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct InputView {
    pub id: String,
    pub label: String,
    pub secret: bool,
    pub required: bool,
    /// The typed value; never for a secret.
    pub value: Option<String>,
    /// Whether a value (or a secret) was given.
    pub given: bool,
    pub help: Option<String>,
    /// For a secret: the environment variable a script may give it in.
    pub env_var: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct StepView {
    pub id: String,
    pub number: usize,
    pub title: String,
    #[ts(type = "string")]
    pub kind: StepKind,
    pub status: StepStatus,
    pub instructions: String,
    pub menu: Option<String>,
    pub values: Vec<ValueView>,
    pub links: Vec<LinkView>,
    pub inputs: Vec<InputView>,
    pub mandatory: bool,
    pub actions: Vec<WizardAction>,
    pub last: Option<Verification>,
    /// Why the step cannot be started, when it is locked.
    pub locked_by: Option<String>,
    /// Whether verifying the step needs the admin account this session does not have yet.
    pub asks_admin: bool,
    /// Whether the admin does something on the instance before the step is verified (a front
    /// end waits for them to say it is done).
    pub by_hand: bool,
}

/// The whole wizard as the front ends render it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct WizardView {
    #[ts(type = "string")]
    pub draft: ConnectionId,
    pub profile: String,
    pub profile_name: String,
    pub vendor: String,
    pub instance: String,
    pub connection_name: String,
    pub done: usize,
    pub total: usize,
    pub steps: Vec<StepSummary>,
    pub current: StepView,
    #[ts(type = "string | null")]
    pub finished: Option<ConnectionId>,
    /// Something to know about how the setup was opened, shown above the step.
    pub notice: Option<String>,
}

/// An unfinished setup as a "resume" list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct SavedSetup {
    pub profile: String,
    pub profile_name: String,
    pub instance: String,
    pub done: usize,
    pub total: usize,
    #[ts(type = "string")]
    pub updated_at: DateTime<Utc>,
}

/// The unfinished setups a picker offers to resume, and the saved setups that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SavedSetups {
    pub setups: Vec<SavedSetup>,
    /// One sentence per file that could not be read: why, and where the copy is kept.
    pub unreadable: Vec<String>,
}

/// The unfinished setups in `store` whose profile is among `profiles`, the most recent first,
/// and what could not be read.
pub fn saved_setups(store: &SetupStore, catalog: &crate::profiles::Catalog) -> SavedSetups {
    let (found, unreadable) = store.unfinished();
    let setups = found
        .into_iter()
        .filter_map(|state| {
            let profile = catalog.get(&state.profile).ok()?;
            let view = view(profile, &state);
            Some(SavedSetup {
                profile: profile.id.clone(),
                profile_name: profile.name.clone(),
                instance: state.instance.clone(),
                done: view.done,
                total: view.total,
                updated_at: state.updated_at,
            })
        })
        .collect();
    SavedSetups {
        setups,
        unreadable: unreadable
            .iter()
            .map(|u| {
                format!(
                    "A saved setup could not be read ({}); it is kept as {}. Start that setup \
                     again.",
                    u.detail, u.moved_to
                )
            })
            .collect(),
    }
}

/// The view of `state`.
pub fn view(profile: &Profile, state: &WizardState) -> WizardView {
    let callbacks = crate::oauth::callback_urls();
    let context = state.template_context(&callbacks);
    let steps: Vec<StepSummary> = profile
        .steps
        .iter()
        .map(|s| StepSummary {
            id: s.id.clone(),
            title: s.title.clone(),
            status: state.status(profile, &s.id),
            current: s.id == state.current,
            mandatory: s.mandatory,
            reachable: state.blocker(profile, &s.id).is_none(),
        })
        .collect();
    let done = steps
        .iter()
        .filter(|s| matches!(s.status, StepStatus::Verified | StepStatus::Skipped))
        .count();
    let position = profile
        .steps
        .iter()
        .position(|s| s.id == state.current)
        .unwrap_or(0);
    let step = &profile.steps[position];
    let status = state.status(profile, &step.id);
    let instance_base = context.values.get("instance").cloned().unwrap_or_default();
    let mut actions = Vec::new();
    if status != StepStatus::Locked && status != StepStatus::Running {
        actions.push(if step.kind == StepKind::Info {
            WizardAction::Acknowledge
        } else {
            WizardAction::Verify
        });
        if step.automation {
            actions.push(WizardAction::DoItForMe);
        }
        if step.kind == StepKind::UpdateSet {
            actions.push(WizardAction::DownloadUpdateSet);
        }
        // Another admin can do what is done on the instance; signing in is done here.
        if step.kind.reads_as_admin() {
            actions.push(WizardAction::HandOff);
        }
        if !step.mandatory && status != StepStatus::Skipped {
            actions.push(WizardAction::Skip);
        }
    }
    if position > 0 {
        actions.push(WizardAction::Back);
    }
    if let Some(following) = profile.steps.get(position + 1)
        && state.blocker(profile, &following.id).is_none()
    {
        actions.push(WizardAction::Next);
    }
    let current = StepView {
        id: step.id.clone(),
        number: position + 1,
        title: step.title.clone(),
        kind: step.kind,
        status,
        instructions: render(&step.instructions, &context),
        menu: step.menu.as_ref().map(|m| render(m, &context)),
        values: step
            .values
            .iter()
            .map(|v| ValueView {
                label: v.label.clone(),
                value: render(&v.value, &context),
            })
            .collect(),
        links: step
            .links
            .iter()
            .map(|l| LinkView {
                label: l.label.clone(),
                url: format!(
                    "{instance_base}/now/nav/ui/classic/params/target/{}",
                    url::form_urlencoded::byte_serialize(render(&l.target, &context).as_bytes())
                        .collect::<String>()
                ),
            })
            .collect(),
        inputs: step
            .inputs
            .iter()
            .map(|i| InputView {
                id: i.id.clone(),
                label: i.label.clone(),
                secret: i.secret,
                required: i.required,
                value: (!i.secret)
                    .then(|| state.inputs.get(&i.id).cloned())
                    .flatten(),
                given: if i.secret {
                    state.secrets.contains(&i.id)
                } else {
                    state.inputs.get(&i.id).is_some_and(|v| !v.is_empty())
                },
                help: i.help.as_ref().map(|h| render(h, &context)),
                env_var: i.secret.then(|| secret_env_var(i)),
            })
            .collect(),
        mandatory: step.mandatory,
        actions,
        last: state.record(&step.id).last,
        locked_by: state.blocker(profile, &step.id),
        asks_admin: false,
        by_hand: step.kind.changes_the_instance(),
    };
    WizardView {
        draft: state.draft.clone(),
        profile: profile.id.clone(),
        profile_name: profile.name.clone(),
        vendor: profile.vendor.clone(),
        instance: state.instance.clone(),
        connection_name: state.connection_name.clone(),
        done,
        total: steps.len(),
        steps,
        current,
        finished: state.finished.clone(),
        notice: None,
    }
}

#[cfg(test)]
mod tests;
