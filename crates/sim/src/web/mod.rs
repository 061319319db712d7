//! What a person sees in a browser: the login form and its session ([`session`]), the admin
//! pages ([`admin`]), all rendered as escaped HTML (`crate::html`), and the UI's own JSON
//! sign-in that tools use for a session ([`angular`]).

pub mod admin;
pub mod angular;
pub mod session;
