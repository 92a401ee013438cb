//! What one invocation's replay record is made of (issue 16), taken down
//! while it runs and answered from when it is replayed: every capability
//! call with the answer the host gave, every reading of the wall and the
//! monotonic clock, and the seeds of its random numbers.
//!
//! Recording costs each capability call one JSON serialisation of its
//! arguments and answer, up to `replay_bytes` per invocation (past it the
//! record is cut and says so); the record is kept only when the invocation
//! fails (see `runtime::replay`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use wasi_rand::SeedableRng;
use wasi_rand::rngs::ChaCha20Rng;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtxBuilder};

use crate::capabilities::Error;

/// Readings kept per clock; further readings are not recorded (the record
/// says it was cut).
pub const MAX_READINGS: usize = 2_000;

/// One capability call: its name (`storage.get`), its arguments and the
/// host's answer, as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TapeCall {
    /// `interface.function`.
    pub call: String,
    /// The arguments, as a JSON array.
    pub args: Box<RawValue>,
    /// `{"Ok": ...}` or `{"Err": {"<variant>": "message"}}`.
    pub result: Box<RawValue>,
}

/// The clock readings of one invocation, in order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Readings {
    /// Wall clock: nanoseconds since the Unix epoch.
    pub wall: Vec<u64>,
    /// Monotonic clock: nanoseconds.
    pub monotonic: Vec<u64>,
    /// Whether more readings were made than kept.
    pub cut: bool,
}

/// The seeds of the invocation's random numbers: the generators are
/// ChaCha20, seeded fresh from the OS for each invocation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Seeds {
    /// `wasi:random/random` (hex).
    pub secure: String,
    /// `wasi:random/insecure` (hex).
    pub insecure: String,
    /// What `wasi:random/insecure-seed` answers (decimal).
    pub insecure_seed: String,
}

impl Seeds {
    fn fresh() -> Seeds {
        use rand::RngCore;
        let mut rng = rand::rng();
        let mut secure = [0u8; 32];
        let mut insecure = [0u8; 32];
        rng.fill_bytes(&mut secure);
        rng.fill_bytes(&mut insecure);
        let seed = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
        Seeds {
            secure: hex::encode(secure),
            insecure: hex::encode(insecure),
            insecure_seed: seed.to_string(),
        }
    }

    fn configure(&self, builder: &mut WasiCtxBuilder) {
        let seed = |hex_seed: &str| -> [u8; 32] {
            let mut out = [0u8; 32];
            if let Ok(bytes) = hex::decode(hex_seed) {
                let n = bytes.len().min(32);
                out[..n].copy_from_slice(&bytes[..n]);
            }
            out
        };
        builder
            .secure_random(ChaCha20Rng::from_seed(seed(&self.secure)))
            .insecure_random(ChaCha20Rng::from_seed(seed(&self.insecure)))
            .insecure_random_seed(self.insecure_seed.parse().unwrap_or(0));
    }
}

/// What an invocation's tape does.
#[derive(Debug, Default)]
pub enum Tape {
    /// Nothing (describing an upload, benchmarks).
    #[default]
    Off,
    /// Take down calls, clocks and seeds.
    Recording(Recorder),
    /// Answer calls and clocks from a record.
    Replaying(Player),
}

/// The tape of a running invocation.
#[derive(Debug)]
pub struct Recorder {
    /// (call, arguments, answer) as JSON text.
    calls: Vec<(String, String, String)>,
    bytes: usize,
    budget: usize,
    cut: bool,
    clocks: Arc<Mutex<Readings>>,
    seeds: Seeds,
}

/// What a recording holds when the invocation ends.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recording {
    /// The capability calls, in order.
    pub calls: Vec<TapeCall>,
    /// Whether calls were left out (past `replay_bytes`).
    pub cut: bool,
    /// The clock readings.
    pub clocks: Readings,
    /// The random seeds.
    pub seeds: Seeds,
}

/// Answers a replayed invocation's calls from a record.
#[derive(Debug)]
pub struct Player {
    calls: Vec<TapeCall>,
    cut: bool,
    next: usize,
    answered: usize,
    divergence: Option<String>,
    clocks: Arc<Mutex<ReplayClocks>>,
    seeds: Seeds,
}

/// How a replay went against its record.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Played {
    /// Calls the run made.
    pub calls_made: usize,
    /// Calls answered with the recorded answer (same call, same arguments).
    pub answered: usize,
    /// Where the run first departed from the record; `None` if it made
    /// exactly the recorded calls.
    pub divergence: Option<String>,
    /// Clock readings past the recorded ones (answered by stepping on).
    pub extra_readings: usize,
}

impl Tape {
    /// A fresh recording allowing `budget` bytes of calls.
    pub fn recording(budget: usize) -> Tape {
        Tape::Recording(Recorder {
            calls: Vec::new(),
            bytes: 0,
            budget,
            cut: false,
            clocks: Arc::default(),
            seeds: Seeds::fresh(),
        })
    }

