//! [`ConnectionId`]: a connection's stable id. It keys the keyring entries and the connections
//! file, so it never changes when the connection is renamed.

const MAX_ID_LEN: usize = 64;

/// Lowercase letters, digits and hyphens, at most 64.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(String);

/// Why a text is not a connection id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionIdError {
    #[error("\"{id}\" is not a valid connection id: {reason}.")]
    Invalid { id: String, reason: &'static str },
    #[error("No random numbers are available to make a connection id: {0}")]
    Random(String),
}

impl ConnectionId {
    pub fn parse(text: &str) -> Result<Self, ConnectionIdError> {
        let invalid = |reason: &'static str| ConnectionIdError::Invalid {
            id: crate::text::untrusted(text, MAX_ID_LEN + 8),
            reason,
        };
        if text.is_empty() {
            return Err(invalid("it is empty"));
        }
        if text.len() > MAX_ID_LEN {
            return Err(invalid("it is longer than 64 characters"));
        }
        if !text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(invalid(
                "only lowercase letters, digits and hyphens are allowed",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// A fresh random id (`c-` and 16 hex digits).
    pub fn new_random() -> Result<Self, ConnectionIdError> {
        Self::random_with_prefix("c")
    }

    /// A fresh random id after `prefix` (lowercase letters, digits, hyphens).
    pub fn random_with_prefix(prefix: &str) -> Result<Self, ConnectionIdError> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|err| ConnectionIdError::Random(err.to_string()))?;
        Self::parse(&format!("{prefix}-{}", hex(&bytes)))
    }

    /// The keyring owner of a running setup's secrets: `setup:<draft>`. A parsed id never
    /// holds a colon, so no connection's entries share it, whatever a hand-edited setup file
    /// names as its draft.
    pub fn of_setup(draft: &ConnectionId) -> ConnectionId {
        Self(format!("setup:{draft}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

crate::text::checked_text!(ConnectionId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_validated() {
        assert!(ConnectionId::parse("acme-prod-2").is_ok());
        for bad in ["", "Acme", "a b", "a/b", "ä", &"x".repeat(65)] {
            assert!(ConnectionId::parse(bad).is_err(), "{bad:?}");
        }
        let random = ConnectionId::new_random().unwrap();
        assert!(ConnectionId::parse(random.as_str()).is_ok());
        assert_ne!(random, ConnectionId::new_random().unwrap());
        let setup = ConnectionId::of_setup(&random);
        assert_ne!(setup, random);
        assert!(
            ConnectionId::parse(setup.as_str()).is_err(),
            "no connection can be it"
        );
    }
}
