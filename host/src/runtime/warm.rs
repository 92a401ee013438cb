//! Warming up after a start (issue 15 item 4): the versions installed apps
//! run are loaded in the background as soon as the host starts, so the
//! first call after a restart finds its app loaded (compiled code mapped
//! from the cache, checked, described, its memory images made) instead of
//! doing all that itself. The deadline of running code is untouched: this
//! only moves work that was never the app's time out of the first request.

use std::time::Instant;

use super::Runtime;

impl Runtime {
    /// Load the versions enabled installations run, the most installed
    /// first, until the resident budget (`loaded_apps`,
    /// `loaded_code_bytes`) is full. One at a time, in the background: a
    /// call for an app being loaded waits for that load instead of starting
    /// its own.
    pub fn spawn_warm_up(&self) -> tokio::task::JoinHandle<()> {
        let runtime = self.clone();
        tokio::spawn(async move {
            runtime.warm_up().await;
        })
    }

    /// [`Runtime::spawn_warm_up`], awaited: how many versions were loaded.
    pub async fn warm_up(&self) -> usize {
        let started = Instant::now();
        let limits = self.limits();
        let max = i64::try_from(limits.loaded_apps).unwrap_or(i64::MAX);
        let versions = match self.store().installed_versions(max).await {
            Ok(versions) => versions,
            Err(e) => {
                tracing::warn!("warm-up: could not list installed versions: {e}");
                return 0;
            }
        };
        let mut loaded = 0;
        for (slug, version) in versions {
            // Past the budget, loading more would only evict what was warmed.
            if self.loaded().code_bytes >= limits.loaded_code_bytes {
                break;
            }
            match self.app_version(&slug, &version).await {
                Ok(_) => loaded += 1,
                Err(e) => tracing::warn!(app = %slug, %version, "warm-up: not loaded: {e}"),
            }
        }
        tracing::info!(loaded, elapsed = ?started.elapsed(), "warm-up: installed versions loaded");
        loaded
    }
}
