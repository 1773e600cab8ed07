//! Usage errors of every command: one line on stderr, `error: <command>: <what>`, clap's
//! suggestion kept in it, ending with the command's `--help` hint; exit 2; nothing on stdout.
//! `--help` and `--version` keep clap's text on stdout with exit 0. No broker is needed: clap
//! refuses these before anything connects.

mod common;

/// (arguments, the command named in the line, text the line must contain).
fn cases() -> Vec<(Vec<&'static str>, &'static str, &'static str)> {
    let mut cases = vec![
        // The top level and missing subcommands (clap would print the whole help).
        (vec![], "kquota", "a command is required, one of: quotas, topics"),
        (vec!["--bogus"], "kquota", "unexpected argument '--bogus' found"),
        (vec!["quota"], "kquota quotas", "a command is required, one of: describe, alter, delete, resolve, plan, apply, export"),
        (vec!["quotas", "descibe"], "kquota quotas", "unrecognized subcommand 'descibe' (did you mean 'describe'?)"),
        (vec!["topics"], "kquota topics", "a command is required, one of: create, delete, list"),
        // quotas describe
        (vec!["quotas", "describe", "--usr", "u"], "kquota quotas describe", "unexpected argument '--usr' found (did you mean '--user'?)"),
        (vec!["quotas", "describe", "alice"], "kquota quotas describe", "unexpected argument 'alice' found"),
        (vec!["quotas", "describe", "--user"], "kquota quotas describe", "a value is required for '--user <PRINCIPAL>'"),
        (vec!["quotas", "describe", "--default", "users"], "kquota quotas describe", "invalid value 'users' for '--default <TYPE>' [possible values: user, client-id, ip] (did you mean 'user'?)"),
        (vec!["quotas", "describe", "--broker", "one"], "kquota quotas describe", "invalid value 'one' for '--broker <ID>'"),
        (vec!["quotas", "describe", "--user", "a", "--user", "b"], "kquota quotas describe", "'--user <PRINCIPAL>' cannot be used multiple times"),
        (vec!["quotas", "describe", "--tls-cert-file", "c.pem"], "kquota quotas describe", "the following required arguments were not provided: --tls-key-file <PEM_FILE>"),
        // quotas alter / delete
        (vec!["quotas", "alter", "--client-id", "c", "--sett", "x=1"], "kquota quotas alter", "unexpected argument '--sett' found (did you mean '--set'?)"),
        (vec!["quotas", "alter", "c"], "kquota quotas alter", "unexpected argument 'c' found"),
        (vec!["quotas", "alter", "--client-id"], "kquota quotas alter", "a value is required for '--client-id <ID>'"),
        (vec!["quotas", "-o", "yaml", "alter"], "kquota quotas alter", "invalid value 'yaml' for '--output <OUTPUT>' [possible values: table, json]"),
        (vec!["quotas", "delete", "foo"], "kquota quotas delete", "unexpected argument 'foo' found"),
        (vec!["quotas", "delete", "--keys", "k"], "kquota quotas delete", "unexpected argument '--keys' found (did you mean '--key'?)"),
        (vec!["quotas", "delete", "--validate-only=yes"], "kquota quotas delete", "unexpected value 'yes' for '--validate-only'"),
        // quotas resolve / plan / apply / export
        (vec!["quotas", "resolve", "--user", "u"], "kquota quotas resolve", "the following required arguments were not provided: --client-id <ID>"),
        (vec!["quotas", "resolve", "--user", "u", "--client-id", "c", "--ip", "1.2.3.4"], "kquota quotas resolve", "the argument '--user <PRINCIPAL>' cannot be used with '--ip <IP>'"),
        (vec!["quotas", "resolve", "--ipp", "1.2.3.4"], "kquota quotas resolve", "unexpected argument '--ipp' found (did you mean '--ip'?)"),
        (vec!["quotas", "plan"], "kquota quotas plan", "the following required arguments were not provided: --file <FILE>"),
        (vec!["quotas", "plan", "-f", "q.yaml", "extra.yaml"], "kquota quotas plan", "unexpected argument 'extra.yaml' found"),
        (vec!["quotas", "apply", "--prune"], "kquota quotas apply", "the following required arguments were not provided: --file <FILE>"),
        (vec!["quotas", "apply", "-f"], "kquota quotas apply", "a value is required for '--file <FILE>'"),
        (vec!["quotas", "export", "--format", "xml"], "kquota quotas export", "invalid value 'xml' for '--format <FORMAT>' [possible values: yaml, json]"),
        (vec!["quotas", "export", "out.yaml"], "kquota quotas export", "unexpected argument 'out.yaml' found"),
        // topics
        (vec!["topics", "create"], "kquota topics create", "the following required arguments were not provided: <TOPIC>..."),
        (vec!["topics", "create", "t", "--partitions", "many"], "kquota topics create", "invalid value 'many' for '--partitions <N>'"),
        (vec!["topics", "delete", "t", "--if-exist"], "kquota topics delete", "unexpected argument '--if-exist' found (did you mean '--if-exists'?)"),
        (vec!["topics", "list", "t"], "kquota topics list", "unexpected argument 't' found"),
        // token, whoami
        (vec!["token", "--mechanism", "plain"], "kquota token", "invalid value 'plain' for '--mechanism <MECHANISM>' [possible values: oauthbearer, aws-msk-iam]"),
        (vec!["token", "--access-key-id", "AKID"], "kquota token", "the following required arguments were not provided: --secret-access-key <SECRET>"),
        (vec!["token", "extra"], "kquota token", "unexpected argument 'extra' found"),
        (vec!["whoami", "--bogus"], "kquota whoami", "unexpected argument '--bogus' found"),
        (vec!["whoami", "extra"], "kquota whoami", "unexpected argument 'extra' found"),
        // completions, man
        (vec!["completions"], "kquota completions", "the following required arguments were not provided: <SHELL>"),
        (vec!["completions", "nosh"], "kquota completions", "invalid value 'nosh' for '<SHELL>' [possible values: bash, elvish, fish, powershell, zsh] (did you mean 'zsh'?)"),
        (vec!["completions", "bash", "zsh"], "kquota completions", "unexpected argument 'zsh' found"),
        (vec!["man", "extra"], "kquota man", "no page for 'kquota extra' (commands: quotas, topics, "),
        (vec!["man", "quotas", "describ"], "kquota man", "no page for 'kquota quotas describ' (commands: describe, alter, "),
        (vec!["man", "--dir", "d", "quotas"], "kquota man", "the argument '--dir <DIR>' cannot be used with '[COMMAND]...'"),
        (vec!["man", "--bogus"], "kquota man", "unexpected argument '--bogus' found"),
    ];
    if cfg!(feature = "apps") {
        cases.extend([
            (vec!["produce"], "kquota produce", "the following required arguments were not provided: --topic-name <TOPIC>"),
            (vec!["produce", "--topic-name", "t", "--num-messages", "ten"], "kquota produce", "invalid value 'ten' for '--num-messages <N>'"),
            (vec!["produce", "--topic-name", "t", "--producer-type", "fast"], "kquota produce", "invalid value 'fast' for '--producer-type <PRODUCER_TYPE>' [possible values: sync, async]"),
            (vec!["produce", "--topic", "t"], "kquota produce", "unexpected argument '--topic' found (did you mean '--topic-name'?)"),
            (vec!["produce", "--topic-name", "t", "extra"], "kquota produce", "unexpected argument 'extra' found"),
            (vec!["consume"], "kquota consume", "the following required arguments were not provided: --topic-name <TOPIC>"),
            (vec!["consume", "--topic-name", "t", "--offset-reset", "newest"], "kquota consume", "invalid value 'newest' for '--offset-reset <OFFSET_RESET>' [possible values: earliest, latest]"),
            (vec!["consume", "--topic-name", "t", "--partition", "x"], "kquota consume", "invalid value 'x' for '--partition <N>'"),
            (vec!["consume", "--topic-name", "t", "extra"], "kquota consume", "unexpected argument 'extra' found"),
        ]);
    }
    cases
}

