//! Physical storage of one table's rows. Values are interned per table and stored column by
//! column as `u32` ids, so a million incidents fit in a few hundred megabytes and a scan that
//! compares a field with a constant compares integers: the Table API's `X-Total-Count` and the
//! Aggregate API count over a million rows in a few milliseconds (issue 3's performance note).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A record as the API sees it: field name → string value (every ServiceNow value is a string).
pub type Record = BTreeMap<String, String>;

/// A record of these `(field, value)` pairs.
pub fn record_of(pairs: &[(&str, &str)]) -> Record {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Interned strings of one table. Id 0 is always the empty string, which is also what an unset
/// field reads as.
#[derive(Debug, Default)]
pub struct Dict {
    strings: Vec<Arc<str>>,
    ids: HashMap<Arc<str>, u32>,
}

impl Dict {
    fn new() -> Self {
        let empty: Arc<str> = Arc::from("");
        Self {
            strings: vec![empty.clone()],
            ids: HashMap::from([(empty, 0)]),
        }
    }

    /// The id of `value`, interning it when new.
    pub fn intern(&mut self, value: &str) -> u32 {
        if let Some(id) = self.ids.get(value) {
            return *id;
        }
        let id = u32::try_from(self.strings.len()).unwrap_or(u32::MAX);
        let text: Arc<str> = Arc::from(value);
        self.strings.push(text.clone());
        self.ids.insert(text, id);
        id
    }

    /// The id of `value` if any row ever held it.
    pub fn lookup(&self, value: &str) -> Option<u32> {
        self.ids.get(value).copied()
    }

    pub fn text(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }

    pub fn len(&self) -> usize {
        self.strings.len()
    }
}

/// The rows of one physical table (an `incident` row lives in `incident`, not in `task`).
#[derive(Debug)]
pub struct Table {
    pub dict: Dict,
    names: Vec<String>,
    index: HashMap<String, usize>,
    columns: Vec<Vec<u32>>,
    live: Vec<bool>,
    by_sys_id: HashMap<u32, usize>,
}

impl Default for Table {
    fn default() -> Self {
        Self {
            dict: Dict::new(),
            names: Vec::new(),
            index: HashMap::new(),
            columns: Vec::new(),
            live: Vec::new(),
            by_sys_id: HashMap::new(),
        }
    }
}

impl Table {
    /// The column index of `field`, if any row ever set it.
    pub fn column(&self, field: &str) -> Option<usize> {
        self.index.get(field).copied()
    }

    fn column_or_add(&mut self, field: &str) -> usize {
        if let Some(col) = self.index.get(field) {
            return *col;
        }
        let col = self.names.len();
        self.names.push(field.to_owned());
        self.index.insert(field.to_owned(), col);
        self.columns.push(vec![0; self.live.len()]);
        col
    }

    /// The value id at `row` in column `col`.
    pub fn id_at(&self, row: usize, col: usize) -> u32 {
        self.columns
            .get(col)
            .and_then(|c| c.get(row))
            .copied()
            .unwrap_or(0)
    }

    /// The value of `field` at `row`, `""` when unset.
    pub fn value(&self, row: usize, field: &str) -> &str {
        self.column(field)
            .map_or("", |col| self.dict.text(self.id_at(row, col)))
    }

    pub fn set(&mut self, row: usize, field: &str, value: &str) {
        let id = self.dict.intern(value);
        let col = self.column_or_add(field);
        if field == "sys_id" {
            let old = self.id_at(row, col);
            self.by_sys_id.remove(&old);
            self.by_sys_id.insert(id, row);
        }
        if let Some(cell) = self.columns.get_mut(col).and_then(|c| c.get_mut(row)) {
            *cell = id;
        }
    }

    /// Appends a row; the caller has already filled in `sys_id`.
    pub fn insert(&mut self, record: &Record) -> usize {
        let row = self.live.len();
        self.live.push(true);
        for column in &mut self.columns {
            column.push(0);
        }
        for (field, value) in record {
            self.set(row, field, value);
        }
        row
    }

    pub fn find(&self, sys_id: &str) -> Option<usize> {
        let id = self.dict.lookup(sys_id)?;
        self.by_sys_id
            .get(&id)
            .copied()
            .filter(|row| self.is_live(*row))
    }

    pub fn delete(&mut self, row: usize) {
        if self.is_live(row) {
            let sys_id = self.column("sys_id").map(|col| self.id_at(row, col));
            if let Some(id) = sys_id {
                self.by_sys_id.remove(&id);
            }
            if let Some(live) = self.live.get_mut(row) {
                *live = false;
            }
        }
    }

    pub fn is_live(&self, row: usize) -> bool {
        self.live.get(row).copied().unwrap_or(false)
    }

    /// Row positions of live rows, in insertion order.
    pub fn rows(&self) -> impl Iterator<Item = usize> + '_ {
        self.live
            .iter()
            .enumerate()
            .filter(|(_, live)| **live)
            .map(|(row, _)| row)
    }

    /// Every non-empty field of `row`.
    pub fn record(&self, row: usize) -> Record {
        self.names
            .iter()
            .enumerate()
            .filter_map(|(col, name)| {
                let value = self.dict.text(self.id_at(row, col));
                (!value.is_empty()).then(|| (name.clone(), value.to_owned()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_find_update_delete_round_trip() {
        let mut table = Table::default();
        let record = Record::from([
            ("sys_id".into(), "a".repeat(32)),
            ("name".into(), "x".into()),
        ]);
        let row = table.insert(&record);
        assert_eq!(table.find(&"a".repeat(32)), Some(row));
        table.set(row, "name", "y");
        assert_eq!(table.value(row, "name"), "y");
        assert_eq!(table.value(row, "missing"), "");
        table.delete(row);
        assert_eq!(table.find(&"a".repeat(32)), None);
        assert_eq!(table.rows().count(), 0);
    }
}
