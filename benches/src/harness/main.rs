//! kquota's side-by-side benchmark harness (run it with `bash scripts/bench`).
//!
//! Starts one local Kafka broker with `kquota-testkit up`, then measures in the same run, with
//! the tools alternating so that machine drift hits every side alike:
//! quota calls (describe, alter of one entity, alter of 1 000 entities) against
//! `kafka-configs.sh` (kafka.admin.ConfigCommand, same Kafka release, stock JVM flags of
//! kafka-run-class.sh) and franz-go; start-up (time to first byte on the wire); produce and
//! consume throughput against the Java perf tools, librdkafka (kcat) and franz-go; binary sizes;
//! kquota-net's request round trip (`kquota-bench-rtt`, broker vs. an in-process echo server);
//! and the criterion micro-benchmarks. It writes benches/RESULTS.md.
//!
//! Wall time is measured here (spawn to `wait4`); peak RSS is `ru_maxrss` from `wait4(2)`.
//! Nothing here asserts a figure: it reports.

mod proc;
mod report;
#[path = "../rtt/report.rs"]
mod rtt_report;
mod stats;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;

use proc::{run, time_to_first_byte, Output};
use report::{render_tput, Sample, Scenario, Series, Tput, TputCase, TputSeries};
use stats::{fmt_mib, fmt_ms, fmt_ratio, median};

/// JVM flags of Kafka's bin/kafka-run-class.sh when KAFKA_JVM_PERFORMANCE_OPTS is unset.
const KAFKA_RUN_CLASS_JVM: &[&str] = &[
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:MaxInlineLevel=15",
    "-Djava.awt.headless=true",
];
/// kafka-run-class.sh's default heap (kafka-configs.sh, kafka-topics.sh).
const TOOL_HEAP: &str = "-Xmx256M";
/// kafka-producer-perf-test.sh / kafka-consumer-perf-test.sh set this heap.
const PERF_HEAP: &str = "-Xmx512M";

const USER: &str = "bench-user";
const CLIENT: &str = "bench-client";
const MANY: usize = 1_000;

