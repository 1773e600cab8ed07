//! `kquota produce`: the MSK sample ProducerApp, with Java-style throttle metrics.
//!
//! Sends `--num-messages` records (or for `--duration` seconds) of `--message-size` bytes at up
//! to `--rate` records/s, in `sync` mode (each send awaits its acknowledgement) or `async` mode
//! (bounded buffer, max-block, delivery timeout). Prints a live progress line on stderr, and
//! with `--print-producer-quota-metrics` the `produce-throttle-time-avg/max` metrics plus the
//! per-broker figures; `--json` prints JSON lines on stdout instead of text. With
//! `--cw-namespace` the same metrics go to CloudWatch at each interval and at the end
//! (see [`crate::cloudwatch`]).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use kquota_client::metrics::MetricsSnapshot;
use kquota_client::producer::{Acks, DeliveryFuture, Producer, ProducerConfig};
use kquota_client::{ClientError, ProducerRecord};
use kquota_net::Cluster;

use crate::cloudwatch::{self, CloudWatchArgs, Publisher};
use crate::connect::ConnectArgs;
use crate::exit;

/// `--producer-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProducerType {
    /// Each send waits for its acknowledgement.
    Sync,
    /// Sends go to a bounded buffer; acknowledgements arrive later.
    Async,
}

/// Flags of the MSK sample apps that select the identity (shared by produce and consume).
#[derive(Args, Debug, Clone, Default)]
pub struct AppIdentityArgs {
    /// IAM role to assume (MSK IAM); the quota principal is the assumed-role session ARN.
    #[arg(long, value_name = "ARN")]
    pub assume_role_arn: Option<String>,
    /// AWS region (MSK IAM signing, STS and the CloudWatch metrics).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Role session name: part of the principal the quota applies to.
    #[arg(long, value_name = "NAME")]
    pub role_session_name: Option<String>,
    /// client.id the app presents: the other half of the quota entity.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
}

impl AppIdentityArgs {
    /// The AWS region and profile for other AWS calls of the app (CloudWatch metrics).
    pub fn aws_settings(&self, connect: &ConnectArgs) -> cloudwatch::AwsSettings {
        cloudwatch::AwsSettings {
            region: self.region.clone().or_else(|| connect.aws_region.clone()),
            profile: connect.aws_profile.clone(),
        }
    }

    /// Connects with the common flags, the app's client id and the IAM identity flags.
    pub async fn connect(&self, connect: &ConnectArgs) -> anyhow::Result<Cluster> {
        let mut c = connect.clone();
        if let Some(arn) = &self.assume_role_arn {
            c.aws_role_arn = Some(arn.clone());
            c.aws_role_session_name = self.role_session_name.clone().or(c.aws_role_session_name);
            c.security_protocol = c
                .security_protocol
                .or(Some(crate::connect::SecurityProtocol::SaslSsl));
            c.sasl_mechanism = c
                .sasl_mechanism
                .or(Some(crate::connect::SaslMechanismArg::OAuthBearer));
        } else if self.role_session_name.is_some() {
            return Err(exit::usage("--role-session-name needs --assume-role-arn"));
        }
        if let Some(r) = &self.region {
            c.aws_region = Some(r.clone());
        }
        if let Some(id) = &self.client_id {
            c.connect_client_id = Some(id.clone());
        }
        let settings = c.settings()?;
        let cfg = crate::backend::client_config(&settings)?;
        Cluster::connect(cfg).await.map_err(|e| {
            exit::connection(format!(
                "cannot connect to {}: {e}",
                settings.bootstrap.join(",")
            ))
        })
    }
}

