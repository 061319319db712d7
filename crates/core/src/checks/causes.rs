//! The causes behind ServiceNow's one answer to every sign-in failure (401 `access_denied`,
//! servicenow.md §1.7), named from what else the instance says: the `X-MFA_TOKEN` header of an
//! MFA user, a Basic sign-in with the same user name and password, and, with admin
//! credentials, the user's record (active, locked out, password reset, SSO only), the OAuth
//! application's record (missing, duplicated, inactive, no application user) and the grant
//! properties.

use super::outcome::{Outcome, ask_admin, record_link};
use super::runner::Ctx;
use crate::api::{
    ApiError, Auth, AuthFailure, EncodedQuery, Record, SnowClient, TableQuery, field,
};
use crate::errors::NextStep;
use crate::grants::GrantKind;
use crate::secrets::Password;

/// Grant properties (servicenow.md §1.5).
pub const ROPC_DISABLED: &str = "glide.oauth.inbound.ropc.grant_type.disabled";
pub const CLIENT_CREDENTIALS_ENABLED: &str =
    "glide.oauth.inbound.client.credential.grant_type.enabled";

pub(super) fn mfa(username: &str) -> Outcome {
    Outcome::fail(format!(
        "The password of {username} is right, but the user has multi-factor authentication."
    ))
    .detail("ServiceNow marks it with X-MFA_TOKEN: invalid: a one-time code is expected after the password.")
    .user("Use browser sign-in, or ask your admin for an integration user without MFA.")
    .admin(
        "Give the integration a dedicated user without MFA (Web service access only), or use \
         an OAuth grant that does not send the user's password.",
    )
}

/// The password grant was refused: Basic auth with the same user and password tells whether
/// the user's side or the application's side is wrong.
pub(super) async fn password_grant_refused(
    ctx: &Ctx,
    client_id: &str,
    username: &str,
    password: &Password,
) -> Outcome {
    let probe = match ctx.client(Auth::Basic {
        username: username.to_owned(),
        password: password.clone(),
    }) {
        Ok(client) => client,
        Err(outcome) => return outcome,
    };
    match crate::api::identify_with(&probe).await {
        Ok(_) | Err(crate::api::IdentifyError::Api(ApiError::Forbidden { .. })) => {
            app_refused(ctx, client_id, GrantKind::Password).await
        }
        Err(crate::api::IdentifyError::Api(ApiError::NotAuthenticated(
            AuthFailure::MfaRequired,
        ))) => mfa(username),
        Err(_) => user_refused(ctx, username, false).await,
    }
}

/// The REST API access control refused `username` after sign-in: with an admin, the roles it
/// lacks are named — those the REST API ACL and the profile ask for.
pub(super) async fn api_acl_refused(ctx: &Ctx, username: &str, err: &ApiError) -> Outcome {
    let generic = super::outcome::api_failure(err, "who the user is");
    let Some(admin) = ctx.admin_client() else {
        return generic.next(NextStep::GiveAdminCredentials);
    };
    let Ok(Some(user)) = user_named(&admin, username).await else {
        return generic;
    };
    let Ok(held) = crate::api::roles_of(&admin, field(&user, "sys_id").unwrap_or_default()).await
    else {
        return generic;
    };
    let mut wanted: Vec<String> = rest_api_acl_roles(&admin).await;
    wanted.extend(ctx.target.params.roles.iter().cloned());
    wanted.sort();
    wanted.dedup();
    let missing: Vec<&String> = wanted.iter().filter(|r| !held.contains(*r)).collect();
    if missing.is_empty() {
        return generic;
    }
    let list = missing
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Outcome::fail(format!(
        "The REST API access control refused {username}: it lacks {list}."
    ))
    .user(ask_admin(&format!("give {username} the role(s) {list}")))
    .admin(format!(
        "Add {list} to {username} (the user record's Roles list)."
    ))
}

