//! The instance as a platform: its records with their side effects ([`instance`]), who a caller
//! is and what they may do ([`identity`], [`acl`]), business rules ([`rules`], and the base
//! ones that move a request on: [`request_rollup`]), update sets
//! ([`update_sets`], and where a change lands: [`capture`]), what an instance holds at start and across restarts ([`seed`],
//! [`persist`]), and the Store applications installed on it ([`store_apps`]).

pub mod acl;
pub mod base_security;
pub mod capture;
pub mod demo_company;
pub mod dictionary;
pub mod dictionary_xml;
pub mod identity;
pub mod instance;
pub mod persist;
pub mod request_rollup;
pub mod rules;
pub mod seed;
pub mod store_apps;
pub mod task_defaults;
pub mod update_sets;