    /// A replay of `recording`.
    pub fn replaying(recording: &Recording) -> Tape {
        // A record may have been pretty-printed on its way (a fetched file):
        // its arguments are compacted again, and compared as JSON values.
        let calls = recording
            .calls
            .iter()
            .map(|c| TapeCall {
                call: c.call.clone(),
                args: compact(&c.args),
                result: c.result.clone(),
            })
            .collect();
        Tape::Replaying(Player {
            calls,
            cut: recording.cut,
            next: 0,
            answered: 0,
            divergence: None,
            clocks: Arc::new(Mutex::new(ReplayClocks {
                readings: recording.clocks.clone(),
                wall_next: 0,
                monotonic_next: 0,
                extra: 0,
            })),
            seeds: recording.seeds.clone(),
        })
    }

    /// Give the WASI context the tape's clocks and random generators.
    pub(crate) fn configure(&self, builder: &mut WasiCtxBuilder) {
        match self {
            Tape::Off => {}
            Tape::Recording(r) => {
                r.seeds.configure(builder);
                builder
                    .wall_clock(RecordedWall(r.clocks.clone()))
                    .monotonic_clock(RecordedMonotonic {
                        start: Instant::now(),
                        readings: r.clocks.clone(),
                    });
            }
            Tape::Replaying(p) => {
                p.seeds.configure(builder);
                builder
                    .wall_clock(ReplayedWall(p.clocks.clone()))
                    .monotonic_clock(ReplayedMonotonic(p.clocks.clone()));
            }
        }
    }

    /// A call's arguments as the tape keeps them: `None` when it keeps
    /// nothing (off, or a recording past its budget: a large argument is
    /// not serialised past what is left of it).
    pub(crate) fn args<A: Serialize>(&mut self, args: &A) -> Option<String> {
        match self {
            Tape::Off => None,
            Tape::Recording(r) if r.cut => None,
            Tape::Recording(r) => {
                let room = r.budget.saturating_sub(r.bytes);
                let json = bounded_json(args, room);
                r.cut = json.is_none();
                json
            }
            Tape::Replaying(_) => serde_json::to_string(args).ok(),
        }
    }

    /// Whether calls are answered from a record.
    pub(crate) fn is_replaying(&self) -> bool {
        matches!(self, Tape::Replaying(_))
    }

    /// Take down a finished call.
    pub(crate) fn record<T: Serialize>(
        &mut self,
        call: &str,
        args: Option<String>,
        result: &Result<T, Error>,
    ) {
        let (Tape::Recording(r), Some(args)) = (self, args) else {
            return;
        };
        let used = r.bytes + call.len() + args.len();
        let Some(result) = bounded_json(result, r.budget.saturating_sub(used)) else {
            r.cut = true;
            return;
        };
        r.bytes = used + result.len();
        r.calls.push((call.to_string(), args, result));
    }

    /// The recorded answer to this call (replaying): the next call of the
    /// record if it is the same call with the same arguments. The first
    /// departure is remembered; a call the record cannot answer gets
    /// `internal`.
    pub(crate) fn answer<T: DeserializeOwned>(
        &mut self,
        call: &str,
        args: Option<&str>,
    ) -> Result<T, Error> {
        let Tape::Replaying(p) = self else {
            return Err(Error::Internal("no record to answer from".into()));
        };
        let position = p.next + 1;
        p.next += 1;
        let args = args.unwrap_or("null");
        let Some(recorded) = p.calls.get(position - 1) else {
            let why = if p.cut {
                format!(
                    "call {position}: the run called {call}{}, past the end of the record, which was cut after {} calls (`replay_bytes`)",
                    show(args),
                    p.calls.len()
                )
            } else {
                format!(
                    "call {position}: the run called {call}{}; the recorded run made only {} calls",
                    show(args),
                    p.calls.len()
                )
            };
            p.divergence.get_or_insert(why);
            return Err(Error::Internal(format!(
                "replay: {call} is not in the record"
            )));
        };
        if recorded.call != call {
            let why = format!(
                "call {position}: the run called {call}{}; the record has {}{}",
                show(args),
                recorded.call,
                show(recorded.args.get())
            );
            p.divergence.get_or_insert(why);
            return Err(Error::Internal(format!(
                "replay: the record has {} here, not {call}",
                recorded.call
            )));
        }
        if !same_json(recorded.args.get(), args) {
            let why = format!(
                "call {position}: the run called {call}{}; the record has {call}{} (answered with the recorded answer)",
                show(args),
                show(recorded.args.get())
            );
            p.divergence.get_or_insert(why);
        } else {
            p.answered += 1;
        }
        serde_json::from_str::<Result<T, Error>>(recorded.result.get()).unwrap_or_else(|e| {
            Err(Error::Internal(format!(
                "replay: the recorded answer of {call} does not fit: {e}"
            )))
        })
    }