/// The roles the active REST API ACL of the Table API asks for (none when it is off).
async fn rest_api_acl_roles(admin: &SnowClient) -> Vec<String> {
    let Ok(query) = EncodedQuery::raw("active=true^type=rest_endpoint").eq("name", "Table API")
    else {
        return Vec::new();
    };
    let page = admin
        .query(
            "sys_security_acl",
            &TableQuery {
                query: Some(query),
                fields: vec!["sys_id".into()],
                limit: Some(10),
                ..TableQuery::default()
            },
        )
        .await;
    let mut roles = Vec::new();
    for acl in page.map(|p| p.records).unwrap_or_default() {
        let Ok(link) = EncodedQuery::default().eq(
            "sys_security_acl",
            field(&acl, "sys_id").unwrap_or_default(),
        ) else {
            continue;
        };
        let links = admin
            .query(
                "sys_security_acl_role",
                &TableQuery {
                    query: Some(link),
                    fields: vec!["sys_user_role.name".into()],
                    limit: Some(20),
                    ..TableQuery::default()
                },
            )
            .await;
        roles.extend(
            links
                .map(|p| p.records)
                .unwrap_or_default()
                .iter()
                .filter_map(|l| field(l, "sys_user_role.name"))
                .map(str::to_owned),
        );
    }
    roles
}

/// The Basic auth restriction's properties (servicenow.md item 35), and the role that keeps
/// Basic auth while it is on.
pub const BASIC_AUTH_RESTRICTION: [&str; 2] = [
    "glide.authenticate.basic_auth.restriction.active",
    "glide.authenticate.basic_auth.restriction.enforce",
];
pub const BASIC_AUTH_ROLE: &str = "snc_basic_auth_api_access";

/// Whether the instance restricts Basic auth and `user` (its record, read as the admin) is
/// not exempt: not web-service-only and without [`BASIC_AUTH_ROLE`].
async fn basic_auth_restricted_for(admin: &SnowClient, user: &Record) -> bool {
    for name in BASIC_AUTH_RESTRICTION {
        if property_value(admin, name).await.as_deref() != Some("true") {
            return false;
        }
    }
    if field(user, "web_service_access_only") == Some("true") {
        return false;
    }
    let sys_id = field(user, "sys_id").unwrap_or_default();
    match crate::api::roles_of(admin, sys_id).await {
        Ok(roles) => !roles.contains(BASIC_AUTH_ROLE),
        Err(_) => true,
    }
}

/// The user's credentials were refused: the user record says why, when an admin may read it.
/// `basic` says the refused sign-in was Basic auth itself (the restriction applies to it).
pub(super) async fn user_refused(ctx: &Ctx, username: &str, basic: bool) -> Outcome {
    let generic = Outcome::fail(format!(
        "ServiceNow refused the user name and password of {username}."
    ))
    .detail(
        "ServiceNow gives the same answer for a wrong password, an inactive or locked-out \
             user, a pending password reset and a user who signs in only through SSO.",
    )
    .user("Check the password; if it is right, ask your admin to check the user record.")
    .admin(format!(
        "Check the user {username}: Active, Locked out, Password needs reset, and whether it \
             signs in only through SSO."
    ));
    let Some(admin) = ctx.admin_client() else {
        return generic.next(NextStep::GiveAdminCredentials);
    };
    let instance = match ctx.instance() {
        Ok(instance) => instance.clone(),
        Err(outcome) => return outcome,
    };
    let user = match user_named(&admin, username).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return Outcome::fail(format!("There is no user {username} on this instance."))
                .detail("A developer instance is reset when it is reclaimed; a clone may lack the user.")
                .user(ask_admin(&format!("create the user {username}, or tell you the right one")))
                .admin(format!(
                    "Create {username} (User Administration > Users), or correct the user name in \
                     the connection. If the instance was reset or reclaimed, the integration's \
                     records are gone too."
                ));
        }
        Err(err) => return generic.detail(format!("The user record could not be read: {err}.")),
    };
    let sys_id = field(&user, "sys_id").unwrap_or_default().to_owned();
    let link = record_link(&instance, "sys_user", &sys_id);
    let flag = |name: &str| field(&user, name).is_some_and(|v| v == "true");
    let finding = if !flag("active") {
        Some(("active = false", "Set Active on the user record."))
    } else if flag("locked_out") {
        Some(("locked_out = true", "Clear Locked out on the user record."))
    } else if flag("password_needs_reset") {
        Some((
            "password_needs_reset = true",
            "Set a new password and clear Password needs reset: ServiceNow refuses API sign-in \
             until the password is changed.",
        ))
    } else {
        None
    };
    if let Some((fact, fix)) = finding {
        return Outcome::fail(format!("User {username} has {fact}."))
            .user(ask_admin(&format!("fix the user {username} ({fact})")))
            .admin(fix)
            .link(format!("User {username}"), link);
    }
    if field(&user, "sso_source").is_some_and(|s| !s.is_empty()) {
        return Outcome::fail(format!(
            "User {username} signs in only through single sign-on: it has no local password."
        ))
        .user("Use browser sign-in: the browser takes you to your identity provider.")
        .admin("Use browser sign-in (authorization code) for this user, or give the integration a local user.")
        .link(format!("User {username}"), link);
    }
    if basic && basic_auth_restricted_for(&admin, &user).await {
        return Outcome::fail(format!(
            "This instance restricts Basic auth, and {username} may not use it."
        ))
        .detail(
            "Basic auth then works only for web-service-only users, holders of \
             snc_basic_auth_api_access, and with a one-time code appended to the password; \
             ServiceNow answers anyone else as it answers a wrong password.",
        )
        .user("Use an OAuth sign-in (browser sign-in or the password grant) instead of Basic auth.")
        .admin(format!(
            "Tick Web service access only on {username}, or give it the role \
             {BASIC_AUTH_ROLE} (All > Basic Auth Restriction), or move the integration to OAuth."
        ))
        .link(format!("User {username}"), link);
    }
    Outcome::fail(format!("The password of {username} is wrong."))
        .detail("The user exists, is active, not locked out and has no password reset pending.")
        .user("Type the password again; if you do not know it, ask your admin to set a new one.")
        .admin(format!(
            "Set a new password for {username} and update the connection."
        ))
        .link(format!("User {username}"), link)
}

