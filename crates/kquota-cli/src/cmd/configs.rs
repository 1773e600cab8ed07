//! `kquota configs ...`: kafka-configs.sh compatible mode for client quotas.
//!
//! Accepts the commands in MSK runbooks with only the binary name changed:
//! `--bootstrap-server`, `--bootstrap-controller`, `--command-config`, `--describe`, `--alter`,
//! `--add-config 'k=v,...'` (square brackets group commas), `--add-config-file`,
//! `--delete-config 'k,...'`, repeated `--entity-type users|clients|ips` paired **by position**
//! with `--entity-name X` / `--entity-default` in command-line order, and the shorthands
//! `--user`, `--client`, `--ip`, `--user-defaults`, `--client-defaults`, `--ip-defaults`.
//! The checks and messages follow Kafka's `ConfigCommand`; output lines are byte-identical
//! (see [`crate::output`]). Extras: `--output json` and `--dry-run` (validate-only on the broker).
//! Non-quota entity types (topics, brokers, ...) are refused with a clear message.

use std::collections::BTreeSet;

use clap::Args;
use kquota_admin::{
    parse_value, Alteration, Component, Entity, EntityName, EntityType, Filter, Match, Op, QuotaKey,
};

use kquota_admin::model::escape_controls;

use crate::connect::ConnectArgs;
use crate::exit;
use crate::output::OutputFormat;

/// Arguments of `kquota configs`: passed through verbatim and parsed like kafka-configs (the
/// flags are listed in [`FLAGS`]; `--help` prints [`help`]).
#[derive(Args, Debug)]
#[command(disable_help_flag = true, disable_version_flag = true)]
pub struct ConfigsArgs {
    /// kafka-configs.sh's arguments: --bootstrap-server, --describe or --alter, the entities,
    /// --add-config and --delete-config (listed by `kquota configs --help`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "ARGS")]
    pub args: Vec<String>,
    /// The name the mode was invoked as, for its help and messages: `kquota configs`, or the
    /// program name when kquota runs as `kafka-configs` (set by `main`).
    #[arg(skip)]
    pub prog: Option<String>,
}

/// One flag of the mode: name, short form, value name (`None`: takes no value), help.
pub struct Flag {
    /// `--name`.
    pub long: &'static str,
    /// `-x`, if any.
    pub short: Option<char>,
    /// The value's name, for flags that take one.
    pub value: Option<&'static str>,
    /// Whether it may be given more than once.
    pub repeat: bool,
    /// One line of help.
    pub help: &'static str,
}

const fn flag(
    long: &'static str,
    short: Option<char>,
    value: Option<&'static str>,
    repeat: bool,
    help: &'static str,
) -> Flag {
    Flag {
        long,
        short,
        value,
        repeat,
        help,
    }
}

