//! The admin screens exercised through real HTTP form posts, as a person's browser would:
//! Application Registry, Users (roles, password), Access Control, Retrieved Update Sets.

mod common;

use common::{browser_login, client, start};
use snowlink_sim::testing::{form_inputs, location, session_cookie, unescape};
use snowlink_sim::{RunningSim, Seed};

async fn page(sim: &RunningSim, cookie: &str, path: &str) -> (u16, String) {
    let response = client()
        .get(format!("{}{path}", sim.url()))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Fills the form `form_id` of `path` with `values` and posts it; returns the redirect target.
async fn submit(
    sim: &RunningSim,
    cookie: &str,
    path: &str,
    form_id: &str,
    values: &[(&str, &str)],
) -> reqwest::Response {
    let (_, html) = page(sim, cookie, path).await;
    let mut fields = form_inputs(&html, form_id);
    for (name, value) in values {
        match fields.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = (*value).to_owned(),
            None => fields.push(((*name).to_owned(), (*value).to_owned())),
        }
    }
    let action = action_of(&html, form_id);
    client()
        .post(format!("{}{action}", sim.url()))
        .header("cookie", cookie)
        .form(&fields)
        .send()
        .await
        .unwrap()
}

fn action_of(html: &str, form_id: &str) -> String {
    let at = html.find(&format!("id=\"{form_id}\"")).unwrap();
    let tag_start = html[..at].rfind("<form").unwrap();
    let tag = &html[tag_start..];
    let start = tag.find("action=\"").unwrap() + 8;
    let end = tag[start..].find('"').unwrap() + start;
    unescape(&tag[start..end])
}

async fn admin_session(sim: &RunningSim) -> String {
    let (user, password) = sim.admin();
    browser_login(sim, &user, &password).await
}

#[tokio::test]
async fn admin_pages_ask_for_login_first() {
    let sim = start(Seed::Demo).await;
    let response = client()
        .get(format!("{}/oauth_entity_list.do", sim.url()))
        .send()
        .await
        .unwrap();
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"login\""));
    let fields = form_inputs(&html, "login");
    assert!(
        fields
            .iter()
            .any(|(k, v)| k == "return_to" && v == "/oauth_entity_list.do")
    );
}

