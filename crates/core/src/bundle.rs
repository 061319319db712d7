//! The support bundle: one zip a support engineer can be sent, with the diagnosis, the versions,
//! the connection (which holds no secret by construction) and a log of the run's HTTP
//! exchanges (method, URL with credential parameters removed, status, content type, timing; no
//! header and no body), plus a README for whoever receives it. Nothing in it is a secret: the
//! tests put known secrets through a whole connect and diagnosis and search every file for
//! them.

use std::io::Write;
use std::path::Path;

use chrono::Utc;
use serde::Serialize;

use crate::checks::Report;
use crate::connections::Connection;
use crate::http::Exchange;

/// What goes into a bundle.
#[derive(Debug, Clone)]
pub struct BundleContents<'a> {
    pub report: &'a Report,
    pub connection: Option<&'a Connection>,
    pub exchanges: &'a [Exchange],
    /// Which program made it: `snowlink` (the CLI) or `snowlink-app`.
    pub made_by: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("Could not write the support bundle {path}: {detail}")]
    Write { path: String, detail: String },
}

impl BundleError {
    pub fn hint(&self) -> String {
        "Choose a folder you may write to, with some free space.".into()
    }

    pub fn view(&self) -> crate::errors::ErrorView {
        crate::errors::ErrorView::new(
            crate::errors::ErrorCode::ConfigError,
            self.to_string(),
            self.hint(),
        )
    }
}

#[derive(Serialize)]
struct Versions<'a> {
    snowlink: &'a str,
    made_by: &'a str,
    os: &'a str,
    family: &'a str,
    arch: &'a str,
    made_at: String,
}

/// The files of the bundle, by name.
pub fn files(contents: &BundleContents<'_>) -> Vec<(&'static str, Vec<u8>)> {
    let versions = Versions {
        snowlink: env!("CARGO_PKG_VERSION"),
        made_by: contents.made_by,
        os: std::env::consts::OS,
        family: std::env::consts::FAMILY,
        arch: std::env::consts::ARCH,
        made_at: Utc::now().to_rfc3339(),
    };
    let mut files = vec![
        ("README.txt", readme(contents).into_bytes()),
        ("doctor.json", pretty(contents.report)),
        ("versions.json", pretty(&versions)),
        ("http-log.json", pretty(contents.exchanges)),
    ];
    if let Some(connection) = contents.connection {
        files.push(("connection.json", pretty(connection)));
    }
    files
}

/// Writes the bundle to `path`, atomically: a failed write leaves no half zip behind.
pub fn write(path: &Path, contents: &BundleContents<'_>) -> Result<(), BundleError> {
    let failed = |detail: String| BundleError::Write {
        path: path.display().to_string(),
        detail,
    };
    let mut bytes = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut bytes);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in files(contents) {
            zip.start_file(name, options)
                .map_err(|err| failed(err.to_string()))?;
            zip.write_all(&content)
                .map_err(|err| failed(err.to_string()))?;
        }
        zip.finish().map_err(|err| failed(err.to_string()))?;
    }
    crate::files::atomic_write(path, &bytes.into_inner())
        .map_err(|failure| failed(failure.error.to_string()))
}

fn readme(contents: &BundleContents<'_>) -> String {
    let report = contents.report;
    let failed: Vec<String> = report
        .checks
        .iter()
        .filter(|c| c.status == crate::checks::CheckStatus::Fail)
        .map(|c| format!("  - {} ({}): {}", c.title, c.id, c.summary))
        .collect();
    format!(
        "Snowlink support bundle\n\
         =======================\n\n\
         Instance: {}\n\
         Integration profile: {}\n\
         Verdict: {:?}\n\
         {}\n\n\
         Failed checks:\n{}\n\n\
         Files:\n\
         - doctor.json: every check, with what it found and how to fix it (ids as in\n  \
           `snowlink doctor --list-checks`).\n\
         - http-log.json: each HTTP request of the run: method, URL, status, content type and\n  \
           time. No headers and no bodies; credential parameters (token, code, password…) are\n  \
           replaced by [redacted].\n\
         - connection.json: the connection's settings (instance, sign-in method, client ID, user\n  \
           name, last status). Secrets are kept only in the OS keyring and are not included.\n\
         - versions.json: Snowlink's version and the operating system.\n",
        report.instance,
        report.profile,
        report.verdict,
        report.summary,
        if failed.is_empty() {
            "  (none)".to_owned()
        } else {
            failed.join("\n")
        },
    )
}

fn pretty<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    serde_json::to_vec_pretty(value).unwrap_or_default()
}
