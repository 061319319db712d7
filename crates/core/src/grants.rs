//! How a connection signs in ([`GrantKind`]) and what each way needs from the person
//! ([`GrantKind::inputs`]): the one table the CLI, the app and the wizard read, so which grant
//! needs which secret is decided here only. Grant names are spelled here once, and so is where
//! each secret [`InputField`] is kept and which variable gives it.

use serde::{Deserialize, Serialize};

use crate::env;
use crate::errors::InputField;
use crate::secrets::SecretKind;

/// How a connection signs in to ServiceNow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(rename_all = "kebab-case")]
pub enum GrantKind {
    /// OAuth authorization code + PKCE in the system browser.
    AuthCode,
    /// OAuth resource owner password grant.
    Password,
    /// OAuth client credentials (ServiceNow Washington DC and later).
    ClientCredentials,
    /// HTTP Basic with user name and password.
    Basic,
    /// User name and an API key sent like a password.
    ApiKey,
}

impl InputField {
    /// The keyring entry a secret field is kept in; `None` for fields that are not secret.
    pub fn secret_kind(self) -> Option<SecretKind> {
        match self {
            Self::ClientSecret => Some(SecretKind::ClientSecret),
            Self::Password => Some(SecretKind::Password),
            Self::ApiKey => Some(SecretKind::ApiKey),
            _ => None,
        }
    }

    /// The environment variable a secret field may be read from (scripts, support sessions).
    pub fn env_var(self) -> Option<&'static str> {
        match self {
            Self::ClientSecret => Some(env::CLIENT_SECRET),
            Self::Password => Some(env::PASSWORD),
            Self::ApiKey => Some(env::API_KEY),
            _ => None,
        }
    }
}

/// One input a grant takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantInput {
    pub field: InputField,
    /// `false` only for the client secret of a browser sign-in: public clients (PKCE only,
    /// ServiceNow Zurich and later) have none.
    pub required: bool,
}

const fn required(field: InputField) -> GrantInput {
    GrantInput {
        field,
        required: true,
    }
}

const AUTH_CODE_INPUTS: &[GrantInput] = &[
    required(InputField::ClientId),
    GrantInput {
        field: InputField::ClientSecret,
        required: false,
    },
];
const PASSWORD_INPUTS: &[GrantInput] = &[
    required(InputField::ClientId),
    required(InputField::ClientSecret),
    required(InputField::Username),
    required(InputField::Password),
];
const CLIENT_CREDENTIALS_INPUTS: &[GrantInput] = &[
    required(InputField::ClientId),
    required(InputField::ClientSecret),
];
const BASIC_INPUTS: &[GrantInput] = &[
    required(InputField::Username),
    required(InputField::Password),
];
const API_KEY_INPUTS: &[GrantInput] =
    &[required(InputField::Username), required(InputField::ApiKey)];

impl GrantKind {
    pub const ALL: [GrantKind; 5] = [
        Self::AuthCode,
        Self::Password,
        Self::ClientCredentials,
        Self::Basic,
        Self::ApiKey,
    ];

    /// The name used in files, flags and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthCode => "auth-code",
            Self::Password => "password",
            Self::ClientCredentials => "client-credentials",
            Self::Basic => "basic",
            Self::ApiKey => "api-key",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == text)
    }

    /// How the grant is named to people.
    pub fn label(self) -> &'static str {
        match self {
            Self::AuthCode => "Browser sign-in (OAuth)",
            Self::Password => "Password grant (OAuth)",
            Self::ClientCredentials => "Client credentials (OAuth)",
            Self::Basic => "User name and password",
            Self::ApiKey => "API key",
        }
    }

    /// Whether the grant signs in with OAuth tokens (rather than sending credentials each time).
    pub fn is_oauth(self) -> bool {
        matches!(
            self,
            Self::AuthCode | Self::Password | Self::ClientCredentials
        )
    }

    /// What the grant needs, in the order a person is asked for it.
    pub fn inputs(self) -> &'static [GrantInput] {
        match self {
            Self::AuthCode => AUTH_CODE_INPUTS,
            Self::Password => PASSWORD_INPUTS,
            Self::ClientCredentials => CLIENT_CREDENTIALS_INPUTS,
            Self::Basic => BASIC_INPUTS,
            Self::ApiKey => API_KEY_INPUTS,
        }
    }

    /// Whether the grant takes `field` at all.
    pub fn takes(self, field: InputField) -> bool {
        self.inputs().iter().any(|input| input.field == field)
    }
}

impl std::fmt::Display for GrantKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for grant in GrantKind::ALL {
            assert_eq!(GrantKind::parse(grant.as_str()), Some(grant));
            assert_eq!(
                serde_json::to_value(grant).unwrap(),
                serde_json::Value::String(grant.as_str().into())
            );
        }
        assert_eq!(GrantKind::parse("AuthCode"), None);
    }

    #[test]
    fn every_secret_input_has_a_keyring_entry_and_a_variable() {
        for grant in GrantKind::ALL {
            for input in grant.inputs() {
                assert_eq!(
                    input.field.secret_kind().is_some(),
                    input.field.env_var().is_some(),
                    "{grant} {:?}",
                    input.field
                );
            }
        }
        assert!(!GrantKind::Basic.takes(InputField::ClientId));
        assert!(GrantKind::Password.takes(InputField::ClientSecret));
        assert!(
            GrantKind::AuthCode
                .inputs()
                .iter()
                .any(|i| i.field == InputField::ClientSecret && !i.required),
            "public clients have no secret"
        );
    }
}
