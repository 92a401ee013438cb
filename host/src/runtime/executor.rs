//! Where guest code runs: a multi-thread tokio runtime of its own, apart
//! from the one serving HTTP, so a spinning app can slow other apps (which
//! share these threads fairly, in slices) but never the request handling.
//!
//! One executor per process, started on first use and never dropped (a tokio
//! runtime cannot be dropped from async code, and database connections made
//! on it stay registered with its reactor).

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{OnceLock, RwLock};

static GUEST: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// Invocations handed to the guest executor that have not run yet.
static FRESH: AtomicUsize = AtomicUsize::new(0);

/// The engine whose epoch a newly arrived invocation advances, so running
/// guests reach their epoch check (and yield to it) at once rather than at
/// the next tick of the ticker.
/// (A server has one engine; where a process builds several, as the tests
/// do, the newest is nudged.)
static NUDGE: RwLock<Option<wasmtime::EngineWeak>> = RwLock::new(None);

/// Let newly arrived invocations interrupt `engine`'s running guests (called
/// by the engine's builder).
pub fn nudge_on_arrival(engine: &wasmtime::Engine) {
    *NUDGE.write().unwrap_or_else(|p| p.into_inner()) = Some(engine.weak());
}

/// Whether an invocation is waiting for its first turn on a guest thread:
/// running guests then yield at their next epoch check instead of finishing
/// their slice (issue 10; its arrival advanced the epoch, see [`run`], so
/// another group's call does not even wait for the next tick).
pub fn others_waiting() -> bool {
    FRESH.load(Ordering::Relaxed) > 0
}

/// The guest executor's handle; `threads` (0: one per core) counts on the
/// first call only.
fn handle(threads: usize) -> &'static tokio::runtime::Runtime {
    GUEST.get_or_init(|| {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            threads
        };
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("qun-guest")
            // Look at newly arrived and externally woken tasks (a new
            // invocation, a host call's database answer) before every
            // task, not after a run of yielding spinners' slices.
            .global_queue_interval(1)
            .on_thread_start(lower_priority)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("could not start the guest executor: {e}"))
    })
}

/// Guest threads yield the CPU to the HTTP workers when both want it.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain libc call; on Linux `PRIO_PROCESS` with who = 0 sets
        // the nice value of the calling thread only.
        #[allow(unsafe_code)]
        unsafe {
            libc::setpriority(libc::PRIO_PROCESS, 0, 5);
        }
    }
}

/// Run `future` on the guest executor and wait for its output. A panic
/// inside is passed on to the caller, as if it had run here.
pub async fn run<F>(threads: usize, future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    FRESH.fetch_add(1, Ordering::Relaxed);
    // Guests busy on every thread yield at their next check: an epoch
    // change is seen at the next loop back-edge or function entry (the
    // deadline is wall-clock, so an extra increment shortens nothing).
    let engine = NUDGE
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .and_then(|weak| weak.upgrade());
    if let Some(engine) = engine {
        engine.increment_epoch();
    }
    let counted = async move {
        FRESH.fetch_sub(1, Ordering::Relaxed);
        future.await
    };
    match handle(threads).spawn(counted).await {
        Ok(output) => output,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // The executor is never shut down, so a task is never cancelled.
        Err(e) => panic!("guest task was cancelled: {e}"),
    }
}
