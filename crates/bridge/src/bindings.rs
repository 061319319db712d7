//! The TypeScript side of the types the UI receives, generated from Rust with ts-rs and
//! committed under `ui/src/lib/bindings/`. The test below fails when a Rust type changes and the
//! committed file was not regenerated; run it with `SNOWLINK_UPDATE_BINDINGS=1` to rewrite them.

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use ts_rs::{Config, TS};

    use crate::accounts::{Edited, Linked, NewSecrets, Removed, Unlinked};
    use crate::demo::DemoInstance;
    use crate::diagnose::{DiagnoseRequest, Diagnosis, DiagnosisEvent};
    use crate::request::Request;
    use snowlink_core::InstanceUrlView;
    use snowlink_core::api::LinkedIdentity;
    use snowlink_core::checks::{Check, CheckId, CheckStatus, Link, Report, Verdict};
    use snowlink_core::connections::{ConnectionState, LinkedRecords, StateCount};
    use snowlink_core::errors::{ErrorCode, ErrorView, InputField, NextStep};
    use snowlink_core::flows::{
        Changes, EditField, EditView, Forgotten, RememberedAdminView, TestEvent, TestStatus,
        TestStep,
    };
    use snowlink_core::grants::GrantKind;
    use snowlink_core::profiles::{ProfileList, ProfileProblem, ProfileSummary};
    use snowlink_core::views::{Badge, ConnectionAction, ConnectionView, Tone};
    use snowlink_core::wizard::{
        InputView, LinkView, PersonEvent, Plan, PlannedAction, PlannedChange, SavedSetup,
        SavedSetups, StepStatus, StepSummary, StepView, ValueView, Verification, WizardAction,
        WizardView,
    };

    fn bindings_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/bindings")
    }

    /// Compares (or, when asked, rewrites) the committed binding of one type; returns a
    /// description of the drift, if any.
    fn check<T: TS + 'static>(update: bool) -> Option<String> {
        let cfg = Config::new();
        let expected = T::export_to_string(&cfg).expect("ts-rs renders the type");
        let path = bindings_dir().join(T::output_path().expect("exportable type"));
        if update {
            std::fs::create_dir_all(path.parent().expect("bindings dir")).unwrap();
            std::fs::write(&path, &expected).unwrap();
            return None;
        }
        match std::fs::read_to_string(&path) {
            Ok(actual) if actual == expected => None,
            Ok(_) => Some(format!("{} is out of date", path.display())),
            Err(err) => Some(format!("{} cannot be read: {err}", path.display())),
        }
    }

    #[test]
    fn committed_typescript_bindings_match_the_rust_types() {
        let update = std::env::var_os("SNOWLINK_UPDATE_BINDINGS").is_some();
        let drift: Vec<String> = [
            check::<ErrorView>(update),
            check::<ErrorCode>(update),
            check::<NextStep>(update),
            check::<InputField>(update),
            check::<InstanceUrlView>(update),
            check::<ConnectionView>(update),
            check::<Badge>(update),
            check::<Tone>(update),
            check::<ConnectionAction>(update),
            check::<ConnectionState>(update),
            check::<GrantKind>(update),
            check::<LinkedIdentity>(update),
            check::<Unlinked>(update),
            check::<Linked>(update),
            check::<Request>(update),
            check::<Removed>(update),
            check::<Edited>(update),
            check::<NewSecrets>(update),
            check::<Changes>(update),
            check::<EditView>(update),
            check::<EditField>(update),
            check::<TestEvent>(update),
            check::<TestStep>(update),
            check::<TestStatus>(update),
            check::<DiagnoseRequest>(update),
            check::<DiagnosisEvent>(update),
            check::<Diagnosis>(update),
            check::<RememberedAdminView>(update),
            check::<Forgotten>(update),
            check::<Report>(update),
            check::<Check>(update),
            check::<CheckId>(update),
            check::<CheckStatus>(update),
            check::<Link>(update),
            check::<Verdict>(update),
            check::<LinkedRecords>(update),
            check::<StateCount>(update),
            check::<DemoInstance>(update),
            check::<ProfileSummary>(update),
            check::<ProfileList>(update),
            check::<ProfileProblem>(update),
            check::<SavedSetup>(update),
            check::<SavedSetups>(update),
            check::<WizardView>(update),
            check::<StepView>(update),
            check::<StepSummary>(update),
            check::<StepStatus>(update),
            check::<ValueView>(update),
            check::<LinkView>(update),
            check::<InputView>(update),
            check::<WizardAction>(update),
            check::<Verification>(update),
            check::<PersonEvent>(update),
            check::<Plan>(update),
            check::<PlannedChange>(update),
            check::<PlannedAction>(update),
        ]
        .into_iter()
        .flatten()
        .collect();
        assert!(
            drift.is_empty(),
            "TypeScript bindings drifted from Rust:\n  {}\nRegenerate them with: \
             SNOWLINK_UPDATE_BINDINGS=1 cargo test -p snowlink-bridge bindings",
            drift.join("\n  ")
        );
    }
}
