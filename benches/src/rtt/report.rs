//! What `kquota-bench-rtt` prints (one JSON document on stdout) and its Markdown section of
//! benches/RESULTS.md. One definition for both binaries: the rtt bench includes this file as
//! `report`, the harness as `rtt_report` (`#[path]`), so the writer and the reader of the JSON
//! cannot drift apart.
#![allow(dead_code)] // each binary uses one half (write / read and render)

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// Bumped when the JSON changes incompatibly.
pub const SCHEMA: u32 = 1;
/// The section heading in RESULTS.md.
pub const TITLE: &str = "Request round trip (kquota-net)";

/// Where a request went and through what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Path {
    /// kquota-net's `BrokerConnection` to the testkit broker.
    BrokerKquota,
    /// kquota-net's `BrokerConnection` to the echo server.
    EchoKquota,
    /// A bare tokio loop (pre-encoded frames, size-prefix framing only) to the echo server.
    EchoRaw,
    /// The same bare loop to the broker.
    BrokerRaw,
}

impl Path {
    /// Table column order.
    pub const ALL: [Path; 4] = [
        Path::BrokerKquota,
        Path::EchoKquota,
        Path::EchoRaw,
        Path::BrokerRaw,
    ];

    /// Column heading.
    pub fn label(self) -> &'static str {
        match self {
            Path::BrokerKquota => "broker via kquota-net",
            Path::EchoKquota => "echo via kquota-net",
            Path::EchoRaw => "echo raw",
            Path::BrokerRaw => "broker raw",
        }
    }
}

/// The whole output of one `kquota-bench-rtt` run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RttReport {
    /// [`SCHEMA`].
    pub schema: u32,
    /// Broker address measured.
    pub broker: String,
    /// How it was run.
    pub settings: RttSettings,
    /// One entry per request type.
    pub apis: Vec<ApiRtt>,
    /// Responses through kquota-net with `throttle_time_ms > 0` (should be 0: nothing is
    /// throttled, or the figures include KIP-219 waits).
    pub throttled_responses: u64,
    /// /proc/loadavg (1, 5, 15 min) before and after the measurements: the figures are only
    /// as good as the machine was quiet.
    pub load_average: [String; 2],
}

/// Iteration counts and the runtime set-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RttSettings {
    /// Timed requests per path per round, one in flight.
    pub latency_requests: usize,
    /// Untimed requests on each fresh connection first.
    pub warmup_requests: usize,
    /// Requests of each type sent to the broker once before anything is timed (JIT warm-up).
    pub broker_warmup_requests: usize,
    /// Requests per throughput run.
    pub throughput_requests: usize,
    /// Rounds; the paths alternate within a round, their order rotating round by round.
    pub rounds: usize,
    /// The in-flight settings of the throughput runs.
    pub in_flight: Vec<usize>,
    /// The client side (runtime, threads).
    pub client: String,
    /// The echo server (runtime, threads, what it answers).
    pub echo: String,
}

/// Results for one request type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiRtt {
    /// e.g. `Metadata`.
    pub api: String,
    /// The version used (negotiated with the broker: the highest both sides support).
    pub version: i16,
    /// What the request asks for.
    pub request: String,
    /// Request frame size, prefix included.
    pub request_bytes: usize,
    /// The broker's response frame size, prefix included (what the echo server replays).
    pub response_bytes: usize,
    /// One in flight, per path.
    pub latency: Vec<Latency>,
    /// Per path and in-flight setting.
    pub throughput: Vec<Throughput>,
}

/// Latency of one path (samples of all rounds pooled), in µs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// The path.
    pub path: Path,
    /// Timed requests.
    pub samples: usize,
    /// Median.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Mean.
    pub mean_us: f64,
    /// Fastest.
    pub min_us: f64,
    /// Slowest.
    pub max_us: f64,
}

/// Requests/s of one path at one in-flight setting, one figure per round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// The path.
    pub path: Path,
    /// Requests outstanding at any time.
    pub in_flight: usize,
    /// One per round.
    pub requests_per_s: Vec<f64>,
}

