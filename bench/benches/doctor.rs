//! Diagnosis speed, issue 9's bars, against the simulator with 100 ms of latency added to every
//! request (a far instance):
//! - a full doctor run takes at most 1.5× its critical path (the longest chain of dependent
//!   checks, from each check's own time) and far less than the checks one after another;
//! - counting 1,000,000 linked records takes one request;
//! - diagnosing 50 saved connections at once takes at most 3× one connection's run.
//!
//! Plain `Instant` timing, medians printed, PASS/FAIL per bar; not a test.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use snowlink_core::InstanceUrl;
use snowlink_core::api::{Auth, SnowClient};
use snowlink_core::checks::{CheckId, Credentials, Report, RunOptions, Target, count_linked};
use snowlink_core::http::{ClientOptions, HttpLog};
use snowlink_core::profiles::{CheckParams, LinkSpec, TableAccess};
use snowlink_core::secrets::{ClientSecret, Password};
use snowlink_sim::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD, Fault, Record, RunningSim, Seed, Sim,
};

const LATENCY: Duration = Duration::from_millis(100);
const RUNS: usize = 5;
const CONNECTIONS: usize = 50;
const LINKED: usize = 1_000_000;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A service account with everything the checks look at: roles, a table, an update set.
fn target(sim: &RunningSim) -> Target {
    let (admin, password) = sim.admin();
    let vars: HashMap<&str, String> = HashMap::from([
        ("SNOWLINK_ADMIN_USERNAME", admin),
        ("SNOWLINK_ADMIN_PASSWORD", password),
    ]);
    let mut target = Target::of_instance(sim.url(), &|_| None)
        .expect("target")
        .with_admin_from(&|name| vars.get(name).cloned());
    target.credentials = Credentials::PasswordGrant {
        client_id: DEMO_CLIENT_ID.into(),
        client_secret: Some(ClientSecret::new(DEMO_CLIENT_SECRET)),
        username: "svc.snowlink".into(),
        password: Password::new(DEMO_PASSWORD),
    };
    target.params = CheckParams {
        roles: vec!["itil".into()],
        tables: vec![TableAccess {
            table: "incident".into(),
            operations: vec!["read".into(), "write".into()],
        }],
        update_set: Some("Bench Update Set".into()),
        ..CheckParams::default()
    };
    target
}

/// The longest chain of dependent checks, from each check's own time.
fn critical_path(report: &Report) -> f64 {
    let elapsed: HashMap<CheckId, f64> = report
        .checks
        .iter()
        .map(|c| (c.id, c.elapsed_ms as f64))
        .collect();
    let mut longest: HashMap<CheckId, f64> = HashMap::new();
    for &id in CheckId::ALL {
        let before = id
            .prerequisites()
            .iter()
            .filter_map(|p| longest.get(p))
            .fold(0.0, |a: f64, b| a.max(*b));
        longest.insert(id, before + elapsed.get(&id).copied().unwrap_or(0.0));
    }
    longest.values().fold(0.0, |a, b| a.max(*b))
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}

#[tokio::main]
async fn main() -> ExitCode {
    let sim = Sim::builder()
        .seed(Seed::Demo)
        .start()
        .await
        .expect("simulator starts");
    sim.state()
        .insert(
            "sys_remote_update_set",
            Record::from([
                ("name".into(), "Bench Update Set".into()),
                ("state".into(), "committed".into()),
            ]),
        )
        .expect("update set");
    sim.set_fault(Fault::Latency(LATENCY));
    let mut ok = true;

    // 1. One run against its critical path and against the checks in turn.
    let (mut walls, mut paths, mut sums) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let report = snowlink_core::checks::run(target(&sim), RunOptions::default()).await;
        assert!(
            !report.has_failures(),
            "the bench instance is healthy: {report:#?}"
        );
        walls.push(report.elapsed_ms as f64);
        paths.push(critical_path(&report));
        sums.push(report.checks.iter().map(|c| c.elapsed_ms as f64).sum());
    }
    let (wall, path, sum) = (median(walls), median(paths), median(sums));
    let pass = wall <= path * 1.5;
    ok &= pass;
    println!(
        "doctor, {} ms latency per request: wall {wall:.0} ms, critical path {path:.0} ms ({:.2}×), \
         checks one after another {sum:.0} ms ({:.2}× the wall) {}",
        LATENCY.as_millis(),
        wall / path,
        sum / wall,
        verdict(pass)
    );

    // 2. Diagnosing 50 saved connections at once against one.
    let mut single = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let _ = snowlink_core::checks::run_all(vec![target(&sim)], &RunOptions::default()).await;
        single.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let single = median(single);
    let started = Instant::now();
    let reports = snowlink_core::checks::run_all(
        (0..CONNECTIONS).map(|_| target(&sim)).collect(),
        &RunOptions::default(),
    )
    .await;
    let all = started.elapsed().as_secs_f64() * 1000.0;
    assert!(
        reports.iter().all(|(r, _)| !r.has_failures()),
        "every run is healthy"
    );
    let pass = all <= single * 3.0;
    ok &= pass;
    println!(
        "doctor --all over {CONNECTIONS} connections: {all:.0} ms, one connection {single:.0} ms ({:.2}×, {} at once) {}",
        all / single,
        snowlink_core::checks::RUNS_AT_ONCE,
        verdict(pass)
    );

    // 3. Counting a million linked records.
    sim.clear_faults();
    let loading = Instant::now();
    sim.state()
        .insert_many(
            "incident",
            (0..LINKED).map(|n| {
                Record::from([("state".to_owned(), ["1", "2", "6", "7"][n % 4].to_owned())])
            }),
        )
        .expect("records");
    println!(
        "loaded {LINKED} incidents in {:.1} s",
        loading.elapsed().as_secs_f64()
    );
    let (admin, password) = sim.admin();
    let log = HttpLog::default();
    let options = ClientOptions {
        log: Some(log.clone()),
        ..ClientOptions::new(Duration::from_secs(60))
    };
    let client = SnowClient::with_options(
        InstanceUrl::parse(sim.url()).expect("url"),
        Auth::Basic {
            username: admin.clone(),
            password: Password::new(password),
        },
        &options,
    )
    .expect("client");
    let spec = LinkSpec {
        table: "incident".into(),
        query: String::new(),
        created_by_user: true,
        group_by: "state".into(),
        label: "incidents".into(),
    };
    let counting = Instant::now();
    let linked = count_linked(&client, &spec, &admin).await.expect("count");
    let took = counting.elapsed();
    let requests = log.exchanges().len();
    let pass = requests == 1 && linked.total >= LINKED as u64;
    ok &= pass;
    println!(
        "linked records: {} counted in {requests} request(s), {:.0} ms, by state {:?} {}",
        linked.total,
        took.as_secs_f64() * 1000.0,
        linked
            .by_state
            .iter()
            .map(|s| (s.state.as_str(), s.count))
            .collect::<Vec<_>>(),
        verdict(pass)
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
