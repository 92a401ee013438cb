//! Why a message, form, command list or recurrence was refused.

use std::fmt;

/// A rule or limit a message, form, command declaration or recurrence broke.
///
/// It names where (`path`, such as `blocks[3].elements[1].payload`) and what
/// is wrong (`problem`, such as `is 9000 bytes, over the 8192-byte limit`);
/// it displays as the two joined by a space. The host hands the text to the
/// app as an `invalid` error, so it is written for the app's developer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockError {
    /// Where: a path into the checked value (empty for the value itself).
    pub path: String,
    /// What is wrong.
    pub problem: String,
}

impl BlockError {
    /// The error at `path` with `problem`.
    pub fn new(path: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.problem)
        } else {
            write!(f, "{} {}", self.path, self.problem)
        }
    }
}

impl std::error::Error for BlockError {}
