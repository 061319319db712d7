//! Server-rendered HTML for the login, consent and admin pages. Everything interpolated into a
//! page goes through `escape`, so hostile record values or query parameters render as text and
//! never as markup.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Escapes text for element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A full page; `body` must already be escaped markup.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} | ServiceNow</title>\
         <style>body{{font-family:sans-serif;margin:2em;max-width:60em}}label{{display:block;margin:.5em 0}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:left}}\
         nav a{{margin-right:1em}}</style></head><body><h1>{}</h1>{body}</body></html>",
        escape(title),
        escape(title)
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html;charset=UTF-8")],
        html,
    )
        .into_response()
}

/// A 302 to `location`, as the instance redirects (axum's `Redirect::to` is a 303).
pub fn found(location: &str) -> Response {
    match axum::http::HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        Err(_) => page(
            StatusCode::BAD_REQUEST,
            "Invalid redirect",
            "<p>The redirect address is invalid.</p>",
        ),
    }
}

/// A hidden form input.
pub fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        escape(name),
        escape(value)
    )
}

/// A labelled text input.
pub fn input(label: &str, name: &str, kind: &str, value: &str) -> String {
    format!(
        "<label>{} <input type=\"{}\" name=\"{}\" id=\"{}\" value=\"{}\"></label>",
        escape(label),
        escape(kind),
        escape(name),
        escape(name),
        escape(value)
    )
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_is_neutralised() {
        assert_eq!(
            escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
    }
}
