//! "Let Snowlink in": the step every setup starts with, whatever the integration. Snowlink checks
//! and changes the instance as the admin, and the way that works on every instance is the
//! browser (servicenow.md items 35 and 36): one OAuth application of Snowlink's own, created in
//! the browser once per instance, and the authorization code flow with PKCE through the
//! instance's own login page, where SSO and MFA work. Basic auth with the admin's password
//! (and one-time code) stays as the fallback where the instance allows it.

use super::{CheckParams, Input, InstanceLink, PasteValue, Profile, Step, StepKind};

/// What Snowlink's own OAuth application is called on the instance.
pub const ADMIN_APP_NAME: &str = "Snowlink";
/// The step's id, which no profile may use.
pub const STEP_ID: &str = "snowlink-access";
/// The input holding the Client ID of Snowlink's own application.
pub const CLIENT_ID_INPUT: &str = "snowlink_client_id";
/// The input holding its client secret, for an instance that does not take public clients.
pub const CLIENT_SECRET_INPUT: &str = "snowlink_client_secret";

/// The step, as every setup starts with it.
pub fn step() -> Step {
    Step {
        id: STEP_ID.into(),
        title: "Let Snowlink in".into(),
        kind: StepKind::AdminAccess,
        instructions: "Snowlink checks each step, and does the ones you let it, as you, an \
            admin. Sign in through the browser: the instance's own login page, so single \
            sign-on and multi-factor authentication work.\n\
            1. Once per instance, in the browser: System OAuth > Application Registry > New > \
            Create an OAuth API endpoint for external clients, with the values below; tick \
            Public client (Snowlink proves itself with PKCE, no secret). Submit, and paste its \
            Client ID here. (An instance older than Zurich has no public clients: leave it \
            unticked and paste the Client Secret too.)\n\
            2. Click Sign in through the browser, and sign in as an admin. With a Client \
            Secret, Remember this sign-in keeps it in this computer's keyring for the next \
            setup or diagnosis (forget it on the Connections screen).\n\
            Or give your admin user name and password instead (with your one-time code if you \
            use MFA): instances that restrict Basic auth refuse it, and SSO-only admins have no \
            password."
            .into(),
        menu: Some("System OAuth > Application Registry".into()),
        mandatory: true,
        requires: Vec::new(),
        values: vec![
            PasteValue {
                label: "Name".into(),
                value: ADMIN_APP_NAME.into(),
            },
            PasteValue {
                label: "Redirect URL".into(),
                value: "{callback_urls}".into(),
            },
            PasteValue {
                label: "Public client".into(),
                value: "ticked".into(),
            },
        ],
        links: vec![InstanceLink {
            label: "New OAuth API endpoint".into(),
            target: "oauth_entity.do?sys_id=-1".into(),
        }],
        inputs: vec![
            Input {
                id: CLIENT_ID_INPUT.into(),
                label: "Client ID of Snowlink's application".into(),
                field: None,
                secret: false,
                required: false,
                default: None,
                help: Some("Leave it empty to sign in with your password instead.".into()),
            },
            Input {
                id: CLIENT_SECRET_INPUT.into(),
                label: "Its Client Secret (only if it is not a public client)".into(),
                field: None,
                secret: true,
                required: false,
                default: None,
                help: None,
            },
        ],
        verify: CheckParams {
            roles: vec!["admin".into()],
            ..CheckParams::default()
        },
        automation: false,
        acl_role: None,
    }
}

/// `profile` starting with the step; every step read as the admin waits for it.
pub(super) fn prepend(mut profile: Profile) -> Profile {
    for step in &mut profile.steps {
        if step.kind.reads_as_admin() && !step.requires.iter().any(|r| r == STEP_ID) {
            step.requires.insert(0, STEP_ID.into());
        }
    }
    profile.steps.insert(0, step());
    profile
}
