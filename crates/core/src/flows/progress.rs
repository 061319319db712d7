//! The steps of "Save and test" as they run: each one's label, status and what it found, sent
//! to the app's progress list and the CLI's lines as it starts and ends.

use std::future::Future;

use serde::Serialize;

use super::FlowError;
use crate::grants::GrantKind;

/// The steps of "Save and test", in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum TestStep {
    Keyring,
    SignIn,
    Identify,
    Save,
    Count,
}

impl TestStep {
    pub const ALL: [TestStep; 5] = [
        Self::Keyring,
        Self::SignIn,
        Self::Identify,
        Self::Save,
        Self::Count,
    ];

    pub fn label(self, grant: GrantKind) -> &'static str {
        match (self, grant) {
            (Self::Keyring, _) => "Open the OS keyring",
            (Self::SignIn, GrantKind::AuthCode) => "Refresh the linked account's token",
            (Self::SignIn, GrantKind::Basic | GrantKind::ApiKey) => "Sign in",
            (Self::SignIn, _) => "Get a token",
            (Self::Identify, _) => "Ask the instance who this is",
            (Self::Save, _) => "Keep the settings and secrets",
            (Self::Count, _) => "Count the linked records",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum TestStatus {
    Pending,
    Running,
    Done,
    Failed,
    Skipped,
}

/// One step's news, or its place in the list before it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct TestEvent {
    pub step: TestStep,
    pub label: String,
    pub status: TestStatus,
    pub detail: Option<String>,
}

/// Where the steps' news goes.
pub type Progress<'a> = &'a (dyn Fn(TestEvent) + Send + Sync);

pub(super) fn event(
    step: TestStep,
    grant: GrantKind,
    status: TestStatus,
    detail: Option<String>,
) -> TestEvent {
    TestEvent {
        step,
        label: step.label(grant).into(),
        status,
        detail,
    }
}

pub(super) struct Reporter<'a> {
    pub(super) progress: Progress<'a>,
    pub(super) grant: GrantKind,
}

impl Reporter<'_> {
    pub(super) fn send(&self, step: TestStep, status: TestStatus, detail: Option<String>) {
        (self.progress)(event(step, self.grant, status, detail));
    }

    /// Runs one step, saying when it starts and how it ended (`done` words its success).
    pub(super) async fn run<T>(
        &self,
        step: TestStep,
        work: impl Future<Output = Result<T, FlowError>>,
        done: impl FnOnce(&T) -> Option<String>,
    ) -> Result<T, FlowError> {
        self.send(step, TestStatus::Running, None);
        match work.await {
            Ok(value) => {
                self.send(step, TestStatus::Done, done(&value));
                Ok(value)
            }
            Err(err) => {
                self.send(
                    step,
                    TestStatus::Failed,
                    Some(format!("{err} {}", err.hint())),
                );
                Err(err)
            }
        }
    }
}
