//! `kquota consume`: the MSK sample ConsumerApp, with Java-style fetch throttle metrics.
//!
//! Joins `--consumer-group` (classic protocol) subscribed to `--topic-name`, or with
//! `--partition` reads those partitions directly (assign mode). Prints a live progress line on
//! stderr when it is a terminal and, with `--print-consumer-quota-metrics`,
//! `fetch-throttle-time-avg/max` and the per-broker figures; `--json` prints JSON lines on
//! stdout. With `--cw-namespace` the same metrics go to CloudWatch at each interval and at the
//! end (see [`crate::cloudwatch`]). A topic that does not exist, a group the principal may not
//! use, or a lost connection ends the run with one error line (after the summary of what was
//! read, if anything was). Ctrl-C or SIGTERM stops fetching, commits the offsets of exactly the
//! records read (in a group), leaves the group, prints the summary and exits 130.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::Args;
use kquota_client::consumer::{Consumer, ConsumerConfig, OffsetReset};
use kquota_client::metrics::ClientKind;
use kquota_client::TopicPartition;

use super::produce::{
    classify, classify_with, print_final, print_metrics, AppIdentityArgs, Printer, ProduceSummary,
    ThrottleNotices, Unsettled,
};
use crate::app_config::{self, App, FileValues};
use crate::cloudwatch::{self, CloudWatchArgs, Publisher};
use crate::connect::{ConnectArgs, Settings};
use crate::exit;
use crate::interrupt;

/// The line of an interruption before the first record.
const NOTHING_READ: &str = "interrupted: no record was read";

/// `kquota consume` flags.
#[derive(Args, Debug)]
pub struct ConsumeArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub identity: AppIdentityArgs,
    #[command(flatten)]
    pub cloudwatch: CloudWatchArgs,
    /// Topic to read.
    #[arg(long, value_name = "TOPIC")]
    pub topic_name: String,
    /// Consumer group (classic protocol; default: group.id in --command-config). Without one,
    /// every partition is read in assign mode.
    #[arg(long, value_name = "GROUP")]
    pub consumer_group: Option<String>,
    /// Read only these partitions (assign mode; offsets still committed with a group).
    #[arg(long = "partition", value_name = "N")]
    pub partitions: Vec<i32>,
    /// Stop after this many records. Give --num-messages, --duration or both (then the run
    /// stops at whichever limit comes first).
    #[arg(long, value_name = "N")]
    pub num_messages: Option<u64>,
    /// Stop after this many seconds (see --num-messages).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<u64>,
    /// Start from the earliest or latest offset when nothing is committed (default:
    /// auto.offset.reset in --command-config, else earliest).
    #[arg(long, value_parser = ["earliest", "latest"])]
    pub offset_reset: Option<String>,
    /// Largest fetch per partition in bytes (max.partition.fetch.bytes; default 1048576);
    /// shrinks while throttled.
    #[arg(long, value_name = "BYTES")]
    pub max_partition_fetch_bytes: Option<i32>,
    /// Print fetch-throttle-time-avg/max and the per-broker figures periodically.
    #[arg(long)]
    pub print_consumer_quota_metrics: bool,
    /// Seconds between metric prints and CloudWatch publishes.
    #[arg(long, default_value_t = 5, value_name = "SECONDS", value_parser = crate::cmd::whole_seconds)]
    pub metrics_interval: u64,
    /// Print each record's value (text mode) or a JSON line per record (--json).
    #[arg(long)]
    pub print_records: bool,
    /// JSON lines on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// No live progress line and no throttle notices on stderr (errors still print).
    #[arg(long)]
    pub quiet: bool,
}

/// `auto.offset.reset`: earliest or latest (Java's `none` is not supported).
fn offset_reset(v: &str) -> Result<OffsetReset, String> {
    match v {
        "earliest" => Ok(OffsetReset::Earliest),
        "latest" => Ok(OffsetReset::Latest),
        _ => Err(format!("'{v}' is not earliest or latest")),
    }
}

