//! Conformance: the Attachment API (servicenow.md 2.12), over real loopback HTTP: attach a
//! raw body or a multipart upload to a record, list, read the metadata and the bytes, delete;
//! an attachment is as readable as its record, and the API is no way around the record's ACLs.

mod common;

use common::{admin_get, client, demo_get, json, start};
use snowlink_sim::{RunningSim, Seed};

/// An incident of the demo that `abel.tuter` (no role) cannot read: not his as caller.
fn someone_elses_incident(sim: &RunningSim) -> String {
    let abel = sim.state().query("sys_user", "user_name=abel.tuter")[0]["sys_id"].clone();
    sim.state().query("incident", &format!("caller_id!={abel}"))[0]["sys_id"].clone()
}

fn admin_post(sim: &RunningSim, path: &str) -> reqwest::RequestBuilder {
    let (user, password) = sim.admin();
    client()
        .post(format!("{}{path}", sim.url()))
        .basic_auth(user, Some(password))
}

#[tokio::test]
async fn a_file_attached_to_a_record_is_listed_read_back_and_deleted() {
    let sim = start(Seed::Demo).await;
    let incident = someone_elses_incident(&sim);
    let body = b"2026-12-02 10:00 disk full\n".to_vec();
    let created = admin_post(
        &sim,
        &format!(
            "/api/now/attachment/file?table_name=incident&table_sys_id={incident}&file_name=log.txt"
        ),
    )
    .header("Content-Type", "text/plain")
    .body(body.clone())
    .send()
    .await
    .unwrap();
    assert_eq!(created.status(), 201);
    assert!(created.headers().get("location").is_some());
    let meta = json(created).await["result"].clone();
    assert_eq!(meta["file_name"], "log.txt");
    assert_eq!(meta["size_bytes"], body.len().to_string());
    assert_eq!(meta["table_sys_id"], incident.as_str());
    let id = meta["sys_id"].as_str().unwrap().to_owned();
    assert_eq!(
        meta["download_link"],
        format!("{}/api/now/attachment/{id}/file", sim.url())
    );

    // Listed by name-value pairs or by sysparm_query.
    for path in [
        format!("/api/now/attachment?table_name=incident&table_sys_id={incident}"),
        format!("/api/now/attachment?sysparm_query=table_sys_id={incident}"),
    ] {
        let listed = json(admin_get(&sim, &path).send().await.unwrap()).await;
        assert_eq!(
            listed["result"].as_array().unwrap().len(),
            1,
            "{path}: {listed}"
        );
    }
    let file = admin_get(&sim, &format!("/api/now/attachment/{id}/file"))
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "text/plain");
    assert_eq!(file.bytes().await.unwrap().to_vec(), body);

    let (user, password) = sim.admin();
    let deleted = client()
        .delete(format!("{}/api/now/attachment/{id}", sim.url()))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let gone = admin_get(&sim, &format!("/api/now/attachment/{id}/file"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn a_multipart_upload_attaches_the_file_part() {
    let sim = start(Seed::Demo).await;
    let incident = someone_elses_incident(&sim);
    let boundary = "snowlinkboundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"table_name\"\r\n\r\nincident\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"table_sys_id\"\r\n\r\n{incident}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"uploadFile\"; filename=\"shot.png\"\r\n\
         Content-Type: image/png\r\n\r\nPNGDATA\r\n--{boundary}--\r\n"
    );
    let created = admin_post(&sim, "/api/now/attachment/upload")
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let meta = json(created).await["result"].clone();
    assert_eq!(meta["file_name"], "shot.png");
    assert_eq!(meta["content_type"], "image/png");
    assert_eq!(meta["size_bytes"], "7");

    // Missing the record: a 400 naming the parameter.
    let refused = admin_post(
        &sim,
        "/api/now/attachment/file?table_name=incident&file_name=x",
    )
    .body("x")
    .send()
    .await
    .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(
        json(refused).await["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("table_sys_id")
    );
}

#[tokio::test]
async fn an_attachment_is_as_readable_as_its_record_and_no_way_around_its_acls() {
    let sim = start(Seed::Demo).await;
    let incident = someone_elses_incident(&sim);
    let created = admin_post(
        &sim,
        &format!("/api/now/attachment/file?table_name=incident&table_sys_id={incident}&file_name=secret.txt"),
    )
    .body("for the service desk")
    .send()
    .await
    .unwrap();
    let id = json(created).await["result"]["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // abel.tuter reads only incidents he raised: this one's attachment does not exist for him.
    let read = demo_get(
        &sim,
        "abel.tuter",
        &format!("/api/now/attachment/{id}/file"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(read.status(), 404);
    let listed = json(
        demo_get(
            &sim,
            "abel.tuter",
            &format!("/api/now/attachment?table_sys_id={incident}"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert!(listed["result"].as_array().unwrap().is_empty(), "{listed}");
    // Nor is the Table API a way to the bytes or the metadata.
    for table in ["sys_attachment_doc", "sys_attachment"] {
        let rows = demo_get(&sim, "abel.tuter", &format!("/api/now/table/{table}"))
            .send()
            .await
            .unwrap();
        assert_eq!(rows.status(), 403, "{table}");
    }
    let attach = client()
        .post(format!(
            "{}/api/now/attachment/file?table_name=incident&table_sys_id={incident}&file_name=x.txt",
            sim.url()
        ))
        .basic_auth("abel.tuter", Some(snowlink_sim::DEMO_PASSWORD))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(attach.status(), 403);

    // Attaching to an ACL record writes no ACL, and an attachment's record reveals no secret.
    let acls_before = sim.state().count("sys_security_acl", "");
    let acl = sim.state().query("sys_security_acl", "")[0]["sys_id"].clone();
    let app = sim.state().query("oauth_entity", "")[0].clone();
    for (table, sys_id) in [
        ("sys_security_acl", acl),
        ("oauth_entity", app["sys_id"].clone()),
    ] {
        let answer = admin_post(
            &sim,
            &format!(
                "/api/now/attachment/file?table_name={table}&table_sys_id={sys_id}&file_name=n.txt"
            ),
        )
        .body("note")
        .send()
        .await
        .unwrap();
        let text = answer.text().await.unwrap();
        assert!(!text.contains(&app["client_secret"]), "{text}");
    }
    assert_eq!(sim.state().count("sys_security_acl", ""), acls_before);
}
