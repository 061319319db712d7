//! [`EncodedQuery`]: ServiceNow encoded queries (`active=true^user_name=beth.anglin`) built so
//! that a value cannot add a condition. ServiceNow has no escape for `^` (a value holding
//! `a^ORactive=true` would read as "… or every active record"), so such a value is refused with
//! the field it was meant for; fixed parts of a query come only from `'static` text in the code.

use std::fmt;

/// Longest value put into a query.
const MAX_VALUE_LEN: usize = 1000;

/// An encoded query. Constant text goes in with [`raw`](Self::raw); anything else through
/// [`eq`](Self::eq), which checks it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncodedQuery(String);

/// A value that cannot be put into an encoded query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The value for {field} cannot be used in a ServiceNow query: {reason}.")]
pub struct QueryError {
    pub field: String,
    pub reason: &'static str,
}

impl QueryError {
    pub fn hint(&self) -> String {
        format!(
            "Check {}: ServiceNow reads \"^\" as the start of another condition and has no way \
             to escape it, so such a value is never sent.",
            self.field
        )
    }
}

impl EncodedQuery {
    /// A fixed condition written in the code (`active=true`, `ORDERBYDESCsys_created_on`).
    pub fn raw(condition: &'static str) -> Self {
        Self(condition.to_owned())
    }

    /// Conditions from a profile file (trusted configuration an admin wrote, like the code's
    /// own constants); only control characters are refused.
    pub fn from_profile(conditions: &str) -> Result<Self, QueryError> {
        if conditions.chars().any(char::is_control) || conditions.len() > 4 * MAX_VALUE_LEN {
            return Err(QueryError {
                field: "the profile's query".into(),
                reason: "it holds a control character or is too long",
            });
        }
        Ok(Self(conditions.to_owned()))
    }

    /// Adds the fixed condition `condition` with AND.
    pub fn and_raw(mut self, condition: &'static str) -> Self {
        self.push(condition);
        self
    }

    /// Adds `field=value` with AND, refusing a value that would change the query's meaning.
    pub fn eq(self, field: &'static str, value: &str) -> Result<Self, QueryError> {
        self.condition(field, "=", value)
    }

    /// Adds `fieldINa,b,c` with AND; each value is checked as [`eq`](Self::eq) checks one,
    /// and may not hold the comma that separates them.
    pub fn is_in(self, field: &'static str, values: &[String]) -> Result<Self, QueryError> {
        if values.iter().any(|v| v.contains(',')) {
            return Err(QueryError {
                field: field.to_owned(),
                reason: "a value holds the comma that separates them",
            });
        }
        self.condition(field, "IN", &values.join(","))
    }

    fn condition(
        mut self,
        field: &'static str,
        operator: &str,
        value: &str,
    ) -> Result<Self, QueryError> {
        let refuse = |reason| {
            Err(QueryError {
                field: field.to_owned(),
                reason,
            })
        };
        if value.contains('^') {
            return refuse("it holds \"^\"");
        }
        if value.chars().any(char::is_control) {
            return refuse("it holds a control character");
        }
        if value.len() > MAX_VALUE_LEN {
            return refuse("it is longer than 1000 characters");
        }
        if value.trim_start().starts_with("javascript:") {
            return refuse("it would run as a script on the instance");
        }
        self.push(&format!("{field}{operator}{value}"));
        Ok(self)
    }

    fn push(&mut self, condition: &str) {
        if !self.0.is_empty() {
            self.0.push('^');
        }
        self.0.push_str(condition);
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EncodedQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cannot_add_conditions() {
        let err = EncodedQuery::default()
            .eq("user_name", "a^ORactive=true")
            .unwrap_err();
        assert_eq!(err.field, "user_name");
        assert!(err.to_string().contains("user_name"), "{err}");
        assert!(err.hint().contains('^'));
        for hostile in ["a\nb", "javascript:gs.getUserID()", &"x".repeat(2000)] {
            assert!(
                EncodedQuery::default().eq("name", hostile).is_err(),
                "{hostile:?}"
            );
        }
    }

    #[test]
    fn conditions_are_joined_with_and() {
        let query = EncodedQuery::raw("active=true")
            .eq("user_name", "beth.anglin")
            .unwrap()
            .and_raw("ORDERBYname");
        assert_eq!(
            query.as_str(),
            "active=true^user_name=beth.anglin^ORDERBYname"
        );
        let listed = EncodedQuery::default()
            .is_in("name", &["task".into(), "task.*".into()])
            .unwrap();
        assert_eq!(listed.as_str(), "nameINtask,task.*");
        assert!(
            EncodedQuery::default()
                .is_in("name", &["a,b".into()])
                .is_err()
        );
    }
}
