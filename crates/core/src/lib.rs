//! Snowlink's headless core. Every rule of the product lives here so that the desktop shell and
//! the CLI stay thin, and so that all of it builds and tests on a machine with no GUI library.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

pub mod api;
pub mod browser;
pub mod bundle;
pub mod checks;
pub mod connections;
pub mod env;
pub mod errors;
pub mod files;
pub mod flows;
pub mod grants;
pub mod http;
pub mod ids;
pub mod instance;
pub mod oauth;
pub mod profiles;
pub mod secrets;
pub mod startup;
pub mod text;
pub mod updateset;
pub mod views;
pub mod wizard;

pub use browser::{BrowserUrl, BrowserUrlError};
pub use instance::{InstanceUrl, InstanceUrlError, InstanceUrlView};

/// The name this build keeps its settings and keyring entries under: release and debug builds
/// keep separate ones, so a developer's test runs never touch the installed app's.
pub const APP_ID: &str = if cfg!(debug_assertions) {
    "snowlink-dev"
} else {
    "snowlink"
};
