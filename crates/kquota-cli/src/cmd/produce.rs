//! `kquota produce`: the MSK sample ProducerApp, with Java-style throttle metrics.
//!
//! Sends `--num-messages` records (or for `--duration` seconds) of `--message-size` bytes at up
//! to `--rate` records/s, in `sync` mode (each send awaits its acknowledgement) or `async` mode
//! (bounded buffer, max-block, delivery timeout). Prints a live progress line on stderr when it
//! is a terminal, and with `--print-producer-quota-metrics` the `produce-throttle-time-avg/max`
//! metrics plus the per-broker figures; `--json` prints JSON lines on stdout instead of text.
//! With `--cw-namespace` the same metrics go to CloudWatch at each interval and at the end
//! (see [`crate::cloudwatch`]).
//!
//! Every record handed to the producer ends acknowledged or reported failed, and the summary
//! accounts for all of them (`acked + failed == records`). An error that every later record
//! would hit as well (unknown topic, record too large, an ACL refusal, the cluster unreachable)
//! stops the run: nothing more is sent, the records already accepted are settled (delivered or
//! reported), the summary is printed, and the command ends with that error on one line. Ctrl-C
//! or SIGTERM ends the run the same way (no new record, those taken settled, the summary
//! printed, exit 130); a second one ends it at once, counting the records left unsettled.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use kquota_client::compression::CompressionType;
use kquota_client::metrics::{ClientKind, ClientMetrics, MetricsSnapshot};
use kquota_client::producer::{Acks, DeliveryFuture, Producer, ProducerConfig, TrySendError};
use kquota_client::{ClientError, ProducerRecord};

use crate::app_config::{self, App, FileValues};
use crate::cloudwatch::{self, CloudWatchArgs, Publisher};
use crate::connect::{ConnectArgs, Settings};
use crate::exit;
use crate::interrupt::{self, Claim};

/// `--producer-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProducerType {
    /// Each send waits for its acknowledgement.
    Sync,
    /// Sends go to a bounded buffer; acknowledgements arrive later.
    Async,
}

pub use crate::connect::AppIdentityArgs;

impl AppIdentityArgs {
    /// The AWS region and profile for other AWS calls of the app (CloudWatch metrics).
    pub fn aws_settings(&self, connect: &ConnectArgs) -> cloudwatch::AwsSettings {
        cloudwatch::AwsSettings {
            region: connect.aws_region.clone(),
            profile: connect.aws_profile.clone(),
        }
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
    /// Records to send (default: unlimited with --duration, else 1000). With --duration too,
    /// the run stops at whichever limit comes first.
    #[arg(long, value_name = "N")]
    pub num_messages: Option<u64>,
    /// Stop after this many seconds (with --rate R: exactly R × SECONDS records are sent, if
    /// the cluster keeps up and --num-messages does not stop the run first).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<u64>,
    /// Records per second to aim for (0: as fast as possible).
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "RECORDS_PER_SEC",
        allow_negative_numbers = true
    )]
    pub rate: f64,
    /// Value size in bytes.
    #[arg(long, default_value_t = 100, value_name = "BYTES")]
    pub message_size: usize,
    /// sync: await each acknowledgement; async: bounded buffer.
    #[arg(long, value_enum, default_value_t = ProducerType::Sync)]
    pub producer_type: ProducerType,
    /// acks: 0, 1 or all (default: acks in --command-config, else all).
    #[arg(long, value_name = "ACKS")]
    pub acks: Option<String>,
    /// enable.idempotence: true or false. Default: enable.idempotence in --command-config, else
    /// on exactly with acks=all, as in the Java client. Turn it off for a principal without the
    /// IDEMPOTENT_WRITE permission.
    #[arg(long, value_name = "BOOL")]
    pub enable_idempotence: Option<bool>,
    /// Compression: none, gzip, snappy, lz4, zstd (all pure Rust; zstd needs a Kafka 2.1+
    /// broker). Default: compression.type in --command-config, else none.
    #[arg(long, value_name = "CODEC")]
    pub compression: Option<String>,
    /// Async buffer size in bytes (buffer.memory; default 33554432).
    #[arg(long, value_name = "BYTES")]
    pub buffer_memory: Option<usize>,
    /// How long an async send waits for buffer space (max.block.ms; default 60000).
    #[arg(long, value_name = "MS")]
    pub max_block_ms: Option<u64>,
    /// Time a record may take to be acknowledged (delivery.timeout.ms; default 120000).
    #[arg(long, value_name = "MS")]
    pub delivery_timeout_ms: Option<u64>,
    /// linger.ms (async mode; default 5).
    #[arg(long, value_name = "MS")]
    pub linger_ms: Option<u64>,
    /// Print produce-throttle-time-avg/max and the per-broker figures periodically.
    #[arg(long)]
    pub print_producer_quota_metrics: bool,
    /// Seconds between metric prints and CloudWatch publishes.
    #[arg(long, default_value_t = 5, value_name = "SECONDS", value_parser = crate::cmd::whole_seconds)]
    pub metrics_interval: u64,
    /// JSON lines on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// No live progress line and no throttle notices on stderr (errors still print).
    #[arg(long)]
    pub quiet: bool,
}

/// Outcome counts of a produce run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ProduceSummary {
    /// Records handed to the producer (and accepted by it).
    pub sent: u64,
    /// Records acknowledged.
    pub acked: u64,
    /// Records reported failed (buffer full, expired, broker error).
    pub failed: u64,
    /// From the first send until the last record was settled.
    pub elapsed: Duration,
    /// The run was stopped by Ctrl-C or SIGTERM.
    pub interrupted: bool,
}

