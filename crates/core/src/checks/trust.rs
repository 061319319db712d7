//! Certificate authorities a diagnosis trusts beside the operating system's: a PEM file given
//! for a TLS-inspecting proxy (`--ca-file`), read as Snowlink reads every file, and the
//! certificates in it.

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// The largest CA file read: a bundle of a few hundred certificates.
pub const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

/// Why a CA file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The CA file {path} cannot be used: {detail}.")]
pub struct CaFileError {
    pub path: String,
    pub detail: String,
}

impl CaFileError {
    pub fn view(&self) -> crate::errors::ErrorView {
        crate::errors::ErrorView::new(
            crate::errors::ErrorCode::InvalidInput,
            self.to_string(),
            "Give the PEM file of the certificate authority (-----BEGIN CERTIFICATE-----).",
        )
    }
}

/// The PEM of a CA file to trust (a TLS-inspecting proxy's): a regular file, capped, holding
/// at least one certificate.
pub fn read_ca_file(path: &std::path::Path) -> Result<Vec<u8>, CaFileError> {
    let refuse = |detail: String| CaFileError {
        path: path.display().to_string(),
        detail,
    };
    let pem = crate::files::read_capped(path, MAX_CA_FILE_BYTES)
        .map_err(|failure| refuse(failure.to_string()))?
        .ok_or_else(|| refuse("there is no such file".into()))?;
    if certificates_from_pem(&pem).is_empty() {
        return Err(refuse("it holds no PEM certificate".into()));
    }
    Ok(pem)
}

/// The certificates of a PEM bundle (a proxy's CA given with `--ca-file`); anything else in it
/// is ignored.
pub fn certificates_from_pem(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .collect()
}
