//! Exit codes and error classification.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success |
//! | 1 | unexpected internal error, or output that cannot be written (stdout, `quotas export -f FILE`) |
//! | 2 | usage or validation error: bad flags, bad quota values, malformed files (nothing was sent) |
//! | 3 | the broker rejected the request (any entity failed, unsupported version, policy), or what was named is not there (a topic to delete, a `--broker` id) |
//! | 4 | connection, authentication or authorization failure (unreachable broker, TLS, SASL, ACLs) |
//! | 130 | interrupted (Ctrl-C or SIGTERM): what was already sent was settled and reported first (see [`crate::interrupt`]) |
//!
//! Commands return `anyhow::Result`; wrap an error with [`Failure`] (via [`usage`],
//! [`broker`], [`connection`] or the [`Classify`] trait) to pick its exit code.

use std::fmt;

/// Exit code of a successful run.
pub const OK: u8 = 0;
/// Unexpected internal error, or output that cannot be written.
pub const INTERNAL: u8 = 1;
/// Usage or validation error (nothing was sent).
pub const USAGE: u8 = 2;
/// The broker rejected the request.
pub const BROKER: u8 = 3;
/// Connection, authentication or authorization failure.
pub const CONNECTION: u8 = 4;
/// Interrupted by Ctrl-C or SIGTERM.
pub const INTERRUPTED: u8 = crate::interrupt::INTERRUPTED;

/// Help text listing the exit codes (shown in `kquota --help`).
pub const EXIT_CODES_HELP: &str =
    "Exit codes: 0 success; 1 internal error or output that cannot be written; 2 usage or validation error \
(nothing sent); 3 the broker rejected the request (any failed entity fails the command); \
4 connection, authentication or authorization failure; 130 interrupted (Ctrl-C or SIGTERM; \
quota and topic changes, produce and consume first settle and report what was already sent, a \
second Ctrl-C stops at once); 141 stdout closed early (as for SIGPIPE).";

/// The class of a failure, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bad input (exit 2).
    Usage,
    /// Broker-side rejection (exit 3).
    Broker,
    /// Connection/auth failure (exit 4).
    Connection,
    /// Interrupted by Ctrl-C or SIGTERM (exit 130); the message is printed as it is, without
    /// the `error: ` prefix.
    Interrupted,
}

impl Kind {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Kind::Usage => USAGE,
            Kind::Broker => BROKER,
            Kind::Connection => CONNECTION,
            Kind::Interrupted => INTERRUPTED,
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

/// The run was interrupted (Ctrl-C, SIGTERM); `msg` is the whole line, starting with
/// `interrupted: `.
pub fn interrupted(msg: impl fmt::Display) -> anyhow::Error {
    Failure {
        kind: Kind::Interrupted,
        message: msg.to_string(),
    }
    .into()
}

/// `msg` with the exit class of `err` (its first [`Failure`]; internal when it has none).
pub fn reclassify(err: &anyhow::Error, msg: impl fmt::Display) -> anyhow::Error {
    let kind = err
        .chain()
        .find_map(|c| c.downcast_ref::<Failure>().map(|f| f.kind));
    match kind {
        Some(kind) => Failure {
            kind,
            message: msg.to_string(),
        }
        .into(),
        None => anyhow::anyhow!("{msg}"),
    }
}

/// Whether the error is an interruption (printed without the `error: ` prefix).
pub fn is_interrupted(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<Failure>()
            .is_some_and(|f| f.kind == Kind::Interrupted)
    })
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

