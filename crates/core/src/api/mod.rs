//! The ServiceNow REST client, its encoded-query builder and its typed errors, and the
//! questions every flow asks through it: who a sign-in is, and which roles a user holds.

mod aggregate;
mod client;
mod directory;
mod error;
mod identity;
mod query;
mod response;

pub use aggregate::GroupCount;
pub use client::{Auth, DEFAULT_TIMEOUT, Page, Record, SnowClient, TableQuery, field};
pub use directory::roles_of;
pub use error::{ApiError, AuthFailure, Forbidden};
pub use identity::{IdentifyError, LinkedIdentity, USERINFO_PATH, identify_with};
pub use query::{EncodedQuery, QueryError};
