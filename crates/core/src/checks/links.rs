//! Linked-record counts (`links.count`, the status screen, the overview's chart): what counts
//! as linked depends on the integration ([`LinkSpec`]); the count comes from the Aggregate API,
//! one request grouped by state, never by paging through records (servicenow.md §2.10).

use super::outcome::{Outcome, api_failure};
use super::runner::Ctx;
use crate::api::{ApiError, GroupCount, SnowClient};
use crate::connections::{LinkedRecords, StateCount};
use crate::profiles::LinkSpec;

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
