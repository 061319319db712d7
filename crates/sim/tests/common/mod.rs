//! Shared helpers of the conformance suite: start an in-process simulator on a loopback port and
//! talk to it with a plain reqwest client, as any real client would.
#![allow(dead_code)]

use snowlink_sim::{Record, RunningSim, Seed, Sim, StateHandle};

pub async fn start(seed: Seed) -> RunningSim {
    Sim::builder()
        .seed(seed)
        .start()
        .await
        .expect("simulator starts")
}

/// A client that follows no redirects, so tests see exactly what the instance answers.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub fn admin_get(sim: &RunningSim, path: &str) -> reqwest::RequestBuilder {
    let (user, password) = sim.admin();
    client()
        .get(format!("{}{path}", sim.url()))
        .basic_auth(user, Some(password))
}

/// A GET of `path` as the demo user `user`, with the demo password.
pub fn demo_get(sim: &RunningSim, user: &str, path: &str) -> reqwest::RequestBuilder {
    client()
        .get(format!("{}{path}", sim.url()))
        .basic_auth(user, Some(snowlink_sim::DEMO_PASSWORD))
}

/// Adds a read ACL on `name` (a table, `table.field` or `table.*`) that needs the role `role`.
pub fn read_acl_needing_role(state: &StateHandle, name: &str, role: &str) {
    let acl = state
        .insert(
            "sys_security_acl",
            Record::from([
                ("name".into(), name.into()),
                ("operation".into(), "read".into()),
            ]),
        )
        .unwrap();
    let role = state.query("sys_user_role", &format!("name={role}"))[0]["sys_id"].clone();
    state
        .insert(
            "sys_security_acl_role",
            Record::from([
                ("sys_security_acl".into(), acl["sys_id"].clone()),
                ("sys_user_role".into(), role),
            ]),
        )
        .unwrap();
}

pub async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.expect("JSON body")
}

/// The `name`/`value` pairs of the `<input>` elements of the form with `id="{form_id}"`, as a
/// browser would submit them (buttons excluded).
pub fn form_inputs(html: &str, form_id: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("id=\"{form_id}\""))
        .expect("form present");
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |e| start + e);
    let form = &html[start..end];
    form.split("<input")
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

/// Logs in through `/login.do` and returns the session cookie.
pub async fn browser_login(sim: &RunningSim, user: &str, password: &str) -> String {
    let response = client()
        .post(format!("{}/login.do", sim.url()))
        .form(&[
            ("user_name", user),
            ("user_password", password),
            ("return_to", "/navpage.do"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302, "login of {user}");
    session_cookie(&response).expect("session cookie")
}

pub fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}
