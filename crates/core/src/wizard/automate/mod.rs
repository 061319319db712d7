//! "Do it for me": a step's records created or fixed over the Table API with the admin's
//! rights. First a [`Plan`] lists exactly what would be created or changed, read from the
//! instance as it is; applying it does just that, so a second run finds nothing to change. An
//! update set is loaded by inserting its `sys_remote_update_set` and `sys_update_xml` records,
//! then previewed and committed through the CI/CD API — what a real instance offers.

mod acls;
mod landing;
mod oauth_app;
mod roles;
mod service_user;
mod update_set;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::api::{ApiError, EncodedQuery, QueryError, Record, SnowClient, TableQuery, field};
use crate::profiles::{Profile, Step, StepKind, TemplateContext};
use crate::wizard::Change;

/// What a change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(rename_all = "kebab-case")]
pub enum PlannedAction {
    Create,
    Update,
    /// Already as it should be: nothing changes.
    Keep,
    /// Taken away (undoing what Snowlink created).
    Delete,
}

impl PlannedAction {
    /// The verb a plan's line starts with.
    pub fn label(self) -> &'static str {
        match self {
            Self::Create => "Create",
            Self::Update => "Update",
            Self::Keep => "Keep",
            Self::Delete => "Delete",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct PlannedChange {
    pub action: PlannedAction,
    /// The action in words ("Create").
    pub label: String,
    pub table: String,
    /// What the record is, in words: "OAuth application incident.io".
    pub what: String,
}

/// What "Do it for me" would change on the instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct Plan {
    pub step: String,
    pub changes: Vec<PlannedChange>,
    /// Whether applying it changes anything (a plan of only "Keep" needs no confirmation).
    pub changes_anything: bool,
    /// What needs the admin's hand before Snowlink can go on, and why; `None` when Snowlink
    /// can do all of it.
    pub hand: Option<String>,
    /// Where the changes land: the update set they go into, or that they must be made again
    /// on each instance.
    pub lands: Option<String>,
}

impl Plan {
    /// Whether applying it changes nothing.
    pub fn is_empty(&self) -> bool {
        !self.changes_anything
    }

