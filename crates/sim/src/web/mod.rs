//! What a person sees in a browser: the login form and its session ([`session`]), the admin
//! pages ([`admin`]), all rendered as escaped HTML (`crate::html`).

pub mod admin;
pub mod session;
