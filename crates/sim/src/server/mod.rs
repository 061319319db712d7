//! The listener: accepts connections (plain or TLS), applies the connection-drop fault, and
//! serves each connection with hyper until it ends or the simulator shuts down. A hand-written
//! accept loop rather than `axum::serve` because TLS and dropped connections are per-connection
//! decisions.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::App;

mod batch;
mod edge;
mod faults;

/// Largest request body accepted.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Every route of the instance, with the fault middleware in front.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .merge(crate::rest::table::routes())
        .merge(crate::rest::stats::routes())
        .merge(crate::rest::catalog::routes())
        .merge(crate::rest::catalog_browse::routes())
        .merge(crate::rest::attachment::routes())
        .merge(crate::rest::cmdb::routes())
        .merge(crate::web::session::routes())
        .merge(crate::web::angular::routes())
        .merge(crate::oauth::authorize::routes())
        .merge(crate::oauth::token::routes())
        .merge(crate::rest::cicd::routes())
        .merge(crate::rest::picker::routes())
        .merge(crate::web::admin::routes())
        .merge(batch::routes())
        .merge(crate::rest::tinyurl::routes())
        .fallback(crate::rest::scripted::dispatch)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            edge::tiny_urls,
        ))
        // Update sets of a few megabytes are normal; axum's 2 MB default would refuse them.
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            faults::apply,
        ))
        .layer(axum::middleware::from_fn(edge::header_limit))
        .with_state(app)
}

/// Accepts until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    tls: Option<Arc<rustls::ServerConfig>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let router = router(Arc::clone(&app));
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of descriptors and the like: back off instead of spinning.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        if app.faults().drop_connections {
            drop(stream);
            continue;
        }
        let router = router.clone();
        let acceptor = acceptor.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            match acceptor {
                Some(acceptor) => {
                    // A client that refuses the certificate ends the handshake; nothing to serve.
                    if let Ok(stream) = acceptor.accept(stream).await {
                        connection(stream, router, shutdown).await;
                    }
                }
                None => connection(stream, router, shutdown).await,
            }
        });
    }
}

async fn connection<S>(stream: S, router: Router, mut shutdown: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let builder = auto::Builder::new(TokioExecutor::new());
    let served = builder
        .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(router));
    tokio::select! {
        _ = served => {}
        _ = shutdown.changed() => {}
    }
}