/// The flags of the kafka-configs mode, in the order of its help. The parser is [`parse`];
/// this list is its help text and, in `main`, the completions' and man page's view of it.
pub const FLAGS: &[Flag] = &[
    flag(
        "--bootstrap-server",
        None,
        Some("HOST:PORT,..."),
        false,
        "The brokers to connect to",
    ),
    flag(
        "--bootstrap-controller",
        None,
        Some("HOST:PORT,..."),
        false,
        "Accepted, but controllers serve no client quotas (see below)",
    ),
    flag(
        "--command-config",
        None,
        Some("FILE"),
        false,
        "Java client .properties (security.protocol, sasl.*, ssl.*, client.id)",
    ),
    flag(
        "--describe",
        None,
        None,
        false,
        "Print the quotas of the entities (a type without a name: all of them)",
    ),
    flag(
        "--alter",
        None,
        None,
        false,
        "Change the quotas of one entity",
    ),
    flag(
        "--entity-type",
        None,
        Some("users|clients|ips"),
        true,
        "An entity type; users and clients may be given together",
    ),
    flag(
        "--entity-name",
        None,
        Some("NAME"),
        true,
        "The name for the --entity-type at the same position",
    ),
    flag(
        "--entity-default",
        None,
        None,
        true,
        "The default entity for the --entity-type at the same position",
    ),
    flag(
        "--user",
        None,
        Some("NAME"),
        false,
        "Short for --entity-type users --entity-name NAME",
    ),
    flag(
        "--client",
        None,
        Some("ID"),
        false,
        "Short for --entity-type clients --entity-name ID",
    ),
    flag(
        "--ip",
        None,
        Some("IP"),
        false,
        "Short for --entity-type ips --entity-name IP",
    ),
    flag(
        "--user-defaults",
        None,
        None,
        false,
        "Short for --entity-type users --entity-default",
    ),
    flag(
        "--client-defaults",
        None,
        None,
        false,
        "Short for --entity-type clients --entity-default",
    ),
    flag(
        "--ip-defaults",
        None,
        None,
        false,
        "Short for --entity-type ips --entity-default",
    ),
    flag(
        "--add-config",
        None,
        Some("K=V,..."),
        false,
        "Quotas to set: 'producer_byte_rate=1048576,consumer_byte_rate=2097152'",
    ),
    flag(
        "--add-config-file",
        None,
        Some("FILE"),
        false,
        "Quotas to set, from a .properties file",
    ),
    flag(
        "--delete-config",
        None,
        Some("K,..."),
        false,
        "Quota keys to remove; each must be set",
    ),
    flag(
        "--output",
        Some('o'),
        Some("json|table"),
        false,
        "kquota extra: JSON (as `kquota quotas describe|alter -o json`)",
    ),
    flag(
        "--dry-run",
        None,
        None,
        false,
        "kquota extra: the broker only validates the change (nothing changes)",
    ),
    flag(
        "--all",
        None,
        None,
        false,
        "Accepted as in kafka-configs; no effect on quotas",
    ),
    flag("--help", Some('h'), None, false, "Print this help"),
    flag("--version", None, None, false, "Print the version"),
];

/// The mode's help: what it is, its usage with the invoked name `prog`, and its flags.
pub fn help(prog: &str) -> String {
    use std::fmt::Write as _;
    let mut out = format!(
        "kafka-configs.sh compatible mode for client quotas: kafka-configs' quota commands with the
same flags and the same output lines, so runbook commands work with only the program name
changed (or unchanged: link kquota as kafka-configs). Other entity types (topics, brokers,
groups) and SCRAM credentials are left to kafka-configs.sh.

Usage:
  {prog} --bootstrap-server HOST:PORT [--command-config FILE] --describe
        --entity-type users|clients|ips [--entity-name NAME | --entity-default] ...
  {prog} --bootstrap-server HOST:PORT [--command-config FILE] --alter
        --entity-type users|clients|ips (--entity-name NAME | --entity-default) ...
        [--add-config 'K=V,...'] [--add-config-file FILE] [--delete-config 'K,...']

Options:
"
    );
    let label = |f: &Flag| {
        let short = f.short.map(|c| format!("-{c}, ")).unwrap_or_default();
        let value = f.value.map(|v| format!(" {v}")).unwrap_or_default();
        format!("{short}{}{value}", f.long)
    };
    let width = FLAGS.iter().map(|f| label(f).len()).max().unwrap_or(0);
    for f in FLAGS {
        let _ = writeln!(out, "  {:width$}  {}", label(f), f.help);
    }
    out.push_str(
        "
Entity types and names pair by position: the i-th --entity-name or --entity-default belongs to
the i-th --entity-type. Only 'users' and 'clients' may be combined.
Quota keys: producer_byte_rate, consumer_byte_rate, request_percentage, controller_mutation_rate
(users, clients); connection_creation_rate (ips). Values are read as kafka-configs reads them
(1048576, 1.0E7, 1024d; not hexadecimal); a trailing comma in --add-config is ignored.
--bootstrap-controller is accepted, but Kafka's controllers serve no client quotas (kafka-configs
fails there too): give brokers with --bootstrap-server.",
    );
    out
}

