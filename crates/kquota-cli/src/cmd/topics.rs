//! `kquota topics create | delete | list`: enough topic administration to start the load apps
//! (`kquota produce` never creates a topic by itself: a mistyped name must be an error).
//!
//! Names, partition counts, replication factors and config names are checked locally (exit 2,
//! nothing sent); the broker judges the rest (a replication factor above the broker count, an
//! unknown config or a bad value: exit 3). A create returns once every partition has a leader,
//! so `kquota produce` can follow at once.

use std::time::Duration;

use clap::{Args, Subcommand};
use kquota_admin::ops::{self, CreatedTopic, ItemResult, TopicListing, TopicSpec};
use kquota_admin::BrokerError;
use serde_json::json;

use crate::backend;
use crate::connect::ConnectArgs;
use crate::exit;
use crate::interrupt;
use crate::output::{self, OutputFormat};

/// Kafka's TOPIC_ALREADY_EXISTS.
const TOPIC_ALREADY_EXISTS: i16 = 36;
/// Kafka's UNKNOWN_TOPIC_OR_PARTITION.
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
/// How long a create waits for the new partitions' leaders.
const READY_WITHIN: Duration = Duration::from_secs(15);

/// `kquota topics`.
#[derive(Args, Debug)]
pub struct TopicsArgs {
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t, global = true)]
    pub output: OutputFormat,

    #[command(subcommand)]
    pub command: TopicsCommand,
}

/// The topic subcommands.
#[derive(Subcommand, Debug)]
pub enum TopicsCommand {
    /// Create topics (waits until every partition has a leader).
    Create(CreateArgs),
    /// Delete topics.
    Delete(DeleteArgs),
    /// List topics with their partition count and replication factor.
    List(ListArgs),
}

/// `create`. `--config` is a topic config here, as in kafka-topics.sh, so the connection
/// flags' `--config` alias of `--command-config` is taken off.
#[derive(Args, Debug)]
#[command(mut_arg("command_config", |a| a.visible_alias(None)))]
pub struct CreateArgs {
    /// Topic names (ASCII letters, digits, '.', '_', '-'; at most 249 characters).
    #[arg(required = true, value_name = "TOPIC")]
    pub names: Vec<String>,
    /// Partitions per topic (default: the broker's num.partitions).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub partitions: Option<i32>,
    /// Replicas per partition (default: the broker's default.replication.factor).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub replication_factor: Option<i16>,
    /// Topic config KEY=VALUE (retention.ms=3600000, ...); repeat for more. Values may contain
    /// commas.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub configs: Vec<String>,
    /// A topic that already exists is not an error (its settings are left as they are).
    #[arg(long)]
    pub if_not_exists: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `delete`.
#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// Topic names.
    #[arg(required = true, value_name = "TOPIC")]
    pub names: Vec<String>,
    /// A topic that does not exist is not an error.
    #[arg(long)]
    pub if_exists: bool,
    /// Also delete Kafka's internal topics (`__consumer_offsets`, `__transaction_state`, ...):
    /// refused without this flag, since deleting one loses every group's offsets or the
    /// transactions' state.
    #[arg(long)]
    pub allow_internal: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// `list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Leave out internal topics (`__consumer_offsets`, ...).
    #[arg(long)]
    pub exclude_internal: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Runs `kquota topics ...`.
pub async fn run(args: TopicsArgs) -> anyhow::Result<()> {
    let out = args.output;
    match args.command {
        TopicsCommand::Create(a) => create(a, out).await,
        TopicsCommand::Delete(a) => delete(a, out).await,
        TopicsCommand::List(a) => list(a, out).await,
    }
}

/// `--config KEY=VALUE` flags as pairs.
fn parse_configs(items: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|kv| {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| exit::usage(format!("--config '{kv}': expected KEY=VALUE")))?;
            Ok((k.trim().to_string(), v.to_string()))
        })
        .collect()
}

/// Kafka's internal topics: the `__` prefix is reserved for them (`__consumer_offsets`,
/// `__transaction_state`, `__share_group_state`, `__cluster_metadata`, ...).
fn is_internal(name: &str) -> bool {
    name.starts_with("__")
}

