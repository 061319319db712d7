//! The state machine as tables: from a state reached by some events, what one more event does
//! (the step it lands on and each step's status, or the refusal), and what the view offers. The
//! profile is a fixture of this file, so the tables stay true whatever the built-in profiles say.

use super::*;
use crate::instance::InstanceUrl;

const FIXTURE: &str = r#"
id = "fixture"
name = "Fixture"
vendor = "Test"
summary = "The wizard's own test profile."
source = "none"
vendor_actions = 9
grant = "password"
connection_name = "Fixture"
[links]
table = "incident"
label = "incidents"
[[steps]]
id = "prerequisites"
title = "Before you start"
kind = "prerequisites"
instructions = "You need an admin."
[[steps]]
id = "instance"
title = "Your instance"
kind = "instance"
requires = ["prerequisites"]
instructions = "This is {instance}."
[[steps]]
id = "oauth-app"
title = "Create the OAuth application"
kind = "oauth-app"
requires = ["instance"]
automation = true
instructions = "Name it {connection_name}."
[[steps.values]]
label = "Name"
value = "{connection_name}"
[[steps.links]]
label = "New OAuth API endpoint"
target = "oauth_entity.do?sys_id=-1"
[[steps.inputs]]
id = "client_id"
label = "Client ID"
field = "client-id"
[[steps.inputs]]
id = "client_secret"
label = "Client Secret"
field = "client-secret"
secret = true
[[steps]]
id = "service-user"
title = "Create the user"
kind = "service-user"
requires = ["instance"]
automation = true
instructions = "Create {input:service_user}."
[[steps.values]]
label = "User ID"
value = "{input:service_user}"
[[steps.inputs]]
id = "service_user"
label = "User ID"
field = "username"
default = "svc.fixture"
[[steps.inputs]]
id = "service_password"
label = "Password"
field = "password"
secret = true
[[steps]]
id = "roles"
title = "Give the user its roles"
kind = "roles"
requires = ["service-user"]
instructions = "Add itil."
[steps.verify]
roles = ["itil"]
[[steps]]
id = "notes"
title = "Optional notes"
kind = "info"
mandatory = false
requires = ["instance"]
instructions = "Read this."
[[steps]]
id = "connect"
title = "Connect and test"
kind = "connect"
requires = ["oauth-app", "roles"]
instructions = "Snowlink signs in."
"#;

use StepStatus::{Failed, Locked, Running, Skipped, Todo, Verified};

fn profile() -> Profile {
    crate::profiles::parse("fixture.toml", FIXTURE).unwrap()
}

fn fresh() -> WizardState {
    let draft = ConnectionId::random_with_prefix("c").unwrap();
    WizardState::new(
        &profile(),
        &InstanceUrl::parse(" https://acme.service-now.com ").unwrap(),
        draft,
    )
}

/// A setup the admin was let in to: "Let Snowlink in", which every setup starts with, verified.
fn start() -> WizardState {
    let profile = profile();
    pass().into_iter().fold(fresh(), |state, event| {
        apply(&profile, &state, event).unwrap()
    })
}

#[test]
fn every_setup_starts_by_letting_snowlink_in_and_what_reads_as_admin_waits_for_it() {
    let state = fresh();
    let profile = profile();
    assert_eq!(state.current, crate::profiles::admin_access::STEP_ID);
    assert_eq!(
        profile.steps[0].kind,
        crate::profiles::StepKind::AdminAccess
    );
    assert_eq!(state.status(&profile, "prerequisites"), Locked);
    for step in profile.steps.iter().filter(|s| s.kind.reads_as_admin()) {
        let waits = step.id == crate::profiles::admin_access::STEP_ID
            || step
                .requires
                .iter()
                .any(|r| r == crate::profiles::admin_access::STEP_ID);
        assert!(waits, "{} does not wait for the admin", step.id);
    }
    let shown = view(&profile, &state);
    assert!(shown.current.actions.contains(&WizardAction::SignInAdmin));
    assert!(
        shown
            .current
            .values
            .iter()
            .any(|v| v.label == "Redirect URL" && v.value.contains("127.0.0.1:8765/callback")),
        "{:?}",
        shown.current.values
    );
}

