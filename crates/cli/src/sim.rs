//! `snowlink sim`: runs the local ServiceNow simulator in the foreground for demos and
//! end-to-end tests. It prints the instance URL and the seeded admin credentials (with `--json`
//! exactly one JSON line first, for scripts), then serves until Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde::Serialize;
use snowlink_sim::{DEMO_CLIENT_ID, FAULT_SYNTAX, Fault, STORE_APP_SYNTAX, Seed, Sim, StoreApp};

use snowlink_core::errors::FrontEndError;

use crate::output::{fail, print_json, print_line};

#[derive(Args)]
pub struct SimArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Initial data: `demo` (users, catalogs, incidents) or `empty` (admin and base config).
    #[arg(long, value_enum, default_value_t = SeedArg::Demo)]
    seed: SeedArg,
    /// Fault to inject; repeatable. One of: hibernate, latency=MS, ratelimit[=N], queue-full,
    /// quota, quota-json, flaky-acl=N, drop, slow=MS, no-cicd, cicd-busy,
    /// commit-needs-elevation, basic-restricted, before-zurich, cicd-canceled.
    #[arg(long = "fault", value_parser = parse_fault)]
    faults: Vec<Fault>,
    /// ServiceNow Store application to install (its scope and roles); repeatable. One of:
    /// incident-io (the demo seed has it installed).
    #[arg(long = "app", value_parser = parse_app)]
    apps: Vec<StoreApp>,
    /// Serve HTTPS with a generated, untrusted self-signed certificate.
    #[arg(long)]
    tls: bool,
    /// Serve HTTPS with a certificate signed by a generated private CA named NAME, as a
    /// TLS-inspecting corporate proxy presents (implies --tls). With --json the CA's PEM is
    /// printed as `certificate_pem`, for a client's extra trusted root.
    #[arg(long = "tls-ca", value_name = "NAME")]
    tls_ca: Option<String>,
    /// Print the URL and admin credentials as one JSON line.
    #[arg(long)]
    json: bool,
    /// Load the state from FILE when it exists, and save it there on exit.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SeedArg {
    Demo,
    Empty,
}

fn parse_fault(text: &str) -> Result<Fault, String> {
    text.parse()
        .map_err(|err: String| format!("{err} (expected {FAULT_SYNTAX})"))
}

fn parse_app(text: &str) -> Result<StoreApp, String> {
    text.parse()
        .map_err(|err: String| format!("{err} (expected {STORE_APP_SYNTAX})"))
}

#[derive(Serialize)]
struct Started<'a> {
    url: &'a str,
    admin: Admin<'a>,
    /// The demo's OAuth application: its secret cannot be read back over the Table API, as on
    /// an instance, so it is given here. Absent for an empty instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    oauth: Option<OAuth>,
    /// The PEM to trust when serving TLS; absent over plain HTTP, so that line stays as it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_pem: Option<&'a str>,
}

#[derive(Serialize)]
struct OAuth {
    client_id: String,
    client_secret: String,
}

#[derive(Serialize)]
struct Admin<'a> {
    user_name: &'a str,
    password: &'a str,
}

pub fn run(args: SimArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(&FrontEndError::Runtime(err.to_string()).view(), args.json),
    };
    runtime.block_on(serve(args))
}

async fn serve(args: SimArgs) -> ExitCode {
    let json = args.json;
    let seed = match args.seed {
        SeedArg::Demo => Seed::Demo,
        SeedArg::Empty => Seed::Empty,
    };
    let mut builder = Sim::builder().seed(seed).port(args.port).tls(args.tls);
    if let Some(name) = &args.tls_ca {
        builder = builder.tls_ca(name);
    }
    for fault in args.faults {
        builder = builder.fault(fault);
    }
    for app in args.apps {
        builder = builder.app(app);
    }
    if let Some(path) = args.state {
        builder = builder.state_file(path);
    }
    let sim = match builder.start().await {
        Ok(sim) => sim,
        Err(err) => return fail(&FrontEndError::Simulator(err.to_string()).view(), json),
    };
    let stop = stop_signals();
    let (user_name, password) = sim.admin();
    let oauth = sim
        .state()
        .query("oauth_entity", &format!("client_id={DEMO_CLIENT_ID}"))
        .into_iter()
        .next()
        .map(|app| OAuth {
            client_id: DEMO_CLIENT_ID.to_owned(),
            client_secret: app.get("client_secret").cloned().unwrap_or_default(),
        });
    let printed = if json {
        print_json(&Started {
            url: sim.url(),
            admin: Admin {
                user_name: &user_name,
                password: &password,
            },
            oauth,
            certificate_pem: sim.certificate_pem(),
        })
    } else {
        print_line(&format!(
            "ServiceNow simulator at {}\nadmin user: {user_name}\nadmin password: {password}\nPress Ctrl-C to stop.",
            sim.url()
        ))
    };
    if printed != ExitCode::SUCCESS {
        return printed;
    }
    stop.await;
    match sim.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&FrontEndError::SimulatorState(err.to_string()).view(), json),
    }
}

/// Ctrl-C, or SIGTERM where there are signals (a test harness or a service manager stops us
/// so). The handlers are installed when this is called, not when it is awaited: a harness that
/// stops the simulator right after reading its first line must be heard.
fn stop_signals() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            match (terminate, interrupt) {
                (Ok(mut terminate), Ok(mut interrupt)) => {
                    tokio::select! {
                        _ = terminate.recv() => {}
                        _ = interrupt.recv() => {}
                    }
                }
                (Ok(mut one), Err(_)) | (Err(_), Ok(mut one)) => {
                    let _ = one.recv().await;
                }
                (Err(_), Err(_)) => std::future::pending().await,
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_help_names_every_fault_the_simulator_takes() {
        let mut cli = crate::Cli::command();
        let sim = cli.find_subcommand_mut("sim").expect("a sim command");
        let help = sim.render_long_help().to_string();
        for spelling in super::FAULT_SYNTAX.split(" | ") {
            assert!(
                help.contains(spelling),
                "{spelling} is missing from: {help}"
            );
        }
    }
}
