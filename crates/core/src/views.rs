//! What the app and the CLI render of a connection, decided once here: its card
//! ([`ConnectionView`]: badge, summary, the actions that apply, whether it is a problem) and what
//! to say when it was edited, removed, or its tokens could not be revoked.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::api::LinkedIdentity;
use crate::connections::{Connection, ConnectionState};
use crate::grants::GrantKind;

/// How a badge looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(rename_all = "kebab-case")]
pub enum Tone {
    Ok,
    Warn,
    Bad,
    Neutral,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Badge {
    pub label: String,
    pub tone: Tone,
}

/// What can be done with a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(rename_all = "kebab-case")]
pub enum ConnectionAction {
    /// Check it live now.
    Check,
    /// Link the person's own account (browser sign-in).
    Link,
    /// Link again after the saved sign-in died.
    Relink,
    /// Revoke and forget the linked account's tokens.
    Unlink,
    /// Change its settings or rotate a secret, then test it live ("Save and test").
    Edit,
    /// Delete the connection and its secrets.
    Remove,
    /// Run the layered diagnosis (offered when something is wrong).
    Diagnose,
}

/// A connection as the Connections screen and `snowlink status` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ConnectionView {
    pub id: String,
    pub name: String,
    pub instance: String,
    pub profile_id: String,
    pub grant: GrantKind,
    pub grant_label: String,
    /// The OAuth client id (the Application Registry entry's), not a secret.
    pub client_id: Option<String>,
    /// The user name the grant signs in with (password and basic grants).
    pub username: Option<String>,
    pub state: ConnectionState,
    pub badge: Badge,
    pub identity: Option<LinkedIdentity>,
    /// One line under the name: who it acts as, or why it is in its state.
    pub summary: String,
    pub last_checked: Option<DateTime<Utc>>,
    pub token_expires_at: Option<DateTime<Utc>>,
    /// When the refresh token stops working (its first issue plus ServiceNow's default
    /// lifespan; it is never extended): the person signs in again by then.
    pub refresh_token_ends_at: Option<DateTime<Utc>>,
    /// What that end means for this grant.
    pub refresh_token_note: Option<String>,
    pub actions: Vec<ConnectionAction>,
    /// Whether the connection needs attention (the CLI exits 1 for it).
    pub problem: bool,
    /// The records linked to the integration, by state, at the last check.
    pub linked: Option<crate::connections::LinkedRecords>,
}

impl ConnectionView {
    pub fn of(connection: &Connection) -> Self {
        let state = effective_state(connection);
        let status = &connection.status;
        let (label, tone) = match state {
            ConnectionState::Connected => ("Connected", Tone::Ok),
            ConnectionState::Degraded => ("Degraded", Tone::Warn),
            ConnectionState::Disconnected => ("Disconnected", Tone::Bad),
            ConnectionState::RelinkNeeded => ("Re-link needed", Tone::Bad),
            ConnectionState::NotLinked => ("Not linked", Tone::Neutral),
        };
        let summary = match (&connection.linked_identity, &status.reason, state) {
            (None, _, ConnectionState::NotLinked) => {
                "No account is linked yet: each person links their own.".into()
            }
            (_, Some(reason), s) if s != ConnectionState::Connected => reason.clone(),
            (Some(identity), ..) => format!("Signed in as {}", identity.user_name),
            (None, ..) if status.last_checked.is_none() => "Not checked yet.".into(),
            (None, ..) => "Checked; no identity was reported.".into(),
        };
        Self {
            id: connection.id.to_string(),
            name: connection.display_name.clone(),
            instance: connection.instance.to_string(),
            profile_id: connection.profile_id.clone(),
            grant: connection.grant,
            grant_label: connection.grant.label().into(),
            client_id: connection.client_id.clone(),
            username: connection.username.clone(),
            state,
            badge: Badge {
                label: label.into(),
                tone,
            },
            identity: connection.linked_identity.clone(),
            summary,
            last_checked: status.last_checked,
            token_expires_at: status.token_expires_at,
            refresh_token_ends_at: status
                .refresh_issued_at
                .map(crate::oauth::refresh_token_end),
            refresh_token_note: status.refresh_issued_at.map(|_| {
                match connection.grant {
                    GrantKind::Password => "then renewed with the stored password",
                    _ => "link the account again by then",
                }
                .into()
            }),
            actions: actions(connection, state),
            problem: matches!(
                state,
                ConnectionState::Degraded
                    | ConnectionState::Disconnected
                    | ConnectionState::RelinkNeeded
            ),
            linked: status.linked.clone(),
        }
    }
}

