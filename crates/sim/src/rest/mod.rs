//! The REST APIs a client calls: the Table API ([`table`]), the Aggregate API ([`stats`]), the
//! Service Catalog ([`catalog`], [`catalog_browse`]), attachments ([`attachment`]), the CMDB
//! Instance API ([`cmdb`]), scripted REST ([`scripted`]), the CI/CD API ([`cicd`]), the update
//! set picker ([`picker`]), tiny URLs ([`tinyurl`]), with the instance's own error bodies
//! ([`errors`]), its reading of parameters ([`params`]) and rendering of records ([`render`]),
//! date-times as each caller sees them ([`dates`]).

pub mod attachment;
pub mod auth;
pub mod catalog;
pub mod catalog_browse;
pub mod cicd;
pub mod cmdb;
pub mod dates;
pub mod errors;
pub mod params;
pub mod picker;
pub mod render;
pub mod scripted;
pub mod stats;
pub mod table;
pub mod tinyurl;
pub mod writes;