fn passed() -> Event {
    Event::VerifyFinished {
        verification: Verification::from_checks(Vec::new(), "ok"),
    }
}

fn failed() -> Event {
    Event::VerifyFinished {
        verification: Verification::refused("asleep"),
    }
}

fn set(id: &str, value: &str) -> Event {
    Event::SetInput {
        id: id.into(),
        value: value.into(),
    }
}

fn given(id: &str) -> Event {
    Event::SecretGiven { id: id.into() }
}

fn goto(step: &str) -> Event {
    Event::Goto { step: step.into() }
}

/// Events that verify the current step.
fn pass() -> [Event; 2] {
    [Event::VerifyStarted, passed()]
}

/// The events that reach the OAuth application step with the first two steps verified.
fn to_oauth_app() -> Vec<Event> {
    [pass(), pass()].concat()
}

/// The events that also verify the service user and its roles.
fn to_roles_done() -> Vec<Event> {
    let mut events = to_oauth_app();
    events.extend([goto("service-user"), given("service_password")]);
    events.extend(pass());
    events.extend(pass());
    events
}

/// The state after `events`, failing the test on a refused one.
fn after(events: &[Event]) -> WizardState {
    let profile = profile();
    events.iter().fold(start(), |state, event| {
        apply(&profile, &state, event.clone()).unwrap_or_else(|err| panic!("{event:?}: {err}"))
    })
}

/// What an event is expected to do.
enum Then {
    /// It lands on `current` with these steps in these states.
    Lands {
        current: &'static str,
        statuses: &'static [(&'static str, StepStatus)],
    },
    Refused(WizardError),
}

struct Case {
    name: &'static str,
    before: Vec<Event>,
    event: Event,
    then: Then,
}

