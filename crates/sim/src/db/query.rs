//! Parser of ServiceNow encoded queries (`active=true^priority=1^ORpriority=2^ORDERBYnumber`).
//! It follows the instance's leniency on purpose: a term with an unknown operator is dropped
//! rather than refused, as an unknown field is later (see `search`), because a real instance
//! answers such queries with every row and clients must be tested against that.

/// A comparison operator of an encoded query term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Like,
    NotLike,
    StartsWith,
    EndsWith,
    In,
    NotIn,
    IsEmpty,
    IsNotEmpty,
    Gt,
    Ge,
    Lt,
    Le,
    /// `fieldBETWEENlow@high`, both ends included.
    Between,
    /// `fieldONlabel@start@end`: the condition builder's "on" a day, between its bounds.
    On,
}

/// Operators in the order they must be tried: longer spellings first (`NOT LIKE` before
/// `LIKE`, `!=` and `>=` before `=` and `>`, `ISNOTEMPTY` before `ISEMPTY`).
const OPERATORS: &[(&str, Op)] = &[
    ("BETWEEN", Op::Between),
    ("ISNOTEMPTY", Op::IsNotEmpty),
    ("ISEMPTY", Op::IsEmpty),
    ("NOT LIKE", Op::NotLike),
    ("NOT IN", Op::NotIn),
    ("NOTLIKE", Op::NotLike),
    ("LIKE", Op::Like),
    ("STARTSWITH", Op::StartsWith),
    ("ENDSWITH", Op::EndsWith),
    ("IN", Op::In),
    ("ON", Op::On),
    ("!=", Op::Ne),
    (">=", Op::Ge),
    ("<=", Op::Le),
    ("=", Op::Eq),
    (">", Op::Gt),
    ("<", Op::Lt),
];

/// Most terms one encoded query is read for.
pub const MAX_TERMS: usize = 500;

/// One `field OP value` term; `field` may dot-walk references (`caller_id.manager.user_name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub field: String,
    pub op: Op,
    pub value: String,
}

/// A sort key from `ORDERBYfield` / `ORDERBYDESCfield`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub field: String,
    pub descending: bool,
}

/// A parsed query: `^NQ` alternatives, each an AND of clauses, each clause an OR of terms
/// (`a^b^ORc` is `a AND (b OR c)`, as on the instance).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub alternatives: Vec<Vec<Vec<Term>>>,
    pub order: Vec<Order>,
}

impl Query {
    /// Parses `text`; never fails, since the instance never refuses a malformed query.
    pub fn parse(text: &str) -> Self {
        let mut query = Query::default();
        let mut current: Vec<Vec<Term>> = Vec::new();
        // Bounded like an instance's URL: terms past the cap are dropped, so a hostile query
        // cannot make every request scan a large table thousands of times.
        for token in text.split('^').take(MAX_TERMS) {
            if let Some(field) = token.strip_prefix("ORDERBYDESC") {
                push_order(&mut query.order, field, true);
            } else if let Some(field) = token.strip_prefix("ORDERBY") {
                push_order(&mut query.order, field, false);
            } else if let Some(rest) = token.strip_prefix("NQ") {
                // `a=1^NQb=2`: the term after NQ starts the next alternative.
                if !current.is_empty() {
                    query.alternatives.push(std::mem::take(&mut current));
                }
                if let Some(term) = parse_term(rest) {
                    current.push(vec![term]);
                }
            } else if let Some(rest) = token.strip_prefix("OR").filter(|_| !current.is_empty()) {
                if let (Some(term), Some(clause)) = (parse_term(rest), current.last_mut()) {
                    clause.push(term);
                }
            } else if let Some(term) = parse_term(token) {
                current.push(vec![term]);
            }
        }
        if !current.is_empty() {
            query.alternatives.push(current);
        }
        query
    }
}

impl Query {
    /// Adds `field = value` to every alternative, `value` taken literally (a `^` in it is no
    /// operator): a name-value pair of the request. A name that is no field name is ignored,
    /// as an unknown term is.
    pub fn and_equals(&mut self, field: &str, value: &str) {
        let named = !field.is_empty()
            && field
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
        if !named {
            return;
        }
        let term = Term {
            field: field.to_owned(),
            op: Op::Eq,
            value: value.to_owned(),
        };
        if self.alternatives.is_empty() {
            self.alternatives.push(Vec::new());
        }
        for alternative in &mut self.alternatives {
            alternative.push(vec![term.clone()]);
        }
    }
}

fn push_order(order: &mut Vec<Order>, field: &str, descending: bool) {
    if !field.is_empty() {
        order.push(Order {
            field: field.to_owned(),
            descending,
        });
    }
}

/// Field names are lower case letters, digits, `_` and a `.` per dot-walk; the operator
/// starts at the first other character.
fn parse_term(token: &str) -> Option<Term> {
    let split = token
        .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'))
        .unwrap_or(token.len());
    let (field, rest) = token.split_at(split);
    if field.is_empty() {
        return None;
    }
    let (spelling, op) = OPERATORS
        .iter()
        .find(|(spelling, _)| rest.starts_with(spelling))?;
    let value = rest.get(spelling.len()..).unwrap_or("");
    Some(Term {
        field: field.to_owned(),
        op: *op,
        value: value.to_owned(),
    })
}