/// Adds the mode's flags to its clap command, for the shell completions and the man page only:
/// the arguments themselves are parsed by [`parse`], in kafka-configs' way.
pub fn document(cmd: clap::Command) -> clap::Command {
    let mut cmd = cmd.about(
        "kafka-configs.sh compatible mode for client quotas: the same flags and the same output lines",
    );
    for f in FLAGS {
        let id = f.long.trim_start_matches('-');
        let mut arg = clap::Arg::new(id).long(id).help(f.help);
        if let Some(c) = f.short {
            arg = arg.short(c);
        }
        arg = match (f.value, f.repeat) {
            (Some(v), true) => arg.value_name(v).action(clap::ArgAction::Append),
            (Some(v), false) => arg.value_name(v).action(clap::ArgAction::Set),
            (None, true) => arg.action(clap::ArgAction::Append).num_args(0),
            (None, false) => arg.action(clap::ArgAction::SetTrue),
        };
        if id == "entity-type" {
            arg = arg.value_parser(["users", "clients", "ips"]);
        }
        if id == "output" {
            arg = arg.value_parser(["json", "table"]);
        }
        cmd = cmd.arg(arg);
    }
    cmd
}

/// What to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `--describe` with this (strict) filter.
    Describe {
        /// The quota filter.
        filter: Filter,
        /// Users whose SCRAM credential lines follow the quota lines (empty: every user with
        /// credentials), or `None` when kafka-configs prints none: a `clients` or `ips` type is
        /// given, or a default entity (`--entity-default`, `--user-defaults`, empty name).
        scram_users: Option<Vec<String>>,
    },
    /// `--alter` of one entity.
    Alter {
        /// The entity.
        entity: Entity,
        /// Keys to set, in the order given.
        sets: Vec<(QuotaKey, f64)>,
        /// Keys to delete.
        deletes: Vec<QuotaKey>,
        /// First entity type as given (`users`, `clients`, `ips`) for the completion message.
        first_type: String,
        /// First entity name as given ("" for default).
        first_name: String,
    },
}

/// A parsed invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// Connection flags.
    pub connect: ConnectArgs,
    /// The action.
    pub action: Action,
    /// `--output`.
    pub output: OutputFormat,
    /// `--dry-run`.
    pub dry_run: bool,
    /// The address came from `--bootstrap-controller`.
    pub bootstrap_controller: bool,
}

const QUOTA_TYPES: [&str; 3] = ["users", "clients", "ips"];
const OTHER_TYPES: [&str; 6] = [
    "topics",
    "brokers",
    "broker-loggers",
    "client-metrics",
    "groups",
    "brokers-defaults",
];

/// Parses kafka-configs arguments. Errors are usage errors (exit 2) with kafka-configs' wording,
/// control characters shown escaped; `prog` is the invoked name for `--help` and the hints.
pub fn parse(args: &[String], prog: &str) -> anyhow::Result<Option<Invocation>> {
    parse_args(args, prog).map_err(|e| exit::usage(escape_controls(&exit::one_line(&e))))
}

