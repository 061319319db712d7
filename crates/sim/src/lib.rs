//! snowlink-sim: a stateful ServiceNow simulator that real clients cannot tell apart from an
//! instance for the features it covers (Table, Aggregate and Service Catalog APIs, OAuth,
//! roles and ACLs, update sets, business rules, admin screens, fault injection). It shares no
//! code with `snowlink-core` on purpose, so that a misreading of ServiceNow in one is caught by
//! the other. Start one with [`Sim::builder`]; read and change its state with
//! [`RunningSim::state`].

mod app;
mod db;
mod faults;
mod handle;
mod html;
mod oauth;
mod platform;
mod rest;
mod server;
#[cfg(feature = "test-support")]
pub mod testing;
mod tls;
mod web;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use db::store::Record;
pub use faults::{FAULT_SYNTAX, Fault};
pub use handle::{CreatedUser, OAuthApp, OAuthAppSpec, StateHandle, UserSpec};
pub use platform::identity::{BASIC_AUTH_RESTRICTION, BASIC_AUTH_ROLE};
pub use platform::instance::StoreError;
pub use platform::seed::{
    ADMIN_SYS_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD, DEMO_REDIRECT_URLS,
};
pub use platform::store_apps::{STORE_APP_SYNTAX, StoreApp};

use crate::app::App;
use crate::faults::Faults;
use crate::platform::instance::Instance;
use crate::tls::ServerTls;

/// What the instance holds at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seed {
    /// A fresh instance: the admin, the base roles, ACLs and properties, no data.
    #[default]
    Empty,
    /// A demo company: users, catalogs, an OAuth app and a few hundred incidents.
    Demo,
}

/// Why a simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("could not listen on port {port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("could not set up TLS: {0}")]
    Tls(String),
    #[error("could not read or write the state file {path}: {reason}")]
    State { path: PathBuf, reason: String },
}

/// Entry point of the library.
#[derive(Debug)]
pub struct Sim;

impl Sim {
    pub fn builder() -> SimBuilder {
        SimBuilder::default()
    }
}

/// How the simulator serves HTTPS, if at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum TlsMode {
    #[default]
    Off,
    /// A self-signed leaf.
    SelfSigned,
    /// A leaf signed by a generated CA with this name, as an inspecting proxy presents.
    PrivateCa(String),
}

impl TlsMode {
    /// Generates the certificates; `None` for plain HTTP.
    fn server_tls(&self) -> Result<Option<ServerTls>, SimError> {
        let generated = match self {
            TlsMode::Off => return Ok(None),
            TlsMode::SelfSigned => tls::self_signed(),
            TlsMode::PrivateCa(name) => tls::signed_by_private_ca(name),
        };
        generated.map(Some).map_err(SimError::Tls)
    }
}

/// Options of a simulator to start.
#[derive(Debug, Default)]
pub struct SimBuilder {
    seed: Seed,
    faults: Vec<Fault>,
    apps: Vec<StoreApp>,
    tls: TlsMode,
    port: u16,
    state_file: Option<PathBuf>,
}

impl SimBuilder {
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }

    /// Adds a fault active from the first request.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Installs a ServiceNow Store application on the seeded instance (its scope and roles).
    pub fn app(mut self, app: StoreApp) -> Self {
        self.apps.push(app);
        self
    }

    /// Serves HTTPS with a generated self-signed certificate (`false`: plain HTTP). After
    /// [`SimBuilder::tls_ca`], `tls(true)` keeps the private CA.
    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = match (tls, self.tls) {
            (false, _) => TlsMode::Off,
            (true, TlsMode::PrivateCa(name)) => TlsMode::PrivateCa(name),
            (true, _) => TlsMode::SelfSigned,
        };
        self
    }

    /// Serves HTTPS with a certificate for `127.0.0.1` and `localhost` signed by a freshly
    /// generated CA whose subject CN and O are `name` (e.g. "Corp Inspection CA"): what a
    /// TLS-inspecting corporate proxy presents (servicenow.md item 10). Implies TLS;
    /// [`RunningSim::certificate_pem`] then returns the CA's certificate, the one a client must
    /// add as a trusted root.
    pub fn tls_ca(mut self, name: &str) -> Self {
        self.tls = TlsMode::PrivateCa(name.to_owned());
        self
    }

    /// Port on 127.0.0.1; 0 (the default) picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Starts from this saved state when the file exists (instead of the seed).
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// Binds the port, seeds or loads the state and starts serving in the background.
    pub async fn start(self) -> Result<RunningSim, SimError> {
        let port = self.port;
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
            .await
            .map_err(|source| SimError::Bind { port, source })?;
        let address = listener
            .local_addr()
            .map_err(|source| SimError::Bind { port, source })?;
        let tls = self.tls.server_tls()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://127.0.0.1:{}", address.port());
        let saved = match &self.state_file {
            Some(path) if path.exists() => Some(platform::persist::load(path).map_err(
                |reason| SimError::State {
                    path: path.clone(),
                    reason,
                },
            )?),
            _ => None,
        };
        let (instance, admin) = match saved {
            Some(mut instance) => {
                instance.base_url.clone_from(&url);
                let admin = platform::seed::saved_admin(&instance);
                (instance, admin)
            }
            None => {
                let mut instance = Instance::new(url.clone());
                let admin = platform::seed::base(&mut instance);
                if self.seed == Seed::Demo {
                    platform::seed::demo(&mut instance);
                }
                for app in &self.apps {
                    platform::store_apps::install(&mut instance, *app);
                }
                (instance, admin)
            }
        };
        let app = Arc::new(App::new(instance, Faults::default()));
        for fault in self.faults {
            app.switch_on(fault);
        }
        let (shutdown, receiver) = watch::channel(false);
        let config = tls.as_ref().map(|t| Arc::clone(&t.config));
        let task = tokio::spawn(server::serve(listener, Arc::clone(&app), config, receiver));
        Ok(RunningSim {
            url,
            admin,
            app,
            shutdown,
            task: Some(task),
            certificate_pem: tls.map(|t| t.trust_pem),
            state_file: self.state_file,
        })
    }
}

/// A simulator serving in the background; dropped, it stops accepting.
pub struct RunningSim {
    url: String,
    admin: (String, String),
    app: Arc<App>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    certificate_pem: Option<String>,
    state_file: Option<PathBuf>,
}

impl RunningSim {
    /// The instance URL, e.g. `http://127.0.0.1:40123` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The seeded admin's `(user_name, password)`.
    pub fn admin(&self) -> (String, String) {
        self.admin.clone()
    }

    /// The PEM a client must trust when serving TLS: the self-signed certificate with
    /// [`SimBuilder::tls`], the CA's certificate with [`SimBuilder::tls_ca`].
    pub fn certificate_pem(&self) -> Option<&str> {
        self.certificate_pem.as_deref()
    }

    /// Turns a fault on from the next request (or connection) on.
    pub fn set_fault(&self, fault: Fault) {
        self.app.switch_on(fault);
    }

    /// Turns every fault off.
    pub fn clear_faults(&self) {
        self.app.switch_off_all();
    }

    /// Direct access to the instance's records, users, apps and settings.
    pub fn state(&self) -> StateHandle {
        StateHandle::new(Arc::clone(&self.app))
    }

    /// Stops serving; saves the state first when started with a state file.
    pub async fn shutdown(mut self) -> Result<(), SimError> {
        let saved = match &self.state_file {
            Some(path) => self.state().save(path),
            None => Ok(()),
        };
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        saved
    }

    /// Saves the state to `path` as JSON.
    pub fn save(&self, path: &Path) -> Result<(), SimError> {
        self.state().save(path)
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
