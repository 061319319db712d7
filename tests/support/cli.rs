//! Runs the real `snowlink` binary the way a person or a script does, with its own config
//! directory, and with `$BROWSER` pointing at a headless Chromium that signs in
//! (`tests/js/sign-in.mjs`). The keyring is the session's real Secret Service: run the
//! tests through `scripts/with-keyring` (as `./dev test` does).

use std::path::PathBuf;
use std::process::Output;

use tokio::process::Command;

use crate::paths;

/// How a run ended: exit code and what was printed.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// What the scripted browser did, when one was used.
    pub browser_log: String,
}

impl Run {
    fn from(output: Output, browser_log: String) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            browser_log,
        }
    }

    /// stdout as JSON, failing the test with everything printed when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|err| panic!("stdout is not JSON ({err}): {self:#?}"))
    }
}

/// The environment that makes the system browser a headless Chromium which logs in as `user`
/// and presses `action` (`allow` or `deny`) on the consent page.
pub fn scripted_browser(user: &str, password: &str, action: &str) -> Vec<(String, String)> {
    let script = paths::workspace_root().join("tests/js/sign-in.mjs");
    [
        ("BROWSER", script.display().to_string()),
        ("SNOWLINK_BROWSER_USER", user.to_owned()),
        ("SNOWLINK_BROWSER_PASSWORD", password.to_owned()),
        ("SNOWLINK_BROWSER_ACTION", action.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// One user's `snowlink`: a private config directory, shared keyring session.
pub struct Snowlink {
    config: tempfile::TempDir,
    envs: Vec<(String, String)>,
}

impl Default for Snowlink {
    fn default() -> Self {
        Self::new()
    }
}

impl Snowlink {
    pub fn new() -> Self {
        let binary = paths::cli_binary();
        assert!(
            binary.exists(),
            "{} is missing: cargo build -p snowlink",
            binary.display()
        );
        Self {
            config: tempfile::tempdir().expect("config dir"),
            envs: Vec::new(),
        }
    }

    /// Where the connections file lives.
    pub fn config_dir(&self) -> PathBuf {
        self.config.path().to_path_buf()
    }

    /// Sets an environment variable for every later run.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The setup wizard signs in as `sim`'s admin (`SNOWLINK_ADMIN_USERNAME`, `…_PASSWORD`).
    pub fn as_admin_of(self, sim: &snowlink_sim::RunningSim) -> Self {
        let (user, password) = sim.admin();
        self.env("SNOWLINK_ADMIN_USERNAME", &user)
            .env("SNOWLINK_ADMIN_PASSWORD", &password)
    }

    /// The admin signs in through the browser (a headless Chromium, as `sim`'s admin) with
    /// Snowlink's own OAuth application `client_id`, as `SNOWLINK_ADMIN_GRANT=auth-code` asks.
    pub fn admin_through_the_browser(
        mut self,
        sim: &snowlink_sim::RunningSim,
        client_id: &str,
    ) -> Self {
        let (user, password) = sim.admin();
        if !self.envs.iter().any(|(k, _)| k == "BROWSER") {
            self.envs
                .extend(scripted_browser("abel.tuter", "unused", "allow"));
        }
        self.env("SNOWLINK_ADMIN_GRANT", "auth-code")
            .env("SNOWLINK_ADMIN_CLIENT_ID", client_id)
            .env("SNOWLINK_BROWSER_ADMIN_CLIENT", client_id)
            .env("SNOWLINK_BROWSER_ADMIN_USER", &user)
            .env("SNOWLINK_BROWSER_ADMIN_PASSWORD", &password)
    }

    /// `snowlink connect --instance URL --name NAME --grant auth-code --client-id ID
    /// --link-later` and `extra`: a browser sign-in connection saved for its users to link.
    pub async fn save_link_later(
        &self,
        url: &str,
        name: &str,
        client_id: &str,
        extra: &[&str],
    ) -> Run {
        let mut args = vec![
            "connect",
            "--instance",
            url,
            "--name",
            name,
            "--grant",
            "auth-code",
            "--client-id",
            client_id,
            "--link-later",
        ];
        args.extend_from_slice(extra);
        self.run(&args).await
    }

    /// `snowlink connect --instance URL --name NAME --grant basic --username USER` and `extra`
    /// (the password comes from `SNOWLINK_PASSWORD`, as a script gives it).
    pub async fn connect_basic(&self, url: &str, name: &str, user: &str, extra: &[&str]) -> Run {
        let mut args = vec![
            "connect",
            "--instance",
            url,
            "--name",
            name,
            "--grant",
            "basic",
            "--username",
            user,
        ];
        args.extend_from_slice(extra);
        self.run(&args).await
    }

    /// `snowlink update-set --profile PROFILE --instance acme --input webhook_url=WEBHOOK -o
    /// OUT`: an update set written without a setup.
    pub async fn write_update_set(
        &self,
        profile: &str,
        webhook: &str,
        out: &std::path::Path,
    ) -> Run {
        let input = format!("webhook_url={webhook}");
        let out = out.to_string_lossy().into_owned();
        self.run(&[
            "update-set",
            "--profile",
            profile,
            "--instance",
            "acme",
            "--input",
            &input,
            "-o",
            &out,
        ])
        .await
    }

    /// `snowlink connect` of the demo instance's service account (`svc.snowlink`) over the
    /// password grant of its OAuth app, as `name`; the secrets come from `demo_secrets`.
    pub async fn connect_demo_service(&self, url: &str, name: &str) -> Run {
        self.run(&[
            "connect",
            "--instance",
            url,
            "--name",
            name,
            "--grant",
            "password",
            "--client-id",
            snowlink_sim::DEMO_CLIENT_ID,
            "--username",
            "svc.snowlink",
        ])
        .await
    }

    /// The demo OAuth app's client secret and the service account's password, from the
    /// environment as a script gives them.
    pub fn demo_secrets(self) -> Self {
        self.env("SNOWLINK_CLIENT_SECRET", snowlink_sim::DEMO_CLIENT_SECRET)
            .env("SNOWLINK_PASSWORD", snowlink_sim::DEMO_PASSWORD)
    }

    /// `snowlink setup --profile PROFILE --instance URL --auto` (`--yes` when `yes`): the
    /// wizard run unattended, every step it may do done over the REST API.
    pub async fn auto_setup(&self, profile: &str, url: &str, yes: bool) -> Run {
        let mut args = vec!["setup", "--profile", profile, "--instance", url, "--auto"];
        if yes {
            args.push("--yes");
        }
        self.run(&args).await
    }

    /// The update sets a stopped setup kept for the admin to upload.
    pub fn kept_update_sets(&self) -> Vec<std::path::PathBuf> {
        std::fs::read_dir(self.config_dir().join("setups"))
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.to_string_lossy().ends_with(".update-set.xml"))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `--auto --yes` setup of `profile` on `sim` with `inputs` (`ID=VALUE`, typed on the steps
    /// that ask), the admin uploading in the browser each update set it stops for, as its
    /// message says, and resuming; the last run.
    pub async fn auto_setup_with_uploads(
        &self,
        sim: &snowlink_sim::RunningSim,
        profile: &str,
        inputs: &[&str],
    ) -> Run {
        let mut args = vec!["setup", "--profile", profile, "--instance", sim.url()];
        args.extend(["--auto", "--yes"]);
        for input in inputs {
            args.extend(["--input", input]);
        }
        let mut run = self.run(&args).await;
        for _ in 0..3 {
            let kept = self.kept_update_sets();
            if run.code != 1 || kept.is_empty() {
                break;
            }
            let (user, password) = sim.admin();
            let admin = snowlink_sim::testing::Browser::login(sim.url(), &user, &password).await;
            for file in kept {
                let xml = std::fs::read_to_string(&file).unwrap();
                assert_eq!(admin.upload_update_set(&xml).await.status(), 302);
                std::fs::remove_file(file).unwrap();
            }
            run = self
                .run(&["setup", "--profile", profile, "--resume", "--auto", "--yes"])
                .await;
        }
        run
    }

    /// Sign-ins go through a headless Chromium that logs in as `user` and presses `action`.
    pub fn browser_signs_in_as(mut self, user: &str, password: &str, action: &str) -> Self {
        self.envs.extend(scripted_browser(user, password, action));
        self
    }

    /// Runs `snowlink ARGS` and, once the scripted browser has written the address it could
    /// not reach to `address_file`, types each of `lines` (`{address}` standing for it) on
    /// standard input, as a person pasting.
    pub async fn run_pasting(
        &self,
        args: &[&str],
        address_file: &std::path::Path,
        lines: &[&str],
    ) -> Run {
        use tokio::io::AsyncWriteExt;
        let browser_log = self.config.path().join("browser.log");
        let mut child = self
            .command(args, &browser_log)
            .env("SNOWLINK_BROWSER_UNREACHABLE", address_file)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("snowlink runs");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let address = loop {
            if let Ok(text) = std::fs::read_to_string(address_file)
                && !text.is_empty()
            {
                break text;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the browser never reached the callback: {}",
                std::fs::read_to_string(&browser_log).unwrap_or_default()
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        let mut stdin = child.stdin.take().expect("piped stdin");
        for line in lines {
            let text = line.replace("{address}", &address);
            stdin
                .write_all(format!("{text}\n").as_bytes())
                .await
                .expect("stdin");
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        drop(stdin);
        let output = child.wait_with_output().await.expect("snowlink ends");
        Run::from(
            output,
            std::fs::read_to_string(&browser_log).unwrap_or_default(),
        )
    }

    fn command(&self, args: &[&str], browser_log: &std::path::Path) -> Command {
        let _ = std::fs::remove_file(browser_log);
        let mut command = Command::new(paths::cli_binary());
        command
            .args(args)
            .env("SNOWLINK_CONFIG_DIR", self.config.path())
            .env_remove("SNOWLINK_CLIENT_SECRET")
            .env_remove("SNOWLINK_PASSWORD")
            .env_remove("SNOWLINK_API_KEY")
            .env_remove("BROWSER")
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .env("SNOWLINK_BROWSER_LOG", browser_log);
        command
    }

    /// Runs `snowlink ARGS` (stdin closed: no prompts) and waits for it.
    pub async fn run(&self, args: &[&str]) -> Run {
        let browser_log = self.config.path().join("browser.log");
        let output = self
            .command(args, &browser_log)
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .expect("snowlink runs");
        Run::from(
            output,
            std::fs::read_to_string(&browser_log).unwrap_or_default(),
        )
    }
}
