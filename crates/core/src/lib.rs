//! Snowlink's headless core. Every rule of the product lives here so that the desktop shell and
//! the CLI stay thin, and so that all of it builds and tests on a machine with no GUI library.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

pub mod api;
pub mod browser;
pub mod connections;
pub mod engine;
pub mod instance;
pub mod oauth;
pub mod secrets;

pub use browser::{BrowserUrl, BrowserUrlError};
pub use instance::{InstanceUrl, InstanceUrlError, InstanceUrlView};
