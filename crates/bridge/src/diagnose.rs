//! The Diagnose screen's commands: run the layered checks on a saved connection or a typed
//! instance (with optional admin credentials), streaming each check to the UI as it starts and
//! finishes; then copy the report as text, or export the redacted support bundle to the path
//! the save dialog returned. The last run is kept in memory for those two.

use std::sync::{Arc, Mutex, PoisonError};

use crate::Channel;
use serde::{Deserialize, Serialize};
use snowlink_core::InstanceUrl;
use snowlink_core::bundle::{self, BundleContents};
use snowlink_core::checks::{
    AdminCredentials, Check, CheckId, Progress, Report, RunOptions, Target, plain_mark,
};
use snowlink_core::connections::Connection;
use snowlink_core::errors::FrontEndError;
use snowlink_core::flows::{AdminApp, FlowError};
use snowlink_core::http::{Exchange, HttpLog};
use snowlink_core::secrets::ClientSecret;

use crate::accounts::Accounts;
use crate::error::UiError;

/// What to diagnose.
// No `Debug`: it carries the admin password.
#[derive(Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct DiagnoseRequest {
    /// A saved connection, or…
    pub connection_id: Option<String>,
    /// …an instance as typed.
    pub instance: Option<String>,
    pub admin_username: Option<String>,
    pub admin_password: Option<String>,
    /// The one-time code of an admin with MFA, appended to the password.
    pub admin_code: Option<String>,
    /// Snowlink's own OAuth application on the instance: the admin signs in through the
    /// browser with it instead of a password (or with the sign-in remembered there).
    pub admin_client_id: Option<String>,
    pub admin_client_secret: Option<String>,
    /// Keep the browser sign-in in the keyring for the next time.
    pub remember_admin: bool,
}

/// A finished run: the report, and what to tell about the admin's sign-in.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Diagnosis {
    pub report: Report,
    pub notice: Option<String>,
}

/// One check starting (`check` empty) or finished.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DiagnosisEvent {
    pub id: CheckId,
    pub title: String,
    pub check: Option<Check>,
}

struct LastRun {
    report: Report,
    connection: Option<Connection>,
    exchanges: Vec<Exchange>,
}

/// The last run, for "Copy report" and "Export support bundle".
#[derive(Default)]
pub struct Diagnoses(Mutex<Option<LastRun>>);

pub async fn run_diagnosis(
    accounts: &Accounts,
    diagnoses: &Diagnoses,
    request: DiagnoseRequest,
    events: Channel<DiagnosisEvent>,
    url: Channel<String>,
) -> Result<Diagnosis, UiError> {
    let filled = |value: &Option<String>| value.clone().filter(|v| !v.trim().is_empty());
    let basic =
        request
            .admin_username
            .zip(request.admin_password)
            .and_then(|(username, password)| {
                AdminCredentials::with_code(
                    &username,
                    password,
                    &request.admin_code.unwrap_or_default(),
                )
            });
    let saved = match &request.connection_id {
        Some(id) => {
            let flows = accounts.flows()?;
            let connection = flows.find(Some(id))?;
            Some(
                flows
                    .diagnosis_target(&connection)
                    .await
                    .map_err(|err| UiError(err.view()))?,
            )
        }
        None => None,
    };
    let typed = match (&saved, &request.instance) {
        (Some(target), _) => target.typed.clone(),
        (None, Some(instance)) => instance.clone(),
        (None, None) => return Err(UiError(FrontEndError::NothingToDiagnose.view())),
    };
    let mut notice = None;
    let admin = match filled(&request.admin_client_id) {
        Some(client_id) => {
            let instance = InstanceUrl::parse(&typed).map_err(FlowError::from)?;
            let app = AdminApp {
                client_id,
                client_secret: filled(&request.admin_client_secret).map(ClientSecret::new),
            };
            let session = accounts
                .flows()?
                .admin_sign_in(
                    &instance,
                    app,
                    request.remember_admin,
                    &crate::setup::browser(url),
                    std::future::pending(),
                )
                .await?;
            notice = session.notice();
            Some(session.credentials)
        }
        None => basic,
    };
    let target = match saved {
        Some(mut target) => {
            if target.admin.is_none() {
                target.admin = admin;
            }
            target
        }
        None => Target::of_instance_as_admin(&typed, admin),
    };
    let log = HttpLog::default();
    let options = RunOptions {
        log: log.clone(),
        progress: Some(progress_to(events)),
        ..RunOptions::default()
    };
    let connection = target.connection.clone();
    let report = snowlink_core::checks::run(target, options).await;
    *diagnoses.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(LastRun {
        report: report.clone(),
        connection,
        exchanges: log.exchanges(),
    });
    Ok(Diagnosis { report, notice })
}

/// Sends each check's start and end over `events`.
pub fn progress_to(events: Channel<DiagnosisEvent>) -> Progress {
    Arc::new(move |id, check| {
        let _ = events.send(DiagnosisEvent {
            id,
            title: id.title().into(),
            check: check.cloned(),
        });
    })
}

fn nothing_yet() -> UiError {
    UiError(FrontEndError::NoDiagnosis.view())
}

/// The last report as plain text, as `snowlink doctor` prints it.
pub fn diagnosis_text(diagnoses: &Diagnoses) -> Result<String, UiError> {
    let last = diagnoses.0.lock().unwrap_or_else(PoisonError::into_inner);
    let run = last.as_ref().ok_or_else(nothing_yet)?;
    let heading = format!("Snowlink diagnosis of {}", run.report.instance);
    // The next steps are phrased by the UI beside each check; the copied text holds the fixes.
    Ok(run.report.to_text(&heading, &plain_mark, &|_| None))
}

/// Writes the last run's support bundle to `path` (chosen in the save dialog).
pub fn export_bundle(diagnoses: &Diagnoses, path: String) -> Result<(), UiError> {
    let last = diagnoses.0.lock().unwrap_or_else(PoisonError::into_inner);
    let run = last.as_ref().ok_or_else(nothing_yet)?;
    let contents = BundleContents {
        report: &run.report,
        connection: run.connection.as_ref(),
        exchanges: &run.exchanges,
        made_by: "snowlink-app",
    };
    bundle::write(std::path::Path::new(&path), &contents).map_err(|err| UiError(err.view()))
}