/// `kquota produce` flags.
#[derive(Args, Debug)]
pub struct ProduceArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub identity: AppIdentityArgs,
    #[command(flatten)]
    pub cloudwatch: CloudWatchArgs,
    /// Topic to produce to.
    #[arg(long, value_name = "TOPIC")]
    pub topic_name: String,
    /// Records to send (default: unlimited with --duration, else 1000).
    #[arg(long, value_name = "N")]
    pub num_messages: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<u64>,
    /// Records per second to aim for (0: as fast as possible).
    #[arg(long, default_value_t = 0.0, value_name = "RECORDS_PER_SEC")]
    pub rate: f64,
    /// Value size in bytes.
    #[arg(long, default_value_t = 100, value_name = "BYTES")]
    pub message_size: usize,
    /// sync: await each acknowledgement; async: bounded buffer.
    #[arg(long, value_enum, default_value_t = ProducerType::Sync)]
    pub producer_type: ProducerType,
    /// acks: 0, 1 or all.
    #[arg(long, default_value = "all", value_name = "ACKS")]
    pub acks: String,
    /// Compression: none, gzip, snappy, lz4, zstd (all pure Rust; zstd needs a Kafka 2.1+ broker).
    #[arg(long, default_value = "none", value_name = "CODEC")]
    pub compression: String,
    /// Async buffer size in bytes (buffer.memory).
    #[arg(long, default_value_t = 32 * 1024 * 1024, value_name = "BYTES")]
    pub buffer_memory: usize,
    /// How long an async send waits for buffer space (max.block.ms).
    #[arg(long, default_value_t = 60_000, value_name = "MS")]
    pub max_block_ms: u64,
    /// Time a record may take to be acknowledged (delivery.timeout.ms).
    #[arg(long, default_value_t = 120_000, value_name = "MS")]
    pub delivery_timeout_ms: u64,
    /// linger.ms (async mode).
    #[arg(long, default_value_t = 5, value_name = "MS")]
    pub linger_ms: u64,
    /// Print produce-throttle-time-avg/max and the per-broker figures periodically.
    #[arg(long)]
    pub print_producer_quota_metrics: bool,
    /// Seconds between metric prints and CloudWatch publishes.
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    pub metrics_interval: u64,
    /// JSON lines on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// No live progress line on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// Outcome counts of a produce run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ProduceSummary {
    /// Records handed to the producer.
    pub sent: u64,
    /// Records acknowledged.
    pub acked: u64,
    /// Records reported failed (buffer full, expired, broker error).
    pub failed: u64,
}

/// Runs `kquota produce`.
pub async fn run(args: ProduceArgs) -> anyhow::Result<()> {
    let acks: Acks = args.acks.parse().map_err(exit::usage)?;
    let compression = args.compression.parse().map_err(exit::usage)?;
    if args.rate < 0.0 || !args.rate.is_finite() {
        return Err(exit::usage("--rate must be a finite number >= 0"));
    }
    let publisher =
        Publisher::start(&args.cloudwatch, args.identity.aws_settings(&args.connect)).await?;
    let cluster = args.identity.connect(&args.connect).await?;
    let config = ProducerConfig {
        acks,
        compression,
        buffer_memory: args.buffer_memory,
        max_block: Duration::from_millis(args.max_block_ms),
        delivery_timeout: Duration::from_millis(args.delivery_timeout_ms),
        linger: if args.producer_type == ProducerType::Sync {
            Duration::ZERO
        } else {
            Duration::from_millis(args.linger_ms)
        },
        ..ProducerConfig::default()
    };
    let producer = Producer::new(cluster.clone(), config)
        .await
        .map_err(classify)?;
    let summary = produce_loop(&producer, &args, &publisher).await;
    let snap = producer.metrics().snapshot();
    if summary.is_ok() {
        cloudwatch::publish(&publisher, &snap);
    }
    producer.close().await;
    cluster.close().await;
    let report = cloudwatch::finish(publisher).await;
    let summary = summary?;
    print_final("produce", &snap, &summary, args.json);
    if summary.failed > 0 {
        let cw = report
            .into_result()
            .err()
            .map(|e| format!("; {e}"))
            .unwrap_or_default();
        return Err(exit::broker(format!(
            "{} of {} record(s) were not delivered (see the errors above){cw}",
            summary.failed, summary.sent
        )));
    }
    report.into_result()
}

/// Maps client errors to exit classes.
pub fn classify(e: ClientError) -> anyhow::Error {
    match &e {
        ClientError::Config(_)
        | ClientError::UnknownTopic(_)
        | ClientError::UnknownPartition { .. } => exit::usage(e),
        ClientError::Net { .. } => exit::connection(e),
        _ => exit::broker(e),
    }
}

