//! Shared harness for the end-to-end tests: where the build's outputs are, and a driver for
//! the real desktop window.

pub mod browser;
pub mod cli;
pub mod desktop;
pub mod paths;
pub mod receiver;
