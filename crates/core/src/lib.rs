//! Snowlink's headless core. Every rule of the product lives here so that the desktop shell and
//! the CLI stay thin, and so that all of it builds and tests on a machine with no GUI library.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

// The modules in their layers, lowest first; each imports only from the layers before it
// (`tests/tests/layers.rs` holds the crate to this order).

// Hostile text from an instance bounded and made printable.
pub mod text;
// Every SNOWLINK_* environment variable, named once.
pub mod env;
// The closed error vocabulary: codes, views, the field at fault and the next step.
pub mod errors;
// Files Snowlink keeps: capped reads, atomic writes, where they live.
pub mod files;
// Validated ids: a connection's id, a record's sys_id.
pub mod ids;
// How a front end reports its first view, for start-up timing.
pub mod startup;
// What people type for "which instance?", parsed to one origin.
pub mod instance;
// The one HTTP client set-up, capped bodies, classified transport errors.
pub mod http;
// Secret types that never print, and the keyring behind a trait.
pub mod secrets;
// The ways a connection signs in and what each needs.
pub mod grants;
// The system browser hand-off.
pub mod browser;
// The REST client, encoded queries, typed errors, identity and roles.
pub mod api;
// The connections file and the linked-record counts it stores.
pub mod connections;
// OAuth: code + PKCE with a loopback listener, password, client credentials, refresh, revoke.
pub mod oauth;
// Integration profiles as data, with the checks and links they declare.
pub mod profiles;
// The update set a profile installs, as unload XML.
pub mod updateset;
// Layered diagnostics, each check with its cause and fix.
pub mod checks;
// What the front ends render: cards, badges, actions, messages.
pub mod views;
// The redacted support bundle.
pub mod bundle;
// Connect, register, link, unlink and Save and test.
pub mod flows;
// The setup wizard: a pure state machine, its views and the running setup.
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
