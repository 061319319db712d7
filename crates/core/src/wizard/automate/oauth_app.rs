//! The OAuth application of the integration, created or set right in the Application Registry.

use super::{AutomateError, Context, Learned, Plan, PlannedAction, change, find, step_value};
use crate::api::Record;
use crate::api::{EncodedQuery, field};
use crate::errors::InputField;
use crate::grants::GrantKind;
use crate::profiles::Step;

pub(super) async fn work(
    ctx: &Context<'_>,
    step: &Step,
    apply: bool,
    plan: &mut Plan,
    learned: &mut Learned,
) -> Result<(), AutomateError> {
    // The form's values as the step gives them (the vendor's name, logo and redirect URLs).
    let name = step_value(ctx, step, "Name")?.unwrap_or_else(|| ctx.connection_name.to_owned());
    let name = name.as_str();
    let wanted_redirects = match step_value(ctx, step, "Redirect URL")? {
        Some(urls) => checked_redirects(&urls)?,
        None if ctx.profile.grant == GrantKind::AuthCode => crate::oauth::callback_urls().join(","),
        None => String::new(),
    };
    let logo = step_value(ctx, step, "Logo URL")?;
    let scope = step_value(ctx, step, "Auth scope")?;
    let secret_input = step
        .inputs
        .iter()
        .find(|i| i.field == Some(InputField::ClientSecret));
    // A secret can never be read back (servicenow.md item 32): one Snowlink does not hold
    // yet is generated and set.
    let new_secret = secret_input.is_some() && !ctx.client_secret_known;
    let existing = find(
        ctx.admin,
        "oauth_entity",
        EncodedQuery::default().eq("name", name)?,
        &["sys_id", "client_id", "redirect_url", "active", "logo_url"],
    )
    .await?;
    let record = match existing {
        Some(record) => {
            let registered = field(&record, "redirect_url").unwrap_or_default();
            let missing = !wanted_redirects.is_empty()
                && url_list(&wanted_redirects)
                    .iter()
                    .any(|u| !url_list(registered).contains(u));
            let inactive = field(&record, "active") == Some("false");
            let other_logo = logo
                .as_deref()
                .filter(|l| field(&record, "logo_url") != Some(*l));
            let mut what = Vec::new();
            if missing {
                what.push(format!("Redirect URL {wanted_redirects}"));
            }
            if inactive {
                what.push("Active".to_owned());
            }
            if let Some(logo) = other_logo {
                what.push(format!("Logo URL {logo}"));
            }
            if new_secret {
                what.push(
                    "a new client secret (anything using the old one must be given it)".to_owned(),
                );
            }
            if what.is_empty() {
                change(
                    plan,
                    PlannedAction::Keep,
                    "oauth_entity",
                    format!("OAuth application {name}"),
                );
            } else {
                change(
                    plan,
                    PlannedAction::Update,
                    "oauth_entity",
                    format!("OAuth application {name}: {}", what.join(", ")),
                );
            }
            if apply && (missing || inactive || other_logo.is_some()) {
                let mut fields = vec![("active", "true".to_owned())];
                if missing {
                    // The step's URLs first, in its order (the first is where a mismatched
                    // request falls back to), then any other already registered.
                    let mut urls: Vec<&str> = wanted_redirects.split(',').collect();
                    let others: Vec<&str> = registered
                        .split(',')
                        .map(str::trim)
                        .filter(|r| !r.is_empty() && !urls.contains(r))
                        .collect();
                    urls.extend(others);
                    fields.push(("redirect_url", urls.join(",")));
                }
                if let Some(logo) = other_logo {
                    fields.push(("logo_url", logo.to_owned()));
                }
                ctx.update(
                    "oauth_entity",
                    &record,
                    format!("OAuth application {name}"),
                    &fields,
                )
                .await?;
            }
            record
        }
        None => {
            change(
                plan,
                PlannedAction::Create,
                "oauth_entity",
                format!(
                    "OAuth application {name}{}, with a client secret Snowlink generates",
                    if wanted_redirects.is_empty() {
                        String::new()
                    } else {
                        format!(" and Redirect URL {wanted_redirects}")
                    }
                ),
            );
            if !apply {
                if let Some(scope) = &scope {
                    change(
                        plan,
                        PlannedAction::Create,
                        "oauth_entity_auth_scope_mapping",
                        scope_what(scope, name),
                    );
                }
                return Ok(());
            }
            let mut fields = vec![
                ("name", name.to_owned()),
                ("type", "client".to_owned()),
                ("redirect_url", wanted_redirects.clone()),
                ("active", "true".to_owned()),
                ("access_token_lifespan", "1800".to_owned()),
                ("refresh_token_lifespan", "8640000".to_owned()),
            ];
            if let Some(logo) = &logo {
                fields.push(("logo_url", logo.clone()));
            }
            ctx.create("oauth_entity", format!("OAuth application {name}"), &fields)
                .await?
        }
    };
    if let Some(scope) = &scope {
        auth_scope(ctx, (&record, name), scope, apply, plan).await?;
    }
    if !apply {
        return Ok(());
    }
    // The registry generates the client ID on insert; it is read-only and readable.
    if let (Some(input), Some(client_id)) = (
        step.inputs
            .iter()
            .find(|i| i.field == Some(InputField::ClientId)),
        field(&record, "client_id").filter(|v| !v.is_empty()),
    ) {
        learned
            .inputs
            .insert(input.id.clone(), client_id.to_owned());
    }
    if let Some(input) = secret_input.filter(|_| new_secret) {
        let secret = super::generated_secret(40)?;
        let id = field(&record, "sys_id").unwrap_or_default().to_owned();
        ctx.set_secrets(
            "oauth_entity",
            &id,
            format!("OAuth application {name}"),
            &[("client_secret", secret.clone())],
            &["client_secret"],
        )
        .await?;
        learned.secrets.insert(input.id.clone(), secret);
    }
    Ok(())
}

