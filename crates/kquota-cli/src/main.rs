//! `kquota`: Kafka client quotas from one small static binary.
//!
//! Adding a command: create `src/cmd/<name>.rs` with `pub struct <Name>Args` (clap::Args) and
//! `pub async fn run(args: <Name>Args) -> anyhow::Result<()>`, add `pub mod <name>;` to
//! `src/cmd/mod.rs`, one variant to [`Command`] and one arm to [`dispatch`]. Connect with
//! `#[command(flatten)] connect: connect::ConnectArgs` so every command takes the same flags.
//! Classify errors with `exit::usage/broker/connection` to get the documented exit codes. A
//! command that changes something or owes a summary holds an `interrupt::claim` so Ctrl-C lets
//! it settle and report what was already sent (see `src/interrupt.rs`).

mod app_config;
mod backend;
#[cfg(feature = "apps")]
mod cloudwatch;
mod cmd;
mod connect;
mod exit;
mod interrupt;
mod javamap;
mod output;
mod properties;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

/// Kafka client-quota toolkit: describe, alter, resolve, plan and apply quotas; kafka-configs
/// compatible mode; Java .properties configs; MSK IAM.
#[derive(Parser, Debug)]
#[command(name = "kquota", version, after_help = exit::EXIT_CODES_HELP, propagate_version = true)]
pub struct Cli {
    /// Log verbosity (repeat for more: -v warnings, -vv debug, -vvv trace; or KQUOTA_LOG). Secrets are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

/// Top-level commands.
#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)] // parsed once; boxing would only add noise
pub enum Command {
    /// Client quotas: describe, alter, delete, resolve, plan, apply, export.
    #[command(visible_alias = "quota")]
    Quotas(cmd::quotas::QuotasArgs),
    /// Topics: create, delete, list (the load apps never create a topic themselves).
    #[command(visible_alias = "topic")]
    Topics(cmd::topics::TopicsArgs),
    #[cfg(feature = "apps")]
    /// Producer load app (MSK ProducerApp flags) with produce-throttle-time metrics.
    Produce(cmd::produce::ProduceArgs),
    #[cfg(feature = "apps")]
    /// Consumer load app (MSK ConsumerApp flags) with fetch-throttle-time metrics.
    Consume(cmd::consume::ConsumeArgs),
    #[cfg(feature = "demo")]
    /// The MSK multi-tenant quota walkthrough on a local 3-broker Kafka (needs Java + Maven).
    Demo(cmd::demo::DemoArgs),
    /// kafka-configs.sh compatible mode for client quotas (same flags, same output lines; `kquota
    /// configs --help` lists them).
    #[command(name = "configs", visible_alias = "kafka-configs")]
    Configs(cmd::configs::ConfigsArgs),
    /// Print a fresh MSK IAM OAUTHBEARER token (or AWS_MSK_IAM payload) to stdout.
    Token(cmd::token::TokenArgs),
    /// Show the principal the broker will see, the client-id and the quota entity flags (from
    /// the same connection flags as the other commands; AWS credentials only for MSK IAM).
    Whoami(cmd::whoami::WhoamiArgs),
    /// Print shell completions for bash, zsh, fish, elvish or powershell.
    Completions(cmd::completions::CompletionsArgs),
    /// Print a man page (roff): kquota(1), a command's (`kquota man quotas describe`), or all of
    /// them into a directory (`--dir DIR`).
    Man(cmd::completions::ManArgs),
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Quotas(a) => cmd::quotas::run(a).await,
        Command::Topics(a) => cmd::topics::run(a).await,
        #[cfg(feature = "apps")]
        Command::Produce(a) => cmd::produce::run(a).await,
        #[cfg(feature = "apps")]
        Command::Consume(a) => cmd::consume::run(a).await,
        #[cfg(feature = "demo")]
        Command::Demo(a) => cmd::demo::run(a).await,
        Command::Configs(a) => cmd::configs::run(a).await,
        Command::Token(a) => cmd::token::run(a).await,
        Command::Whoami(a) => cmd::whoami::run(a).await,
        Command::Completions(a) => cmd::completions::run_completions(a),
        Command::Man(a) => cmd::completions::run_man(a),
    }
}

/// Exit status when stdout is closed early (`kquota ... | head`): what a shell reports for a
/// process ended by SIGPIPE (128 + 13), which is how other Unix tools end there.
const CLOSED_STDOUT: u8 = 141;

/// What a panic from a failed write to the standard streams means. std's `println!` /
/// `eprintln!` panic with "failed printing to stdout: <io error>" (or stderr), clap_complete's
/// generator with "failed to write completion file: ...".
#[derive(Debug, PartialEq)]
enum OutputFailure {
    /// The reader of stdout or stderr has gone (`| head`): end quietly with 141.
    Closed,
    /// stdout cannot be written (a full disk, a bad descriptor): one error line, exit 1.
    Stdout(String),
    /// stderr cannot be written: nothing can be told; exit 1.
    Stderr,
}

fn output_failure(message: &str) -> Option<OutputFailure> {
    let stdout = message.starts_with("failed printing to stdout")
        || message.starts_with("failed to write completion file");
    let stderr = message.starts_with("failed printing to stderr");
    if !(stdout || stderr) {
        return None;
    }
    if message.contains("Broken pipe") || message.contains("BrokenPipe") {
        return Some(OutputFailure::Closed);
    }
    if stderr {
        return Some(OutputFailure::Stderr);
    }
    let cause = message.split_once(": ").map_or(message, |(_, c)| c);
    // clap_complete's `expect` shows the io::Error's Debug form: keep its message.
    let cause = cause
        .split_once("message: \"")
        .and_then(|(_, m)| m.split_once('"'))
        .map_or(cause, |(m, _)| m);
    Some(OutputFailure::Stdout(cause.to_string()))
}

