//! The OAuth application around a connection: its redirect URLs hold Snowlink's loopback
//! callbacks (`oauth.redirect`: ServiceNow silently uses the first registered URL otherwise,
//! servicenow.md §1.3), the token carries the scope the APIs want (`oauth.scope`), and the
//! tokens have time left (`token.lifetime`: a refresh token ends 100 days after it was first
//! issued, whatever the refreshes, §1.8 and §1.9).

use chrono::{DateTime, Utc};

use super::outcome::{Outcome, api_failure, ask_admin, record_link};
use super::runner::Ctx;
use super::target::Credentials;
use crate::api::{ApiError, EncodedQuery, Forbidden, TableQuery, field};
use crate::errors::NextStep;
use crate::grants::GrantKind;

/// A refresh token closer than this to its end is worth a warning.
const REFRESH_WARNING_DAYS: i64 = 7;

pub async fn oauth_redirect(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let Some(client_id) = ctx.target.credentials.client_id() else {
        return Ok(Outcome::skip("the sign-in uses no OAuth application"));
    };
    let browser = matches!(ctx.target.credentials, Credentials::AuthCode { .. });
    let Some(admin) = ctx.admin_client() else {
        return Ok(Outcome::skip(
            "reading the OAuth application needs admin credentials (linking an account tests \
             the redirect too)",
        )
        .next(NextStep::GiveAdminCredentials));
    };
    let instance = ctx.instance()?.clone();
    let query = EncodedQuery::default()
        .eq("client_id", client_id)
        .map_err(|err| Outcome::fail(err.to_string()))?;
    let page = admin
        .query(
            "oauth_entity",
            &TableQuery {
                query: Some(query),
                fields: ["sys_id", "name", "redirect_url", "active"]
                    .map(String::from)
                    .to_vec(),
                limit: Some(1),
                ..TableQuery::default()
            },
        )
        .await
        .map_err(|err| api_failure(&err, "the OAuth application"))?;
    let Some(app) = page.records.first() else {
        return Err(
            Outcome::fail(format!("No OAuth application has client ID {client_id}."))
                .fix("Create the OAuth application again and update the connection."),
        );
    };
    let name = field(app, "name")
        .unwrap_or("the OAuth application")
        .to_owned();
    let link = record_link(
        &instance,
        "oauth_entity",
        field(app, "sys_id").unwrap_or_default(),
    );
    if field(app, "active") == Some("false") {
        return Err(
            Outcome::fail(format!("OAuth application {name} is not active."))
                .detail("ServiceNow refuses every token request for an inactive application with 401 access_denied.")
                .user(ask_admin("activate the OAuth application"))
                .admin(format!("Tick Active on {name} and update it."))
                .link(format!("OAuth application {name}"), link),
        );
    }
    if !browser {
        return Ok(Outcome::pass(format!(
            "OAuth application {name} is active; this sign-in needs no redirect URL."
        )));
    }
    let registered: Vec<String> = field(app, "redirect_url")
        .unwrap_or_default()
        .split(',')
        .map(|u| u.trim().trim_end_matches('/').to_owned())
        .filter(|u| !u.is_empty())
        .collect();
    let wanted = crate::oauth::callback_urls();
    let missing: Vec<&String> = wanted.iter().filter(|u| !registered.contains(u)).collect();
    if missing.len() == wanted.len() {
        return Err(Outcome::fail(format!(
            "OAuth application {name} registers none of Snowlink's callback URLs."
        ))
        .detail(format!(
            "Registered: {}. ServiceNow sends the browser to the first of these instead, so the \
             sign-in never comes back.",
            if registered.is_empty() {
                "none".to_owned()
            } else {
                registered.join(", ")
            }
        ))
        .user(ask_admin(
            "add Snowlink's callback URLs to the OAuth application",
        ))
        .admin(format!(
            "Set Redirect URL on {name} to: {}",
            wanted.join(",")
        ))
        .link(format!("OAuth application {name}"), link));
    }
    if !missing.is_empty() {
        let missing: Vec<&str> = missing.iter().map(|u| u.as_str()).collect();
        return Ok(Outcome::warn(format!(
            "OAuth application {name} lacks {} of Snowlink's callback URLs.",
            missing.len()
        ))
        .detail(format!(
            "Missing: {}. A sign-in fails when the registered ports are busy.",
            missing.join(", ")
        ))
        .admin(format!(
            "Add to Redirect URL on {name}: {}",
            missing.join(",")
        ))
        .link(format!("OAuth application {name}"), link));
    }
    Ok(Outcome::pass(format!(
        "OAuth application {name} registers every callback URL."
    )))
}