#[test]
fn each_event_lands_where_the_table_says_or_is_refused_with_why() {
    let cases = vec![
        Case {
            name: "a new setup is on its first step, the rest locked",
            before: vec![],
            event: Event::SetConnectionName {
                value: "Fixture".into(),
            },
            then: Then::Lands {
                current: "prerequisites",
                statuses: &[
                    ("prerequisites", Todo),
                    ("instance", Locked),
                    ("oauth-app", Locked),
                    ("connect", Locked),
                ],
            },
        },
        Case {
            name: "a mandatory step cannot be skipped",
            before: vec![],
            event: Event::Skip,
            then: Then::Refused(WizardError::Mandatory("Before you start".into())),
        },
        Case {
            name: "next names the step it waits for",
            before: vec![],
            event: Event::Next,
            then: Then::Refused(WizardError::Locked {
                step: "instance".into(),
                needs: "prerequisites".into(),
            }),
        },
        Case {
            name: "a locked step cannot be gone to",
            before: vec![],
            event: goto("connect"),
            then: Then::Refused(WizardError::Locked {
                step: "connect".into(),
                needs: "oauth-app".into(),
            }),
        },
        Case {
            name: "a passed verification moves on",
            before: vec![Event::VerifyStarted],
            event: passed(),
            then: Then::Lands {
                current: "instance",
                statuses: &[("prerequisites", Verified), ("instance", Todo)],
            },
        },
        Case {
            name: "a failed verification stays",
            before: vec![Event::VerifyStarted, passed(), Event::VerifyStarted],
            event: failed(),
            then: Then::Lands {
                current: "instance",
                statuses: &[("prerequisites", Verified), ("instance", Failed)],
            },
        },
        Case {
            name: "a step is not verified twice at once",
            before: vec![Event::VerifyStarted],
            event: Event::VerifyStarted,
            then: Then::Refused(WizardError::Busy),
        },
        Case {
            name: "a step being verified shows as running",
            before: vec![],
            event: Event::VerifyStarted,
            then: Then::Lands {
                current: "prerequisites",
                statuses: &[("prerequisites", Running)],
            },
        },
        Case {
            name: "verifying needs every required input",
            before: to_oauth_app(),
            event: Event::VerifyStarted,
            then: Then::Refused(WizardError::MissingInput("Client ID".into())),
        },
        Case {
            name: "a secret counts only once given",
            before: [to_oauth_app(), vec![set("client_id", "abc")]].concat(),
            event: Event::VerifyStarted,
            then: Then::Refused(WizardError::MissingInput("Client Secret".into())),
        },
        Case {
            name: "with every input, verifying starts",
            before: [
                to_oauth_app(),
                vec![set("client_id", "abc"), given("client_secret")],
            ]
            .concat(),
            event: Event::VerifyStarted,
            then: Then::Lands {
                current: "oauth-app",
                statuses: &[("oauth-app", Running)],
            },
        },
        Case {
            name: "a secret never enters the state",
            before: to_oauth_app(),
            event: set("client_secret", "s3cret"),
            then: Then::Refused(WizardError::SecretInState("client_secret".into())),
        },
        Case {
            name: "an unknown input is refused",
            before: vec![],
            event: set("nonsense", "x"),
            then: Then::Refused(WizardError::UnknownInput("nonsense".into())),
        },
        Case {
            name: "only an info step is acknowledged",
            before: vec![],
            event: Event::Acknowledge,
            then: Then::Refused(WizardError::NotInfo),
        },
        Case {
            name: "an optional step is skipped; a locked next step is not entered",
            before: [to_oauth_app(), vec![goto("notes")]].concat(),
            event: Event::Skip,
            then: Then::Lands {
                current: "notes",
                statuses: &[("notes", Skipped), ("connect", Locked)],
            },
        },
        Case {
            name: "changing an input reopens its step and every step after it",
            before: to_roles_done(),
            event: set("service_user", "someone.else"),
            then: Then::Lands {
                current: "notes",
                statuses: &[
                    ("prerequisites", Verified),
                    ("instance", Verified),
                    ("service-user", Todo),
                    ("roles", Locked),
                    ("connect", Locked),
                ],
            },
        },
        Case {
            name: "typing the same value again changes nothing",
            before: [to_roles_done(), vec![set("service_user", "other")]].concat(),
            event: set("service_user", "other"),
            then: Then::Lands {
                current: "notes",
                statuses: &[("service-user", Todo), ("roles", Locked)],
            },
        },
        Case {
            name: "changing the instance forgets every verification",
            before: to_oauth_app(),
            event: Event::SetInstance {
                value: "https://other.service-now.com".into(),
            },
            then: Then::Lands {
                current: "oauth-app",
                statuses: &[
                    ("snowlink-access", Todo),
                    ("prerequisites", Locked),
                    ("instance", Locked),
                ],
            },
        },
        Case {
            name: "back from the first step is refused",
            before: vec![Event::Back],
            event: Event::Back,
            then: Then::Refused(WizardError::NoMove("first")),
        },
    ];
    let profile = profile();
    for case in cases {
        let before = after(&case.before);
        let result = apply(&profile, &before, case.event);
        match (result, case.then) {
            (Ok(state), Then::Lands { current, statuses }) => {
                assert_eq!(state.current, current, "{}", case.name);
                for (step, status) in statuses {
                    assert_eq!(
                        state.status(&profile, step),
                        *status,
                        "{}: {step}",
                        case.name
                    );
                }
            }
            (Err(err), Then::Refused(expected)) => assert_eq!(err, expected, "{}", case.name),
            (Ok(state), Then::Refused(expected)) => {
                panic!(
                    "{}: expected {expected:?}, landed on {}",
                    case.name, state.current
                )
            }
            (Err(err), Then::Lands { current, .. }) => {
                panic!(
                    "{}: expected to land on {current}, refused: {err}",
                    case.name
                )
            }
        }
    }
}

#[test]
fn an_instance_with_a_password_in_it_is_refused_without_echoing_it() {
    let state = after(&to_oauth_app());
    let err = apply(
        &profile(),
        &state,
        Event::SetInstance {
            value: "https://admin:Hunter2-pw@acme.service-now.com".into(),
        },
    )
    .unwrap_err();
    assert!(matches!(err, WizardError::Instance(_)), "{err}");
    assert!(!err.to_string().contains("Hunter2"), "{err}");
    assert!(!err.hint().contains("Hunter2"), "{}", err.hint());
}