/// Command-line flags (scripts/bench passes them).
#[derive(Parser, Debug)]
#[command(name = "kquota-bench-harness")]
struct Args {
    /// The kquota binary to measure (static musl, all features).
    #[arg(long)]
    kquota: PathBuf,
    /// A quotas-only kquota build, for its size.
    #[arg(long)]
    kquota_quotas_only: Option<PathBuf>,
    /// kquota-testkit binary.
    #[arg(long)]
    testkit: PathBuf,
    /// franz-go peer (benches/franz-peer), built with -ldflags "-s -w".
    #[arg(long)]
    franz_peer: Option<PathBuf>,
    /// kcat (librdkafka).
    #[arg(long)]
    kcat: Option<PathBuf>,
    /// krafka peer (benches/krafka-peer).
    #[arg(long)]
    krafka_peer: Option<PathBuf>,
    /// kquota-bench-rtt (benches/src/rtt): kquota-net's request round trip.
    #[arg(long)]
    rtt: Option<PathBuf>,
    /// Run kquota-bench-rtt with `--quick` (fewer iterations).
    #[arg(long)]
    rtt_quick: bool,
    /// Runs per quota-call and start-up measurement.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Runs per throughput setting.
    #[arg(long, default_value_t = 3)]
    throughput_runs: usize,
    /// kafka-configs.sh invocations timed for the 1 000-entity alter (extrapolated to 1 000).
    #[arg(long, default_value_t = 10)]
    configs_loop: usize,
    /// Records per produce/consume run for 100 B records (1 KiB runs use a fifth).
    #[arg(long, default_value_t = 200_000)]
    records: usize,
    /// Skip produce/consume.
    #[arg(long)]
    skip_throughput: bool,
    /// Criterion output directory (target/criterion) to summarise.
    #[arg(long)]
    criterion_dir: Option<PathBuf>,
    /// Scratch directory.
    #[arg(long)]
    work: PathBuf,
    /// The report to write.
    #[arg(long)]
    out: PathBuf,
    /// A note for the report (repeatable): what the set-up could not install, and why.
    #[arg(long = "note")]
    notes: Vec<String>,
    /// A build setting line for the report (repeatable).
    #[arg(long = "setting")]
    settings: Vec<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match real_main(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kquota-bench-harness: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The running broker and how to reach it with Kafka's own tools.
struct Broker {
    pid: libc::pid_t,
    child: Option<std::process::Child>,
    bootstrap: String,
    java: PathBuf,
    classpath: String,
    log4j: PathBuf,
    kafka_version: String,
}

impl Broker {
    fn start(testkit: &Path, work: &Path) -> Result<Broker> {
        let json = work.join("cluster.json");
        let _ = std::fs::remove_file(&json);
        let log = std::fs::File::create(work.join("testkit.log"))?;
        let child = Command::new(testkit)
            .args(["up", "--brokers", "1", "--json"])
            .arg(&json)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", testkit.display()))?;
        let pid = child.id() as libc::pid_t;
        let mut broker = Broker {
            pid,
            child: Some(child),
            bootstrap: String::new(),
            java: PathBuf::new(),
            classpath: String::new(),
            log4j: PathBuf::new(),
            kafka_version: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(300);
        while !json.exists() {
            if let Some(c) = broker.child.as_mut() {
                if let Some(st) = c.try_wait()? {
                    bail!(
                        "kquota-testkit exited ({st}) before the cluster was up; see {}",
                        work.join("testkit.log").display()
                    );
                }
            }
            if Instant::now() > deadline {
                bail!("the testkit broker did not come up within 300 s");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json)?)
            .context("parsing the testkit's cluster JSON")?;
        let s = |p: &str| -> Result<String> {
            v.pointer(p)
                .and_then(|x| x.as_str())
                .map(str::to_string)
                .ok_or_else(|| anyhow!("cluster JSON lacks {p}"))
        };
        broker.bootstrap = s("/bootstrap/PLAINTEXT")?;
        broker.java = s("/java")?.into();
        broker.classpath = s("/classpath")?;
        broker.log4j = s("/tools_log4j")?.into();
        broker.kafka_version = kafka_version(&broker.classpath);
        Ok(broker)
    }

    /// A Kafka tool started the way bin/kafka-run-class.sh starts it.
    fn java(&self, heap: &str, main: &str) -> Command {
        let mut c = Command::new(&self.java);
        c.arg(heap)
            .args(KAFKA_RUN_CLASS_JVM)
            .arg(format!(
                "-Dlog4j2.configurationFile={}",
                self.log4j.display()
            ))
            .arg("-cp")
            .arg(&self.classpath)
            .arg(main);
        c
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own unreaped child.
            unsafe {
                libc::kill(self.pid, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One tool in an interleaved measurement: a label and a command per run index.
struct Contender<'a> {
    label: String,
    make: Box<dyn Fn(usize) -> Command + 'a>,
    output: Output,
}

impl<'a> Contender<'a> {
    fn new(label: impl Into<String>, make: impl Fn(usize) -> Command + 'a) -> Self {
        Contender {
            label: label.into(),
            make: Box::new(make),
            output: Output::Capture,
        }
    }
}

/// Runs every contender `runs` times, rotating the order each round.
fn interleaved(contenders: &[Contender<'_>], runs: usize, work: &Path) -> Vec<Series> {
    let mut series: Vec<Series> = contenders.iter().map(|c| Series::new(&c.label)).collect();
    let n = contenders.len();
    for r in 0..runs {
        for k in 0..n {
            let i = (k + r) % n;
            if series[i].error.is_some() {
                continue;
            }
            let c = &contenders[i];
            let res = run(&mut (c.make)(r), work, c.output, Duration::from_secs(180))
                .and_then(|o| o.check(&c.label).map(|_| o));
            match res {
                Ok(o) => series[i].samples.push(Sample {
                    wall: o.wall,
                    rss_kib: o.max_rss_kib,
                }),
                Err(e) => {
                    eprintln!("  {} failed: {e:#}", c.label);
                    series[i].error = Some(format!("{e:#}"));
                }
            }
        }
        eprint!(".");
    }
    eprintln!();
    series
}

fn real_main(a: Args) -> Result<()> {
    std::fs::create_dir_all(&a.work)?;
    let started = Instant::now();
    let mut notes: Vec<String> = a.notes.clone();
    let env_before = environment(&a);
    eprintln!("kquota-bench-harness: starting the testkit broker");
    let mut broker = Broker::start(&a.testkit, &a.work)?;
    eprintln!(
        "kquota-bench-harness: broker up at {} (Kafka {})",
        broker.bootstrap, broker.kafka_version
    );
    let kq = a.kquota.clone();
    let bootstrap = broker.bootstrap.clone();
    let b: &str = &bootstrap;

    // ---- quota calls ------------------------------------------------------------------------
    let kq_describe = |_r: usize| {
        let mut c = Command::new(&kq);
        c.args(["quotas", "describe", "--bootstrap-server", b])
            .args(["--user", USER, "--client-id", CLIENT]);
        c
    };
    let configs_entity = [
        "--entity-type",
        "users",
        "--entity-name",
        USER,
        "--entity-type",
        "clients",
        "--entity-name",
        CLIENT,
    ];
    // Seed the entity so describe has something to return.
    run(
        Command::new(&kq)
            .args(["quotas", "alter", "--bootstrap-server", b])
            .args(["--user", USER, "--client-id", CLIENT])
            .args(["--set", "producer_byte_rate=1024"]),
        &a.work,
        Output::Capture,
        Duration::from_secs(60),
    )?
    .check("seeding the bench entity with kquota quotas alter")?;

    eprintln!("quota describe");
    let mut describe_c = vec![
        Contender::new("kquota", kq_describe),
        Contender::new("kquota configs (kafka-configs mode)", |_r| {
            let mut c = Command::new(&kq);
            c.args(["configs", "--bootstrap-server", b, "--describe"])
                .args(configs_entity);
            c
        }),
        Contender::new("kafka-configs.sh", |_r| {
            let mut c = broker.java(TOOL_HEAP, "kafka.admin.ConfigCommand");
            c.args(["--bootstrap-server", b, "--describe"])
                .args(configs_entity);
            c
        }),
    ];
    if let Some(f) = &a.franz_peer {
        describe_c.push(Contender::new("franz-go (kadm)", move |_r| {
            let mut c = Command::new(f);
            c.args([
                "describe",
                "-brokers",
                b,
                "-user",
                USER,
                "-client-id",
                CLIENT,
            ]);
            c
        }));
    }
    let describe = Scenario {
        title: "Quota describe (one entity)".into(),
        what: format!(
            "`kquota quotas describe --user {USER} --client-id {CLIENT}`; the kafka-configs \
             mode and kafka-configs.sh get `--describe --entity-type users --entity-name {USER} \
             --entity-type clients --entity-name {CLIENT}`; franz-go: one kadm \
             DescribeClientQuotas. Each is a fresh process: start, connect, ApiVersions, \
             request, print, exit."
        ),
        series: interleaved(&describe_c, a.runs, &a.work),
    };
    drop(describe_c);

    eprintln!("quota alter (one entity)");
    let value = |r: usize, tool: usize| 2048 + 16 * r + tool;
    let mut alter1_c = vec![
        Contender::new("kquota", |r| {
            let mut c = Command::new(&kq);
            c.args(["quotas", "alter", "--bootstrap-server", b])
                .args(["--user", USER, "--client-id", CLIENT])
                .arg("--set")
                .arg(format!("producer_byte_rate={}", value(r, 0)));
            c
        }),
        Contender::new("kafka-configs.sh", |r| {
            let mut c = broker.java(TOOL_HEAP, "kafka.admin.ConfigCommand");
            c.args(["--bootstrap-server", b, "--alter", "--add-config"])
                .arg(format!("producer_byte_rate={}", value(r, 1)))
                .args(configs_entity);
            c
        }),
    ];
    if let Some(f) = &a.franz_peer {
        alter1_c.push(Contender::new("franz-go (kadm)", move |r| {
            let mut c = Command::new(f);
            c.args(["alter", "-brokers", b, "-user", USER, "-client-id", CLIENT])
                .arg("-value")
                .arg(value(r, 2).to_string());
            c
        }));
    }
    let alter1 = Scenario {
        title: "Quota alter (one entity)".into(),
        what: "Set `producer_byte_rate` (a new value each run) on the (user, client-id) entity."
            .into(),
        series: interleaved(&alter1_c, a.runs, &a.work),
    };
    drop(alter1_c);

    eprintln!("quota alter ({MANY} entities)");
    let files: Vec<PathBuf> = (0..a.runs)
        .map(|r| {
            let p = a.work.join(format!("quotas-{r}.json"));
            let entries: Vec<serde_json::Value> = (0..MANY)
                .map(|i| {
                    serde_json::json!({
                        "entity": {"user": format!("bench-user-{i}"), "client-id": format!("bench-client-{i}")},
                        "values": {"producer_byte_rate": 1_000_000 + 16 * r}
                    })
                })
                .collect();
            std::fs::write(&p, serde_json::json!({ "quotas": entries }).to_string())?;
            Ok(p)
        })
        .collect::<Result<_>>()?;
    let mut many_c = vec![Contender::new("kquota", |r| {
        let mut c = Command::new(&kq);
        c.args(["quotas", "apply", "--bootstrap-server", b, "-f"])
            .arg(&files[r]);
        c
    })];
    if let Some(f) = &a.franz_peer {
        many_c.push(Contender::new("franz-go (kadm)", move |r| {
            let mut c = Command::new(f);
            c.args(["alter-many", "-brokers", b, "-count"])
                .arg(MANY.to_string())
                .arg("-value")
                .arg((1_000_001 + 16 * r).to_string());
            c
        }));
        many_c.push(Contender::new("franz-go (kadm), apply's work", move |r| {
            let mut c = Command::new(f);
            c.args(["apply-many", "-brokers", b, "-count"])
                .arg(MANY.to_string())
                .arg("-value")
                .arg((1_000_003 + 16 * r).to_string());
            c
        }));
    }
    let mut many_series = interleaved(&many_c, a.runs, &a.work);
    drop(many_c);
    // kafka-configs.sh alters one entity per invocation: time a sample of invocations and
    // extrapolate to 1 000 (a full loop would take most of an hour on this machine).
    let loop_contender = [Contender::new("kafka-configs.sh", |r| {
        let mut c = broker.java(TOOL_HEAP, "kafka.admin.ConfigCommand");
        c.args(["--bootstrap-server", b, "--alter", "--add-config"])
            .arg(format!("producer_byte_rate={}", 1_000_002 + 16 * r))
            .args(["--entity-type", "users", "--entity-name"])
            .arg(format!("bench-user-{r}"))
            .args(["--entity-type", "clients", "--entity-name"])
            .arg(format!("bench-client-{r}"));
        c
    })];
    let mut configs_loop = interleaved(&loop_contender, a.configs_loop, &a.work).remove(0);
    drop(loop_contender);
    configs_loop.tool = format!("kafka-configs.sh × {MANY} (shell loop)");
    configs_loop.scale = Some(MANY as f64);
    configs_loop.note = Some(format!(
        "one JVM per entity; {} invocations timed, the total is {MANY} × their median",
        configs_loop.samples.len()
    ));
    many_series.insert(1, configs_loop);
    let alter_many = Scenario {
        title: format!("Quota alter ({MANY} entities)"),
        what: format!(
            "kquota: `kquota quotas apply -f quotas.json` with {MANY} (user, client-id) entities \
             whose `producer_byte_rate` changes every run (describe, diff, one \
             AlterClientQuotas request, then a describe per broker until each shows the \
             change). franz-go (kadm): one AlterClientQuotas with {MANY} entries and nothing \
             else; franz-go (kadm), apply's work: the same steps as kquota (describe all, diff, \
             alter what differs, poll each broker until it shows the change). kafka-configs.sh \
             has no batch mode."
        ),
        series: many_series,
    };

    // ---- start-up --------------------------------------------------------------------------
    eprintln!("start-up");
    let ttfb = startup_ttfb(&a, &broker)?;
    let version = Scenario {
        title: "`--version` (process start and exit)".into(),
        what: "No network: the cost of starting the program at all.".into(),
        series: interleaved(
            &[
                Contender::new("kquota --version", |_r| {
                    let mut c = Command::new(&kq);
                    c.arg("--version");
                    c
                }),
                Contender::new("kafka-configs.sh --version", |_r| {
                    let mut c = broker.java(TOOL_HEAP, "kafka.admin.ConfigCommand");
                    c.arg("--version");
                    c
                }),
            ],
            a.runs,
            &a.work,
        ),
    };

    // ---- request round trip (kquota-net) ---------------------------------------------------
    let rtt = a.rtt.as_deref().map(|bin| {
        eprintln!("request round trip (kquota-bench-rtt)");
        request_round_trip(bin, &a, b)
    });
    if let Some(Err(e)) = &rtt {
        eprintln!("  kquota-bench-rtt failed: {e}");
    }

    // ---- produce / consume ----------------------------------------------------------------
    let (produce, consume) = if a.skip_throughput {
        notes.push("Produce/consume throughput was skipped (--skip-throughput).".into());
        (Vec::new(), Vec::new())
    } else {
        throughput(&a, &broker, &mut notes)?
    };

    // ---- sizes, criterion, report -------------------------------------------------------
    let sizes = binary_sizes(&a);
    let criterion = a
        .criterion_dir
        .as_deref()
        .map(criterion_summary)
        .unwrap_or_default();
    broker.stop();
    let env_after = load_average();

    let mut md = String::new();
    let quota = [&describe, &alter1, &alter_many];
    write_report(
        &mut md,
        &a,
        &broker,
        &env_before,
        &env_after,
        &quota,
        &ttfb,
        &version,
        rtt.as_ref(),
        &produce,
        &consume,
        &sizes,
        &criterion,
        &notes,
        started.elapsed(),
    );
    std::fs::write(&a.out, &md).with_context(|| format!("writing {}", a.out.display()))?;
    eprintln!(
        "kquota-bench-harness: wrote {} in {:.0?}",
        a.out.display(),
        started.elapsed()
    );
    Ok(())
}

/// Time to first byte on the wire: each tool is pointed at a listener of ours that notes when
/// the first request byte arrives, then the tool is killed.
fn startup_ttfb(a: &Args, broker: &Broker) -> Result<Scenario> {
    type Maker<'a> = Box<dyn Fn(&str) -> Command + 'a>;
    let mut tools: Vec<(String, Maker<'_>)> = vec![
        (
            "kquota".into(),
            Box::new(|addr: &str| {
                let mut c = Command::new(&a.kquota);
                c.args(["quotas", "describe", "--bootstrap-server", addr]);
                c
            }),
        ),
        (
            "kafka-configs.sh".into(),
            Box::new(|addr: &str| {
                let mut c = broker.java(TOOL_HEAP, "kafka.admin.ConfigCommand");
                c.args([
                    "--bootstrap-server",
                    addr,
                    "--describe",
                    "--entity-type",
                    "users",
                ]);
                c
            }),
        ),
    ];
    if let Some(f) = &a.franz_peer {
        tools.push((
            "franz-go (kadm)".into(),
            Box::new(move |addr: &str| {
                let mut c = Command::new(f);
                c.args([
                    "describe",
                    "-brokers",
                    addr,
                    "-user",
                    USER,
                    "-client-id",
                    CLIENT,
                ]);
                c
            }),
        ));
    }
    let mut series: Vec<Series> = tools.iter().map(|(l, _)| Series::new(l)).collect();
    let n = tools.len();
    for r in 0..a.runs {
        for k in 0..n {
            let i = (k + r) % n;
            if series[i].error.is_some() {
                continue;
            }
            match time_to_first_byte(|addr| (tools[i].1)(addr), &a.work, Duration::from_secs(60)) {
                Ok(d) => series[i].samples.push(Sample {
                    wall: d,
                    rss_kib: 0,
                }),
                Err(e) => series[i].error = Some(format!("{e:#}")),
            }
        }
    }
    // RSS is not meaningful for a killed process; show "–".
    for s in &mut series {
        for x in &mut s.samples {
            x.rss_kib = 0;
        }
    }
    Ok(Scenario {
        title: "Start-up: time to first byte on the wire".into(),
        what: "From spawn until the first byte of the first request (ApiVersions) reaches a \
               listener of the harness that stands in for the broker; the tool is then killed. \
               Peak RSS is not recorded here."
            .into(),
        series,
    })
}

/// Runs kquota-bench-rtt against the broker and reads its JSON report.
fn request_round_trip(
    bin: &Path,
    a: &Args,
    bootstrap: &str,
) -> std::result::Result<rtt_report::RttReport, String> {
    let mut c = Command::new(bin);
    c.args(["--bootstrap", bootstrap]);
    if a.rtt_quick {
        c.arg("--quick");
    }
    let o = run(&mut c, &a.work, Output::Capture, Duration::from_secs(1800))
        .and_then(|o| o.check("kquota-bench-rtt").map(|_| o))
        .map_err(|e| format!("{e:#}"))?;
    rtt_report::parse(&o.stdout)
}

/// The Kafka release in a classpath: `kafka-clients-4.1.1.jar` or a `kafka-4.1.1/libs` folder.
fn kafka_version(classpath: &str) -> String {
    for part in classpath.split(':') {
        for seg in Path::new(part).iter().filter_map(|s| s.to_str()) {
            let v = seg
                .strip_prefix("kafka-clients-")
                .map(|v| v.trim_end_matches(".jar"))
                .or_else(|| seg.strip_prefix("kafka-"));
            if let Some(v) = v {
                if v.split('.').count() == 3 && v.split('.').all(|n| n.parse::<u32>().is_ok()) {
                    return v.to_string();
                }
            }
        }
    }
    "(unknown)".to_string()
}

/// Reads (records/s, MiB/s) from a finished run.
type RateParser<'a> = Box<dyn Fn(&proc::Outcome, &LoadSpec) -> Result<(f64, f64)> + 'a>;

/// A producer or consumer under test.
struct LoadTool<'a> {
    label: String,
    basis: &'static str,
    make: Box<dyn Fn(&LoadSpec) -> Command + 'a>,
    parse: RateParser<'a>,
    output: Output,
}

/// One produce/consume setting.
struct LoadSpec {
    topic: String,
    size: usize,
    acks: &'static str,
    records: usize,
    payload: PathBuf,
    run: usize,
}

fn throughput(
    a: &Args,
    broker: &Broker,
    notes: &mut Vec<String>,
) -> Result<(Vec<TputCase>, Vec<TputCase>)> {
    let b: &str = &broker.bootstrap;
    let sizes = [(100usize, a.records), (1024usize, (a.records / 5).max(1))];
    for (size, _) in sizes {
        let topic = format!("bench-{size}b");
        let mut c = broker.java(TOOL_HEAP, "org.apache.kafka.tools.TopicCommand");
        c.args(["--bootstrap-server", b, "--create", "--if-not-exists"])
            .args([
                "--topic",
                &topic,
                "--partitions",
                "3",
                "--replication-factor",
                "1",
            ]);
        run(&mut c, &a.work, Output::Capture, Duration::from_secs(120))?
            .check("creating the bench topic with kafka-topics")?;
    }
    // kcat reads its records from a file: N lines of random A-Z, like the perf tool's payload.
    let payloads: BTreeMap<usize, PathBuf> = sizes
        .iter()
        .map(|&(size, n)| {
            let p = a.work.join(format!("payload-{size}.txt"));
            write_payload(&p, size, n)?;
            Ok((size, p))
        })
        .collect::<Result<_>>()?;

    let mut producers: Vec<LoadTool<'_>> = Vec::new();
    if let Some(t) = kquota_load_tool(a, b, true, notes) {
        producers.push(t);
    }
    producers.push(LoadTool {
        label: "kafka-producer-perf-test (Java)".into(),
        basis: "its own timer",
        make: Box::new(|s: &LoadSpec| {
            let mut c = broker.java(PERF_HEAP, "org.apache.kafka.tools.ProducerPerformance");
            c.args(["--topic", &s.topic, "--num-records"])
                .arg(s.records.to_string())
                .arg("--record-size")
                .arg(s.size.to_string())
                .args(["--throughput", "-1", "--producer-props"])
                .arg(format!("bootstrap.servers={b}"))
                .arg(format!("acks={}", s.acks))
                .args(["linger.ms=5", "batch.size=16384", "compression.type=none"])
                .arg(format!("enable.idempotence={}", s.acks == "all"));
            c
        }),
        parse: Box::new(|o, _s| parse_producer_perf(&o.stdout)),
        output: Output::Capture,
    });
    if let Some(k) = &a.kcat {
        producers.push(LoadTool {
            label: "kcat (librdkafka)".into(),
            basis: "wall clock (incl. start-up)",
            make: Box::new(move |s: &LoadSpec| {
                let mut c = Command::new(k);
                c.args(["-P", "-b", b, "-t", &s.topic, "-l"])
                    .arg(&s.payload)
                    .arg("-X")
                    .arg(format!(
                        "acks={}",
                        if s.acks == "all" { "-1" } else { s.acks }
                    ))
                    .args(["-X", "linger.ms=5", "-X", "batch.size=16384"])
                    .args(["-X", "compression.codec=none", "-X"])
                    .arg(format!("enable.idempotence={}", s.acks == "all"));
                c
            }),
            parse: Box::new(wall_rate),
            output: Output::Capture,
        });
    }
    if let Some(f) = &a.franz_peer {
        producers.push(LoadTool {
            label: "franz-go (kgo)".into(),
            basis: "its own timer",
            make: Box::new(move |s: &LoadSpec| {
                let mut c = Command::new(f);
                c.args(["produce", "-brokers", b, "-topic", &s.topic, "-num"])
                    .arg(s.records.to_string())
                    .arg("-size")
                    .arg(s.size.to_string())
                    .args(["-acks", s.acks, "-linger-ms", "5", "-batch-bytes", "16384"]);
                c
            }),
            parse: Box::new(|o, _s| parse_kv_rate(&o.stdout)),
            output: Output::Capture,
        });
    }
    if let Some(k) = &a.krafka_peer {
        producers.push(LoadTool {
            label: "krafka".into(),
            basis: "its own timer",
            make: Box::new(move |s: &LoadSpec| {
                let mut c = Command::new(k);
                c.args(["produce", "--brokers", b, "--topic", &s.topic, "--num"])
                    .arg(s.records.to_string())
                    .arg("--size")
                    .arg(s.size.to_string())
                    .args(["--acks", s.acks]);
                c
            }),
            parse: Box::new(|o, _s| parse_kv_rate(&o.stdout)),
            output: Output::Capture,
        });
    }

    let mut produce = Vec::new();
    for (size, n) in sizes {
        for acks in ["1", "all"] {
            eprintln!("produce {size} B acks={acks}");
            let spec = |run: usize| LoadSpec {
                topic: format!("bench-{size}b"),
                size,
                acks,
                records: n,
                payload: payloads[&size].clone(),
                run,
            };
            produce.push(TputCase {
                setting: format!("{size} B, acks={acks}"),
                series: measure_load(&producers, a.throughput_runs, &a.work, spec),
            });
        }
    }

    let mut consumers: Vec<LoadTool<'_>> = Vec::new();
    if let Some(t) = kquota_load_tool(a, b, false, notes) {
        consumers.push(t);
    }
    consumers.push(LoadTool {
        label: "kafka-consumer-perf-test (Java)".into(),
        basis: "its own timer (fetch only)",
        make: Box::new(|s: &LoadSpec| {
            let mut c = broker.java(PERF_HEAP, "org.apache.kafka.tools.ConsumerPerformance");
            c.args(["--bootstrap-server", b, "--topic", &s.topic, "--messages"])
                .arg(s.records.to_string())
                .args(["--timeout", "60000", "--group"])
                .arg(format!("bench-perf-{}-{}", s.size, s.run));
            c
        }),
        parse: Box::new(|o, _s| parse_consumer_perf(&o.stdout)),
        output: Output::Capture,
    });
    if let Some(k) = &a.kcat {
        consumers.push(LoadTool {
            label: "kcat (librdkafka)".into(),
            basis: "wall clock (incl. start-up)",
            make: Box::new(move |s: &LoadSpec| {
                let mut c = Command::new(k);
                c.args(["-C", "-b", b, "-t", &s.topic, "-o", "beginning", "-q", "-c"])
                    .arg(s.records.to_string());
                c
            }),
            parse: Box::new(wall_rate),
            output: Output::DiscardStdout,
        });
    }
    if let Some(f) = &a.franz_peer {
        consumers.push(LoadTool {
            label: "franz-go (kgo)".into(),
            basis: "its own timer",
            make: Box::new(move |s: &LoadSpec| {
                let mut c = Command::new(f);
                c.args(["consume", "-brokers", b, "-topic", &s.topic, "-num"])
                    .arg(s.records.to_string());
                c
            }),
            parse: Box::new(|o, _s| parse_kv_rate(&o.stdout)),
            output: Output::Capture,
        });
    }
    if let Some(k) = &a.krafka_peer {
        consumers.push(LoadTool {
            label: "krafka".into(),
            basis: "its own timer",
            make: Box::new(move |s: &LoadSpec| {
                let mut c = Command::new(k);
                c.args(["consume", "--brokers", b, "--topic", &s.topic, "--num"])
                    .arg(s.records.to_string());
                c
            }),
            parse: Box::new(|o, _s| parse_kv_rate(&o.stdout)),
            output: Output::Capture,
        });
    }
    let mut consume = Vec::new();
    for (size, n) in sizes {
        eprintln!("consume {size} B");
        let spec = |run: usize| LoadSpec {
            topic: format!("bench-{size}b"),
            size,
            acks: "1",
            records: n,
            payload: payloads[&size].clone(),
            run,
        };
        consume.push(TputCase {
            setting: format!("{size} B"),
            series: measure_load(&consumers, a.throughput_runs, &a.work, spec),
        });
    }
    Ok((produce, consume))
}

fn measure_load(
    tools: &[LoadTool<'_>],
    runs: usize,
    work: &Path,
    spec: impl Fn(usize) -> LoadSpec,
) -> Vec<TputSeries> {
    let mut series: Vec<TputSeries> = tools
        .iter()
        .map(|t| TputSeries {
            tool: t.label.clone(),
            basis: t.basis.into(),
            ..Default::default()
        })
        .collect();
    let n = tools.len();
    for r in 0..runs {
        for k in 0..n {
            let i = (k + r) % n;
            if series[i].error.is_some() {
                continue;
            }
            let t = &tools[i];
            let s = spec(r);
            let res = run(&mut (t.make)(&s), work, t.output, Duration::from_secs(300))
                .and_then(|o| o.check(&t.label).map(|_| o))
                .and_then(|o| {
                    let (rps, mibps) = (t.parse)(&o, &s)?;
                    Ok(Tput {
                        records_per_s: rps,
                        mib_per_s: mibps,
                        rss_kib: o.max_rss_kib,
                    })
                });
            match res {
                Ok(x) => series[i].samples.push(x),
                Err(e) => {
                    eprintln!("  {} failed: {e:#}", t.label);
                    series[i].error = Some(format!("{e:#}"));
                }
            }
        }
        eprint!(".");
    }
    eprintln!();
    series
}

/// kquota's own produce/consume commands, when this build has them.
fn kquota_load_tool<'a>(
    a: &'a Args,
    b: &str,
    produce: bool,
    notes: &mut Vec<String>,
) -> Option<LoadTool<'a>> {
    let sub = if produce { "produce" } else { "consume" };
    let help = Command::new(&a.kquota)
        .args([sub, "--help"])
        .output()
        .ok()?;
    if !help.status.success() {
        notes.push(format!(
            "kquota {sub}: this build has no `{sub}` command (`kquota {sub} --help` failed), so \
             kquota's {sub} throughput is not measured."
        ));
        return None;
    }
    let text = String::from_utf8_lossy(&help.stdout).to_string();
    let b = b.to_string();
    let needed: &[&str] = if produce {
        &[
            "--topic-name",
            "--num-messages",
            "--message-size",
            "--acks",
            "--producer-type",
            "--linger-ms",
        ]
    } else {
        &["--topic-name", "--num-messages", "--offset-reset"]
    };
    if let Some(missing) = needed.iter().find(|f| !text.contains(*f)) {
        notes.push(format!(
            "kquota {sub}: the command exists but has no `{missing}` flag, which the harness \
             needs to run it as a load test; not measured."
        ));
        return None;
    }
    Some(if produce {
        LoadTool {
            label: "kquota".into(),
            basis: "wall clock (incl. start-up)",
            make: Box::new(move |s: &LoadSpec| {
                let mut c = Command::new(&a.kquota);
                c.args([
                    "produce",
                    "--bootstrap-server",
                    &b,
                    "--topic-name",
                    &s.topic,
                ])
                .arg("--num-messages")
                .arg(s.records.to_string())
                .arg("--message-size")
                .arg(s.size.to_string())
                .args([
                    "--acks",
                    s.acks,
                    "--producer-type",
                    "async",
                    "--linger-ms",
                    "5",
                ])
                .args(["--compression", "none", "--quiet"]);
                c
            }),
            parse: Box::new(wall_rate),
            output: Output::Capture,
        }
    } else {
        LoadTool {
            label: "kquota".into(),
            basis: "wall clock (incl. start-up)",
            make: Box::new(move |s: &LoadSpec| {
                let mut c = Command::new(&a.kquota);
                c.args([
                    "consume",
                    "--bootstrap-server",
                    &b,
                    "--topic-name",
                    &s.topic,
                ])
                .arg("--num-messages")
                .arg(s.records.to_string())
                .args(["--offset-reset", "earliest", "--quiet"]);
                c
            }),
            parse: Box::new(wall_rate),
            output: Output::DiscardStdout,
        }
    })
}

fn write_payload(path: &Path, size: usize, n: usize) -> Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut line = vec![b'A'; size + 1];
    line[size] = b'\n';
    for _ in 0..n {
        for c in &mut line[..size] {
            // xorshift64: cheap deterministic letters A-Z.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *c = b'A' + (x % 26) as u8;
        }
        f.write_all(&line)?;
    }
    f.flush()?;
    Ok(())
}

/// Rate from the process's wall time.
fn wall_rate(o: &proc::Outcome, s: &LoadSpec) -> Result<(f64, f64)> {
    let secs = o.wall.as_secs_f64();
    Ok((
        s.records as f64 / secs,
        (s.records * s.size) as f64 / secs / 1_048_576.0,
    ))
}

/// `500000 records sent, 123456.7 records/sec (11.77 MB/sec), ...` (MB = 2^20 bytes).
fn parse_producer_perf(out: &str) -> Result<(f64, f64)> {
    let line = out
        .lines()
        .rev()
        .find(|l| l.contains("records sent,"))
        .ok_or_else(|| anyhow!("no summary line in ProducerPerformance output"))?;
    let rps = line
        .split(',')
        .nth(1)
        .and_then(|p| p.trim().split(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| anyhow!("cannot read records/sec in {line:?}"))?;
    let mbps = line
        .split('(')
        .nth(1)
        .and_then(|p| p.split(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| anyhow!("cannot read MB/sec in {line:?}"))?;
    Ok((rps, mbps))
}

/// ConsumerPerformance's CSV-like header and values; `fetch.nMsg.sec` and `fetch.MB.sec`
/// exclude the group join.
fn parse_consumer_perf(out: &str) -> Result<(f64, f64)> {
    let mut lines = out.lines().skip_while(|l| !l.starts_with("start.time"));
    let header = lines
        .next()
        .ok_or_else(|| anyhow!("no header in ConsumerPerformance output"))?;
    let values = lines
        .next()
        .ok_or_else(|| anyhow!("no values in ConsumerPerformance output"))?;
    let cols: BTreeMap<&str, &str> = header
        .split(',')
        .map(str::trim)
        .zip(values.split(',').map(str::trim))
        .collect();
    let get = |k: &str| -> Result<f64> {
        cols.get(k)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| anyhow!("no {k} in ConsumerPerformance output"))
    };
    Ok((get("fetch.nMsg.sec")?, get("fetch.MB.sec")?))
}

/// `records_per_sec=... mb_per_sec=...` (franz-peer, krafka-peer).
fn parse_kv_rate(out: &str) -> Result<(f64, f64)> {
    let kv: BTreeMap<&str, &str> = out
        .split_whitespace()
        .filter_map(|t| t.split_once('='))
        .collect();
    let get = |k: &str| -> Result<f64> {
        kv.get(k)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| anyhow!("no {k}= in output"))
    };
    Ok((get("records_per_sec")?, get("mb_per_sec")?))
}

/// A binary and its size.
struct SizeRow {
    what: String,
    bytes: Option<u64>,
    kind: String,
}

fn binary_sizes(a: &Args) -> Vec<SizeRow> {
    let mut rows = Vec::new();
    let mut add = |what: &str, p: Option<&Path>, extra: Option<String>| {
        let bytes = p.and_then(|p| std::fs::metadata(p).ok()).map(|m| m.len());
        let kind = p
            .map(|p| {
                let f = cmd_stdout("file", &["-b", &p.to_string_lossy()]);
                let mut k = if f.contains("statically linked") || f.contains("static-pie") {
                    "static".to_string()
                } else if f.contains("dynamically linked") {
                    "dynamic".to_string()
                } else {
                    f.split(',').next().unwrap_or("").trim().to_string()
                };
                if f.contains("not stripped") {
                    k.push_str(", not stripped");
                } else if f.contains("stripped") {
                    k.push_str(", stripped");
                }
                k
            })
            .unwrap_or_else(|| "not available".into());
        rows.push(SizeRow {
            what: what.into(),
            bytes,
            kind: match extra {
                Some(e) => format!("{kind}; {e}"),
                None => kind,
            },
        });
    };
    add("kquota, all features", Some(&a.kquota), None);
    add("kquota, quotas only", a.kquota_quotas_only.as_deref(), None);
    if let Some(k) = &a.kcat {
        let lib = cmd_stdout("ldd", &[&k.to_string_lossy()])
            .lines()
            .find(|l| l.contains("librdkafka.so"))
            .and_then(|l| l.split("=>").nth(1))
            .and_then(|r| r.split_whitespace().next())
            .map(PathBuf::from);
        let lib_size = lib
            .as_ref()
            .and_then(|p| std::fs::canonicalize(p).ok())
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| m.len());
        add(
            "kcat (Debian)",
            Some(k),
            lib_size.map(|s| {
                format!(
                    "+ librdkafka.so {:.2} MiB and its other shared libraries",
                    s as f64 / 1_048_576.0
                )
            }),
        );
    }
    add(
        "franz-go peer (Go, -s -w)",
        a.franz_peer.as_deref(),
        Some("stand-in for kcl (same library)".into()),
    );
    add("krafka peer", a.krafka_peer.as_deref(), None);
    rows
}

/// One criterion benchmark: id (group/function), median time, throughput.
type CritRow = (String, String, String);

/// Criterion's results, sorted by id.
fn criterion_summary(dir: &Path) -> Vec<CritRow> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "new") {
                    if let Some(row) = criterion_row(&p) {
                        out.push(row);
                    }
                } else if p.file_name().is_some_and(|n| n != "base" && n != "change") {
                    stack.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

fn criterion_row(new: &Path) -> Option<CritRow> {
    let bench: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(new.join("benchmark.json")).ok()?).ok()?;
    let est: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(new.join("estimates.json")).ok()?).ok()?;
    let id = bench.get("full_id")?.as_str()?.to_string();
    let ns = est.pointer("/median/point_estimate")?.as_f64()?;
    let time = if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    };
    let tput = match bench.get("throughput") {
        Some(t) if t.get("Bytes").is_some() => {
            let b = t.get("Bytes")?.as_f64()?;
            format!("{:.0} MiB/s", b / (ns / 1e9) / 1_048_576.0)
        }
        Some(t) if t.get("Elements").is_some() => {
            let n = t.get("Elements")?.as_f64()?;
            format!("{} /s", stats::fmt_count(n / (ns / 1e9)))
        }
        _ => String::new(),
    };
    Some((id, time, tput))
}

