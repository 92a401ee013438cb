//! `stateful`: keeps a counter in instance memory. `on-action("count")`
//! increments it and answers `{"count": n}`. The host runs every invocation
//! in a fresh instance, so the answer must always be 1: instance memory is
//! not state (state lives in `storage`).
//!
//! `on-action("grown")` grows linear memory by 4 MiB (past the part of a
//! pooled slot the host keeps resident between instances), answers whether
//! every new byte was zero, and then writes 0xA5 over all of them: the next
//! instance in the same slot must find zeros again.

wit_bindgen::generate!({
    path: "../../../../wit/0.1.0",
    world: "group-app",
});

use std::sync::atomic::{AtomicU64, Ordering};

use exports::qun::app::handler::{AppInfo, Command, Context, Error, Event, Guest, Message};

static COUNTER: AtomicU64 = AtomicU64::new(0);

struct Stateful;

impl Guest for Stateful {
    fn describe() -> AppInfo {
        AppInfo {
            name: "stateful".to_string(),
            title: "Stateful".to_string(),
            version: "0.1.0".to_string(),
            description: "Counts calls in instance memory.".to_string(),
            commands: Vec::new(),
            actions: vec![
                exports::qun::app::handler::ActionSpec {
                    name: "count".to_string(),
                    description: "Increments a counter in instance memory and answers it."
                        .to_string(),
                },
                exports::qun::app::handler::ActionSpec {
                    name: "grown".to_string(),
                    description: "Grows memory by 4 MiB, says whether it was zero, dirties it."
                        .to_string(),
                },
            ],
            subscriptions: Vec::new(),
        }
    }

    fn on_command(_ctx: Context, _command: Command) -> Result<Option<Message>, Error> {
        Ok(None)
    }

    fn on_action(_ctx: Context, action: String, _payload: String) -> Result<String, Error> {
        if action == "grown" {
            return Ok(format!("{{\"zero\":{}}}", grown_and_dirtied()));
        }
        if action != "count" {
            return Err(Error::Invalid(format!("unknown action: {action}")));
        }
        let count = COUNTER.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(format!("{{\"count\":{count}}}"))
    }

    fn on_event(_ctx: Context, _event: Event) -> Result<(), Error> {
        Ok(())
    }
}

/// Grow memory by 64 pages (4 MiB); whether they came zeroed; then fill them.
fn grown_and_dirtied() -> bool {
    const PAGES: usize = 64;
    const PAGE: usize = 65_536;
    let first = core::arch::wasm32::memory_grow(0, PAGES);
    if first == usize::MAX {
        return false;
    }
    // SAFETY: the pages were just added to linear memory; nothing else
    // (allocator included) knows about them, so this is their only use.
    let grown = unsafe { core::slice::from_raw_parts_mut((first * PAGE) as *mut u8, PAGES * PAGE) };
    let zero = grown.iter().all(|b| *b == 0);
    grown.fill(0xA5);
    std::hint::black_box(grown);
    zero
}

export!(Stateful);
