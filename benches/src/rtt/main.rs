//! kquota-bench-rtt: request round-trip overhead of kquota-net on loopback.
//!
//! Against a running broker (`--bootstrap host:port`, or the JSON file `kquota-testkit up
//! --json FILE` writes), for Metadata (the highest version both sides support, v12/v13 on
//! Kafka 4.x) and DescribeClientQuotas, each request goes four ways:
//!
//! * broker via kquota-net: `kquota_net::BrokerConnection::send_version`;
//! * echo via kquota-net: the same, to an echo server in this process (127.0.0.1, its own
//!   thread and runtime) that answers each request frame with the broker's response frame for
//!   that request, recorded once at start, with the request's correlation id written in;
//! * echo raw: a bare tokio loop writing the pre-encoded request frame and cutting response
//!   frames by their size prefix (no encoding, no decoding, no kquota-net code);
//! * broker raw: that bare loop against the broker.
//!
//! It measures latency with one request in flight (p50/p99) and requests/s with 1, 8 and 64 in
//! flight, and prints one JSON document (benches/src/rtt/report.rs) on stdout; progress goes
//! to stderr. The harness (scripts/bench) runs it against the broker it starts and renders the
//! "Request round trip (kquota-net)" section of benches/RESULTS.md from that JSON.
//!
//! A binary rather than a criterion bench: it needs a live broker, reports percentiles and
//! rates at several in-flight settings (criterion reports a per-iteration time), and its
//! figures belong in the harness's report next to the broker they were taken against.

mod report;
mod stats;
mod wire;

