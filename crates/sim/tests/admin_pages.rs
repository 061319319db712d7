//! The admin screens exercised through real HTTP form posts, as a person's browser would:
//! Application Registry, Users (roles, password), Access Control, Retrieved Update Sets.

mod common;

use common::{client, start};
use snowlink_sim::testing::{Browser, form_inputs, location, session_cookie};
use snowlink_sim::{RunningSim, Seed};

async fn admin_browser(sim: &RunningSim) -> Browser {
    let (user, password) = sim.admin();
    Browser::login(sim.url(), &user, &password).await
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
    let browser = Browser::login(sim.url(), "beth.anglin", snowlink_sim::DEMO_PASSWORD).await;
    let (status, _) = browser.page("/sys_security_acl_list.do").await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn application_registry_form_creates_an_app_and_shows_client_id_and_secret() {
    let sim = start(Seed::Demo).await;
    let browser = admin_browser(&sim).await;
    let response = browser
        .submit(
            "/oauth_entity.do?sys_id=-1",
            "oauth_entity",
            &[
                ("name", "Form app"),
                ("redirect_url", "http://127.0.0.1:53682/callback"),
            ],
        )
        .await;
    assert_eq!(response.status(), 302);
    let (_, html) = browser.page(&location(&response)).await;
    let app = &sim.state().query("oauth_entity", "name=Form app")[0];
    assert!(html.contains("Client ID") && html.contains(&app["client_id"]));
    assert!(html.contains("Client Secret") && html.contains(&common_escape(&app["client_secret"])));
    let (_, list) = browser.page("/oauth_entity_list.do").await;
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
    let browser = admin_browser(&sim).await;
    let created = browser
        .submit(
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
    let added = browser
        .submit(&user_page, "add_role", &[("role", "itil")])
        .await;
    assert_eq!(added.status(), 302);
    let set = browser
        .submit(&user_page, "set_password", &[("password", "Form-Pass-1")])
        .await;
    assert_eq!(set.status(), 302);
    let (_, html) = browser.page(&user_page).await;
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
async fn access_control_form_creates_an_acl_with_its_role_once_the_admin_elevated() {
    let sim = start(Seed::Demo).await;
    let browser = admin_browser(&sim).await;
    let (before, _) = browser.page("/sys_security_acl.do?sys_id=-1").await;
    assert_eq!(
        before, 403,
        "security_admin is inactive until the session elevates"
    );
    browser.elevate().await;
    let response = browser
        .submit(
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
    let (_, html) = browser.page(&location(&response)).await;
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
    let browser = admin_browser(&sim).await;
    let response = client()
        .post(format!("{}/oauth_entity.do", sim.url()))
        .header("cookie", browser.cookie())
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
    let browser = admin_browser(&sim).await;
    let hostile = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>";
    let created = browser
        .submit(
            "/sys_user.do?sys_id=-1",
            "sys_user",
            &[("user_name", hostile)],
        )
        .await;
    assert_eq!(created.status(), 302);
    let (_, list) = browser.page("/sys_user_list.do").await;
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
    let browser = admin_browser(&sim).await;
    let payload = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><record_update table=\"sys_user_role\">\
                   <sys_user_role action=\"INSERT_OR_UPDATE\"><name>x_form.role</name></sys_user_role></record_update>";
    let set_page = location(&browser.upload_update_set(&unload_with(&[payload])).await);
    let (_, html) = browser.page(&set_page).await;
    assert!(html.contains("loaded"));
    assert_eq!(
        browser.submit(&set_page, "preview", &[]).await.status(),
        302
    );
    assert!(browser.page(&set_page).await.1.contains("previewed"));
    assert_eq!(browser.submit(&set_page, "commit", &[]).await.status(), 302);
    assert!(browser.page(&set_page).await.1.contains("committed"));
    assert_eq!(
        sim.state().query("sys_user_role", "name=x_form.role").len(),
        1
    );
}

#[tokio::test]
async fn preview_problems_can_be_skipped_from_the_form_before_commit() {
    let sim = start(Seed::Demo).await;
    let browser = admin_browser(&sim).await;
    let broken = "<record_update table=\"sys_script\"><sys_script action=\"INSERT_OR_UPDATE\">\
                  <name>Broken rule</name><collection>u_missing</collection></sys_script></record_update>";
    let role = "<record_update table=\"sys_user_role\"><sys_user_role action=\"INSERT_OR_UPDATE\">\
                <name>x_kept.role</name></sys_user_role></record_update>";
    let set_page = location(
        &browser
            .upload_update_set(&unload_with(&[broken, role]))
            .await,
    );
    browser.submit(&set_page, "preview", &[]).await;
    let (_, html) = browser.page(&set_page).await;
    assert!(html.contains("u_missing"));
    let refused = browser.submit(&set_page, "commit", &[]).await;
    assert_eq!(refused.status(), 400, "open problems block the commit");
    let start = html.find("id=\"skip_").unwrap() + 4;
    let form_id = &html[start..start + html[start..].find('"').unwrap()];
    assert_eq!(browser.submit(&set_page, form_id, &[]).await.status(), 302);
    assert_eq!(browser.submit(&set_page, "commit", &[]).await.status(), 302);
    assert!(browser.page(&set_page).await.1.contains("committed"));
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
