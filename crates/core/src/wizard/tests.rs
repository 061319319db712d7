//! The state machine on the built-in incident.io profile: what each event does to each kind of
//! step, and what the view offers.

use super::*;
use crate::profiles::load_all;

fn profile(id: &str) -> Profile {
    load_all(None)
        .unwrap()
        .into_iter()
        .map(|l| l.profile)
        .find(|p| p.id == id)
        .unwrap()
}

fn start() -> (Profile, WizardState) {
    let profile = profile("incident-sync");
    let draft = ConnectionId::random_with_prefix("c").unwrap();
    let state = WizardState::new(&profile, " https://acme.service-now.com ", draft);
    (profile, state)
}

fn verified(message: &str) -> Event {
    Event::VerifyFinished {
        verification: Verification::from_checks(Vec::new(), message),
    }
}

fn failed(message: &str) -> Event {
    Event::VerifyFinished {
        verification: Verification::refused(message),
    }
}

/// Applies each event in turn, failing the test on a refused one.
fn run(profile: &Profile, state: WizardState, events: Vec<Event>) -> WizardState {
    events.into_iter().fold(state, |state, event| {
        let label = format!("{event:?}");
        apply(profile, &state, event).unwrap_or_else(|err| panic!("{label}: {err}"))
    })
}

/// Verifies the current step, as a passing check would.
fn pass_current() -> Vec<Event> {
    vec![Event::VerifyStarted, verified("ok")]
}

#[test]
fn a_new_setup_starts_on_the_first_step_with_the_rest_locked_and_defaults_filled() {
    let (profile, state) = start();
    assert_eq!(state.current, "prerequisites");
    assert_eq!(state.instance, "https://acme.service-now.com");
    assert_eq!(
        state.inputs.get("service_user").map(String::as_str),
        Some("incident.io")
    );
    assert_eq!(state.status(&profile, "prerequisites"), StepStatus::Todo);
    for step in ["instance", "oauth-app", "roles", "connect"] {
        assert_eq!(state.status(&profile, step), StepStatus::Locked, "{step}");
    }
}

#[test]
fn a_locked_step_names_the_step_it_waits_for() {
    let (profile, state) = start();
    let err = apply(&profile, &state, Event::Next).unwrap_err();
    assert_eq!(
        err,
        WizardError::Locked {
            step: "instance".into(),
            needs: "prerequisites".into()
        }
    );
    let err = apply(
        &profile,
        &state,
        Event::Goto {
            step: "connect".into(),
        },
    )
    .unwrap_err();
    assert!(matches!(err, WizardError::Locked { .. }), "{err:?}");
}

#[test]
fn a_passed_verification_marks_the_step_and_moves_on_a_failed_one_stays() {
    let (profile, state) = start();
    let state = run(&profile, state, pass_current());
    assert_eq!(
        state.status(&profile, "prerequisites"),
        StepStatus::Verified
    );
    assert_eq!(state.current, "instance");
    let state = run(
        &profile,
        state,
        vec![Event::VerifyStarted, failed("asleep")],
    );
    assert_eq!(state.current, "instance");
    assert_eq!(state.status(&profile, "instance"), StepStatus::Failed);
    let view = view(&profile, &state);
    assert_eq!(
        view.current.last.as_ref().map(|l| l.message.as_str()),
        Some("asleep")
    );
    assert_eq!(view.done, 1);
}

#[test]
fn a_step_is_not_verified_twice_at_once() {
    let (profile, state) = start();
    let state = run(&profile, state, vec![Event::VerifyStarted]);
    assert_eq!(state.status(&profile, "prerequisites"), StepStatus::Running);
    assert_eq!(
        apply(&profile, &state, Event::VerifyStarted).unwrap_err(),
        WizardError::Busy
    );
    let running = view(&profile, &state);
    assert!(!running.current.actions.contains(&WizardAction::Verify));
}

fn at_oauth_app() -> (Profile, WizardState) {
    let (profile, state) = start();
    let mut events = pass_current();
    events.extend(pass_current());
    let state = run(&profile, state, events);
    assert_eq!(state.current, "oauth-app");
    (profile, state)
}

#[test]
fn verifying_needs_every_required_input_a_secret_only_as_given() {
    let (profile, state) = at_oauth_app();
    assert_eq!(
        apply(&profile, &state, Event::VerifyStarted).unwrap_err(),
        WizardError::MissingInput("Client ID".into())
    );
    let state = run(
        &profile,
        state,
        vec![Event::SetInput {
            id: "client_id".into(),
            value: "abc".into(),
        }],
    );
    assert_eq!(
        apply(&profile, &state, Event::VerifyStarted).unwrap_err(),
        WizardError::MissingInput("Client Secret".into())
    );
    let state = run(
        &profile,
        state,
        vec![Event::SecretGiven {
            id: "client_secret".into(),
        }],
    );
    assert!(apply(&profile, &state, Event::VerifyStarted).is_ok());
}

