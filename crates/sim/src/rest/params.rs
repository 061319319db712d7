//! Query-string parameters as the instance reads them.

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
