//! `kquota completions <shell>` and `kquota man`, generated from the clap definitions.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

/// Arguments of `kquota completions`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Arguments of `kquota man`.
#[derive(Args, Debug)]
pub struct ManArgs {}

/// Writes completions to stdout.
pub fn run_completions(args: CompletionsArgs) -> anyhow::Result<()> {
    let mut cmd = crate::Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "kquota", &mut std::io::stdout());
    Ok(())
}

/// Writes the man page (roff) to stdout.
pub fn run_man(_args: ManArgs) -> anyhow::Result<()> {
    let cmd = crate::Cli::command();
    clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?;
    Ok(())
}