#[test]
fn a_new_setup_keeps_the_instance_as_written_and_fills_defaults() {
    let state = start();
    assert_eq!(state.instance, "https://acme.service-now.com");
    assert_eq!(
        state.inputs.get("service_user").map(String::as_str),
        Some("svc.fixture")
    );
    assert!(state.secrets.is_empty());
}

#[test]
fn the_view_offers_what_each_step_allows() {
    use WizardAction::*;
    // (events before, actions offered, actions not offered)
    let cases: Vec<(Vec<Event>, Vec<WizardAction>, Vec<WizardAction>)> = vec![
        (
            vec![],
            vec![Verify, HandOff, Back],
            vec![Next, Skip, DoItForMe, SignInAdmin],
        ),
        (
            vec![Event::Back],
            vec![Verify, SignInAdmin, HandOff],
            vec![Back, Skip, DoItForMe],
        ),
        (
            to_oauth_app(),
            vec![Verify, DoItForMe, HandOff, Back, Next],
            vec![Skip, DownloadUpdateSet, Acknowledge],
        ),
        (vec![Event::VerifyStarted], vec![], vec![Verify, Skip]),
        (
            [to_oauth_app(), vec![goto("notes")]].concat(),
            vec![Acknowledge, Skip, Back],
            vec![Verify, HandOff, DoItForMe],
        ),
    ];
    let profile = profile();
    for (events, offered, withheld) in cases {
        let shown = view(&profile, &after(&events));
        for action in offered {
            assert!(
                shown.current.actions.contains(&action),
                "{action:?} on {}",
                shown.current.id
            );
        }
        for action in withheld {
            assert!(
                !shown.current.actions.contains(&action),
                "{action:?} on {}",
                shown.current.id
            );
        }
    }
}

#[test]
fn the_view_fills_in_values_links_and_what_was_typed() {
    let profile = profile();
    let shown = view(&profile, &after(&to_oauth_app()));
    assert_eq!(shown.current.number, 4);
    assert_eq!(shown.total, profile.steps.len());
    assert_eq!(shown.current.values[0].value, "Fixture");
    assert_eq!(
        shown.current.links[0].url,
        "https://acme.service-now.com/nav_to.do?uri=oauth_entity.do%3Fsys_id%3D-1"
    );
    assert!(
        shown.current.by_hand,
        "the admin creates it on the instance"
    );
    let connect = shown.steps.iter().find(|s| s.id == "connect").unwrap();
    assert_eq!(connect.status, Locked);
    assert!(!connect.reachable);
    assert!(
        shown
            .steps
            .iter()
            .any(|s| s.id == "service-user" && s.reachable)
    );

    let shown = view(
        &profile,
        &after(
            &[
                to_oauth_app(),
                vec![goto("service-user"), set("service_user", "svc.io")],
            ]
            .concat(),
        ),
    );
    assert_eq!(shown.current.values[0].value, "svc.io");
    assert_eq!(shown.current.instructions, "Create svc.io.");
    let secret = shown.current.inputs.iter().find(|i| i.secret).unwrap();
    assert!(!secret.given);
    assert_eq!(secret.value, None);
    assert_eq!(secret.env_var.as_deref(), Some("SNOWLINK_PASSWORD"));
    let secret_given = view(
        &profile,
        &after(
            &[
                to_oauth_app(),
                vec![goto("service-user"), given("service_password")],
            ]
            .concat(),
        ),
    );
    let secret = secret_given
        .current
        .inputs
        .iter()
        .find(|i| i.secret)
        .unwrap();
    assert!(secret.given);
    assert_eq!(secret.value, None, "a secret's value is never in the view");
}

#[test]
fn a_failed_verification_is_in_the_view_and_counts_nothing_done() {
    let profile = profile();
    let shown = view(
        &profile,
        &after(&[
            Event::VerifyStarted,
            passed(),
            Event::VerifyStarted,
            failed(),
        ]),
    );
    assert_eq!(
        shown.current.last.as_ref().map(|l| l.message.as_str()),
        Some("asleep")
    );
    assert_eq!(shown.done, 2);
}