async fn produce_loop(
    producer: &Producer,
    args: &ProduceArgs,
    publisher: &Option<Publisher>,
) -> anyhow::Result<ProduceSummary> {
    let limit = args.num_messages.unwrap_or(if args.duration.is_some() {
        u64::MAX
    } else {
        1000
    });
    let stop_at = args
        .duration
        .map(|d| Instant::now() + Duration::from_secs(d));
    let start = Instant::now();
    let mut s = ProduceSummary::default();
    let mut pending: VecDeque<DeliveryFuture> = VecDeque::new();
    let mut reported = 0u64;
    let mut next_print = Instant::now() + Duration::from_secs(args.metrics_interval.max(1));
    let mut next_progress = Instant::now();
    let metrics = producer.metrics();
    let mut report = |e: &ClientError, s: &mut ProduceSummary| {
        s.failed += 1;
        reported += 1;
        if reported <= 20 || args.json {
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"type": "error", "error": e.to_string()})
                );
            } else {
                eprintln!("\rerror: {e}");
            }
        } else if reported == 21 {
            eprintln!("\r(further errors are counted, not printed)");
        }
    };
    while s.sent < limit && stop_at.is_none_or(|t| Instant::now() < t) {
        if args.rate > 0.0 {
            let due = start + Duration::from_secs_f64(s.sent as f64 / args.rate);
            if due > Instant::now() {
                tokio::time::sleep_until(due.into()).await;
            }
        }
        let value = payload(s.sent, args.message_size);
        let record = ProducerRecord::new(args.topic_name.clone(), value);
        s.sent += 1;
        match args.producer_type {
            ProducerType::Sync => match producer.send_sync(record).await {
                Ok(_) => s.acked += 1,
                Err(e @ (ClientError::UnknownTopic(_) | ClientError::Config(_))) => {
                    return Err(classify(e))
                }
                Err(e) => report(&e, &mut s),
            },
            ProducerType::Async => match producer.send(record).await {
                Ok(f) => pending.push_back(f),
                Err(e @ (ClientError::UnknownTopic(_) | ClientError::Config(_))) => {
                    return Err(classify(e))
                }
                Err(e) => report(&e, &mut s),
            },
        }
        // Settle the acknowledgements that already arrived (in order, without waiting).
        while let Some(f) = pending.front_mut() {
            match futures_poll(f) {
                Some(Ok(_)) => s.acked += 1,
                Some(Err(e)) => report(&e, &mut s),
                None => break,
            }
            pending.pop_front();
        }
        let now = Instant::now();
        if !args.quiet && !args.json && now >= next_progress {
            next_progress = now + Duration::from_millis(500);
            progress("produce", start, &s, &metrics.snapshot());
        }
        if (args.print_producer_quota_metrics || publisher.is_some()) && now >= next_print {
            next_print = now + Duration::from_secs(args.metrics_interval.max(1));
            let snap = metrics.snapshot();
            if args.print_producer_quota_metrics {
                print_metrics("produce", start, &snap, &s, args.json);
            }
            cloudwatch::publish(publisher, &snap);
        }
    }
    for f in pending {
        match f.await {
            Ok(_) => s.acked += 1,
            Err(e) => report(&e, &mut s),
        }
    }
    if !args.quiet && !args.json {
        progress("produce", start, &s, &metrics.snapshot());
        eprintln!();
    }
    Ok(s)
}

/// Polls a delivery future once without blocking.
fn futures_poll(
    f: &mut DeliveryFuture,
) -> Option<Result<kquota_client::RecordMetadata, ClientError>> {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(f).poll(&mut cx) {
        Poll::Ready(r) => Some(r),
        Poll::Pending => None,
    }
}

fn payload(i: u64, size: usize) -> Vec<u8> {
    let mut v = format!("{i:012}-").into_bytes();
    v.resize(size, b'x');
    v
}