/// The application side of a refused grant: the registry record and the grant properties.
pub(super) async fn app_refused(ctx: &Ctx, client_id: &str, grant: GrantKind) -> Outcome {
    let causes = match grant {
        GrantKind::ClientCredentials => {
            "a wrong client ID or secret, an inactive OAuth application, no OAuth Application \
             User on it, or the client credentials grant not enabled on the instance"
        }
        _ => {
            "a wrong client ID or secret, an inactive OAuth application, or the password grant \
             disabled on the instance"
        }
    };
    let generic = Outcome::fail(format!(
        "The instance refused the {} grant for client ID {client_id}.",
        grant.label().to_lowercase()
    ))
    .detail(format!("The user side is fine; that leaves {causes}."))
    .user(ask_admin(
        "check the OAuth application and the client secret",
    ))
    .admin(format!("Check {causes}."));
    let Some(admin) = ctx.admin_client() else {
        return generic.next(NextStep::GiveAdminCredentials);
    };
    let instance = match ctx.instance() {
        Ok(instance) => instance.clone(),
        Err(outcome) => return outcome,
    };
    let query = match EncodedQuery::default().eq("client_id", client_id) {
        Ok(query) => query,
        Err(err) => return Outcome::fail(err.to_string()).fix(err.hint()),
    };
    let apps = match admin
        .query(
            "oauth_entity",
            &TableQuery {
                query: Some(query),
                fields: ["sys_id", "name", "active", "user"]
                    .map(String::from)
                    .to_vec(),
                limit: Some(5),
                ..TableQuery::default()
            },
        )
        .await
    {
        Ok(page) => page.records,
        Err(err) => {
            return generic.detail(format!("The OAuth application could not be read: {err}."));
        }
    };
    let registry =
        super::outcome::list_link(&instance, "oauth_entity", &format!("client_id={client_id}"));
    let app = match apps.as_slice() {
        [] => {
            return Outcome::fail(format!("No OAuth application has client ID {client_id} on this instance."))
                .detail("It was deleted, or the instance was reset, reclaimed or cloned from another one.")
                .user(ask_admin("create the OAuth application again and give you its client ID"))
                .admin("Create the OAuth application (System OAuth > Application Registry) and update the connection with its Client ID and Client Secret.")
                .link("Application Registry", registry);
        }
        [app] => app,
        many => {
            return Outcome::fail(format!(
                "{} OAuth applications share client ID {client_id}: the instance was probably cloned.",
                many.len()
            ))
            .admin("Keep one Application Registry record with this Client ID and delete or change the others.")
            .user(ask_admin("remove the duplicate OAuth applications"))
            .link("Application Registry", registry);
        }
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
        return Outcome::fail(format!("OAuth application {name} has active = false."))
            .user(ask_admin(&format!("activate the OAuth application {name}")))
            .admin("Set Active on the Application Registry record.")
            .link(format!("OAuth application {name}"), link);
    }
    let property = |name: &'static str| {
        let admin = admin.clone();
        async move { property_value(&admin, name).await }
    };
    if grant == GrantKind::Password && property(ROPC_DISABLED).await.as_deref() == Some("true") {
        return Outcome::fail(format!(
            "The password grant is disabled on the instance ({ROPC_DISABLED} = true)."
        ))
        .user(ask_admin(
            "allow the password grant, or use browser sign-in",
        ))
        .admin(format!(
            "Set {ROPC_DISABLED} to false (System Properties), or use another grant."
        ))
        .link(
            "System property",
            super::outcome::list_link(
                &instance,
                "sys_properties",
                &format!("name={ROPC_DISABLED}"),
            ),
        );
    }
    if grant == GrantKind::ClientCredentials {
        let enabled = property(CLIENT_CREDENTIALS_ENABLED).await;
        if enabled.as_deref() != Some("true") {
            return Outcome::fail(format!(
                "The client credentials grant is not enabled ({CLIENT_CREDENTIALS_ENABLED} {}).",
                enabled
                    .as_deref()
                    .map_or("does not exist".to_owned(), |v| format!("= {v}"))
            ))
            .user(ask_admin("enable the client credentials grant"))
            .admin(format!(
                "Create the system property {CLIENT_CREDENTIALS_ENABLED} (type true | false) \
                 with the value true: it does not exist until someone creates it."
            ))
            .link(
                "System property",
                super::outcome::list_link(
                    &instance,
                    "sys_properties",
                    &format!("name={CLIENT_CREDENTIALS_ENABLED}"),
                ),
            );
        }
        // The registry record's `user` field (servicenow.md item 33).
        if field(app, "user").is_none_or(str::is_empty) {
            return Outcome::fail(format!("OAuth application {name} has no OAuth Application User."))
                .user(ask_admin(&format!("set the OAuth Application User of {name}")))
                .admin("Set OAuth Application User on the Application Registry record: client credentials act as that user.")
                .link(format!("OAuth application {name}"), link);
        }
    }
    Outcome::fail(format!("The client secret for {name} is wrong."))
        .detail("The OAuth application exists, is active and the grant is allowed, so the secret is what is left.")
        .user(ask_admin(&format!("give you the client secret of {name} again")))
        .admin("Copy the Client Secret from the Application Registry record (or generate a new one) and update the connection.")
        .link(format!("OAuth application {name}"), link)
}

