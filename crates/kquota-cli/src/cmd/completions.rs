//! `kquota completions <shell>` and `kquota man`, generated from the clap definitions (with the
//! kafka-configs mode's flags, which that mode parses itself: [`crate::documented_command`]).

use std::path::PathBuf;

use clap::Args;
use clap_complete::Shell;

use crate::exit;

/// Arguments of `kquota completions`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Arguments of `kquota man`.
#[derive(Args, Debug)]
pub struct ManArgs {
    /// The command whose page to print, e.g. `quotas describe` (default: the kquota(1) page,
    /// which lists the commands' pages).
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
    /// Write every page (kquota.1, kquota-quotas.1, kquota-quotas-describe.1, ...) into this
    /// directory, created if needed, instead of printing one.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub dir: Option<PathBuf>,
}

/// Writes completions to stdout.
pub fn run_completions(args: CompletionsArgs) -> anyhow::Result<()> {
    let mut cmd = crate::documented_command();
    clap_complete::generate(args.shell, &mut cmd, "kquota", &mut std::io::stdout());
    Ok(())
}

/// The commands the pages are made of: without the `help` subcommand, which has no page.
fn man_command() -> clap::Command {
    let mut cmd = crate::documented_command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// Writes a man page (roff) to stdout, or every page into `--dir`.
pub fn run_man(args: ManArgs) -> anyhow::Result<()> {
    let cmd = man_command();
    if let Some(dir) = &args.dir {
        let written = |e: std::io::Error| {
            anyhow::anyhow!("cannot write the man pages into {}: {e}", dir.display())
        };
        std::fs::create_dir_all(dir).map_err(written)?;
        clap_mangen::generate_to(cmd.clone(), dir).map_err(written)?;
        println!("wrote {} man pages to {}", count(&cmd), dir.display());
        return Ok(());
    }
    let mut page = &cmd;
    for name in &args.command {
        page = page.find_subcommand(name).ok_or_else(|| {
            let path: Vec<&str> = std::iter::once("kquota")
                .chain(
                    args.command
                        .iter()
                        .map(String::as_str)
                        .take_while(|n| *n != name),
                )
                .collect();
            let names: Vec<&str> = page.get_subcommands().map(|c| c.get_name()).collect();
            let commands = if names.is_empty() {
                format!("'{}' has no subcommands", path.join(" "))
            } else {
                format!("commands: {}", names.join(", "))
            };
            exit::usage(format!(
                "kquota man: no page for '{} {}' ({commands}); see 'kquota man --help'",
                path.join(" "),
                kquota_admin::model::escape_controls(name)
            ))
        })?;
    }
    clap_mangen::Man::new(page.clone()).render(&mut std::io::stdout())?;
    Ok(())
}

/// The number of pages: the command and every subcommand, recursively.
fn count(cmd: &clap::Command) -> usize {
    1 + cmd.get_subcommands().map(count).sum::<usize>()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_page_the_top_page_names_is_generated() {
        let dir = tempfile::tempdir().unwrap();
        super::run_man(super::ManArgs {
            command: vec![],
            dir: Some(dir.path().to_path_buf()),
        })
        .unwrap();
        let files: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let top = std::fs::read_to_string(dir.path().join("kquota.1")).unwrap();
        // The SUBCOMMANDS section names each page as `kquota\-NAME(1)`.
        let named: Vec<String> = top
            .lines()
            .filter_map(|l| l.strip_suffix("(1)"))
            .map(|n| format!("{}.1", n.replace("\\-", "-")))
            .collect();
        assert!(named.len() >= 8, "{named:?}");
        for n in &named {
            assert!(
                files.contains(n),
                "{n} is named but not generated: {files:?}"
            );
        }
        assert!(!files.iter().any(|f| f.contains("help")), "{files:?}");
        let configs = std::fs::read_to_string(dir.path().join("kquota-configs.1")).unwrap();
        assert!(configs.contains("add\\-config"), "{configs}");
        assert!(
            files.contains(&"kquota-quotas-describe.1".to_string()),
            "{files:?}"
        );
    }
}
