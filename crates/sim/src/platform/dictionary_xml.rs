//! The dictionary form of a table in an update set payload: `<record_update><database>
//! <element name="u_table" type="collection" extends="task" label="…"><element name="u_field"
//! type="reference" reference="sys_user"/>…</element></database></record_update>`. Committing it
//! creates the table and its columns, as `sys_db_object` / `sys_dictionary` records would.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// A table (`type="collection"` element) with its columns `(name, referenced table)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableDef {
    pub name: String,
    pub label: String,
    pub extends: String,
    pub fields: Vec<(String, String)>,
}

fn attribute(start: &BytesStart<'_>, name: &[u8]) -> String {
    start
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
        .unwrap_or_default()
}

/// The tables of a `<database>` payload; empty when the payload is something else.
pub fn parse_database(xml: &str) -> Vec<TableDef> {
    let mut reader = Reader::from_str(xml);
    let mut tables: Vec<TableDef> = Vec::new();
    let mut path: Vec<String> = Vec::new();
    loop {
        let (start, empty) = match reader.read_event() {
            Ok(Event::Start(start)) => (start, false),
            Ok(Event::Empty(start)) => (start, true),
            Ok(Event::End(_)) => {
                path.pop();
                continue;
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => continue,
        };
        let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
        let in_database = path.last().is_some_and(|p| p == "database");
        let in_table = path.len() >= 2 && path.get(path.len() - 2).is_some_and(|p| p == "database");
        if name == "element" && in_database {
            tables.push(TableDef {
                name: attribute(&start, b"name"),
                label: attribute(&start, b"label"),
                extends: attribute(&start, b"extends"),
                fields: Vec::new(),
            });
        } else if name == "element"
            && in_table
            && path.last().is_some_and(|p| p == "element")
            && let Some(table) = tables.last_mut()
        {
            table
                .fields
                .push((attribute(&start, b"name"), attribute(&start, b"reference")));
        }
        if !empty {
            path.push(name);
        }
    }
    tables.retain(|t| !t.name.is_empty());
    tables
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_columns_are_read_from_attributes() {
        let xml = "<?xml version=\"1.0\"?><record_update><database>\
                   <element name=\"u_sync\" type=\"collection\" label=\"Sync\" extends=\"task\">\
                   <element name=\"u_who\" type=\"reference\" reference=\"sys_user\"/>\
                   <element name=\"u_note\" type=\"string\"><index/></element>\
                   </element></database></record_update>";
        let tables = parse_database(xml);
        assert_eq!(tables.len(), 1);
        assert_eq!(tables[0].extends, "task");
        assert_eq!(
            tables[0].fields,
            vec![
                ("u_who".to_owned(), "sys_user".to_owned()),
                ("u_note".to_owned(), String::new())
            ]
        );
        assert!(parse_database("<record_update><sys_script/></record_update>").is_empty());
        assert!(parse_database("<<<").is_empty());
    }
}
