//! How a front end says its first screen with data is on view, so start-up can be timed from
//! outside (`bench/benches/desktop.rs`): with [`REPORT_ENV`]` = 1` it prints [`FIRST_VIEW_LINE`]
//! on standard output. Nothing is printed otherwise.

/// Set to `1` to have the first view reported.
pub const REPORT_ENV: &str = "SNOWLINK_REPORT_FIRST_VIEW";
/// The line printed once the first view is on view.
pub const FIRST_VIEW_LINE: &str = "snowlink: first view shown";

/// Whether this process was asked to report its first view.
pub fn reporting() -> bool {
    std::env::var_os(REPORT_ENV).is_some_and(|v| v == "1")
}