/// The step's redirect URLs, each one an `https://` address (or Snowlink's own loopback
/// `http://127.0.0.1`) with no user name, query or fragment: what was typed into them can add
/// no other address to the registry record.
fn checked_redirects(urls: &str) -> Result<String, AutomateError> {
    let bad = |reason| AutomateError::BadValue {
        value: "Redirect URL".into(),
        reason,
    };
    for text in urls.split(',') {
        let url = url::Url::parse(text).map_err(|_| bad("it is not a web address"))?;
        let loopback = url.scheme() == "http" && url.host_str() == Some("127.0.0.1");
        if url.scheme() != "https" && !loopback {
            return Err(bad("it must start with https://"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("it holds a user name or password"));
        }
        if url.query().is_some()
            || url.fragment().is_some()
            || !url.as_str().eq_ignore_ascii_case(text)
        {
            return Err(bad("it holds characters a redirect URL cannot have"));
        }
    }
    Ok(urls.to_owned())
}

/// The auth scope's line in a plan.
fn scope_what(scope: &str, name: &str) -> String {
    format!("Auth scope {scope} of OAuth application {name}")
}

/// The application's auth scope (`useraccount`: the user's full access), as the form's Auth
/// scope field sets it: one `oauth_entity_auth_scope_mapping` row (servicenow.md item 37).
async fn auth_scope(
    ctx: &Context<'_>,
    (app, name): (&Record, &str),
    scope: &str,
    apply: bool,
    plan: &mut Plan,
) -> Result<(), AutomateError> {
    let what = scope_what(scope, name);
    let app_id = field(app, "sys_id").unwrap_or_default();
    if scope_mapped(ctx, app_id, scope).await? {
        change(
            plan,
            PlannedAction::Keep,
            "oauth_entity_auth_scope_mapping",
            what,
        );
        return Ok(());
    }
    change(
        plan,
        PlannedAction::Create,
        "oauth_entity_auth_scope_mapping",
        what.clone(),
    );
    if apply {
        ctx.create(
            "oauth_entity_auth_scope_mapping",
            what,
            &[
                ("oauth_entity", app_id.to_owned()),
                ("auth_scope", scope.to_owned()),
            ],
        )
        .await?;
    }
    Ok(())
}

/// Whether the application `app_id` has the auth scope `scope`.
async fn scope_mapped(ctx: &Context<'_>, app_id: &str, scope: &str) -> Result<bool, AutomateError> {
    if app_id.is_empty() {
        return Ok(false);
    }
    let mapping = EncodedQuery::default()
        .eq("oauth_entity", app_id)?
        .eq("auth_scope", scope)?;
    Ok(find(
        ctx.admin,
        "oauth_entity_auth_scope_mapping",
        mapping,
        &["sys_id"],
    )
    .await?
    .is_some())
}

/// A comma-separated list of redirect URLs, each trimmed of spaces and a trailing `/`.
fn url_list(urls: &str) -> Vec<&str> {
    urls.split(',')
        .map(|u| u.trim().trim_end_matches('/'))
        .filter(|u| !u.is_empty())
        .collect()
}

/// What the application with `client_id` lacks of the step's own values: its Redirect URL
/// starting with the step's first (the vendor's: a mismatched request falls back to the
/// first registered URL, servicenow.md §1.3) and holding the others, and its Auth scope.
pub async fn lacks(
    ctx: &Context<'_>,
    step: &Step,
    client_id: &str,
) -> Result<Vec<String>, AutomateError> {
    let Some(app) = find(
        ctx.admin,
        "oauth_entity",
        EncodedQuery::default().eq("client_id", client_id)?,
        &["sys_id", "redirect_url"],
    )
    .await?
    else {
        return Ok(Vec::new());
    };
    let mut lacks = Vec::new();
    if let Some(wanted) = step_value(ctx, step, "Redirect URL")? {
        let registered = url_list(field(&app, "redirect_url").unwrap_or_default());
        let wanted = url_list(&wanted);
        if let Some(first) = wanted.first()
            && registered.first() != Some(first)
        {
            lacks.push(format!("its Redirect URL must start with {first}"));
        }
        let missing: Vec<&str> = wanted
            .iter()
            .filter(|u| !registered.contains(u))
            .copied()
            .collect();
        if !missing.is_empty() {
            lacks.push(format!("its Redirect URL lacks {}", missing.join(", ")));
        }
    }
    if let Some(scope) = step_value(ctx, step, "Auth scope")?
        && !scope_mapped(ctx, field(&app, "sys_id").unwrap_or_default(), &scope).await?
    {
        lacks.push(format!("it has no Auth scope {scope}"));
    }
    Ok(lacks)
}

#[cfg(test)]
mod tests {
    use super::checked_redirects;

    #[test]
    fn a_typed_name_can_add_no_other_address_to_the_redirect_urls() {
        let good = "https://acme.atlan.com/oauth-callback,http://127.0.0.1:8765/callback";
        assert_eq!(checked_redirects(good).unwrap(), good);
        assert!(checked_redirects("https://ACME.atlan.com/oauth-callback").is_ok());
        for hostile in [
            "https://evil.example/x?/oauth-callback",
            "https://a@evil.example/oauth-callback",
            "https://acme atlan.com/oauth-callback",
            "http://evil.example/oauth-callback",
            "https://acme.atlan.com#/oauth-callback",
            "https://‹atlan_instance_name›/oauth-callback",
            "javascript:alert(1)",
        ] {
            let err = checked_redirects(hostile).unwrap_err().to_string();
            assert!(err.contains("Redirect URL"), "{hostile}: {err}");
            assert!(!err.contains("evil"), "what was typed is not echoed: {err}");
        }
    }
}