fn parse_args(args: &[String], prog: &str) -> anyhow::Result<Option<Invocation>> {
    let u = |m: String| exit::usage(m);
    let mut connect = ConnectArgs::default();
    let (mut alter, mut describe, mut dry_run) = (false, false, false);
    let mut bootstrap_controller = false;
    let mut output = OutputFormat::Table;
    let mut entity_types: Vec<String> = Vec::new();
    // --entity-name / --entity-default in command-line order (None = default).
    let mut spec_names: Vec<Option<String>> = Vec::new();
    let (mut has_entity_name, mut has_entity_default) = (false, false);
    let (mut client, mut user, mut ip) = (None::<String>, None::<String>, None::<String>);
    let (mut client_defaults, mut user_defaults, mut ip_defaults) = (false, false, false);
    let mut add_config: Option<String> = None;
    let mut add_config_file: Option<String> = None;
    let mut delete_config: Vec<String> = Vec::new();
    let mut has_delete = false;

    let mut i = 0;
    while i < args.len() {
        let raw = &args[i];
        i += 1;
        let (name, inline) = match raw.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (raw.clone(), None),
        };
        let value = |i: &mut usize| -> anyhow::Result<String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            let v = args
                .get(*i)
                .cloned()
                .ok_or_else(|| u(format!("Option {name} requires an argument")))?;
            *i += 1;
            Ok(v)
        };
        match name.as_str() {
            "--help" | "-h" => {
                println!("{}", help(prog));
                return Ok(None);
            }
            "--version" => {
                println!("kquota {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "--bootstrap-server" | "--bootstrap-controller" => {
                if connect.bootstrap_server.is_some() {
                    return Err(u(
                        "Only one of --bootstrap-server or --bootstrap-controller can be specified"
                            .into(),
                    ));
                }
                bootstrap_controller = name == "--bootstrap-controller";
                connect.bootstrap_server = Some(value(&mut i)?)
            }
            "--command-config" => connect.command_config = Some(value(&mut i)?.into()),
            "--alter" => alter = true,
            "--describe" => describe = true,
            "--all" => {}
            "--dry-run" => dry_run = true,
            "--output" | "-o" => {
                output = match value(&mut i)?.as_str() {
                    "json" => OutputFormat::Json,
                    "table" | "text" => OutputFormat::Table,
                    o => return Err(u(format!("--output must be json or table, not '{o}'"))),
                }
            }
            "--entity-type" => entity_types.push(value(&mut i)?),
            "--entity-name" => {
                spec_names.push(Some(value(&mut i)?));
                has_entity_name = true;
            }
            "--entity-default" => {
                spec_names.push(None);
                has_entity_default = true;
            }
            "--add-config" => add_config = Some(value(&mut i)?),
            "--add-config-file" => add_config_file = Some(value(&mut i)?),
            "--delete-config" => {
                has_delete = true;
                delete_config.extend(value(&mut i)?.split(',').map(|s| s.trim().to_string()));
            }
            "--user" => user = Some(value(&mut i)?),
            "--client" => client = Some(value(&mut i)?),
            "--ip" => ip = Some(value(&mut i)?),
            "--user-defaults" => user_defaults = true,
            "--client-defaults" => client_defaults = true,
            "--ip-defaults" => ip_defaults = true,
            "--topic" | "--broker" | "--broker-logger" | "--group" | "--client-metrics"
            | "--broker-defaults" => {
                return Err(u(format!("{name}: kquota's kafka-configs mode manages client quotas only (users, clients, ips); use kafka-configs.sh for other entity types")));
            }
            other => {
                return Err(u(format!(
                    "{other} is not a recognized option (see '{prog} --help')"
                )))
            }
        }
    }

    // Entity types: --entity-type values, then shorthand flags in kafka-configs' fixed order.
    let shorthand_types: Vec<&str> = [
        ("clients", client.is_some()),
        ("users", user.is_some()),
        ("ips", ip.is_some()),
    ]
    .into_iter()
    .chain([
        ("clients", client_defaults),
        ("users", user_defaults),
        ("ips", ip_defaults),
    ])
    .filter(|(_, on)| *on)
    .map(|(t, _)| t)
    .collect();
    let uses_shorthands = !shorthand_types.is_empty();
    let mut types: Vec<String> = entity_types.clone();
    types.extend(shorthand_types.iter().map(|s| s.to_string()));
    let mut names: Vec<Option<String>> = spec_names.clone();
    names.extend(
        [client.clone(), user.clone(), ip.clone()]
            .into_iter()
            .flatten()
            .map(Some),
    );
    names.extend(
        [client_defaults, user_defaults, ip_defaults]
            .into_iter()
            .filter(|d| *d)
            .map(|_| None),
    );

    // checkArgs, in kafka-configs' order.
    if usize::from(alter) + usize::from(describe) != 1 {
        return Err(u(
            "Command must include exactly one action: --describe, --alter".into(),
        ));
    }
    if describe && (add_config.is_some() || add_config_file.is_some() || has_delete) {
        return Err(u(
            "Option \"describe\" can't be used with option \"add-config\" or \"delete-config\""
                .into(),
        ));
    }
    let mut seen = BTreeSet::new();
    let dups: Vec<&str> = types
        .iter()
        .filter(|t| !seen.insert(t.as_str()))
        .map(String::as_str)
        .collect();
    if !dups.is_empty() {
        return Err(u(format!(
            "Duplicate entity type(s) specified: {}",
            dups.join(",")
        )));
    }
    for t in &types {
        if OTHER_TYPES.contains(&t.as_str()) {
            return Err(u(format!("entity type {t}: kquota's kafka-configs mode manages client quotas only (users, clients, ips); use kafka-configs.sh for other entity types")));
        }
        if !QUOTA_TYPES.contains(&t.as_str()) {
            return Err(u(format!("Invalid entity type {t}, the entity type must be one of users, clients, ips with a --bootstrap-server or --bootstrap-controller argument")));
        }
    }
    if types.is_empty() {
        return Err(u("At least one entity type must be specified".into()));
    }
    if types.len() > 1
        && types.iter().map(String::as_str).collect::<BTreeSet<_>>()
            != BTreeSet::from(["clients", "users"])
    {
        return Err(u(
            "Only 'users' and 'clients' entity types may be specified together".into(),
        ));
    }
    if (has_entity_name || !entity_types.is_empty() || has_entity_default) && uses_shorthands {
        return Err(u("--entity-{type,name,default} should not be used in conjunction with specific entity flags".into()));
    }
    if names.len() > types.len() {
        return Err(u("More entity names specified than entity types".into()));
    }
    for (t, n) in types.iter().zip(&names) {
        if t == "ips" {
            if let Some(n) = n {
                let e = Entity::new().with_ip(EntityName::named(n.clone()));
                if kquota_admin::validate_entity(&e).is_err() {
                    return Err(u(format!("The entity name for {} must be a valid IP or resolvable host, but it is: {n}", types[0])));
                }
            }
        }
    }
    let to_type = |t: &str| match t {
        "users" => EntityType::User,
        "clients" => EntityType::ClientId,
        _ => EntityType::Ip,
    };

    let action = if describe {
        let components = types
            .iter()
            .enumerate()
            .map(|(i, t)| Component {
                entity_type: to_type(t),
                matching: match names.get(i) {
                    None => Match::Any,
                    Some(None) => Match::Default,
                    Some(Some(n)) if n.is_empty() => Match::Default,
                    Some(Some(n)) => Match::Exact(n.clone()),
                },
            })
            .collect();
        // ConfigCommand.describeClientQuotaAndUserScramCredentialConfigs: SCRAM lines only for
        // a users-only describe without a default entity, for the names given (or everyone).
        let scram_users = (types.iter().all(|t| t == "users")
            && names
                .iter()
                .all(|n| n.as_deref().is_some_and(|n| !n.is_empty())))
        .then(|| names.iter().flatten().cloned().collect());
        Action::Describe {
            filter: Filter {
                components,
                strict: true,
            },
            scram_users,
        }
    } else {
        if names.is_empty() {
            return Err(u("An entity-name or default entity must be specified with --alter of users, clients, brokers or ips".into()));
        }
        if add_config.is_some() && add_config_file.is_some() {
            return Err(u(
                "Only one of --add-config or --add-config-file must be specified".into(),
            ));
        }
        if add_config.is_none() && add_config_file.is_none() && !has_delete {
            return Err(u("At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter".into()));
        }
        if names.len() != types.len() {
            return Err(u(
                "An entity name must be specified for every entity type".into()
            ));
        }
        let mut entity = Entity::new();
        for (t, n) in types.iter().zip(&names) {
            // kafka-configs turns an empty --entity-name into the default as well.
            let name = match n {
                Some(s) if !s.is_empty() => EntityName::Named(s.clone()),
                _ => EntityName::Default,
            };
            entity.set(to_type(t), name);
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        if let Some(file) = &add_config_file {
            // Utils.loadProps, like --command-config: ISO-8859-1.
            let loaded = crate::properties::read_file(std::path::Path::new(file))
                .map_err(|e| u(format!("cannot read --add-config-file {file}: {e}")))?;
            if let Some(w) = &loaded.warning {
                eprintln!("warning: {w}");
            }
            for p in
                crate::properties::parse(&loaded.text).map_err(|e| u(format!("{file}: {e}")))?
            {
                pairs.push((p.key, p.value));
            }
        }
        if let Some(text) = &add_config {
            pairs.extend(split_add_config(text)?);
        }
        let ip_entity = types.iter().any(|t| t == "ips");
        let is_user_only = types.len() == 1 && types[0] == "users";
        let check_key = |k: &str, verb: &str| -> anyhow::Result<QuotaKey> {
            let key = QuotaKey::from_name(k);
            let ok = if ip_entity {
                key == QuotaKey::ConnectionCreationRate
            } else {
                key.kind().is_some() && key != QuotaKey::ConnectionCreationRate
            };
            if ok {
                return Ok(key);
            }
            if k.starts_with("SCRAM-SHA-") && is_user_only {
                return Err(u(format!(
                    "{k}: kquota configs changes client quotas only (producer_byte_rate, consumer_byte_rate, request_percentage, controller_mutation_rate for users); SCRAM credentials are {verb} with kafka-configs.sh (kquota configs --describe shows them)"
                )));
            }
            Err(u(if ip_entity {
                format!("Only connection quota configs can be {verb} for 'ips' using --bootstrap-server. Unexpected config names: {k}")
            } else if is_user_only {
                format!("Only quota and SCRAM credential configs can be {verb} for 'users' using --bootstrap-server. Unexpected config names: {k}")
            } else {
                format!("Only quota configs can be {verb} for 'clients' using --bootstrap-server. Unexpected config names: {k}")
            }))
        };
        let mut sets: Vec<(QuotaKey, f64)> = Vec::new();
        for (k, v) in &pairs {
            let key = check_key(k, "added")?;
            let number = java_number(v);
            if number.parse::<f64>().is_err() {
                return Err(u(format!(
                    "Cannot parse quota configuration value for {k}: {v}"
                )));
            }
            let value = parse_value(Some(&entity), k, number)?;
            sets.retain(|(existing, _)| existing != &key);
            sets.push((key, value));
        }
        let mut deletes = Vec::new();
        for k in delete_config.iter().filter(|k| !k.is_empty()) {
            deletes.push(check_key(k, "deleted")?);
        }
        Action::Alter {
            entity,
            sets,
            deletes,
            first_type: types[0].clone(),
            first_name: names[0].clone().unwrap_or_default(),
        }
    };
    Ok(Some(Invocation {
        connect,
        action,
        output,
        dry_run,
        bootstrap_controller,
    }))
}

