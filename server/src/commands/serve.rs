use std::path::PathBuf;

use anyhow::Context;
use cairn_server::config::{ServeConfig, ServeOverrides};

use crate::cli::ServeArgs;

pub fn run(data_dir: Option<PathBuf>, args: ServeArgs) -> anyhow::Result<()> {
    let config = ServeConfig::load(
        args.config.as_deref(),
        ServeOverrides {
            data_dir,
            listen: args.listen,
            api_key: args.api_key,
            read_only_api_key: args.read_only_api_key,
            tls_cert: args.tls_cert,
            tls_key: args.tls_key,
        },
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.http_thread_count())
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        tracing::info!(listen = %config.listen, data_dir = %config.data_dir.display(), "cairn serving");
        let scheme = if config.tls_cert.is_some() { "https" } else { "http" };
        eprintln!("cairn listening on {scheme}://{}", config.listen);
        cairn_server::http::serve(listener, config, shutdown_signal()).await
    })
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch SIGTERM; only SIGINT stops the server");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