fn cmd_stdout(prog: &str, args: &[&str]) -> String {
    Command::new(prog)
        .args(args)
        .output()
        .map(|o| {
            let mut s = String::from_utf8_lossy(&o.stdout).to_string();
            s.push_str(&String::from_utf8_lossy(&o.stderr));
            s
        })
        .unwrap_or_default()
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Date, commit, machine and tool versions at the start of the run.
fn environment(a: &Args) -> Vec<(String, String)> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_default();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|k| k.parse::<f64>().ok())
        .map(|k| format!("{:.1} GiB", k / 1_048_576.0))
        .unwrap_or_default();
    let dirty = !cmd_stdout("git", &["status", "--porcelain", "--untracked-files=no"])
        .trim()
        .is_empty();
    let mut v = vec![
        (
            "date (UTC)".into(),
            first_line(&cmd_stdout("date", &["-u", "+%Y-%m-%d %H:%M:%S"])),
        ),
        (
            "commit".into(),
            format!(
                "{}{}",
                first_line(&cmd_stdout("git", &["rev-parse", "--short=12", "HEAD"])),
                if dirty {
                    " (work tree has uncommitted changes of other crates)"
                } else {
                    ""
                }
            ),
        ),
        (
            "machine".into(),
            format!(
                "{} CPUs ({cpu}), {mem}, Linux {}",
                first_line(&cmd_stdout("nproc", &[])),
                first_line(&cmd_stdout("uname", &["-r"]))
            ),
        ),
        ("load average at start".into(), load_average()),
        ("rustc".into(), first_line(&cmd_stdout("rustc", &["-V"]))),
        (
            "java".into(),
            first_line(&cmd_stdout("java", &["-version"])),
        ),
        ("go".into(), first_line(&cmd_stdout("go", &["version"]))),
    ];
    if let Some(k) = &a.kcat {
        let out = cmd_stdout(&k.to_string_lossy(), &["-V"]);
        let ver = out
            .lines()
            .find(|l| l.contains("kcat -") || l.contains("Version"))
            .map(str::trim)
            .unwrap_or("")
            .to_string();
        let lib = out
            .lines()
            .find(|l| l.contains("librdkafka"))
            .map(str::trim)
            .unwrap_or("")
            .to_string();
        v.push(("kcat".into(), format!("{ver} {lib}").trim().to_string()));
    }
    v
}

