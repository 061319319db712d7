//! The ServiceNow REST client and its typed errors.

mod client;
mod error;
mod response;

pub use client::{
    Auth, CatalogOrder, DEFAULT_TIMEOUT, GroupCount, Page, Record, SnowClient, TableQuery, field,
    http_client, transport_error,
};
pub use error::{ApiError, AuthFailure, Forbidden};

pub(crate) use client::read_capped;
