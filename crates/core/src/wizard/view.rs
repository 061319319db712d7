//! What the app and the terminal render of a setup: every step with its state, the current
//! step's instructions with the values filled in, its values to paste, its links, its inputs
//! (never a secret's value), the actions that apply and the last verification; and the saved
//! setups a picker offers to resume.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{SetupStore, StepStatus, Verification, WizardState};
use crate::ids::ConnectionId;
use crate::profiles::{Profile, StepKind, render};

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

/// Where an admin uploads an update set: Retrieved Update Sets > Import Update Set from XML.
const UPLOAD_PAGE: &str = "upload.do?sysparm_referring_url=sys_remote_update_set_list.do\
                           &sysparm_target=sys_remote_update_set";

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
    /// Sign the admin in through the browser with Snowlink's own OAuth application.
    SignInAdmin,
    /// "Do the rest for me": this step and the automatable ones after it, in one plan.
    DoTheRest,
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
    /// Whether an admin sign-in is remembered for the instance: signing in needs no browser.
    pub admin_remembered: bool,
    /// Whether the admin does something on the instance before the step is verified (a front
    /// end waits for them to say it is done).
    pub by_hand: bool,
    /// The name of the update set this step has the admin upload (the file to save it as),
    /// when it has one.
    pub update_set_name: Option<String>,
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
    /// Whether Snowlink changed anything on the instance that "Undo what Snowlink did" can
    /// take back.
    pub undoable: bool,
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
    let context = state.template_context(profile, &callbacks);
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
    let done = steps.iter().filter(|s| s.status.is_done()).count();
    let position = profile
        .steps
        .iter()
        .position(|s| s.id == state.current)
        .unwrap_or(0);
    let step = &profile.steps[position];
    let status = state.status(profile, &step.id);
    let mut actions = Vec::new();
    if status != StepStatus::Locked && status != StepStatus::Running {
        actions.push(if step.kind == StepKind::Info {
            WizardAction::Acknowledge
        } else {
            WizardAction::Verify
        });
        if step.automation {
            actions.push(WizardAction::DoItForMe);
            if rest_to_do(profile, state).iter().any(|s| s.id != step.id) {
                actions.push(WizardAction::DoTheRest);
            }
        }
        if step.kind == StepKind::AdminAccess {
            actions.push(WizardAction::SignInAdmin);
        }
        // An update set, and the ACLs (which arrive in one), are uploaded in the browser.
        if matches!(step.kind, StepKind::UpdateSet | StepKind::Acls) {
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
        links: crate::instance::InstanceUrl::parse(&state.instance)
            .map(|instance| {
                let upload =
                    matches!(step.kind, StepKind::UpdateSet | StepKind::Acls).then(|| LinkView {
                        label: "Import Update Set from XML".into(),
                        url: instance.ui_link(UPLOAD_PAGE),
                    });
                step.links
                    .iter()
                    .map(|l| LinkView {
                        label: l.label.clone(),
                        url: instance.ui_link(&render(&l.target, &context)),
                    })
                    .chain(upload)
                    .collect()
            })
            .unwrap_or_default(),
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
        admin_remembered: false,
        by_hand: step.kind.changes_the_instance(),
        update_set_name: match step.kind {
            StepKind::UpdateSet => profile
                .update_set
                .as_ref()
                .map(crate::profiles::UpdateSetSpec::generated_name),
            StepKind::Acls => Some(crate::wizard::automate::acl_set_name(
                &state.connection_name,
            )),
            _ => None,
        },
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
        undoable: !state.changes.is_empty(),
    }
}

/// What "Do the rest for me" covers: from the current step, the automatable steps up to the
/// first that is not, leaving out those already done.
pub(crate) fn rest_to_do<'p>(
    profile: &'p Profile,
    state: &WizardState,
) -> Vec<&'p crate::profiles::Step> {
    profile
        .steps
        .iter()
        .skip_while(|s| s.id != state.current)
        .take_while(|s| s.automation)
        .filter(|s| !state.status(profile, &s.id).is_done())
        .collect()
}