/// `println!` panics when stdout cannot be written. The CLI has no use for a backtrace there:
/// a closed pipe ends quietly, any other failure is one error line. (Restoring SIGPIPE's
/// default action instead would also kill the process on a write to a closed broker socket,
/// which must be an error line.)
fn handle_output_failures() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        match output_failure(message) {
            Some(OutputFailure::Closed) => std::process::exit(CLOSED_STDOUT.into()),
            Some(OutputFailure::Stdout(cause)) => {
                use std::io::Write as _;
                let _ = writeln!(std::io::stderr(), "error: cannot write the output: {cause}");
                std::process::exit(exit::INTERNAL.into());
            }
            Some(OutputFailure::Stderr) => std::process::exit(exit::INTERNAL.into()),
            None => default(info),
        }
    }));
}

/// The clap command with the kafka-configs mode's own flags added ([`cmd::configs::FLAGS`]; the
/// mode parses its arguments itself), for the shell completions and the man pages.
pub fn documented_command() -> clap::Command {
    use clap::CommandFactory;
    // (`mut_subcommand` would move it to the end of the list.)
    Cli::command().mut_subcommands(|c| {
        if c.get_name() == "configs" {
            cmd::configs::document(c)
        } else {
            c
        }
    })
}

fn main() -> ExitCode {
    handle_output_failures();
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Invoked as `kafka-configs` / `kafka-configs.sh` (symlink): run the compatible mode directly,
    // under that name in its help and messages.
    let mut configs_prog = None;
    if let Some(name) = argv
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
    {
        let name = name.to_string_lossy().into_owned();
        if name == "kafka-configs" || name == "kafka-configs.sh" {
            argv.insert(1, "configs".into());
            configs_prog = Some(name);
        }
    }
    // `kquota help configs` is the mode's own help, like `kquota configs --help`.
    if argv.len() == 3 && argv[1] == "help" && (argv[2] == "configs" || argv[2] == "kafka-configs")
    {
        argv = vec![argv[0].clone(), "configs".into(), "--help".into()];
    }
    let cli = match Cli::try_parse_from(&argv) {
        Ok(c) => c,
        // --help, --version: clap's own text on stdout.
        Err(e) if !e.use_stderr() => {
            return match e.print() {
                Ok(()) => ExitCode::from(exit::OK),
                Err(io) if io.kind() == std::io::ErrorKind::BrokenPipe => {
                    ExitCode::from(CLOSED_STDOUT)
                }
                Err(io) => {
                    eprintln!("error: cannot write the output: {io}");
                    ExitCode::from(exit::INTERNAL)
                }
            };
        }
        // Usage errors: one line, like every other error.
        Err(e) => {
            use clap::CommandFactory;
            eprintln!(
                "error: {}",
                exit::clap_error_line(&e, &Cli::command(), &argv)
            );
            return ExitCode::from(exit::USAGE);
        }
    };
    let mut cli = cli;
    if let (Command::Configs(a), Some(prog)) = (&mut cli.command, configs_prog) {
        a.prog = Some(prog);
    }
    init_logging(cli.verbose);
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::INTERNAL);
        }
    };
    let run = async {
        interrupt::install();
        dispatch(cli.command).await
    };
    match rt.block_on(run) {
        Ok(()) => ExitCode::from(exit::OK),
        // A write to stdout that failed as a whole (e.g. `kquota man | head`); a broken broker
        // connection is a kquota-net error, never a bare io::Error here.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::from(CLOSED_STDOUT)
        }
        Err(e) if exit::is_interrupted(&e) => {
            eprintln!("{}", exit::one_line(&e));
            ExitCode::from(exit::INTERRUPTED)
        }
        Err(e) => {
            eprintln!("error: {}", exit::one_line(&e));
            ExitCode::from(exit::code_for(&e))
        }
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        // Default: errors only, so failures stay one line (library warnings need -v).
        0 => "error",
        1 => "warn,kquota=info",
        2 => "debug",
        _ => "trace",
    };
    // `Targets` (target=level directives) rather than `EnvFilter`: same syntax for what kquota
    // needs, without the regex engine EnvFilter links in (~200 KiB of the static binary).
    let filter = match std::env::var("KQUOTA_LOG") {
        Ok(spec) => spec.parse::<Targets>().unwrap_or_else(|e| {
            eprintln!("warning: KQUOTA_LOG={spec:?} is not a log filter ({e}); using {level:?}");
            default_targets(level)
        }),
        Err(_) => default_targets(level),
    };
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_target(false)
                .with_filter(filter),
        )
        .try_init();
}

fn default_targets(level: &str) -> Targets {
    level.parse().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn output_failures_are_told_apart() {
        use super::{output_failure, OutputFailure};
        assert_eq!(
            output_failure("failed printing to stdout: Broken pipe (os error 32)"),
            Some(OutputFailure::Closed)
        );
        assert_eq!(
            output_failure("failed printing to stderr: Broken pipe (os error 32)"),
            Some(OutputFailure::Closed)
        );
        assert_eq!(
            output_failure("failed printing to stdout: No space left on device (os error 28)"),
            Some(OutputFailure::Stdout(
                "No space left on device (os error 28)".into()
            ))
        );
        assert_eq!(
            output_failure(
                "failed to write completion file: Os { code: 28, kind: StorageFull, message: \"No space left on device\" }"
            ),
            Some(OutputFailure::Stdout("No space left on device".into()))
        );
        assert_eq!(
            output_failure("failed printing to stderr: Bad file descriptor (os error 9)"),
            Some(OutputFailure::Stderr)
        );
        assert_eq!(output_failure("index out of bounds"), None);
    }

    #[test]
    fn clap_definitions_are_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
        super::documented_command().debug_assert();
    }
}