    /// `next`'s changes after these, as one plan for both steps.
    pub fn append(&mut self, next: Plan) {
        self.changes.extend(next.changes);
        self.changes_anything |= next.changes_anything;
        self.hand = self.hand.take().or(next.hand);
        self.lands = match (self.lands.take(), next.lands) {
            (Some(a), Some(b)) if a != b => Some(format!("{a} {b}")),
            (a, b) => a.or(b),
        };
    }
}

/// What applying a plan found out that the setup needs: inputs (a generated client ID) and
/// secrets (a generated client secret or password).
#[derive(Debug, Default)]
pub struct Learned {
    pub inputs: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
}

/// Why a step could not be done for the admin.
#[derive(Debug, thiserror::Error)]
pub enum AutomateError {
    #[error("{0}")]
    Api(#[from] ApiError),
    #[error("{0}")]
    Query(#[from] QueryError),
    #[error("The role {0} does not exist on this instance.")]
    NoRole(String),
    #[error("The user {0} does not exist yet.")]
    NoUser(String),
    #[error("The update set could not be made: {0}")]
    UpdateSet(#[from] crate::updateset::UpdateSetError),
    #[error("The update set's preview found {count} problem(s): {first}.")]
    PreviewProblems { count: u64, first: String },
    #[error("The instance's CI/CD API reported: {0}.")]
    Cicd(String),
    #[error("Upload the update set \"{name}\" in the browser first: no REST call can import one.")]
    UploadFirst { name: String },
    #[error("Snowlink could not commit the update set \"{name}\" through the CI/CD API: {reason}.")]
    CommitByHand { name: String, reason: String },
    #[error("The update set \"{0}\" could not be made current.")]
    CurrentSet(String),
    #[error("{0} is not back as it was after the undo.")]
    NotUndone(String),
    #[error("Snowlink stopped waiting for the instance to {0}; the instance goes on with it.")]
    StoppedWaiting(String),
    #[error("This step has nothing Snowlink can do for you.")]
    NotAutomated,
    #[error("The {value} needs \"{input}\", which is not typed yet.")]
    Unfilled { value: String, input: String },
    /// What was typed is not echoed: it may hold a password (`https://user:pass@…`).
    #[error("The {value} built from what you typed is not one Snowlink can register: {reason}.")]
    BadValue { value: String, reason: &'static str },
    #[error("No randomness to generate a secret from: {0}")]
    NoRandomness(String),
    #[error("\"{0}\" has nothing left to upload: every ACL it needs is there.")]
    NothingToUpload(String),
}

impl AutomateError {
    pub fn hint(&self) -> String {
        match self {
            Self::Api(ApiError::Forbidden { .. }) => {
                "Your admin account lacks the right: this needs the admin role (ACLs need \
                 security_admin elevated in the browser, which Snowlink cannot do for you)."
                    .into()
            }
            Self::Api(err) => err.hint(),
            Self::Query(err) => err.hint(),
            Self::NoRole(_) => "Commit the integration's update set or install its store app, \
                                which create the role, then try again."
                .into(),
            Self::NoUser(_) => "Do the service user step first.".into(),
            Self::UpdateSet(err) => err.hint(),
            Self::PreviewProblems { .. } => "Open the update set in System Update Sets > \
                                             Retrieved Update Sets, resolve the problems, and \
                                             commit it."
                .into(),
            Self::Cicd(_) => "Retry; if it keeps failing, commit the update set by hand in the \
                              browser (System Update Sets > Retrieved Update Sets)."
                .into(),
            Self::UploadFirst { .. } => "Download the update set, then in the browser open \
                                          System Update Sets > Retrieved Update Sets > Import \
                                          Update Set from XML and upload it; then press Do it \
                                          for me again and Snowlink previews and commits it."
                .into(),
            Self::CommitByHand { name, .. } => format!(
                "Commit it by hand in the browser: System Update Sets > Retrieved Update Sets > \
                 {name}, Preview Update Set, then Commit Update Set (elevate to security_admin \
                 first, User menu > Elevate role, if it holds ACLs); then verify the step."
            ),
            Self::CurrentSet(name) => format!(
                "Choose \"{name}\" in the update set picker at the top of the instance's page, \
                 then press Do it for me again."
            ),
            Self::NotUndone(_) => "Someone may have changed it meanwhile: look at it in the \
                                   browser, then undo again."
                .into(),
            Self::StoppedWaiting(_) => "Press Do it for me again later: Snowlink picks up \
                                         where the instance is."
                .into(),
            Self::NotAutomated => "Follow the step's instructions instead.".into(),
            Self::Unfilled { input, .. } => {
                format!("Type \"{input}\" on this step, then press Do it for me again.")
            }
            Self::BadValue { .. } => "Correct what you typed on this step (a host name such as \
                                      acme.atlan.com, with no spaces, commas or path), then \
                                      press Do it for me again."
                .into(),
            Self::NothingToUpload(_) => "Verify the step.".into(),
            Self::NoRandomness(_) => "Retry; the operating system did not provide random \
                                      bytes."
                .into(),
        }
    }
}

/// Told what Snowlink waits for, in words.
pub type Activity = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

/// What someone watching a long "Do it for me" sees and can do: what Snowlink is waiting for,
/// in words, as it changes; and stopping the wait (the instance goes on with what it started,
/// and "Do it for me" later picks up where it is).
#[derive(Clone, Default)]
pub struct Watch {
    pub activity: Option<Activity>,
    pub stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Watch {
    pub(super) fn tell(&self, what: &str) {
        if let Some(activity) = &self.activity {
            activity(what);
        }
    }

    pub(super) fn stopped(&self) -> bool {
        self.stop.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// What the work needs to know.
pub struct Context<'a> {
    pub admin: &'a SnowClient,
    pub profile: &'a Profile,
    pub templates: &'a TemplateContext,
    pub connection_name: &'a str,
    /// The service user's name, from the service-user step.
    pub service_user: Option<String>,
    /// The service user's password, when the admin typed one: a created user gets it, an
    /// existing one keeps its own.
    pub service_password: Option<String>,
    /// Whether the setup already holds the OAuth application's client secret (typed, or set
    /// by an earlier run); otherwise one is generated and set.
    pub client_secret_known: bool,
    /// Every record created or changed, noted as it is written (kept even when a later write
    /// fails), for "Undo what Snowlink did".
    pub journal: &'a std::sync::Mutex<Vec<Change>>,
    pub watch: &'a Watch,
}

impl Context<'_> {
    fn note(&self, change: Change) {
        if let Ok(mut journal) = self.journal.lock() {
            journal.push(change);
        }
    }

    /// Creates a record of `table` (`what` it is, in words), noted for the undo.
    pub(super) async fn create(
        &self,
        table: &str,
        what: String,
        fields: &[(&str, String)],
    ) -> Result<Record, AutomateError> {
        let created = self.admin.create(table, &object(fields)).await?;
        self.note(Change {
            table: table.to_owned(),
            sys_id: field(&created, "sys_id").unwrap_or_default().to_owned(),
            what,
            created: true,
            before: BTreeMap::new(),
            secrets: Vec::new(),
        });
        Ok(created)
    }

    /// Changes `fields` of the record read as `before`, noting their old values for the undo.
    pub(super) async fn update(
        &self,
        table: &str,
        before: &Record,
        what: String,
        fields: &[(&str, String)],
    ) -> Result<(), AutomateError> {
        let sys_id = field(before, "sys_id").unwrap_or_default().to_owned();
        self.admin.update(table, &sys_id, &object(fields)).await?;
        self.note(Change {
            table: table.to_owned(),
            sys_id,
            what,
            created: false,
            before: fields
                .iter()
                .map(|(f, _)| {
                    (
                        (*f).to_owned(),
                        field(before, f).unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            secrets: Vec::new(),
        });
        Ok(())
    }

    /// Sets `fields` as typed in a form (a password, a client secret), naming `secrets` for
    /// the undo, which cannot restore them.
    pub(super) async fn set_secrets(
        &self,
        table: &str,
        sys_id: &str,
        what: String,
        fields: &[(&str, String)],
        secrets: &[&str],
    ) -> Result<(), AutomateError> {
        self.admin
            .update_secret_fields(table, sys_id, &object(fields))
            .await?;
        self.note(Change {
            table: table.to_owned(),
            sys_id: sys_id.to_owned(),
            what,
            created: false,
            before: BTreeMap::new(),
            secrets: secrets.iter().map(|s| (*s).to_owned()).collect(),
        });
        Ok(())
    }
}

/// A secret of `length` characters (letters, digits and symbols, each class at least once)
/// for a service user's password or a client secret.
pub(super) fn generated_secret(length: usize) -> Result<String, AutomateError> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%+-=?@";
    let mut bytes = vec![0u8; length];
    getrandom::fill(&mut bytes).map_err(|err| AutomateError::NoRandomness(err.to_string()))?;
    let mut secret: String = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    secret.push_str("Aa7!");
    Ok(secret)
}

/// The plan for `step` (`apply = false`) or its execution (`apply = true`): one function, so
/// what is shown is what is done.
pub async fn work(
    ctx: &Context<'_>,
    step: &Step,
    apply: bool,
) -> Result<(Plan, Learned), AutomateError> {
    let mut plan = Plan {
        step: step.id.clone(),
        changes: Vec::new(),
        changes_anything: false,
        hand: None,
        lands: None,
    };
    let mut learned = Learned::default();
    landing::work(ctx, step.kind, apply, &mut plan).await?;
    match step.kind {
        StepKind::OauthApp => oauth_app::work(ctx, step, apply, &mut plan, &mut learned).await?,
        StepKind::ServiceUser => {
            service_user::work(ctx, step, apply, &mut plan, &mut learned).await?
        }
        StepKind::Roles => roles::work(ctx, step, apply, &mut plan).await?,
        StepKind::Acls => acls::work(ctx, step, apply, &mut plan).await?,
        StepKind::UpdateSet => update_set::work(ctx, apply, &mut plan).await?,
        _ => return Err(AutomateError::NotAutomated),
    }
    Ok((plan, learned))
}

/// The value the step gives for the ServiceNow form field `label` ("Name", "Logo URL"),
/// rendered as the step shows it; `Ok(None)` when the step gives none, or when it names an
/// optional input left empty. A required input left empty is an error naming it.
pub(super) fn step_value(
    ctx: &Context<'_>,
    step: &Step,
    label: &str,
) -> Result<Option<String>, AutomateError> {
    let Some(value) = step
        .values
        .iter()
        .find(|v| v.label.eq_ignore_ascii_case(label))
    else {
        return Ok(None);
    };
    match unfilled(ctx, &value.value) {
        Some(input) if input.required => Err(AutomateError::Unfilled {
            value: value.label.clone(),
            input: input.label.clone(),
        }),
        Some(_) => Ok(None),
        None => Ok(Some(crate::profiles::render(&value.value, ctx.templates))),
    }
}

/// The first input `text` names (`{input:ID}`) that is not typed yet, required or not.
pub(super) fn unfilled<'p>(ctx: &Context<'p>, text: &str) -> Option<&'p crate::profiles::Input> {
    crate::profiles::placeholders(text)
        .into_iter()
        .filter_map(|name| name.strip_prefix("input:"))
        .filter(|id| ctx.templates.inputs.get(*id).is_none_or(String::is_empty))
        .find_map(|id| {
            ctx.profile
                .steps
                .iter()
                .flat_map(|s| &s.inputs)
                .find(|i| i.id == id)
        })
}

pub(super) fn change(plan: &mut Plan, action: PlannedAction, table: &str, what: String) {
    plan.changes_anything |= action != PlannedAction::Keep;
    plan.changes.push(PlannedChange {
        action,
        label: action.label().to_owned(),
        table: table.to_owned(),
        what,
    });
}

pub(super) async fn find(
    client: &SnowClient,
    table: &str,
    query: EncodedQuery,
    fields: &[&str],
) -> Result<Option<Record>, ApiError> {
    let page = client
        .query(
            table,
            &TableQuery {
                query: Some(query),
                fields: fields.iter().map(|f| (*f).to_owned()).collect(),
                limit: Some(1),
                ..TableQuery::default()
            },
        )
        .await?;
    Ok(page.records.into_iter().next())
}

fn object(fields: &[(&str, String)]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
            .collect::<Map<String, Value>>(),
    )
}

pub use acls::{
    AclVerdict, set_name as acl_set_name, update_set as acl_update_set, verdict as acl_verdict,
};
pub use oauth_app::lacks as oauth_app_lacks;
pub use service_user::service_inputs;
pub use update_set::lacks as update_set_lacks;