/// Builds and checks the specs (nothing sent when one is wrong).
fn specs(a: &CreateArgs) -> anyhow::Result<Vec<TopicSpec>> {
    // -1 means "the broker's default" on the wire; on the command line that is leaving the flag
    // out, so an explicit -1 is refused like 0 and -5 are (by TopicSpec::validate).
    if let Some(p @ -1) = a.partitions {
        return Err(exit::usage(format!(
            "--partitions must be at least 1, not {p} (leave it out for the broker's num.partitions)"
        )));
    }
    if let Some(rf @ -1) = a.replication_factor {
        return Err(exit::usage(format!(
            "--replication-factor must be at least 1, not {rf} (leave it out for the broker's \
             default.replication.factor)"
        )));
    }
    let configs = parse_configs(&a.configs)?;
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for name in &a.names {
        if !seen.insert(name) {
            return Err(exit::usage(format!("topic '{name}' is given twice")));
        }
        let spec = TopicSpec {
            partitions: a.partitions.unwrap_or(-1),
            replication_factor: a.replication_factor.unwrap_or(-1),
            configs: configs.clone(),
            ..TopicSpec::new(name.clone(), -1)
        };
        spec.validate().map_err(exit::usage)?;
        out.push(spec);
    }
    Ok(out)
}

/// The exit class of a per-topic refusal: authorization 4, anything else 3.
/// Ok when no topic failed; else one line for the first failure (with `hint.1` when its error
/// code is `hint.0`), classified by [`failure`].
fn outcome(
    verb: &str,
    total: usize,
    failed: &[(&str, &BrokerError)],
    hint: (i16, &str),
) -> anyhow::Result<()> {
    let Some((_, first)) = failed.first() else {
        return Ok(());
    };
    let hint = if first.code == hint.0 { hint.1 } else { "" };
    let errors: Vec<&BrokerError> = failed.iter().map(|(_, e)| *e).collect();
    Err(failure(failure_line(verb, total, failed, hint), &errors))
}

fn failure(message: String, errors: &[&BrokerError]) -> anyhow::Error {
    if errors.iter().any(|e| e.is_authorization()) {
        exit::connection(message)
    } else {
        exit::broker(message)
    }
}

/// One line for the failed topics: the only one, or a count and the first.
fn failure_line(verb: &str, total: usize, failed: &[(&str, &BrokerError)], hint: &str) -> String {
    let (name, e) = failed[0];
    if total == 1 {
        format!("cannot {verb} topic '{name}': {e}{hint}")
    } else {
        format!(
            "{} of {} failed; first: cannot {verb} topic '{name}': {e}{hint}",
            failed.len(),
            crate::output::plural(total as u64, "topic")
        )
    }
}

/// The line of an interruption before the request was sent.
const NOTHING_CHANGED: &str = "interrupted: nothing was changed";

/// What to check after an outcome left unknown.
const CHECK: &str = "kquota topics list";

/// Connects under `claim`: a signal first means nothing was sent.
async fn connect_claimed(
    claim: &interrupt::Claim,
    connect: &crate::connect::ConnectArgs,
) -> anyhow::Result<kquota_net::Cluster> {
    let settings = connect.settings_with_warnings()?;
    let cluster = claim
        .unless_interrupted(backend::connect_cluster(&settings), NOTHING_CHANGED)
        .await?;
    if claim.received() {
        cluster.close().await;
        return Err(exit::interrupted(NOTHING_CHANGED));
    }
    claim.on_second(|| {
        format!("interrupted again: stopped without the broker's answer; the request was sent and its outcome is unknown; check with '{CHECK}'")
    });
    Ok(cluster)
}

