//! What the integration itself needs of the instance: access to its tables (`acl.table`:
//! reads tried live, telling "no rows" from "rows hidden by ACLs"; writes read from the ACL
//! records with admin credentials, since trying one would change data, servicenow.md §2.7), the
//! update set committed (`updateset.committed`, §4.4), its scripted REST endpoint answering
//! (`rest.scripted`), and the business rule's outbound call when a sample record is created
//! (`roundtrip.outbound`).

use std::collections::BTreeSet;
use std::time::Duration;

use super::outcome::{Outcome, api_failure, ask_admin, list_link, record_link};
use super::runner::Ctx;
use crate::api::{ApiError, EncodedQuery, SnowClient, TableQuery, field};

pub async fn acl_table(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let tables = &ctx.target.params.tables;
    if tables.is_empty() {
        return Ok(Outcome::skip("the integration names no tables"));
    }
    let session = ctx.session()?;
    let instance = ctx.instance()?;
    let user = session.identity.user_name.clone();
    let mut findings: Vec<String> = Vec::new();
    let mut unchecked: Vec<String> = Vec::new();
    for access in tables {
        let table = access.table.as_str();
        if access.operations.iter().any(|op| op == "read") {
            let probe = TableQuery {
                fields: vec!["sys_id".into()],
                limit: Some(1),
                ..TableQuery::default()
            };
            match session.client.query(table, &probe).await {
                Ok(page) if page.records.is_empty() && page.total.unwrap_or(0) > 0 => {
                    findings.push(format!(
                        "{table}: the instance counts {} rows but returns none: row-level ACLs hide them from {user}",
                        page.total.unwrap_or(0)
                    ));
                }
                Ok(_) => {}
                Err(ApiError::Forbidden { .. }) => {
                    return Err(Outcome::fail(format!("ACL {table} / read refuses {user}."))
                        .user(ask_admin(&format!("let {user} read {table}")))
                        .admin(format!(
                            "Add a read ACL on {table} for one of {user}'s roles, or give {user} a role an existing one allows."
                        ))
                        .link(format!("ACLs on {table}"), list_link(instance, "sys_security_acl", &format!("name={table}^ORnameSTARTSWITH{table}."))));
                }
                Err(ApiError::InvalidTable { .. }) => {
                    return Err(Outcome::fail(format!("The table {table} does not exist on this instance."))
                        .fix("Import and commit the integration's update set (System Update Sets > Retrieved Update Sets)."));
                }
                Err(err) => return Err(api_failure(&err, &format!("the {table} table"))),
            }
        }
        let writes: Vec<&String> = access
            .operations
            .iter()
            .filter(|op| *op != "read")
            .collect();
        if writes.is_empty() {
            continue;
        }
        let (Some(admin), Some(roles)) = (ctx.admin_client(), ctx.roles.get()) else {
            unchecked.push(format!("{table} ({})", join(&writes)));
            continue;
        };
        let verdicts = futures::future::join_all(
            writes
                .iter()
                .map(|operation| acl_allows(&admin, table, operation, roles)),
        )
        .await;
        for (operation, verdict) in writes.into_iter().zip(verdicts) {
            match verdict {
                Ok(true) => {}
                Ok(false) => {
                    return Err(Outcome::fail(format!(
                        "ACL {table} / {operation} is missing for {user}'s roles."
                    ))
                    .detail(format!("{user} has: {}.", roles.iter().cloned().collect::<Vec<_>>().join(", ")))
                    .user(ask_admin(&format!("let {user} {operation} {table} records")))
                    .admin(format!(
                        "Create an ACL on {table} for {operation} (type record, Allow If) with one of {user}'s roles, after elevating to security_admin."
                    ))
                    .link(format!("ACLs on {table}"), list_link(instance, "sys_security_acl", &format!("name={table}^operation={operation}"))));
                }
                Err(err) => return Err(api_failure(&err, "the ACL records")),
            }
        }
    }
    let done = tables
        .iter()
        .map(|t| t.table.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(first) = findings.first() {
        return Ok(
            Outcome::warn(format!("Reading works, with rows hidden: {first}."))
                .detail(findings.join("; "))
                .admin("Check the row-level ACLs on the table, or the integration's filter."),
        );
    }
    if !unchecked.is_empty() {
        return Ok(Outcome::warn(format!("{user} can read {done}; writes were not checked: {}.", unchecked.join(", ")))
            .detail("Checking writes without changing data reads the ACL records, which needs admin credentials.")
            .next(crate::errors::NextStep::GiveAdminCredentials));
    }
    Ok(Outcome::pass(format!(
        "{user} has the access it needs to {done}."
    )))
}

fn join(items: &[&String]) -> String {
    items
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether an active ACL on `table` (or `table.*`) for `operation` lets one of `roles` in:
/// the ACLs, their roles, the roles' names — three reads, whatever the number of ACLs.
async fn acl_allows(
    admin: &SnowClient,
    table: &str,
    operation: &str,
    roles: &BTreeSet<String>,
) -> Result<bool, ApiError> {
    if roles.contains("admin") {
        // ACLs marked "admin overrides" let admin through; the roles check warns about admin
        // service accounts.
        return Ok(true);
    }
    let ids = |records: &[crate::api::Record], name: &str| -> Vec<String> {
        records
            .iter()
            .filter_map(|r| field(r, name))
            .map(str::to_owned)
            .collect()
    };
    let query = EncodedQuery::raw("active=true")
        .eq("operation", operation)?
        .is_in("name", &[table.to_owned(), format!("{table}.*")])?;
    let acls = admin
        .query(
            "sys_security_acl",
            &TableQuery {
                query: Some(query),
                fields: vec!["sys_id".into(), "decision_type".into()],
                limit: Some(100),
                ..TableQuery::default()
            },
        )
        .await?;
    let allowing: Vec<crate::api::Record> = acls
        .records
        .into_iter()
        .filter(|acl| field(acl, "decision_type") != Some("deny"))
        .collect();
    let acl_ids = ids(&allowing, "sys_id");
    if acl_ids.is_empty() {
        return Ok(false);
    }
    let grants = admin
        .query(
            "sys_security_acl_role",
            &TableQuery {
                query: Some(EncodedQuery::default().is_in("sys_security_acl", &acl_ids)?),
                fields: vec!["sys_user_role".into()],
                limit: Some(500),
                ..TableQuery::default()
            },
        )
        .await?;
    let role_ids = ids(&grants.records, "sys_user_role");
    if role_ids.is_empty() {
        return Ok(false);
    }
    let names = admin
        .query(
            "sys_user_role",
            &TableQuery {
                query: Some(EncodedQuery::default().is_in("sys_id", &role_ids)?),
                fields: vec!["name".into()],
                limit: Some(500),
                ..TableQuery::default()
            },
        )
        .await?;
    Ok(names
        .records
        .iter()
        .any(|r| field(r, "name").is_some_and(|n| roles.contains(n))))
}

pub async fn updateset_committed(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let Some(name) = ctx.target.params.update_set.clone() else {
        return Ok(Outcome::skip("the integration has no update set"));
    };
    let instance = ctx.instance()?;
    let reader = ctx.reader()?;
    // The vendor's set, or Snowlink's stand-in for it: committed first, the vendor's first.
    let mut names = vec![name.clone()];
    names.extend(ctx.target.params.update_set_stand_in.clone());
    let query = EncodedQuery::default()
        .is_in("name", &names)
        .map_err(|err| Outcome::fail(err.to_string()))?;
    let sets = reader
        .query(
            "sys_remote_update_set",
            &TableQuery {
                query: Some(query),
                fields: ["sys_id", "state", "name"].map(String::from).to_vec(),
                limit: Some(20),
                ..TableQuery::default()
            },
        )
        .await
        .map_err(|err| api_failure(&err, "the retrieved update sets"))?;
    let retrieved = list_link(instance, "sys_remote_update_set", &format!("name={name}"));
    let rank = |s: &&crate::api::Record| {
        (
            field(s, "state") != Some("committed"),
            field(s, "name") != Some(name.as_str()),
        )
    };
    let found = sets.records.iter().min_by_key(rank);
    let stand_in = found.is_some_and(|s| field(s, "name") != Some(name.as_str()));
    let name = found
        .and_then(|s| field(s, "name"))
        .map_or(name.clone(), |n| crate::text::untrusted(n, 200));
    let Some(set) = found else {
        return Err(Outcome::fail(format!("The update set {name} was never imported."))
            .user(ask_admin(&format!("import and commit the update set {name}")))
            .admin(format!("Import {name} (System Update Sets > Retrieved Update Sets > Import Update Set from XML), preview and commit it."))
            .link("Retrieved update sets", retrieved));
    };
    let state = field(set, "state").unwrap_or("unknown").to_owned();
    let sys_id = field(set, "sys_id").unwrap_or_default().to_owned();
    let link = record_link(instance, "sys_remote_update_set", &sys_id);
    if state != "committed" {
        return Err(
            Outcome::fail(format!("Update set {name} is {state}, not committed."))
                .user(ask_admin(&format!("commit the update set {name}")))
                .admin(format!(
                    "Open {name}, preview it, resolve any problems and press Commit Update Set."
                ))
                .link(format!("Update set {name}"), link),
        );
    }
    let query = EncodedQuery::raw("status=skipped")
        .eq("remote_update_set", &sys_id)
        .map_err(|err| Outcome::fail(err.to_string()))?;
    let skipped = reader
        .count("sys_update_preview_problem", Some(&query))
        .await
        .unwrap_or(0);
    if skipped > 0 {
        return Ok(Outcome::warn(format!(
            "Update set {name} is committed, with {skipped} preview problem(s) skipped: those changes were not applied."
        ))
        .admin("Open the update set's preview problems; the skipped ones may be what the integration needs.")
        .link(format!("Update set {name}"), link));
    }
    if stand_in {
        return Ok(Outcome::pass(format!(
            "Update set {name} is committed: Snowlink's stand-in, fine for trying the flow; the \
             integration itself needs the set its vendor gives."
        )));
    }
    Ok(Outcome::pass(format!("Update set {name} is committed.")))
}

pub async fn rest_scripted(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let Some(path) = ctx.target.params.endpoint.clone() else {
        return Ok(Outcome::skip(
            "the integration has no scripted REST endpoint",
        ));
    };
    let session = ctx.session()?;
    match session.client.get_path(&path).await {
        Ok(_) => Ok(Outcome::pass(format!("{path} answers."))),
        Err(ApiError::PathNotFound { .. } | ApiError::NotFound { .. }) => Err(Outcome::fail(format!(
            "{path} answers 400 \"Requested URI does not represent any resource\": the update set was not committed."
        ))
        .user(ask_admin("commit the integration's update set"))
        .admin("Commit the update set that installs the scripted REST API (System Web Services > Scripted REST APIs shows it once committed).")),
        Err(err) => Err(api_failure(&err, &path)),
    }
}

pub async fn roundtrip_outbound(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let Some(probe) = ctx.target.params.outbound.clone() else {
        return Ok(Outcome::skip(
            "the integration makes no outbound call to check",
        ));
    };
    let session = ctx.session()?;
    let instance = ctx.instance()?;
    let created = session
        .client
        .create(
            &probe.table,
            &serde_json::Value::Object(probe.fields.clone()),
        )
        .await
        .map_err(|err| api_failure(&err, &format!("a sample {} record", probe.table)))?;
    let record_id = field(&created, "sys_id").unwrap_or_default().to_owned();
    let reader = ctx.reader()?;
    let query = EncodedQuery::default()
        .eq("source_record", &record_id)
        .map_err(|err| Outcome::fail(err.to_string()))?;
    let waited = Duration::from_secs(probe.wait_seconds.max(1));
    let started = std::time::Instant::now();
    loop {
        let calls = reader
            .query(
                "sys_outbound_http_log",
                &TableQuery {
                    query: Some(query.clone()),
                    fields: ["url", "response_status", "error", "duration"]
                        .map(String::from)
                        .to_vec(),
                    limit: Some(5),
                    ..TableQuery::default()
                },
            )
            .await
            .map_err(|err| api_failure(&err, "the outbound HTTP log"))?;
        if let Some(call) = calls.records.first() {
            let url = crate::text::untrusted(field(call, "url").unwrap_or_default(), 200);
            let status = field(call, "response_status").unwrap_or("0").to_owned();
            let link = record_link(instance, &probe.table, &record_id);
            return match status.parse::<u16>() {
                Ok(200..=299) => Ok(Outcome::pass(format!(
                    "The business rule called {url} when a sample record was created: HTTP {status}."
                ))
                .link("Sample record", link)),
                Ok(0) | Err(_) => Err(Outcome::fail(format!(
                    "The business rule's call to {url} did not connect ({}).",
                    crate::text::untrusted(field(call, "error").unwrap_or("no answer"), 200)
                ))
                .admin("Check the URL in the business rule and that the instance may reach it (a MID server or an allow list may be needed).")
                .user(ask_admin("check the business rule's outbound call"))
                .link("Sample record", link)),
                Ok(code) => Err(Outcome::fail(format!(
                    "The business rule called {url} and got HTTP {code}."
                ))
                .admin("The receiving system refused the call: check its URL, credentials and logs.")
                .user(ask_admin("check the business rule's outbound call"))
                .link("Sample record", link)),
            };
        }
        if started.elapsed() >= waited {
            return Err(Outcome::fail(format!(
                "No outbound call within {} s of creating a sample {} record.",
                waited.as_secs(),
                probe.table
            ))
            .admin("Check that the integration's business rule is active, runs after insert on this table and that its condition matches.")
            .user(ask_admin("check the integration's business rule"))
            .link("Sample record", record_link(instance, &probe.table, &record_id)));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