use std::ops::Range;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use clap::Parser;
use kquota_net::kafka_protocol::messages::{
    alter_client_quotas_request, describe_client_quotas_request, AlterClientQuotasRequest, ApiKey,
    ApiVersionsRequest, ApiVersionsResponse, DescribeClientQuotasRequest,
    DescribeClientQuotasResponse, MetadataRequest, MetadataResponse,
};
use kquota_net::kafka_protocol::protocol::StrBytes;
use kquota_net::{frame, BrokerConnection, ClientConfig, KafkaRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use report::{ApiRtt, Latency, Path, RttReport, RttSettings, Throughput};
use wire::{EchoTable, FrameBuf};

const CLIENT_ID: &str = "kquota-bench-rtt";
const QUOTA_USER: &str = "rtt-user";
const QUOTA_CLIENT: &str = "rtt-client";
/// The ApiVersions version kquota-net opens every connection with.
const API_VERSIONS_VERSION: i16 = 3;
const MAX_FRAME: usize = 16 << 20;
const READ_BUF: usize = 64 << 10;

/// Command-line flags.
#[derive(Parser, Debug)]
#[command(
    name = "kquota-bench-rtt",
    about = "kquota-net request round-trip overhead"
)]
struct Args {
    /// Broker `host:port` (PLAINTEXT).
    #[arg(
        long,
        required_unless_present = "cluster_json",
        conflicts_with = "cluster_json"
    )]
    bootstrap: Option<String>,
    /// The JSON file of `kquota-testkit up --json FILE` (its PLAINTEXT bootstrap is used).
    #[arg(long)]
    cluster_json: Option<PathBuf>,
    /// Fewer iterations (scripts/bench with BENCH_QUICK=1).
    #[arg(long)]
    quick: bool,
    /// Timed requests per way and round, one in flight [2000; quick 500].
    #[arg(long)]
    latency_requests: Option<usize>,
    /// Untimed requests on each fresh connection [200; quick 100].
    #[arg(long)]
    warmup_requests: Option<usize>,
    /// Requests of each type sent to the broker before anything is timed, so that its JIT has
    /// compiled the request path [30000; quick 5000].
    #[arg(long)]
    broker_warmup_requests: Option<usize>,
    /// Requests per throughput run [10000; quick 2000].
    #[arg(long)]
    throughput_requests: Option<usize>,
    /// Rounds, the ways alternating in rotating order [5; quick 1]. Many short rounds rather
    /// than few long ones, so that load from elsewhere on the machine hits every way alike.
    #[arg(long)]
    rounds: Option<usize>,
    /// In-flight settings of the throughput runs.
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 8, 64])]
    in_flight: Vec<usize>,
    /// Also write the RESULTS.md section (Markdown) to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kquota-bench-rtt: error: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(real_main(&args)) {
        Ok(r) => {
            if let Some(p) = &args.markdown {
                let mut md = String::new();
                report::render(&r, "Kafka broker", &[], &mut md);
                if let Err(e) = std::fs::write(p, md) {
                    eprintln!("kquota-bench-rtt: error: writing {}: {e}", p.display());
                    return ExitCode::FAILURE;
                }
            }
            match serde_json::to_string_pretty(&r) {
                Ok(j) => {
                    println!("{j}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("kquota-bench-rtt: error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("kquota-bench-rtt: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Iteration counts after defaults and `--quick`.
fn settings(a: &Args) -> RttSettings {
    let q = a.quick;
    RttSettings {
        latency_requests: a.latency_requests.unwrap_or(if q { 500 } else { 2_000 }),
        warmup_requests: a.warmup_requests.unwrap_or(if q { 100 } else { 200 }),
        broker_warmup_requests: a
            .broker_warmup_requests
            .unwrap_or(if q { 5_000 } else { 30_000 }),
        throughput_requests: a
            .throughput_requests
            .unwrap_or(if q { 2_000 } else { 10_000 }),
        rounds: a.rounds.unwrap_or(if q { 1 } else { 5 }).max(1),
        in_flight: a.in_flight.iter().map(|&n| n.max(1)).collect(),
        client: format!(
            "tokio current_thread runtime on the main thread (as the kquota CLI); a fresh TCP \
             connection per way and round, TCP_NODELAY; kquota-net: ClientConfig defaults \
             (PLAINTEXT), client id {CLIENT_ID}, `send_version` at the negotiated version, \
             every response's error codes checked"
        ),
        echo: format!(
            "tokio current_thread runtime on its own thread in the same process; answers from \
             the recorded frames (ApiVersions v{API_VERSIONS_VERSION}, Metadata, \
             DescribeClientQuotas) by api key and version; the answers to all frames of one \
             read are written together"
        ),
    }
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "(unknown)".into())
}

/// The PLAINTEXT bootstrap in the testkit's cluster description.
fn bootstrap_from_json(text: &str) -> Result<String> {
    let v: serde_json::Value =
        serde_json::from_str(text).context("parsing the testkit's cluster JSON")?;
    v.pointer("/bootstrap/PLAINTEXT")
        .and_then(|x| x.as_str())
        .map(str::to_string)
        .ok_or_else(|| anyhow!("cluster JSON lacks /bootstrap/PLAINTEXT"))
}

fn describe_request() -> DescribeClientQuotasRequest {
    let exact = |t: &'static str, name: &'static str| {
        let mut c = describe_client_quotas_request::ComponentData::default();
        c.entity_type = StrBytes::from_static_str(t);
        c.match_type = 0;
        c._match = Some(StrBytes::from_static_str(name));
        c
    };
    let mut r = DescribeClientQuotasRequest::default();
    r.components = vec![exact("user", QUOTA_USER), exact("client-id", QUOTA_CLIENT)];
    r.strict = true;
    r
}

fn metadata_request() -> MetadataRequest {
    let mut r = MetadataRequest::default();
    r.topics = Some(vec![]);
    r.allow_auto_topic_creation = false;
    r
}

/// Sets producer_byte_rate and consumer_byte_rate on (rtt-user, rtt-client), so the describe
/// has one entity with two values to return, whatever else the broker holds.
async fn seed_quota(conn: &BrokerConnection) -> Result<()> {
    use alter_client_quotas_request::{EntityData, EntryData, OpData};
    let entity = |t: &'static str, n: &'static str| {
        let mut e = EntityData::default();
        e.entity_type = StrBytes::from_static_str(t);
        e.entity_name = Some(StrBytes::from_static_str(n));
        e
    };
    let op = |k: &'static str, v: f64| {
        let mut o = OpData::default();
        o.key = StrBytes::from_static_str(k);
        o.value = v;
        o
    };
    let mut entry = EntryData::default();
    entry.entity = vec![
        entity("user", QUOTA_USER),
        entity("client-id", QUOTA_CLIENT),
    ];
    entry.ops = vec![
        op("producer_byte_rate", 1_048_576.0),
        op("consumer_byte_rate", 2_097_152.0),
    ];
    let mut req = AlterClientQuotasRequest::default();
    req.entries = vec![entry];
    let resp = conn
        .send(&req)
        .await
        .context("AlterClientQuotas (seeding)")?;
    for e in &resp.body.entries {
        if e.error_code != 0 {
            bail!(
                "AlterClientQuotas (seeding) failed with error code {}: {}",
                e.error_code,
                e.error_message.as_deref().unwrap_or("")
            );
        }
    }
    // The broker answers DescribeClientQuotas from its metadata cache: wait until it shows.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = conn.send(&describe_request()).await?;
        let values = r
            .body
            .entries
            .as_ref()
            .and_then(|e| e.first())
            .map_or(0, |e| e.values.len());
        if values == 2 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the seeded quota did not show in DescribeClientQuotas within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn encode<R: KafkaRequest>(version: i16, req: &R) -> Result<Vec<u8>> {
    frame::encode_request(R::KEY, version, 0, Some(CLIENT_ID), req)
        .map(|b| b.to_vec())
        .map_err(|e| anyhow!("encoding {:?} v{version}: {e}", R::KEY))
}

/// The bare client: pre-encoded frames out, size-prefixed frames in, in order.
struct Raw {
    stream: TcpStream,
    buf: FrameBuf,
    next_id: i32,
}

impl Raw {
    async fn connect(addr: &str) -> Result<Raw> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Raw {
            stream,
            buf: FrameBuf::new(READ_BUF, MAX_FRAME),
            next_id: 0,
        })
    }

    fn take_id(&mut self) -> i32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1) & i32::MAX;
        id
    }

    /// The next response frame (body range in `self.buf`), checked to carry `expect`.
    async fn read_frame(&mut self, expect: i32) -> Result<Range<usize>> {
        loop {
            if let Some(r) = self.buf.next_frame().map_err(|e| anyhow!(e))? {
                let got = wire::response_correlation(&self.buf.bytes()[r.clone()]);
                if got != Some(expect) {
                    bail!("response correlation id {got:?}, expected {expect}");
                }
                return Ok(r);
            }
            let n = self.stream.read(self.buf.space()).await?;
            if n == 0 {
                bail!("connection closed by the peer");
            }
            self.buf.filled(n);
        }
    }

    /// One request, one response; returns the response frame with its prefix.
    async fn round_trip(&mut self, frame: &mut [u8]) -> Result<Vec<u8>> {
        let id = self.next_id;
        self.send(frame).await?;
        let r = self.read_frame(id).await?;
        let mut f = (r.len() as i32).to_be_bytes().to_vec();
        f.extend_from_slice(&self.buf.bytes()[r]);
        Ok(f)
    }

    /// `n` sequential round trips, each timed into `samples` if given.
    async fn sequential(
        &mut self,
        frame: &mut [u8],
        n: usize,
        mut samples: Option<&mut Vec<u64>>,
    ) -> Result<()> {
        for _ in 0..n {
            let t = Instant::now();
            let id = self.next_id;
            self.send(frame).await?;
            self.read_frame(id).await?;
            if let Some(s) = samples.as_deref_mut() {
                s.push(t.elapsed().as_nanos() as u64);
            }
        }
        Ok(())
    }

    /// Writes `frame` with the next correlation id (one write per request, as kquota-net).
    async fn send(&mut self, frame: &mut [u8]) -> Result<()> {
        let id = self.take_id();
        wire::set_request_correlation(frame, id);
        self.stream.write_all(frame).await?;
        Ok(())
    }

    /// `total` requests with `in_flight` outstanding; returns requests/s.
    async fn pipelined(&mut self, frame: &mut [u8], in_flight: usize, total: usize) -> Result<f64> {
        let start = Instant::now();
        let mut expect = self.next_id;
        let mut sent = 0;
        while sent < total.min(in_flight.max(1)) {
            self.send(frame).await?;
            sent += 1;
        }
        for _ in 0..total {
            self.read_frame(expect).await?;
            expect = expect.wrapping_add(1) & i32::MAX;
            if sent < total {
                self.send(frame).await?;
                sent += 1;
            }
        }
        Ok(total as f64 / start.elapsed().as_secs_f64())
    }
}

