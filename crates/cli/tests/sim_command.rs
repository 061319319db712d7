//! `snowlink sim` as a script uses it: one JSON line first, a URL that answers the Table API
//! with the printed admin credentials, a clean exit on SIGTERM, and `--state` surviving a restart.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

fn start(args: &[&str]) -> (Child, serde_json::Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_snowlink"))
        .arg("sim")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("snowlink starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("first line");
    let printed: serde_json::Value =
        serde_json::from_str(first.trim()).expect("the first line is JSON");
    (child, printed)
}

fn terminate(mut child: Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = child.wait().expect("exits");
    assert!(exit.success(), "exit status {exit:?}");
}

async fn incidents(printed: &serde_json::Value) -> reqwest::Response {
    let url = printed["url"].as_str().unwrap();
    reqwest::Client::new()
        .get(format!("{url}/api/now/table/incident?sysparm_limit=1"))
        .basic_auth(
            printed["admin"]["user_name"].as_str().unwrap(),
            printed["admin"]["password"].as_str(),
        )
        .send()
        .await
        .expect("the simulator answers")
}

#[tokio::test]
async fn sim_json_prints_one_line_and_serves_the_table_api_until_sigterm() {
    let (child, printed) = start(&["--json", "--seed", "demo"]);
    let object = printed.as_object().unwrap();
    assert_eq!(object.len(), 3, "{printed}");
    assert!(
        printed["url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    assert_eq!(printed["admin"].as_object().unwrap().len(), 2);
    let response = incidents(&printed).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["result"].as_array().unwrap().len(), 1);
    // The demo application's credentials, which the Table API never reads back: they work.
    let tokens = reqwest::Client::new()
        .post(format!(
            "{}/oauth_token.do",
            printed["url"].as_str().unwrap()
        ))
        .form(&[
            ("grant_type", "password"),
            ("client_id", printed["oauth"]["client_id"].as_str().unwrap()),
            (
                "client_secret",
                printed["oauth"]["client_secret"].as_str().unwrap(),
            ),
            ("username", printed["admin"]["user_name"].as_str().unwrap()),
            ("password", printed["admin"]["password"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(tokens.status(), 200);
    terminate(child);
}

#[tokio::test]
async fn an_empty_instance_has_no_oauth_application_to_print() {
    let (child, printed) = start(&["--json", "--seed", "empty"]);
    assert!(printed.get("oauth").is_none(), "{printed}");
    terminate(child);
}

#[tokio::test]
async fn sim_state_file_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.json");
    let path = path.to_str().unwrap();
    let (child, first) = start(&["--json", "--state", path]);
    terminate(child);
    assert!(std::path::Path::new(path).exists());
    let (child, second) = start(&["--json", "--state", path]);
    assert_eq!(first["admin"], second["admin"]);
    assert_eq!(incidents(&second).await.status(), 200);
    terminate(child);
}

#[test]
fn an_unknown_fault_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_snowlink"))
        .args(["sim", "--fault", "meteor"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("hibernate"));
}
