//! Access control as the instance evaluates it. Record ACLs (`sys_security_acl`, type
//! `record`) are matched on the most specific table of the record's ancestry that has any, so
//! `task` ACLs cover incidents until `incident` gets its own. A deny ACL that applies wins; else
//! any allow ACL whose roles and condition pass grants. `admin` passes an ACL only where
//! `admin_overrides` is set. With no ACL at all the instance is in default-deny mode: only admin.
//! REST endpoint ACLs (type `rest_endpoint`) gate whole APIs, such as the Table API.

use crate::db::database::QueryContext;
use crate::db::query::Query;
use crate::platform::identity::Caller;
use crate::platform::instance::Instance;

/// A record operation an ACL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Read,
    Write,
    Delete,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Write => "write",
            Operation::Delete => "delete",
        }
    }
}

/// One active ACL with its roles resolved.
#[derive(Debug, Clone)]
struct Acl {
    name: String,
    kind: String,
    operation: String,
    deny: bool,
    admin_overrides: bool,
    roles: Vec<String>,
    condition: Query,
}

/// The active ACLs, loaded once per request.
#[derive(Debug)]
pub struct Acls {
    all: Vec<Acl>,
    context: QueryContext,
}

impl Acls {
    pub fn load(instance: &Instance, caller: &Caller) -> Self {
        let all = instance
            .query("sys_security_acl", "active=true")
            .into_iter()
            .map(|acl| {
                let sys_id = acl.get("sys_id").cloned().unwrap_or_default();
                let roles = instance
                    .query(
                        "sys_security_acl_role",
                        &format!("sys_security_acl={sys_id}"),
                    )
                    .iter()
                    .filter_map(|link| {
                        link.get("sys_user_role")
                            .and_then(|id| instance.get("sys_user_role", id))
                    })
                    .filter_map(|role| role.get("name").cloned())
                    .collect();
                let text = |f: &str| acl.get(f).cloned().unwrap_or_default();
                Acl {
                    name: text("name"),
                    kind: text("type"),
                    operation: text("operation"),
                    deny: text("decision_type") == "deny",
                    admin_overrides: text("admin_overrides") != "false",
                    roles,
                    condition: Query::parse(&text("condition")),
                }
            })
            .collect();
        Self {
            all,
            context: instance.context_for(&caller.user_id),
        }
    }

    /// Whether an ACL's role requirement holds (conditions are checked per record).
    fn roles_pass(acl: &Acl, caller: &Caller) -> bool {
        (caller.is_admin() && acl.admin_overrides)
            || acl.roles.is_empty()
            || acl.roles.iter().any(|role| caller.has_role(role))
    }

    /// The record ACLs that decide `operation` on `table` (or on one of its fields): those of
    /// the most specific name that has any.
    fn deciding(
        &self,
        instance: &Instance,
        table: &str,
        operation: Operation,
        object: Option<&str>,
    ) -> Vec<&Acl> {
        let ancestry = instance.db.schemas.ancestry(table);
        // Most specific first: table.field up the ancestry, then table.* up the ancestry,
        // then *.field and *.* (or, for the record itself, the tables then `*`).
        let names: Vec<String> = match object {
            Some(field) => ancestry
                .iter()
                .map(|t| format!("{t}.{field}"))
                .chain(ancestry.iter().map(|t| format!("{t}.*")))
                .chain([format!("*.{field}"), "*.*".to_owned()])
                .collect(),
            None => ancestry.iter().cloned().chain(["*".to_owned()]).collect(),
        };
        for name in names {
            let found: Vec<&Acl> = self
                .all
                .iter()
                .filter(|a| {
                    (a.kind == "record" || a.kind.is_empty())
                        && a.operation == operation.name()
                        && a.name == name
                })
                .collect();
            if !found.is_empty() {
                return found;
            }
        }
        Vec::new()
    }

    /// Table-level check before looking at rows: some ACL's roles pass (its condition may
    /// still hide rows). Default deny lets only admin through.
    pub fn table_allows(
        &self,
        instance: &Instance,
        caller: &Caller,
        table: &str,
        operation: Operation,
    ) -> bool {
        let acls = self.deciding(instance, table, operation, None);
        if acls.is_empty() {
            return caller.is_admin();
        }
        acls.iter().any(|a| !a.deny && Self::roles_pass(a, caller))
    }

    /// The records of `table` matching `query` that `caller` may read: `offset` and `limit`
    /// apply before the row ACLs, as on the instance (servicenow.md 2.2).
    pub fn readable_records(
        &self,
        instance: &Instance,
        caller: &Caller,
        (table, query): (&str, &Query),
        (offset, limit): (usize, usize),
    ) -> Vec<crate::db::store::Record> {
        let context = instance.context_for(&caller.user_id);
        let (_, rows) = instance.db.select(table, query, &context, offset, limit);
        rows.iter()
            .filter(|(physical, row)| {
                self.row_allows(instance, caller, table, (physical, *row), Operation::Read)
            })
            .map(|(physical, row)| instance.db.record(physical, *row))
            .collect()
    }

    /// Record-level check of one stored row.
    pub fn row_allows(
        &self,
        instance: &Instance,
        caller: &Caller,
        table: &str,
        (physical, row): (&str, usize),
        operation: Operation,
    ) -> bool {
        let acls = self.deciding(instance, table, operation, None);
        if acls.is_empty() {
            return caller.is_admin();
        }
        let passes = |acl: &Acl| {
            (caller.is_admin() && acl.admin_overrides)
                || (Self::roles_pass(acl, caller)
                    && instance.db.record_matches(
                        table,
                        physical,
                        row,
                        &acl.condition,
                        &self.context,
                    ))
        };
        let denied = acls
            .iter()
            .any(|a| a.deny && passes(a) && !(caller.is_admin() && a.admin_overrides));
        !denied && acls.iter().any(|a| !a.deny && passes(a))
    }

    /// Whether a field-level read ACL (`table.field`) hides `field`; fields without one are
    /// readable once the row is.
    pub fn field_readable(
        &self,
        instance: &Instance,
        caller: &Caller,
        table: &str,
        field: &str,
    ) -> bool {
        let acls = self.deciding(instance, table, Operation::Read, Some(field));
        acls.is_empty() || acls.iter().any(|a| !a.deny && Self::roles_pass(a, caller))
    }

    /// The REST API ACL: when an active `rest_endpoint` ACL names this API (or `*`), the caller
    /// needs one of its roles (for example `snc_platform_rest_api_access`).
    pub fn api_allows(&self, caller: &Caller, api: &str) -> bool {
        let acls: Vec<&Acl> = self
            .all
            .iter()
            .filter(|a| a.kind == "rest_endpoint" && (a.name == api || a.name == "*"))
            .collect();
        acls.is_empty() || acls.iter().any(|a| !a.deny && Self::roles_pass(a, caller))
    }
}
