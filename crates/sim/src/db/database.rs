//! The database: the table dictionary plus the rows, and query evaluation over a table and the
//! tables that extend it (a query on `task` sees incidents). Terms are compiled once per
//! physical table into integer comparisons on interned values, which keeps a count over a
//! million rows in milliseconds. Unknown fields are dropped here, silently, as the instance does.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::db::compiled::{Compiled, Condition, Matcher};
pub use crate::db::context::QueryContext;
use crate::db::query::{Op, Order, Query, Term, range_of};
use crate::db::schema::{FieldKind, Schemas};
use crate::db::store::{Record, Table};

/// How many text terms of one query get a per-value memo (each is one byte per distinct value
/// of the table).
const MEMO_BUDGET: usize = 16;
/// References one query term may dot-walk through (`caller_id.manager.department.name`).
const MAX_WALK: usize = 4;

/// Sort classes: empty values first, then numbers (compared as numbers), then text. Keeping the
/// classes apart makes the order total whatever the data — a mixed "9" / "10" / "1a" column
/// would otherwise be cyclic, and Rust's sort may panic on a cyclic order.
fn sort_class(text: &str, number: Option<f64>) -> u8 {
    match (text.is_empty(), number) {
        (true, _) => 0,
        (false, Some(_)) => 1,
        (false, None) => 2,
    }
}

/// A row of some physical table in the family being queried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub table: usize,
    pub row: usize,
}

/// Schema plus storage.
#[derive(Debug)]
pub struct Db {
    pub schemas: Schemas,
    pub tables: BTreeMap<String, Table>,
}

/// The physical tables a query on some table covers, in a stable order.
pub struct Family {
    pub names: Vec<String>,
}

impl Db {
    pub fn family(&self, table: &str) -> Family {
        Family {
            names: self.schemas.with_descendants(table),
        }
    }

