//! Integration recipes as data. A [`Profile`] mirrors one vendor's documented admin setup,
//! step by step: what to click in ServiceNow (in the instance's own words), the values to
//! paste, links into the instance, what each step asks for, what each step needs first, and
//! how Snowlink verifies it (and can do it itself). The four built-in profiles are TOML files
//! embedded in the binary (`profiles/*.toml`); an admin can add their own in the config
//! folder's `profiles/`. Every file is validated when loaded, and an error names the file and
//! the field.

pub mod admin_access;
mod catalog;
mod expect;
mod template;
mod validate;

use serde::{Deserialize, Serialize};

use crate::errors::InputField;
use crate::grants::GrantKind;

pub use catalog::{
    CUSTOM, Catalog, Loaded, LookupError, ProfileList, ProfileProblem, ProfileSummary, folder,
};
pub use expect::{CheckParams, LinkSpec, OutboundProbe, TableAccess};
pub use template::{Context as TemplateContext, placeholders, render};
pub use validate::{ProfileError, parse};

/// One integration's setup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Lowercase letters, digits and hyphens: `incident-sync`.
    pub id: String,
    /// "Incident sync".
    pub name: String,
    /// Whose integration it is: "incident.io".
    pub vendor: String,
    /// One line for the picker.
    pub summary: String,
    /// The vendor page the steps mirror, named.
    pub source: String,
    /// How many manual actions the vendor's page lists, to compare Snowlink's count with.
    pub vendor_actions: u32,
    /// How the finished connection signs in.
    pub grant: GrantKind,
    /// The connection's default name.
    pub connection_name: String,
    /// What counts as a record linked to the integration.
    pub links: LinkSpec,
    /// The update set the integration installs, when it has one.
    #[serde(default)]
    pub update_set: Option<UpdateSetSpec>,
    pub steps: Vec<Step>,
}

/// What verifies a step and what "Do it for me" does for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(rename_all = "kebab-case")]
pub enum StepKind {
    /// Read and acknowledge; nothing to check on the instance.
    Info,
    /// "Let Snowlink in": the admin signs in (through the browser, or with a password), as
    /// every setup starts; Snowlink adds it, no profile declares it.
    AdminAccess,
    /// The admin's own account has the roles the setup needs (`verify.roles`).
    Prerequisites,
    /// The instance address: reachable, TLS, awake.
    Instance,
    /// The Application Registry record: exists, active, redirect URLs registered.
    OauthApp,
    /// The generated update set: loaded, previewed, committed; its endpoint answers.
    UpdateSet,
    /// The integration's service user: exists, active, can sign in.
    ServiceUser,
    /// The service user's roles (`verify.roles`).
    Roles,
    /// The ACLs the integration needs (`verify.tables`).
    Acls,
    /// Sign in the way the connection will, run the integration's checks, save it.
    Connect,
}

impl StepKind {
    /// Whether the admin changes something on the instance in this step (by hand, or Snowlink
    /// for them): another admin could do it, and it is checked with the admin's rights.
    pub fn changes_the_instance(self) -> bool {
        matches!(
            self,
            Self::OauthApp | Self::UpdateSet | Self::ServiceUser | Self::Roles | Self::Acls
        )
    }

    /// Whether the step checks the admin's own account rather than the connection's.
    pub fn is_the_admins(self) -> bool {
        matches!(self, Self::AdminAccess | Self::Prerequisites)
    }

    /// Whether verifying the step reads the instance's configuration as the admin.
    pub fn reads_as_admin(self) -> bool {
        self.is_the_admins() || self.changes_the_instance()
    }
}

/// One step of the setup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Lowercase letters, digits and hyphens, unique in the profile.
    pub id: String,
    pub title: String,
    pub kind: StepKind,
    /// What to do, in the instance's own words (menu paths, button names). Templates allowed.
    pub instructions: String,
    /// Where in ServiceNow, as the navigator shows it: "System OAuth > Application Registry".
    #[serde(default)]
    pub menu: Option<String>,
    /// Skippable when false.
    #[serde(default = "yes")]
    pub mandatory: bool,
    /// Steps that must be done (verified or skipped) first.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Values to paste, with copy buttons.
    #[serde(default)]
    pub values: Vec<PasteValue>,
    /// Links into the instance.
    #[serde(default)]
    pub links: Vec<InstanceLink>,
    /// What the step asks for.
    #[serde(default)]
    pub inputs: Vec<Input>,
    /// What the verification expects, beyond what the kind implies.
    #[serde(default)]
    pub verify: CheckParams,
    /// Whether "Do it for me" is offered (the kind says what it does).
    #[serde(default)]
    pub automation: bool,
    /// For an ACL step done for the admin: the role the ACLs it creates require.
    #[serde(default)]
    pub acl_role: Option<String>,
}

fn yes() -> bool {
    true
}