#[test]
fn usage_errors_are_one_line_naming_the_command() {
    let home = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (args, command, needle) in cases() {
        let (code, out, err) = common::run_to_end(common::kquota(home.path()).args(&args));
        let ok = code == 2
            && out.is_empty()
            && err.lines().count() == 1
            && err.starts_with(&format!("error: {command}: "))
            && err.contains(needle)
            && err.ends_with(&format!("; see '{command} --help'\n"));
        if !ok {
            failures.push(format!(
                "{args:?}: exit {code}, stdout {out:?}, stderr {err:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The kafka-configs compatible mode parses its own arguments; its errors are one line too
/// (kafka-configs' wording).
#[test]
fn configs_usage_errors_are_one_line() {
    let home = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (
            vec!["configs"],
            "Command must include exactly one action: --describe, --alter",
        ),
        (
            vec!["configs", "--bogus"],
            "--bogus is not a recognized option",
        ),
        (
            vec!["configs", "--describe", "--entity-name"],
            "Option --entity-name requires an argument",
        ),
        (
            vec!["configs", "--describe", "--entity-type", "pets"],
            "Invalid entity type pets",
        ),
        (
            vec!["configs", "--describe", "--alter", "--entity-type", "users"],
            "exactly one action",
        ),
    ] {
        let (code, out, err) = common::run_to_end(common::kquota(home.path()).args(&args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(out, "", "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(needle),
            "{args:?}: {err}"
        );
    }
}

/// `--help` and `--version` are not errors: clap's text on stdout, exit 0.
#[test]
fn help_and_version_stay_as_they_are() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["quotas", "delete", "--help"],
        vec!["help", "quotas"],
        vec!["topics", "-h"],
    ] {
        let (code, out, err) = common::run_to_end(common::kquota(home.path()).args(&args));
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(out.contains("Usage: kquota"), "{args:?}: {out}");
        assert!(out.lines().count() > 3, "{args:?}: {out}");
        assert_eq!(err, "", "{args:?}");
    }
    for args in [vec!["--version"], vec!["quotas", "--version"]] {
        let (code, out, _) = common::run_to_end(common::kquota(home.path()).args(&args));
        assert_eq!(code, 0, "{args:?}");
        assert!(out.starts_with("kquota"), "{args:?}: {out}");
    }
}

/// stdout that cannot be written (a full disk: /dev/full) is one error line and exit 1, not a
/// panic with a backtrace; a stderr whose reader has gone ends quietly with 141.
#[test]
fn unwritable_output_is_one_line_not_a_panic() {
    use std::process::Stdio;
    let home = tempfile::tempdir().unwrap();
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    for args in [vec!["completions", "bash"], vec!["man"], vec!["--version"]] {
        let out = common::kquota(home.path())
            .args(&args)
            .stdout(full())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(
            err.contains("No space left on device") || err.contains("StorageFull"),
            "{args:?}: {err}"
        );
    }
    // A usage error written to a stderr nobody reads.
    let mut child = common::kquota(home.path())
        .args(["quotas", "describe", "--bogus"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert!(matches!(status.code(), Some(141) | Some(2)), "{status:?}");
}
