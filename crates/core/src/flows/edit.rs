//! Editing a saved connection and proving it still works ("Save and test"): the new settings
//! and secrets sign in before anything is kept, so a change that does not work leaves the
//! connection, its secrets and its tokens exactly as they were. A secret left empty keeps the
//! stored one, so rotating a client secret is typing the new one. Each step is reported as it
//! starts and ends, for the app's progress list and the CLI's lines.

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::connect::{Draft, SignedIn, oauth_client, require_inputs, sign_in_unattended};
use super::progress::{Progress, Reporter, TestEvent, TestStatus, TestStep, event};
use super::{ConnectRequest, FlowError, Flows, ProvidedSecrets, identify, link_spec};
use crate::api::SnowClient;
use crate::checks::count_linked;
use crate::connections::{Connection, ConnectionState};
use crate::errors::InputField;
use crate::grants::GrantKind;
use crate::ids::ConnectionId;
use crate::oauth::OAuthError;
use crate::secrets::{RefreshToken, Secret, SecretStoreExt};

/// What an edit changes; `None` keeps the saved value. Secrets travel separately.
#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct Changes {
    pub name: Option<String>,
    pub client_id: Option<String>,
    pub username: Option<String>,
}

/// `saved` with the changes applied (trimmed; an empty optional value clears it), under a name
/// none of the others in `all` has.
fn changed(
    saved: &Connection,
    all: &[Connection],
    changes: Changes,
) -> Result<Connection, FlowError> {
    let mut connection = saved.clone();
    let cleaned = |value: String| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    if let Some(name) = changes.name {
        connection.display_name = name.trim().to_owned();
    }
    if let Some(client_id) = changes.client_id {
        connection.client_id = cleaned(client_id);
    }
    if let Some(username) = changes.username {
        connection.username = cleaned(username);
    }
    let taken = all
        .iter()
        .any(|c| c.id != saved.id && c.display_name == connection.display_name);
    if taken {
        return Err(FlowError::InvalidInput {
            field: InputField::ConnectionName,
            reason: format!(
                "another connection is already called \"{}\"; choose another name",
                crate::text::untrusted(&connection.display_name, 100)
            ),
        });
    }
    Ok(connection)
}

/// One field of the edit form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct EditField {
    pub field: InputField,
    pub label: String,
    /// The saved value; always empty for a secret.
    pub value: String,
    pub secret: bool,
    pub required: bool,
    /// For a secret: whether the keyring holds one now.
    pub stored: bool,
    /// What an empty field means.
    pub placeholder: String,
}

/// The edit form of a connection: its fields in the order to ask them, what saving does, and
/// the steps "Save and test" will report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct EditView {
    pub id: String,
    pub name: String,
    pub instance: String,
    pub grant_label: String,
    pub fields: Vec<EditField>,
    pub note: String,
    pub steps: Vec<TestEvent>,
}

impl Flows {
    /// The edit form of the connection `id`: saved values, and which secrets the keyring holds.
    pub async fn edit_form(&self, id: &str) -> Result<EditView, FlowError> {
        let connection = self.find(Some(id))?;
        let grant = connection.grant;
        let mut fields = vec![EditField {
            field: InputField::ConnectionName,
            label: sentence_case(InputField::ConnectionName.label()),
            value: connection.display_name.clone(),
            secret: false,
            required: true,
            stored: false,
            placeholder: String::new(),
        }];
        for input in grant.inputs() {
            let kind = input.field.secret_kind();
            let stored = match kind {
                Some(kind) => self.secrets.get(&connection.id, kind).await?.is_some(),
                None => false,
            };
            let placeholder = match (kind, stored, input.required) {
                (None, ..) => String::new(),
                (Some(_), true, _) => "Kept in the keyring; type a new one to replace it".into(),
                (Some(_), false, false) => "None (a public client)".into(),
                (Some(_), false, true) => "Not in the keyring: type it".into(),
            };
            fields.push(EditField {
                field: input.field,
                label: sentence_case(input.field.label()),
                value: match input.field {
                    InputField::ClientId => connection.client_id.clone().unwrap_or_default(),
                    InputField::Username => connection.username.clone().unwrap_or_default(),
                    _ => String::new(),
                },
                secret: kind.is_some(),
                required: input.required,
                stored,
                placeholder,
            });
        }
        let note = match (grant, connection.linked_identity.is_some()) {
            (GrantKind::AuthCode, true) => {
                "Save and test refreshes the linked account's token with these settings. A new \
                 client ID unlinks the account: each person links again."
            }
            (GrantKind::AuthCode, false) => {
                "No account is linked, so there is nothing to sign in with: the settings are \
                 saved and each person links their own account."
            }
            _ => {
                "Save and test signs in with these settings first; if that fails, nothing is \
                 changed."
            }
        };
        Ok(EditView {
            id: connection.id.to_string(),
            name: connection.display_name.clone(),
            instance: connection.instance.to_string(),
            grant_label: grant.label().into(),
            fields,
            note: note.into(),
            steps: TestStep::ALL
                .into_iter()
                .map(|step| event(step, grant, TestStatus::Pending, None))
                .collect(),
        })
    }

