//! `replayable` 1.0.0 (qun:app@0.2.0, capability `storage`): `/tally`
//! counts in storage, reads the clock and draws a random number; this is
//! version one, which crashes after counting (issue 16, replay).

wit_bindgen::generate!({
    path: "../../../../wit/0.2.0",
    world: "group-app",
});

const FIXED: bool = false;

include!("../../replayable-v1/src/app.rs");