/// A clap parse error as one line for stderr, without the `error: ` prefix:
/// `kquota quotas delete: unexpected argument 'foo' found; see 'kquota quotas delete --help'`.
///
/// clap prints a block (message, indented details, tips, a usage line, a help hint); this keeps
/// the message with its details (`[possible values: ...]`, the missing arguments), turns
/// "a similar ... exists: 'x'" tips into `(did you mean 'x'?)`, names the command the arguments
/// were for (from `argv` and `cli`, the parser that failed) and ends with its `--help` hint.
/// A missing subcommand (where clap prints the whole help) lists the subcommands instead.
pub fn clap_error_line(
    err: &clap::Error,
    cli: &clap::Command,
    argv: &[std::ffi::OsString],
) -> String {
    let mut path = vec![cli.get_name().to_string()];
    let mut cmd = cli;
    for token in argv.iter().skip(1) {
        let token = token.to_string_lossy();
        if token == "--" {
            break;
        }
        if token.starts_with('-') || !cmd.has_subcommands() {
            continue;
        }
        if let Some(sub) = cmd.find_subcommand(token.as_ref()) {
            path.push(sub.get_name().to_string());
            cmd = sub;
        }
    }
    let path = path.join(" ");
    let hint = format!("see '{path} --help'");
    if err.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let names: Vec<&str> = cmd
            .get_subcommands()
            .map(|s| s.get_name())
            .filter(|n| *n != "help")
            .collect();
        return format!(
            "{path}: a command is required, one of: {}; {hint}",
            names.join(", ")
        );
    }
    let mut text = err.render().to_string();
    // The values clap echoes (a bad value, an unknown argument) are shown with control
    // characters escaped, like every name kquota prints; a line break in one would also split
    // the line below.
    for (_, value) in err.context() {
        let values = match value {
            clap::error::ContextValue::String(s) => vec![s.as_str()],
            clap::error::ContextValue::Strings(v) => v.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        };
        for v in values {
            let escaped = kquota_admin::model::escape_controls(v);
            if escaped != v {
                text = text.replace(v, &escaped);
            }
        }
    }
    let mut message = String::new();
    let mut tips = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(m) = line.strip_prefix("error: ") {
            message.push_str(m);
        } else if let Some(tip) = line.strip_prefix("tip: ") {
            tips.push(
                match tip
                    .split_once(" exists: ")
                    .or_else(|| tip.split_once(" exist: "))
                {
                    Some((_, names)) => format!("did you mean {names}?"),
                    None => tip.to_string(),
                },
            );
        } else if line.starts_with("Usage: ") || line.starts_with("For more information") {
            // Replaced by the command name and the help hint.
        } else {
            // Details on their own lines: the missing arguments, `[possible values: ...]`.
            message.push(' ');
            message.push_str(line);
        }
    }
    let tips: String = tips.iter().map(|t| format!(" ({t})")).collect();
    kquota_admin::model::escape_controls(&format!("{path}: {message}{tips}; {hint}")).into_owned()
}

#[cfg(test)]
mod tests {
    use super::clap_error_line;
    use clap::{Arg, ArgAction, Command};

    fn cli() -> Command {
        Command::new("tool")
            .subcommand_required(true)
            .arg_required_else_help(true)
            .subcommand(
                Command::new("describe")
                    .arg(Arg::new("user").long("user"))
                    .arg(Arg::new("ip").long("ip").conflicts_with("user"))
                    .arg(
                        Arg::new("kind")
                            .long("kind")
                            .value_parser(["user", "ip"])
                            .action(ArgAction::Set),
                    ),
            )
            .subcommand(Command::new("alter"))
    }

    fn line(args: &[&str]) -> String {
        let argv: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        let err = cli().try_get_matches_from(&argv).unwrap_err();
        clap_error_line(&err, &cli(), &argv)
    }

    #[test]
    fn clap_errors_become_one_line_naming_the_command() {
        assert_eq!(
            line(&["tool", "describe", "extra"]),
            "tool describe: unexpected argument 'extra' found; see 'tool describe --help'"
        );
        assert_eq!(
            line(&["tool", "describe", "--usr", "u"]),
            "tool describe: unexpected argument '--usr' found (did you mean '--user'?); see 'tool describe --help'"
        );
        assert_eq!(
            line(&["tool", "describ"]),
            "tool: unrecognized subcommand 'describ' (did you mean 'describe'?); see 'tool --help'"
        );
        assert_eq!(
            line(&["tool", "describe", "--kind", "usr"]),
            "tool describe: invalid value 'usr' for '--kind <kind>' [possible values: user, ip] (did you mean 'user'?); see 'tool describe --help'"
        );
        assert_eq!(
            line(&["tool", "describe", "--user", "u", "--ip", "i"]),
            "tool describe: the argument '--user <user>' cannot be used with '--ip <ip>'; see 'tool describe --help'"
        );
        assert_eq!(
            line(&["tool"]),
            "tool: a command is required, one of: describe, alter; see 'tool --help'"
        );
        assert_eq!(
            line(&["tool", "describe", "--kind", "us\u{1b}[2Jer\nx"]),
            "tool describe: invalid value 'us\\x1b[2Jer\\nx' for '--kind <kind>' [possible values: user, ip] (did you mean 'user'?); see 'tool describe --help'"
        );
        assert_eq!(
            line(&["tool", "describe", "--b\u{7f}ogus"]),
            "tool describe: unexpected argument '--b\\x7fogus' found; see 'tool describe --help'"
        );
        for l in [
            line(&["tool", "alter", "x"]),
            line(&["tool", "describe", "--user"]),
        ] {
            assert!(!l.contains('\n'), "{l}");
        }
    }
}