async fn create(a: CreateArgs, out: OutputFormat) -> anyhow::Result<()> {
    let specs = specs(&a)?;
    // Ctrl-C: before the request, nothing is created; with the request out, its answer is
    // awaited and reported; while waiting for the leaders, the wait stops (see `interrupt`).
    let claim = interrupt::claim(|| NOTHING_CHANGED.to_string());
    let cluster = connect_claimed(&claim, &a.connect).await?;
    let results = claim
        .answer_of(ops::create_topics(&cluster, &specs))
        .await
        .map_err(backend::classify);
    let results = match results {
        Ok(r) => r,
        Err(e) => {
            cluster.close().await;
            return Err(e);
        }
    };
    let created: Vec<String> = results
        .iter()
        .filter(|r| r.error.is_none())
        .map(|r| r.name.clone())
        .collect();
    let waiting = if created.is_empty() || claim.received() {
        created.clone()
    } else {
        tokio::select! {
            biased;
            _ = claim.first() => created.clone(),
            r = ops::wait_topics_ready(&cluster, &created, READY_WITHIN) => {
                r.unwrap_or_else(|_| created.clone())
            }
        }
    };
    cluster.close().await;
    let interrupted = claim.received();
    if !waiting.is_empty() && !interrupted {
        eprintln!(
            "warning: created, but not every partition of {} has a leader after {} s",
            waiting.join(", "),
            READY_WITHIN.as_secs()
        );
    }
    let exists = |r: &CreatedTopic| {
        a.if_not_exists
            && r.error
                .as_ref()
                .is_some_and(|e| e.code == TOPIC_ALREADY_EXISTS)
    };
    let failed: Vec<(&str, &BrokerError)> = results
        .iter()
        .filter(|r| !exists(r))
        .filter_map(|r| r.error.as_ref().map(|e| (r.name.as_str(), e)))
        .collect();
    match out {
        OutputFormat::Json => {
            let list: Vec<_> = results
                .iter()
                .map(|r| {
                    let error = r.error.as_ref().filter(|_| !exists(r));
                    json!({
                        "topic": r.name,
                        "ok": error.is_none(),
                        "created": r.error.is_none(),
                        "partitions": r.partitions,
                        "replication_factor": r.replication_factor,
                        "error": error.map(|e| e.code_name.clone()),
                        "message": error.and_then(|e| e.message.clone()),
                    })
                })
                .collect();
            println!("{}", json!({ "results": list }));
        }
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = results
                .iter()
                .map(|r| {
                    let result = match (&r.error, r.partitions, r.replication_factor) {
                        (None, Some(p), Some(rf)) => {
                            format!(
                                "created ({}, replication factor {rf})",
                                crate::output::plural(p.max(0) as u64, "partition")
                            )
                        }
                        (None, _, _) => "created".into(),
                        (Some(_), _, _) if exists(r) => "already exists (left as it is)".into(),
                        (Some(e), _, _) => e.to_string(),
                    };
                    vec![r.name.clone(), result]
                })
                .collect();
            print!("{}", output::table(&["TOPIC", "RESULT"], &rows));
        }
    }
    if interrupted {
        let mut line = format!(
            "interrupted: {} of {} topics created",
            created.len(),
            results.len()
        );
        if !failed.is_empty() {
            line += &format!(", {} failed", failed.len());
        }
        if !waiting.is_empty() {
            line += "; not confirmed that every partition has a leader yet";
        }
        return Err(exit::interrupted(format!("{line}; check with '{CHECK}'")));
    }
    outcome(
        "create",
        results.len(),
        &failed,
        (
            TOPIC_ALREADY_EXISTS,
            " (add --if-not-exists to accept an existing topic)",
        ),
    )
}

