//! HTTPS with a freshly generated self-signed certificate. No client trusts it by default, which
//! is the point: it stands in for a corporate TLS-intercepting proxy ("unable to get local issuer
//! certificate") so diagnoses of that case can be tested. Tests that want to trust it read the
//! PEM from `RunningSim::certificate_pem`.

use std::sync::Arc;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// A TLS acceptor and the PEM of its certificate.
pub struct SelfSigned {
    pub config: Arc<rustls::ServerConfig>,
    pub certificate_pem: String,
}

/// Generates a certificate for `localhost` and `127.0.0.1`.
pub fn self_signed() -> Result<SelfSigned, String> {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let generated = rcgen::generate_simple_self_signed(names)
        .map_err(|e| format!("certificate generation: {e}"))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        generated.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .with_no_client_auth()
        .with_single_cert(vec![generated.cert.der().clone()], key)
        .map_err(|e| format!("TLS certificate: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(SelfSigned {
        config: Arc::new(config),
        certificate_pem: generated.cert.pem(),
    })
}
