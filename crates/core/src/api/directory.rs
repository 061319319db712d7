//! What the instance's user directory says about a user: the roles they hold, inherited ones
//! included, as an admin (or the user) may read them over the Table API.

use std::collections::BTreeSet;

use super::{ApiError, EncodedQuery, SnowClient, TableQuery, field};

/// The user's roles, inherited ones included: the `sys_user_has_role` rows and whatever the
/// granted roles include (`includes_roles`).
pub async fn roles_of(
    reader: &SnowClient,
    user_sys_id: &str,
) -> Result<BTreeSet<String>, ApiError> {
    let query = EncodedQuery::default().eq("user", user_sys_id)?;
    let grants_query = TableQuery {
        query: Some(query),
        fields: vec!["role".into()],
        limit: Some(1000),
        ..TableQuery::default()
    };
    let roles_query = TableQuery {
        fields: ["sys_id", "name", "includes_roles"]
            .map(String::from)
            .to_vec(),
        limit: Some(5000),
        ..TableQuery::default()
    };
    // Independent reads: one round trip, not two.
    let (grants, all_roles) = tokio::join!(
        reader.query("sys_user_has_role", &grants_query),
        reader.query("sys_user_role", &roles_query)
    );
    let (grants, all_roles) = (grants?, all_roles?);
    let role_ids: BTreeSet<String> = grants
        .records
        .iter()
        .filter_map(|g| field(g, "role"))
        .map(str::to_owned)
        .collect();
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut pending: Vec<String> = all_roles
        .records
        .iter()
        .filter(|r| field(r, "sys_id").is_some_and(|id| role_ids.contains(id)))
        .filter_map(|r| field(r, "name").map(str::to_owned))
        .collect();
    while let Some(role) = pending.pop() {
        if !names.insert(role.clone()) {
            continue;
        }
        if let Some(record) = all_roles
            .records
            .iter()
            .find(|r| field(r, "name") == Some(&role))
        {
            pending.extend(
                field(record, "includes_roles")
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    Ok(names)
}