    fn physical(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// Visits every row of `table` and its descendants matching `query`, in storage order.
    pub fn scan(
        &self,
        table: &str,
        query: &Query,
        ctx: &QueryContext,
        mut visit: impl FnMut(&Family, Hit),
    ) {
        let family = self.family(table);
        for (index, name) in family.names.iter().enumerate() {
            let Some(physical) = self.physical(name) else {
                continue;
            };
            let mut compiled = self.compile(table, physical, query, ctx);
            for row in physical.rows() {
                if compiled.matches(physical, row) {
                    visit(&family, Hit { table: index, row });
                }
            }
        }
    }

    /// Counts matching rows without materialising them.
    pub fn count(&self, table: &str, query: &Query, ctx: &QueryContext) -> usize {
        let mut count = 0;
        self.scan(table, query, ctx, |_, _| count += 1);
        count
    }

    /// The rows `offset..offset+limit` of the sorted result, and the total match count.
    pub fn select(
        &self,
        table: &str,
        query: &Query,
        ctx: &QueryContext,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<(String, usize)>) {
        let order = self.valid_order(table, &query.order);
        let mut total = 0;
        let mut hits = Vec::new();
        let end = offset.saturating_add(limit);
        let mut family_names = Vec::new();
        self.scan(table, query, ctx, |family, hit| {
            if family_names.is_empty() {
                family_names.clone_from(&family.names);
            }
            // Without a sort only the requested window is kept, so a page of a huge table
            // costs one pass and no allocation per row.
            if !order.is_empty() || (total >= offset && total < end) {
                hits.push(hit);
            }
            total += 1;
        });
        if !order.is_empty() {
            hits = self.sorted_window(&family_names, &order, hits, offset, end);
        }
        let rows = hits
            .into_iter()
            .filter_map(|hit| {
                family_names
                    .get(hit.table)
                    .map(|name| (name.clone(), hit.row))
            })
            .collect();
        (total, rows)
    }

    /// The hits `offset..end` in `order`. Each sort field's distinct values are ranked once
    /// (numerically when both parse as numbers, as `ORDERBYpriority` expects, else as text);
    /// hits then compare as small integers and only the first `end` are fully sorted, which
    /// keeps `ORDERBYDESCsys_created_on` over a million rows cheap.
    fn sorted_window(
        &self,
        family: &[String],
        order: &[Order],
        hits: Vec<Hit>,
        offset: usize,
        end: usize,
    ) -> Vec<Hit> {
        let tables: Vec<Option<&Table>> = family.iter().map(|name| self.physical(name)).collect();
        let width = order.len();
        let mut keys = vec![0u32; hits.len() * width];
        for (k, key) in order.iter().enumerate() {
            let columns: Vec<Option<usize>> = tables
                .iter()
                .map(|t| t.and_then(|t| t.column(&key.field)))
                .collect();
            let id_of = |hit: &Hit| match (
                tables.get(hit.table).copied().flatten(),
                columns.get(hit.table).copied().flatten(),
            ) {
                (Some(t), Some(col)) => t.id_at(hit.row, col),
                _ => 0,
            };
            // Distinct (table, value id) pairs among the hits, ranked by their text.
            let mut seen: Vec<Vec<bool>> = tables
                .iter()
                .map(|t| vec![false; t.map_or(1, |t| t.dict.len())])
                .collect();
            let mut distinct: Vec<(usize, u32, Option<f64>, &str)> = Vec::new();
            for hit in &hits {
                let id = id_of(hit);
                if let Some(flag) = seen.get_mut(hit.table).and_then(|s| s.get_mut(id as usize))
                    && !*flag
                {
                    *flag = true;
                    let text = tables
                        .get(hit.table)
                        .copied()
                        .flatten()
                        .map_or("", |t| t.dict.text(id));
                    distinct.push((hit.table, id, text.parse::<f64>().ok(), text));
                }
            }
            let compare = |x: &(usize, u32, Option<f64>, &str),
                           y: &(usize, u32, Option<f64>, &str)| {
                sort_class(x.3, x.2)
                    .cmp(&sort_class(y.3, y.2))
                    .then_with(|| match (x.2, y.2) {
                        (Some(p), Some(q)) => p.total_cmp(&q),
                        _ => x.3.cmp(y.3),
                    })
            };
            distinct.sort_by(compare);
            let mut ranks: Vec<Vec<u32>> = tables
                .iter()
                .map(|t| vec![0; t.map_or(1, |t| t.dict.len())])
                .collect();
            let mut rank = 0u32;
            for (i, entry) in distinct.iter().enumerate() {
                if i > 0
                    && distinct
                        .get(i - 1)
                        .is_some_and(|prev| compare(prev, entry).is_ne())
                {
                    rank += 1;
                }
                let value = if key.descending {
                    u32::MAX - rank
                } else {
                    rank
                };
                if let Some(slot) = ranks
                    .get_mut(entry.0)
                    .and_then(|r| r.get_mut(entry.1 as usize))
                {
                    *slot = value;
                }
            }
            for (i, hit) in hits.iter().enumerate() {
                let value = ranks
                    .get(hit.table)
                    .and_then(|r| r.get(id_of(hit) as usize))
                    .copied()
                    .unwrap_or(0);
                if let Some(slot) = keys.get_mut(i * width + k) {
                    *slot = value;
                }
            }
        }
        let key_of = |i: &usize| keys.get(i * width..(i + 1) * width).unwrap_or(&[]);
        let mut index: Vec<usize> = (0..hits.len()).collect();
        if end < index.len() {
            index.select_nth_unstable_by(end, |a, b| key_of(a).cmp(key_of(b)));
            index.truncate(end);
        }
        index.sort_by(|a, b| key_of(a).cmp(key_of(b)));
        index
            .into_iter()
            .skip(offset)
            .filter_map(|i| hits.get(i).copied())
            .collect()
    }

    /// Counts per distinct combination of the `group_by` fields' values.
    pub fn group_count(
        &self,
        table: &str,
        query: &Query,
        ctx: &QueryContext,
        group_by: &[&str],
    ) -> Vec<(Vec<String>, usize)> {
        let mut groups: HashMap<Vec<String>, usize> = HashMap::new();
        self.scan(table, query, ctx, |family, hit| {
            let key = group_by
                .iter()
                .map(|field| self.hit_value(&family.names, hit, field).to_owned())
                .collect();
            *groups.entry(key).or_default() += 1;
        });
        let mut groups: Vec<(Vec<String>, usize)> = groups.into_iter().collect();
        groups.sort();
        groups
    }

    fn hit_value<'a>(&'a self, names: &[String], hit: Hit, field: &str) -> &'a str {
        names
            .get(hit.table)
            .and_then(|name| self.physical(name))
            .map_or("", |t| t.value(hit.row, field))
    }

    /// The sort keys that name a field; never an encrypted one, whose order would tell of it.
    fn valid_order(&self, table: &str, order: &[Order]) -> Vec<Order> {
        order
            .iter()
            .filter(|o| {
                self.schemas
                    .field(table, &o.field)
                    .is_some_and(|kind| *kind != FieldKind::Password2)
            })
            .cloned()
            .collect()
    }

    fn compile(
        &self,
        table: &str,
        physical: &Table,
        query: &Query,
        ctx: &QueryContext,
    ) -> Compiled {
        let mut memo_budget = MEMO_BUDGET;
        let alternatives = query
            .alternatives
            .iter()
            .map(|clauses| {
                clauses
                    .iter()
                    .filter_map(|clause| {
                        // A term on an unknown field is dropped: the instance ignores it, so it
                        // no longer restricts anything (and a clause of only such terms goes).
                        let terms: Vec<Condition> = clause
                            .iter()
                            .filter_map(|term| {
                                self.compile_term(table, physical, term, ctx, &mut memo_budget)
                            })
                            .collect();
                        (!terms.is_empty()).then_some(terms)
                    })
                    .collect()
            })
            .collect();
        Compiled { alternatives }
    }

    /// `None` when the field is unknown on `table` (the term is then dropped).
    fn compile_term(
        &self,
        table: &str,
        physical: &Table,
        term: &Term,
        ctx: &QueryContext,
        memo_budget: &mut usize,
    ) -> Option<Condition> {
        let value = match term.op {
            Op::Between | Op::On => range_of(term.op, &term.value, |v| ctx.resolve(v))?,
            _ => ctx.resolve(&term.value),
        };
        if let Some((base, inner)) = term.field.split_once('.') {
            return self.compile_walk(table, physical, (base, inner), term.op, value, ctx);
        }
        let kind = self.schemas.field(table, &term.field)?;
        let col = physical.column(&term.field);
        if *kind == FieldKind::Password2 {
            // Stored encrypted on an instance: no text given in a query equals or contains
            // the secret, so a query is no way to guess it.
            let matcher = match term.op {
                Op::IsEmpty | Op::IsNotEmpty => Matcher::One {
                    id: 0,
                    negate: term.op == Op::IsNotEmpty,
                },
                Op::Ne | Op::NotLike | Op::NotIn => Matcher::Always,
                _ => Matcher::Never,
            };
            return Some(Condition { col, matcher });
        }
        let lookup = |v: &str| physical.dict.lookup(v);
        // Text with letters in it compares regardless of case on an instance: the value ids,
        // which are exact, cannot answer it.
        let folds = ctx.fold_case && value.chars().any(char::is_alphabetic);
        let matcher = match term.op {
            Op::Eq | Op::Ne if !folds => match lookup(&value) {
                Some(id) => Matcher::One {
                    id,
                    negate: term.op == Op::Ne,
                },
                None if term.op == Op::Eq => Matcher::Never,
                None => Matcher::Always,
            },
            Op::In | Op::NotIn if !folds => {
                let ids = value.split(',').filter_map(lookup).collect();
                Matcher::Ids {
                    ids,
                    negate: term.op == Op::NotIn,
                }
            }
            Op::IsEmpty => Matcher::One {
                id: 0,
                negate: false,
            },
            Op::IsNotEmpty => Matcher::One {
                id: 0,
                negate: true,
            },
            op => {
                // Past the budget a term is evaluated without a memo rather than allocating
                // one per term: a hostile query of thousands of LIKE terms must not exhaust
                // memory on a large table.
                let memo = if *memo_budget > 0 {
                    *memo_budget -= 1;
                    vec![0; physical.dict.len()]
                } else {
                    Vec::new()
                };
                Matcher::Text {
                    op,
                    operand: if ctx.fold_case {
                        value.to_lowercase()
                    } else {
                        value
                    },
                    memo,
                    fold_case: ctx.fold_case,
                }
            }
        };
        Some(Condition { col, matcher })
    }

    /// `base.inner OP value`: the records of `base`'s target table that satisfy `inner OP
    /// value` (itself a dot-walk further, up to [`MAX_WALK`] references deep), as a set of ids.
    fn compile_walk(
        &self,
        table: &str,
        physical: &Table,
        (base, inner): (&str, &str),
        op: Op,
        value: String,
        ctx: &QueryContext,
    ) -> Option<Condition> {
        let Some(FieldKind::Reference(target)) = self.schemas.field(table, base) else {
            return None;
        };
        let first = inner.split('.').next().unwrap_or_default();
        if inner.matches('.').count() >= MAX_WALK || self.schemas.field(target, first).is_none() {
            return None;
        }
        // The bounds are resolved already: the inner term takes them as they are.
        let inner_term = Term {
            field: inner.to_owned(),
            op: if matches!(op, Op::On) {
                Op::Between
            } else {
                op
            },
            value,
        };
        let query = Query {
            alternatives: vec![vec![vec![inner_term]]],
            order: Vec::new(),
        };
        let mut ids = HashSet::new();
        self.scan(target, &query, ctx, |family, hit| {
            let sys_id = self.hit_value(&family.names, hit, "sys_id");
            if let Some(id) = physical.dict.lookup(sys_id) {
                ids.insert(id);
            }
        });
        Some(Condition {
            col: physical.column(base),
            matcher: Matcher::Ids { ids, negate: false },
        })
    }

    /// The record of `table` with `sys_id`, searching the tables that extend it too.
    pub fn locate(&self, table: &str, sys_id: &str) -> Option<(String, usize)> {
        self.family(table).names.into_iter().find_map(|name| {
            self.physical(&name)
                .and_then(|t| t.find(sys_id))
                .map(|row| (name, row))
        })
    }

    pub fn record(&self, physical: &str, row: usize) -> Record {
        self.physical(physical)
            .map(|t| t.record(row))
            .unwrap_or_default()
    }

    /// Whether `record` (of `table`) satisfies `query`, as an ACL or business rule condition.
    pub fn record_matches(
        &self,
        table: &str,
        physical: &str,
        row: usize,
        query: &Query,
        ctx: &QueryContext,
    ) -> bool {
        let Some(t) = self.physical(physical) else {
            return false;
        };
        self.compile(table, t, query, ctx).matches(t, row)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::db::query::Query;
    use crate::db::store::Record;
    use crate::platform::instance::Instance;

    fn instance() -> Instance {
        let mut instance = Instance::new("http://sim".into());
        for (i, desc) in ["alpha", "beta", "gamma", "", "alpha beta"]
            .iter()
            .enumerate()
        {
            let record = Record::from([
                ("short_description".to_owned(), (*desc).to_owned()),
                ("priority".to_owned(), (i + 1).to_string()),
            ]);
            let _ = instance.insert("incident", record, "test");
        }
        instance
    }

    proptest! {
        #[test]
        fn any_query_evaluates_without_panicking_on_any_table(
            text in "[a-z_.]{0,12}(=|!=|LIKE|IN|ISEMPTY|>|<|STARTSWITH|NOT IN)?[\\PC]{0,12}(\\^(OR|NQ|ORDERBY|ORDERBYDESC)?[a-z_.]{0,10}[=<>]?[a-z0-9,]{0,6}){0,4}",
            table in "(incident|task|sys_user|sys_user_has_role|nope)",
            offset in 0usize..10,
            limit in 0usize..10,
        ) {
            let instance = instance();
            let query = Query::parse(&text);
            let ctx = instance.context_for("");
            let (total, rows) = instance.db.select(&table, &query, &ctx, offset, limit);
            prop_assert!(rows.len() <= limit.min(total));
            let _ = instance.db.count(&table, &query, &ctx);
            let _ = instance.db.group_count(&table, &query, &ctx, &["priority", "role.name"]);
        }
    }

    #[test]
    fn ordering_is_numeric_for_numbers_stable_over_ties_and_spans_child_tables() {
        let mut instance = Instance::new("http://sim".into());
        // A text field without a default (a task's priority has one), holding numbers.
        for (table, priority, desc) in [
            ("incident", "10", "b"),
            ("incident", "9", "a"),
            ("change_request", "10", "a"),
            ("incident", "", "c"),
        ] {
            let record = Record::from([
                ("correlation_display".to_owned(), priority.to_owned()),
                ("short_description".to_owned(), desc.to_owned()),
            ]);
            instance.insert(table, record, "t").unwrap();
        }
        let ctx = instance.context_for("");
        let order = |q: &str, offset, limit| {
            let (_, rows) = instance
                .db
                .select("task", &Query::parse(q), &ctx, offset, limit);
            rows.iter()
                .map(|(t, r)| {
                    let stored = instance.db.tables.get(t).unwrap();
                    format!(
                        "{}{}",
                        stored.value(*r, "correlation_display"),
                        stored.value(*r, "short_description")
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            order("ORDERBYcorrelation_display^ORDERBYshort_description", 0, 10),
            ["c", "9a", "10a", "10b"]
        );
        assert_eq!(
            order(
                "ORDERBYDESCcorrelation_display^ORDERBYshort_description",
                0,
                2
            ),
            ["10a", "10b"]
        );
        assert_eq!(
            order(
                "ORDERBYDESCcorrelation_display^ORDERBYshort_description",
                2,
                5
            ),
            ["9a", "c"]
        );
    }

    #[test]
    fn mixed_numbers_and_text_sort_without_a_cycle() {
        let mut instance = Instance::new("http://sim".into());
        for value in ["9", "10", "1a", "NaN", "", "inf", "-0", "b"] {
            let record = Record::from([("short_description".to_owned(), value.to_owned())]);
            instance.insert("incident", record, "t").unwrap();
        }
        let query = Query::parse("ORDERBYshort_description");
        let (_, rows) = instance
            .db
            .select("incident", &query, &Default::default(), 0, 10);
        let stored = instance.db.tables.get("incident").unwrap();
        let values: Vec<&str> = rows
            .iter()
            .map(|(_, r)| stored.value(*r, "short_description"))
            .collect();
        assert_eq!(values, ["", "-0", "9", "10", "inf", "NaN", "1a", "b"]);
    }

    #[test]
    fn terms_past_the_memo_budget_still_match() {
        let instance = instance();
        let ctx = instance.context_for("");
        // 30 OR'ed LIKE terms, only the last of which matches anything.
        let mut text: Vec<String> = (0..29)
            .map(|i| format!("short_descriptionLIKEzz{i}"))
            .collect();
        text.push("short_descriptionLIKEalpha".into());
        let query = Query::parse(&text.join("^OR"));
        assert_eq!(instance.db.count("incident", &query, &ctx), 2);
        let many = vec!["priority!=9"; 2000].join("^");
        assert_eq!(
            Query::parse(&many).alternatives[0].len(),
            crate::db::query::MAX_TERMS
        );
    }

    #[test]
    fn relative_date_scripts_resolve_to_stored_date_times() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 3, 1)
            .and_then(|d| d.and_hms_opt(14, 5, 9))
            .unwrap()
            .and_utc();
        let cases = [
            ("gs.daysAgoStart(60)", Some("2025-12-31 00:00:00")),
            ("gs.daysAgo(60)", Some("2025-12-31 14:05:09")),
            ("gs.daysAgoEnd(1)", Some("2026-02-28 23:59:59")),
            ("gs.daysAgo(-2)", Some("2026-03-03 14:05:09")),
            ("gs.daysAgoStart( 0 );", Some("2026-03-01 00:00:00")),
            ("gs.daysAgo(x)", None),
            ("gs.daysAgo(1) + 1", None),
            ("gs.daysAgoStart(99999999999999999)", None),
            ("gs.hoursAgo(1)", None),
        ];
        for (script, expected) in cases {
            assert_eq!(
                crate::db::context::days_ago(script, now).as_deref(),
                expected,
                "{script}"
            );
        }
    }

    #[test]
    fn days_ago_values_filter_on_creation_dates() {
        let mut instance = instance();
        let now = chrono::Utc::now();
        for days in [10, 59, 61, 100] {
            let sys_id = instance.insert("incident", Record::new(), "t").unwrap()["sys_id"].clone();
            let created = crate::db::values::format_time(now - chrono::TimeDelta::days(days));
            let table = instance.db.tables.get_mut("incident").unwrap();
            let row = table.find(&sys_id).unwrap();
            table.set(row, "sys_created_on", &created);
        }
        let ctx = instance.context_for("");
        let count = |q: &str| instance.db.count("incident", &Query::parse(q), &ctx);
        let start = count("sys_created_on>=javascript:gs.daysAgoStart(60)");
        assert_eq!(start, 2 + 5, "the two recent ones and the five created now");
        assert_eq!(count("sys_created_on<javascript:gs.daysAgo(60)"), 2);
        assert_eq!(
            count(
                "sys_created_on<javascript:gs.daysAgoStart(60)^sys_created_on>=javascript:gs.daysAgoEnd(101)"
            ),
            2
        );
    }

    #[test]
    fn dot_walk_and_javascript_user_values_resolve() {
        let mut instance = instance();
        let user = instance
            .insert(
                "sys_user",
                Record::from([("user_name".into(), "u1".into())]),
                "t",
            )
            .unwrap();
        let id = user["sys_id"].clone();
        instance
            .insert(
                "incident",
                Record::from([("caller_id".into(), id.clone())]),
                "t",
            )
            .unwrap();
        let ctx = instance.context_for(&id);
        let mine = Query::parse("caller_id=javascript:gs.getUserID()");
        assert_eq!(instance.db.count("incident", &mine, &ctx), 1);
        let walked = Query::parse("caller_id.user_name=javascript:gs.getUserName()");
        assert_eq!(instance.db.count("incident", &walked, &ctx), 1);
    }
}
