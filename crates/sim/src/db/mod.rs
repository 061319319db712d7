//! The database: the tables' dictionary and their rows ([`schema`], [`store`]), encoded queries
//! ([`query`]) and their evaluation over a table and the tables that extend it ([`database`]).

pub mod compiled;
pub mod context;
pub mod database;
pub mod itsm_tables;
pub mod query;
pub mod schema;
pub mod store;
pub mod tables;
pub mod values;