/// A browser sign-in connection with no account is "not linked" whatever an older file said.
fn effective_state(connection: &Connection) -> ConnectionState {
    if connection.awaits_link() && connection.status.state != ConnectionState::RelinkNeeded {
        ConnectionState::NotLinked
    } else {
        connection.status.state
    }
}

/// What to say when the instance did not confirm a revocation (unlink, remove): the tokens
/// are gone from this computer either way.
pub fn unrevoked_warning(err: &crate::oauth::OAuthError) -> String {
    format!(
        "The instance did not confirm that the tokens are revoked ({err}); they were deleted from \
         this computer anyway. {}",
        err.hint()
    )
}

/// What to say once a connection signed in and was saved (`Connected …`) or a person linked
/// their account to it (`Linked …`): who it acts as, on which instance.
pub fn signed_in_message(connection: &Connection, linked: bool) -> String {
    let who = connection
        .linked_identity
        .as_ref()
        .map(|i| format!(" as {} ({})", i.user_name, i.sys_id))
        .unwrap_or_default();
    format!(
        "{} {} to {}{who}.",
        if linked { "Linked" } else { "Connected" },
        connection.display_name,
        connection.instance
    )
}

/// What to say once a person unlinked their account.
pub fn unlinked_message(connection: &Connection) -> String {
    format!(
        "Unlinked {}: its tokens are deleted from the keyring.",
        connection.display_name
    )
}

/// What to say once an edit is saved and tested.
pub fn edited_message(connection: &Connection) -> String {
    match &connection.linked_identity {
        Some(identity) => format!(
            "Saved {}: the new settings signed in as {}.",
            connection.display_name, identity.user_name
        ),
        None => format!(
            "Saved {}: no account is linked; each person links their own.",
            connection.display_name
        ),
    }
}

/// What to say once a connection is removed.
pub fn removed_message(connection: &Connection) -> String {
    format!(
        "Removed {}: its secrets are deleted from the keyring.",
        connection.display_name
    )
}

