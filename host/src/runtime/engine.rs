//! The one wasmtime `Engine`: component model, async host calls, pooling
//! allocator, epoch interruption driven by a ticker thread, bounded stack.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, UpdateDeadline,
};

use crate::runtime::InvocationState;

use crate::limits::Limits;

/// How often the epoch advances; deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// How much of each pooled slot's linear memory stays resident between
/// instances (at most `concurrent_invocations` times this in all).
const RESIDENT_MEMORY_BYTES: usize = 2 << 20;
/// How much of each pooled slot's table stays resident between instances.
const RESIDENT_TABLE_BYTES: usize = 64 << 10;

/// Build the engine for `limits` and start its epoch ticker.
pub fn build(limits: &Limits) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.max_wasm_stack(limits.wasm_stack_bytes);
    // Host calls run on the fiber's stack too: leave room above the wasm limit.
    config.async_stack_size(limits.wasm_stack_bytes + (1 << 20));

    // Every limit of the pooling allocator the host relies on is set here,
    // not left to wasmtime's defaults; `pool::InstancePool` hands out the
    // same numbers, so an invocation waits for room instead of failing
    // inside wasmtime, and `load` refuses a component that could never fit.
    let slots = limits.concurrent_invocations.max(1);
    let total = super::pool::totals(limits);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(slots);
    pool.total_core_instances(total.core_instances);
    pool.total_memories(total.memories);
    pool.total_tables(total.tables);
    pool.total_stacks(slots);
    pool.max_core_instances_per_component(total.core_instances);
    pool.max_memories_per_component(total.memories);
    pool.max_tables_per_component(total.tables);
    pool.max_memories_per_module(1);
    pool.max_tables_per_module(1);
    pool.table_elements(20_000);
    pool.max_memory_size(limits.memory_bytes);
    // A slot's memory is reset without giving its pages back: the pages an
    // invocation wrote are found with the `PAGEMAP_SCAN` ioctl (Linux 6.7+;
    // elsewhere the first bytes are memset) and copied back from the image.
    // Every `madvise` of the default reset flushes the TLB of every core the
    // process runs on (an inter-processor interrupt each), and the next
    // instance takes a page fault per page again (issue 12: ~6% of a polls
    // `results` request was TLB shootdowns). What goes past the resident
    // part is still decommitted, 8 slots per `madvise` batch.
    pool.pagemap_scan(wasmtime::Enabled::Auto);
    pool.linear_memory_keep_resident(RESIDENT_MEMORY_BYTES.min(limits.memory_bytes));
    pool.table_keep_resident(RESIDENT_TABLE_BYTES);
    pool.decommit_batch_size(8);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));

    let engine = Engine::new(&config)?;
    start_ticker(&engine);
    super::executor::nudge_on_arrival(&engine);
    Ok(engine)
}

/// Advance the epoch every [`EPOCH_TICK`] until the engine is dropped.
fn start_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("qun-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::error!("could not start the epoch ticker: {e}"));
}

/// Guest code runs in slices of at most this length, then yields to the
/// executor so a busy app never holds up invocations of other apps on the
/// same thread; when an invocation is waiting for its first turn, the
/// running ones yield at once instead (its arrival advances the epoch; see
/// `executor::run`; measured with `tests/examples/load_isolation.rs`).
const SLICE: Duration = Duration::from_millis(2);

/// Stop the guest once the invocation has run `deadline`: wall-clock since
/// its start, time inside host calls included (the deadline is the
/// deadline), but not the time it sat ready in the executor's queue after
/// yielding its slice while other apps ran: that is nobody's time, and
/// counting it would let one spinning app time out the innocent ones. A
/// host call under way at the deadline is cut off by [`Bounded`]
/// (`deadline + deadline_grace`). Checked at every epoch tick.
pub fn arm_deadline(store: &mut Store<InvocationState>, deadline: Duration) {
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |ctx| {
        let state = ctx.data();
        let mut clock = state.clock.lock().unwrap_or_else(|p| p.into_inner());
        let ran = state.started.elapsed().saturating_sub(clock.waited);
        if ran >= deadline {
            tracing::debug!(wall = ?state.started.elapsed(), ran = ?ran, "app ran past its deadline");
            return Ok(UpdateDeadline::Interrupt);
        }
        let now = std::time::Instant::now();
        let slice = now.duration_since(*clock.slice_started.get_or_insert(state.started));
        if super::executor::running_inline() {
            super::executor::yield_inline();
        }
        if slice >= SLICE
            || super::executor::others_waiting()
            || super::executor::running_inline()
        {
            clock.yielded_at = Some(now);
            return Ok(UpdateDeadline::Yield(1));
        }
        Ok(UpdateDeadline::Continue(1))
    });
}

/// Time an invocation spent waiting for a thread after yielding its slice.
#[derive(Debug, Default)]
pub struct RunClock {
    /// When it last yielded (cleared when it runs again).
    pub yielded_at: Option<std::time::Instant>,
    /// Waiting after yields so far.
    pub waited: Duration,
    /// When the current slice began (the start, or the end of the last wait).
    pub slice_started: Option<std::time::Instant>,
}

/// `future`, cut off once it has run `limit` since `started` (minus the
/// waiting after yields that `clock` counts).
pub fn bounded<F: Future>(
    future: F,
    clock: Arc<Mutex<RunClock>>,
    started: std::time::Instant,
    limit: Duration,
) -> Bounded<F> {
    let due = tokio::time::Instant::from_std(started + limit);
    Bounded {
        future: Box::pin(future),
        clock,
        started,
        limit,
        sleep: Box::pin(tokio::time::sleep_until(due)),
    }
}

/// The future of [`bounded`]: `Err(())` when cut off.
pub struct Bounded<F> {
    future: Pin<Box<F>>,
    clock: Arc<Mutex<RunClock>>,
    started: std::time::Instant,
    limit: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl<F: Future> Future for Bounded<F> {
    type Output = Result<F::Output, ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let waited = {
            let mut clock = self.clock.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(at) = clock.yielded_at.take() {
                clock.waited += at.elapsed();
                clock.slice_started = Some(std::time::Instant::now());
            }
            clock.waited
        };
        if let Poll::Ready(output) = self.future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let due = tokio::time::Instant::from_std(self.started + self.limit + waited);
        if self.sleep.deadline() != due {
            self.sleep.as_mut().reset(due);
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(())),
            Poll::Pending => Poll::Pending,
        }
    }
}
