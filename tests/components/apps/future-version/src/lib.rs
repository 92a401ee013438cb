//! `future-version`: exports `qun:app/handler@0.9.0`, a contract version
//! the host does not serve; uploading it must be refused with a clear error.

wit_bindgen::generate!({
    path: "wit",
    world: "group-app",
});

struct Future;

impl exports::qun::app::handler::Guest for Future {
    fn describe() -> String {
        "from the future".into()
    }
}

export!(Future);