    /// What the recording holds (recording), taking it.
    pub(crate) fn take_recording(&mut self) -> Option<Recording> {
        let Tape::Recording(r) = std::mem::take(self) else {
            return None;
        };
        let clocks = r
            .clocks
            .lock()
            .map(|c| c.clone())
            .unwrap_or_else(|p| p.into_inner().clone());
        // Text the recorder serialised itself: valid JSON.
        let calls = r
            .calls
            .into_iter()
            .filter_map(|(call, args, result)| {
                Some(TapeCall {
                    call,
                    args: RawValue::from_string(args).ok()?,
                    result: RawValue::from_string(result).ok()?,
                })
            })
            .collect();
        Some(Recording {
            calls,
            cut: r.cut,
            clocks,
            seeds: r.seeds,
        })
    }

    /// How the replay went (replaying).
    pub(crate) fn played(&self) -> Option<Played> {
        let Tape::Replaying(p) = self else {
            return None;
        };
        let mut divergence = p.divergence.clone();
        if divergence.is_none() && p.next < p.calls.len() {
            let missing = &p.calls[p.next];
            divergence = Some(format!(
                "call {}: the run ended after {} calls; the record goes on with {}{} ({} calls in all)",
                p.next + 1,
                p.next,
                missing.call,
                show(missing.args.get()),
                p.calls.len()
            ));
        }
        let extra_readings = p.clocks.lock().map(|c| c.extra).unwrap_or_default();
        Some(Played {
            calls_made: p.next,
            answered: p.answered,
            divergence,
            extra_readings,
        })
    }
}

/// `value` as JSON if it takes at most `room` bytes; serialising stops as
/// soon as it would take more.
fn bounded_json<T: Serialize + ?Sized>(value: &T, room: usize) -> Option<String> {
    struct Bounded {
        buf: Vec<u8>,
        room: usize,
    }
    impl std::io::Write for Bounded {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if self.buf.len() + bytes.len() > self.room {
                return Err(std::io::Error::other("over the replay budget"));
            }
            self.buf.extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Bounded {
        buf: Vec::new(),
        room,
    };
    serde_json::to_writer(&mut out, value).ok()?;
    String::from_utf8(out.buf).ok()
}

/// `raw` without whitespace.
fn compact(raw: &RawValue) -> Box<RawValue> {
    serde_json::from_str::<serde_json::Value>(raw.get())
        .ok()
        .and_then(|v| serde_json::value::to_raw_value(&v).ok())
        .unwrap_or_else(|| raw.to_owned())
}

/// Whether two JSON texts hold the same value (key order and spacing aside).
fn same_json(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (
                serde_json::from_str::<serde_json::Value>(a),
                serde_json::from_str::<serde_json::Value>(b),
            ),
            (Ok(x), Ok(y)) if x == y
        )
}

/// Arguments shown in a divergence: `(...)`, cut at 300 bytes.
fn show(args: &str) -> String {
    let inner = args
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(args);
    let mut inner = inner.to_string();
    if inner.len() > 300 {
        inner = crate::capabilities::truncate(inner, 300);
        inner.push('…');
    }
    format!("({inner})")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct RecordedWall(Arc<Mutex<Readings>>);

impl HostWallClock for RecordedWall {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let mut r = lock(&self.0);
        if r.wall.len() < MAX_READINGS {
            r.wall
                .push(u64::try_from(now.as_nanos()).unwrap_or(u64::MAX));
        } else {
            r.cut = true;
        }
        now
    }
}

struct RecordedMonotonic {
    start: Instant,
    readings: Arc<Mutex<Readings>>,
}

impl HostMonotonicClock for RecordedMonotonic {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        let now = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let mut r = lock(&self.readings);
        if r.monotonic.len() < MAX_READINGS {
            r.monotonic.push(now);
        } else {
            r.cut = true;
        }
        now
    }
}

/// The recorded readings, handed out in order; past them the clock steps
/// on by a microsecond per reading.
#[derive(Debug)]
struct ReplayClocks {
    readings: Readings,
    wall_next: usize,
    monotonic_next: usize,
    extra: usize,
}

fn next_reading(list: &[u64], next: &mut usize, extra: &mut usize) -> u64 {
    let i = *next;
    *next += 1;
    match list.get(i) {
        Some(v) => *v,
        None => {
            *extra += 1;
            let last = list.last().copied().unwrap_or(0);
            last.saturating_add(1_000 * (i + 1 - list.len()) as u64)
        }
    }
}

struct ReplayedWall(Arc<Mutex<ReplayClocks>>);

