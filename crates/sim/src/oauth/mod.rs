//! The OAuth server: the authorization endpoint with its login and consent pages
//! ([`authorize`]), and the token and revocation endpoints ([`token`]).

pub mod authorize;
pub mod token;