/// Splits `k=v,k2=[a,b]` like kafka-configs: commas and `=` inside `[...]` do not split,
/// brackets are stripped from values, keys and values are trimmed, and empty pieces at the end
/// are dropped as Java's `String.split` drops them (`producer_byte_rate=1024,` is one pair); an
/// empty piece elsewhere, or one without exactly one `=`, is kafka-configs' "Invalid entity
/// config" error.
pub fn split_add_config(text: &str) -> anyhow::Result<Vec<(String, String)>> {
    /// Splits at `sep` outside brackets.
    fn split_outside(text: &str, sep: char) -> Vec<&str> {
        let mut parts = Vec::new();
        let (mut depth, mut start) = (0i32, 0);
        for (i, c) in text.char_indices() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                c if c == sep && depth <= 0 => {
                    parts.push(&text[start..i]);
                    start = i + c.len_utf8();
                }
                _ => {}
            }
        }
        parts.push(&text[start..]);
        parts
    }
    let mut parts = split_outside(text, ',');
    while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
        .into_iter()
        .map(|p| match split_outside(p, '=').as_slice() {
            [k, v] => Ok((k.trim().to_string(), v.replace(['[', ']'], "").trim().to_string())),
            _ => Err(exit::usage(
                "Invalid entity config: all configs to be added must be in the format \"key=val\" or  \"key=[val1,val2]\" to group values which contain commas.",
            )),
        })
        .collect()
}

