//! Who a sign-in acts as: [`identify_with`] asks the instance (the integration's userinfo
//! endpoint when its update set installed one, else the caller's own `sys_user` record) and
//! keeps the answer as a [`LinkedIdentity`], bounded and checked, since it comes from the
//! instance.

use serde::{Deserialize, Deserializer, Serialize};

use super::{ApiError, EncodedQuery, SnowClient, TableQuery, field};
use crate::text::{MAX_NAME_CHARS, SysId, SysIdError, untrusted};

/// The scripted REST endpoint the integration's update set installs to say who a token is.
pub const USERINFO_PATH: &str = "/api/snc/oauth_userinfo";

/// The ServiceNow user a connection acts as, once identified. Both values come from the
/// instance: the name is bounded with its control characters made visible, the sys_id checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct LinkedIdentity {
    pub user_name: String,
    pub sys_id: SysId,
}

impl LinkedIdentity {
    /// The identity an instance reported; refuses a sys_id that is not one.
    pub fn from_instance(user_name: &str, sys_id: &str) -> Result<Self, SysIdError> {
        Ok(Self {
            user_name: untrusted(user_name, MAX_NAME_CHARS),
            sys_id: SysId::parse(sys_id)?,
        })
    }
}

impl<'de> Deserialize<'de> for LinkedIdentity {
    /// A file is as untrusted as the instance it was written from.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Raw {
            user_name: String,
            sys_id: String,
        }
        let raw = Raw::deserialize(deserializer)?;
        Self::from_instance(&raw.user_name, &raw.sys_id).map_err(serde::de::Error::custom)
    }
}

/// [`identify`] with a client of the caller's (its timeout, its log).
pub async fn identify_with(client: &SnowClient) -> Result<LinkedIdentity, IdentifyError> {
    let query = TableQuery {
        query: Some(EncodedQuery::raw("sys_id=javascript:gs.getUserID()")),
        fields: vec!["user_name".into(), "sys_id".into()],
        limit: Some(1),
        ..TableQuery::default()
    };
    // Both asked at once (one round trip on a far instance); the endpoint wins when installed.
    let (userinfo, page) = tokio::join!(
        client.get_path(USERINFO_PATH),
        client.query("sys_user", &query)
    );
    match userinfo {
        Ok(info) => {
            let text = |key: &str| {
                info["result"][key]
                    .as_str()
                    .or_else(|| info[key].as_str())
                    .map(str::to_owned)
            };
            if let (Some(user_name), Some(sys_id)) = (text("user_name"), text("sys_id")) {
                return Ok(LinkedIdentity::from_instance(&user_name, &sys_id)?);
            }
        }
        Err(ApiError::PathNotFound { .. } | ApiError::NotFound { .. }) => {}
        Err(err) => return Err(err.into()),
    }
    let page = page?;
    let record = page.records.first().ok_or(ApiError::NotFound {
        what: "the signed-in user".into(),
    })?;
    match (field(record, "user_name"), field(record, "sys_id")) {
        (Some(user_name), Some(sys_id)) => Ok(LinkedIdentity::from_instance(user_name, sys_id)?),
        _ => Err(ApiError::Malformed {
            detail: "the user record has no user_name or sys_id".into(),
        }
        .into()),
    }
}

/// Why the instance could not say who a sign-in is.
#[derive(Debug, thiserror::Error)]
pub enum IdentifyError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    BadIdentity(#[from] crate::text::SysIdError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_from_a_hostile_instance_are_made_safe() {
        let id = LinkedIdentity::from_instance(
            "evil\u{1b}[2J\rerror: forged",
            "62826bf03710200044e0bfc8bcbe5df1",
        )
        .unwrap();
        assert_eq!(id.user_name, "evil\\u{1b}[2J\\u{d}error: forged");
        let huge = "u".repeat(4 * 1024 * 1024);
        let id = LinkedIdentity::from_instance(&huge, "62826bf03710200044e0bfc8bcbe5df1").unwrap();
        assert!(id.user_name.chars().count() <= MAX_NAME_CHARS + 1);
        assert!(LinkedIdentity::from_instance("bob", "../../etc").is_err());
        let tampered = serde_json::json!({"userName": "x\u{7}", "sysId": "not-a-sys-id"});
        assert!(serde_json::from_value::<LinkedIdentity>(tampered).is_err());
    }
}