/// The consumer settings: each flag, else its key in --command-config, else kquota's default
/// (shorter group timeouts than Java's, so a load run joins and leaves quickly). Checked before
/// any AWS call or connection; a bad value from the file names the file, line and key.
fn consumer_config(args: &ConsumeArgs, settings: &Settings) -> anyhow::Result<ConsumerConfig> {
    let mut file = FileValues::new(settings);
    let d = ConsumerConfig::default();
    let flag_reset = args.offset_reset.as_deref().map(offset_reset).transpose();
    let config = ConsumerConfig {
        group_id: file.get(args.consumer_group.clone(), "group.id", |v| {
            if v.is_empty() {
                Err("the group id is empty".to_string())
            } else {
                Ok(v.to_string())
            }
        })?,
        auto_offset_reset: file
            .get(
                flag_reset.map_err(exit::usage)?,
                "auto.offset.reset",
                offset_reset,
            )?
            .unwrap_or(d.auto_offset_reset),
        fetch_max_bytes: file
            .get(None, "fetch.max.bytes", app_config::whole)?
            .unwrap_or(d.fetch_max_bytes),
        max_partition_fetch_bytes: file
            .get(
                args.max_partition_fetch_bytes,
                "max.partition.fetch.bytes",
                app_config::whole,
            )?
            .unwrap_or(d.max_partition_fetch_bytes),
        fetch_min_bytes: file
            .get(None, "fetch.min.bytes", app_config::whole)?
            .unwrap_or(d.fetch_min_bytes),
        fetch_max_wait: file
            .get(None, "fetch.max.wait.ms", app_config::millis)?
            .unwrap_or(d.fetch_max_wait),
        session_timeout: file
            .get(None, "session.timeout.ms", app_config::millis)?
            .unwrap_or(Duration::from_secs(10)),
        heartbeat_interval: file
            .get(None, "heartbeat.interval.ms", app_config::millis)?
            .unwrap_or(Duration::from_secs(1)),
        rebalance_timeout: file
            .get(None, "max.poll.interval.ms", app_config::millis)?
            .unwrap_or(Duration::from_secs(20)),
        auto_commit: file
            .get(None, "enable.auto.commit", app_config::boolean)?
            .unwrap_or(d.auto_commit),
        ..d
    };
    if let Err(e) = config.check() {
        return Err(file
            .blame(&e)
            .unwrap_or_else(|| exit::usage(format!("invalid configuration: {e}"))));
    }
    Ok(config)
}