/// A quota value as Java's `Double.parseDouble` reads it (which kafka-configs uses), for the
/// forms that mean the same number here: surrounding blanks and a `d`/`D`/`f`/`F` type suffix
/// (`1024d`) are dropped. Java's hexadecimal floats (`0x1p10`) are not read.
pub fn java_number(text: &str) -> &str {
    let t = text.trim_matches(|c: char| c <= ' ');
    match t.strip_suffix(['d', 'D', 'f', 'F']) {
        Some(n) if n.ends_with(|c: char| c.is_ascii_digit() || c == '.') => n,
        _ => t,
    }
}

/// The alteration an `--alter` invocation sends: sets first, then removals (one entry).
pub fn alteration(entity: &Entity, sets: &[(QuotaKey, f64)], deletes: &[QuotaKey]) -> Alteration {
    Alteration {
        entity: entity.clone(),
        ops: sets
            .iter()
            .map(|(k, v)| Op::Set(k.clone(), *v))
            .chain(deletes.iter().map(|k| Op::Remove(k.clone())))
            .collect(),
    }
}

/// kafka-configs' completion line.
pub fn completion_message(first_type: &str, first_name: &str) -> String {
    if first_name.is_empty() {
        format!("Completed updating default config for {first_type} in the cluster.")
    } else {
        let singular = first_type.strip_suffix('s').unwrap_or(first_type);
        format!(
            "Completed updating config for {singular} {}.",
            kquota_admin::model::escape_controls(first_name)
        )
    }
}

