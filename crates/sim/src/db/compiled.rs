//! A query compiled for one physical table: each term a matcher on the table's interned value
//! ids, so a scan compares integers (text tests memoised per value).

use std::collections::HashSet;

use crate::db::query::{Op, text_matches};
use crate::db::store::Table;

pub enum Matcher {
    Always,
    Never,
    /// The value id equals one of these (negated for `!=` / `NOT IN`).
    Ids {
        ids: HashSet<u32>,
        negate: bool,
    },
    One {
        id: u32,
        negate: bool,
    },
    /// A text test, memoised per value id: `memo[id]` is 0 unknown, 1 true, 2 false;
    /// `fold_case` compares regardless of case (`operand` is folded already).
    Text {
        op: Op,
        operand: String,
        memo: Vec<u8>,
        fold_case: bool,
    },
}

pub struct Condition {
    pub col: Option<usize>,
    pub matcher: Matcher,
}

impl Condition {
    pub fn matches(&mut self, table: &Table, row: usize) -> bool {
        let id = self.col.map_or(0, |col| table.id_at(row, col));
        match &mut self.matcher {
            Matcher::Always => true,
            Matcher::Never => false,
            Matcher::One { id: want, negate } => (id == *want) != *negate,
            Matcher::Ids { ids, negate } => ids.contains(&id) != *negate,
            Matcher::Text {
                op,
                operand,
                memo,
                fold_case,
            } => match memo.get(id as usize) {
                Some(1) => true,
                Some(2) => false,
                _ => {
                    let result = text_matches(*op, table.dict.text(id), operand, *fold_case);
                    if let Some(slot) = memo.get_mut(id as usize) {
                        *slot = if result { 1 } else { 2 };
                    }
                    result
                }
            },
        }
    }
}

/// A query compiled against one physical table.
pub struct Compiled {
    pub alternatives: Vec<Vec<Vec<Condition>>>,
}

impl Compiled {
    pub fn matches(&mut self, table: &Table, row: usize) -> bool {
        if self.alternatives.is_empty() {
            return true;
        }
        self.alternatives.iter_mut().any(|clauses| {
            clauses
                .iter_mut()
                .all(|clause| clause.iter_mut().any(|c| c.matches(table, row)))
        })
    }
}