#[test]
fn a_secret_never_enters_the_state() {
    let (profile, state) = at_oauth_app();
    let err = apply(
        &profile,
        &state,
        Event::SetInput {
            id: "client_secret".into(),
            value: "s3cret".into(),
        },
    )
    .unwrap_err();
    assert_eq!(err, WizardError::SecretInState("client_secret".into()));
    let view = view(
        &profile,
        &run(
            &profile,
            state,
            vec![Event::SecretGiven {
                id: "client_secret".into(),
            }],
        ),
    );
    let secret = view.current.inputs.iter().find(|i| i.secret).unwrap();
    assert!(secret.given);
    assert_eq!(secret.value, None);
}

#[test]
fn changing_an_input_reopens_its_step_and_every_step_after_it() {
    let (profile, state) = at_oauth_app();
    // Service user, roles and ACLs verified.
    let mut events = vec![Event::Goto {
        step: "service-user".into(),
    }];
    events.push(Event::SecretGiven {
        id: "service_password".into(),
    });
    for _ in 0..3 {
        events.extend(pass_current());
    }
    let state = run(&profile, state, events);
    assert_eq!(state.status(&profile, "acls"), StepStatus::Verified);
    let state = run(
        &profile,
        state,
        vec![Event::SetInput {
            id: "service_user".into(),
            value: "someone.else".into(),
        }],
    );
    assert_eq!(state.status(&profile, "service-user"), StepStatus::Todo);
    for step in ["roles", "acls", "connect"] {
        assert_eq!(state.status(&profile, step), StepStatus::Locked, "{step}");
    }
    // The OAuth application does not depend on the user: it stays as it was.
    assert_eq!(
        state.status(&profile, "prerequisites"),
        StepStatus::Verified
    );
    // Typing the same value again changes nothing.
    let same = run(
        &profile,
        state.clone(),
        vec![Event::SetInput {
            id: "service_user".into(),
            value: "someone.else".into(),
        }],
    );
    assert_eq!(same.steps, state.steps);
}

#[test]
fn a_mandatory_step_cannot_be_skipped() {
    let (profile, state) = start();
    assert!(profile.steps[0].mandatory);
    assert_eq!(
        apply(&profile, &state, Event::Skip).unwrap_err(),
        WizardError::Mandatory("Before you start".into())
    );
}

#[test]
fn an_optional_step_is_skipped_and_its_dependents_open() {
    let mut profile = profile("incident-sync");
    profile.steps[0].mandatory = false;
    let draft = ConnectionId::random_with_prefix("c").unwrap();
    let state = WizardState::new(&profile, "acme", draft);
    let state = run(&profile, state, vec![Event::Skip]);
    assert_eq!(state.status(&profile, "prerequisites"), StepStatus::Skipped);
    assert_eq!(state.current, "instance");
    assert_eq!(state.status(&profile, "instance"), StepStatus::Todo);
}

#[test]
fn changing_the_instance_forgets_every_verification() {
    let (profile, state) = at_oauth_app();
    let state = run(
        &profile,
        state,
        vec![Event::SetInstance {
            value: "https://other.service-now.com".into(),
        }],
    );
    assert!(state.steps.is_empty());
    assert_eq!(state.status(&profile, "instance"), StepStatus::Locked);
}

#[test]
fn only_an_info_step_is_acknowledged() {
    let (profile, state) = start();
    assert_eq!(
        apply(&profile, &state, Event::Acknowledge).unwrap_err(),
        WizardError::NotInfo
    );
}

#[test]
fn the_view_fills_in_values_links_and_the_actions_the_step_offers() {
    let (profile, state) = at_oauth_app();
    let view = view(&profile, &state);
    assert_eq!(view.current.number, 3);
    assert_eq!(view.total, profile.steps.len());
    let name = view
        .current
        .values
        .iter()
        .find(|v| v.label == "Name")
        .unwrap();
    assert_eq!(name.value, "incident.io");
    let new_app = view
        .current
        .links
        .iter()
        .find(|l| l.label == "New OAuth API endpoint")
        .unwrap();
    assert_eq!(
        new_app.url,
        "https://acme.service-now.com/now/nav/ui/classic/params/target/oauth_entity.do%3Fsys_id%3D-1"
    );
    for action in [
        WizardAction::Verify,
        WizardAction::DoItForMe,
        WizardAction::HandOff,
        WizardAction::Back,
    ] {
        assert!(view.current.actions.contains(&action), "{action:?}");
    }
    assert!(!view.current.actions.contains(&WizardAction::Skip));
    assert!(
        !view
            .current
            .actions
            .contains(&WizardAction::DownloadUpdateSet)
    );
    // The step after is open (it requires only the instance), so Next is offered.
    assert!(view.current.actions.contains(&WizardAction::Next));
    let locked = view.steps.iter().find(|s| s.id == "connect").unwrap();
    assert_eq!(locked.status, StepStatus::Locked);
}

#[test]
fn a_typed_value_in_the_instructions_is_the_value_typed() {
    let (profile, state) = at_oauth_app();
    let state = run(
        &profile,
        state,
        vec![
            Event::Goto {
                step: "service-user".into(),
            },
            Event::SetInput {
                id: "service_user".into(),
                value: "svc.io".into(),
            },
        ],
    );
    let view = view(&profile, &state);
    let user = view
        .current
        .values
        .iter()
        .find(|v| v.label == "User ID")
        .unwrap();
    assert_eq!(user.value, "svc.io");
}
