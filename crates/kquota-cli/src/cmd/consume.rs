//! `kquota consume`: the MSK sample ConsumerApp, with Java-style fetch throttle metrics.
//!
//! Joins `--consumer-group` (classic protocol) subscribed to `--topic-name`, or with
//! `--partition` reads those partitions directly (assign mode). Prints a live progress line on
//! stderr when it is a terminal and, with `--print-consumer-quota-metrics`,
//! `fetch-throttle-time-avg/max` and the per-broker figures; `--json` prints JSON lines on
//! stdout. With `--cw-namespace` the same metrics go to CloudWatch at each interval and at the
//! end (see [`crate::cloudwatch`]). A topic that does not exist, a group the principal may not
//! use, or a lost connection ends the run with one error line (after the summary of what was
//! read, if anything was).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::Args;
use kquota_client::consumer::{Consumer, ConsumerConfig, OffsetReset};
use kquota_client::TopicPartition;

use super::produce::{
    classify, classify_with, print_final, print_metrics, AppIdentityArgs, Printer, ProduceSummary,
};
use crate::cloudwatch::{self, CloudWatchArgs, Publisher};
use crate::connect::ConnectArgs;
use crate::exit;

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
    /// Consumer group (classic protocol). Without it, every partition is read in assign mode.
    #[arg(long, value_name = "GROUP")]
    pub consumer_group: Option<String>,
    /// Read only these partitions (assign mode; offsets still committed with a group).
    #[arg(long = "partition", value_name = "N")]
    pub partitions: Vec<i32>,
    /// Stop after this many records.
    #[arg(long, value_name = "N")]
    pub num_messages: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<u64>,
    /// Start from the earliest (default) or latest offset when nothing is committed.
    #[arg(long, default_value = "earliest", value_parser = ["earliest", "latest"])]
    pub offset_reset: String,
    /// Largest fetch per partition in bytes (max.partition.fetch.bytes); shrinks while throttled.
    #[arg(long, default_value_t = 1024 * 1024, value_name = "BYTES")]
    pub max_partition_fetch_bytes: i32,
    /// Print fetch-throttle-time-avg/max and the per-broker figures periodically.
    #[arg(long)]
    pub print_consumer_quota_metrics: bool,
    /// Seconds between metric prints and CloudWatch publishes.
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    pub metrics_interval: u64,
    /// Print each record's value (text mode) or a JSON line per record (--json).
    #[arg(long)]
    pub print_records: bool,
    /// JSON lines on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// No live progress line on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `kquota consume`.
pub async fn run(args: ConsumeArgs) -> anyhow::Result<()> {
    if args.num_messages.is_none() && args.duration.is_none() {
        return Err(exit::usage(
            "give --num-messages or --duration (a consumer otherwise runs forever)",
        ));
    }
    if args.max_partition_fetch_bytes <= 0 {
        return Err(exit::usage("--max-partition-fetch-bytes must be > 0"));
    }
    // Checked before any AWS call or connection.
    args.identity.settings(&args.connect)?;
    let printer = Printer::new(args.json, args.quiet);
    let publisher =
        Publisher::start(&args.cloudwatch, args.identity.aws_settings(&args.connect)).await?;
    let cluster = args.identity.connect(&args.connect).await?;
    let config = ConsumerConfig {
        group_id: args.consumer_group.clone(),
        auto_offset_reset: if args.offset_reset == "latest" {
            OffsetReset::Latest
        } else {
            OffsetReset::Earliest
        },
        max_partition_fetch_bytes: args.max_partition_fetch_bytes,
        session_timeout: Duration::from_secs(10),
        heartbeat_interval: Duration::from_secs(1),
        rebalance_timeout: Duration::from_secs(20),
        ..ConsumerConfig::default()
    };
    let mut consumer = Consumer::new(cluster.clone(), config);
    let setup = if !args.partitions.is_empty() {
        consumer
            .assign(
                args.partitions
                    .iter()
                    .map(|p| TopicPartition::new(args.topic_name.clone(), *p))
                    .collect(),
            )
            .await
    } else if args.consumer_group.is_some() {
        consumer.subscribe(vec![args.topic_name.clone()]).await
    } else {
        consumer
            .assign_topics(std::slice::from_ref(&args.topic_name))
            .await
    };
    if let Err(e) = setup {
        consumer.close().await;
        cluster.close().await;
        return Err(classify(e));
    }
    let metrics = consumer.metrics();
    let start = Instant::now();
    let stop_at = args.duration.map(|d| start + Duration::from_secs(d));
    let limit = args.num_messages.unwrap_or(u64::MAX);
    let mut s = ProduceSummary::default();
    let mut next_print = start + Duration::from_secs(args.metrics_interval.max(1));
    let mut next_progress = start;
    let mut result: Result<(), kquota_client::ClientError> = Ok(());
    while s.acked < limit && stop_at.is_none_or(|t| Instant::now() < t) {
        match consumer.poll(Duration::from_millis(250)).await {
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
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
        let now = Instant::now();
        if printer.progress && now >= next_progress {
            next_progress = now + Duration::from_millis(500);
            progress(start, s.acked, &metrics.snapshot());
        }
        if (args.print_consumer_quota_metrics || publisher.is_some()) && now >= next_print {
            next_print = now + Duration::from_secs(args.metrics_interval.max(1));
            let snap = metrics.snapshot();
            if args.print_consumer_quota_metrics {
                print_metrics("consume", start.elapsed(), &snap, &s, printer);
            }
            cloudwatch::publish(&publisher, &snap);
        }
    }
    s.elapsed = start.elapsed();
    if printer.progress {
        progress(start, s.acked, &metrics.snapshot());
        printer.end_progress();
    }
    let snap = metrics.snapshot();
    cloudwatch::publish(&publisher, &snap);
    consumer.close().await;
    cluster.close().await;
    let report = cloudwatch::finish(publisher).await;
    if result.is_ok() || s.acked > 0 {
        print_final("consume", &snap, &s, printer);
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