/// One request through kquota-net: sent, decoded, error codes checked.
async fn kq_one<R: KafkaRequest>(
    conn: &BrokerConnection,
    version: i16,
    req: &R,
    throttled: &AtomicU64,
) -> Result<()> {
    let r = conn.send_version(version, req).await?;
    if r.throttle_time_ms > 0 {
        throttled.fetch_add(1, Ordering::Relaxed);
    }
    let mut bad = 0;
    R::error_codes(&r.body, &mut |c| {
        if c != 0 {
            bad = c;
        }
    });
    if bad != 0 {
        bail!("{:?} v{version} answered error code {bad}", R::KEY);
    }
    Ok(())
}

async fn kq_sequential<R: KafkaRequest>(
    conn: &BrokerConnection,
    version: i16,
    req: &R,
    n: usize,
    throttled: &AtomicU64,
    mut samples: Option<&mut Vec<u64>>,
) -> Result<()> {
    for _ in 0..n {
        let t = Instant::now();
        kq_one(conn, version, req, throttled).await?;
        if let Some(s) = samples.as_deref_mut() {
            s.push(t.elapsed().as_nanos() as u64);
        }
    }
    Ok(())
}

/// `total` requests from `in_flight` tasks sharing `conn`; returns requests/s.
async fn kq_pipelined<R: KafkaRequest>(
    conn: &BrokerConnection,
    version: i16,
    req: &Arc<R>,
    in_flight: usize,
    total: usize,
    throttled: &Arc<AtomicU64>,
) -> Result<f64> {
    let left = Arc::new(AtomicUsize::new(total));
    let start = Instant::now();
    let tasks: Vec<_> = (0..in_flight.min(total).max(1))
        .map(|_| {
            let (conn, req, left, thr) =
                (conn.clone(), req.clone(), left.clone(), throttled.clone());
            tokio::spawn(async move {
                while left
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_ok()
                {
                    kq_one(&conn, version, &*req, &thr).await?;
                }
                Ok::<_, anyhow::Error>(())
            })
        })
        .collect();
    for t in tasks {
        t.await.map_err(|e| anyhow!("request task: {e}"))??;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

/// Starts the echo server on 127.0.0.1 (own thread, own runtime); returns its address.
fn start_echo(table: EchoTable) -> Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?.to_string();
    let table = Arc::new(table);
    std::thread::Builder::new()
        .name("rtt-echo".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("kquota-bench-rtt: echo runtime: {e}");
                    return;
                }
            };
            rt.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        eprintln!("kquota-bench-rtt: echo listener: {e}");
                        return;
                    }
                };
                loop {
                    let Ok((s, _)) = listener.accept().await else {
                        continue;
                    };
                    let t = table.clone();
                    tokio::spawn(async move {
                        if let Err(e) = echo_connection(s, &t).await {
                            eprintln!("kquota-bench-rtt: echo connection: {e:#}");
                        }
                    });
                }
            });
        })?;
    Ok(addr)
}

