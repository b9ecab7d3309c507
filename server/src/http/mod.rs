//! The HTTP API: Qdrant's REST dialect over the engine.
//!
//! Request flow: axum routes a request to a handler in `collections`,
//! `points` or `search`; the handler parses the body (`envelope::Body`:
//! 422 unparsable, 413 too large, 400 wrong shape), converts Qdrant's shapes
//! to engine types (`models`), runs the engine call on the blocking pool, and
//! wraps the answer in Qdrant's envelope. Engine errors map to status codes
//! in one place (`envelope`). A panicking handler becomes a 500 and the
//! server keeps serving.

mod audit;
mod auth;
mod collections;
mod documents;
mod envelope;
mod metrics;
mod models;
mod points;
mod query;
mod search;
mod service;
mod snapshots;
mod state;

use std::future::Future;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::serve::ListenerExt;
use axum::Router;
use cairn_engine::Engine;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use envelope::error_response;
pub use state::AppState;

use crate::config::ServeConfig;

/// Every route of the API, wrapped in [`layered`].
pub fn router(state: AppState, config: &ServeConfig) -> Router {
    let c = "/collections/{name}";
    let routes = Router::new()
        .route("/", get(service::root))
        .route("/healthz", get(service::live))
        .route("/livez", get(service::live))
        .route("/readyz", get(service::ready))
        .route("/metrics", get(metrics::scrape))
        .route("/health/report", get(service::report))
        .route(
            "/snapshots",
            post(snapshots::create_full).get(snapshots::list_full),
        )
        .route(
            "/snapshots/{snapshot}",
            get(snapshots::download_full).delete(snapshots::delete_full),
        )
        .route(
            &format!("{c}/snapshots"),
            post(snapshots::create).get(snapshots::list),
        )
        .route(&format!("{c}/snapshots/recover"), put(snapshots::recover))
        .route(
            &format!("{c}/snapshots/upload"),
            // Uploads stream to disk, so the JSON body limit does not apply.
            post(snapshots::upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            &format!("{c}/snapshots/{{snapshot}}"),
            get(snapshots::download).delete(snapshots::delete),
        )
        .route(
            &format!("{c}/documents"),
            get(documents::list).post(documents::ingest),
        )
        .route(&format!("{c}/documents/records"), post(documents::records))
        .route("/collections", get(collections::list))
        .route(
            c,
            put(collections::create)
                .get(collections::info)
                .delete(collections::delete)
                .patch(collections::update),
        )
        .route(&format!("{c}/exists"), get(collections::exists))
        .route(&format!("{c}/index"), put(collections::create_index))
        .route(
            &format!("{c}/index/{{field}}"),
            delete(collections::delete_index),
        )
        .route(
            &format!("{c}/points"),
            put(points::upsert).post(points::retrieve),
        )
        .route(&format!("{c}/points/{{id}}"), get(points::get_one))
        .route(&format!("{c}/points/delete"), post(points::delete))
        .route(
            &format!("{c}/points/payload"),
            post(points::set_payload).put(points::overwrite_payload),
        )
        .route(
            &format!("{c}/points/payload/delete"),
            post(points::delete_payload),
        )
        .route(
            &format!("{c}/points/payload/clear"),
            post(points::clear_payload),
        )
        .route(&format!("{c}/points/scroll"), post(points::scroll))
        .route(&format!("{c}/points/count"), post(points::count))
        .route(&format!("{c}/points/search"), post(search::search))
        .route(
            &format!("{c}/points/search/batch"),
            post(search::search_batch),
        )
        .route(&format!("{c}/points/query"), post(search::query))
        .route(
            &format!("{c}/points/query/batch"),
            post(search::query_batch),
        )
        .fallback(|| async { error_response(StatusCode::NOT_FOUND, "no such endpoint") })
        .with_state(state);
    layered(routes, config)
}

/// Wraps routes in the layers every request passes (outermost first): the
/// request log, the panic guard, API-key checks, the body limit and metrics.
pub fn layered(routes: Router, config: &ServeConfig) -> Router {
    let keys = std::sync::Arc::new(auth::Keys {
        full: config.api_key.clone(),
        read_only: config.read_only_api_key.clone(),
        open_health: config.open_health_endpoints,
    });
    routes
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(keys, auth::check))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked; answered 500 and kept serving");
            error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal error (logged)")
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Micros),
                ),
        )
}

