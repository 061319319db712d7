//! Query-string parameters as the instance reads them.

use crate::db::query::Query;

/// Query parameters as decoded pairs; hostile encodings decode lossily instead of failing.
pub fn params(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A boolean parameter as the instance reads it: `true` in any case (`True`, `TRUE`).
pub fn flag(params: &[(String, String)], name: &str) -> bool {
    param(params, name).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// A number parameter (`sysparm_limit`, `sysparm_offset`), `default` when absent or not one.
pub fn number(params: &[(String, String)], name: &str, default: usize) -> usize {
    param(params, name)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The list filter of a request: `sysparm_query`, ANDed with every name-value pair
/// (`?user_name=admin`), each value taken literally.
pub fn list_query(params: &[(String, String)]) -> Query {
    let mut query = Query::parse(param(params, "sysparm_query").unwrap_or(""));
    for (name, value) in params.iter().filter(|(k, _)| !k.starts_with("sysparm_")) {
        query.and_equals(name, value);
    }
    query
}
