//! Stopping on SIGINT or SIGTERM, for the long-running commands (`watch`, `serve`): the signal is turned
//! into a value they wait on, so each can finish what it is doing (a run, the requests in flight) first.

/// Turns `true` on the first SIGINT or SIGTERM, or when the command itself sets it (a worker whose
/// config is no longer the workers'). A channel rather than a one-shot notification: the server and
/// the refresh loop of `serve --watch` both wait on it (`subscribe`).
pub(super) fn stop_on_signal() -> std::sync::Arc<tokio::sync::watch::Sender<bool>> {
    let tx = std::sync::Arc::new(tokio::sync::watch::channel(false).0);
    let on_signal = tx.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        on_signal.send_replace(true);
    });
    tx
}

/// Completes once `stop` is `true`.
pub(super) async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    // An error means the sender is gone, which only happens after it sent `true`.
    let _ = stop.wait_for(|s| *s).await;
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