impl Throughput {
    /// Median over the rounds.
    pub fn median(&self) -> Option<f64> {
        median(&self.requests_per_s)
    }
}

impl ApiRtt {
    /// `Metadata v12`.
    pub fn name(&self) -> String {
        format!("{} v{}", self.api, self.version)
    }

    fn latency(&self, p: Path) -> Option<&Latency> {
        self.latency.iter().find(|l| l.path == p)
    }

    fn rps(&self, p: Path, in_flight: usize) -> Option<f64> {
        self.throughput
            .iter()
            .find(|t| t.path == p && t.in_flight == in_flight)
            .and_then(Throughput::median)
    }
}

/// Reads the JSON document `kquota-bench-rtt` printed.
pub fn parse(stdout: &str) -> Result<RttReport, String> {
    let r: RttReport = serde_json::from_str(stdout.trim())
        .map_err(|e| format!("kquota-bench-rtt output is not its JSON report: {e}"))?;
    if r.schema != SCHEMA {
        return Err(format!(
            "kquota-bench-rtt report schema {} (this harness reads {SCHEMA})",
            r.schema
        ));
    }
    Ok(r)
}

/// Median (mean of the middle two for an even count); `None` when empty.
pub fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let m = s.len() / 2;
    Some(if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    })
}

/// kquota-net's cost per request in µs from two rates: 1/kquota − 1/raw.
pub fn per_request_cost_us(kquota_rps: f64, raw_rps: f64) -> Option<f64> {
    (kquota_rps > 0.0 && raw_rps > 0.0).then(|| 1e6 / kquota_rps - 1e6 / raw_rps)
}

fn us(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "–".into())
}

fn signed_us(v: Option<f64>) -> String {
    v.map(|v| format!("{v:+.1}")).unwrap_or_else(|| "–".into())
}

fn count(v: Option<f64>) -> String {
    let Some(v) = v else { return "–".into() };
    let s = (v.round() as u64).to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn diff(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? - b?)
}

