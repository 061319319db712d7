//! "Do it for me": a step's records created or fixed over the Table API with the admin's
//! rights. First a [`Plan`] lists exactly what would be created or changed, read from the
//! instance as it is; applying it does just that, so a second run finds nothing to change. An
//! update set is loaded by inserting its `sys_remote_update_set` and `sys_update_xml` records,
//! then previewed and committed through the CI/CD API — what a real instance offers.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::api::{ApiError, EncodedQuery, QueryError, Record, SnowClient, TableQuery, field};
use crate::grants::GrantKind;
use crate::profiles::{Profile, Step, StepKind, TemplateContext};

/// What a change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(rename_all = "kebab-case")]
pub enum PlannedAction {
    Create,
    Update,
    /// Already as it should be: nothing changes.
    Keep,
}

impl PlannedAction {
    /// The verb a plan's line starts with.
    pub fn label(self) -> &'static str {
        match self {
            Self::Create => "Create",
            Self::Update => "Update",
            Self::Keep => "Keep",
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
}

impl Plan {
    /// Whether applying it changes nothing.
    pub fn is_empty(&self) -> bool {
        !self.changes_anything
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
    #[error("This step has nothing Snowlink can do for you.")]
    NotAutomated,
}

impl AutomateError {
    pub fn hint(&self) -> String {
        match self {
            Self::Api(ApiError::Forbidden { .. }) => {
                "Your admin account lacks the right: ACLs and update sets need the security_admin \
                 role (elevate to it, or give the account the role), the rest admin."
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
            Self::Cicd(_) => "Retry; if it keeps failing, commit the update set by hand.".into(),
            Self::NotAutomated => "Follow the step's instructions instead.".into(),
        }
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
    };
    let mut learned = Learned::default();
    match step.kind {
        StepKind::OauthApp => oauth_app(ctx, step, apply, &mut plan, &mut learned).await?,
        StepKind::ServiceUser => service_user(ctx, step, apply, &mut plan, &mut learned).await?,
        StepKind::Roles => roles(ctx, step, apply, &mut plan).await?,
        StepKind::Acls => acls(ctx, step, apply, &mut plan).await?,
        StepKind::UpdateSet => update_set(ctx, apply, &mut plan).await?,
        _ => return Err(AutomateError::NotAutomated),
    }
    Ok((plan, learned))
}

fn change(plan: &mut Plan, action: PlannedAction, table: &str, what: String) {
    plan.changes_anything |= action != PlannedAction::Keep;
    plan.changes.push(PlannedChange {
        action,
        label: action.label().to_owned(),
        table: table.to_owned(),
        what,
    });
}

async fn find(
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

async fn oauth_app(
    ctx: &Context<'_>,
    step: &Step,
    apply: bool,
    plan: &mut Plan,
    learned: &mut Learned,
) -> Result<(), AutomateError> {
    let name = ctx.connection_name;
    let wanted_redirects = if ctx.profile.grant == GrantKind::AuthCode {
        crate::oauth::callback_urls().join(",")
    } else {
        String::new()
    };
    let existing = find(
        ctx.admin,
        "oauth_entity",
        EncodedQuery::default().eq("name", name)?,
        &[
            "sys_id",
            "client_id",
            "client_secret",
            "redirect_url",
            "active",
        ],
    )
    .await?;
    let record = match existing {
        Some(record) => {
            let registered = field(&record, "redirect_url").unwrap_or_default();
            let missing = !wanted_redirects.is_empty()
                && wanted_redirects.split(',').any(|u| !registered.contains(u));
            let inactive = field(&record, "active") == Some("false");
            if missing || inactive {
                change(
                    plan,
                    PlannedAction::Update,
                    "oauth_entity",
                    format!(
                        "OAuth application {name}: {}",
                        if missing {
                            format!("Redirect URL {wanted_redirects}")
                        } else {
                            "Active".into()
                        }
                    ),
                );
                if apply {
                    let id = field(&record, "sys_id").unwrap_or_default().to_owned();
                    let mut fields = vec![("active", "true".to_owned())];
                    if missing {
                        fields.push(("redirect_url", wanted_redirects.clone()));
                    }
                    ctx.admin
                        .update("oauth_entity", &id, &object(&fields))
                        .await?;
                }
            } else {
                change(
                    plan,
                    PlannedAction::Keep,
                    "oauth_entity",
                    format!("OAuth application {name}"),
                );
            }
            record
        }
        None => {
            change(
                plan,
                PlannedAction::Create,
                "oauth_entity",
                format!(
                    "OAuth application {name}{}",
                    if wanted_redirects.is_empty() {
                        String::new()
                    } else {
                        format!(" with Redirect URL {wanted_redirects}")
                    }
                ),
            );
            if !apply {
                return Ok(());
            }
            let fields = [
                ("name", name.to_owned()),
                ("redirect_url", wanted_redirects.clone()),
                ("active", "true".to_owned()),
                ("access_token_lifespan", "1800".to_owned()),
                ("refresh_token_lifespan", "8640000".to_owned()),
            ];
            ctx.admin.create("oauth_entity", &object(&fields)).await?
        }
    };
    // The registry generates both; the secret is readable by an admin over the Table API
    // (unverified on every release: if it is empty, the step asks for it).
    for input in &step.inputs {
        let source = match input.field {
            Some(crate::errors::InputField::ClientId) => "client_id",
            Some(crate::errors::InputField::ClientSecret) => "client_secret",
            _ => continue,
        };
        if let Some(value) = field(&record, source).filter(|v| !v.is_empty()) {
            if input.secret {
                learned.secrets.insert(input.id.clone(), value.to_owned());
            } else {
                learned.inputs.insert(input.id.clone(), value.to_owned());
            }
        }
    }
    Ok(())
}

/// A password for a generated service user: 24 characters of letters, digits and symbols.
fn generated_password() -> Result<String, AutomateError> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%+-=?@";
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)
        .map_err(|err| AutomateError::Cicd(format!("no randomness: {err}")))?;
    // Guarantee each class once; the rest at random.
    let mut password: String = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    password.push_str("Aa7!");
    Ok(password)
}

/// The user-name and password inputs of the service-user step.
pub fn service_inputs(
    step: &Step,
) -> (
    Option<&crate::profiles::Input>,
    Option<&crate::profiles::Input>,
) {
    (
        step.inputs.iter().find(|i| !i.secret),
        step.inputs.iter().find(|i| i.secret),
    )
}

async fn service_user(
    ctx: &Context<'_>,
    step: &Step,
    apply: bool,
    plan: &mut Plan,
    learned: &mut Learned,
) -> Result<(), AutomateError> {
    let user = ctx
        .service_user
        .clone()
        .ok_or_else(|| AutomateError::NoUser("(no name yet)".into()))?;
    let (_, password_input) = service_inputs(step);
    // An account that signs in in the browser (an authorization-code integration) must be
    // allowed the UI; any other is kept to web services.
    let web_only = if ctx.profile.grant == GrantKind::AuthCode {
        "false"
    } else {
        "true"
    };
    let wanted = [
        ("active", "true"),
        ("locked_out", "false"),
        ("password_needs_reset", "false"),
        ("web_service_access_only", web_only),
    ];
    let existing = find(
        ctx.admin,
        "sys_user",
        EncodedQuery::default().eq("user_name", &user)?,
        &[
            "sys_id",
            "active",
            "locked_out",
            "password_needs_reset",
            "web_service_access_only",
        ],
    )
    .await?;
    let new_password = ctx.service_password.is_none();
    match existing {
        Some(record) => {
            let wrong: Vec<(&str, String)> = wanted
                .iter()
                .filter(|(f, v)| field(&record, f) != Some(*v))
                .map(|(f, v)| (*f, (*v).to_owned()))
                .collect();
            let mut fields = wrong.clone();
            let mut what: Vec<String> = wrong.iter().map(|(f, v)| format!("{f} = {v}")).collect();
            if new_password {
                what.push("a new generated password".into());
            }
            if what.is_empty() {
                change(
                    plan,
                    PlannedAction::Keep,
                    "sys_user",
                    format!("User {user}"),
                );
                return Ok(());
            }
            change(
                plan,
                PlannedAction::Update,
                "sys_user",
                format!("User {user}: {}", what.join(", ")),
            );
            if apply {
                if new_password {
                    let password = generated_password()?;
                    fields.push(("user_password", password.clone()));
                    if let Some(input) = password_input {
                        learned.secrets.insert(input.id.clone(), password);
                    }
                }
                let id = field(&record, "sys_id").unwrap_or_default().to_owned();
                ctx.admin.update("sys_user", &id, &object(&fields)).await?;
            }
        }
        None => {
            change(
                plan,
                PlannedAction::Create,
                "sys_user",
                format!(
                    "User {user}: {}, {}",
                    if web_only == "true" {
                        "web service access only, identity type Machine"
                    } else {
                        "identity type Human (it signs in in the browser)"
                    },
                    if new_password {
                        "a generated password"
                    } else {
                        "the password you typed"
                    }
                ),
            );
            if apply {
                let password = match &ctx.service_password {
                    Some(typed) => typed.clone(),
                    None => generated_password()?,
                };
                let mut fields: Vec<(&str, String)> =
                    wanted.iter().map(|(f, v)| (*f, (*v).to_owned())).collect();
                fields.extend([
                    ("user_name", user.clone()),
                    ("first_name", ctx.connection_name.to_owned()),
                    ("last_name", "Integration".to_owned()),
                    (
                        "identity_type",
                        if web_only == "true" {
                            "Machine"
                        } else {
                            "Human"
                        }
                        .to_owned(),
                    ),
                    ("user_password", password.clone()),
                ]);
                ctx.admin.create("sys_user", &object(&fields)).await?;
                if let Some(input) = password_input {
                    learned.secrets.insert(input.id.clone(), password);
                }
            }
        }
    }
    Ok(())
}

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

async fn roles(
    ctx: &Context<'_>,
    step: &Step,
    apply: bool,
    plan: &mut Plan,
) -> Result<(), AutomateError> {
    let user = ctx
        .service_user
        .clone()
        .ok_or_else(|| AutomateError::NoUser("(no name yet)".into()))?;
    let user_id = sys_id_of(ctx.admin, "sys_user", "user_name", &user)
        .await?
        .ok_or_else(|| AutomateError::NoUser(user.clone()))?;
    let have = crate::api::roles_of(ctx.admin, &user_id).await?;
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
        if apply {
            ctx.admin
                .create(
                    "sys_user_has_role",
                    &json!({ "user": user_id, "role": role_id }),
                )
                .await?;
        }
    }
    Ok(())
}

/// The sys_id of the role called `role`; a role the instance lacks is an error.
async fn role_id(ctx: &Context<'_>, role: &str) -> Result<String, AutomateError> {
    sys_id_of(ctx.admin, "sys_user_role", "name", role)
        .await?
        .ok_or_else(|| AutomateError::NoRole(role.to_owned()))
}

async fn acls(
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

async fn update_set(ctx: &Context<'_>, apply: bool, plan: &mut Plan) -> Result<(), AutomateError> {
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
