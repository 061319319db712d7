//! What an integration expects of the instance, as its profile declares it: the roles, the
//! tables and operations, the update set, the scripted REST endpoint, the business rule's
//! outbound call, and what counts as a record linked to it. The setup's steps and the diagnosis
//! of a finished connection check the same expectations.

use serde::{Deserialize, Serialize};

use crate::api::{ApiError, EncodedQuery};

/// What the integration expects of the instance; the setup profiles give these, so their
/// steps are verified by the same checks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckParams {
    /// Roles the user needs, all of them…
    pub roles: Vec<String>,
    /// …unless it has one of these (such as `admin`).
    pub roles_sufficient: Vec<String>,
    /// Tables and the operations (`read`, `create`, `write`, `delete`) the user needs.
    pub tables: Vec<TableAccess>,
    /// The update set that must be committed.
    pub update_set: Option<String>,
    /// For a set the vendor gives: the name of Snowlink's stand-in for it, accepted in its
    /// place (and said so).
    pub update_set_stand_in: Option<String>,
    /// A scripted REST path that must answer (`/api/snc/oauth_userinfo`).
    pub endpoint: Option<String>,
    /// A record to create whose business rule must call out.
    pub outbound: Option<OutboundProbe>,
    /// What counts as a record linked to the integration.
    pub links: Option<LinkSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableAccess {
    pub table: String,
    pub operations: Vec<String>,
}

/// A sample record created to see the business rule's outbound call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundProbe {
    pub table: String,
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// How long to wait for the call, in seconds.
    #[serde(default = "default_outbound_wait")]
    pub wait_seconds: u64,
}

fn default_outbound_wait() -> u64 {
    15
}

/// What counts as a record linked to the integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    pub table: String,
    /// Fixed conditions from the profile (an encoded query).
    #[serde(default)]
    pub query: String,
    /// Also only records the connection's user created.
    #[serde(default)]
    pub created_by_user: bool,
    /// The field the chart groups by.
    #[serde(default = "default_group_by")]
    pub group_by: String,
    /// How the records are named ("incidents synced by correlation ID").
    pub label: String,
}

fn default_group_by() -> String {
    "state".into()
}

impl LinkSpec {
    /// For a connection with no profile: the records its user created.
    pub fn created_by_connection() -> Self {
        Self {
            table: "task".into(),
            query: String::new(),
            created_by_user: true,
            group_by: default_group_by(),
            label: "records created by the connection's user".into(),
        }
    }

    /// The records linked for the connection whose user is `user_name`.
    pub fn query(&self, user_name: &str) -> Result<EncodedQuery, ApiError> {
        let mut query = EncodedQuery::from_profile(&self.query)?;
        if self.created_by_user {
            query = query.eq("sys_created_by", user_name)?;
        }
        Ok(query)
    }
}
