//! Table API and Aggregate API latency over real loopback HTTP with 1,000,000 `incident` rows.
//! Issue 3's bar: a Table GET with `sysparm_limit=100` and an Aggregate count with an encoded
//! query each answer in under 50 ms. Plain `Instant` timing, medians printed; not a test.

use std::time::{Duration, Instant};

use snowlink_sim::{Record, Seed, Sim};

const ROWS: usize = 1_000_000;
const SAMPLES: usize = 21;

fn incident(n: usize) -> Record {
    let state = ["1", "2", "3", "6", "7"][n % 5];
    let mut record = Record::from([
        (
            "short_description".to_owned(),
            format!("Benchmark incident {}", n % 977),
        ),
        ("state".to_owned(), state.to_owned()),
        ("priority".to_owned(), ((n % 5) + 1).to_string()),
        (
            "category".to_owned(),
            ["network", "software", "hardware", "inquiry"][n % 4].to_owned(),
        ),
        (
            "active".to_owned(),
            if matches!(state, "6" | "7") {
                "false"
            } else {
                "true"
            }
            .to_owned(),
        ),
    ]);
    if n.is_multiple_of(10) {
        record.insert("correlation_id".to_owned(), format!("OPS-{n}"));
    }
    record
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn time(
    client: &reqwest::Client,
    url: &str,
    user: &str,
    password: &str,
) -> (Duration, usize) {
    let mut samples = Vec::with_capacity(SAMPLES);
    let mut bytes = 0;
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let response = client
            .get(url)
            .basic_auth(user, Some(password))
            .send()
            .await
            .expect("request");
        assert!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
        bytes = response.bytes().await.expect("body").len();
        samples.push(started.elapsed());
    }
    (median(samples), bytes)
}

#[tokio::main]
async fn main() {
    let sim = Sim::builder()
        .seed(Seed::Empty)
        .start()
        .await
        .expect("simulator starts");
    let started = Instant::now();
    let inserted = sim
        .state()
        .insert_many("incident", (0..ROWS).map(incident))
        .expect("insert");
    println!(
        "loaded {inserted} incidents in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let (user, password) = sim.admin();
    let client = reqwest::Client::new();
    let base = sim.url();
    let cases = [
        (
            "Table GET sysparm_limit=100",
            format!("{base}/api/now/table/incident?sysparm_limit=100"),
        ),
        (
            "Table GET sysparm_limit=100, encoded query",
            format!(
                "{base}/api/now/table/incident?sysparm_limit=100&sysparm_query=active%3Dtrue%5Epriority%3D1"
            ),
        ),
        (
            "Table GET sysparm_limit=100, ORDERBYDESCsys_created_on",
            format!(
                "{base}/api/now/table/incident?sysparm_limit=100&sysparm_query=ORDERBYDESCsys_created_on"
            ),
        ),
        (
            "Aggregate count, encoded query",
            format!(
                "{base}/api/now/stats/incident?sysparm_count=true&sysparm_query=active%3Dtrue%5Epriority%3D1"
            ),
        ),
        (
            "Aggregate count, LIKE + ISNOTEMPTY",
            format!(
                "{base}/api/now/stats/incident?sysparm_count=true&sysparm_query=short_descriptionLIKE97%5Ecorrelation_idISNOTEMPTY"
            ),
        ),
    ];
    for (name, url) in cases {
        let (median, bytes) = time(&client, &url, &user, &password).await;
        let verdict = if median < Duration::from_millis(50) {
            "ok"
        } else {
            "OVER 50 ms"
        };
        println!(
            "{name}: median {:.2} ms over {SAMPLES} runs ({bytes} bytes) {verdict}",
            median.as_secs_f64() * 1000.0
        );
    }
}