async fn delete(a: DeleteArgs, out: OutputFormat) -> anyhow::Result<()> {
    for name in &a.names {
        ops::validate_topic_name(name).map_err(exit::usage)?;
        if is_internal(name) && !a.allow_internal {
            return Err(exit::usage(format!(
                "'{name}' has the '__' prefix of Kafka's internal topics; deleting one loses \
                 what the cluster keeps there (group offsets, transaction state): add \
                 --allow-internal if you really mean it"
            )));
        }
    }
    let claim = interrupt::claim(|| NOTHING_CHANGED.to_string());
    let cluster = connect_claimed(&claim, &a.connect).await?;
    let results = claim
        .answer_of(ops::delete_topics(&cluster, &a.names))
        .await;
    cluster.close().await;
    let results: Vec<ItemResult> = results.map_err(backend::classify)?;
    let missing = |r: &ItemResult| {
        a.if_exists
            && r.error
                .as_ref()
                .is_some_and(|e| e.code == UNKNOWN_TOPIC_OR_PARTITION)
    };
    let failed: Vec<(&str, &BrokerError)> = results
        .iter()
        .filter(|r| !missing(r))
        .filter_map(|r| r.error.as_ref().map(|e| (r.name.as_str(), e)))
        .collect();
    match out {
        OutputFormat::Json => {
            let list: Vec<_> = results
                .iter()
                .map(|r| {
                    let error = r.error.as_ref().filter(|_| !missing(r));
                    json!({
                        "topic": r.name,
                        "ok": error.is_none(),
                        "deleted": r.error.is_none(),
                        "error": error.map(|e| e.code_name.clone()),
                        "message": error.and_then(|e| e.message.clone()),
                    })
                })
                .collect();
            println!("{}", json!({ "results": list }));
        }
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = results
                .iter()
                .map(|r| {
                    let result = match &r.error {
                        None => "deleted".to_string(),
                        Some(_) if missing(r) => "does not exist (nothing to do)".into(),
                        Some(e) => e.to_string(),
                    };
                    vec![r.name.clone(), result]
                })
                .collect();
            print!("{}", output::table(&["TOPIC", "RESULT"], &rows));
        }
    }
    if claim.received() {
        let deleted = results.iter().filter(|r| r.error.is_none()).count();
        let mut line = format!("interrupted: {deleted} of {} topics deleted", results.len());
        if !failed.is_empty() {
            line += &format!(", {} failed", failed.len());
        }
        return Err(exit::interrupted(format!("{line}; check with '{CHECK}'")));
    }
    outcome(
        "delete",
        results.len(),
        &failed,
        (
            UNKNOWN_TOPIC_OR_PARTITION,
            " (the topic does not exist; add --if-exists to accept that)",
        ),
    )
}

async fn list(a: ListArgs, out: OutputFormat) -> anyhow::Result<()> {
    let settings = a.connect.settings_with_warnings()?;
    let cluster = backend::connect_cluster(&settings).await?;
    let topics = ops::describe_topics(&cluster).await;
    cluster.close().await;
    let topics: Vec<TopicListing> = topics
        .map_err(backend::classify)?
        .into_iter()
        .filter(|t| !(a.exclude_internal && t.internal))
        .collect();
    match out {
        OutputFormat::Json => {
            let list: Vec<_> = topics
                .iter()
                .map(|t| {
                    json!({
                        "name": t.name,
                        "partitions": t.partitions,
                        "replication_factor": t.replication_factor,
                        "internal": t.internal,
                    })
                })
                .collect();
            println!("{}", json!({ "topics": list }));
        }
        OutputFormat::Table if topics.is_empty() => println!("No topics found."),
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = topics
                .iter()
                .map(|t| {
                    vec![
                        t.name.clone(),
                        t.partitions.to_string(),
                        t.replication_factor.to_string(),
                        if t.internal { "yes" } else { "" }.to_string(),
                    ]
                })
                .collect();
            print!(
                "{}",
                output::table(
                    &["TOPIC", "PARTITIONS", "REPLICATION-FACTOR", "INTERNAL"],
                    &rows
                )
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_keep_commas_in_values() {
        let c = parse_configs(&["cleanup.policy=compact,delete".into(), "a= b".into()]).unwrap();
        assert_eq!(
            c,
            vec![
                ("cleanup.policy".to_string(), "compact,delete".to_string()),
                ("a".to_string(), " b".to_string())
            ]
        );
        let e = parse_configs(&["retention.ms".into()]).unwrap_err();
        assert_eq!(e.to_string(), "--config 'retention.ms': expected KEY=VALUE");
        assert_eq!(exit::code_for(&e), exit::USAGE);
    }
}