/// Runs `kquota consume`.
pub async fn run(args: ConsumeArgs) -> anyhow::Result<()> {
    if args.num_messages.is_none() && args.duration.is_none() {
        return Err(exit::usage(
            "give --num-messages and/or --duration (a consumer otherwise runs forever)",
        ));
    }
    // Checked before any AWS call or connection.
    kquota_admin::ops::validate_topic_name(&args.topic_name).map_err(exit::usage)?;
    let settings = args.identity.settings(&args.connect, App::Consumer)?;
    let config = consumer_config(&args, &settings)?;
    let printer = Printer::new(args.json, args.quiet);
    // Ctrl-C / SIGTERM: fetching stops, the positions of what was read are committed (in a
    // group), the group is left and the summary printed (exit 130); a second one stops at once.
    let claim = interrupt::claim(|| NOTHING_READ.to_string());
    let publisher = claim
        .unless_interrupted(
            Publisher::start(&args.cloudwatch, args.identity.aws_settings(&args.connect)),
            NOTHING_READ,
        )
        .await?;
    let cluster = claim
        .unless_interrupted(
            args.identity.connect(&args.connect, App::Consumer),
            NOTHING_READ,
        )
        .await?;
    let group = config.group_id.clone();
    let in_group = group.is_some();
    let commits = in_group && config.auto_commit;
    let mut consumer = Consumer::new(cluster.clone(), config);
    let read = Unsettled::default();
    {
        let read = read.clone();
        let group = group.clone();
        claim.on_second(move || match (&group, commits) {
            (Some(g), true) => format!(
                "interrupted again: stopped without committing the offsets of the {} record(s) read or leaving group '{g}'",
                read.get()
            ),
            (Some(g), false) => format!(
                "interrupted again: stopped after {} record(s) read without leaving group '{g}'",
                read.get()
            ),
            (None, _) => format!("interrupted again: stopped after {} record(s) read", read.get()),
        });
    }
    let setup = async {
        if !args.partitions.is_empty() {
            consumer
                .assign(
                    args.partitions
                        .iter()
                        .map(|p| TopicPartition::new(args.topic_name.clone(), *p))
                        .collect(),
                )
                .await
        } else if in_group {
            consumer.subscribe(vec![args.topic_name.clone()]).await
        } else {
            consumer
                .assign_topics(std::slice::from_ref(&args.topic_name))
                .await
        }
    };
    let setup = tokio::select! {
        biased;
        _ = claim.first() => None,
        r = setup => Some(r),
    };
    match setup {
        Some(Ok(())) => {}
        Some(Err(e)) => {
            consumer.close().await;
            cluster.close().await;
            return Err(classify(e));
        }
        None => {
            consumer.close().await;
            cluster.close().await;
            return Err(exit::interrupted(NOTHING_READ));
        }
    }
    let metrics = consumer.metrics();
    let mut notices = ThrottleNotices::new(ClientKind::Consumer, printer, args.quiet);
    let start = Instant::now();
    let stop_at = args.duration.map(|d| start + Duration::from_secs(d));
    let limit = args.num_messages.unwrap_or(u64::MAX);
    let mut s = ProduceSummary::default();
    let mut next_print = start + Duration::from_secs(args.metrics_interval);
    let mut next_progress = start;
    let mut result: Result<(), kquota_client::ClientError> = Ok(());
    while s.acked < limit && stop_at.is_none_or(|t| Instant::now() < t) && !claim.received() {
        // A poll stopped half-way hands out nothing: positions move only with the records it
        // returns, so what was printed is exactly what gets committed.
        let polled = tokio::select! {
            biased;
            r = consumer.poll(Duration::from_millis(250)) => r,
            _ = claim.first() => break,
        };
        match polled {
            Ok(mut records) => {
                // Stop at exactly --num-messages: hand the rest back (seek to the first record
                // not taken, per partition) so the final commit does not skip them.
                let room = usize::try_from(limit - s.acked).unwrap_or(usize::MAX);
                if records.len() > room {
                    let mut rewind: BTreeMap<TopicPartition, i64> = BTreeMap::new();
                    for r in records.drain(room..) {
                        let at = rewind
                            .entry(TopicPartition::new(r.topic, r.partition))
                            .or_insert(r.offset);
                        *at = (*at).min(r.offset);
                    }
                    for (tp, offset) in &rewind {
                        consumer.seek(tp, *offset);
                    }
                }
                for r in &records {
                    if args.print_records {
                        let value = r
                            .value
                            .as_deref()
                            .map(String::from_utf8_lossy)
                            .unwrap_or_default();
                        if args.json {
                            println!(
                                "{}",
                                serde_json::json!({"type": "record", "partition": r.partition, "offset": r.offset, "value": value})
                            );
                        } else {
                            println!(
                                "{}{}-{}@{}: {}",
                                printer.out_prefix(),
                                r.topic,
                                r.partition,
                                r.offset,
                                value
                            );
                        }
                    }
                }
                s.acked += records.len() as u64;
                s.sent = s.acked;
                read.set(s.acked);
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
        notices.check(&metrics);
        let now = Instant::now();
        if printer.progress && now >= next_progress {
            next_progress = now + Duration::from_millis(500);
            progress(start, s.acked, &metrics.snapshot());
        }
        if (args.print_consumer_quota_metrics || publisher.is_some()) && now >= next_print {
            next_print = now + Duration::from_secs(args.metrics_interval);
            let snap = metrics.snapshot();
            if args.print_consumer_quota_metrics {
                print_metrics("consume", start.elapsed(), &snap, &s, printer);
            }
            cloudwatch::publish(&publisher, &snap);
        }
    }
    s.interrupted = claim.received();
    notices.finish(&metrics);
    s.elapsed = start.elapsed();
    if printer.progress {
        progress(start, s.acked, &metrics.snapshot());
        printer.end_progress();
    }
    let snap = metrics.snapshot();
    cloudwatch::publish(&publisher, &snap);
    let committed = consumer.close_committing().await;
    cluster.close().await;
    let report = cloudwatch::finish(publisher).await;
    if result.is_ok() || s.acked > 0 || s.interrupted {
        print_final("consume", &snap, &s, printer);
    }
    if s.interrupted {
        let offsets = match (&group, committed) {
            (Some(g), Ok(true)) => format!("; offsets committed and group '{g}' left"),
            (Some(g), Ok(false)) if commits => {
                format!("; nothing to commit; group '{g}' left")
            }
            (Some(g), Ok(false)) => {
                format!("; offsets not committed (enable.auto.commit=false); group '{g}' left")
            }
            (Some(g), Err(e)) => format!(
                "; committing the offsets failed ({}); group '{g}' left",
                exit::one_line(&classify(e))
            ),
            (None, _) => String::new(),
        };
        let failed = match result {
            Err(e) => format!(
                "; the run had failed before: {}",
                exit::one_line(&classify(e))
            ),
            Ok(()) => String::new(),
        };
        let cw = report
            .into_result()
            .err()
            .map(|e| format!("; {}", exit::one_line(&e)))
            .unwrap_or_default();
        return Err(exit::interrupted(format!(
            "interrupted: stopped after {} record(s) read{offsets}{failed}{cw}",
            s.acked
        )));
    }
    if let (Some(g), Err(e)) = (&group, committed) {
        if result.is_ok() {
            // The records were read but their offsets are not stored (typically: the broker
            // went away): the group's next run reads them again. Not a success.
            return Err(classify_with(
                e,
                &format!(
                    " (committing the offsets of group '{g}' after {} record(s) read; its next run reads them again)",
                    s.acked
                ),
            ));
        }
        tracing::debug!(error = %e, "final commit failed");
    }
    if let Err(e) = result {
        let read = if s.acked > 0 {
            format!(" (after {} record(s) read)", s.acked)
        } else {
            String::new()
        };
        return Err(classify_with(e, &read));
    }
    report.into_result()
}

fn progress(start: Instant, records: u64, snap: &kquota_client::metrics::MetricsSnapshot) {
    use std::io::Write as _;
    let rate: f64 = snap.brokers.iter().map(|b| b.bytes_per_sec).sum();
    let max = snap.throttle_time_max;
    let mut err = std::io::stderr();
    let _ = write!(
        err,
        "\rconsume: {:>6.1}s  records {records}  {rate:.0} B/s  fetch throttle max {} ms   ",
        start.elapsed().as_secs_f64(),
        if max.is_nan() {
            "NaN".to_string()
        } else {
            format!("{max:.1}")
        }
    );
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Cmd {
        #[command(flatten)]
        args: ConsumeArgs,
    }

    fn config_of(flags: &[&str], properties: &str) -> Result<ConsumerConfig, String> {
        use clap::Parser as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("consumer.properties");
        std::fs::write(&file, format!("bootstrap.servers=b:9092\n{properties}")).unwrap();
        let path = file.display().to_string();
        let mut argv = vec!["consume", "--topic-name", "t", "--command-config", &path];
        argv.extend(flags);
        let args = Cmd::try_parse_from(argv).unwrap().args;
        let settings = args
            .identity
            .settings(&args.connect, App::Consumer)
            .map_err(|e| e.to_string())?;
        consumer_config(&args, &settings).map_err(|e| e.to_string().replace(&path, "FILE"))
    }

    #[test]
    fn consumer_keys_come_from_the_command_config_and_flags_win() {
        let text = "group.id=ConsumerApp-1-group\nauto.offset.reset=latest\nfetch.max.bytes=1000000\nmax.partition.fetch.bytes=65536\nfetch.min.bytes=10\nfetch.max.wait.ms=100\nsession.timeout.ms=30000\nheartbeat.interval.ms=3000\nmax.poll.interval.ms=60000\nenable.auto.commit=false\n";
        let c = config_of(&[], text).unwrap();
        assert_eq!(c.group_id.as_deref(), Some("ConsumerApp-1-group"));
        assert_eq!(c.auto_offset_reset, OffsetReset::Latest);
        assert_eq!(c.fetch_max_bytes, 1_000_000);
        assert_eq!(c.max_partition_fetch_bytes, 65536);
        assert_eq!(c.fetch_min_bytes, 10);
        assert_eq!(c.fetch_max_wait, Duration::from_millis(100));
        assert_eq!(c.session_timeout, Duration::from_secs(30));
        assert_eq!(c.heartbeat_interval, Duration::from_secs(3));
        assert_eq!(c.rebalance_timeout, Duration::from_secs(60));
        assert!(!c.auto_commit);
        let c = config_of(
            &[
                "--consumer-group",
                "g2",
                "--offset-reset",
                "earliest",
                "--max-partition-fetch-bytes",
                "2048",
            ],
            text,
        )
        .unwrap();
        assert_eq!(c.group_id.as_deref(), Some("g2"));
        assert_eq!(c.auto_offset_reset, OffsetReset::Earliest);
        assert_eq!(c.max_partition_fetch_bytes, 2048);
        let c = config_of(&[], "").unwrap();
        assert_eq!(c.group_id, None);
        assert_eq!(c.session_timeout, Duration::from_secs(10));
    }

    #[test]
    fn bad_consumer_values_name_the_file_line_and_key() {
        for (text, want) in [
            (
                "auto.offset.reset=none\n",
                "FILE:2: auto.offset.reset: 'none' is not earliest or latest",
            ),
            ("group.id=\n", "FILE:2: group.id: the group id is empty"),
            (
                "fetch.max.bytes=0\n",
                "FILE:2: fetch.max.bytes: fetch.max.bytes must be > 0",
            ),
            (
                "session.timeout.ms=soon\n",
                "FILE:2: session.timeout.ms: 'soon' is not a whole number of milliseconds",
            ),
            (
                "heartbeat.interval.ms=20000\n",
                "FILE:2: heartbeat.interval.ms: heartbeat.interval.ms (20000 ms) must be lower than session.timeout.ms (10000 ms)",
            ),
            (
                "enable.auto.commit=1\n",
                "FILE:2: enable.auto.commit: '1' is not true or false",
            ),
        ] {
            assert_eq!(config_of(&[], text).unwrap_err(), want, "{text:?}");
        }
        assert_eq!(
            config_of(&["--max-partition-fetch-bytes", "0"], "").unwrap_err(),
            "invalid configuration: max.partition.fetch.bytes must be > 0"
        );
    }
}
