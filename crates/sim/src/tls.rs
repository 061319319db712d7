//! HTTPS with freshly generated certificates that no client trusts by default, which is the
//! point: they stand in for a corporate TLS-intercepting proxy (servicenow.md item 10, "unable to
//! get local issuer certificate") so diagnoses of that case can be tested. Two shapes: a
//! self-signed leaf, and a leaf signed by a private CA, which is what an inspecting proxy
//! presents and what a client fixes by adding that CA as an extra trusted root. Tests that want
//! to trust the simulator read the PEM to trust from `RunningSim::certificate_pem`.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A TLS acceptor and the PEM a client must trust to accept it.
pub struct ServerTls {
    pub config: Arc<rustls::ServerConfig>,
    pub trust_pem: String,
}

/// The names the simulator's leaf certificates are valid for: it only listens on loopback.
fn loopback_names() -> Vec<String> {
    vec!["localhost".to_owned(), "127.0.0.1".to_owned()]
}

fn generation(err: rcgen::Error) -> String {
    format!("certificate generation: {err}")
}

/// A self-signed certificate for `localhost` and `127.0.0.1`; it is its own trust anchor.
pub fn self_signed() -> Result<ServerTls, String> {
    let generated = rcgen::generate_simple_self_signed(loopback_names()).map_err(generation)?;
    Ok(ServerTls {
        config: server_config(generated.cert.der().clone(), &generated.signing_key)?,
        trust_pem: generated.cert.pem(),
    })
}

/// A certificate for `localhost` and `127.0.0.1` issued by a new CA whose subject CN and O are
/// `ca_name` (e.g. "Corp Inspection CA"); the CA is the trust anchor. Only the leaf is sent, as
/// inspecting proxies do, so an untrusting client finds no issuer ("unable to get local issuer
/// certificate") rather than an untrusted root in the chain.
pub fn signed_by_private_ca(ca_name: &str) -> Result<ServerTls, String> {
    let ca = private_ca(ca_name)?;
    let key = KeyPair::generate().map_err(generation)?;
    let mut params = CertificateParams::new(loopback_names()).map_err(generation)?;
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = params.signed_by(&key, &ca).map_err(generation)?;
    Ok(ServerTls {
        config: server_config(leaf.der().clone(), &key)?,
        trust_pem: ca.pem(),
    })
}

/// A self-signed CA certificate named `name`, able to sign server certificates.
fn private_ca(name: &str) -> Result<CertifiedIssuer<'static, KeyPair>, String> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(generation)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().map_err(generation)?;
    CertifiedIssuer::self_signed(params, key).map_err(generation)
}

/// A rustls server presenting `certificate`, with HTTP/2 and HTTP/1.1 offered over ALPN.
fn server_config(
    certificate: CertificateDer<'static>,
    key: &KeyPair,
) -> Result<Arc<rustls::ServerConfig>, String> {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .with_no_client_auth()
        .with_single_cert(vec![certificate], key)
        .map_err(|e| format!("TLS certificate: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
