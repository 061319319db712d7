//! What a test plays the browser with: a client that follows no redirects and reads of the
//! simulator's pages. Only built with the `test-support` feature, for the simulator's own
//! conformance suite, the end-to-end tests and the benchmarks.

/// A client that follows no redirects, so a test sees exactly what the instance answers.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The `name`/`value` pairs of the `<input>` elements of the form with `id="{form_id}"`, as a
/// browser would submit them (buttons excluded).
pub fn form_inputs(html: &str, form_id: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("id=\"{form_id}\""))
        .unwrap_or_else(|| panic!("no form {form_id} in the page: {html}"));
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |e| start + e);
    html[start..end]
        .split("<input")
        .skip(1)
        .filter_map(|tag| {
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            Some((
                attribute(tag, "name")?,
                attribute(tag, "value").unwrap_or_default(),
            ))
        })
        .collect()
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// Text as it reads once the page's HTML escapes are undone.
pub fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The `JSESSIONID=…` pair of a response's `Set-Cookie`.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("JSESSIONID="))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
}

/// Where a redirect sends the browser.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no Location in a {} answer", response.status()))
        .to_owned()
}
