//! `kquota produce` / `kquota consume --cw-namespace ...` as processes against the testkit
//! broker, with the throttle metrics published to moto's CloudWatch and read back with boto3:
//! namespace, dimension, metric names, unit and values equal to what the command printed.
//! Also: the flag errors (exit 2, nothing contacted) and a failing PutMetricData (one warning
//! line per call, exit 4 at the end, no secret in the output).
//!
//! aws-sdk-cloudwatch speaks only Smithy RPC v2 CBOR and moto's server only Query / AWS JSON
//! for CloudWatch, so the SDK is pointed at `moto_cloudwatch_gateway.py`, which re-encodes each
//! request as AWS JSON for moto and moto's answer as CBOR, values untouched.

#[path = "../../../testdata/iam/moto_server.rs"]
mod moto_server;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use kquota_testkit::{shared, Listener};

mod common;
use common::{kquota, run_to_end as run};
use serde_json::Value;

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// The CBOR-to-JSON gateway in front of a moto server.
struct Gateway {
    child: Child,
    url: String,
}

impl Gateway {
    fn start(moto_url: &str) -> Gateway {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moto_cloudwatch_gateway.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(moto_url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("gateway did not print its port: {line:?}"));
        Gateway {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn with_keys(c: &mut Command) -> &mut Command {
    c.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", "us-east-1")
}

fn bootstrap() -> String {
    shared().bootstrap(Listener::Plaintext)
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Creates a one-partition topic and waits until it is listed.
fn create_topic(name: &str) {
    use kquota_admin::ops::{self, TopicSpec};
    block_on(async {
        let cluster = kquota_net::Cluster::connect(kquota_net::ClientConfig::new([bootstrap()]))
            .await
            .unwrap();
        let r = ops::create_topics(&cluster, &[TopicSpec::new(name, 1)])
            .await
            .unwrap();
        assert!(r[0].error.is_none(), "{r:?}");
        for _ in 0..100 {
            if ops::list_topics(&cluster)
                .await
                .unwrap()
                .contains(&name.to_string())
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("topic {name} not listed");
    });
}

fn delete_topic(name: &str) {
    block_on(async {
        let cluster = kquota_net::Cluster::connect(kquota_net::ClientConfig::new([bootstrap()]))
            .await
            .unwrap();
        let _ = kquota_admin::ops::delete_topics(&cluster, &[name.to_string()]).await;
    });
}

/// A client-id quota for the test, removed again on drop (also when the test fails).
struct Quota(String);

impl Quota {
    fn set(client_id: &str, kv: &str) -> Quota {
        let home = tempfile::tempdir().unwrap();
        let (code, out, err) = run(kquota(home.path())
            .args([
                "quotas",
                "alter",
                "-b",
                &bootstrap(),
                "--client-id",
                client_id,
            ])
            .args(["--set", kv]));
        assert_eq!(code, 0, "{out}{err}");
        Quota(client_id.to_string())
    }
}

impl Drop for Quota {
    fn drop(&mut self) {
        let home = tempfile::tempdir().unwrap();
        let _ = run(kquota(home.path()).args([
            "quotas",
            "delete",
            "-b",
            &bootstrap(),
            "--client-id",
            &self.0,
        ]));
    }
}

/// The JSON lines of a command's stdout that carry metrics (interval prints and the summary).
fn metric_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "metrics" || v["type"] == "summary")
        .collect()
}

/// What moto holds for `namespace`, read with boto3 (installed with moto): `list_metrics` (with
/// `dimension`, if given), and per metric name the SampleCount/Minimum/Maximum/Sum over all
/// data points with `dimension`.
fn read_back(
    moto_url: &str,
    namespace: &str,
    names: &[&str],
    dimension: Option<(&str, &str)>,
) -> Value {
    const SCRIPT: &str = r#"
import datetime, json, sys
import boto3
url, ns, dname, dvalue = sys.argv[1:5]
dims = [{"Name": dname, "Value": dvalue}] if dname else []
cw = boto3.client("cloudwatch", endpoint_url=url, region_name="us-east-1",
                  aws_access_key_id="x", aws_secret_access_key="y")
now = datetime.datetime.now(datetime.timezone.utc)
out = {"metrics": cw.list_metrics(Namespace=ns, Dimensions=dims)["Metrics"], "stats": {}}
for name in sys.argv[5:]:
    r = cw.get_metric_statistics(
        Namespace=ns, MetricName=name, Dimensions=dims,
        StartTime=now - datetime.timedelta(hours=1), EndTime=now + datetime.timedelta(hours=1),
        Period=7200, Statistics=["SampleCount", "Minimum", "Maximum", "Sum"])
    out["stats"][name] = [{k: v for k, v in p.items() if k != "Timestamp"} for p in r["Datapoints"]]
print(json.dumps(out))
"#;
    let (dname, dvalue) = dimension.unwrap_or(("", ""));
    let o = Command::new("python3")
        .args(["-c", SCRIPT, moto_url, namespace, dname, dvalue])
        .args(names)
        .output()
        .expect("python3 with boto3");
    assert!(
        o.status.success(),
        "boto3 read-back failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Moto holds exactly the printed values of `names` (one data point per print that had a
/// number), with the namespace, the one dimension and unit Milliseconds; returns the printed
/// maximum of the `-max` metric.
fn assert_published(
    moto_url: &str,
    namespace: &str,
    dimension: (&str, &str),
    names: [&str; 2],
    printed: &[Value],
) -> f64 {
    let got = read_back(moto_url, namespace, &names, Some(dimension));
    let mut listed: Vec<(String, Value)> = got["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["MetricName"].as_str().unwrap().to_string(), m.clone()))
        .collect();
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        listed.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        {
            let mut n = names.to_vec();
            n.sort();
            n
        },
        "{got}"
    );
    for (_, m) in &listed {
        assert_eq!(m["Namespace"], namespace, "{m}");
        assert_eq!(
            m["Dimensions"],
            serde_json::json!([{"Name": dimension.0, "Value": dimension.1}]),
            "{m}"
        );
    }
    let mut printed_max = 0.0;
    for name in names {
        let values: Vec<f64> = printed.iter().filter_map(|l| l[name].as_f64()).collect();
        assert!(!values.is_empty(), "{name} was never printed as a number");
        assert!(values.iter().all(|v| *v >= 0.0), "{name}: {values:?}");
        let points = got["stats"][name].as_array().unwrap();
        assert_eq!(points.len(), 1, "{name}: {points:?}");
        let p = &points[0];
        assert_eq!(p["Unit"], "Milliseconds", "{p}");
        assert_eq!(
            p["SampleCount"].as_f64().unwrap() as usize,
            values.len(),
            "{name}: one data point per print: printed {values:?}, moto {p}"
        );
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
        let min = values.iter().cloned().fold(f64::INFINITY, f64::min);
        let max = values.iter().cloned().fold(0.0, f64::max);
        let sum: f64 = values.iter().sum();
        for (stat, want) in [("Minimum", min), ("Maximum", max), ("Sum", sum)] {
            let v = p[stat].as_f64().unwrap();
            assert!(
                close(v, want),
                "{name} {stat}: moto {v}, printed {want} ({values:?})"
            );
        }
        if name.ends_with("-max") {
            printed_max = max;
        }
    }
    printed_max
}

#[test]
fn produce_and_consume_publish_their_throttle_metrics_to_moto() {
    let moto = moto_server::MotoServer::start();
    let gateway = Gateway::start(moto.url());
    let home = tempfile::tempdir().unwrap();
    let tag = std::process::id();
    let topic = format!("kquota-cw-{tag}");
    let producer_id = format!("cw-producer-{tag}");
    let consumer_id = format!("cw-consumer-{tag}");
    create_topic(&topic);
    // Quotas below the load, so the throttle metrics are real numbers above zero: ~13.5 kB in
    // well under the broker's 10 s rate window is > 1024 B/s once past ~10 kB.
    let _pq = Quota::set(&producer_id, "producer_byte_rate=1024");
    let _cq = Quota::set(&consumer_id, "consumer_byte_rate=1024");

    // Producer: the service-specific endpoint variable wins over a dead AWS_ENDPOINT_URL.
    let (code, out, err) = run(with_keys(&mut kquota(home.path()))
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ENDPOINT_URL_CLOUDWATCH", &gateway.url)
        .args(["produce", "-b", &bootstrap(), "--topic-name", &topic])
        .args(["--client-id", &producer_id])
        .args(["--num-messages", "12", "--message-size", "1000"])
        .args(["--print-producer-quota-metrics", "--metrics-interval", "1"])
        .args(["--json", "--quiet"])
        .args(["--cw-namespace", "kquota/test-quotas"])
        .args(["--cw-dimension-name", "ProducerApp"])
        .args(["--cw-dimension-value", "producerapp-cw"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("warning"), "{err}");
    let printed = metric_lines(&out);
    assert!(printed.len() >= 3, "interval prints and a summary: {out}");
    let summary = printed.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["acked"], 12, "{summary}");
    let max = assert_published(
        moto.url(),
        "kquota/test-quotas",
        ("ProducerApp", "producerapp-cw"),
        ["produce-throttle-time-avg", "produce-throttle-time-max"],
        &printed,
    );
    assert!(max > 0.0, "the producer quota throttled: {out}");

    // Consumer: small fetches, so several throttled fetches and interval publishes; only the
    // generic AWS_ENDPOINT_URL this time.
    let (code, out, err) = run(with_keys(&mut kquota(home.path()))
        .env("AWS_ENDPOINT_URL", &gateway.url)
        .args(["consume", "-b", &bootstrap(), "--topic-name", &topic])
        .args(["--client-id", &consumer_id])
        .args([
            "--num-messages",
            "12",
            "--max-partition-fetch-bytes",
            "3000",
        ])
        .args(["--print-consumer-quota-metrics", "--metrics-interval", "1"])
        .args(["--json", "--quiet"])
        .args(["--cw-namespace", "kquota/test-quotas"])
        .args(["--cw-dimension-name", "ConsumerApp"])
        .args(["--cw-dimension-value", "consumerapp-cw"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("warning"), "{err}");
    let printed = metric_lines(&out);
    assert!(printed.len() >= 2, "{out}");
    assert_eq!(printed.last().unwrap()["acked"], 12, "{out}");
    let max = assert_published(
        moto.url(),
        "kquota/test-quotas",
        ("ConsumerApp", "consumerapp-cw"),
        ["fetch-throttle-time-avg", "fetch-throttle-time-max"],
        &printed,
    );
    assert!(max > 0.0, "the consumer quota throttled: {out}");

    // Both apps' metrics sit side by side in the namespace.
    let all = read_back(moto.url(), "kquota/test-quotas", &[], None);
    assert_eq!(all["metrics"].as_array().unwrap().len(), 4, "{all}");
    delete_topic(&topic);
    drop(gateway);
    drop(moto);
}

#[test]
fn cloudwatch_flag_errors_are_usage_errors_before_any_connection() {
    let home = tempfile::tempdir().unwrap();
    // Nothing listens on port 1: a usage error must come before any connection attempt.
    let produce = ["produce", "-b", "127.0.0.1:1", "--topic-name", "t"];
    let consume = [
        "consume",
        "-b",
        "127.0.0.1:1",
        "--topic-name",
        "t",
        "--num-messages",
        "1",
    ];
    let cases: Vec<(Vec<&str>, bool, i32, &str)> = vec![
        (
            [
                &produce[..],
                &["--cw-namespace", "N", "--cw-dimension-name", "App"],
            ]
            .concat(),
            true,
            2,
            "--cw-dimension-name needs --cw-dimension-value",
        ),
        (
            [
                &consume[..],
                &["--cw-namespace", "N", "--cw-dimension-value", "a1"],
            ]
            .concat(),
            true,
            2,
            "--cw-dimension-value needs --cw-dimension-name",
        ),
        (
            [
                &produce[..],
                &["--cw-dimension-name", "App", "--cw-dimension-value", "a1"],
            ]
            .concat(),
            true,
            2,
            "need --cw-namespace",
        ),
        (
            [&consume[..], &["--cw-namespace", "AWS/Kafka"]].concat(),
            true,
            2,
            "reserved for AWS services",
        ),
        (
            [&produce[..], &["--cw-namespace", ""]].concat(),
            true,
            2,
            "--cw-namespace \"\" must not be empty",
        ),
        // No region anywhere (no AWS_REGION, no profile): usage error naming the fix.
        (
            [&produce[..], &["--cw-namespace", "N"]].concat(),
            false,
            2,
            "no AWS region for CloudWatch metrics",
        ),
        (
            [&produce[..], &["--cw-namespace", "N", "--region", "Mars 1"]].concat(),
            false,
            2,
            "is not an AWS region name",
        ),
        // A region but no credentials: exit 4, before connecting to the broker.
        (
            [
                &consume[..],
                &["--cw-namespace", "N", "--region", "us-east-1"],
            ]
            .concat(),
            false,
            4,
            "could not load AWS credentials from the AWS default credential chain",
        ),
    ];
    for (args, keys, want_code, want) in cases {
        let mut c = kquota(home.path());
        if keys {
            with_keys(&mut c);
        }
        let (code, out, err) = run(c.args(&args));
        assert_eq!(code, want_code, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: stdout {out}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(
            !err.contains("127.0.0.1:1"),
            "{args:?}: the broker was contacted: {err}"
        );
    }
}

#[test]
fn failing_put_metric_data_warns_per_call_and_exits_4() {
    let home = tempfile::tempdir().unwrap();
    let topic = format!("kquota-cw-fail-{}", std::process::id());
    create_topic(&topic);
    // A closed port: every PutMetricData fails to connect (after the SDK's retries).
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let (code, out, err) = run(with_keys(&mut kquota(home.path()))
        .env("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLESESSIONTOKEN")
        .env("AWS_ENDPOINT_URL_CLOUDWATCH", &dead)
        .args(["produce", "-b", &bootstrap(), "--topic-name", &topic])
        .args(["--num-messages", "5", "--quiet"])
        .args(["--cw-namespace", "kquota/test-fail"])
        .args(["--cw-dimension-name", "ProducerApp"])
        .args(["--cw-dimension-value", "p1"]));
    delete_topic(&topic);
    assert_eq!(code, 4, "{out}{err}");
    // The records were all delivered and the normal output is there.
    assert!(out.contains("produce: 5 records, 5 ok, 0 failed"), "{out}");
    let warnings: Vec<&str> = err
        .lines()
        .map(|l| l.trim_start_matches('\r'))
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert!(!warnings.is_empty(), "{err}");
    for w in &warnings {
        assert!(
            w.starts_with(
                "warning: AWS CloudWatch PutMetricData for namespace kquota/test-fail failed: cannot reach the endpoint"
            ),
            "{w}"
        );
        assert!(w.contains("check the network"), "{w}");
    }
    let last = err.lines().last().unwrap();
    assert_eq!(
        last,
        format!(
            "error: {n} of {n} CloudWatch PutMetricData call(s) failed (see the warnings above)",
            n = warnings.len()
        ),
        "{err}"
    );
    assert_eq!(err.lines().count(), warnings.len() + 1, "{err}");
    for secret in [SECRET, "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"] {
        assert!(
            !err.contains(secret) && !out.contains(secret),
            "secret leaked: {err}"
        );
    }
}
