//! Exit codes and error classification.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success |
//! | 1 | unexpected internal error |
//! | 2 | usage or validation error: bad flags, bad quota values, malformed files (nothing was sent) |
//! | 3 | the broker rejected the request (any entity failed, unsupported version, policy) |
//! | 4 | connection, authentication or authorization failure (unreachable broker, TLS, SASL, ACLs) |
//!
//! Commands return `anyhow::Result`; wrap an error with [`Failure`] (via [`usage`],
//! [`broker`], [`connection`] or the [`Classify`] trait) to pick its exit code.

use std::fmt;

/// Exit code of a successful run.
pub const OK: u8 = 0;
/// Unexpected internal error.
pub const INTERNAL: u8 = 1;
/// Usage or validation error (nothing was sent).
pub const USAGE: u8 = 2;
/// The broker rejected the request.
pub const BROKER: u8 = 3;
/// Connection, authentication or authorization failure.
pub const CONNECTION: u8 = 4;

/// Help text listing the exit codes (shown in `kquota --help`).
pub const EXIT_CODES_HELP: &str =
    "Exit codes: 0 success; 1 internal error; 2 usage or validation error \
(nothing sent); 3 the broker rejected the request (any failed entity fails the command); \
4 connection, authentication or authorization failure; 141 stdout closed early (as for SIGPIPE).";

/// The class of a failure, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bad input (exit 2).
    Usage,
    /// Broker-side rejection (exit 3).
    Broker,
    /// Connection/auth failure (exit 4).
    Connection,
}

impl Kind {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Kind::Usage => USAGE,
            Kind::Broker => BROKER,
            Kind::Connection => CONNECTION,
        }
    }
}

/// A classified error message (the cause chain stays in the surrounding `anyhow::Error`).
#[derive(Debug)]
pub struct Failure {
    /// The class.
    pub kind: Kind,
    /// One-line message.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// A usage/validation error.
pub fn usage(msg: impl fmt::Display) -> anyhow::Error {
    Failure {
        kind: Kind::Usage,
        message: msg.to_string(),
    }
    .into()
}

/// A broker rejection.
pub fn broker(msg: impl fmt::Display) -> anyhow::Error {
    Failure {
        kind: Kind::Broker,
        message: msg.to_string(),
    }
    .into()
}

/// A connection/auth failure.
pub fn connection(msg: impl fmt::Display) -> anyhow::Error {
    Failure {
        kind: Kind::Connection,
        message: msg.to_string(),
    }
    .into()
}

/// Classifies any error into an exit code: the first [`Failure`] in the chain decides, else
/// known library errors, else internal (1).
pub fn code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(f) = cause.downcast_ref::<Failure>() {
            return f.kind.code();
        }
        if cause
            .downcast_ref::<kquota_admin::ValidationError>()
            .is_some()
            || cause.downcast_ref::<kquota_admin::FileError>().is_some()
        {
            return USAGE;
        }
    }
    INTERNAL
}

/// Renders an error on one line: the context chain joined with ": ", newlines flattened.
pub fn one_line(err: &anyhow::Error) -> String {
    format!("{err:#}").replace(['\n', '\r'], " ")
}
