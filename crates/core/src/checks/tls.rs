//! `tls.handshake`: a TLS handshake of its own with the operating system's verifier (the one
//! the API client uses), recording the certificates the server presented, so a refusal can be
//! explained: self-signed, expired, for another name, or — when the chain leads to an authority
//! that is not one of the public ones — a TLS-inspecting proxy (servicenow.md §3.6).

use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::network::port_of;
use super::outcome::{Outcome, ask_admin};
use super::runner::Ctx;
use crate::errors::NextStep;
use crate::http::CertificateProblem;

/// The platform verifier, remembering what the server presented.
#[derive(Debug)]
struct Recording {
    inner: Arc<rustls_platform_verifier::Verifier>,
    presented: Mutex<Vec<CertificateDer<'static>>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        *self
            .presented
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = chain;
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

pub async fn tls_handshake(ctx: &Ctx) -> Result<Outcome, Outcome> {
    let instance = ctx.instance()?;
    if instance.as_str().starts_with("http://") {
        return Ok(Outcome::skip(
            "plain http:// on the loopback address: no TLS to check",
        ));
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let inner = rustls_platform_verifier::Verifier::new_with_extra_roots(
        ctx.extra_roots_der.clone(),
        provider.clone(),
    )
    .map_err(|err| Outcome::fail(format!("The certificate verifier could not start: {err}.")))?;
    let verifier = Arc::new(Recording {
        inner: Arc::new(inner),
        presented: Mutex::new(Vec::new()),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| Outcome::fail(format!("TLS could not be set up: {err}.")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    let host = instance
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let name = ServerName::try_from(host.clone())
        .map_err(|_| Outcome::fail(format!("{host} is not a name TLS can check.")))?;
    let stream = tokio::net::TcpStream::connect((host.as_str(), port_of(instance)))
        .await
        .map_err(|err| Outcome::fail(format!("The connection for the handshake failed: {err}.")))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let handshake = connector.connect(name, stream).await;
    let presented = verifier
        .presented
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    match handshake {
        Ok(_) => {
            let issuer = presented
                .first()
                .and_then(|leaf| names(leaf))
                .map(|n| n.issuer)
                .unwrap_or_default();
            Ok(Outcome::pass(format!(
                "The certificate is trusted (issued by {issuer})."
            )))
        }
        Err(err) => Err(refused(&err, &presented)),
    }
}

/// Subject and issuer common names (or whole names) of a certificate.
struct Names {
    subject: String,
    issuer: String,
    self_signed: bool,
    issuer_raw: Vec<u8>,
}

fn names(der: &CertificateDer<'_>) -> Option<Names> {
    let (_, cert) = X509Certificate::from_der(der.as_ref()).ok()?;
    let shown = |name: &x509_parser::x509::X509Name<'_>| {
        let cn = name
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_owned);
        crate::text::untrusted(&cn.unwrap_or_else(|| name.to_string()), 120)
    };
    Some(Names {
        subject: shown(cert.subject()),
        issuer: shown(cert.issuer()),
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        issuer_raw: cert.issuer().as_raw().to_vec(),
    })
}

/// Whether `name` (a DER Name with its SEQUENCE header) is the subject of a public root CA
/// (Mozilla's list, as browsers trust).
fn is_public_authority(name: &[u8]) -> bool {
    let contents = sequence_contents(name);
    webpki_roots::TLS_SERVER_ROOTS
        .iter()
        .any(|root| root.subject.as_ref() == contents)
}

/// The contents of a DER SEQUENCE (trust anchors keep a name without its header).
fn sequence_contents(der: &[u8]) -> &[u8] {
    let Some((&0x30, rest)) = der.split_first() else {
        return der;
    };
    let Some((&first, rest)) = rest.split_first() else {
        return der;
    };
    if first < 0x80 {
        return rest;
    }
    let octets = usize::from(first & 0x7f);
    rest.get(octets..).unwrap_or(der)
}

fn refused(err: &std::io::Error, presented: &[CertificateDer<'static>]) -> Outcome {
    let problem = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .and_then(|rustls_error| match rustls_error {
            rustls::Error::InvalidCertificate(cert) => {
                Some(crate::http::certificate_problem_of(cert))
            }
            _ => None,
        });
    let Some(problem) = problem else {
        return Outcome::fail(format!("The TLS handshake failed ({err})."))
            .fix("Check that the address is the instance's and that no proxy breaks TLS.");
    };
    let leaf = presented.first().and_then(|c| names(c));
    let top = presented.last().and_then(|c| names(c));
    match (problem, leaf, top) {
        (CertificateProblem::UnknownIssuer, Some(leaf), _) if leaf.self_signed => {
            Outcome::fail(format!(
                "The instance presents a self-signed certificate ({}).",
                leaf.subject
            ))
            .user("Do not connect unless your admin confirms this certificate.")
            .admin(
                "A ServiceNow instance has a certificate from a public authority; a self-signed \
                 one is a test server or an interception. If it is expected, give Snowlink the \
                 certificate as a trusted CA file.",
            )
            .next(NextStep::TrustCa)
        }
        (CertificateProblem::UnknownIssuer, _, Some(top))
            if !is_public_authority(&top.issuer_raw) =>
        {
            Outcome::fail(format!(
                "The certificate was issued by \"{}\", which is not a public certificate \
                 authority: a TLS-inspecting proxy is likely.",
                top.issuer
            ))
            .user(
                "Ask your IT team for the proxy's CA certificate and install it in the operating \
                 system's trust store, or give Snowlink that CA file.",
            )
            .admin(format!(
                "A proxy between this computer and the instance re-signs TLS with \"{}\". Install \
                 its CA in the OS trust store, or exempt the instance from inspection.",
                top.issuer
            ))
            .next(NextStep::TrustCa)
        }
        (problem, _, _) => Outcome::fail(format!("The instance's certificate is {problem}."))
            .user(ask_admin("check the instance's certificate"))
            .admin(match problem {
                CertificateProblem::Expired => {
                    "Check this computer's clock; if it is right, the certificate has expired."
                }
                CertificateProblem::WrongHost => {
                    "The address does not match the certificate: use the instance's own name."
                }
                _ => "Check which authority signed the certificate and that the OS trusts it.",
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_sequence_headers_are_stripped() {
        assert_eq!(sequence_contents(&[0x30, 0x02, 0xaa, 0xbb]), &[0xaa, 0xbb]);
        let mut long = vec![0x30, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7u8, 0x80));
        assert_eq!(sequence_contents(&long).len(), 0x80);
        assert_eq!(sequence_contents(&[]), &[] as &[u8]);
    }

    #[test]
    fn the_public_roots_are_known_by_name() {
        let root = &webpki_roots::TLS_SERVER_ROOTS[0];
        let mut name = vec![0x30];
        let len = root.subject.as_ref().len();
        if len < 0x80 {
            name.push(len as u8);
        } else {
            name.extend([0x81, len as u8]);
        }
        name.extend_from_slice(root.subject.as_ref());
        assert!(is_public_authority(&name));
        assert!(!is_public_authority(&[0x30, 0x03, 0x31, 0x01, 0x00]));
    }
}