/// Serves on `listener` until `shutdown` resolves: stops accepting, lets
/// in-flight requests finish, then checkpoints every collection.
/// Collections load in the background while `/readyz` answers 503.
pub async fn serve(
    listener: TcpListener,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if config.tls_cert.is_some() != config.tls_key.is_some() {
        anyhow::bail!("TLS needs both a certificate (--tls-cert) and a key (--tls-key)");
    }
    let url = config.sidecars.metadata_url(&config.data_dir);
    let catalog = crate::catalog::Catalog::open(&url).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot open the metadata catalog {}: {e}",
            crate::catalog::redact(&url)
        )
    })?;
    let backups = &config.sidecars.backup;
    let schedule = match (&backups.schedule, &backups.location) {
        (Some(expr), Some(url)) => Some((
            crate::backup::schedule::parse(expr)?,
            crate::backup::Location::open(url, &backups.s3)?,
        )),
        (Some(_), None) => anyhow::bail!("backup.schedule is set but backup.location is not"),
        _ => None,
    };
    let state = AppState::new(config.search_threads)
        .with_catalog(catalog.clone())
        .with_sidecars(config.sidecars.clone())
        .with_data_dir(config.data_dir.clone());
    let runtime = tokio::runtime::Handle::current();
    let scheduler: Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>> = Arc::default();
    // A failed load stops the server too (and is reported below).
    let load_failed = Arc::new(tokio::sync::Notify::new());
    let loader = {
        let (state, load_failed, data_dir) =
            (state.clone(), load_failed.clone(), config.data_dir.clone());
        let (scheduler, backup_config) = (scheduler.clone(), backups.clone());
        let catalog = catalog.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            match Engine::open(&data_dir) {
                Ok(engine) => {
                    let engine = Arc::new(engine);
                    state.set_engine(engine.clone());
                    if let Some((cron, location)) = schedule {
                        tracing::info!(schedule = %cron.pattern, location = %location.url, "scheduled backups on");
                        let task = crate::backup::schedule::run(
                            engine,
                            Some(catalog),
                            backup_config,
                            cron,
                            location,
                        );
                        if let Ok(mut slot) = scheduler.lock() {
                            *slot = Some(runtime.spawn(task));
                        }
                    }
                    tracing::info!(data_dir = %data_dir.display(), "all collections loaded");
                    Ok(())
                }
                Err(e) => {
                    load_failed.notify_one();
                    Err(anyhow::anyhow!(
                        "cannot open data directory {}: {e}",
                        data_dir.display()
                    ))
                }
            }
        })
    };
    let stop = async move {
        tokio::select! {
            _ = shutdown => tracing::info!("shutting down: finishing in-flight requests"),
            _ = load_failed.notified() => {}
        }
    };
    let app = router(state.clone(), &config);
    match (&config.tls_cert, &config.tls_key) {
        (None, None) => {
            // Answers go out as soon as they are written, not held back by
            // Nagle's algorithm (axum-server does the same on the TLS path).
            let listener = listener.tap_io(|tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!("cannot set TCP_NODELAY on a connection: {e}");
                }
            });
            axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await?
        }
        (Some(cert), Some(key)) => serve_tls(listener, app, cert, key, stop).await?,
        _ => unreachable!("checked at the top"),
    }
    loader.await??;
    if let Some(task) = scheduler.lock().ok().and_then(|mut s| s.take()) {
        task.abort();
    }
    catalog.close().await;
    if let Some(engine) = state.loaded() {
        tokio::task::spawn_blocking(move || engine.checkpoint_all()).await??;
    }
    Ok(())
}

/// HTTPS with rustls (the `ring` provider): same app, same graceful shutdown.
async fn serve_tls(
    listener: TcpListener,
    app: Router,
    cert: &std::path::Path,
    key: &std::path::Path,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Installing twice (e.g. several servers in one test process) is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot load TLS certificate {} / key {}: {e}",
                cert.display(),
                key.display()
            )
        })?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        stop.await;
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(30)));
    });
    axum_server::from_tcp_rustls(listener.into_std()?, tls)?
        .handle(handle)
        .serve(app.into_make_service())
        .await?;
    Ok(())
}