/// The count a second Ctrl-C reports: records taken but not settled yet (produce), or read
/// but not committed (consume).
#[derive(Clone, Default)]
pub struct Unsettled(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl Unsettled {
    /// Sets the count.
    pub fn set(&self, n: u64) {
        self.0.store(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// The count.
    pub fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn track(&self, s: &ProduceSummary) {
        self.set(s.sent - s.acked - s.failed);
    }
}

/// How an app prints: JSON lines or text on stdout, and whether the live progress line is on
/// (only on a terminal: a redirected stderr gets the error lines and nothing else).
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    /// JSON lines on stdout.
    pub json: bool,
    /// The progress line is drawn on stderr.
    pub progress: bool,
    /// stdout is the same kind of terminal, so lines there must clear the progress line first.
    stdout_tty: bool,
}

impl Printer {
    /// From `--json` and `--quiet`.
    pub fn new(json: bool, quiet: bool) -> Printer {
        Printer {
            json,
            progress: !json && !quiet && std::io::stderr().is_terminal(),
            stdout_tty: std::io::stdout().is_terminal(),
        }
    }

    /// What starts a line on stderr: clears the progress line when there is one.
    pub fn err_prefix(&self) -> &'static str {
        if self.progress {
            "\r\x1b[2K"
        } else {
            ""
        }
    }

    /// What starts a line on stdout.
    pub fn out_prefix(&self) -> &'static str {
        if self.progress && self.stdout_tty {
            "\r\x1b[2K"
        } else {
            ""
        }
    }

    /// Ends the progress line (after the last update).
    pub fn end_progress(&self) {
        if self.progress {
            eprintln!();
        }
    }
}

/// How often a throttle notice may repeat.
pub const THROTTLE_NOTICE_EVERY: Duration = Duration::from_secs(10);

/// Tells the user when a broker throttles the app, which the throttle metrics only show when
/// printed: a notice on stderr (`--quiet` silences it) or a `{"type":"throttle"}` event in the
/// JSON lines, at the first throttled response and then at most every
/// [`THROTTLE_NOTICE_EVERY`], with the responses throttled since the one before.
pub struct ThrottleNotices {
    kind: ClientKind,
    printer: Printer,
    quiet: bool,
    /// Throttled responses per broker already told about.
    told: BTreeMap<i32, u64>,
    next_check: Instant,
    next_notice: Instant,
}

impl ThrottleNotices {
    /// Notices for a producer or a consumer.
    pub fn new(kind: ClientKind, printer: Printer, quiet: bool) -> Self {
        let now = Instant::now();
        ThrottleNotices {
            kind,
            printer,
            quiet,
            told: BTreeMap::new(),
            next_check: now,
            next_notice: now,
        }
    }

    /// The quota keys that throttle this kind of request.
    fn quotas(&self) -> [&'static str; 2] {
        match self.kind {
            ClientKind::Consumer => ["consumer_byte_rate", "request_percentage"],
            _ => ["producer_byte_rate", "request_percentage"],
        }
    }

    /// Looks at the metrics (at most every 200 ms) and tells about new throttles when a notice
    /// is due.
    pub fn check(&mut self, metrics: &ClientMetrics) {
        self.check_at(metrics, Instant::now());
    }

    /// [`Self::check`] with the caller's clock reading (a produce loop reads it once a record).
    pub fn check_at(&mut self, metrics: &ClientMetrics, now: Instant) {
        if now < self.next_check || now < self.next_notice {
            return;
        }
        self.next_check = now + Duration::from_millis(200);
        self.tell(metrics, now);
    }

    /// At the end of a run: tells about throttles not told yet, whether a notice is due or not
    /// (a run shorter than the notice interval still says it was throttled).
    pub fn finish(&mut self, metrics: &ClientMetrics) {
        self.tell(metrics, Instant::now());
    }

    fn tell(&mut self, metrics: &ClientMetrics, now: Instant) {
        let snap = metrics.snapshot();
        let new: Vec<(i32, u64, u32)> = snap
            .brokers
            .iter()
            .filter_map(|b| {
                let before = self.told.get(&b.broker_id).copied().unwrap_or(0);
                (b.throttled_responses > before).then_some((
                    b.broker_id,
                    b.throttled_responses - before,
                    b.last_throttle_time_ms,
                ))
            })
            .collect();
        if new.is_empty() {
            return;
        }
        let first = self.told.is_empty();
        for b in &snap.brokers {
            self.told.insert(b.broker_id, b.throttled_responses);
        }
        self.next_notice = now + THROTTLE_NOTICE_EVERY;
        let [key, other] = self.quotas();
        if self.printer.json {
            for (broker, responses, ms) in new {
                println!(
                    "{}",
                    serde_json::json!({
                        "type": "throttle",
                        "broker": broker,
                        "throttle_time_ms": ms,
                        "throttled_responses": responses,
                        "quotas": [key, other],
                    })
                );
            }
            return;
        }
        if self.quiet {
            return;
        }
        let by: Vec<String> = new
            .iter()
            .map(|(broker, _, ms)| format!("broker {broker} for {ms} ms"))
            .collect();
        let count: u64 = new.iter().map(|(_, n, _)| n).sum();
        let since = if first {
            "so far"
        } else {
            "since the last notice"
        };
        eprintln!(
            "{}notice: throttled by {} ({key} or {other} quota?); {count} throttled response(s) {since}, told at most every {} s",
            self.printer.err_prefix(),
            by.join(", "),
            THROTTLE_NOTICE_EVERY.as_secs()
        );
    }
}