/// Compares two field values the way a sort or `>`/`<` does: numerically when both are
/// numbers (priorities, counts), else as text (ServiceNow dates sort as text).
pub fn compare_values(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        _ => a.cmp(b),
    }
}

/// Whether `value` satisfies `op operand`, for the operators not answered by id comparison;
/// with `fold_case`, text compares regardless of case (an instance's default collation), and
/// `operand` is expected folded already. `BETWEEN` and `ON` take their bounds resolved and
/// joined by `@` (see [`range_of`]).
pub fn text_matches(op: Op, value: &str, operand: &str, fold_case: bool) -> bool {
    use std::cmp::Ordering;
    let folded;
    let value = if fold_case
        && matches!(
            op,
            Op::Eq
                | Op::Ne
                | Op::Like
                | Op::NotLike
                | Op::StartsWith
                | Op::EndsWith
                | Op::In
                | Op::NotIn
        ) {
        folded = value.to_lowercase();
        folded.as_str()
    } else {
        value
    };
    match op {
        Op::Eq => value == operand,
        Op::Ne => value != operand,
        Op::Like => value.contains(operand),
        Op::NotLike => !value.contains(operand),
        Op::StartsWith => value.starts_with(operand),
        Op::EndsWith => value.ends_with(operand),
        Op::In => operand.split(',').any(|v| v == value),
        Op::NotIn => !operand.split(',').any(|v| v == value),
        Op::IsEmpty => value.is_empty(),
        Op::IsNotEmpty => !value.is_empty(),
        Op::Gt => !value.is_empty() && compare_values(value, operand) == Ordering::Greater,
        Op::Ge => !value.is_empty() && compare_values(value, operand) != Ordering::Less,
        Op::Lt => !value.is_empty() && compare_values(value, operand) == Ordering::Less,
        Op::Le => !value.is_empty() && compare_values(value, operand) != Ordering::Greater,
        Op::Between | Op::On => operand.split_once('@').is_some_and(|(low, high)| {
            !value.is_empty()
                && compare_values(value, low) != Ordering::Less
                && compare_values(value, high) != Ordering::Greater
        }),
    }
}

/// The bounds of a `BETWEEN` (`low@high`) or `ON` (`label@start@end`) value, each resolved by
/// `resolve`, as `low@high`; `None` when the value has too few parts.
pub fn range_of(op: Op, value: &str, resolve: impl Fn(&str) -> String) -> Option<String> {
    let parts: Vec<&str> = value.split('@').collect();
    let (low, high) = match (op, parts.as_slice()) {
        (Op::Between, [low, high]) => (*low, *high),
        (Op::On, [.., start, end]) if parts.len() >= 3 => (*start, *end),
        _ => return None,
    };
    Some(format!("{}@{}", resolve(low), resolve(high)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn term(field: &str, op: Op, value: &str) -> Term {
        Term {
            field: field.into(),
            op,
            value: value.into(),
        }
    }

    #[test]
    fn or_binds_to_the_previous_term_and_orderby_is_collected() {
        let q = Query::parse("active=true^priority=1^ORpriority=2^ORDERBYDESCnumber");
        assert_eq!(
            q.alternatives,
            vec![vec![
                vec![term("active", Op::Eq, "true")],
                vec![term("priority", Op::Eq, "1"), term("priority", Op::Eq, "2")],
            ]]
        );
        assert_eq!(
            q.order,
            vec![Order {
                field: "number".into(),
                descending: true
            }]
        );
    }

    #[test]
    fn operators_are_recognised_longest_first() {
        let q = Query::parse("a!=1^bNOT LIKEx^cISNOTEMPTY^dNOT INx,y^role.nameSTARTSWITHad^e>=3");
        let ops: Vec<Op> = q.alternatives[0].iter().map(|c| c[0].op).collect();
        assert_eq!(
            ops,
            vec![
                Op::Ne,
                Op::NotLike,
                Op::IsNotEmpty,
                Op::NotIn,
                Op::StartsWith,
                Op::Ge
            ]
        );
        assert_eq!(q.alternatives[0][4][0].field, "role.name");
    }

    #[test]
    fn new_query_splits_alternatives_and_junk_is_dropped() {
        let q = Query::parse("a=1^NQb=2^^garbage^OR^ORDERBY^=x");
        assert_eq!(q.alternatives.len(), 2);
        assert!(q.order.is_empty());
    }

    proptest! {
        #[test]
        fn any_input_parses_without_panicking(text in "\\PC{0,200}") {
            let q = Query::parse(&text);
            for term in q.alternatives.iter().flatten().flatten() {
                prop_assert!(!term.field.is_empty());
            }
        }

        #[test]
        fn structured_input_keeps_every_term(
            terms in proptest::collection::vec(("[a-z_]{1,8}", 0usize..4, "[A-Za-z0-9 ]{0,8}"), 1..6)
        ) {
            let spelled: Vec<String> = terms
                .iter()
                .map(|(f, op, v)| format!("{f}{}{v}", ["=", "!=", "LIKE", "STARTSWITH"][*op]))
                .collect();
            let q = Query::parse(&spelled.join("^"));
            prop_assert_eq!(q.alternatives[0].len(), terms.len());
        }
    }
}