async fn echo_connection(mut s: TcpStream, table: &EchoTable) -> Result<()> {
    s.set_nodelay(true)?;
    let mut buf = FrameBuf::new(READ_BUF, MAX_FRAME);
    let mut out = Vec::with_capacity(READ_BUF);
    loop {
        while let Some(r) = buf.next_frame().map_err(|e| anyhow!(e))? {
            table
                .answer(&buf.bytes()[r], &mut out)
                .map_err(|e| anyhow!(e))?;
        }
        if !out.is_empty() {
            s.write_all(&out).await?;
            out.clear();
        }
        let n = match s.read(buf.space()).await {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            return Ok(());
        }
        buf.filled(n);
    }
}

/// Where things are and how much to do.
struct Ctx {
    broker: String,
    echo: String,
    cfg: ClientConfig,
    s: RttSettings,
    throttled: Arc<AtomicU64>,
}

/// One request type: every way, every round.
async fn measure<R: KafkaRequest>(
    ctx: &Ctx,
    name: &str,
    describe: String,
    version: i16,
    req: R,
    recorded: &[u8],
) -> Result<ApiRtt> {
    let req = Arc::new(req);
    let mut frame = encode(version, &*req)?;
    let request_bytes = frame.len();
    let s = &ctx.s;
    let mut lat: Vec<(Path, Vec<u64>)> = Path::ALL.iter().map(|&p| (p, Vec::new())).collect();
    let mut tput: Vec<Throughput> = Vec::new();
    for &p in &Path::ALL {
        for &n in &s.in_flight {
            tput.push(Throughput {
                path: p,
                in_flight: n,
                requests_per_s: Vec::new(),
            });
        }
    }
    for round in 0..s.rounds {
        for k in 0..Path::ALL.len() {
            let i = (k + round) % Path::ALL.len();
            let path = Path::ALL[i];
            eprintln!(
                "kquota-bench-rtt: {name} v{version}, round {}/{}: {}",
                round + 1,
                s.rounds,
                path.label()
            );
            let addr = match path {
                Path::BrokerKquota | Path::BrokerRaw => ctx.broker.as_str(),
                Path::EchoKquota | Path::EchoRaw => ctx.echo.as_str(),
            };
            let samples = &mut lat[i].1;
            let mut rates = Vec::new();
            match path {
                Path::BrokerKquota | Path::EchoKquota => {
                    let conn = BrokerConnection::connect(addr, -1, &ctx.cfg)
                        .await
                        .with_context(|| format!("{}: connecting", path.label()))?;
                    let thr = &ctx.throttled;
                    kq_sequential(&conn, version, &*req, s.warmup_requests, thr, None).await?;
                    kq_sequential(
                        &conn,
                        version,
                        &*req,
                        s.latency_requests,
                        thr,
                        Some(samples),
                    )
                    .await?;
                    for &n in &s.in_flight {
                        let r = kq_pipelined(&conn, version, &req, n, s.throughput_requests, thr)
                            .await?;
                        rates.push((n, r));
                    }
                    conn.close().await;
                }
                Path::EchoRaw | Path::BrokerRaw => {
                    let mut c = Raw::connect(addr).await?;
                    c.sequential(&mut frame, s.warmup_requests, None).await?;
                    c.sequential(&mut frame, s.latency_requests, Some(samples))
                        .await?;
                    for &n in &s.in_flight {
                        let r = c
                            .pipelined(&mut frame, n, s.throughput_requests)
                            .await
                            .with_context(|| format!("{}: {n} in flight", path.label()))?;
                        rates.push((n, r));
                    }
                }
            }
            for (n, r) in rates {
                if let Some(t) = tput.iter_mut().find(|t| t.path == path && t.in_flight == n) {
                    t.requests_per_s.push(r);
                }
            }
        }
    }
    let latency = lat
        .iter()
        .filter_map(|(p, v)| {
            stats::summarize(v).map(|x| Latency {
                path: *p,
                samples: x.n,
                p50_us: x.p50,
                p99_us: x.p99,
                mean_us: x.mean,
                min_us: x.min,
                max_us: x.max,
            })
        })
        .collect();
    Ok(ApiRtt {
        api: name.into(),
        version,
        request: describe,
        request_bytes,
        response_bytes: recorded.len(),
        latency,
        throughput: tput,
    })
}