pub async fn oauth_scope(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let grant = ctx.target.credentials.grant();
    if !grant.is_some_and(GrantKind::is_oauth) {
        return Ok(Outcome::skip("not an OAuth connection"));
    }
    let session = ctx.session()?;
    let table = ctx
        .target
        .params
        .tables
        .first()
        .map_or("sys_user", |t| t.table.as_str())
        .to_owned();
    let probe = TableQuery {
        fields: vec!["sys_id".into()],
        limit: Some(1),
        ..TableQuery::default()
    };
    match session.client.query(&table, &probe).await {
        Ok(_) => Ok(Outcome::pass(if session.scopes.is_empty() {
            "The token is accepted by the Table API.".to_owned()
        } else {
            format!("The token's scope ({}) is accepted by the Table API.", session.scopes.join(", "))
        })),
        Err(ApiError::Forbidden {
            kind: Forbidden::MissingScope,
            ..
        }) => Err(Outcome::fail("The token lacks an API access scope the instance requires.")
            .detail("ServiceNow answered 403 \"Missing required api access scope\": a scope problem, not a role problem.")
            .user(ask_admin("add the required scope to the OAuth application"))
            .admin("Add the scope the REST API access policy requires to the OAuth application's Auth scopes (or relax the policy), then sign in again.")),
        Err(ApiError::Forbidden { .. } | ApiError::InvalidTable { .. }) => {
            Ok(Outcome::pass("The token's scope is accepted; the table's access is checked under acl.table."))
        }
        Err(err) => Err(api_failure(&err, &format!("the {table} table"))),
    }
}

pub async fn token_lifetime(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let now = Utc::now();
    match &ctx.target.credentials {
        Credentials::AuthCode {
            refresh_issued_at,
            refresh_token,
            ..
        } => {
            if refresh_token.is_none() {
                return Ok(Outcome::skip(
                    "the sign-in has no refresh token (a public client)",
                ));
            }
            let Some(issued) = refresh_issued_at else {
                return Ok(Outcome::pass(
                    "The refresh token works; when it was first issued is not known.",
                ));
            };
            refresh_outcome(crate::oauth::refresh_token_end(*issued), now)
        }
        Credentials::PasswordGrant { .. } | Credentials::ClientCredentials { .. } => {
            let session = ctx.session()?;
            Ok(Outcome::pass(match session.expires_at {
                Some(at) => format!(
                    "The access token lasts until {}; the grant signs in again by itself.",
                    at.format("%Y-%m-%d %H:%M UTC")
                ),
                None => "The grant signs in again by itself when its token expires.".to_owned(),
            }))
        }
        _ => Ok(Outcome::skip(
            "the connection sends its credentials on every call: no tokens",
        )),
    }
}

fn refresh_outcome(ends: DateTime<Utc>, now: DateTime<Utc>) -> Result<Outcome, Outcome> {
    let day = ends.format("%Y-%m-%d");
    if ends <= now {
        return Err(Outcome::fail(format!("The refresh token ended on {day}: re-link needed."))
            .detail("ServiceNow does not extend a refresh token when it is used (100 days from the first sign-in).")
            .fix("Link the account again.")
            .next(NextStep::Relink));
    }
    if ends - now < chrono::Duration::days(REFRESH_WARNING_DAYS) {
        return Ok(Outcome::warn(format!("The refresh token ends on {day}."))
            .fix("Link the account again before then to start a new 100 days.")
            .next(NextStep::Relink));
    }
    Ok(Outcome::pass(format!(
        "The refresh token lasts until {day}."
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_token_warns_a_week_before_its_end_and_fails_after() {
        let now = Utc::now();
        assert!(refresh_outcome(now - chrono::Duration::hours(1), now).is_err());
        let soon = refresh_outcome(now + chrono::Duration::days(3), now).unwrap();
        assert_eq!(soon.status, super::super::CheckStatus::Warn);
        let later = refresh_outcome(now + chrono::Duration::days(30), now).unwrap();
        assert_eq!(later.status, super::super::CheckStatus::Pass);
    }
}