/// Prints per-record failures: every one as a JSON line with `--json`; in text at most 20
/// lines, one per failed batch however the partitions' records interleave: an expired batch as
/// the Java client logs it ("Expiring N record(s) for T-P: ..."), a batch the broker refused
/// (e.g. InvalidRecord) as "N record(s) not delivered: produce to T-P on broker B: ...", and a
/// repeat of the line before for a one-record batch (sync mode) or a single record not printed
/// again.
struct Reporter {
    printer: Printer,
    printed: u64,
    last: Option<String>,
    /// Failed batches already printed: their error and how many of their records are still to
    /// come. A partition's batches fail in order and each of its records gets its batch's
    /// error, so the count tells where one batch ends and an identical-looking next one starts.
    batches: HashMap<String, usize>,
}

impl Reporter {
    fn new(printer: Printer) -> Reporter {
        Reporter {
            printer,
            printed: 0,
            last: None,
            batches: HashMap::new(),
        }
    }

    fn report(&mut self, e: &ClientError) {
        if self.printer.json {
            println!(
                "{}",
                serde_json::json!({"type": "error", "error": e.to_string()})
            );
            return;
        }
        if let Some(line) = self.line(e) {
            eprintln!("{}{line}", self.printer.err_prefix());
        }
    }

    /// The text line for one failed record, if it gets one.
    fn line(&mut self, e: &ClientError) -> Option<String> {
        let msg = e.to_string();
        let text = match e.batch_records() {
            Some(n) => {
                match self.batches.get_mut(&msg) {
                    Some(left) if *left > 0 => {
                        *left -= 1;
                        return None;
                    }
                    _ => {
                        self.batches.insert(msg.clone(), n.saturating_sub(1));
                    }
                }
                if n == 1 && self.last.as_deref() == Some(msg.as_str()) {
                    return None;
                }
                match e {
                    ClientError::Broker { .. } if n > 1 => {
                        format!("error: {n} record(s) not delivered: {msg}")
                    }
                    _ => format!("error: {msg}"),
                }
            }
            None if self.last.as_deref() == Some(msg.as_str()) => return None,
            None => format!("error: {msg}"),
        };
        self.printed += 1;
        self.last = Some(msg);
        match self.printed {
            ..=20 => Some(text),
            21 => Some("(further errors are counted, not printed)".into()),
            _ => None,
        }
    }
}

/// A library parse result with its message alone (for `FILE:LINE: key: message`).
pub fn parsed<T>(r: Result<T, ClientError>) -> Result<T, String> {
    r.map_err(|e| match e {
        ClientError::Config(m) => m,
        other => other.to_string(),
    })
}

/// The producer settings: each flag, else its key in --command-config, else kquota's default
/// (Java's, but sync mode never lingers). Checked before any AWS call or connection; a bad value
/// from the file is an error naming the file, line and key.
fn producer_config(args: &ProduceArgs, settings: &Settings) -> anyhow::Result<ProducerConfig> {
    let mut file = FileValues::new(settings);
    let d = ProducerConfig::default();
    let flag_acks = args
        .acks
        .as_deref()
        .map(str::parse::<Acks>)
        .transpose()
        .map_err(exit::usage)?;
    let flag_compression = args
        .compression
        .as_deref()
        .map(str::parse::<CompressionType>)
        .transpose()
        .map_err(exit::usage)?;
    let ms = |flag: Option<u64>| flag.map(Duration::from_millis);
    let config = ProducerConfig {
        acks: file
            .get(flag_acks, "acks", |v| parsed(v.parse()))?
            .unwrap_or(d.acks),
        idempotence: file.get(
            args.enable_idempotence,
            "enable.idempotence",
            app_config::boolean,
        )?,
        compression: file
            .get(flag_compression, "compression.type", |v| parsed(v.parse()))?
            .unwrap_or(d.compression),
        batch_size: file
            .get(None, "batch.size", app_config::whole)?
            .unwrap_or(d.batch_size),
        buffer_memory: file
            .get(args.buffer_memory, "buffer.memory", app_config::whole)?
            .unwrap_or(d.buffer_memory),
        max_block: file
            .get(ms(args.max_block_ms), "max.block.ms", app_config::millis)?
            .unwrap_or(d.max_block),
        delivery_timeout: file
            .get(
                ms(args.delivery_timeout_ms),
                "delivery.timeout.ms",
                app_config::millis,
            )?
            .unwrap_or(d.delivery_timeout),
        linger: {
            let linger = file
                .get(ms(args.linger_ms), "linger.ms", app_config::millis)?
                .unwrap_or(d.linger);
            if args.producer_type == ProducerType::Sync {
                Duration::ZERO
            } else {
                linger
            }
        },
        max_request_size: file
            .get(None, "max.request.size", app_config::whole)?
            .unwrap_or(d.max_request_size),
        request_timeout: settings
            .request_timeout_ms
            .map_or(d.request_timeout, Duration::from_millis),
        ..d
    };
    if let Err(e) = config.check() {
        return Err(file
            .blame(&e)
            .unwrap_or_else(|| classify(ClientError::from(e))));
    }
    if args.message_size > config.max_request_size {
        return Err(exit::usage(format!(
            "--message-size {} is larger than the producer's max.request.size of {} bytes (and the broker's default message.max.bytes of 1048588)",
            args.message_size, config.max_request_size
        )));
    }
    Ok(config)
}