async fn real_main(a: &Args) -> Result<RttReport> {
    let broker = match (&a.bootstrap, &a.cluster_json) {
        (Some(b), _) => b.clone(),
        (None, Some(p)) => bootstrap_from_json(
            &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        )?,
        (None, None) => bail!("give --bootstrap or --cluster-json"),
    };
    let s = settings(a);
    let load_before = load_average();
    let cfg = ClientConfig::new([broker.clone()]).client_id(CLIENT_ID);
    let conn = BrokerConnection::connect(&broker, -1, &cfg)
        .await
        .with_context(|| format!("connecting to the broker at {broker}"))?;
    let md_v = conn.pick_version::<MetadataRequest>()?;
    let q_v = conn.pick_version::<DescribeClientQuotasRequest>()?;
    eprintln!(
        "kquota-bench-rtt: broker {broker}: Metadata v{md_v}, DescribeClientQuotas v{q_v}; seeding the quota"
    );
    seed_quota(&conn).await?;
    conn.close().await;

    // Record the broker's response frames, through the bare client, once.
    let av_req = ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("kquota"))
        .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
    let mut rec = Raw::connect(&broker).await?;
    let av = rec
        .round_trip(&mut encode(API_VERSIONS_VERSION, &av_req)?)
        .await?;
    let md = rec
        .round_trip(&mut encode(md_v, &metadata_request())?)
        .await?;
    let q = rec
        .round_trip(&mut encode(q_v, &describe_request())?)
        .await?;
    // Warm the broker's JVM up on exactly these requests (8 in flight, bare loop).
    if s.broker_warmup_requests > 0 {
        eprintln!(
            "kquota-bench-rtt: warming the broker up ({} requests of each type)",
            s.broker_warmup_requests
        );
        let (mut f1, mut f2) = (
            encode(md_v, &metadata_request())?,
            encode(q_v, &describe_request())?,
        );
        rec.pipelined(&mut f1, 8, s.broker_warmup_requests).await?;
        rec.pipelined(&mut f2, 8, s.broker_warmup_requests).await?;
    }
    drop(rec);
    let body = |f: &[u8]| Bytes::copy_from_slice(&f[wire::PREFIX..]);
    let (_, avr) = frame::decode_response::<ApiVersionsResponse>(body(&av), API_VERSIONS_VERSION)
        .map_err(|e| anyhow!("recorded ApiVersions response: {e}"))?;
    let (_, mdr) = frame::decode_response::<MetadataResponse>(body(&md), md_v)
        .map_err(|e| anyhow!("recorded Metadata response: {e}"))?;
    let (_, qr) = frame::decode_response::<DescribeClientQuotasResponse>(body(&q), q_v)
        .map_err(|e| anyhow!("recorded DescribeClientQuotas response: {e}"))?;
    if avr.error_code != 0 || mdr.error_code != 0 || qr.error_code != 0 {
        bail!(
            "a recorded response carries an error (ApiVersions {}, Metadata {}, DescribeClientQuotas {})",
            avr.error_code,
            mdr.error_code,
            qr.error_code
        );
    }
    let entries = qr.entries.as_ref().map_or(0, Vec::len);
    let values: usize = qr.entries.iter().flatten().map(|e| e.values.len()).sum();
    let mut table = EchoTable::default();
    table.insert(ApiKey::ApiVersions as i16, API_VERSIONS_VERSION, av);
    table.insert(ApiKey::Metadata as i16, md_v, md.clone());
    table.insert(ApiKey::DescribeClientQuotas as i16, q_v, q.clone());
    let echo = start_echo(table)?;
    eprintln!("kquota-bench-rtt: echo server at {echo}");

    let ctx = Ctx {
        broker: broker.clone(),
        echo,
        cfg,
        s,
        throttled: Arc::new(AtomicU64::new(0)),
    };
    let md_desc = format!(
        "Metadata with `topics: []` (no topic: brokers, controller, cluster id); the answer lists {} broker(s)",
        mdr.brokers.len()
    );
    let q_desc = format!(
        "DescribeClientQuotas for user={QUOTA_USER}, client-id={QUOTA_CLIENT} (exact, strict), \
         seeded with producer_byte_rate and consumer_byte_rate; the answer has {entries} \
         entity with {values} values"
    );
    let apis = vec![
        measure(&ctx, "Metadata", md_desc, md_v, metadata_request(), &md).await?,
        measure(
            &ctx,
            "DescribeClientQuotas",
            q_desc,
            q_v,
            describe_request(),
            &q,
        )
        .await?,
    ];
    Ok(RttReport {
        schema: report::SCHEMA,
        broker,
        settings: ctx.s,
        apis,
        throttled_responses: ctx.throttled.load(Ordering::Relaxed),
        load_average: [load_before, load_average()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_testkit_cluster_json() {
        let j = r#"{"bootstrap":{"PLAINTEXT":"127.0.0.1:39092","SSL":"127.0.0.1:39093"},"java":"/usr/bin/java"}"#;
        assert_eq!(bootstrap_from_json(j).unwrap(), "127.0.0.1:39092");
        assert!(bootstrap_from_json(r#"{"bootstrap":{}}"#).is_err());
        assert!(bootstrap_from_json("not json").is_err());
    }

    #[test]
    fn quick_and_explicit_settings() {
        let a = Args::parse_from(["rtt", "--bootstrap", "b:1", "--quick", "--rounds", "2"]);
        let s = settings(&a);
        assert_eq!(
            (
                s.latency_requests,
                s.warmup_requests,
                s.throughput_requests,
                s.rounds
            ),
            (500, 100, 2_000, 2)
        );
        assert_eq!(s.in_flight, vec![1, 8, 64]);
        let a = Args::parse_from(["rtt", "--bootstrap", "b:1", "--in-flight", "1,4"]);
        let s = settings(&a);
        assert_eq!((s.latency_requests, s.rounds), (2_000, 5));
        assert_eq!(s.in_flight, vec![1, 4]);
        assert!(Args::try_parse_from(["rtt"]).is_err());
    }

    #[test]
    fn request_frames_are_what_kquota_net_sends() {
        // The bare loop's frame is kquota-net's encoding: same client id, header and body.
        let f = encode(12, &metadata_request()).unwrap();
        assert_eq!(
            wire::request_header(&f[wire::PREFIX..]),
            Some((ApiKey::Metadata as i16, 12, 0))
        );
        assert_eq!(
            i32::from_be_bytes([f[0], f[1], f[2], f[3]]) as usize,
            f.len() - wire::PREFIX
        );
        let q = encode(1, &describe_request()).unwrap();
        assert!(q
            .windows(QUOTA_USER.len())
            .any(|w| w == QUOTA_USER.as_bytes()));
    }
}
