//! When an app crashes, its member sees a short stable message with an
//! incident id; the crash's text (a trap's backtrace can run to thousands
//! of characters of the app's internals) is in the developer's app log, on
//! the failure's line, whose `incident` field is that id (issue 11 item 8).

use super::error::ApiError;
use crate::runtime::InvokeError;
use crate::store::incident_id;

/// A fresh invocation id (a UUID, as the runtime makes its own).
pub(super) fn new_invocation_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The API error for a failed invocation `invocation_id`: a crash answers
/// with the incident id only.
pub(super) fn api_error(invocation_id: &str, error: InvokeError) -> ApiError {
    let what = match &error {
        InvokeError::Trap(_) => "the app crashed",
        InvokeError::MemoryLimit(_) => "the app ran out of memory",
        InvokeError::StackOverflow => "the app overflowed its stack",
        InvokeError::BadAnswer(_) => "the app gave an answer the host cannot use",
        InvokeError::Load(_) | InvokeError::Tampered(_) => "the app could not be started",
        _ => return ApiError::from(error),
    };
    let incident = incident_id(invocation_id);
    // The text is in the app's log (written by the runtime); the server log
    // only notes the incident.
    tracing::info!(%incident, code = error.code(), "app failure");
    ApiError::AppFailed {
        code: error.code(),
        message: format!(
            "{what} (incident {incident}); its developer can look the incident up in the app's logs"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_shows_an_incident_id_and_nothing_of_the_app() {
        let invocation = new_invocation_id();
        let error = api_error(
            &invocation,
            InvokeError::Trap("wasm backtrace: 0: 0x1db4a secret_function".into()),
        );
        let message = error.to_string();
        assert!(message.contains(&incident_id(&invocation)), "{message}");
        assert!(incident_id(&invocation).starts_with("inc_"));
        assert_eq!(incident_id(&invocation).len(), 20);
        assert!(!message.contains("secret_function"), "{message}");
        assert_eq!(error.code(), "trap");
    }
}