/// Runs `kquota produce`.
pub async fn run(args: ProduceArgs) -> anyhow::Result<()> {
    if args.rate < 0.0 || !args.rate.is_finite() {
        return Err(exit::usage("--rate must be a finite number >= 0"));
    }
    // Checked before any AWS call or connection.
    kquota_admin::ops::validate_topic_name(&args.topic_name).map_err(exit::usage)?;
    let settings = args.identity.settings(&args.connect, App::Producer)?;
    let config = producer_config(&args, &settings)?;
    let printer = Printer::new(args.json, args.quiet);
    // Ctrl-C / SIGTERM: no more records are taken, those taken are settled and the summary is
    // printed (exit 130); a second one stops at once, saying how many were left unsettled.
    let claim = interrupt::claim(|| NOTHING_SENT.to_string());
    let publisher = claim
        .unless_interrupted(
            Publisher::start(&args.cloudwatch, args.identity.aws_settings(&args.connect)),
            NOTHING_SENT,
        )
        .await?;
    let cluster = claim
        .unless_interrupted(
            args.identity.connect(&args.connect, App::Producer),
            NOTHING_SENT,
        )
        .await?;
    let producer = match claim
        .unless_interrupted(
            async {
                Producer::new(cluster.clone(), config.clone())
                    .await
                    .map_err(classify)
            },
            NOTHING_SENT,
        )
        .await
    {
        Ok(p) => p,
        Err(e) => {
            cluster.close().await;
            return Err(e);
        }
    };
    let unsettled_count = Unsettled::default();
    {
        let count = unsettled_count.clone();
        claim.on_second(move || {
            format!(
                "interrupted again: stopped with {} record(s) unsettled (neither acknowledged nor reported failed; they may or may not have been written)",
                count.get()
            )
        });
    }
    let outcome = produce_loop(
        &producer,
        &args,
        &config,
        &publisher,
        printer,
        &claim,
        &unsettled_count,
    )
    .await;
    let summary = outcome.summary;
    let snap = producer.metrics().snapshot();
    cloudwatch::publish(&publisher, &snap);
    // Every record is settled by now; closing only waits for what the producer still holds
    // when it cannot reach the cluster.
    let _ = tokio::time::timeout(SETTLE_GRACE, producer.close()).await;
    cluster.close().await;
    let report = cloudwatch::finish(publisher).await;
    if summary.sent > 0 || outcome.fatal.is_none() {
        print_final("produce", &snap, &summary, printer);
    }
    let cw = || {
        report
            .into_result()
            .err()
            .map(|e| format!("; {}", exit::one_line(&e)))
            .unwrap_or_default()
    };
    if summary.interrupted {
        let fatal = outcome
            .fatal
            .map(|e| {
                format!(
                    "; the run had failed before: {}",
                    exit::one_line(&classify(e))
                )
            })
            .unwrap_or_default();
        let errors = if summary.failed > 0 && !printer.json {
            " (see the errors above)"
        } else {
            ""
        };
        return Err(exit::interrupted(format!(
            "interrupted: stopped after {} record(s): {} acknowledged, {} failed{errors}{fatal}{}",
            summary.sent,
            summary.acked,
            summary.failed,
            cw()
        )));
    }
    if let Some(e) = outcome.fatal {
        let counts = if summary.sent > 0 {
            format!(
                " (stopped after {} record(s): {} acknowledged, {} failed)",
                summary.sent, summary.acked, summary.failed
            )
        } else {
            String::new()
        };
        return Err(classify_with(e, &format!("{counts}{}", cw())));
    }
    if summary.failed > 0 {
        return Err(exit::broker(format!(
            "{} of {} record(s) were not delivered (see the errors above){}",
            summary.failed,
            summary.sent,
            cw()
        )));
    }
    report.into_result()
}

/// Kafka error codes that are an authorization refusal (exit 4), with the fix.
fn authorization_hint(code: i16) -> Option<&'static str> {
    Some(match code {
        29 => "the principal needs WRITE (produce) or READ (consume) and DESCRIBE on the topic",
        30 => "the principal may not use this consumer group: it needs READ on the group",
        31 => "the principal needs the cluster permission for this request, e.g. IDEMPOTENT_WRITE or WRITE on a topic for the idempotent producer (or produce with --enable-idempotence false)",
        53 => "the principal needs WRITE on the transactional id",
        _ => return None,
    })
}

/// Maps client errors to exit classes: bad input (unknown topic, partition, compression, a
/// record larger than allowed) 2, broker refusals 3, connection and authorization 4.
pub fn classify(e: ClientError) -> anyhow::Error {
    classify_with(e, "")
}

/// [`classify`] with text appended to the message.
pub fn classify_with(e: ClientError, suffix: &str) -> anyhow::Error {
    match &e {
        ClientError::UnknownTopic(topic) => exit::usage(format!(
            "{e}; create it with 'kquota topics create {topic}'{suffix}"
        )),
        ClientError::Config(_)
        | ClientError::UnknownPartition { .. }
        | ClientError::RecordTooLarge { .. } => exit::usage(format!("{e}{suffix}")),
        ClientError::Net { .. } => exit::connection(format!("{e}{suffix}")),
        ClientError::Broker { code, .. } => match authorization_hint(*code) {
            Some(hint) => exit::connection(format!("{e} ({hint}){suffix}")),
            None => exit::broker(format!("{e}{suffix}")),
        },
        _ => exit::broker(format!("{e}{suffix}")),
    }
}

/// An error from `send` (the record was not accepted) that every later record would get too.
fn fatal_on_send(e: &ClientError) -> bool {
    !matches!(e, ClientError::BufferFull { .. })
}

/// A delivery error that every later record would get too (as opposed to a timeout or a
/// transient broker state).
fn fatal_on_delivery(e: &ClientError) -> bool {
    match e {
        // MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_REQUIRED_ACKS, authorization,
        // UNSUPPORTED_VERSION, UNSUPPORTED_COMPRESSION_TYPE.
        ClientError::Broker { code, .. } => matches!(code, 10 | 18 | 21 | 29 | 31 | 35 | 53 | 76),
        ClientError::Codec { .. }
        | ClientError::Config(_)
        | ClientError::Closed(_)
        | ClientError::RecordTooLarge { .. }
        | ClientError::UnknownTopic(_)
        | ClientError::UnknownPartition { .. } => true,
        _ => false,
    }
}

