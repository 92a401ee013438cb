//! The one wasmtime `Engine`: component model, async host calls, pooling
//! allocator, epoch interruption driven by a ticker thread, bounded stack.

use std::time::Duration;

use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, UpdateDeadline,
};

use crate::runtime::InvocationState;

use crate::limits::Limits;

/// How often the epoch advances; deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

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
    // (Measured: keeping 1 MiB of each slot resident, reset by memset, makes
    // instantiate+call 2x slower than the default madvise reset.)
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));

    let engine = Engine::new(&config)?;
    start_ticker(&engine);
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

/// Epoch ticks that make up `duration` (at least one).
pub fn ticks(duration: Duration) -> u64 {
    (duration.as_micros() / EPOCH_TICK.as_micros()).max(1) as u64
}

/// Guest code runs in slices of this length, then yields to the executor so
/// a busy app never holds up invocations of other apps on the same thread.
const SLICE: Duration = Duration::from_millis(10);

/// Stop the guest once the invocation has run `deadline` (wall-clock since
/// its start, time inside host calls included: the deadline is the
/// deadline). A host call under way at the deadline is cut off by the
/// caller's outer timeout (`deadline + deadline_grace`).
pub fn arm_deadline(store: &mut Store<InvocationState>, deadline: Duration) {
    store.set_epoch_deadline(ticks(SLICE.min(deadline)));
    store.epoch_deadline_callback(move |ctx| {
        let state = ctx.data();
        let elapsed = state.started.elapsed();
        if elapsed >= deadline {
            tracing::debug!(wall = ?elapsed, host = ?state.host_time, "app ran past its deadline");
            return Ok(UpdateDeadline::Interrupt);
        }
        Ok(UpdateDeadline::Yield(ticks(SLICE.min(deadline - elapsed))))
    });
}
