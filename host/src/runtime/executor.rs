//! Where guest code runs: a multi-thread tokio runtime of its own, apart
//! from the one serving HTTP, so a spinning app can slow other apps (which
//! share these threads fairly, in slices) but never the request handling.
//!
//! One executor per process, started on first use and never dropped (a tokio
//! runtime cannot be dropped from async code, and database connections made
//! on it stay registered with its reactor).
//!
//! Handing an invocation over costs two thread wake-ups (a guest thread to
//! run it, the caller's to take the answer), on an idle 2-core VM about
//! three times what a no-op invocation itself costs (`benches/invoke.rs`).
//! So an invocation runs on the caller's thread while it can: most finish
//! there (a storage read on SQLite runs on the calling thread too), and one
//! that waits on a database answer (PostgreSQL) is polled again there when
//! the answer comes. One whose guest code runs past the next epoch tick (at
//! most [`EPOCH_TICK`]) goes on on the guest executor. The first
//! [`INLINE_FREE`] an invocation runs on the caller's thread costs it about
//! what answering the request costs it anyway; what invocations take beyond
//! that is capped at [`INLINE_SHARE`] per [`INLINE_WINDOW`] in all: past
//! it, invocations are handed over from the start (and those under way at
//! their next wait), so apps that spin cost the callers' threads (the HTTP
//! workers) no more than a tenth of one core.
//!
//! [`EPOCH_TICK`]: super::engine::EPOCH_TICK

use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{OnceLock, RwLock};
use std::task::Poll;
use std::time::{Duration, Instant};

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

/// This much of an invocation's time on its caller's thread is not counted
/// against [`INLINE_SHARE`].
const INLINE_FREE: Duration = Duration::from_micros(100);
/// How long invocations may run beyond [`INLINE_FREE`] on the callers'
/// threads, per [`INLINE_WINDOW`].
const INLINE_SHARE: Duration = Duration::from_millis(10);
/// The window [`INLINE_SHARE`] is counted over.
const INLINE_WINDOW: Duration = Duration::from_millis(100);

/// Guest code run on the callers' threads in the current window.
struct InlineBudget {
    /// When the window began (µs since `EPOCH`).
    window: AtomicU64,
    /// Spent in it (µs).
    spent: AtomicU64,
}

static INLINE: InlineBudget = InlineBudget {
    window: AtomicU64::new(0),
    spent: AtomicU64::new(0),
};
static EPOCH: OnceLock<Instant> = OnceLock::new();

impl InlineBudget {
    fn now() -> u64 {
        EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64
    }

    /// Whether some of this window's share is left (a new window starts
    /// with all of it; racing callers may each start one, which only
    /// moves its start by the time between them).
    fn left(&self) -> bool {
        self.left_at(Self::now())
    }

    /// [`InlineBudget::left`] at `now` (µs since `EPOCH`).
    fn left_at(&self, now: u64) -> bool {
        let window = self.window.load(Ordering::Relaxed);
        if now.saturating_sub(window) >= INLINE_WINDOW.as_micros() as u64 {
            self.window.store(now, Ordering::Relaxed);
            self.spent.store(0, Ordering::Relaxed);
            return true;
        }
        self.spent.load(Ordering::Relaxed) < INLINE_SHARE.as_micros() as u64
    }

    fn spend(&self, ran: Duration) {
        self.spent
            .fetch_add(ran.as_micros() as u64, Ordering::Relaxed);
    }
}

thread_local! {
    /// Set while this thread runs an invocation for its caller.
    static INLINE_NOW: Cell<bool> = const { Cell::new(false) };
    /// Set when guest code running inline yielded at an epoch check.
    static YIELDED: Cell<bool> = const { Cell::new(false) };
}

/// Whether the guest code running on this thread runs on its caller's
/// thread: it yields at its first epoch check, to go on on a guest thread.
pub fn running_inline() -> bool {
    INLINE_NOW.with(Cell::get)
}

/// Guest code running inline yields at an epoch check: the invocation goes
/// on on a guest thread.
pub fn yield_inline() {
    YIELDED.with(|y| y.set(true));
}

/// Clears [`INLINE_NOW`] when a slice on the caller's thread ends,
/// panicking or not.
struct Inline;

impl Inline {
    fn start() -> Inline {
        INLINE_NOW.with(|now| now.set(true));
        Inline
    }
}

impl Drop for Inline {
    fn drop(&mut self) {
        INLINE_NOW.with(|now| now.set(false));
    }
}

/// Run `future` — on this thread while it only waits on host calls and the
/// callers' share lasts (see the module), the rest on the guest executor —
/// and wait for its output. A panic inside is passed on to the caller, as if
/// it had run here.
pub async fn run<F>(threads: usize, future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut future = Box::pin(future);
    if INLINE.left() {
        // What of this invocation's inline time is not counted yet.
        let mut free = INLINE_FREE;
        let inline = std::future::poll_fn(|cx| {
            YIELDED.with(|y| y.set(false));
            let started = Instant::now();
            let step = {
                // In the guest executor's context, as if it ran there: the
                // timers and connections it makes belong to that runtime.
                let _context = handle(threads).enter();
                let _inline = Inline::start();
                future.as_mut().poll(cx)
            };
            let ran = started.elapsed();
            INLINE.spend(ran.saturating_sub(free));
            free = free.saturating_sub(ran);
            match step {
                Poll::Ready(output) => Poll::Ready(Some(output)),
                // Guest code wanted more than a tick, or the share ran out:
                // the rest goes to a guest thread.
                Poll::Pending if YIELDED.with(|y| y.replace(false)) || !INLINE.left() => {
                    Poll::Ready(None)
                }
                // Waiting on a host call (a database answer): woken here.
                Poll::Pending => Poll::Pending,
            }
        })
        .await;
        if let Some(output) = inline {
            // That was this caller's turn on the thread: whatever else waits
            // there (another group's request, a future beside this one in
            // the same task) goes before the rest of it (its commit).
            tokio::task::yield_now().await;
            return output;
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inline_share_runs_out_and_comes_back_with_the_next_window() {
        let budget = InlineBudget {
            window: AtomicU64::new(0),
            spent: AtomicU64::new(0),
        };
        let window = INLINE_WINDOW.as_micros() as u64;
        assert!(budget.left_at(window), "a new window has all of its share");
        budget.spend(INLINE_SHARE / 2);
        assert!(budget.left_at(window + 10));
        budget.spend(INLINE_SHARE / 2);
        assert!(
            !budget.left_at(window + 20),
            "spent in full: handed over from the start"
        );
        assert!(!budget.left_at(2 * window - 1), "until the window ends");
        assert!(budget.left_at(2 * window), "the next one has all of it");
        assert_eq!(budget.spent.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn what_follows_a_wait_for_a_host_call_runs_on_the_callers_thread() {
        let caller = std::thread::current().name().map(str::to_string);
        let after = run(1, async {
            // As a database answer would: pending, then woken.
            tokio::task::yield_now().await;
            std::thread::current().name().map(str::to_string)
        })
        .await;
        assert_eq!(after, caller);
    }

    #[tokio::test]
    async fn what_follows_a_yield_at_an_epoch_check_runs_on_a_guest_thread() {
        let after = run(1, async {
            // As the epoch callback does for guest code running inline.
            assert!(running_inline());
            yield_inline();
            tokio::task::yield_now().await;
            assert!(!running_inline());
            std::thread::current().name().map(str::to_string)
        })
        .await;
        assert_eq!(after.as_deref(), Some("qun-guest"));
    }
}
