//! The user a connection acts as: its record (`user.account`: active, not locked out, no
//! password reset pending; advisories for a service account that can also sign in
//! interactively, and one unused for 100 days) and its roles (`user.roles`: the ones the
//! integration needs, inherited ones included; an advisory for an admin-level service account).

use chrono::{NaiveDateTime, Utc};

use super::outcome::{Outcome, api_failure, ask_admin, record_link};
use super::runner::Ctx;
use crate::api::{Record, field};
use crate::grants::GrantKind;

/// Days without a sign-in after which an account is worth a look.
const IDLE_DAYS: i64 = 100;

/// The signed-in user's record, read by the admin when given, else by the user.
async fn user_record(ctx: &Ctx) -> Result<Record, Outcome> {
    if let Some(record) = ctx.user_record.get() {
        return Ok(record.clone());
    }
    let session = ctx.session()?;
    let reader = ctx.reader()?;
    let record = super::causes::user_named(&reader, &session.identity.user_name)
        .await
        .map_err(|err| api_failure(&err, "the user record"))?
        .ok_or_else(|| {
            Outcome::skip("the user's own record cannot be read with these credentials")
                .next(crate::errors::NextStep::GiveAdminCredentials)
        })?;
    let _ = ctx.user_record.set(record.clone());
    Ok(record)
}

pub async fn user_account(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let user = user_record(ctx).await?;
    let instance = ctx.instance()?;
    let name = field(&user, "user_name").unwrap_or_default().to_owned();
    let link = record_link(
        instance,
        "sys_user",
        field(&user, "sys_id").unwrap_or_default(),
    );
    let flag = |f: &str| field(&user, f).is_some_and(|v| v == "true");
    for (bad, fact, fix) in [
        (
            !flag("active"),
            "active = false",
            "Set Active on the user record.",
        ),
        (
            flag("locked_out"),
            "locked_out = true",
            "Clear Locked out on the user record.",
        ),
        (
            flag("password_needs_reset"),
            "password_needs_reset = true",
            "Set a new password and clear Password needs reset.",
        ),
    ] {
        if bad {
            return Err(Outcome::fail(format!("User {name} has {fact}."))
                .user(ask_admin(&format!("fix the user {name} ({fact})")))
                .admin(fix)
                .link(format!("User {name}"), link));
        }
    }
    let service_account = ctx
        .target
        .credentials
        .grant()
        .is_some_and(|g| g != GrantKind::AuthCode);
    let machine = field(&user, "identity_type").is_some_and(|t| t.eq_ignore_ascii_case("machine"));
    if service_account && !flag("web_service_access_only") && !machine {
        return Ok(Outcome::warn(format!(
            "User {name} is a service account that can also sign in to the web interface."
        ))
        .detail("Advisory: an integration's user should be web-service-only.")
        .admin("Set Web service access only (or Identity type Machine) on the user record.")
        .link(format!("User {name}"), link));
    }
    if let Some(last) = field(&user, "last_login_time").and_then(parse_time)
        && Utc::now().naive_utc() - last > chrono::Duration::days(IDLE_DAYS)
    {
        return Ok(Outcome::warn(format!(
            "User {name} has not signed in for over {IDLE_DAYS} days."
        ))
        .detail("Advisory: an unused account is worth removing, or its connection re-checked.")
        .link(format!("User {name}"), link));
    }
    Ok(Outcome::pass(format!(
        "User {name} is active, not locked out, with no password reset pending."
    )))
}

fn parse_time(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()
}

pub async fn user_roles(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let session = ctx.session()?;
    let instance = ctx.instance()?;
    let reader = ctx.reader()?;
    let user = session.identity.user_name.clone();
    let roles = match crate::api::roles_of(&reader, session.identity.sys_id.as_str()).await {
        Ok(roles) => roles,
        Err(crate::api::ApiError::Forbidden { .. }) => {
            return Ok(Outcome::skip("reading roles needs admin credentials")
                .next(crate::errors::NextStep::GiveAdminCredentials));
        }
        Err(err) => return Err(api_failure(&err, "the user's roles")),
    };
    if roles.is_empty() && ctx.target.admin.is_none() {
        // Row ACLs may hide the user's own grants from it: an empty answer proves nothing.
        return Ok(
            Outcome::skip("the user cannot read its own roles; admin credentials can")
                .next(crate::errors::NextStep::GiveAdminCredentials),
        );
    }
    let _ = ctx.roles.set(roles.clone());
    let params = &ctx.target.params;
    let link = record_link(instance, "sys_user", session.identity.sys_id.as_str());
    let sufficient = params.roles_sufficient.iter().find(|r| roles.contains(*r));
    let missing: Vec<&String> = params
        .roles
        .iter()
        .filter(|r| !roles.contains(*r))
        .collect();
    if sufficient.is_none() && !missing.is_empty() {
        let list: Vec<&str> = missing.iter().map(|r| r.as_str()).collect();
        let either = match params.roles_sufficient.as_slice() {
            [] => String::new(),
            [one] => format!(" (or {one} instead)"),
            many => format!(" (or one of {} instead)", many.join(", ")),
        };
        let the_roles = if list.len() == 1 {
            "the role"
        } else {
            "the roles"
        };
        return Err(Outcome::fail(format!(
            "User {user} lacks {the_roles} {}{either}.",
            list.join(", ")
        ))
        .user(ask_admin(&format!(
            "give {user} {the_roles} {}",
            list.join(", ")
        )))
        .admin(format!(
            "Add {} to {user} (the user record's Roles list).",
            list.join(", ")
        ))
        .link(format!("User {user}"), link));
    }
    let shown: Vec<&str> = roles.iter().map(String::as_str).take(12).collect();
    let service_account = ctx
        .target
        .credentials
        .grant()
        .is_some_and(|g| g != GrantKind::AuthCode);
    if service_account && roles.contains("admin") && sufficient.map(String::as_str) != Some("admin")
    {
        return Ok(
            Outcome::warn(format!("Service account {user} has the admin role."))
                .detail("Advisory: give an integration only the roles it needs.")
                .admin("Replace admin with the integration's own roles.")
                .link(format!("User {user}"), link),
        );
    }
    Ok(Outcome::pass(if shown.is_empty() {
        format!("User {user} has no roles.")
    } else {
        format!("User {user} has {}.", shown.join(", "))
    }))
}