/// Beyond `max.block.ms`, how long `send` may take before kquota gives up on the record.
const SEND_GRACE: Duration = Duration::from_secs(1);
/// Beyond `delivery.timeout.ms`, how long a record may stay without an outcome before kquota
/// reports it failed (the producer expires it itself unless it cannot reach the cluster).
const SETTLE_GRACE: Duration = Duration::from_secs(5);

/// A timeout kquota itself reports for a record, with what it was about.
fn timed_out(context: String, message: String) -> ClientError {
    ClientError::net(
        context,
        std::io::Error::new(std::io::ErrorKind::TimedOut, message),
    )
}

/// `send` did not return within max.block.ms: no metadata (the cluster is unreachable).
fn not_accepted(topic: &str, max_block: Duration) -> ClientError {
    timed_out(
        format!("send to topic '{topic}'"),
        format!(
            "the producer could not take the record within max.block.ms ({} ms): no metadata from the cluster (unreachable?)",
            max_block.as_millis()
        ),
    )
}

/// An accepted record without an outcome well after delivery.timeout.ms.
fn unsettled(topic: &str, within: Duration) -> ClientError {
    timed_out(
        format!("record for topic '{topic}'"),
        format!(
            "no acknowledgement within {} ms (delivery.timeout.ms + {} s): the cluster is unreachable; the record may or may not have been written",
            within.as_millis(),
            SETTLE_GRACE.as_secs()
        ),
    )
}

/// What a produce loop ended with.
struct Outcome {
    summary: ProduceSummary,
    /// The error that stopped the run early.
    fatal: Option<ClientError>,
}

/// The metric lines (`--print-producer-quota-metrics`) and CloudWatch publishing at each
/// interval, also while the app waits: for buffer space, an acknowledgement or the last
/// records. Those waits are long exactly when a quota throttles, which is when the figures
/// matter.
struct MetricsTick<'a> {
    print: bool,
    publisher: &'a Option<Publisher>,
    interval: Duration,
    next: Instant,
    start: Instant,
    metrics: &'a kquota_client::metrics::ClientMetrics,
    printer: Printer,
}

impl MetricsTick<'_> {
    fn enabled(&self) -> bool {
        self.print || self.publisher.is_some()
    }

    /// Prints and publishes the figures now, and sets the next time.
    fn fire(&mut self, s: &ProduceSummary) {
        self.next = Instant::now() + self.interval;
        if !self.enabled() {
            return;
        }
        let snap = self.metrics.snapshot();
        if self.print {
            print_metrics("produce", self.start.elapsed(), &snap, s, self.printer);
        }
        cloudwatch::publish(self.publisher, &snap);
    }

    /// Awaits `fut`, firing at each interval until it is ready.
    async fn around<T>(
        &mut self,
        fut: impl std::future::Future<Output = T>,
        s: &ProduceSummary,
    ) -> T {
        if !self.enabled() {
            return fut.await;
        }
        tokio::pin!(fut);
        loop {
            tokio::select! {
                biased;
                r = &mut fut => return r,
                _ = tokio::time::sleep_until(self.next.into()) => self.fire(s),
            }
        }
    }
}

/// The line of an interruption before the first record.
const NOTHING_SENT: &str = "interrupted: no record was sent";

