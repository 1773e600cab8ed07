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
            (vec!["produce", "--topic-name", "t", "--metrics-interval", "0.5"], "kquota produce", "invalid value '0.5' for '--metrics-interval <SECONDS>': expected a whole number of seconds, at least 1"),
            (vec!["consume", "--topic-name", "t", "--metrics-interval", "0"], "kquota consume", "invalid value '0' for '--metrics-interval <SECONDS>': expected a whole number of seconds, at least 1"),
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

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `kquota configs --help` says what the mode is and lists its flags (it used to point at
/// itself); `kquota help configs` is the same text; through a `kafka-configs` symlink the usage
/// shows that name, not `kafka-configs configs`.
#[test]
fn configs_help_lists_the_flags_under_the_invoked_name() {
    let home = tempfile::tempdir().unwrap();
    let (code, help, err) =
        common::run_to_end(common::kquota(home.path()).args(["configs", "--help"]));
    assert_eq!((code, err.as_str()), (0, ""), "{help}");
    for needle in [
        "kafka-configs.sh compatible mode for client quotas",
        "\n  kquota configs --bootstrap-server HOST:PORT",
        "--entity-type users|clients|ips",
        "--add-config K=V,...",
        "--delete-config K,...",
        "--user-defaults",
        "--dry-run",
    ] {
        assert!(help.contains(needle), "{needle:?} missing:\n{help}");
    }
    assert!(!help.contains("run `kquota configs --help`"), "{help}");
    let (code, again, _) =
        common::run_to_end(common::kquota(home.path()).args(["help", "configs"]));
    assert_eq!((code, &again), (0, &help));

    let link = home.path().join("kafka-configs");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kquota"), &link).unwrap();
    let run_link = |args: &[&str]| {
        let mut c2 = std::process::Command::new(&link);
        c2.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .args(args);
        common::run_to_end(&mut c2)
    };
    let (code, help, _) = run_link(&["--help"]);
    assert_eq!(code, 0);
    assert!(
        help.contains("\n  kafka-configs --bootstrap-server HOST:PORT"),
        "{help}"
    );
    assert!(!help.contains("kafka-configs configs"), "{help}");
    let (code, out, err) = run_link(&["--bogus"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        "error: --bogus is not a recognized option (see 'kafka-configs --help')\n"
    );
    let (code, version, _) = run_link(&["--version"]);
    assert_eq!(code, 0);
    assert!(version.starts_with("kquota "), "{version}");
}

/// Every page kquota(1) refers to is generated by `kquota man --dir`, one page is printed by
/// `kquota man COMMAND...`, and the completions know the kafka-configs mode's flags.
#[test]
fn man_pages_for_every_command_and_completions_with_the_configs_flags() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("man1");
    let (code, out, err) =
        common::run_to_end(common::kquota(home.path()).args(["man", "--dir"]).arg(&dir));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("wrote ") && out.contains("man pages to"),
        "{out}"
    );
    let top = std::fs::read_to_string(dir.join("kquota.1")).unwrap();
    let (_, printed, _) = common::run_to_end(common::kquota(home.path()).arg("man"));
    assert_eq!(printed, top);
    let referred: Vec<String> = top
        .lines()
        .filter_map(|l| l.strip_suffix("(1)"))
        .map(|n| n.replace("\\-", "-"))
        .collect();
    assert!(
        referred.contains(&"kquota-quotas".to_string()),
        "{referred:?}"
    );
    for page in &referred {
        let text = std::fs::read_to_string(dir.join(format!("{page}.1")))
            .unwrap_or_else(|e| panic!("{page}.1 is referred to but not generated: {e}"));
        // Its own sub-pages exist too.
        for sub in text.lines().filter_map(|l| l.strip_suffix("(1)")) {
            let sub = sub.replace("\\-", "-");
            assert!(
                dir.join(format!("{sub}.1")).exists(),
                "{sub}.1 (from {page})"
            );
        }
    }
    assert!(!referred.iter().any(|p| p.contains("help")), "{referred:?}");
    let (code, describe, _) =
        common::run_to_end(common::kquota(home.path()).args(["man", "quotas", "describe"]));
    assert_eq!(code, 0);
    assert_eq!(
        describe,
        std::fs::read_to_string(dir.join("kquota-quotas-describe.1")).unwrap()
    );
    let configs = std::fs::read_to_string(dir.join("kquota-configs.1")).unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let (code, text, _) =
            common::run_to_end(common::kquota(home.path()).args(["completions", shell]));
        assert_eq!(code, 0);
        for flag in [
            "bootstrap-server",
            "bootstrap-controller",
            "entity-type",
            "entity-name",
            "entity-default",
            "add-config",
            "add-config-file",
            "delete-config",
            "client-defaults",
        ] {
            assert!(text.contains(flag), "{shell}: {flag}");
            assert!(
                configs.contains(&flag.replace('-', "\\-")),
                "man page: {flag}"
            );
        }
    }
}

