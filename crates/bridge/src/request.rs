//! Every request the window may send the engine, with its parameters: one enum, exported to
//! the UI through ts-rs (`ui/src/lib/bindings/Request.ts`), so a request renamed or changed on
//! one side fails to compile on the other. On the wire a request is `{"method", "params"}`.

use serde::Deserialize;
use serde_json::Value;
use snowlink_core::errors::FrontEndError;
use snowlink_core::flows::Changes;
use snowlink_core::wizard::PersonEvent;

use crate::accounts::NewSecrets;
use crate::diagnose::DiagnoseRequest;

/// A request of the window. No `Debug`: some carry a secret the person typed.
#[derive(Deserialize, ts_rs::TS)]
#[serde(tag = "method", content = "params", rename_all = "snake_case")]
#[ts(tag = "method", content = "params", rename_all = "snake_case")]
pub enum Request {
    /// Parse an instance address as typed.
    ParseInstance {
        text: String,
    },
    /// Open an http(s) page in the system browser.
    OpenInBrowser {
        url: String,
    },
    ListConnections {},
    CheckConnection {
        id: String,
    },
    /// Link the person's own account (events: `url`).
    LinkAccount {
        id: String,
    },
    /// The address a browser that cannot reach this computer ended on.
    PasteSignIn {
        address: String,
    },
    CancelSignIn {},
    UnlinkAccount {
        id: String,
    },
    RemoveConnection {
        id: String,
    },
    /// The admin sign-ins remembered on this computer.
    ListAdminSignIns {},
    /// Forget the admin sign-in remembered for an instance (revoking its token).
    ForgetAdminSignIn {
        instance: String,
    },
    EditForm {
        id: String,
    },
    /// Change a connection and test it (events: `progress`).
    EditConnection {
        id: String,
        changes: Changes,
        secrets: NewSecrets,
    },
    /// Run the layered checks (events: `events`, and `url` for an admin's browser sign-in).
    RunDiagnosis {
        request: DiagnoseRequest,
    },
    DiagnosisText {},
    ExportBundle {
        path: String,
    },
    StartDemoInstance {},
    ListProfiles {},
    /// Every step of `profile` as a change request (Markdown), for `instance` when typed.
    ProfileRecipe {
        profile: String,
        instance: Option<String>,
    },
    ListSavedSetups {},
    /// Start a setup of `profile` on `instance`, or resume its latest.
    StartSetup {
        profile: String,
        instance: Option<String>,
        resume: bool,
    },
    SetupView {},
    CloseSetup {},
    SetupEvent {
        event: PersonEvent,
    },
    /// What was typed on the current step: values and secrets, by input id.
    SetupInputs {
        values: std::collections::BTreeMap<String, String>,
    },
    /// The admin's Basic auth account; `code` is an MFA one-time code (empty when none).
    SetupAdmin {
        username: String,
        password: String,
        #[serde(default)]
        code: String,
    },
    /// Sign the admin in through the browser with Snowlink's own application (events: `url`);
    /// `remember` keeps the sign-in in the keyring for the next time.
    SetupAdminBrowser {
        remember: bool,
    },
    /// Verify the current step (events: `events`, `url`).
    VerifyStep {},
    PlanStep {},
    /// Do the current step for the admin (events: `events`, `url`, and `activity`: what it
    /// waits for on the instance, in words).
    DoStep {},
    /// Stop "Do it for me" waiting on the instance.
    StopWaiting {},
    /// What "Undo what Snowlink did" would delete and put back.
    PlanUndo {},
    /// Take back what Snowlink did on the instance in this setup.
    Undo {},
    /// One plan for the current step and the automatable steps after it.
    PlanRest {},
    /// Do them for the admin, in order, up to the first that fails or needs the admin's hand
    /// (events: `events`, `url`, `activity`).
    DoRest {},
    SaveUpdateSet {
        path: String,
    },
    HandoffText {},
}

impl Request {
    /// The request a line's `method` and `params` spell. The parse error is never quoted:
    /// serde's words may repeat a value, and a value may be a secret.
    pub fn read(method: &str, params: Value) -> Result<Self, FrontEndError> {
        let params = if params.is_null() {
            Value::Object(Default::default())
        } else {
            params
        };
        serde_json::from_value(serde_json::json!({ "method": method, "params": params })).map_err(
            |err: serde_json::Error| {
                let method = snowlink_core::text::untrusted(method, 60);
                FrontEndError::BadRequest(if err.to_string().starts_with("unknown variant") {
                    format!("\"{method}\", which it does not know")
                } else {
                    format!("\"{method}\" with parameters it does not take")
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_read_from_its_method_and_params() {
        let request = Request::read("parse_instance", serde_json::json!({ "text": "acme" }));
        assert!(matches!(request, Ok(Request::ParseInstance { text }) if text == "acme"));
        assert!(matches!(
            Request::read("list_connections", Value::Null),
            Ok(Request::ListConnections {})
        ));
        assert!(matches!(
            Request::read("verify_step", serde_json::json!({})),
            Ok(Request::VerifyStep {})
        ));
    }

    #[test]
    fn an_unreadable_request_never_repeats_its_values() {
        let Err(err) = Request::read(
            "setup_admin",
            serde_json::json!({ "username": "admin", "password": 4711 }),
        ) else {
            panic!("a number is not a password");
        };
        assert!(err.to_string().contains("setup_admin"), "{err}");
        assert!(!err.to_string().contains("4711"), "{err}");
        let Err(err) = Request::read("rm -rf", serde_json::json!({})) else {
            panic!("no such request");
        };
        assert!(err.to_string().contains("rm -rf"), "{err}");
        assert!(err.to_string().contains("does not know"), "{err}");
    }
}