/// Runs the compatible mode.
pub async fn run(args: ConfigsArgs) -> anyhow::Result<()> {
    let prog = args.prog.as_deref().unwrap_or("kquota configs");
    let Some(inv) = parse(&args.args, prog)? else {
        return Ok(());
    };
    crate::cmd::quotas::run_configs(inv).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> anyhow::Result<Invocation> {
        let args: Vec<String> = s.split_whitespace().map(str::to_string).collect();
        parse(&args, "kquota configs").map(|o| o.unwrap())
    }

    fn err(s: &str) -> String {
        let e = p(s).unwrap_err();
        assert_eq!(exit::code_for(&e), exit::USAGE, "{e}");
        e.to_string()
    }

    #[test]
    fn describe_pairs_by_position() {
        let inv = p("--bootstrap-server b:9092 --describe --entity-type users --entity-type clients --entity-name alice --entity-default").unwrap();
        assert_eq!(
            inv.action,
            Action::Describe {
                filter: Filter {
                    components: vec![
                        Component {
                            entity_type: EntityType::User,
                            matching: Match::Exact("alice".into())
                        },
                        Component {
                            entity_type: EntityType::ClientId,
                            matching: Match::Default
                        },
                    ],
                    strict: true
                },
                scram_users: None
            }
        );
        let inv = p("--bootstrap-server b:9092 --describe --entity-type users").unwrap();
        assert_eq!(
            inv.action,
            Action::Describe {
                filter: Filter {
                    components: vec![Component {
                        entity_type: EntityType::User,
                        matching: Match::Any
                    }],
                    strict: true
                },
                scram_users: Some(vec![])
            }
        );
    }

    #[test]
    fn scram_lines_only_for_named_or_all_users() {
        let scram = |s: &str| match p(s).unwrap().action {
            Action::Describe { scram_users, .. } => scram_users,
            other => panic!("{other:?}"),
        };
        let b = "--bootstrap-server b:1 --describe";
        assert_eq!(
            scram(&format!("{b} --entity-type users --entity-name u")),
            Some(vec!["u".to_string()])
        );
        assert_eq!(scram(&format!("{b} --user u")), Some(vec!["u".into()]));
        assert_eq!(scram(&format!("{b} --entity-type users")), Some(vec![]));
        assert_eq!(
            scram(&format!("{b} --entity-type users --entity-default")),
            None
        );
        assert_eq!(scram(&format!("{b} --user-defaults")), None);
        assert_eq!(
            scram(&format!("{b} --entity-type users --entity-type clients")),
            None
        );
        assert_eq!(scram(&format!("{b} --entity-type clients")), None);
        assert_eq!(scram(&format!("{b} --entity-type ips")), None);
    }

    #[test]
    fn alter_with_shorthands_and_defaults() {
        let inv = p("--bootstrap-server=b:9092 --alter --user-defaults --client app --add-config producer_byte_rate=1024,consumer_byte_rate=2048 --delete-config request_percentage").unwrap();
        match inv.action {
            Action::Alter {
                entity,
                sets,
                deletes,
                first_type,
                first_name,
            } => {
                assert_eq!(
                    entity,
                    Entity::new()
                        .with_user(EntityName::Default)
                        .with_client_id(EntityName::named("app"))
                );
                assert_eq!(
                    sets,
                    vec![
                        (QuotaKey::ProducerByteRate, 1024.0),
                        (QuotaKey::ConsumerByteRate, 2048.0)
                    ]
                );
                assert_eq!(deletes, vec![QuotaKey::RequestPercentage]);
                // Shorthand order: client flags before default flags.
                assert_eq!(
                    (first_type.as_str(), first_name.as_str()),
                    ("clients", "app")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn literal_default_is_a_name() {
        let inv = p("--bootstrap-server b:1 --alter --entity-type users --entity-name <default> --add-config producer_byte_rate=1").unwrap();
        match inv.action {
            Action::Alter { entity, .. } => {
                assert_eq!(entity.user, Some(EntityName::named("<default>")))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn kafka_configs_errors() {
        assert_eq!(
            err("--bootstrap-server b:1 --entity-type users"),
            "Command must include exactly one action: --describe, --alter"
        );
        assert_eq!(
            err("--bootstrap-server b:1 --describe --entity-type users --entity-type users"),
            "Duplicate entity type(s) specified: users"
        );
        assert_eq!(
            err("--bootstrap-server b:1 --describe --entity-type ips --entity-type users"),
            "Only 'users' and 'clients' entity types may be specified together"
        );
        assert_eq!(
            err("--bootstrap-server b:1 --describe"),
            "At least one entity type must be specified"
        );
        assert!(
            err("--bootstrap-server b:1 --describe --entity-type topics")
                .contains("client quotas only")
        );
        assert_eq!(
            err("--bootstrap-server b:1 --alter --entity-type users --entity-type clients --entity-name a --add-config producer_byte_rate=1"),
            "An entity name must be specified for every entity type"
        );
        assert_eq!(
            err("--bootstrap-server b:1 --alter --entity-type users --entity-name a"),
            "At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter"
        );
        assert_eq!(
            err("--bootstrap-server b:1 --alter --entity-type clients --entity-name a --add-config producer_byte_rate=abc"),
            "Cannot parse quota configuration value for producer_byte_rate: abc"
        );
        assert!(err("--bootstrap-server b:1 --alter --entity-type clients --entity-name a --add-config foo=1").contains("Unexpected config names: foo"));
        assert!(err("--bootstrap-server b:1 --alter --entity-type ips --entity-name 1.2.3.4 --add-config producer_byte_rate=1").contains("Only connection quota configs"));
        assert!(err("--bootstrap-server b:1 --alter --entity-type ips --entity-name not_an_ip! --add-config connection_creation_rate=1").contains("valid IP"));
        assert_eq!(
            err("--bootstrap-server b:1 --alter --entity-type users --entity-name a --client b --add-config producer_byte_rate=1"),
            "--entity-{type,name,default} should not be used in conjunction with specific entity flags"
        );
        assert!(err(
            "--bootstrap-server b:1 --alter --entity-type clients --entity-name a --add-config k"
        )
        .starts_with("Invalid entity config"));
        assert!(
            err("--bootstrap-server b:1 --describe --entity-type clients --frobnicate")
                .contains("not a recognized option")
        );
    }

    #[test]
    fn add_config_brackets() {
        assert_eq!(
            split_add_config("a=1,b=[x,y],c = 3").unwrap(),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x,y".into()),
                ("c".into(), "3".into())
            ]
        );
    }

    #[test]
    fn completion_messages() {
        assert_eq!(
            completion_message("users", "alice"),
            "Completed updating config for user alice."
        );
        assert_eq!(
            completion_message("users", ""),
            "Completed updating default config for users in the cluster."
        );
        assert_eq!(
            completion_message("clients", "c"),
            "Completed updating config for client c."
        );
    }
}