/// Errors found before anything is sent are exit 2 and one line: an unknown JAAS login module
/// (not read as PLAIN), a CA file that does not exist, YAML asked for a .json export, a
/// quota file listing an entity twice (both lines named), a value beyond 64 bits (the range,
/// not a type name), SCRAM credentials in the kafka-configs mode.
#[test]
fn local_input_errors_are_usage_errors_naming_where() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let props = write(
        dir,
        "foo.properties",
        "security.protocol=SASL_PLAINTEXT\nsasl.jaas.config=com.example.FooLoginModule required username=\"alice\" password=\"alice-secret\";\n",
    );
    let dup_yaml = write(
        dir,
        "dup.yaml",
        "quotas:\n  - entity: { client-id: a }\n    values: { producer_byte_rate: 1 }\n  - entity: { client-id: b }\n    values: { producer_byte_rate: 1 }\n  - entity: { client-id: a }\n    values: { producer_byte_rate: 2 }\n",
    );
    let dup_json = write(
        dir,
        "dup.json",
        "{\"quotas\": [\n  {\"entity\": {\"client-id\": \"a\"}, \"values\": {\"producer_byte_rate\": 1}},\n  {\"entity\": {\"client-id\": \"a\"}, \"values\": {\"producer_byte_rate\": 2}}\n]}\n",
    );
    let big = write(
        dir,
        "big.yaml",
        "quotas:\n  - entity: { user: u }\n    values: { producer_byte_rate: 18446744073709551616 }\n",
    );
    let p = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let b = "127.0.0.1:1";
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec!["quotas".into(), "describe".into(), "-b".into(), b.into(), "--command-config".into(), p(&props)],
            format!("{}:2: sasl.jaas.config: login module 'com.example.FooLoginModule' is not supported; kquota knows org.apache.kafka.common.security.plain.PlainLoginModule, ", p(&props)),
        ),
        (
            vec!["quotas".into(), "describe".into(), "-b".into(), b.into(), "--security-protocol".into(), "SSL".into(), "--tls-ca-file".into(), p(&dir.join("missing-ca.pem"))],
            format!("CA file {}: No such file or directory", p(&dir.join("missing-ca.pem"))),
        ),
        (
            vec!["quotas".into(), "export".into(), "-b".into(), b.into(), "-f".into(), p(&dir.join("x.json")), "--format".into(), "yaml".into()],
            "a .json file is read as JSON; use --format json or a .yaml name".into(),
        ),
        (
            vec!["quotas".into(), "plan".into(), "-b".into(), b.into(), "-f".into(), p(&dup_yaml)],
            "entity client-id='a' is listed twice, at line 2 (entry 1) and at line 6 (entry 3); merge them".into(),
        ),
        (
            vec!["quotas".into(), "apply".into(), "-b".into(), b.into(), "-f".into(), p(&dup_json)],
            "entity client-id='a' is listed twice, at line 2 (entry 1) and at line 3 (entry 2); merge them".into(),
        ),
        (
            vec!["quotas".into(), "plan".into(), "-b".into(), b.into(), "-f".into(), p(&big)],
            "value '18446744073709551616' is too large (maximum 9223372036854775807)".into(),
        ),
        (
            ["configs", "--bootstrap-server", b, "--alter", "--entity-type", "users", "--entity-name", "alice", "--add-config", "SCRAM-SHA-256=[iterations=8192,password=alice-secret]"].map(String::from).to_vec(),
            "SCRAM-SHA-256: kquota configs changes client quotas only (producer_byte_rate, consumer_byte_rate, request_percentage, controller_mutation_rate for users); SCRAM credentials are added with kafka-configs.sh".into(),
        ),
    ];
    for (args, want) in cases {
        let (code, out, err) = common::run_to_end(common::kquota(dir).args(&args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(out, "", "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(&want),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains("alice-secret") && !err.contains("128"),
            "{err}"
        );
    }
    assert!(!dir.join("x.json").exists());
}

/// Names echoed back are shown with control characters escaped: clap's echo of a bad value or
/// argument, the kafka-configs mode's errors, and .properties warnings and errors.
#[test]
fn control_characters_are_escaped_in_every_echo() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let unknown = write(dir, "unknown.properties", "fo\u{1b}[2Jo=1\n");
    let bad = write(dir, "bad.properties", "security.protocol=PLAIN\u{1b}TEXT\n");
    let b = "127.0.0.1:1";
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["quotas", "describe", "--default", "us\u{1b}ers"],
            2,
            "invalid value 'us\\x1bers' for '--default <TYPE>'",
        ),
        (
            vec!["quotas", "describe", "--us\u{7f}er", "x"],
            2,
            "unexpected argument '--us\\x7fer' found",
        ),
        (
            vec!["topics", "create", "t", "--partitions", "1\u{1b}"],
            2,
            "invalid value '1\\x1b' for '--partitions <N>'",
        ),
        (
            vec![
                "quotas",
                "alter",
                "--client-id",
                "c",
                "--set",
                "producer_byte_rate=1\u{7}x",
            ],
            2,
            "value '1\\x07x' is not a number",
        ),
        (
            vec![
                "quotas",
                "alter",
                "--client-id",
                "c",
                "--set",
                "fo\u{1b}o=1",
            ],
            2,
            "key fo\\x1bo: unknown quota key",
        ),
        (
            vec![
                "configs",
                "--bootstrap-server",
                b,
                "--describe",
                "--entity-type",
                "us\u{1b}ers",
            ],
            2,
            "Invalid entity type us\\x1bers, the entity type must be one of users, clients, ips",
        ),
        (
            vec![
                "configs",
                "--bootstrap-server",
                b,
                "--alter",
                "--entity-type",
                "ips",
                "--entity-name",
                "1.2.3.4\u{1b}",
                "--add-config",
                "connection_creation_rate=1",
            ],
            2,
            "must be a valid IP or resolvable host, but it is: 1.2.3.4\\x1b",
        ),
        (
            vec![
                "configs",
                "--bootstrap-server",
                b,
                "--alter",
                "--entity-type",
                "clients",
                "--entity-name",
                "c",
                "--add-config",
                "producer_byte_rate=x\u{1b}",
            ],
            2,
            "Cannot parse quota configuration value for producer_byte_rate: x\\x1b",
        ),
        (
            vec!["configs", "--fr\u{1b}ob"],
            2,
            "--fr\\x1bob is not a recognized option",
        ),
        (
            vec![
                "quotas",
                "describe",
                "-b",
                b,
                "--command-config",
                bad.to_str().unwrap(),
            ],
            2,
            "bad.properties:1: security.protocol: 'PLAIN\\x1bTEXT' is not one of",
        ),
    ];
    for (args, code, want) in cases {
        let (got, _, err) = common::run_to_end(common::kquota(dir).args(&args));
        assert_eq!(got, code, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(
            !err.contains('\u{1b}') && !err.contains('\u{7f}') && !err.contains('\u{7}'),
            "{args:?}: {err:?}"
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
    // A warning about an unknown key, before the connection fails.
    let (code, _, err) = common::run_to_end(common::kquota(dir).args([
        "quotas",
        "describe",
        "-b",
        b,
        "--command-config",
        unknown.to_str().unwrap(),
    ]));
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("unknown.properties:1: unknown or unsupported key 'fo\\x1b[2Jo' is ignored"),
        "{err}"
    );
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

/// The AWS flags have one spelling everywhere: --aws-region / --aws-profile with --region /
/// --profile as aliases on every command that connects, and the --aws-* names accepted by
/// `token` too (README and help name them).
#[test]
fn aws_flag_spellings_are_accepted_everywhere() {
    let home = tempfile::tempdir().unwrap();
    let mut commands: Vec<Vec<&str>> = vec![
        vec!["quotas", "describe"],
        vec!["topics", "list"],
        vec!["whoami"],
        vec!["token"],
    ];
    if cfg!(feature = "apps") {
        commands.push(vec!["produce"]);
        commands.push(vec!["consume"]);
    }
    for cmd in commands {
        let (code, help, _) =
            common::run_to_end(common::kquota(home.path()).args(&cmd).arg("--help"));
        assert_eq!(code, 0, "{cmd:?}");
        for flag in ["--aws-region", "--region", "--aws-profile", "--profile"] {
            assert!(help.contains(flag), "{cmd:?} --help lacks {flag}");
        }
    }
    // Accepted, not just listed: a reproducible token under either spelling is the same.
    let token = |region: &str, role: &str| {
        common::run_to_end(common::kquota(home.path()).args([
            "token",
            region,
            "us-east-1",
            "--access-key-id",
            "AKIDEXAMPLE",
            "--secret-access-key",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "--signing-time",
            "2024-01-15T12:34:56Z",
            role,
            "kquota",
        ]))
    };
    let a = token("--region", "--role-session-name");
    let b = token("--aws-region", "--aws-role-session-name");
    assert_eq!(a.0, 0, "{}", a.2);
    assert_eq!(a, b);
    let (code, _, err) = common::run_to_end(common::kquota(home.path()).args([
        "quotas",
        "describe",
        "--region",
        "us-east-1",
        "--profile",
        "dev",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no brokers given"), "{err}");
}

/// SASL settings in a .properties file without a SASL security.protocol: the warning names the
/// file, the protocol in Kafka's spelling and the fix; `sasl.jaas.config` errors name the key
/// once.
#[test]
fn sasl_settings_without_a_sasl_protocol_are_warned_about_with_the_fix() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let props = write(
        dir,
        "client.properties",
        "sasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"pw-secret\";\n",
    );
    let (code, out, err) = common::run_to_end(common::kquota(dir).args([
        "quotas",
        "describe",
        "-b",
        "127.0.0.1:1",
        "--command-config",
        props.to_str().unwrap(),
    ]));
    assert_eq!(code, 4, "{out}{err}");
    let warning = format!(
        "warning: {}: security.protocol is not set, so it is PLAINTEXT: the SASL settings (sasl.mechanism, sasl.jaas.config) are ignored; set security.protocol=SASL_SSL or SASL_PLAINTEXT to use them",
        props.display()
    );
    assert!(err.lines().any(|l| l == warning), "{err}");
    assert!(!err.contains("pw-secret"), "{err}");

    let bad = write(
        dir,
        "bad.properties",
        "security.protocol=SASL_PLAINTEXT\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"pw-secret;\n",
    );
    let (code, _, err) = common::run_to_end(common::kquota(dir).args([
        "quotas",
        "describe",
        "-b",
        "127.0.0.1:1",
        "--command-config",
        bad.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err.trim_end(),
        format!(
            "error: {}:2: sasl.jaas.config: unterminated quoted value",
            bad.display()
        )
    );
}