impl HostWallClock for ReplayedWall {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        let mut c = lock(&self.0);
        let c = &mut *c;
        Duration::from_nanos(next_reading(
            &c.readings.wall,
            &mut c.wall_next,
            &mut c.extra,
        ))
    }
}

struct ReplayedMonotonic(Arc<Mutex<ReplayClocks>>);

impl HostMonotonicClock for ReplayedMonotonic {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        let mut c = lock(&self.0);
        let c = &mut *c;
        next_reading(&c.readings.monotonic, &mut c.monotonic_next, &mut c.extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Got = Result<Option<Vec<u8>>, Error>;

    fn recorded(calls: &[(&str, &str, Got)]) -> Recording {
        let mut tape = Tape::recording(1 << 20);
        for (call, key, result) in calls {
            let args = tape.args(&(key,));
            tape.record(call, args, result);
        }
        tape.take_recording().expect("a recording")
    }

    #[test]
    fn a_replay_answers_the_recorded_calls_and_says_where_it_departs() {
        let rec = recorded(&[
            ("storage.get", "a", Ok(Some(b"1".to_vec()))),
            ("storage.get", "b", Err(Error::Denied("not granted".into()))),
        ]);
        // The same calls: the same answers, no divergence.
        let mut tape = Tape::replaying(&rec);
        let a: Result<Option<Vec<u8>>, Error> = tape.answer("storage.get", Some(r#"["a"]"#));
        assert!(matches!(a, Ok(Some(v)) if v == b"1"));
        let b: Result<Option<Vec<u8>>, Error> = tape.answer("storage.get", Some(r#"["b"]"#));
        assert!(matches!(b, Err(Error::Denied(m)) if m == "not granted"));
        let played = tape.played().expect("played");
        assert_eq!((played.calls_made, played.answered), (2, 2));
        assert_eq!(played.divergence, None);

        // Another call first: `internal`, and the divergence names both.
        let mut tape = Tape::replaying(&rec);
        let x: Result<(), Error> = tape.answer("messaging.post", Some(r#"["hi"]"#));
        assert!(matches!(x, Err(Error::Internal(_))));
        let why = tape
            .played()
            .and_then(|p| p.divergence)
            .expect("divergence");
        assert!(
            why.contains("call 1") && why.contains("messaging.post"),
            "{why}"
        );
        assert!(why.contains(r#"storage.get("a")"#), "{why}");

        // Fewer calls: the divergence says what the record goes on with.
        let mut tape = Tape::replaying(&rec);
        let _: Result<Option<Vec<u8>>, Error> = tape.answer("storage.get", Some(r#"["a"]"#));
        let why = tape
            .played()
            .and_then(|p| p.divergence)
            .expect("divergence");
        assert!(
            why.contains("ended after 1 calls") && why.contains(r#"("b")"#),
            "{why}"
        );
    }

    #[test]
    fn a_recording_past_its_budget_is_cut_not_grown() {
        let mut tape = Tape::recording(100);
        for i in 0..50 {
            let args = tape.args(&(format!("key-{i}"),));
            tape.record("storage.get", args, &Ok::<Option<Vec<u8>>, Error>(None));
        }
        let rec = tape.take_recording().expect("a recording");
        assert!(rec.cut);
        assert!(rec.calls.len() < 10, "{}", rec.calls.len());
        let kept: usize = rec
            .calls
            .iter()
            .map(|c| c.call.len() + c.args.get().len() + c.result.get().len())
            .sum();
        assert!(kept <= 100);
    }

    #[test]
    fn a_large_argument_is_not_serialised_past_the_budget() {
        let mut tape = Tape::recording(1_000);
        let big = vec![7u8; 1 << 20];
        assert_eq!(tape.args(&(&big,)), None);
        let Tape::Recording(r) = &tape else {
            unreachable!("recording")
        };
        assert!(r.cut);
        let small = tape.args(&("k",));
        assert_eq!(small, None, "nothing more once cut");
    }

    #[test]
    fn replayed_clocks_give_the_recorded_readings_then_step_on() {
        let rec = Recording {
            calls: Vec::new(),
            cut: false,
            clocks: Readings {
                wall: vec![5_000, 7_000],
                monotonic: vec![1],
                cut: false,
            },
            seeds: Seeds::fresh(),
        };
        let Tape::Replaying(p) = Tape::replaying(&rec) else {
            unreachable!("a replaying tape")
        };
        let wall = ReplayedWall(p.clocks.clone());
        let mono = ReplayedMonotonic(p.clocks.clone());
        assert_eq!(wall.now(), Duration::from_nanos(5_000));
        assert_eq!(mono.now(), 1);
        assert_eq!(wall.now(), Duration::from_nanos(7_000));
        assert_eq!(wall.now(), Duration::from_nanos(8_000));
        assert_eq!(lock(&p.clocks).extra, 1);
    }
}