/// A value the admin pastes into a ServiceNow form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasteValue {
    /// The form field's label in ServiceNow: "Redirect URL".
    pub label: String,
    /// The value; templates allowed (`{callback_urls}`, `{input:service_user}`…).
    pub value: String,
}

/// A link into the instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceLink {
    pub label: String,
    /// A classic UI target (`oauth_entity_list.do`, `sys_user.do?sys_id=-1`); opened as
    /// `{instance}/nav_to.do?uri=<target>`. Templates allowed.
    pub target: String,
}

/// Something a step asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// Lowercase letters, digits and underscores, unique in the profile; templates read it as
    /// `{input:<id>}`.
    pub id: String,
    /// The label as ServiceNow names the field the value comes from: "Client ID".
    pub label: String,
    /// The connection field it fills, if any.
    #[serde(default)]
    pub field: Option<InputField>,
    /// Kept only in the keyring, never in the wizard's saved state.
    #[serde(default)]
    pub secret: bool,
    #[serde(default = "yes")]
    pub required: bool,
    /// Shown before anything is typed; templates allowed.
    #[serde(default)]
    pub default: Option<String>,
    /// One sentence under the field.
    #[serde(default)]
    pub help: Option<String>,
}

/// The records the integration's update set installs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateSetSpec {
    /// "Atlan Update Set".
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The vendor gives the set (Atlan's dialog offers "Atlan Update Set.xml"): the step
    /// verifies theirs, and the set Snowlink generates from this spec is only a stand-in for
    /// trying the flow, named as such ([`UpdateSetSpec::generated_name`]).
    #[serde(default)]
    pub vendor_supplied: bool,
    #[serde(default)]
    pub roles: Vec<RoleSpec>,
    #[serde(default)]
    pub acls: Vec<AclSpec>,
    #[serde(default)]
    pub business_rules: Vec<BusinessRuleSpec>,
    #[serde(default)]
    pub scripted_rest: Vec<ScriptedRestSpec>,
    #[serde(default)]
    pub catalogs: Vec<CatalogSpec>,
}

impl UpdateSetSpec {
    /// The name of the set Snowlink generates: the spec's, or for a set the vendor gives,
    /// "<name> (Snowlink stand-in)", so it is never taken for the vendor's.
    pub fn generated_name(&self) -> String {
        if self.vendor_supplied {
            format!("{} (Snowlink stand-in)", self.name)
        } else {
            self.name.clone()
        }
    }

    /// For a set the vendor gives, the name of Snowlink's stand-in for it, which a step or a
    /// diagnosis accepts in its place (and says so).
    pub fn stand_in(&self) -> Option<String> {
        self.vendor_supplied.then(|| self.generated_name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AclSpec {
    /// `task`, `task.*`, `sc_request`.
    pub name: String,
    /// `read`, `create`, `write`, `delete`.
    pub operation: String,
    /// The role it allows.
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessRuleSpec {
    pub name: String,
    /// The table it runs on.
    pub table: String,
    #[serde(default = "yes")]
    pub on_insert: bool,
    #[serde(default)]
    pub on_update: bool,
    /// The URL it posts the record to; templates allowed (`{input:webhook_url}`).
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedRestSpec {
    pub name: String,
    /// `snc` in `/api/snc/oauth_userinfo`.
    pub namespace: String,
    /// `oauth_userinfo`.
    pub id: String,
    /// What it answers: `caller_identity` (the caller's user name and sys_id).
    pub behaviour: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogSpec {
    pub name: String,
    pub items: Vec<String>,
}

impl Profile {
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    pub fn input(&self, id: &str) -> Option<&Input> {
        self.steps
            .iter()
            .flat_map(|s| s.inputs.iter())
            .find(|i| i.id == id)
    }

    /// Every check parameter the profile's steps name, merged: what a diagnosis of the
    /// finished connection expects.
    pub fn check_params(&self) -> CheckParams {
        let mut params = CheckParams {
            links: Some(self.links.clone()),
            ..CheckParams::default()
        };
        // The prerequisites and the admin's sign-in are the admin's, not the connection's.
        for step in self.steps.iter().filter(|s| !s.kind.is_the_admins()) {
            let v = &step.verify;
            params.roles.extend(v.roles.iter().cloned());
            params
                .roles_sufficient
                .extend(v.roles_sufficient.iter().cloned());
            params.tables.extend(v.tables.iter().cloned());
            params.update_set = params.update_set.clone().or_else(|| v.update_set.clone());
            params.endpoint = params.endpoint.clone().or_else(|| v.endpoint.clone());
            params.outbound = params.outbound.clone().or_else(|| v.outbound.clone());
        }
        if let Some(set) = &self.update_set {
            params.update_set = params.update_set.or_else(|| Some(set.name.clone()));
            params.update_set_stand_in = set.stand_in();
        }
        params
    }
}