#[tokio::test]
async fn users_without_the_role_get_security_constraints() {
    let sim = start(Seed::Demo).await;
    let cookie = browser_login(&sim, "beth.anglin", snowlink_sim::DEMO_PASSWORD).await;
    let (status, _) = page(&sim, &cookie, "/sys_security_acl_list.do").await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn application_registry_form_creates_an_app_and_shows_client_id_and_secret() {
    let sim = start(Seed::Demo).await;
    let cookie = admin_session(&sim).await;
    let response = submit(
        &sim,
        &cookie,
        "/oauth_entity.do?sys_id=-1",
        "oauth_entity",
        &[
            ("name", "Form app"),
            ("redirect_url", "http://127.0.0.1:53682/callback"),
        ],
    )
    .await;
    assert_eq!(response.status(), 302);
    let (_, html) = page(&sim, &cookie, &location(&response)).await;
    let app = &sim.state().query("oauth_entity", "name=Form app")[0];
    assert!(html.contains("Client ID") && html.contains(&app["client_id"]));
    assert!(html.contains("Client Secret") && html.contains(&common_escape(&app["client_secret"])));
    let (_, list) = page(&sim, &cookie, "/oauth_entity_list.do").await;
    assert!(list.contains("Form app"));
}

fn common_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[tokio::test]
async fn users_form_creates_a_user_adds_a_role_and_sets_a_password() {
    let sim = start(Seed::Demo).await;
    let cookie = admin_session(&sim).await;
    let created = submit(
        &sim,
        &cookie,
        "/sys_user.do?sys_id=-1",
        "sys_user",
        &[
            ("user_name", "form.user"),
            ("first_name", "Form"),
            ("last_name", "User"),
            ("web_service_access_only", "on"),
        ],
    )
    .await;
    assert_eq!(created.status(), 302);
    let user_page = location(&created);
    let added = submit(&sim, &cookie, &user_page, "add_role", &[("role", "itil")]).await;
    assert_eq!(added.status(), 302);
    let set = submit(
        &sim,
        &cookie,
        &user_page,
        "set_password",
        &[("password", "Form-Pass-1")],
    )
    .await;
    assert_eq!(set.status(), 302);
    let (_, html) = page(&sim, &cookie, &user_page).await;
    assert!(html.contains("<li>itil</li>"));
    let api = client()
        .get(format!(
            "{}/api/now/table/incident?sysparm_limit=1",
            sim.url()
        ))
        .basic_auth("form.user", Some("Form-Pass-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    assert_eq!(
        sim.state().query("sys_user", "user_name=form.user")[0]["web_service_access_only"],
        "true"
    );
}

#[tokio::test]
async fn access_control_form_creates_an_acl_with_its_role() {
    let sim = start(Seed::Demo).await;
    let cookie = admin_session(&sim).await;
    let response = submit(
        &sim,
        &cookie,
        "/sys_security_acl.do?sys_id=-1",
        "sys_security_acl",
        &[
            ("name", "sc_request"),
            ("operation", "write"),
            ("roles", "itil"),
        ],
    )
    .await;
    assert_eq!(response.status(), 302);
    let (_, html) = page(&sim, &cookie, &location(&response)).await;
    assert!(html.contains("sc_request") && html.contains("itil"));
    let acl = &sim
        .state()
        .query("sys_security_acl", "name=sc_request^operation=write")[0];
    assert_eq!(
        sim.state().count(
            "sys_security_acl_role",
            &format!("sys_security_acl={}", acl["sys_id"])
        ),
        1
    );
}

#[tokio::test]
async fn form_posts_without_the_form_token_are_refused() {
    let sim = start(Seed::Demo).await;
    let cookie = admin_session(&sim).await;
    let response = client()
        .post(format!("{}/oauth_entity.do", sim.url()))
        .header("cookie", &cookie)
        .form(&[("name", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(sim.state().query("oauth_entity", "name=forged").is_empty());
}

#[tokio::test]
async fn hostile_values_render_as_text() {
    let sim = start(Seed::Demo).await;
    let cookie = admin_session(&sim).await;
    let hostile = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>";
    let created = submit(
        &sim,
        &cookie,
        "/sys_user.do?sys_id=-1",
        "sys_user",
        &[("user_name", hostile)],
    )
    .await;
    assert_eq!(created.status(), 302);
    let (_, list) = page(&sim, &cookie, "/sys_user_list.do").await;
    assert!(!list.contains("<script>alert"));
    assert!(!list.contains("<img src=x"));
    assert!(list.contains("&lt;script&gt;"));
    let login = client()
        .get(format!(
            "{}/login.do?return_to=%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
            sim.url()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!login.contains("<script>alert(1)"));
}

/// Uploads `xml` through the "Import Update Set from XML" form; returns the set's page.
async fn upload_via_form(sim: &RunningSim, cookie: &str, xml: &str) -> String {
    let (_, list) = page(sim, cookie, "/sys_remote_update_set_list.do").await;
    let token = form_inputs(&list, "upload")
        .into_iter()
        .find(|(k, _)| k == "sysparm_ck")
        .unwrap()
        .1;
    let boundary = "XsnowlinkBoundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"sysparm_ck\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"attachFile\"; filename=\"set.xml\"\r\nContent-Type: text/xml\r\n\r\n{xml}\r\n\
         --{boundary}--\r\n"
    );
    let uploaded = client()
        .post(format!("{}/upload.do", sim.url()))
        .header("cookie", cookie)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 302);
    location(&uploaded)
}

fn unload_with(payloads: &[&str]) -> String {
    let updates: String = payloads
        .iter()
        .map(|p| format!("<sys_update_xml action=\"INSERT_OR_UPDATE\"><payload><![CDATA[{p}]]></payload></sys_update_xml>"))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><unload unload_date=\"2022-11-29 12:14:37\">\
         <sys_remote_update_set action=\"INSERT_OR_UPDATE\"><name>Form set</name><state>loaded</state></sys_remote_update_set>\
         {updates}</unload>"
    )
}

#[tokio::test]
async fn retrieved_update_sets_import_preview_and_commit_through_forms() {
    let sim = start(Seed::Demo).await;
    let cookie = admin_session(&sim).await;
    let payload = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><record_update table=\"sys_user_role\">\
                   <sys_user_role action=\"INSERT_OR_UPDATE\"><name>x_form.role</name></sys_user_role></record_update>";
    let set_page = upload_via_form(&sim, &cookie, &unload_with(&[payload])).await;
    let (_, html) = page(&sim, &cookie, &set_page).await;
    assert!(html.contains("loaded"));
    assert_eq!(
        submit(&sim, &cookie, &set_page, "preview", &[])
            .await
            .status(),
        302
    );
    assert!(page(&sim, &cookie, &set_page).await.1.contains("previewed"));
    assert_eq!(
        submit(&sim, &cookie, &set_page, "commit", &[])
            .await
            .status(),
        302
    );
    assert!(page(&sim, &cookie, &set_page).await.1.contains("committed"));
    assert_eq!(
        sim.state().query("sys_user_role", "name=x_form.role").len(),
        1
    );
}

#[tokio::test]
async fn preview_problems_can_be_skipped_from_the_form_before_commit() {
    let sim = start(Seed::Demo).await;
    let cookie = admin_session(&sim).await;
    let broken = "<record_update table=\"sys_script\"><sys_script action=\"INSERT_OR_UPDATE\">\
                  <name>Broken rule</name><collection>u_missing</collection></sys_script></record_update>";
    let role = "<record_update table=\"sys_user_role\"><sys_user_role action=\"INSERT_OR_UPDATE\">\
                <name>x_kept.role</name></sys_user_role></record_update>";
    let set_page = upload_via_form(&sim, &cookie, &unload_with(&[broken, role])).await;
    submit(&sim, &cookie, &set_page, "preview", &[]).await;
    let (_, html) = page(&sim, &cookie, &set_page).await;
    assert!(html.contains("u_missing"));
    let refused = submit(&sim, &cookie, &set_page, "commit", &[]).await;
    assert_eq!(refused.status(), 400, "open problems block the commit");
    let start = html.find("id=\"skip_").unwrap() + 4;
    let form_id = &html[start..start + html[start..].find('"').unwrap()];
    assert_eq!(
        submit(&sim, &cookie, &set_page, form_id, &[])
            .await
            .status(),
        302
    );
    assert_eq!(
        submit(&sim, &cookie, &set_page, "commit", &[])
            .await
            .status(),
        302
    );
    assert!(page(&sim, &cookie, &set_page).await.1.contains("committed"));
    assert_eq!(
        sim.state().query("sys_user_role", "name=x_kept.role").len(),
        1
    );
    assert!(
        sim.state()
            .query("sys_script", "name=Broken rule")
            .is_empty(),
        "the skipped update is not applied"
    );
}

#[tokio::test]
async fn web_service_only_users_cannot_sign_in_to_the_interface() {
    let sim = start(Seed::Demo).await;
    let response = client()
        .post(format!("{}/login.do", sim.url()))
        .form(&[
            ("user_name", "svc.snowlink"),
            ("user_password", snowlink_sim::DEMO_PASSWORD),
            ("return_to", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(session_cookie(&response).is_none());
}

#[tokio::test]
async fn nav_to_links_open_the_instance_s_own_pages_only() {
    let sim = start(Seed::Empty).await;
    for (uri, expected) in [
        ("sys_user.do%3Fsys_id%3D-1", "/sys_user.do?sys_id=-1"),
        (
            "oauth_entity_list.do%3Fsysparm_query%3Dclient_id%3Dabc",
            "/oauth_entity_list.do?sysparm_query=client_id=abc",
        ),
        ("https%3A%2F%2Fevil.example%2F", "/navpage.do"),
        ("%2F%2Fevil.example%2F", "/navpage.do"),
    ] {
        let response = client()
            .get(format!("{}/nav_to.do?uri={uri}", sim.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 302, "{uri}");
        assert_eq!(location(&response), expected, "{uri}");
    }
}
