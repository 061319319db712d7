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

/// A person at a browser signed in to the instance's own pages: what a test does by hand, as
/// an admin would (Elevate role, the Access Control form, Import Update Set from XML).
pub struct Browser {
    url: String,
    cookie: String,
}

impl Browser {
    /// Signs in through `/login.do` as `user`.
    pub async fn login(url: &str, user: &str, password: &str) -> Self {
        let response = client()
            .post(format!("{url}/login.do"))
            .form(&[
                ("user_name", user),
                ("user_password", password),
                ("return_to", "/navpage.do"),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), 302, "login of {user}");
        let cookie = session_cookie(&response).expect("a session cookie after login");
        Self {
            url: url.to_owned(),
            cookie,
        }
    }

    /// The session cookie, as `JSESSIONID=…`.
    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    /// The status and text of the page at `path`.
    pub async fn page(&self, path: &str) -> (u16, String) {
        let response = client()
            .get(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("page");
        (
            response.status().as_u16(),
            response.text().await.expect("page text"),
        )
    }

    /// Fills the form `form_id` of the page at `path` with `values` (others as the page has
    /// them) and posts it.
    pub async fn submit(
        &self,
        path: &str,
        form_id: &str,
        values: &[(&str, &str)],
    ) -> reqwest::Response {
        let (_, html) = self.page(path).await;
        let mut fields = form_inputs(&html, form_id);
        for (name, value) in values {
            match fields.iter_mut().find(|(n, _)| n == name) {
                Some(field) => field.1 = (*value).to_owned(),
                None => fields.push(((*name).to_owned(), (*value).to_owned())),
            }
        }
        client()
            .post(format!("{}{}", self.url, action_of(&html, form_id)))
            .header("cookie", &self.cookie)
            .form(&fields)
            .send()
            .await
            .expect("form post")
    }

    /// User menu > Elevate role: turns `security_admin` on for this session.
    pub async fn elevate(&self) {
        let answer = self
            .submit("/elevate_role.do", "elevate", &[("security_admin", "on")])
            .await;
        assert_eq!(answer.status(), 302, "elevating to security_admin");
    }

    /// Retrieved Update Sets > Import Update Set from XML with `xml`; the answer's redirect
    /// (the loaded set's page).
    pub async fn upload_update_set(&self, xml: &str) -> reqwest::Response {
        let (_, list) = self.page("/sys_remote_update_set_list.do").await;
        let token = form_inputs(&list, "upload")
            .into_iter()
            .find(|(k, _)| k == "sysparm_ck")
            .map(|(_, v)| v)
            .unwrap_or_default();
        let boundary = "XsnowlinkBoundary";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"sysparm_ck\"\r\n\r\n{token}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"attachFile\"; filename=\"set.xml\"\r\nContent-Type: text/xml\r\n\r\n{xml}\r\n\
             --{boundary}--\r\n"
        );
        client()
            .post(format!("{}/upload.do", self.url))
            .header("cookie", &self.cookie)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("upload")
    }
}

/// The `action` of the form `form_id`.
fn action_of(html: &str, form_id: &str) -> String {
    let at = html
        .find(&format!("id=\"{form_id}\""))
        .unwrap_or_else(|| panic!("no form {form_id} in the page: {html}"));
    let tag_start = html[..at].rfind("<form").unwrap_or(0);
    let tag = &html[tag_start..];
    let start = tag.find("action=\"").map_or(0, |s| s + 8);
    let end = tag[start..].find('"').map_or(tag.len(), |e| e + start);
    unescape(&tag[start..end])
}
