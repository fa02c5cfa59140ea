//! `feedmill serve`: the output folder over HTTP until SIGINT or SIGTERM; with `--watch`, the refresh
//! loop of `watch` beside it. A signal stops accepting connections, lets the requests in flight and the
//! refresh in progress finish, then exits. Serving alone only reads, so it takes the run lock only
//! with `--watch`.

use std::sync::Arc;

use anyhow::Context as _;

use feedmill::pipeline;
use feedmill::report::{EXIT_FATAL, EXIT_OK};
use feedmill::serve;

use super::signal::{stop_on_signal, stopped};
use super::watch::print_refresh;
use crate::cli::ServeArgs;

pub fn execute(args: ServeArgs, quiet: bool) -> anyhow::Result<u8> {
    super::memory::settle();
    let ServeArgs { config, output, listen, watch, every, wait, adopt_config } = args;
    let Some(config) = super::load(&config.config, quiet)? else { return Ok(EXIT_FATAL) };
    let runtime = super::runtime()?;
    // Serving only reads; refreshing writes the state like `watch`.
    let how = super::Writing { wait, quiet, adopt_config };
    let mut state = match (watch, &config.state_url) {
        (true, _) => Some(super::open_writer(&config, &runtime, &how)?),
        (false, Some(_)) => Some(super::open_state(&config, &runtime)?),
        (false, None) => None,
    };
    let every = watch.then_some(every);
    let worker = state.as_ref().and_then(super::State::worker);
    let result = runtime.block_on(async {
        let root = output.clone().unwrap_or_else(|| config.output.dir.clone());
        // A PostgreSQL state is served from the files its publishers stored, the same on every
        // instance; the SQLite one from the output folder.
        let files = match &state {
            Some(super::State::Postgres { store, .. }) => serve::Files::published(store).await?,
            _ => serve::Files::Folder(root.clone()),
        };
        let server = serve::Server::with_files(
            serve::Settings {
                root,
                state_path: config.state_path.clone(),
                sources: config.sources.iter().map(|s| s.name.clone()).collect(),
                max_age: every.unwrap_or(serve::DEFAULT_MAX_AGE),
                refresh_every: every,
            },
            files,
        );
        let listener =
            tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
        if !quiet {
            eprintln!("listening on http://{}", listener.local_addr().context("no local address")?);
        }
        let stop = stop_on_signal();
        let serving = tokio::spawn(serve::serve(listener, Arc::clone(&server), stopped(stop.subscribe())));
        let mut changed = false;
        if let (Some(every), Some(state)) = (every, state.as_mut()) {
            let on_report = |now, report: &_| {
                print_refresh(now, report, quiet);
                server.observe(now, report);
                super::count_run(&worker, report);
                if super::config_changed(&worker) {
                    changed = true;
                    stop.send_replace(true);
                }
                super::memory::give_back();
            };
            let until = stopped(stop.subscribe());
            with_state!(state, |store| {
                pipeline::refresh_loop(&config, store, output, every, super::clock, until, on_report).await
            });
        }
        serving.await.context("the server stopped unexpectedly")?.context("the server failed")?;
        if !quiet {
            eprintln!("stopped");
        }
        Ok(if changed { EXIT_FATAL } else { EXIT_OK })
    });
    drop(state);
    result
}
