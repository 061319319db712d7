//! The ServiceNow REST client, its encoded-query builder and its typed errors.

mod client;
mod error;
mod query;
mod response;

pub use client::{Auth, DEFAULT_TIMEOUT, GroupCount, Page, Record, SnowClient, TableQuery, field};
pub use error::{ApiError, AuthFailure, Forbidden};
pub use query::{EncodedQuery, QueryError};