    /// Changes the connection `id` and tests it live: sign in with the new settings and the
    /// secrets in `fresh` (the stored ones where it has none), ask who that is, and only then
    /// keep everything and count the linked records. A browser sign-in connection is refreshed
    /// with its saved token; a new client ID unlinks it instead (its tokens belong to the old
    /// client), as does editing one that has no account linked.
    pub async fn edit(
        &self,
        id: &str,
        changes: Changes,
        fresh: ProvidedSecrets,
        progress: Progress<'_>,
    ) -> Result<Connection, FlowError> {
        let all = self.list()?;
        let saved = super::find_in(&all, Some(id))?;
        let connection = changed(&saved, &all, changes)?;
        let secrets = self.with_stored(&connection, fresh).await?;
        require_inputs(&ConnectRequest::of(&connection), &secrets)?;
        let report = Reporter {
            progress,
            grant: connection.grant,
        };

        report
            .run(
                TestStep::Keyring,
                async { Ok(self.secrets.probe().await?) },
                |_| None,
            )
            .await?;
        let unlinks = connection.grant == GrantKind::AuthCode
            && (saved.linked_identity.is_none() || saved.client_id != connection.client_id);
        if unlinks {
            return self
                .save_unlinked(&saved, connection, &secrets, &report)
                .await;
        }
        let signed_in = report
            .run(
                TestStep::SignIn,
                self.sign_in_again(&saved, &connection, &secrets),
                |_| None,
            )
            .await?;
        let auth = signed_in.auth.clone();
        let identity = report
            .run(
                TestStep::Identify,
                identify(&connection.instance, &auth),
                |identity| Some(format!("Signed in as {}", identity.user_name)),
            )
            .await?;
        let user_name = identity.user_name.clone();
        let draft = Draft {
            connection,
            replaces: true,
        };
        let mut connection = report
            .run(
                TestStep::Save,
                self.save(draft, &secrets, signed_in, identity),
                |_| None,
            )
            .await?;

        report.send(TestStep::Count, TestStatus::Running, None);
        let spec = match link_spec(self.connections.path(), &connection) {
            Ok(spec) => spec,
            Err(problem) => {
                report.send(
                    TestStep::Count,
                    TestStatus::Skipped,
                    Some(problem.to_string()),
                );
                return Ok(connection);
            }
        };
        let counted = match SnowClient::new(connection.instance.clone(), auth) {
            Ok(client) => count_linked(&client, &spec, &user_name).await,
            Err(err) => Err(err),
        };
        match counted {
            Ok(linked) => {
                report.send(
                    TestStep::Count,
                    TestStatus::Done,
                    Some(format!("{} {}", linked.total, linked.label)),
                );
                connection.status.linked = Some(linked);
                self.connections.upsert(connection.clone())?;
            }
            // The counts are extra: the connection works without them.
            Err(err) => report.send(TestStep::Count, TestStatus::Skipped, Some(err.to_string())),
        }
        Ok(connection)
    }