/// One JSON object with the Java metric names and the per-broker figures.
pub fn metrics_json(
    kind: &str,
    start: Instant,
    snap: &MetricsSnapshot,
    s: &ProduceSummary,
) -> serde_json::Value {
    let [(avg_name, avg), (max_name, max)] = snap.java_metrics();
    let num = |v: f64| {
        if v.is_finite() {
            serde_json::json!(v)
        } else {
            serde_json::Value::Null
        }
    };
    serde_json::json!({
        "type": "metrics",
        "app": kind,
        "elapsed_s": start.elapsed().as_secs_f64(),
        "records": s.sent,
        "acked": s.acked,
        "failed": s.failed,
        avg_name: num(avg),
        max_name: num(max),
        "throttle_wait_ms": snap.throttle_wait().as_millis() as u64,
        "brokers": snap.brokers.iter().map(|b| serde_json::json!({
            "broker": b.broker_id,
            "bytes": b.bytes,
            "bytes_per_sec": b.bytes_per_sec,
            "throttle_time_avg": num(b.throttle_time_avg),
            "throttle_time_max": num(b.throttle_time_max),
            "throttled_responses": b.throttled_responses,
            "throttle_wait_ms": b.throttle_wait.as_millis() as u64,
        })).collect::<Vec<_>>(),
    })
}

fn fmt_metric(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v:.1}")
    }
}

/// Prints the metrics (text or a JSON line).
pub fn print_metrics(
    kind: &str,
    start: Instant,
    snap: &MetricsSnapshot,
    s: &ProduceSummary,
    json: bool,
) {
    if json {
        println!("{}", metrics_json(kind, start, snap, s));
        return;
    }
    let [(avg_name, avg), (max_name, max)] = snap.java_metrics();
    println!(
        "\r{avg_name}: {}  {max_name}: {}",
        fmt_metric(avg),
        fmt_metric(max)
    );
    for b in &snap.brokers {
        println!(
            "  broker {}: {:.0} B/s, throttle avg {} ms max {} ms, waited {} ms on throttles",
            b.broker_id,
            b.bytes_per_sec,
            fmt_metric(b.throttle_time_avg),
            fmt_metric(b.throttle_time_max),
            b.throttle_wait.as_millis()
        );
    }
}

fn progress(kind: &str, start: Instant, s: &ProduceSummary, snap: &MetricsSnapshot) {
    use std::io::Write as _;
    let rate: f64 = snap.brokers.iter().map(|b| b.bytes_per_sec).sum();
    let mut err = std::io::stderr();
    let _ = write!(
        err,
        "\r{kind}: {:>6.1}s  records {}  ok {}  failed {}  {:.0} B/s  throttle max {} ms   ",
        start.elapsed().as_secs_f64(),
        s.sent,
        s.acked,
        s.failed,
        rate,
        fmt_metric(snap.throttle_time_max)
    );
    let _ = err.flush();
}

/// Final summary (text or JSON line).
pub fn print_final(kind: &str, snap: &MetricsSnapshot, s: &ProduceSummary, json: bool) {
    if json {
        let mut v = metrics_json(kind, Instant::now(), snap, s);
        v["type"] = serde_json::json!("summary");
        println!("{v}");
    } else {
        println!(
            "{kind}: {} records, {} ok, {} failed",
            s.sent, s.acked, s.failed
        );
        print_metrics(kind, Instant::now(), snap, s, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_has_exact_size_and_index() {
        assert_eq!(payload(7, 100).len(), 100);
        assert!(payload(7, 100).starts_with(b"000000000007-"));
        assert_eq!(payload(7, 5).len(), 5);
    }

    #[test]
    fn metrics_json_uses_java_names() {
        let m = kquota_client::metrics::ClientMetrics::new(
            kquota_client::metrics::ClientKind::Producer,
        );
        m.record_response(1, 250, 1000, 1);
        let v = metrics_json(
            "produce",
            Instant::now(),
            &m.snapshot(),
            &ProduceSummary {
                sent: 1,
                acked: 1,
                failed: 0,
            },
        );
        assert_eq!(v["produce-throttle-time-max"], 250.0);
        assert_eq!(v["brokers"][0]["broker"], 1);
    }
}
