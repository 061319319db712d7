//! The layers below ServiceNow: the address as typed (`url.parse`), the host name
//! (`dns.resolve`), a TCP connection (`tcp.connect`) and whether the instance answers its REST
//! API as an awake instance does (`instance.awake`: an awake one refuses an anonymous call with
//! a JSON 401; a hibernating one answers HTML with 200, servicenow.md §3.1).

use std::net::SocketAddr;
use std::time::Instant;

use super::outcome::{Outcome, ask_admin};
use super::runner::Ctx;
use crate::instance::{InstanceUrl, InstanceUrlView};

/// The port the instance listens on: the URL's, or the scheme's default.
pub fn port_of(instance: &InstanceUrl) -> u16 {
    url::Url::parse(instance.as_str())
        .ok()
        .and_then(|url| url.port_or_known_default())
        .unwrap_or(443)
}

pub async fn url_parse(ctx: &Ctx) -> Result<Outcome, Outcome> {
    match InstanceUrlView::parse(&ctx.target.typed) {
        Ok(view) => {
            let instance = InstanceUrl::parse(&view.url)
                .map_err(|err| Outcome::fail(err.to_string()).fix(err.hint()))?;
            let _ = ctx.instance.set(instance);
            let mut outcome = Outcome::pass(format!("The instance is {}.", view.url));
            if !view.notes.is_empty() {
                outcome = outcome.detail(view.notes.join("; "));
            }
            Ok(outcome)
        }
        Err(err) => Err(Outcome::fail(err.to_string()).fix(err.hint())),
    }
}

pub async fn dns_resolve(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let instance = ctx.instance()?;
    let host = instance
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = port_of(instance);
    match tokio::net::lookup_host((host.clone(), port)).await {
        Ok(found) => {
            let addrs: Vec<SocketAddr> = found.collect();
            if addrs.is_empty() {
                return Err(unresolved(&host));
            }
            let shown: Vec<String> = addrs.iter().take(3).map(|a| a.ip().to_string()).collect();
            let _ = ctx.addrs.set(addrs);
            Ok(Outcome::pass(format!(
                "{host} resolves to {}.",
                shown.join(", ")
            )))
        }
        Err(_) => Err(unresolved(&host)),
    }
}

fn unresolved(host: &str) -> Outcome {
    Outcome::fail(format!("The host name {host} could not be resolved."))
        .user("Check the instance address for typos, and that your network or VPN is up.")
        .admin(format!(
            "Check that {host} is the instance's address; a custom domain needs its DNS record, \
             and a private one the VPN."
        ))
}

pub async fn tcp_connect(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let instance = ctx.instance()?;
    let addrs = ctx.addrs.get().cloned().unwrap_or_default();
    let mut last_error = None;
    for addr in &addrs {
        let started = Instant::now();
        match tokio::net::TcpStream::connect(addr).await {
            Ok(_) => {
                return Ok(Outcome::pass(format!(
                    "Connected to {addr} in {} ms.",
                    started.elapsed().as_millis()
                )));
            }
            Err(err) => last_error = Some((addr, err)),
        }
    }
    let host = instance.host();
    let port = port_of(instance);
    Err(match last_error {
        Some((addr, err)) if err.kind() == std::io::ErrorKind::ConnectionRefused => Outcome::fail(
            format!("Nothing accepts connections on {addr} ({host} port {port})."),
        )
        .user("Check the address and port; a firewall or proxy may refuse the connection.")
        .admin(
            "Check the port in the address; if the instance allows only some networks \
                     (IP Address Access Control), add this one.",
        ),
        Some((addr, err)) => Outcome::fail(format!("The connection to {addr} failed ({err})."))
            .fix("Check your network, VPN or proxy; the instance may only accept some networks."),
        None => Outcome::fail(format!("{host} has no address to connect to.")),
    })
}

pub async fn instance_awake(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let instance = ctx.instance()?;
    let http = ctx.http()?;
    let url = instance
        .endpoint("/api/now/table/sys_user?sysparm_limit=1&sysparm_fields=sys_id")
        .map_err(|err| Outcome::fail(format!("Invalid address: {err}.")))?;
    let started = Instant::now();
    let sent = http
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(err) => {
            let cause = crate::http::classify(&err, instance.host(), ctx.options.timeout);
            if let Some(log) = &ctx.options.log {
                log.record("GET", &url, Err(&cause), started.elapsed());
            }
            return Err(super::outcome::transport_failure(&cause));
        }
    };
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|l| crate::text::untrusted(l.split('?').next().unwrap_or(""), 200));
    if let Some(log) = &ctx.options.log {
        log.record(
            "GET",
            &url,
            Ok((status, Some(&content_type))),
            started.elapsed(),
        );
    }
    let (body, _) = crate::http::read_capped(response, 64 * 1024)
        .await
        .unwrap_or_default();
    let page = String::from_utf8_lossy(&body).to_ascii_lowercase();
    let json = content_type.starts_with("application/json");
    Ok(match status {
        401 | 403 if json => Outcome::pass("The instance is awake and answers its REST API."),
        _ if page.contains("hibernating") => {
            return Err(Outcome::fail(
                "The instance is hibernating: it answers a web page (HTTP 200, text/html) \
                 instead of its REST API.",
            )
            .user(ask_admin("wake the developer instance"))
            .admin(
                "Sign in at developer.servicenow.com and wake the instance (it hibernates when \
                 idle); it answers again a few minutes later.",
            )
            .link(
                "ServiceNow developer portal",
                "https://developer.servicenow.com/".into(),
            )
            .next(crate::errors::NextStep::Retry));
        }
        300..=399 => {
            return Err(Outcome::fail(format!(
                "The instance redirects API calls{}: a sign-in portal or the wrong address.",
                location.map(|l| format!(" to {l}")).unwrap_or_default()
            ))
            .fix("Use the instance's own address (the one your browser shows after signing in)."));
        }
        429 => Outcome::warn("The instance is limiting requests right now (HTTP 429).")
            .fix("Run the check again in a minute."),
        500..=599 => {
            return Err(
                Outcome::fail(format!("The instance answered HTTP {status}."))
                    .fix("The instance reports an internal problem: try again later.")
                    .next(crate::errors::NextStep::Retry),
            );
        }
        _ if !json => {
            return Err(Outcome::fail(format!(
                "Something other than ServiceNow answers (HTTP {status}, {}).",
                if content_type.is_empty() {
                    "no content type"
                } else {
                    &content_type
                }
            ))
            .fix(
                "Check the instance address; a proxy, a captive portal or a sign-in page may \
                 answer instead of the instance.",
            ));
        }
        _ => Outcome::warn(format!(
            "The instance answered an anonymous call with HTTP {status}; a real one refuses it \
             with 401."
        ))
        .fix("Check that this address is a ServiceNow instance."),
    })
}