#[allow(clippy::too_many_arguments)]
fn write_report(
    md: &mut String,
    a: &Args,
    broker: &Broker,
    env: &[(String, String)],
    load_after: &str,
    quota: &[&Scenario],
    ttfb: &Scenario,
    version: &Scenario,
    rtt: Option<&Result<rtt_report::RttReport, String>>,
    produce: &[TputCase],
    consume: &[TputCase],
    sizes: &[SizeRow],
    criterion: &[CritRow],
    notes: &[String],
    took: Duration,
) {
    let _ = writeln!(md, "# kquota benchmark results\n");
    let _ = writeln!(
        md,
        "Written by `bash scripts/bench` (benches/src/harness). Re-run it to refresh; do not \
         edit the figures by hand. Medians of several runs, tools alternating run by run on \
         one local broker. The ratios are peer ÷ kquota for time and memory (higher = kquota \
         better) and kquota ÷ peer for throughput.\n"
    );
    let _ = writeln!(md, "## Run\n");
    let _ = writeln!(md, "| | |\n|---|---|");
    for (k, v) in env {
        let _ = writeln!(md, "| {k} | {} |", report::md_escape(v));
    }
    let _ = writeln!(md, "| load average at end | {load_after} |");
    let _ = writeln!(md, "| harness run time | {:.0} s |", took.as_secs_f64());
    let _ = writeln!(
        md,
        "| broker | Apache Kafka {} (kquota-testkit, 1 combined KRaft node, PLAINTEXT on 127.0.0.1) |",
        broker.kafka_version
    );
    let _ = writeln!(
        md,
        "| kafka-configs.sh / perf tools | `java {TOOL_HEAP} {}` + Kafka's classpath, i.e. what bin/kafka-run-class.sh runs (perf tools: {PERF_HEAP}) |",
        KAFKA_RUN_CLASS_JVM.join(" ")
    );
    let _ = writeln!(
        md,
        "| runs | {} per quota call and start-up measurement; {} per throughput setting; {} kafka-configs.sh invocations for the 1 000-entity loop |",
        a.runs, a.throughput_runs, a.configs_loop
    );
    let _ = writeln!(
        md,
        "| measurement | wall time from spawn to wait4(2) return; peak RSS = ru_maxrss of wait4(2) (what GNU time reports as Maximum resident set size) |"
    );
    for s in &a.settings {
        let _ = writeln!(md, "| setting | {} |", report::md_escape(s));
    }
    let _ = writeln!(md);

    // Targets.
    let _ = writeln!(md, "## Targets (issue 7)\n");
    let _ = writeln!(md, "| target | measured | met? |\n|---|---|---|");
    let describe = quota[0];
    let kq = describe.get("kquota");
    let kc = describe.get("kafka-configs.sh");
    let fr = describe.get("franz-go");
    let yes = |b: bool| if b { "yes" } else { "**no**" };
    for sc in quota {
        let kq = sc.series.first();
        let kc = sc.get("kafka-configs.sh");
        if let (Some(w), Some(c)) = (kq.and_then(Series::wall_ms), kc.and_then(Series::wall_ms)) {
            let _ = writeln!(
                md,
                "| {}: ≥ 30× faster than kafka-configs.sh | {} ms vs {} ms = {} | {} |",
                sc.title,
                fmt_ms(w),
                fmt_ms(c),
                fmt_ratio(c / w),
                yes(c / w >= 30.0)
            );
        }
        if let (Some(w), Some(c)) = (kq.and_then(Series::rss_kib), kc.and_then(Series::rss_kib)) {
            let _ = writeln!(
                md,
                "| {}: peak RSS ≥ 20× smaller than kafka-configs.sh | {} MiB vs {} MiB = {} | {} |",
                sc.title,
                fmt_mib(w),
                fmt_mib(c),
                fmt_ratio(c / w),
                yes(c / w >= 20.0)
            );
        }
        // Every franz-go series of the scenario (the 1 000-entity one has an alter-only peer and
        // one doing apply's work).
        for fr in sc.series.iter().filter(|s| s.tool.starts_with("franz-go")) {
            if let (Some(w), Some(f)) = (kq.and_then(Series::wall_ms), fr.wall_ms()) {
                let _ = writeln!(
                    md,
                    "| {}: faster than kcl ({}) | {} ms vs {} ms = {} | {} |",
                    sc.title,
                    report::md_escape(&fr.tool),
                    fmt_ms(w),
                    fmt_ms(f),
                    fmt_ratio(f / w),
                    yes(f > w)
                );
            }
        }
        if let Some(r) = kq.and_then(Series::rss_kib) {
            let _ = writeln!(
                md,
                "| {}: peak RSS ≤ 8 MB | {} MiB ({:.0} kB) | {} |",
                sc.title,
                fmt_mib(r),
                r * 1.024,
                yes(r * 1024.0 <= 8_000_000.0)
            );
        }
    }
    let _ = (kq, kc, fr);
    for row in sizes.iter().take(2) {
        let limit = if row.what.contains("all features") {
            6_000_000
        } else {
            2_000_000
        };
        match row.bytes {
            Some(n) => {
                let _ = writeln!(
                    md,
                    "| static binary, {}: ≤ {} MB | {} bytes ({:.2} MiB), {} | {} |",
                    row.what.trim_start_matches("kquota, "),
                    limit / 1_000_000,
                    stats::fmt_count(n as f64),
                    n as f64 / 1_048_576.0,
                    row.kind,
                    yes(n <= limit)
                );
            }
            None => {
                let _ = writeln!(
                    md,
                    "| static binary, {}: ≤ {} MB | not built | – |",
                    row.what.trim_start_matches("kquota, "),
                    limit / 1_000_000
                );
            }
        }
    }
    for (what, cases, java) in [
        ("produce", produce, "kafka-producer-perf-test"),
        ("consume", consume, "kafka-consumer-perf-test"),
    ] {
        for c in cases {
            let kq = c
                .series
                .iter()
                .find(|s| s.tool == "kquota")
                .and_then(TputSeries::rps);
            let j = c
                .series
                .iter()
                .find(|s| s.tool.starts_with(java))
                .and_then(TputSeries::rps);
            match (kq, j) {
                (Some(k), Some(j)) => {
                    let _ = writeln!(
                        md,
                        "| {what} {}: ≥ Java client | {} vs {} records/s = {} | {} |",
                        c.setting,
                        stats::fmt_count(k),
                        stats::fmt_count(j),
                        fmt_ratio(k / j),
                        yes(k >= j)
                    );
                }
                (None, _) => {
                    let _ = writeln!(
                        md,
                        "| {what} {}: ≥ Java client | kquota not measured (see notes) | – |",
                        c.setting
                    );
                }
                _ => {}
            }
        }
    }
    let _ = writeln!(md);

    let _ = writeln!(md, "## Quota calls\n");
    for sc in quota {
        sc.render(md);
    }
    let _ = writeln!(md, "## Start-up\n");
    ttfb.render(md);
    version.render(md);

    match rtt {
        Some(Ok(r)) => rtt_report::render(
            r,
            &format!(
                "Apache Kafka {} (kquota-testkit, the broker of this run)",
                broker.kafka_version
            ),
            &[format!(
                "kquota-bench-rtt built with `cargo build --release -p kquota-benches --bin \
                 kquota-bench-rtt` (the release profile of the kquota binary: opt-level=z, \
                 lto, codegen-units=1){}",
                if a.rtt_quick {
                    "; run with --quick"
                } else {
                    ""
                }
            )],
            md,
        ),
        Some(Err(e)) => {
            let _ = writeln!(
                md,
                "## {}\n\nNot measured: {}\n",
                rtt_report::TITLE,
                report::md_escape(e)
            );
        }
        None => {
            let _ = writeln!(
                md,
                "## {}\n\nNot measured in this run (no --rtt).\n",
                rtt_report::TITLE
            );
        }
    }

    let _ = writeln!(md, "## Produce and consume\n");
    if produce.is_empty() {
        let _ = writeln!(md, "Not measured (see notes).\n");
    } else {
        render_tput(
            "Produce",
            &format!(
                "3-partition topic, {} records of 100 B or {} of 1 KiB per run, random A–Z values, \
                 no key, linger.ms=5, batch.size=16384, compression none, idempotence on for acks=all \
                 and off for acks=1 (kquota's and the Java client's default), max in-flight \
                 per tool default. kquota: `kquota produce --producer-type async`. MiB = 2^20 bytes of record values.",
                stats::fmt_count(a.records as f64),
                stats::fmt_count((a.records / 5) as f64)
            ),
            produce,
            md,
        );
        render_tput(
            "Consume",
            "The same records, read from the beginning of the topic (all 3 partitions) until the \
             count is reached; Java's figure is `fetch.nMsg.sec` (excludes the group join).",
            consume,
            md,
        );
    }

    let _ = writeln!(md, "## Binary size\n");
    let _ = writeln!(md, "| binary | bytes | MiB | kind |\n|---|---:|---:|---|");
    for r in sizes {
        match r.bytes {
            Some(n) => {
                let _ = writeln!(
                    md,
                    "| {} | {} | {:.2} | {} |",
                    r.what,
                    stats::fmt_count(n as f64),
                    n as f64 / 1_048_576.0,
                    r.kind
                );
            }
            None => {
                let _ = writeln!(md, "| {} | – | – | {} |", r.what, r.kind);
            }
        }
    }
    let _ = writeln!(md);

    let _ = writeln!(
        md,
        "## Micro-benchmarks (criterion, `cargo bench -p kquota-benches`)\n"
    );
    if criterion.is_empty() {
        let _ = writeln!(md, "Not run in this harness run.\n");
    } else {
        let _ = writeln!(
            md,
            "| benchmark | median time | throughput |\n|---|---:|---:|"
        );
        for (id, t, tp) in criterion {
            let _ = writeln!(md, "| {id} | {t} | {tp} |");
        }
        let _ = writeln!(md);
    }

    let _ = writeln!(md, "## Notes\n");
    let _ = writeln!(
        md,
        "- Where a target is missed: [PROFILE.md](PROFILE.md) (hand-written: what was profiled, \
         what was fixed, what is left)."
    );
    for n in notes {
        let _ = writeln!(md, "- {}", report::md_escape(n));
    }
    let _ = median(&[]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_perf_tools_and_peers() {
        let p = "20000 records sent, 18622.0 records/sec (1.78 MB/sec), 30.1 ms avg latency, 500.0 ms max latency, 3 ms 50th, 5 ms 95th, 6 ms 99th, 7 ms 99.9th.\n";
        assert_eq!(parse_producer_perf(p).unwrap(), (18622.0, 1.78));
        let c = "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n\
                 2026-12-03 20:17:40:123, 2026-12-03 20:17:43:123, 1.9073, 0.6358, 20000, 6666.6667, 3000, 412, 4.6293, 48543.6893\n";
        assert_eq!(parse_consumer_perf(c).unwrap(), (48543.6893, 4.6293));
        let k =
            "records=20000 bytes=2000000 seconds=0.1 records_per_sec=200000.0 mb_per_sec=19.073\n";
        assert_eq!(parse_kv_rate(k).unwrap(), (200000.0, 19.073));
        assert!(parse_kv_rate("franz-peer: boom").is_err());
        assert!(parse_producer_perf("").is_err());
    }

    #[test]
    fn runs_the_rtt_bench_and_reads_its_report() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("kq-rtt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = r#"{"schema":1,"broker":"127.0.0.1:1","settings":{"latency_requests":5,
            "warmup_requests":1,"broker_warmup_requests":2,"throughput_requests":10,"rounds":1,
            "in_flight":[1],"client":"c","echo":"e"},"apis":[{"api":"Metadata","version":13,
            "request":"topics: []","request_bytes":35,"response_bytes":65,"latency":[{"path":
            "echo_raw","samples":5,"p50_us":20.0,"p99_us":30.0,"mean_us":21.0,"min_us":19.0,
            "max_us":30.0}],"throughput":[{"path":"echo_raw","in_flight":1,
            "requests_per_s":[50000.0]}]}],"throttled_responses":0,
            "load_average":["0.1 0.1 0.1","0.2 0.2 0.2"]}"#;
        let script = dir.join("fake-rtt");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\n[ \"$*\" = \"--bootstrap 127.0.0.1:1 --quick\" ] || \
                 {{ echo \"error: bad args $*\" >&2; exit 3; }}\ncat <<'EOF'\n{json}\nEOF\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let args = |extra: &[&str]| {
            let mut v = vec![
                "h",
                "--kquota",
                "k",
                "--testkit",
                "t",
                "--out",
                "o",
                "--work",
            ];
            v.push(dir.to_str().unwrap());
            v.extend_from_slice(extra);
            Args::parse_from(v)
        };
        let r = request_round_trip(&script, &args(&["--rtt-quick"]), "127.0.0.1:1").unwrap();
        assert_eq!(r.apis[0].name(), "Metadata v13");
        assert_eq!(r.apis[0].latency[0].p50_us, 20.0);
        // Without --rtt-quick the fake refuses: the error carries its exit code and message.
        let e = request_round_trip(&script, &args(&[]), "127.0.0.1:1").unwrap_err();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(e.contains("exit 3") && e.contains("bad args"), "{e}");
    }

    #[test]
    fn kafka_version_from_classpath() {
        assert_eq!(
            kafka_version("/x/.cache/kafka/kafka-4.1.1/libs/*:/x/plugin.jar"),
            "4.1.1"
        );
        assert_eq!(kafka_version("/l/kafka-clients-4.1.1.jar"), "4.1.1");
        assert_eq!(kafka_version("/l/other.jar"), "(unknown)");
    }

    #[test]
    fn reads_criterion_estimates() {
        let dir = std::env::temp_dir().join(format!("kq-crit-{}", std::process::id()));
        let new = dir.join("quota_resolve/exact_pair/new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(
            new.join("benchmark.json"),
            r#"{"group_id":"quota_resolve","function_id":"exact_pair","value_str":null,"throughput":{"Elements":1},"full_id":"quota_resolve/exact_pair","directory_name":"quota_resolve/exact_pair","title":"quota_resolve/exact_pair"}"#,
        )
        .unwrap();
        std::fs::write(
            new.join("estimates.json"),
            r#"{"median":{"point_estimate":2000.0}}"#,
        )
        .unwrap();
        let rows = criterion_summary(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            rows,
            vec![(
                "quota_resolve/exact_pair".to_string(),
                "2.00 µs".to_string(),
                "500 000 /s".to_string()
            )]
        );
    }
}