/// Sends the records and settles each of them. A signal under `claim` ends the sending: a
/// record not yet taken by the producer (waiting for buffer space or metadata, or for its
/// turn at `--rate`) is not sent; a sync send already taken is awaited. What was taken is
/// settled as at the normal end. `unsettled_count` follows the records taken and not settled.
async fn produce_loop(
    producer: &Producer,
    args: &ProduceArgs,
    config: &ProducerConfig,
    publisher: &Option<Publisher>,
    printer: Printer,
    claim: &Claim,
    unsettled_count: &Unsettled,
) -> Outcome {
    let limit = args.num_messages.unwrap_or(if args.duration.is_some() {
        u64::MAX
    } else {
        1000
    });
    let start = Instant::now();
    let stop_at = args.duration.map(|d| start + Duration::from_secs(d));
    let mut s = ProduceSummary::default();
    let mut fatal: Option<ClientError> = None;
    // Each accepted record's outcome, with the time by which it must have one.
    let mut pending: VecDeque<(Instant, DeliveryFuture)> = VecDeque::new();
    let max_block = config.max_block;
    let settle_within = config.delivery_timeout + SETTLE_GRACE;
    let mut reporter = Reporter::new(printer);
    let mut next_progress = start;
    let metrics = producer.metrics();
    let mut tick = MetricsTick {
        print: args.print_producer_quota_metrics,
        publisher,
        interval: Duration::from_secs(args.metrics_interval),
        next: start + Duration::from_secs(args.metrics_interval),
        start,
        metrics: &metrics,
        printer,
    };
    let mut notices = ThrottleNotices::new(ClientKind::Producer, printer, args.quiet);
    // A failed record: the first fatal error is kept for the final line, every other one is
    // reported now.
    let mut settle_err =
        |e: ClientError, s: &mut ProduceSummary, fatal: &mut Option<ClientError>| {
            s.failed += 1;
            if fatal.is_none() && fatal_on_delivery(&e) {
                *fatal = Some(e);
            } else if fatal
                .as_ref()
                .is_none_or(|f| f.to_string() != e.to_string())
            {
                reporter.report(&e);
            }
        };
    let mut payloads = Payloads::default();
    // One shared name for every record (cloning it is a counter increment).
    let topic: std::sync::Arc<str> = args.topic_name.as_str().into();
    while fatal.is_none()
        && s.sent < limit
        && stop_at.is_none_or(|t| Instant::now() < t)
        && !claim.received()
    {
        if args.rate > 0.0 {
            // Record k is due k/rate seconds after the start; one due at or after the end of
            // --duration is not sent, so a run sends exactly rate × duration records.
            let due = start + Duration::from_secs_f64(s.sent as f64 / args.rate);
            if let Some(end) = stop_at.filter(|t| due >= *t) {
                // The run still lasts --duration.
                tokio::select! {
                    biased;
                    _ = claim.first() => {}
                    _ = tokio::time::sleep_until(end.into()) => {}
                }
                break;
            }
            if due > Instant::now() {
                tokio::select! {
                    biased;
                    _ = claim.first() => break,
                    _ = tokio::time::sleep_until(due.into()) => {}
                }
            }
        }
        let value = payloads.next(s.sent, args.message_size);
        let record = ProducerRecord::new(topic.clone(), value);
        // One clock read per record taken at once, two when the send waited (below).
        let now = Instant::now();
        let mut waited = args.producer_type == ProducerType::Sync;
        // `send` errors mean the record was not accepted; delivery errors come from its future.
        let accepted = match producer.try_send(record) {
            // The common case: taken at once, without building the waiting future below.
            Ok(f) => Ok(f),
            Err(TrySendError::Refused(e)) => Err(e),
            Err(TrySendError::WouldBlock(record)) => {
                waited = true;
                // As in the Java client, max.block.ms bounds the wait for metadata and buffer
                // space. `send` takes the record only when it returns: stopped before, it is
                // not sent.
                let send_by = (now + max_block + SEND_GRACE).into();
                let send = async {
                    tokio::select! {
                        biased;
                        r = tokio::time::timeout_at(send_by, producer.send(*record)) => Some(r),
                        _ = claim.first() => None,
                    }
                };
                match tick.around(send, &s).await {
                    None => break,
                    Some(Ok(r)) => r,
                    Some(Err(_)) => Err(not_accepted(&args.topic_name, max_block)),
                }
            }
        };
        match accepted {
            Ok(f) if args.producer_type == ProducerType::Sync => {
                s.sent += 1;
                unsettled_count.track(&s);
                // Sync mode: send it now and wait for its acknowledgement.
                let settle = tokio::time::timeout(settle_within, async {
                    producer.flush().await;
                    f.await
                });
                let outcome = tick.around(settle, &s).await;
                match outcome.unwrap_or_else(|_| Err(unsettled(&args.topic_name, settle_within))) {
                    Ok(_) => s.acked += 1,
                    Err(e) => settle_err(e, &mut s, &mut fatal),
                }
            }
            Ok(f) => {
                s.sent += 1;
                pending.push_back((now + settle_within, f));
            }
            Err(e) if fatal_on_send(&e) => {
                // Not accepted, and neither would the next one be: stop here.
                fatal = Some(e);
                break;
            }
            Err(e) => {
                s.sent += 1;
                settle_err(e, &mut s, &mut fatal);
            }
        }
        // Settle the acknowledgements that already arrived (in order, without waiting).
        while let Some((_, f)) = pending.front_mut() {
            match futures_poll(f) {
                Some(Ok(_)) => s.acked += 1,
                Some(Err(e)) => settle_err(e, &mut s, &mut fatal),
                None => break,
            }
            pending.pop_front();
        }
        unsettled_count.track(&s);
        // The send may have waited (sync mode, a full buffer, a throttle): read the clock again.
        let now = if waited { Instant::now() } else { now };
        notices.check_at(&metrics, now);
        if printer.progress && now >= next_progress {
            next_progress = now + Duration::from_millis(500);
            progress("produce", start.elapsed(), &s, &metrics.snapshot());
        }
        if now >= tick.next {
            tick.fire(&s);
        }
    }
    // The run is over: what is still queued leaves now instead of after linger.ms.
    producer.flush_nowait();
    if claim.received() && !pending.is_empty() {
        eprintln!(
            "{}interrupted: settling the {} record(s) already sent (each is acknowledged or reported failed within delivery.timeout.ms, {} ms); press Ctrl-C again to stop without them",
            printer.err_prefix(),
            pending.len(),
            config.delivery_timeout.as_millis()
        );
    }
    // Every accepted record ends acknowledged or failed (at the latest after the delivery
    // timeout), also after a fatal error; one without an outcome by then is reported failed.
    for (by, f) in pending {
        let outcome = tick.around(tokio::time::timeout_at(by.into(), f), &s).await;
        notices.check(&metrics);
        match outcome.unwrap_or_else(|_| Err(unsettled(&args.topic_name, settle_within))) {
            Ok(_) => s.acked += 1,
            Err(e) => settle_err(e, &mut s, &mut fatal),
        }
        unsettled_count.track(&s);
    }
    s.interrupted = claim.received();
    notices.finish(&metrics);
    s.elapsed = start.elapsed();
    if printer.progress {
        progress("produce", s.elapsed, &s, &metrics.snapshot());
        printer.end_progress();
    }
    Outcome { summary: s, fatal }
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

/// The record values of a run, cut from shared 64 KiB blocks: one allocation per block instead
/// of one per record, and the producer's copy of each value when it encodes the batch is a
/// reference-count increment (a `Vec`-backed `Bytes` allocates when first cloned). Both were
/// visible in a profile of a 100-byte produce run.
#[derive(Default)]
struct Payloads {
    block: bytes::BytesMut,
}

impl Payloads {
    const BLOCK: usize = 64 * 1024;

    /// The value of record `i`: its index as 12 zero-padded digits, `-`, then `x` up to `size`
    /// (cut to `size` when shorter), so a read-back can tell records apart.
    fn next(&mut self, i: u64, size: usize) -> bytes::Bytes {
        use bytes::BufMut;
        if self.block.capacity() < size {
            self.block = bytes::BytesMut::with_capacity(Self::BLOCK.max(size));
        }
        // Written digit by digit: `format!` per record was visible in the profile too.
        let mut prefix = [b'0'; 21];
        let mut n = i;
        let mut at = 20;
        while n > 0 {
            at -= 1;
            prefix[at] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        prefix[20] = b'-';
        let prefix = &prefix[at.min(8)..];
        let head = prefix.len().min(size);
        self.block.put_slice(&prefix[..head]);
        self.block.put_bytes(b'x', size - head);
        self.block.split().freeze()
    }
}

/// One JSON object with the Java metric names and the per-broker figures.
pub fn metrics_json(
    kind: &str,
    elapsed: Duration,
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
        "elapsed_s": elapsed.as_secs_f64(),
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
    elapsed: Duration,
    snap: &MetricsSnapshot,
    s: &ProduceSummary,
    printer: Printer,
) {
    if printer.json {
        println!("{}", metrics_json(kind, elapsed, snap, s));
        return;
    }
    let [(avg_name, avg), (max_name, max)] = snap.java_metrics();
    println!(
        "{}{avg_name}: {}  {max_name}: {}",
        printer.out_prefix(),
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

fn progress(kind: &str, elapsed: Duration, s: &ProduceSummary, snap: &MetricsSnapshot) {
    use std::io::Write as _;
    let rate: f64 = snap.brokers.iter().map(|b| b.bytes_per_sec).sum();
    let mut err = std::io::stderr();
    let _ = write!(
        err,
        "\r{kind}: {:>6.1}s  records {}  ok {}  failed {}  {:.0} B/s  throttle max {} ms   ",
        elapsed.as_secs_f64(),
        s.sent,
        s.acked,
        s.failed,
        rate,
        fmt_metric(snap.throttle_time_max)
    );
    let _ = err.flush();
}

/// Final summary (text or JSON line): the counts over the whole run and its duration.
pub fn print_final(kind: &str, snap: &MetricsSnapshot, s: &ProduceSummary, printer: Printer) {
    if printer.json {
        let mut v = metrics_json(kind, s.elapsed, snap, s);
        v["type"] = serde_json::json!("summary");
        if s.interrupted {
            v["interrupted"] = serde_json::json!(true);
        }
        println!("{v}");
    } else {
        println!(
            "{}{kind}: {}, {} ok, {} failed in {:.1} s{}",
            printer.out_prefix(),
            crate::output::plural(s.sent, "record"),
            s.acked,
            s.failed,
            s.elapsed.as_secs_f64(),
            if s.interrupted { " (interrupted)" } else { "" }
        );
        print_metrics(kind, s.elapsed, snap, s, printer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records of failed batches of several partitions, interleaved: one line per batch with
    /// its count; a second batch with the same error is a second line; one-record batches
    /// (sync mode) with the same error in a row are one line.
    #[test]
    fn failed_batches_are_one_line_each_however_records_interleave() {
        let batch = |tp: &str, n: usize| {
            ClientError::broker(format!("produce to {tp} on broker 1"), 87, None).for_batch(n)
        };
        let mut r = Reporter::new(Printer::new(false, true));
        let (p0, p1, p2) = (batch("T-0", 3), batch("T-1", 2), batch("T-2", 1));
        let lines: Vec<String> = [&p1, &p0, &p1, &p2, &p0, &p0, &p0, &p0, &p0]
            .into_iter()
            .filter_map(|e| r.line(e))
            .collect();
        assert_eq!(
            lines,
            [
                "error: 2 record(s) not delivered: produce to T-1 on broker 1: broker error 87 (InvalidRecord)",
                "error: 3 record(s) not delivered: produce to T-0 on broker 1: broker error 87 (InvalidRecord)",
                "error: produce to T-2 on broker 1: broker error 87 (InvalidRecord)",
                // The next batch of T-0 with the same error.
                "error: 3 record(s) not delivered: produce to T-0 on broker 1: broker error 87 (InvalidRecord)",
            ]
        );
        let one = batch("T-0", 1);
        let mut r = Reporter::new(Printer::new(false, true));
        assert_eq!((0..5).filter_map(|_| r.line(&one)).count(), 1);
        // At most 20 lines and a last one saying so.
        let mut r = Reporter::new(Printer::new(false, true));
        let lines: Vec<String> = (0..30)
            .filter_map(|i| r.line(&batch(&format!("T-{i}"), 2)))
            .collect();
        assert_eq!(lines.len(), 21);
        assert_eq!(lines[20], "(further errors are counted, not printed)");
    }

    #[derive(clap::Parser)]
    struct Cmd {
        #[command(flatten)]
        args: ProduceArgs,
    }

    /// The producer config of `kquota produce FLAGS --command-config FILE` (FILE holding
    /// `properties`), or its error line.
    fn config_of(flags: &[&str], properties: &str) -> Result<ProducerConfig, String> {
        use clap::Parser as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("producer.properties");
        std::fs::write(&file, format!("bootstrap.servers=b:9092\n{properties}")).unwrap();
        let mut argv = vec!["produce", "--topic-name", "t", "--command-config"];
        let path = file.display().to_string();
        argv.push(&path);
        argv.extend(flags);
        let args = Cmd::try_parse_from(argv).unwrap().args;
        let settings = args
            .identity
            .settings(&args.connect, App::Producer)
            .map_err(|e| e.to_string())?;
        producer_config(&args, &settings).map_err(|e| e.to_string().replace(&path, "FILE"))
    }

    #[test]
    fn producer_keys_come_from_the_command_config_and_flags_win() {
        let text = "acks=1\nenable.idempotence=false\ncompression.type=gzip\nlinger.ms=20\nbatch.size=4096\nbuffer.memory=65536\nmax.block.ms=200\ndelivery.timeout.ms=6000\nrequest.timeout.ms=5000\nmax.request.size=2000000\n";
        let c = config_of(&["--producer-type", "async"], text).unwrap();
        assert_eq!(c.acks, Acks::Leader);
        assert_eq!(c.idempotence, Some(false));
        assert_eq!(c.compression, CompressionType::Gzip);
        assert_eq!(c.linger, Duration::from_millis(20));
        assert_eq!(c.batch_size, 4096);
        assert_eq!(c.buffer_memory, 65536);
        assert_eq!(c.max_block, Duration::from_millis(200));
        assert_eq!(c.delivery_timeout, Duration::from_secs(6));
        assert_eq!(c.request_timeout, Duration::from_secs(5));
        assert_eq!(c.max_request_size, 2_000_000);
        // Flags win over the file; sync mode never lingers.
        let c = config_of(
            &[
                "--acks",
                "all",
                "--enable-idempotence",
                "true",
                "--compression",
                "lz4",
                "--buffer-memory",
                "1024",
                "--max-block-ms",
                "1",
                "--delivery-timeout-ms",
                "2",
                "--request-timeout-ms",
                "3",
            ],
            text,
        )
        .unwrap();
        assert_eq!(c.acks, Acks::All);
        assert_eq!(c.idempotence, Some(true));
        assert_eq!(c.compression, CompressionType::Lz4);
        assert_eq!(c.linger, Duration::ZERO);
        assert_eq!(c.buffer_memory, 1024);
        assert_eq!(c.max_block, Duration::from_millis(1));
        assert_eq!(c.delivery_timeout, Duration::from_millis(2));
        assert_eq!(c.request_timeout, Duration::from_millis(3));
        // Without either: kquota's defaults.
        let c = config_of(&[], "").unwrap();
        assert_eq!(c.acks, Acks::All);
        assert_eq!(c.idempotence, None);
        assert_eq!(c.delivery_timeout, Duration::from_secs(120));
    }

    #[test]
    fn bad_producer_values_name_the_file_line_and_key() {
        for (text, want) in [
            (
                "acks=2\n",
                "FILE:2: acks: acks must be 0, 1 or all, not '2'",
            ),
            (
                "linger.ms=-5\n",
                "FILE:2: linger.ms: '-5' is not a whole number of milliseconds",
            ),
            (
                "enable.idempotence=yes\n",
                "FILE:2: enable.idempotence: 'yes' is not true or false",
            ),
            (
                "compression.type=brotli\n",
                "FILE:2: compression.type: unknown compression type 'brotli'",
            ),
            (
                "batch.size=0\n",
                "FILE:2: batch.size: batch.size must be > 0",
            ),
            (
                "buffer.memory=lots\n",
                "FILE:2: buffer.memory: 'lots' is not a whole number in range",
            ),
            (
                "acks=1\n# c\nenable.idempotence=true\n",
                "FILE:4: enable.idempotence: idempotence requires acks=all",
            ),
            (
                "max.request.size=50\n",
                "--message-size 100 is larger than the producer's max.request.size of 50 bytes",
            ),
        ] {
            let e = config_of(&[], text).unwrap_err();
            assert!(e.starts_with(want), "{text:?}: {e}");
        }
        // A flag's conflict with the file's value points at the file's line.
        let e = config_of(&["--acks", "1"], "enable.idempotence=true\n").unwrap_err();
        assert!(
            e.starts_with("FILE:2: enable.idempotence: idempotence requires acks=all"),
            "{e}"
        );
        // Both from flags: no file position.
        let e = config_of(&["--acks", "1", "--enable-idempotence", "true"], "").unwrap_err();
        assert_eq!(e, "invalid configuration: idempotence requires acks=all (set acks=all or disable idempotence)");
    }

    #[test]
    fn payload_has_exact_size_and_index() {
        let mut p = Payloads::default();
        assert_eq!(p.next(7, 100).len(), 100);
        assert!(p.next(7, 100).starts_with(b"000000000007-"));
        assert_eq!(p.next(7, 5).len(), 5);
        // Same bytes as the `format!` it replaced, including 0 and indexes wider than 12 digits,
        // and values that do not fit in what is left of a block, or in a block at all.
        for i in [0, 1, 9, 10, 999_999_999_999, 1_000_000_000_000, u64::MAX] {
            for size in [0, 5, 13, 14, 100, 40_000, Payloads::BLOCK + 1] {
                let mut want = format!("{i:012}-").into_bytes();
                want.resize(size, b'x');
                assert_eq!(p.next(i, size), want, "i={i} size={size}");
            }
        }
    }

    #[test]
    fn metrics_json_uses_java_names() {
        let m = kquota_client::metrics::ClientMetrics::new(
            kquota_client::metrics::ClientKind::Producer,
        );
        m.record_response(1, 250, 1000, 1);
        let v = metrics_json(
            "produce",
            Duration::from_millis(2500),
            &m.snapshot(),
            &ProduceSummary {
                sent: 1,
                acked: 1,
                failed: 0,
                elapsed: Duration::from_millis(2500),
                interrupted: false,
            },
        );
        assert_eq!(v["produce-throttle-time-max"], 250.0);
        assert_eq!(v["elapsed_s"], 2.5);
        assert_eq!(v["brokers"][0]["broker"], 1);
    }
}