    /// The secrets the grant takes: the fresh ones, else what the keyring holds.
    async fn with_stored(
        &self,
        connection: &Connection,
        fresh: ProvidedSecrets,
    ) -> Result<ProvidedSecrets, FlowError> {
        let id = &connection.id;
        let takes = |field| connection.grant.takes(field);
        let secret_fields = [
            InputField::ClientSecret,
            InputField::Password,
            InputField::ApiKey,
        ];
        if let Some(field) = secret_fields
            .into_iter()
            .find(|&field| fresh.has(field) && !takes(field))
        {
            return Err(FlowError::InvalidInput {
                field,
                reason: format!(
                    "the {} sign-in of \"{}\" takes none",
                    connection.grant, connection.display_name
                ),
            });
        }
        Ok(ProvidedSecrets {
            client_secret: self
                .fresh_or_stored(id, takes(InputField::ClientSecret), fresh.client_secret)
                .await?,
            password: self
                .fresh_or_stored(id, takes(InputField::Password), fresh.password)
                .await?,
            api_key: self
                .fresh_or_stored(id, takes(InputField::ApiKey), fresh.api_key)
                .await?,
        })
    }

    /// `fresh` when given, else the keyring's; nothing for a secret the grant does not take.
    async fn fresh_or_stored<S: Secret>(
        &self,
        id: &ConnectionId,
        taken: bool,
        fresh: Option<S>,
    ) -> Result<Option<S>, FlowError> {
        Ok(match (taken, fresh) {
            (false, _) => None,
            (true, Some(fresh)) => Some(fresh),
            (true, None) => self.secrets.load::<S>(id).await?,
        })
    }

    /// Signs in with the edited connection: its grant again, or, for a browser sign-in, a
    /// refresh of the saved token with the (maybe new) client secret.
    async fn sign_in_again(
        &self,
        saved: &Connection,
        connection: &Connection,
        secrets: &ProvidedSecrets,
    ) -> Result<SignedIn, FlowError> {
        if connection.grant != GrantKind::AuthCode {
            return sign_in_unattended(connection, secrets).await;
        }
        let refresh = self
            .secrets
            .load::<RefreshToken>(&saved.id)
            .await?
            .ok_or(OAuthError::RelinkNeeded)?;
        let client = oauth_client(connection, secrets.client_secret.clone())?;
        let mut tokens = client.refresh(&refresh).await?;
        let renewed = tokens.renews(Some(&refresh));
        // A refresh answer without a refresh token leaves the saved one valid: keep it.
        tokens.refresh_token.get_or_insert(refresh);
        let signed_in = SignedIn::with_new(tokens);
        Ok(SignedIn {
            refresh_since: if renewed {
                signed_in.refresh_since
            } else {
                saved.status.refresh_issued_at
            },
            ..signed_in
        })
    }

    /// Keeps a browser sign-in connection's new settings with no account linked: the old
    /// client's tokens are revoked (best effort) and deleted.
    async fn save_unlinked(
        &self,
        saved: &Connection,
        mut connection: Connection,
        secrets: &ProvidedSecrets,
        report: &Reporter<'_>,
    ) -> Result<Connection, FlowError> {
        let why = if saved.linked_identity.is_some() {
            "The client ID changed: the account is unlinked and each person links again."
        } else {
            "No account is linked: each person links their own."
        };
        report.send(TestStep::SignIn, TestStatus::Skipped, Some(why.into()));
        report.send(TestStep::Identify, TestStatus::Skipped, None);
        let kept = async {
            // The revocation's failure is no reason to keep the old tokens here.
            let _ = self.revoke_tokens(saved).await?;
            self.store_secrets(&connection.id, secrets, None).await?;
            connection.linked_identity = None;
            connection.status = crate::connections::ConnectionStatus {
                state: ConnectionState::NotLinked,
                last_checked: Some(Utc::now()),
                reason: saved.linked_identity.is_some().then(|| why.into()),
                ..Default::default()
            };
            self.connections.upsert(connection.clone())?;
            Ok(connection)
        };
        let connection = report.run(TestStep::Save, kept, |_| None).await?;
        report.send(TestStep::Count, TestStatus::Skipped, None);
        Ok(connection)
    }
}

impl ConnectRequest {
    /// The request that would make `connection` as it is.
    pub fn of(connection: &Connection) -> Self {
        Self {
            name: connection.display_name.clone(),
            instance: connection.instance.clone(),
            grant: connection.grant,
            client_id: connection.client_id.clone(),
            username: connection.username.clone(),
            profile_id: connection.profile_id.clone(),
        }
    }
}

/// "the client ID" → "Client ID".
fn sentence_case(label: &str) -> String {
    crate::text::capitalized(label.trim_start_matches("the "))
}
