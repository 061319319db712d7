//! Business rules (`sys_script`) without a JavaScript engine: a committed, active rule on a
//! table fires after insert and/or update when its `filter_condition` holds, and makes one
//! outbound HTTP POST of the record as JSON to the URL its script names (the first `http(s)://`
//! literal, or an explicit `snowlink:outbound=URL` marker). That is the one behaviour the
//! update sets Snowlink generates need: "tell the outside system a record changed".

use serde_json::json;

use crate::db::query::Query;
use crate::platform::instance::{Instance, OutboundCall};

impl Instance {
    /// The calls the rules on `physical` (or a table it extends) make for this write.
    pub fn calls_for(&self, physical: &str, sys_id: &str, operation: &str) -> Vec<OutboundCall> {
        calls_for(self, physical, sys_id, operation)
    }
}

fn calls_for(
    instance: &Instance,
    physical: &str,
    sys_id: &str,
    operation: &str,
) -> Vec<OutboundCall> {
    let ancestry = instance.db.schemas.ancestry(physical);
    let action = if operation == "insert" {
        "action_insert"
    } else {
        "action_update"
    };
    let rules = instance.query("sys_script", "active=true");
    let Some((_, row)) = instance.db.locate(physical, sys_id) else {
        return Vec::new();
    };
    let context = instance.context_for("");
    rules
        .into_iter()
        .filter(|rule| rule.get(action).is_some_and(|v| v == "true"))
        .filter(|rule| rule.get("collection").is_some_and(|c| ancestry.contains(c)))
        .filter(|rule| {
            let condition = rule.get("filter_condition").map(String::as_str).unwrap_or("");
            condition.is_empty()
                || instance.db.record_matches(physical, physical, row, &Query::parse(condition), &context)
        })
        .filter_map(|rule| {
            let url = outbound_url(rule.get("script").map(String::as_str).unwrap_or(""))?;
            let record = instance.db.record(physical, row);
            Some(OutboundCall {
                url,
                body: json!({ "table": physical, "sys_id": sys_id, "operation": operation, "record": record }),
                rule_id: rule.get("sys_id").cloned().unwrap_or_default(),
                table: physical.to_owned(),
                record_id: sys_id.to_owned(),
            })
        })
        .collect()
}

/// The URL a rule's script calls.
pub fn outbound_url(script: &str) -> Option<String> {
    if let Some(rest) = script.split("snowlink:outbound=").nth(1) {
        return Some(
            rest.split(|c: char| c.is_whitespace() || c == '*')
                .next()
                .unwrap_or("")
                .to_owned(),
        )
        .filter(|u| !u.is_empty());
    }
    let start = script.find("https://").or_else(|| script.find("http://"))?;
    let tail = script.get(start..)?;
    let end = tail
        .find(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '`' | ')' | ';'))
        .unwrap_or(tail.len());
    tail.get(..end).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::outbound_url;

    #[test]
    fn the_url_is_the_marker_or_the_first_literal() {
        assert_eq!(
            outbound_url(
                "var r = new sn_ws.RESTMessageV2(); r.setEndpoint('https://hooks.example/x?a=1');"
            ),
            Some("https://hooks.example/x?a=1".into())
        );
        assert_eq!(
            outbound_url("// snowlink:outbound=http://127.0.0.1:9/h\n"),
            Some("http://127.0.0.1:9/h".into())
        );
        assert_eq!(outbound_url("gs.info('no call')"), None);
    }
}