pub(super) async fn property_value(client: &SnowClient, name: &'static str) -> Option<String> {
    let query = EncodedQuery::default().eq("name", name).ok()?;
    let page = client
        .query(
            "sys_properties",
            &TableQuery {
                query: Some(query),
                fields: vec!["value".into()],
                limit: Some(1),
                ..TableQuery::default()
            },
        )
        .await
        .ok()?;
    page.records
        .first()
        .and_then(|r| field(r, "value"))
        .map(str::to_owned)
}

/// The `sys_user` record of `username`, read by `client`; the name goes into the query only
/// through [`EncodedQuery`].
pub async fn user_named(client: &SnowClient, username: &str) -> Result<Option<Record>, ApiError> {
    let query = EncodedQuery::default().eq("user_name", username)?;
    let page = client
        .query(
            "sys_user",
            &TableQuery {
                query: Some(query),
                fields: [
                    "sys_id",
                    "user_name",
                    "active",
                    "locked_out",
                    "password_needs_reset",
                    "sso_source",
                    "web_service_access_only",
                    "identity_type",
                    "last_login_time",
                ]
                .map(String::from)
                .to_vec(),
                limit: Some(1),
                ..TableQuery::default()
            },
        )
        .await?;
    Ok(page.records.into_iter().next())
}