/// The RESULTS.md section. `broker` names the broker (e.g. "Apache Kafka 4.1.1 (kquota-testkit,
/// …)"); `settings` are extra lines for its settings table (e.g. the build profile).
pub fn render(r: &RttReport, broker: &str, settings: &[String], out: &mut String) {
    let s = &r.settings;
    let _ = writeln!(out, "## {TITLE}\n");
    let _ = writeln!(
        out,
        "`kquota-bench-rtt` (benches/src/rtt): the cost of kquota-net's `BrokerConnection` per \
         request, apart from the broker's. Each request goes four ways: to the broker through \
         kquota-net; to an echo server through kquota-net; to the echo server through a bare \
         tokio loop; to the broker through that bare loop. The echo server (in the same \
         process, 127.0.0.1) answers every request frame with the response frame the broker \
         sent for that request, recorded once, with the request's correlation id put in, so \
         the bytes on the wire are the same as with the broker. The bare loop writes \
         pre-encoded request frames and cuts response frames by their size prefix; it neither \
         encodes nor decodes a message.\n"
    );
    let _ = writeln!(out, "| setting | value |\n|---|---|");
    let _ = writeln!(out, "| broker | {} at {} |", broker, r.broker);
    for a in &r.apis {
        let _ = writeln!(
            out,
            "| {} | {}; request frame {} B, response frame {} B |",
            a.name(),
            a.request,
            a.request_bytes,
            a.response_bytes
        );
    }
    let _ = writeln!(
        out,
        "| warm-up | {} requests of each type to the broker before anything is timed (its JVM \
         compiles the request path); {} untimed requests on each fresh connection |",
        s.broker_warmup_requests, s.warmup_requests
    );
    let _ = writeln!(
        out,
        "| latency | one request in flight; {} timed requests per way per round; {} round(s), \
         the ways alternating in a rotating order; samples of all rounds pooled; nearest-rank \
         percentiles |",
        s.latency_requests, s.rounds
    );
    let _ = writeln!(
        out,
        "| throughput | {} requests per run, kept {} in flight (kquota-net: that many tasks \
         sharing one connection, each sending its next request when its response arrives; \
         bare loop: a window of that many, refilled as responses come; both write one request \
         per write call); median of {} round(s) |",
        s.throughput_requests,
        s.in_flight
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" / "),
        s.rounds
    );
    let _ = writeln!(out, "| client | {} |", s.client);
    let _ = writeln!(out, "| echo server | {} |", s.echo);
    for x in settings {
        let _ = writeln!(out, "| setting | {} |", x.replace('|', "\\|"));
    }
    let _ = writeln!(
        out,
        "| throttled responses | {} (through kquota-net; 0 means no KIP-219 wait is in the figures) |",
        r.throttled_responses
    );
    let _ = writeln!(
        out,
        "| load average (1/5/15 min) | {} before, {} after |",
        r.load_average[0], r.load_average[1]
    );
    let _ = writeln!(out);

    let heads: Vec<&str> = Path::ALL.iter().map(|p| p.label()).collect();
    let _ = writeln!(out, "### Latency, 1 in flight (µs)\n");
    let _ = writeln!(
        out,
        "| request | statistic | {} | kquota-net overhead (echo) | kquota-net overhead (broker) |",
        heads.join(" | ")
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|");
    type Pick = fn(&Latency) -> f64;
    let stats: [(&str, Pick); 4] = [
        ("p50", |l| l.p50_us),
        ("p99", |l| l.p99_us),
        ("mean", |l| l.mean_us),
        ("min", |l| l.min_us),
    ];
    for a in &r.apis {
        for (stat, pick) in stats {
            let v = |p: Path| a.latency(p).map(pick);
            let cells: Vec<String> = Path::ALL.iter().map(|&p| us(v(p))).collect();
            let _ = writeln!(
                out,
                "| {} | {stat} | {} | {} | {} |",
                a.name(),
                cells.join(" | "),
                signed_us(diff(v(Path::EchoKquota), v(Path::EchoRaw))),
                signed_us(diff(v(Path::BrokerKquota), v(Path::BrokerRaw)))
            );
        }
    }
    let _ = writeln!(out);

    let _ = writeln!(out, "### Requests/s\n");
    let _ = writeln!(
        out,
        "| request | in flight | {} | kquota-net µs/request (echo) | kquota-net µs/request (broker) |",
        heads.join(" | ")
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for a in &r.apis {
        for &n in &s.in_flight {
            let cells: Vec<String> = Path::ALL.iter().map(|&p| count(a.rps(p, n))).collect();
            let cost = |kq: Path, raw: Path| {
                a.rps(kq, n)
                    .zip(a.rps(raw, n))
                    .and_then(|(k, r)| per_request_cost_us(k, r))
            };
            let _ = writeln!(
                out,
                "| {} | {n} | {} | {} | {} |",
                a.name(),
                cells.join(" | "),
                signed_us(cost(Path::EchoKquota, Path::EchoRaw)),
                signed_us(cost(Path::BrokerKquota, Path::BrokerRaw))
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "- kquota-net overhead (echo) = echo via kquota-net − echo raw: encoding the request, \
         the correlation map, the reader task and its wake-up of the caller, decoding the \
         response, with no broker in the way. (broker) is the same difference against the \
         broker, a cross-check that includes how the broker reacts to the two clients.\n\
         - min is the fastest single round trip: the least disturbed by other load on the \
         machine, so on a busy machine compare the min rows first.\n\
         - µs/request = 10⁶/kquota-net rate − 10⁶/raw rate at the same in-flight setting.\n\
         - The broker's own time per request is roughly broker raw − echo raw. Kafka handles \
         one request per connection at a time, so against the broker more in flight overlaps \
         only the network and client work, not the broker's.\n"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RttReport {
        let lat = |path, p50| Latency {
            path,
            samples: 10,
            p50_us: p50,
            p99_us: p50 * 2.0,
            mean_us: p50 * 1.25, // exact in binary: the JSON round trip compares equal
            min_us: p50 / 2.0,
            max_us: p50 * 3.0,
        };
        let tput = |path, in_flight, rps: f64| Throughput {
            path,
            in_flight,
            requests_per_s: vec![rps * 0.75, rps, rps * 1.25],
        };
        RttReport {
            schema: SCHEMA,
            broker: "127.0.0.1:9092".into(),
            settings: RttSettings {
                latency_requests: 10,
                warmup_requests: 2,
                broker_warmup_requests: 50,
                throughput_requests: 100,
                rounds: 3,
                in_flight: vec![1, 8],
                client: "tokio current_thread".into(),
                echo: "own thread".into(),
            },
            apis: vec![ApiRtt {
                api: "Metadata".into(),
                version: 12,
                request: "topics: []".into(),
                request_bytes: 40,
                response_bytes: 90,
                latency: vec![
                    lat(Path::BrokerKquota, 120.0),
                    lat(Path::EchoKquota, 30.0),
                    lat(Path::EchoRaw, 20.0),
                    lat(Path::BrokerRaw, 110.0),
                ],
                throughput: vec![
                    tput(Path::BrokerKquota, 1, 8_000.0),
                    tput(Path::EchoKquota, 1, 40_000.0),
                    tput(Path::EchoRaw, 1, 50_000.0),
                    tput(Path::BrokerRaw, 1, 9_000.0),
                    tput(Path::EchoKquota, 8, 100_000.0),
                    tput(Path::EchoRaw, 8, 200_000.0),
                ],
            }],
            throttled_responses: 0,
            load_average: ["0.10 0.20 0.30".into(), "1.00 0.50 0.40".into()],
        }
    }

    #[test]
    fn json_round_trip_and_schema_check() {
        let r = sample();
        let json = serde_json::to_string_pretty(&r).unwrap();
        assert!(json.contains("\"path\": \"echo_raw\""));
        assert_eq!(parse(&format!("\n{json}\n")).unwrap(), r);
        let old = json.replace("\"schema\": 1", "\"schema\": 0");
        assert!(parse(&old).unwrap_err().contains("schema 0"));
        assert!(parse("kquota-bench-rtt: error: boom").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn medians_and_costs() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        // 40 000/s vs 50 000/s: 25 µs − 20 µs per request.
        assert!((per_request_cost_us(40_000.0, 50_000.0).unwrap() - 5.0).abs() < 1e-9);
        assert_eq!(per_request_cost_us(0.0, 50_000.0), None);
    }

    #[test]
    fn renders_the_section() {
        let mut md = String::new();
        render(
            &sample(),
            "Apache Kafka 4.1.1",
            &["build: release".to_string()],
            &mut md,
        );
        assert!(md.starts_with(&format!("## {TITLE}\n")));
        assert!(
            md.contains("| Metadata v12 | topics: []; request frame 40 B, response frame 90 B |")
        );
        assert!(md.contains("| setting | build: release |"));
        assert!(md.contains("| 0.10 0.20 0.30 before, 1.00 0.50 0.40 after |"));
        // Column order: broker/kquota, echo/kquota, echo raw, broker raw; overheads.
        assert!(md.contains("| Metadata v12 | p50 | 120.0 | 30.0 | 20.0 | 110.0 | +10.0 | +10.0 |"));
        assert!(md.contains("| Metadata v12 | p99 | 240.0 | 60.0 | 40.0 | 220.0 | +20.0 | +20.0 |"));
        assert!(md.contains("| Metadata v12 | min | 60.0 | 15.0 | 10.0 | 55.0 | +5.0 | +5.0 |"));
        assert!(
            md.contains("| Metadata v12 | 1 | 8 000 | 40 000 | 50 000 | 9 000 | +5.0 | +13.9 |")
        );
        // Missing ways are dashes, not zeros.
        assert!(md.contains("| Metadata v12 | 8 | – | 100 000 | 200 000 | – | +5.0 | – |"));
    }
}