fn actions(connection: &Connection, state: ConnectionState) -> Vec<ConnectionAction> {
    let mut actions = Vec::new();
    if state != ConnectionState::NotLinked {
        actions.push(ConnectionAction::Check);
    }
    if connection.grant == GrantKind::AuthCode {
        match (state, &connection.linked_identity) {
            (ConnectionState::RelinkNeeded, _) => actions.push(ConnectionAction::Relink),
            (_, None) => actions.push(ConnectionAction::Link),
            (_, Some(_)) => {}
        }
        if connection.linked_identity.is_some() {
            actions.push(ConnectionAction::Unlink);
        }
    }
    if matches!(
        state,
        ConnectionState::Degraded | ConnectionState::Disconnected | ConnectionState::RelinkNeeded
    ) {
        actions.push(ConnectionAction::Diagnose);
    }
    actions.push(ConnectionAction::Edit);
    actions.push(ConnectionAction::Remove);
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connections::ConnectionStatus;
    use crate::ids::ConnectionId;
    use crate::instance::InstanceUrl;

    fn connection(grant: GrantKind, linked: bool, state: ConnectionState) -> Connection {
        Connection {
            id: ConnectionId::parse("c-1").unwrap(),
            display_name: "Acme".into(),
            instance: InstanceUrl::parse("acme").unwrap(),
            profile_id: "custom".into(),
            grant,
            client_id: Some("client".into()),
            username: None,
            linked_identity: linked.then(|| {
                LinkedIdentity::from_instance("abel.tuter", "62826bf03710200044e0bfc8bcbe5df1")
                    .unwrap()
            }),
            status: ConnectionStatus {
                state,
                reason: (state != ConnectionState::Connected).then(|| "Why.".into()),
                ..ConnectionStatus::default()
            },
        }
    }

    #[test]
    fn the_refresh_token_ends_a_lifespan_after_it_was_first_issued() {
        let mut saved = connection(GrantKind::AuthCode, true, ConnectionState::Connected);
        assert_eq!(ConnectionView::of(&saved).refresh_token_ends_at, None);
        let issued = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        saved.status.refresh_issued_at = Some(issued);
        let ends = ConnectionView::of(&saved).refresh_token_ends_at.unwrap();
        assert_eq!(ends.to_rfc3339(), "2026-04-11T00:00:00+00:00");
        let note = ConnectionView::of(&saved).refresh_token_note.unwrap();
        assert!(note.contains("link the account again"), "{note}");
        saved.grant = GrantKind::Password;
        let note = ConnectionView::of(&saved).refresh_token_note.unwrap();
        assert!(note.contains("stored password"), "{note}");
    }

    #[test]
    fn the_view_carries_the_configuration_but_no_secret() {
        let mut saved = connection(GrantKind::Password, true, ConnectionState::Connected);
        saved.username = Some("svc.sync".into());
        let view = ConnectionView::of(&saved);
        assert_eq!(view.client_id.as_deref(), Some("client"));
        assert_eq!(view.username.as_deref(), Some("svc.sync"));
        let json = serde_json::to_string(&view).unwrap();
        assert!(!json.to_lowercase().contains("secret"), "{json}");
    }

    #[test]
    fn badges_actions_and_problems_follow_the_state() {
        use ConnectionAction::*;
        use ConnectionState::*;
        let cases = [
            (
                GrantKind::AuthCode,
                false,
                Disconnected,
                "Not linked",
                vec![Link, Edit, Remove],
                false,
            ),
            (
                GrantKind::AuthCode,
                true,
                Connected,
                "Connected",
                vec![Check, Unlink, Edit, Remove],
                false,
            ),
            (
                GrantKind::AuthCode,
                true,
                RelinkNeeded,
                "Re-link needed",
                vec![Check, Relink, Unlink, Diagnose, Edit, Remove],
                true,
            ),
            (
                GrantKind::Basic,
                false,
                Disconnected,
                "Disconnected",
                vec![Check, Diagnose, Edit, Remove],
                true,
            ),
            (
                GrantKind::Password,
                true,
                Degraded,
                "Degraded",
                vec![Check, Diagnose, Edit, Remove],
                true,
            ),
        ];
        for (grant, linked, state, label, expected, problem) in cases {
            let view = ConnectionView::of(&connection(grant, linked, state));
            assert_eq!(view.badge.label, label, "{grant} {state:?}");
            assert_eq!(view.actions, expected, "{grant} {state:?}");
            assert_eq!(view.problem, problem, "{grant} {state:?}");
        }
    }

    #[test]
    fn the_summary_says_who_or_why() {
        let view = ConnectionView::of(&connection(
            GrantKind::AuthCode,
            true,
            ConnectionState::Connected,
        ));
        assert_eq!(view.summary, "Signed in as abel.tuter");
        let view = ConnectionView::of(&connection(
            GrantKind::Basic,
            false,
            ConnectionState::Disconnected,
        ));
        assert_eq!(view.summary, "Why.");
        let view = ConnectionView::of(&connection(
            GrantKind::AuthCode,
            false,
            ConnectionState::NotLinked,
        ));
        assert!(
            view.summary.contains("No account is linked"),
            "{}",
            view.summary
        );
    }
}
