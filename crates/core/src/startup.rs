//! How a front end says its first screen with data is on view, so start-up can be timed from
//! outside (`bench/benches/desktop.rs`): with [`crate::env::REPORT_FIRST_VIEW`]` = 1` it prints [`FIRST_VIEW_LINE`]
//! on standard output. Nothing is printed otherwise.

/// The line printed once the first view is on view.
pub const FIRST_VIEW_LINE: &str = "snowlink: first view shown";

/// Whether this process was asked to report its first view.
pub fn reporting() -> bool {
    std::env::var_os(crate::env::REPORT_FIRST_VIEW).is_some_and(|v| v == "1")
}
