//! The Aggregate API: counts of a table's rows, all of them or grouped by one field, without
//! ever paging through the records.

use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use super::client::{SnowClient, malformed, segment};
use super::error::ApiError;
use super::query::EncodedQuery;

/// One group of a group-by count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupCount {
    pub value: String,
    /// The value as the instance shows it (a choice's label); the value when none is given.
    pub label: String,
    pub count: u64,
}

impl SnowClient {
    /// Rows matching `query`, counted by the Aggregate API (never by paging).
    pub async fn count(&self, table: &str, query: Option<&EncodedQuery>) -> Result<u64, ApiError> {
        let value = self.stats(table, query, None).await?;
        count_of(&value["result"]["stats"])
            .ok_or_else(|| malformed("no count in the Aggregate API answer"))
    }

    /// Counts grouped by one field's values, each with its label (`sysparm_display_value=all`).
    pub async fn count_by(
        &self,
        table: &str,
        query: Option<&EncodedQuery>,
        group_by: &str,
    ) -> Result<Vec<GroupCount>, ApiError> {
        let value = self.stats(table, query, Some(group_by)).await?;
        let groups = match &value["result"] {
            Value::Array(groups) => groups.as_slice(),
            // One group comes back as an object on some releases.
            Value::Object(_) => std::slice::from_ref(&value["result"]),
            _ => return Err(malformed("no groups in the Aggregate API answer")),
        };
        groups
            .iter()
            .map(|group| {
                let field = group["groupby_fields"]
                    .as_array()
                    .and_then(|fields| fields.iter().find(|f| f["field"] == group_by));
                let text = |key: &str| field.and_then(|f| f[key].as_str()).map(str::to_owned);
                let value = text("value").unwrap_or_default();
                let label = text("display_value").unwrap_or_else(|| value.clone());
                let count =
                    count_of(&group["stats"]).ok_or_else(|| malformed("a group has no count"))?;
                Ok(GroupCount {
                    value,
                    label,
                    count,
                })
            })
            .collect()
    }

    /// One Aggregate API count request.
    async fn stats(
        &self,
        table: &str,
        query: Option<&EncodedQuery>,
        group_by: Option<&str>,
    ) -> Result<Value, ApiError> {
        let mut params = vec![("sysparm_count", "true".to_owned())];
        if let Some(field) = group_by {
            params.push(("sysparm_group_by", field.to_owned()));
            params.push(("sysparm_display_value", "all".to_owned()));
        }
        if let Some(q) = query {
            params.push(("sysparm_query", q.as_str().to_owned()));
        }
        let url = self.url(&format!("/api/now/stats/{}", segment(table)?))?;
        let (value, _) = self
            .send(Method::GET, url, &params, None, Some(table))
            .await?;
        Ok(value)
    }
}

fn count_of(stats: &Value) -> Option<u64> {
    match &stats["count"] {
        Value::String(text) => text.parse().ok(),
        Value::Number(number) => number.as_u64(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::count_of;

    #[test]
    fn counts_are_strings_or_numbers() {
        assert_eq!(count_of(&json!({"count": "123"})), Some(123));
        assert_eq!(count_of(&json!({"count": 7})), Some(7));
        assert_eq!(count_of(&json!({"count": "many"})), None);
    }
}
