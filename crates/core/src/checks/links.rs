//! Linked-record counts (`links.count`, the status screen, the overview's chart): what counts
//! as linked depends on the integration ([`LinkSpec`]); the count comes from the Aggregate API,
//! one request grouped by state, never by paging through records (servicenow.md §2.10).

use serde::{Deserialize, Serialize};

use super::probe::{Outcome, api_failure};
use super::runner::Ctx;
use crate::api::{ApiError, EncodedQuery, GroupCount, SnowClient};

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

    fn query(&self, user_name: &str) -> Result<EncodedQuery, ApiError> {
        let mut query = EncodedQuery::from_profile(&self.query)?;
        if self.created_by_user {
            query = query.eq("sys_created_by", user_name)?;
        }
        Ok(query)
    }
}

/// The linked records of a connection, by state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct LinkedRecords {
    pub label: String,
    pub table: String,
    #[ts(type = "number")]
    pub total: u64,
    pub by_state: Vec<StateCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct StateCount {
    /// The state as the instance names it ("In Progress").
    pub state: String,
    #[ts(type = "number")]
    pub count: u64,
}

/// One Aggregate API request, grouped by the spec's field; the total is their sum.
pub async fn count_linked(
    client: &SnowClient,
    spec: &LinkSpec,
    user_name: &str,
) -> Result<LinkedRecords, ApiError> {
    let query = spec.query(user_name)?;
    let groups: Vec<GroupCount> = client
        .count_by(
            &spec.table,
            Some(&query).filter(|q| !q.as_str().is_empty()),
            &spec.group_by,
        )
        .await?;
    let by_state: Vec<StateCount> = groups
        .into_iter()
        .map(|g| StateCount {
            state: crate::text::untrusted(
                if g.label.is_empty() {
                    "(empty)"
                } else {
                    &g.label
                },
                60,
            ),
            count: g.count,
        })
        .collect();
    Ok(LinkedRecords {
        label: spec.label.clone(),
        table: spec.table.clone(),
        total: by_state.iter().map(|s| s.count).sum(),
        by_state,
    })
}

pub async fn links_count(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let session = ctx.session()?;
    let spec = ctx
        .target
        .params
        .links
        .clone()
        .unwrap_or_else(LinkSpec::created_by_connection);
    let linked = count_linked(&session.client, &spec, &session.identity.user_name)
        .await
        .map_err(|err| api_failure(&err, &format!("the {} counts", spec.table)))?;
    let states: Vec<String> = linked
        .by_state
        .iter()
        .map(|s| format!("{} {}", s.state, s.count))
        .collect();
    let outcome = Outcome::pass(format!("{} {}.", linked.total, linked.label));
    Ok(if states.is_empty() {
        outcome
    } else {
        outcome.detail(format!("By {}: {}.", spec.group_by, states.join(", ")))
    })
}
