//! `kquota produce` / `kquota consume` as processes, run the way the MSK sample apps are run,
//! against the testkit's real Kafka broker:
//!
//! - MSK IAM end to end: the binary assumes `Topic-B-Write-Role` / `Topic-B-Read-Role` through
//!   moto's STS, signs its OAUTHBEARER token with the assumed-role credentials, and the broker's
//!   MSK-IAM validator authenticates it as the assumed-role ARN that STS returned (the
//!   StandardAuthorizer then lets exactly that principal write or read the topic);
//! - `--identity-secret`: the client-id and role session name come from a Secrets Manager
//!   secret (moto), shown by a quota on exactly that (principal, client-id) pair throttling
//!   the run;
//! - bad input: one `error:` line on stderr and the documented exit code for a topic that does
//!   not exist, a group the principal may not use, an unknown compression name, a record larger
//!   than allowed (by the producer and by the broker), an unreachable broker, and a broker that
//!   goes away mid-run (the summary accounts for every record, and the acknowledged ones are in
//!   the log after a restart).
//!
//! Every process runs under a deadline and is killed (and the test fails) if it overstays.
//!
//! How moto's credentials become acceptable to the validator: MSK knows every STS session; the
//! testkit validator only knows the keys in its credentials file. As in
//! `kquota-iam/tests/broker_e2e.rs`, which registers the credentials it got from AssumeRole with
//! `KafkaCluster::register_iam_credentials`, these tests do the same for the credentials the
//! *binary* gets: [`StsRelay`] sits between the binary and moto's STS
//! (`AWS_ENDPOINT_URL_STS`), forwards every request unchanged, and registers each AssumeRole
//! answer's keys and `AssumedRoleUser` ARN before handing the answer back. Secrets Manager
//! calls go straight to moto (`AWS_ENDPOINT_URL`).

#[path = "../../../testdata/iam/moto_server.rs"]
mod moto_server;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use kquota_testkit::{shared, ClusterSpec, KafkaCluster, Listener};

mod common;
use common::{kquota, put_secret};
use serde_json::Value;

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const WRITE_ROLE: &str = "arn:aws:iam::111111111111:role/Topic-B-Write-Role";
const READ_ROLE: &str = "arn:aws:iam::111111111111:role/Topic-B-Read-Role";
const PRODUCER_PRINCIPAL: &str =
    "arn:aws:sts::111111111111:assumed-role/Topic-B-Write-Role/producerapp-1-role-session";
const CONSUMER_PRINCIPAL: &str =
    "arn:aws:sts::111111111111:assumed-role/Topic-B-Read-Role/consumerapp-1-role-session";
/// Generous: a run is seconds; a hang must fail the test, not the CI job.
const DEADLINE: Duration = Duration::from_secs(150);

// ---------------------------------------------------------------------------------------------
// Processes

/// The caller's own AWS identity (long-term keys moto accepts), STS through the relay and
/// everything else (Secrets Manager) straight to moto.
fn with_aws<'a>(c: &'a mut Command, moto: &str, relay: &StsRelay) -> &'a mut Command {
    c.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_ENDPOINT_URL", moto)
        .env("AWS_ENDPOINT_URL_STS", &relay.url)
}

/// A running `kquota` whose stdout lines arrive on a channel as they are printed.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    out: Arc<Mutex<String>>,
    err: Arc<Mutex<String>>,
    readers: Vec<thread::JoinHandle<()>>,
}

fn spawn(c: &mut Command) -> Running {
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kquota");
    let (tx, lines) = mpsc::channel();
    let out = Arc::new(Mutex::new(String::new()));
    let err = Arc::new(Mutex::new(String::new()));
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let o = out.clone();
    let e = err.clone();
    let readers = vec![
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                o.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        }),
        thread::spawn(move || {
            let mut s = String::new();
            let _ = BufReader::new(stderr).read_to_string(&mut s);
            e.lock().unwrap().push_str(&s);
        }),
    ];
    Running {
        child,
        lines,
        out,
        err,
        readers,
    }
}

impl Running {
    /// Waits for the exit within `limit`; kills the process and fails the test otherwise.
    fn finish(mut self, limit: Duration) -> (i32, String, String) {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(st) = self.child.try_wait().expect("wait for kquota") {
                break st;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                for r in self.readers.drain(..) {
                    let _ = r.join();
                }
                panic!(
                    "kquota did not finish within {} s (killed)\nstdout:\n{}\nstderr:\n{}",
                    limit.as_secs(),
                    self.out.lock().unwrap(),
                    self.err.lock().unwrap()
                );
            }
            thread::sleep(Duration::from_millis(50));
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        let out = self.out.lock().unwrap().clone();
        let err = self.err.lock().unwrap().clone();
        assert!(!err.contains("panicked"), "kquota panicked: {err}");
        (status.code().unwrap_or(-1), out, err)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(c: &mut Command) -> (i32, String, String) {
    spawn(c).finish(DEADLINE)
}

fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn summary(out: &str) -> Value {
    let lines = json_lines(out);
    let last = lines.last().cloned().unwrap_or_else(|| panic!("no output"));
    assert_eq!(last["type"], "summary", "{out}");
    last
}

/// Exactly one line on stderr, `error: ...`, containing `want`.
fn assert_one_error_line(err: &str, want: &str, what: &str) {
    assert_eq!(err.lines().count(), 1, "{what}: {err}");
    assert!(err.starts_with("error: "), "{what}: {err}");
    assert!(err.contains(want), "{what}: want {want:?} in {err}");
}

/// A closed port on 127.0.0.1.
fn dead_addr() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

// ---------------------------------------------------------------------------------------------
// Cluster set-up (PLAINTEXT: the testkit's anonymous super user)

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

async fn admin(cluster: &KafkaCluster) -> kquota_net::Cluster {
    kquota_net::Cluster::connect(kquota_net::ClientConfig::new([
        cluster.bootstrap(Listener::Plaintext)
    ]))
    .await
    .unwrap()
}

/// Creates a topic (with topic configs) and waits until every partition has a leader.
fn create_topic(cluster: &KafkaCluster, name: &str, partitions: i32, configs: &[(&str, &str)]) {
    use kquota_net::kafka_protocol::messages::create_topics_request::{
        CreatableTopic, CreatableTopicConfig,
    };
    use kquota_net::kafka_protocol::messages::{CreateTopicsRequest, TopicName};
    use kquota_net::kafka_protocol::protocol::StrBytes;
    block_on(async {
        let c = admin(cluster).await;
        let mut t = CreatableTopic::default();
        t.name = TopicName(StrBytes::from_string(name.to_string()));
        t.num_partitions = partitions;
        t.replication_factor = -1;
        t.configs = configs
            .iter()
            .map(|(k, v)| {
                let mut e = CreatableTopicConfig::default();
                e.name = StrBytes::from_string(k.to_string());
                e.value = Some(StrBytes::from_string(v.to_string()));
                e
            })
            .collect();
        let mut req = CreateTopicsRequest::default();
        req.timeout_ms = 30_000;
        req.topics = vec![t];
        let r = c
            .send(kquota_net::Target::Controller, req)
            .await
            .expect("CreateTopics");
        assert_eq!(
            r.body.topics[0].error_code, 0,
            "create {name}: {:?}",
            r.body
        );
        for _ in 0..100 {
            let md = c.refresh_metadata(Some(&[name.to_string()])).await.unwrap();
            let ready = md.topics.get(name).is_some_and(|t| {
                t.partitions.len() == partitions as usize
                    && t.partitions.values().all(|p| p.leader.is_some())
            });
            if ready {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        c.close().await;
    });
}

fn delete_topic(cluster: &KafkaCluster, name: &str) {
    block_on(async {
        let c = admin(cluster).await;
        let _ = kquota_admin::ops::delete_topics(&c, &[name.to_string()]).await;
        c.close().await;
    });
}

/// Allows `principal` (`User:` added) each operation on the resource.
fn allow(
    cluster: &KafkaCluster,
    resource: kquota_admin::ops::ResourceType,
    name: &str,
    principal: &str,
    ops: &[kquota_admin::ops::Operation],
) {
    use kquota_admin::ops::{self, Acl};
    block_on(async {
        let c = admin(cluster).await;
        let acls: Vec<Acl> = ops
            .iter()
            .map(|op| Acl::allow(resource, name, &format!("User:{principal}"), *op))
            .collect();
        let r = ops::create_acls(&c, &acls).await.unwrap();
        assert!(r.iter().all(|x| x.error.is_none()), "{r:?}");
        c.close().await;
    });
    // ACLs reach the broker's authorizer through the metadata log: a few ms.
    thread::sleep(Duration::from_millis(500));
}

fn allow_topic(cluster: &KafkaCluster, topic: &str, principal: &str, write: bool) {
    use kquota_admin::ops::{Operation, ResourceType};
    let op = if write {
        Operation::Write
    } else {
        Operation::Read
    };
    allow(
        cluster,
        ResourceType::Topic,
        topic,
        principal,
        &[op, Operation::Describe],
    );
}

// ---------------------------------------------------------------------------------------------
// STS relay

/// One AssumeRole answer that went through the relay.
#[derive(Debug, Clone)]
struct Issued {
    role_session_name: String,
    principal: String,
    access_key_id: String,
}

/// An HTTP relay in front of moto's STS: forwards each request as it is and, for an
/// AssumeRole answer, registers the issued credentials with the broker's MSK-IAM validator
/// (principal: the answer's `AssumedRoleUser` ARN) before returning the answer, so the caller
/// never holds credentials the broker does not know yet.
struct StsRelay {
    url: String,
    issued: Arc<Mutex<Vec<Issued>>>,
}

impl StsRelay {
    fn start(moto_url: &str, cluster: &'static KafkaCluster) -> StsRelay {
        let upstream = moto_url
            .strip_prefix("http://")
            .expect("moto URL is http://host:port")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let issued = Arc::new(Mutex::new(Vec::new()));
        let log = issued.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (upstream, log) = (upstream.clone(), log.clone());
                thread::spawn(move || {
                    if let Err(e) = relay_one(conn, &upstream, cluster, &log) {
                        eprintln!("STS relay: {e}");
                    }
                });
            }
        });
        StsRelay { url, issued }
    }

    fn issued(&self) -> Vec<Issued> {
        self.issued.lock().unwrap().clone()
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads one HTTP request (head and Content-Length body).
fn read_request(s: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let len = header(&head, "content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some((head, body)))
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn xml_field<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(&xml[start..end])
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn form_field(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| v.replace("%2F", "/").replace("%3A", ":"))
    })
}

fn relay_one(
    mut client: TcpStream,
    upstream: &str,
    cluster: &'static KafkaCluster,
    log: &Mutex<Vec<Issued>>,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    // One request per connection: the answer says `Connection: close`.
    let Some((head, body)) = read_request(&mut client)? else {
        return Ok(());
    };
    let mut forward = Vec::new();
    for line in head.lines() {
        if line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        forward.extend_from_slice(line.as_bytes());
        forward.extend_from_slice(b"\r\n");
    }
    forward.extend_from_slice(b"Connection: close\r\n\r\n");
    forward.extend_from_slice(&body);
    let mut up = TcpStream::connect(upstream)?;
    up.set_read_timeout(Some(Duration::from_secs(30)))?;
    up.write_all(&forward)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    let split = find(&answer, b"\r\n\r\n").ok_or_else(|| {
        std::io::Error::other(format!(
            "moto's answer has no header end ({} bytes)",
            answer.len()
        ))
    })?;
    let rhead = String::from_utf8_lossy(&answer[..split]).to_string();
    assert!(
        header(&rhead, "transfer-encoding").is_none(),
        "moto answered chunked: {rhead}"
    );
    let rbody = &answer[split + 4..];
    let text = String::from_utf8_lossy(rbody);
    if text.contains("<AssumeRoleResponse") {
        let get = |tag: &str| {
            xml_field(&text, tag)
                .map(xml_unescape)
                .unwrap_or_else(|| panic!("AssumeRole answer without <{tag}>: {text}"))
        };
        let akid = get("AccessKeyId");
        let principal = xml_field(&text, "AssumedRoleUser")
            .and_then(|u| xml_field(u, "Arn"))
            .map(xml_unescape)
            .unwrap_or_else(|| panic!("AssumeRole answer without AssumedRoleUser/Arn: {text}"));
        cluster
            .register_iam_credentials(
                &akid,
                &get("SecretAccessKey"),
                Some(&get("SessionToken")),
                &principal,
            )
            .expect("register the assumed-role credentials with the validator");
        let request = String::from_utf8_lossy(&body);
        log.lock().unwrap().push(Issued {
            role_session_name: form_field(&request, "RoleSessionName").unwrap_or_default(),
            principal,
            access_key_id: akid,
        });
    }
    let mut reply = Vec::new();
    for line in rhead.lines() {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("connection:") || lower.starts_with("content-length:") {
            continue;
        }
        reply.extend_from_slice(line.as_bytes());
        reply.extend_from_slice(b"\r\n");
    }
    reply.extend_from_slice(
        format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            rbody.len()
        )
        .as_bytes(),
    );
    reply.extend_from_slice(rbody);
    client.write_all(&reply)?;
    client.flush()
}

/// The broker's log shows the validator accepting this access key as this principal.
fn assert_broker_accepted(cluster: &KafkaCluster, access_key_id: &str, principal: &str) {
    let want = format!("accepted access key {access_key_id} as principal {principal}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = cluster
            .brokers()
            .iter()
            .any(|b| std::fs::read_to_string(&b.log).is_ok_and(|l| l.contains(&want)));
        if found {
            return;
        }
        assert!(Instant::now() < deadline, "no broker log says {want:?}");
        thread::sleep(Duration::from_millis(200));
    }
}

/// The `--bootstrap-servers` and TLS flags of the SASL_SSL listener (MSK IAM's port 9098).
fn sasl_ssl(cluster: &KafkaCluster) -> Vec<String> {
    vec![
        "--bootstrap-servers".into(),
        cluster.bootstrap(Listener::SaslSsl),
        "--tls-ca-file".into(),
        cluster.ca_pem_path().display().to_string(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn msk_iam_producer_and_consumer_apps_end_to_end() {
    let k = shared();
    let moto = moto_server::MotoServer::start();
    let relay = StsRelay::start(moto.url(), k);
    let home = tempfile::tempdir().unwrap();
    let tag = std::process::id();
    let topic = format!("apps-iam-{tag}");
    let group = format!("ConsumerApp-1-group-{tag}");
    create_topic(k, &topic, 3, &[]);
    allow_topic(k, &topic, PRODUCER_PRINCIPAL, true);
    allow_topic(k, &topic, CONSUMER_PRINCIPAL, false);
    allow(
        k,
        kquota_admin::ops::ResourceType::Group,
        &group,
        CONSUMER_PRINCIPAL,
        &[kquota_admin::ops::Operation::Read],
    );

    // ProducerApp-1, as the sample app is started (sync, quota metrics printed, text output).
    let mut c = kquota(home.path());
    with_aws(&mut c, moto.url(), &relay)
        .arg("produce")
        .args(sasl_ssl(k))
        .args(["--assume-role-arn", WRITE_ROLE, "--region", "us-east-1"])
        .args(["--role-session-name", "producerapp-1-role-session"])
        .args(["--client-id", "producerapp-1-client-id"])
        .args(["--topic-name", &topic, "--num-messages", "50"])
        .args(["--producer-type", "sync", "--print-producer-quota-metrics"]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.is_empty(),
        "stderr is not a terminal: no progress line: {err}"
    );
    let done = out
        .lines()
        .find(|l| l.starts_with("produce: "))
        .unwrap_or_else(|| panic!("no summary: {out}"));
    assert!(
        done.starts_with("produce: 50 records, 50 ok, 0 failed in "),
        "{out}"
    );
    let secs: f64 = done
        .trim_start_matches("produce: 50 records, 50 ok, 0 failed in ")
        .trim_end_matches(" s")
        .parse()
        .unwrap();
    // A duration that parses (a short run prints "0.0 s": no wall-clock assumption here).
    assert!(secs.is_finite() && secs >= 0.0, "{done}");
    // The Java client's metric names, with numbers (the first response makes them 0.0 or more).
    let metrics = out
        .lines()
        .rfind(|l| l.starts_with("produce-throttle-time-avg: "))
        .unwrap_or_else(|| panic!("no metrics: {out}"));
    let values: Vec<f64> = metrics
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(values.len(), 2, "{metrics}");
    assert!(values.iter().all(|v| *v >= 0.0), "{metrics}");
    assert!(
        metrics.contains("  produce-throttle-time-max: "),
        "{metrics}"
    );

    // The binary assumed the role with the session name given, and the broker authenticated the
    // token signed with those credentials as the assumed-role ARN STS returned.
    let issued = relay.issued();
    assert_eq!(issued.len(), 1, "{issued:?}");
    assert_eq!(issued[0].role_session_name, "producerapp-1-role-session");
    assert_eq!(issued[0].principal, PRODUCER_PRINCIPAL);
    assert_broker_accepted(k, &issued[0].access_key_id, PRODUCER_PRINCIPAL);

    // ConsumerApp-1 reads them back in its group, JSON lines, each record printed.
    let mut c = kquota(home.path());
    with_aws(&mut c, moto.url(), &relay)
        .arg("consume")
        .args(sasl_ssl(k))
        .args(["--assume-role-arn", READ_ROLE, "--region", "us-east-1"])
        .args(["--role-session-name", "consumerapp-1-role-session"])
        .args(["--client-id", "consumerapp-1-client-id"])
        .args(["--topic-name", &topic, "--consumer-group", &group])
        .args(["--num-messages", "50", "--duration", "60"])
        .args([
            "--print-consumer-quota-metrics",
            "--print-records",
            "--json",
        ]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.is_empty(), "{err}");
    let lines = json_lines(&out);
    let indices: BTreeSet<u64> = lines
        .iter()
        .filter(|l| l["type"] == "record")
        .map(|l| l["value"].as_str().unwrap()[..12].parse().unwrap())
        .collect();
    assert_eq!(
        indices,
        (0..50).collect(),
        "every produced record, once: {out}"
    );
    let s = summary(&out);
    assert_eq!(s["app"], "consume");
    assert_eq!(s["acked"], 50, "{s}");
    assert!(s["elapsed_s"].as_f64().unwrap() > 0.0, "{s}");
    assert!(s["fetch-throttle-time-max"].as_f64().is_some(), "{s}");
    assert!(
        s["brokers"].as_array().is_some_and(|b| !b.is_empty()),
        "{s}"
    );
    let issued = relay.issued();
    assert_eq!(issued.len(), 2, "{issued:?}");
    assert_eq!(issued[1].role_session_name, "consumerapp-1-role-session");
    assert_eq!(issued[1].principal, CONSUMER_PRINCIPAL);
    assert_broker_accepted(k, &issued[1].access_key_id, CONSUMER_PRINCIPAL);

    delete_topic(k, &topic);
}

#[test]
fn identity_secret_supplies_the_client_id_and_role_session() {
    let k = shared();
    let moto = moto_server::MotoServer::start();
    let relay = StsRelay::start(moto.url(), k);
    let home = tempfile::tempdir().unwrap();
    let tag = std::process::id();
    let topic = format!("apps-secret-{tag}");
    let client_id = format!("secretapp-{tag}-client-id");
    let session = format!("secretapp-{tag}-role-session");
    let principal = format!("arn:aws:sts::111111111111:assumed-role/Topic-B-Write-Role/{session}");
    let secret = format!("kquota/secretapp-{tag}");
    put_secret(
        moto.url(),
        &secret,
        &format!(r#"{{"client_id":"{client_id}","role_session_name":"{session}"}}"#),
    );
    create_topic(k, &topic, 1, &[]);
    allow_topic(k, &topic, &principal, true);
    // A quota on exactly the secret's (principal, client-id): only a client presenting both is
    // throttled by it.
    let plaintext = k.bootstrap(Listener::Plaintext);
    let (code, out, err) = run(kquota(home.path())
        .args(["quotas", "alter", "-b", &plaintext])
        .args(["--user", &principal, "--client-id", &client_id])
        .args(["--set", "producer_byte_rate=1024"]));
    assert_eq!(code, 0, "{out}{err}");

    let mut c = kquota(home.path());
    with_aws(&mut c, moto.url(), &relay)
        .arg("produce")
        .args(sasl_ssl(k))
        .args(["--assume-role-arn", WRITE_ROLE, "--region", "us-east-1"])
        .args(["--identity-secret", &secret])
        .args(["--topic-name", &topic, "--num-messages", "12"])
        .args(["--message-size", "1500", "--json"]);
    let (code, out, err) = run(&mut c);
    let _ = run(kquota(home.path())
        .args(["quotas", "delete", "-b", &plaintext])
        .args(["--user", &principal, "--client-id", &client_id]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.is_empty(), "{err}");
    let s = summary(&out);
    assert_eq!(s["acked"], 12, "{s}");
    assert_eq!(s["failed"], 0, "{s}");
    assert!(s["elapsed_s"].as_f64().unwrap() > 0.0, "{s}");
    let max = s["produce-throttle-time-max"].as_f64().unwrap();
    assert!(
        max > 0.0,
        "the (principal, client-id) quota from the secret's identity throttled: {s}"
    );
    let issued = relay.issued();
    assert_eq!(issued.len(), 1, "{issued:?}");
    assert_eq!(
        issued[0].role_session_name, session,
        "session from the secret"
    );
    assert_eq!(issued[0].principal, principal);
    assert_broker_accepted(k, &issued[0].access_key_id, &principal);

    // The same identity given as plain flags too, or no role for the secret's session: usage
    // errors before any AWS or Kafka call (nothing listens on the bootstrap address).
    let dead = dead_addr();
    for (extra, want) in [
        (
            vec!["--assume-role-arn", WRITE_ROLE, "--client-id", "x"],
            "--identity-secret supplies the client-id and the role session name; do not also give --client-id",
        ),
        (
            vec!["--assume-role-arn", WRITE_ROLE, "--role-session-name", "s"],
            "do not also give --role-session-name",
        ),
        (vec![], "--identity-secret needs MSK IAM with a role to assume"),
    ] {
        for app in ["produce", "consume"] {
            let mut c = kquota(home.path());
            with_aws(&mut c, moto.url(), &relay)
                .args([app, "-b", &dead, "--topic-name", &topic])
                .args(["--num-messages", "1", "--identity-secret", &secret])
                .args(&extra);
            let (code, out, err) = run(&mut c);
            assert_eq!(code, 2, "{app} {extra:?}: {err}");
            assert!(out.is_empty(), "{out}");
            assert_one_error_line(&err, want, app);
        }
    }
    assert_eq!(relay.issued().len(), 1, "no AssumeRole for usage errors");

    // A secret that does not exist: one line naming it, exit 4 (an AWS failure).
    let mut c = kquota(home.path());
    with_aws(&mut c, moto.url(), &relay)
        .arg("produce")
        .args(sasl_ssl(k))
        .args(["--assume-role-arn", WRITE_ROLE, "--region", "us-east-1"])
        .args(["--identity-secret", "kquota/absent", "--topic-name", &topic]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 4, "{err}");
    assert!(out.is_empty(), "{out}");
    assert_one_error_line(
        &err,
        "AWS Secrets Manager GetSecretValue for kquota/absent failed",
        "absent secret",
    );
    delete_topic(k, &topic);
}

#[test]
fn bad_input_is_one_error_line_with_the_documented_exit_code() {
    let k = shared();
    let home = tempfile::tempdir().unwrap();
    let tag = std::process::id();
    let plaintext = k.bootstrap(Listener::Plaintext);
    let missing = format!("apps-missing-{tag}");
    let dead = dead_addr();

    // A topic that does not exist: exit 2, nothing produced, no summary.
    let (code, out, err) = run(kquota(home.path())
        .args(["produce", "-b", &plaintext, "--topic-name", &missing])
        .args(["--num-messages", "5"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert_one_error_line(
        &err,
        &format!("topic '{missing}' does not exist or is not visible to this principal"),
        "produce to a missing topic",
    );
    for group in [None, Some("apps-missing-group")] {
        let mut c = kquota(home.path());
        c.args(["consume", "-b", &plaintext, "--topic-name", &missing])
            .args(["--num-messages", "5"]);
        if let Some(g) = group {
            c.args(["--consumer-group", g]);
        }
        let (code, out, err) = run(&mut c);
        assert_eq!(code, 2, "{group:?}: {out}{err}");
        assert!(out.is_empty(), "{out}");
        assert_one_error_line(
            &err,
            &format!("topic '{missing}' does not exist"),
            "consume a missing topic",
        );
    }

    // A topic name Kafka cannot have: refused before connecting (the dead address proves it),
    // control characters escaped in the line.
    for app in ["produce", "consume"] {
        for (name, want) in [
            ("", "invalid topic name '': the name is empty"),
            (
                "try-\x1b[31m",
                "invalid topic name 'try-\\x1b[31m': '\\u{1b}' is not allowed",
            ),
        ] {
            let (code, out, err) = run(kquota(home.path())
                .args([app, "-b", &dead, "--topic-name", name])
                .args(["--num-messages", "1"]));
            assert_eq!(code, 2, "{app} {name:?}: {out}{err}");
            assert!(!err.contains('\x1b'), "{app}: raw escape in {err:?}");
            assert_one_error_line(&err, want, &format!("{app} {name:?}"));
        }
    }

    // A group the principal may not use: alice may read the topic but has no group ACL.
    let topic = format!("apps-acl-{tag}");
    create_topic(k, &topic, 1, &[]);
    allow_topic(k, &topic, "alice", false);
    let sasl = k.bootstrap(Listener::SaslPlaintext);
    let alice = |c: &mut Command| {
        c.args(["--security-protocol", "SASL_PLAINTEXT"])
            .args(["--sasl-mechanism", "SCRAM-SHA-512"])
            .args(["--sasl-username", "alice"])
            .env("KQUOTA_SASL_PASSWORD", "alice-secret");
    };
    let mut c = kquota(home.path());
    c.args(["consume", "-b", &sasl, "--topic-name", &topic])
        .args(["--consumer-group", "apps-forbidden-group"])
        .args(["--num-messages", "1", "--duration", "20"]);
    alice(&mut c);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 4, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert_one_error_line(&err, "GroupAuthorizationFailed", "forbidden group");
    assert!(err.contains("'apps-forbidden-group'"), "{err}");
    assert!(err.contains("it needs READ on the group"), "{err}");
    assert!(!err.contains("alice-secret"), "{err}");
    // ... and may not write it either: an authorization failure too.
    let mut c = kquota(home.path());
    c.args(["produce", "-b", &sasl, "--topic-name", &topic])
        .args(["--num-messages", "3"]);
    alice(&mut c);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 4, "{out}{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("AuthorizationFailed"),
        "{err}"
    );
    // Without idempotence the cluster permission is not needed, and the refusal is the
    // topic's own.
    let mut c = kquota(home.path());
    c.args(["produce", "-b", &sasl, "--topic-name", &topic])
        .args(["--num-messages", "3", "--enable-idempotence", "false"]);
    alice(&mut c);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 4, "{out}{err}");
    assert_one_error_line(&err, "TopicAuthorizationFailed", "produce without WRITE");
    // Idempotence needs acks=all: a usage error before connecting.
    let (code, _, err) = run(kquota(home.path())
        .args(["produce", "-b", &dead, "--topic-name", &topic])
        .args(["--acks", "1", "--enable-idempotence", "true"]));
    assert_eq!(code, 2, "{err}");
    assert_one_error_line(
        &err,
        "idempotence requires acks=all",
        "idempotence with acks=1",
    );

    // A topic the principal may not even describe: an authorization failure (exit 4) with the
    // broker's error, not "does not exist". (acks=1: no idempotence, which alice may not use.)
    let hidden = format!("apps-hidden-{tag}");
    create_topic(k, &hidden, 1, &[]);
    for app in [vec!["produce", "--acks", "1"], vec!["consume"]] {
        let mut c = kquota(home.path());
        c.args(&app)
            .args(["-b", &sasl, "--topic-name", &hidden])
            .args(["--num-messages", "1", "--duration", "20"]);
        alice(&mut c);
        let (code, out, err) = run(&mut c);
        assert_eq!(code, 4, "{app:?}: {out}{err}");
        assert_one_error_line(&err, "TopicAuthorizationFailed", app[0]);
        assert!(!err.contains("does not exist"), "{err}");
    }
    delete_topic(k, &hidden);

    // An unknown compression name and a record larger than max.request.size: usage errors
    // before connecting (nothing listens on `dead`).
    for (extra, want) in [
        (
            vec!["--compression", "brotli"],
            "unknown compression type 'brotli'",
        ),
        (
            vec!["--message-size", "2000000"],
            "--message-size 2000000 is larger than the producer's max.request.size of 1048576 bytes",
        ),
    ] {
        let (code, out, err) = run(kquota(home.path())
            .args(["produce", "-b", &dead, "--topic-name", &topic])
            .args(&extra));
        assert_eq!(code, 2, "{extra:?}: {err}");
        assert!(out.is_empty(), "{out}");
        assert_one_error_line(&err, want, "bad producer flag");
        assert!(!err.contains(&dead), "the broker was contacted: {err}");
    }

    // A record larger than the broker allows for the topic (max.message.bytes): the broker's
    // MESSAGE_TOO_LARGE stops the run at the first record, which is reported in the summary.
    let small = format!("apps-small-{tag}");
    create_topic(k, &small, 1, &[("max.message.bytes", "2000")]);
    for mode in ["sync", "async"] {
        let (code, out, err) = run(kquota(home.path())
            .args(["produce", "-b", &plaintext, "--topic-name", &small])
            .args(["--num-messages", "20", "--message-size", "5000"])
            .args(["--producer-type", mode, "--json"]));
        assert_eq!(code, 3, "{mode}: {out}{err}");
        assert_one_error_line(&err, "MessageTooLarge", mode);
        let s = summary(&out);
        let (n, acked, failed) = (
            s["records"].as_u64().unwrap(),
            s["acked"].as_u64().unwrap(),
            s["failed"].as_u64().unwrap(),
        );
        assert_eq!(acked, 0, "{s}");
        assert_eq!(failed, n, "every accepted record reported: {s}");
        assert!(n >= 1, "{s}");
        if mode == "sync" {
            assert_eq!(n, 1, "sync stops at the first refusal: {s}");
        }
        assert!(
            err.contains(&format!(
                "(stopped after {n} record(s): 0 acknowledged, {n} failed)"
            )),
            "{err}"
        );
    }

    // An unreachable broker: exit 4 naming the address.
    for app in ["produce", "consume"] {
        let (code, out, err) = run(kquota(home.path())
            .args([app, "-b", &dead, "--topic-name", &topic])
            .args(["--num-messages", "1"]));
        assert_eq!(code, 4, "{app}: {err}");
        assert!(out.is_empty(), "{out}");
        assert_one_error_line(&err, &format!("cannot connect to {dead}"), app);
    }
    delete_topic(k, &topic);
    delete_topic(k, &small);
}

#[test]
fn a_broker_going_away_mid_run_settles_and_reports_every_record() {
    let cluster = KafkaCluster::start(ClusterSpec::single()).expect("start a broker");
    let home = tempfile::tempdir().unwrap();
    let topic = "apps-going-away";
    create_topic(&cluster, topic, 1, &[]);
    let bootstrap = cluster.bootstrap(Listener::Plaintext);
    let producer = spawn(
        kquota(home.path())
            .args(["produce", "-b", &bootstrap, "--topic-name", topic])
            .args(["--producer-type", "async", "--rate", "300"])
            .args(["--num-messages", "1000000", "--message-size", "200"])
            .args([
                "--delivery-timeout-ms",
                "4000",
                "--request-timeout-ms",
                "2000",
            ])
            .args(["--max-block-ms", "3000"])
            .args(["--print-producer-quota-metrics", "--metrics-interval", "1"])
            .arg("--json"),
    );
    // Let it deliver for a while, then stop the broker under it.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = producer
            .lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no metrics with acknowledged records within 60 s"));
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["type"] == "metrics" && v["acked"].as_u64().unwrap_or(0) >= 300 {
            break;
        }
    }
    cluster.stop_broker(1).expect("stop the broker");
    let stopped = Instant::now();
    let (code, out, err) = producer.finish(DEADLINE);
    // max.block.ms (3 s) + delivery.timeout.ms (4 s) + kquota's grace: well under a minute.
    assert!(
        stopped.elapsed() < Duration::from_secs(40),
        "the run ended {} s after the broker left",
        stopped.elapsed().as_secs()
    );
    assert!(
        code == 3 || code == 4,
        "a non-zero exit: {code}\n{out}{err}"
    );
    let s = summary(&out);
    let (n, acked, failed) = (
        s["records"].as_u64().unwrap(),
        s["acked"].as_u64().unwrap(),
        s["failed"].as_u64().unwrap(),
    );
    assert_eq!(acked + failed, n, "every record accounted for: {s}");
    assert!(acked >= 300, "{s}");
    assert!(
        failed >= 1,
        "records sent after the broker left failed: {s}"
    );
    assert!(n < 1_000_000, "the run stopped early: {s}");
    let last = err.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: "), "{err}");
    assert!(
        last.contains(&format!("{acked} acknowledged, {failed} failed"))
            || last.contains(&format!("{failed} of {n} record(s) were not delivered")),
        "the final line counts the records: {err}"
    );
    assert!(
        err.lines()
            .all(|l| l.starts_with("error: ") || l.starts_with("(further")),
        "{err}"
    );

    // Every acknowledged record is in the log once the broker is back.
    cluster.start_broker(1).expect("restart the broker");
    let (code, out, err) = run(kquota(home.path())
        .args(["consume", "-b", &bootstrap, "--topic-name", topic])
        .args(["--num-messages", &acked.to_string(), "--duration", "60"])
        .args(["--json", "--quiet"]));
    assert_eq!(code, 0, "{out}{err}");
    let read = summary(&out)["acked"].as_u64().unwrap();
    assert!(read >= acked, "read {read} of {acked} acknowledged records");

    // A group consumer whose broker goes away: its offsets cannot be committed at the end, and
    // it says so with a non-zero exit (it used to end with exit 0 and nothing on stderr).
    let consumer = spawn(
        kquota(home.path())
            .args(["consume", "-b", &bootstrap, "--topic-name", topic])
            .args(["--consumer-group", "apps-going-away-group"])
            .args(["--duration", "8", "--offset-reset", "earliest"])
            .args(["--request-timeout-ms", "2000"])
            .args(["--print-records", "--json"]),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = consumer
            .lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no record read within 60 s"));
        if serde_json::from_str::<Value>(&line).is_ok_and(|v| v["type"] == "record") {
            break;
        }
    }
    cluster.stop_broker(1).expect("stop the broker");
    let (code, out, err) = consumer.finish(DEADLINE);
    assert_eq!(code, 4, "a connection-class exit: {out}{err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: ")
            && last.contains("committing the offsets of group 'apps-going-away-group'"),
        "{err}"
    );
    drop(cluster);
}

#[test]
fn consume_stops_at_exactly_num_messages_and_the_group_resumes_after_them() {
    let k = shared();
    let home = tempfile::tempdir().unwrap();
    let plaintext = k.bootstrap(Listener::Plaintext);
    let topic = format!("apps-exact-{}", std::process::id());
    let group = format!("{topic}-group");
    create_topic(k, &topic, 3, &[]);
    let (code, out, err) = run(kquota(home.path())
        .args(["produce", "-b", &plaintext, "--topic-name", &topic])
        .args(["--num-messages", "30", "--message-size", "10", "--json"]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(summary(&out)["acked"], 30, "{out}");
    // Fetches return many records at once; the app takes exactly what was asked for, and the
    // group's committed offsets cover exactly those records.
    let mut seen = BTreeSet::new();
    for want in [7u64, 23] {
        let (code, out, err) = run(kquota(home.path())
            .args(["consume", "-b", &plaintext, "--topic-name", &topic])
            .args(["--consumer-group", &group, "--print-records", "--json"])
            .args(["--num-messages", &want.to_string(), "--duration", "60"]));
        assert_eq!(code, 0, "{out}{err}");
        let records: Vec<Value> = json_lines(&out)
            .into_iter()
            .filter(|v| v["type"] == "record")
            .collect();
        assert_eq!(records.len() as u64, want, "{out}");
        assert_eq!(summary(&out)["records"], want, "{out}");
        for r in records {
            let key = (
                r["partition"].as_i64().unwrap(),
                r["offset"].as_i64().unwrap(),
            );
            assert!(seen.insert(key), "record {key:?} read twice: {out}");
        }
    }
    assert_eq!(seen.len(), 30);
    delete_topic(k, &topic);
}

#[test]
fn a_closed_stdout_ends_quietly_without_a_panic() {
    let home = tempfile::tempdir().unwrap();
    for args in [vec!["completions", "bash"], vec!["man"]] {
        let mut child = kquota(home.path())
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one byte, then close the pipe: the rest of the output has nowhere to go.
        let mut stdout = child.stdout.take().unwrap();
        let mut one = [0u8; 1];
        stdout.read_exact(&mut one).unwrap();
        drop(stdout);
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
        assert!(
            matches!(status.code(), Some(0) | Some(141)),
            "{args:?}: {status:?}"
        );
    }
}

/// `kquota topics create | list | delete` against the broker: a created topic takes records at
/// once; bad input is one error line with the documented exit code and creates nothing; a
/// missing topic points `kquota produce` to `kquota topics create`.
#[test]
fn topics_create_list_delete_and_the_apps_on_a_new_topic() {
    let k = shared();
    let home = tempfile::tempdir().unwrap();
    let b = k.bootstrap(Listener::Plaintext);
    let topic = format!("apps-topics-{}", std::process::id());
    let topics = |args: &[&str]| {
        run(kquota(home.path())
            .arg("topics")
            .args(args)
            .args(["-b", &b]))
    };
    let listed = || -> Vec<Value> {
        let (code, out, err) = topics(&["list", "-o", "json"]);
        assert_eq!(code, 0, "{out}{err}");
        serde_json::from_str::<Value>(&out).unwrap()["topics"]
            .as_array()
            .unwrap()
            .clone()
    };

    let (code, out, err) = topics(&[
        "create",
        &topic,
        "--partitions",
        "2",
        "--replication-factor",
        "1",
        "--config",
        "retention.ms=3600000",
        "--config",
        "leader.replication.throttled.replicas=0:1,1:1",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.is_empty(), "{err}");
    let r = &serde_json::from_str::<Value>(&out).unwrap()["results"][0];
    assert_eq!(r["topic"], topic.as_str(), "{out}");
    assert_eq!(r["ok"], true, "{out}");
    assert_eq!(r["created"], true, "{out}");
    assert_eq!(r["partitions"], 2, "{out}");
    assert_eq!(r["replication_factor"], 1, "{out}");
    // The create returned with leaders in place: the producer starts at once.
    let (code, out, err) = run(kquota(home.path())
        .args(["produce", "-b", &b, "--topic-name", &topic])
        .args(["--num-messages", "5", "--json"]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(summary(&out)["acked"], 5, "{out}");
    let entry = listed()
        .into_iter()
        .find(|t| t["name"] == topic.as_str())
        .unwrap_or_else(|| panic!("{topic} not listed"));
    assert_eq!(entry["partitions"], 2, "{entry}");
    assert_eq!(entry["replication_factor"], 1, "{entry}");
    assert_eq!(entry["internal"], false, "{entry}");
    let (code, out, _) = topics(&["list"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("TOPIC "), "{out}");
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == [topic.as_str(), "2", "1"]),
        "{out}"
    );

    // Already there: exit 3 with the way out; --if-not-exists accepts it.
    let (code, out, err) = topics(&["create", &topic, "--partitions", "2"]);
    assert_eq!(code, 3, "{out}{err}");
    assert_one_error_line(
        &err,
        &format!("cannot create topic '{topic}': TOPIC_ALREADY_EXISTS"),
        "existing topic",
    );
    assert!(err.contains("--if-not-exists"), "{err}");
    let (code, out, err) = topics(&["create", &topic, "--if-not-exists", "-o", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let r = &serde_json::from_str::<Value>(&out).unwrap()["results"][0];
    assert_eq!(
        (&r["ok"], &r["created"]),
        (&Value::Bool(true), &Value::Bool(false)),
        "{out}"
    );

    // Bad input: nothing is created.
    let bad = format!("{topic}-bad");
    let long = "x".repeat(250);
    for (args, want_code, want) in [
        (
            vec!["create", bad.as_str(), "--partitions", "0"],
            2,
            "the number of partitions must be at least 1, not 0",
        ),
        (
            vec!["create", bad.as_str(), "--replication-factor", "0"],
            2,
            "the replication factor must be at least 1, not 0",
        ),
        (
            vec!["create", bad.as_str(), "--partitions", "-1"],
            2,
            "--partitions must be at least 1, not -1 (leave it out",
        ),
        (
            vec!["create", bad.as_str(), "--replication-factor", "-1"],
            2,
            "--replication-factor must be at least 1, not -1 (leave it out",
        ),
        (
            vec!["delete", "__consumer_offsets", "--if-exists"],
            2,
            "'__consumer_offsets' has the '__' prefix of Kafka's internal topics",
        ),
        (
            vec!["create", bad.as_str(), "--replication-factor", "3"],
            3,
            "INVALID_REPLICATION_FACTOR (38): Unable to replicate the partition 3 time(s)",
        ),
        (
            vec!["create", "apps topics bad"],
            2,
            "invalid topic name 'apps topics bad': ' ' is not allowed",
        ),
        (
            vec!["create", long.as_str()],
            2,
            "250 characters, at most 249 are allowed",
        ),
        (
            vec!["create", bad.as_str(), "--config", "no.such.config=1"],
            3,
            "INVALID_CONFIG (40): Unknown topic config name: no.such.config",
        ),
        (
            vec!["create", bad.as_str(), "--config", "retention.ms=soon"],
            3,
            "Invalid value soon for configuration retention.ms",
        ),
        (
            vec!["create", bad.as_str(), "--config", "retention.ms"],
            2,
            "--config 'retention.ms': expected KEY=VALUE",
        ),
    ] {
        let (code, out, err) = topics(&args);
        assert_eq!(code, want_code, "{args:?}: {out}{err}");
        assert_one_error_line(&err, want, &format!("{args:?}"));
    }
    assert!(
        !listed().iter().any(|t| t["name"] == bad.as_str()),
        "a refused topic exists"
    );

    // Delete; a second delete is exit 3 unless --if-exists.
    let (code, out, err) = topics(&["delete", &topic]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("deleted"), "{out}");
    let (code, out, err) = topics(&["delete", &topic]);
    assert_eq!(code, 3, "{out}{err}");
    assert_one_error_line(&err, "UNKNOWN_TOPIC_OR_PARTITION", "delete twice");
    assert!(err.contains("--if-exists"), "{err}");
    let (code, out, err) = topics(&["delete", &topic, "--if-exists"]);
    assert_eq!(code, 0, "{out}{err}");

    // The apps on a missing topic say how to create it.
    for app in ["produce", "consume"] {
        let (code, out, err) = run(kquota(home.path())
            .args([app, "-b", &b, "--topic-name", &topic])
            .args(["--num-messages", "1"]));
        assert_eq!(code, 2, "{app}: {out}{err}");
        assert_one_error_line(
            &err,
            &format!("create it with 'kquota topics create {topic}'"),
            app,
        );
    }
}

/// The record batches of one partition as the broker stored them: (compression codec,
/// producer id) of each, read from its log segment (the wire format's batch header:
/// attributes at byte 21, producer id at byte 43).
fn stored_batches(cluster: &KafkaCluster, topic: &str) -> Vec<(i16, i64)> {
    let segment = cluster
        .dir()
        .join("node-1/data")
        .join(format!("{topic}-0"))
        .join("00000000000000000000.log");
    let bytes = std::fs::read(&segment).unwrap_or_else(|e| panic!("{}: {e}", segment.display()));
    let mut out = Vec::new();
    let mut at = 0;
    while at + 61 <= bytes.len() {
        let length = i32::from_be_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        let attributes = i16::from_be_bytes(bytes[at + 21..at + 23].try_into().unwrap());
        let producer_id = i64::from_be_bytes(bytes[at + 43..at + 51].try_into().unwrap());
        out.push((attributes & 0x7, producer_id));
        at += 12 + length;
    }
    out
}

/// A Java producer.properties / consumer.properties given as --command-config: the app's own
/// keys are used (a flag still wins), the other app's keys are warned about, and a bad value
/// names the file, line and key. What the broker stored shows the producer keys took effect.
#[test]
fn producer_and_consumer_keys_of_the_command_config_are_used() {
    let k = shared();
    let home = tempfile::tempdir().unwrap();
    let tag = std::process::id();
    let topic = format!("apps-props-{tag}");
    let group = format!("apps-props-group-{tag}");
    create_topic(k, &topic, 1, &[]);
    let plaintext = k.bootstrap(Listener::Plaintext);
    let file = |name: &str, extra: &str| -> String {
        let path = home.path().join(name);
        std::fs::write(
            &path,
            format!("bootstrap.servers={plaintext}\nsecurity.protocol=PLAINTEXT\n{extra}"),
        )
        .unwrap();
        path.display().to_string()
    };
    let produce = |config: &str, extra: &[&str]| {
        run(kquota(home.path())
            .args([
                "produce",
                "--command-config",
                config,
                "--topic-name",
                &topic,
            ])
            .args(["--num-messages", "2", "--json"])
            .args(extra))
    };

    // Without enable.idempotence: idempotent (acks=all), uncompressed.
    let plain = file("plain.properties", "acks=all\n");
    let (code, out, err) = produce(&plain, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.is_empty(), "{err}");
    let before = stored_batches(k, &topic);
    assert_eq!(before.len(), 2, "{before:?}");
    assert!(
        before.iter().all(|(codec, pid)| *codec == 0 && *pid >= 0),
        "{before:?}"
    );
    // The usual Java producer.properties: idempotence off and gzip, as the broker stored it.
    let producer = file(
        "producer.properties",
        "acks=all\nenable.idempotence=false\ncompression.type=gzip\nlinger.ms=10\nbatch.size=16384\nclient.id=producerapp-props\ngroup.id=not-for-producers\nretries=3\n",
    );
    let (code, out, err) = produce(&producer, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(summary(&out)["acked"], 2, "{out}");
    assert_eq!(
        err.lines().collect::<Vec<_>>(),
        [
            format!("warning: {producer}:9: 'group.id' is a consumer setting, read by kquota consume only; it is ignored here"),
            format!("warning: {producer}:10: 'retries' is not supported (kquota retries a failed batch until delivery.timeout.ms instead of counting); it is ignored"),
        ],
        "{err}"
    );
    let batches = stored_batches(k, &topic);
    assert_eq!(
        &batches[2..],
        [(1, -1), (1, -1)],
        "gzip (1), no producer id"
    );
    // The flags win over the file.
    let (code, out, err) = produce(
        &producer,
        &["--enable-idempotence", "true", "--compression", "none"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let batches = stored_batches(k, &topic);
    assert_eq!(batches.len(), 6, "{batches:?}");
    assert!(
        batches[4..]
            .iter()
            .all(|(codec, pid)| *codec == 0 && *pid >= 0),
        "{batches:?}"
    );

    // consumer.properties: the group comes from group.id (offsets committed there: a second
    // run resumes after the first).
    let consumer = file(
        "consumer.properties",
        &format!("group.id={group}\nauto.offset.reset=earliest\nmax.partition.fetch.bytes=65536\nenable.auto.commit=true\nacks=all\n"),
    );
    let mut offsets = Vec::new();
    for n in [4, 2] {
        let (code, out, err) = run(kquota(home.path())
            .args([
                "consume",
                "--command-config",
                &consumer,
                "--topic-name",
                &topic,
            ])
            .args(["--num-messages", &n.to_string(), "--duration", "60"])
            .args(["--print-records", "--json"]));
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(
            err.trim(),
            format!("warning: {consumer}:7: 'acks' is a producer setting, read by kquota produce only; it is ignored here")
        );
        offsets.extend(
            json_lines(&out)
                .iter()
                .filter(|v| v["type"] == "record")
                .map(|v| v["offset"].as_i64().unwrap()),
        );
    }
    assert_eq!(
        offsets,
        [0, 1, 2, 3, 4, 5],
        "the second run resumed the group"
    );

    // Bad values: exit 2 naming the file, line and key; nothing is sent.
    let bad = file("bad.properties", "acks=1\nenable.idempotence=true\n");
    let (code, out, err) = produce(&bad, &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert_one_error_line(
        &err,
        &format!("{bad}:4: enable.idempotence: idempotence requires acks=all"),
        "conflict in the file",
    );
    let bad = file("bad-consumer.properties", "heartbeat.interval.ms=60000\n");
    let (code, out, err) = run(kquota(home.path())
        .args(["consume", "--command-config", &bad, "--topic-name", &topic])
        .args(["--num-messages", "1"]));
    assert_eq!(code, 2, "{out}{err}");
    assert_one_error_line(
        &err,
        &format!("{bad}:3: heartbeat.interval.ms: heartbeat.interval.ms (60000 ms) must be lower than session.timeout.ms (10000 ms)"),
        "consumer timeouts",
    );
    assert_eq!(
        stored_batches(k, &topic).len(),
        6,
        "nothing more was written"
    );
    delete_topic(k, &topic);
}

/// Under a client-id quota on the broker: a throttled run says so without
/// --print-*-quota-metrics (a notice on stderr at the first throttle and then at most every
/// 10 s, or a `throttle` event in the JSON lines), and the async producer's expired records
/// are one line per expired batch in text while the JSON lines report every record; either
/// way acknowledged + failed = sent.
#[test]
fn throttles_are_told_and_expired_records_are_one_line_per_batch() {
    let k = shared();
    let home = tempfile::tempdir().unwrap();
    let b = k.bootstrap(Listener::Plaintext);
    let tag = std::process::id();
    let topic = format!("apps-throttle-{tag}");
    let client_id = format!("apps-throttle-client-{tag}");
    create_topic(k, &topic, 3, &[]);
    let (code, out, err) = run(kquota(home.path())
        .args(["quotas", "alter", "-b", &b, "--client-id", &client_id])
        .args(["--set", "producer_byte_rate=1024,consumer_byte_rate=1024"]));
    assert_eq!(code, 0, "{out}{err}");
    let app = |what: &str, extra: &[&str]| {
        run(kquota(home.path())
            .args([
                what,
                "-b",
                &b,
                "--topic-name",
                &topic,
                "--client-id",
                &client_id,
            ])
            .args(extra))
    };
    let notice = |line: &str, quota: &str| {
        line.starts_with("notice: throttled by broker 1 for ")
            && line.contains(&format!(" ms ({quota} or request_percentage quota?); "))
    };

    // Sync produce, text: told at once, then at most every 10 s (plus once at the end for
    // throttles not told yet).
    let (code, out, err) = app(
        "produce",
        &[
            "--duration",
            "6",
            "--message-size",
            "1000",
            "--num-messages",
            "1000",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        !lines.is_empty() && lines.len() <= 2,
        "one notice, at most one more at the end: {err}"
    );
    assert!(
        lines.iter().all(|l| notice(l, "producer_byte_rate")),
        "{err}"
    );
    assert!(lines[0].contains("so far"), "{err}");
    // JSON lines: the notice is a typed event on stdout; stderr stays empty.
    let (code, out, err) = app(
        "produce",
        &[
            "--duration",
            "3",
            "--message-size",
            "1000",
            "--num-messages",
            "1000",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.is_empty(), "{err}");
    let events: Vec<Value> = json_lines(&out)
        .into_iter()
        .filter(|v| v["type"] == "throttle")
        .collect();
    assert!(!events.is_empty(), "{out}");
    assert_eq!(events[0]["broker"], 1, "{out}");
    assert!(events[0]["throttle_time_ms"].as_u64().unwrap() > 0, "{out}");
    assert_eq!(
        events[0]["quotas"],
        serde_json::json!(["producer_byte_rate", "request_percentage"])
    );
    // Fetches too (a backlog of several KiB against 1 KiB/s).
    let (code, out, err) = app(
        "consume",
        &[
            "--num-messages",
            "1000",
            "--duration",
            "6",
            "--max-partition-fetch-bytes",
            "3000",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(!lines.is_empty() && lines.len() <= 2, "{err}");
    assert!(
        lines.iter().all(|l| notice(l, "consumer_byte_rate")),
        "{err}"
    );
    // --quiet silences the notices.
    let (code, out, err) = app(
        "consume",
        &["--num-messages", "1000", "--duration", "3", "--quiet"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.is_empty(), "{err}");

    // Async over the quota: batches expire (delivery.timeout.ms 6 s).
    let async_run = |json: bool| {
        let mut extra = vec![
            "--producer-type",
            "async",
            "--num-messages",
            "200",
            "--message-size",
            "500",
            "--delivery-timeout-ms",
            "6000",
            "--request-timeout-ms",
            "5000",
        ];
        if json {
            // The figures at each interval, also while the run waits for its expiring batches.
            extra.extend([
                "--json",
                "--print-producer-quota-metrics",
                "--metrics-interval",
                "1",
            ]);
        }
        app("produce", &extra)
    };
    let (code, out, err) = async_run(false);
    assert_eq!(code, 3, "{out}{err}");
    let counts = out
        .lines()
        .find_map(|l| l.strip_prefix("produce: "))
        .unwrap_or_else(|| panic!("no summary: {out}"));
    let numbers: Vec<u64> = counts
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let (sent, acked, failed) = (numbers[0], numbers[1], numbers[2]);
    assert_eq!((sent, acked + failed), (200, 200), "{out}");
    assert!(failed > 0, "nothing expired: {out}");
    let prefix = "error: Expiring ";
    let expiring: Vec<&str> = err.lines().filter(|l| l.starts_with(prefix)).collect();
    let in_lines: u64 = expiring
        .iter()
        .map(|l| {
            assert!(
                l.contains(&format!(" record(s) for {topic}-"))
                    && l.ends_with(" ms has passed since batch creation"),
                "{l}"
            );
            l[prefix.len()..]
                .split(' ')
                .next()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    assert_eq!(
        in_lines, failed,
        "each expired record in exactly one line: {err}"
    );
    assert!(
        (expiring.len() as u64) < failed,
        "one line per batch, not per record: {err}"
    );
    assert!(
        err.lines().all(|l| l.starts_with(prefix)
            || notice(l, "producer_byte_rate")
            || l == format!(
                "error: {failed} of 200 record(s) were not delivered (see the errors above)"
            )),
        "{err}"
    );
    // JSON lines: every expired record has its own error line.
    let (code, out, err) = async_run(true);
    assert_eq!(code, 3, "{out}{err}");
    let s = summary(&out);
    let (sent, acked, failed) = (
        s["records"].as_u64().unwrap(),
        s["acked"].as_u64().unwrap(),
        s["failed"].as_u64().unwrap(),
    );
    assert_eq!((sent, acked + failed), (200, 200), "{s}");
    let errors = json_lines(&out)
        .into_iter()
        .filter(|v| v["type"] == "error")
        .inspect(|v| assert!(v["error"].as_str().unwrap().starts_with("Expiring "), "{v}"))
        .count() as u64;
    assert_eq!(errors, failed, "{out}");
    assert!(failed > 0, "{out}");
    // The run waits ~6 s for its batches to expire (the sends themselves are over at once):
    // the interval lines keep coming meanwhile (they stopped with the sends before).
    let intervals = json_lines(&out)
        .into_iter()
        .filter(|v| v["type"] == "metrics")
        .count();
    assert!(intervals >= 3, "metric lines while waiting: {out}");

    let (code, out, err) =
        run(kquota(home.path()).args(["quotas", "delete", "-b", &b, "--client-id", &client_id]));
    assert_eq!(code, 0, "{out}{err}");
    delete_topic(k, &topic);
}

/// Records the broker refuses one by one (InvalidRecord, error 87: records without a key on a
/// compacted topic) are one text line per failed batch with its record count, however the
/// partitions' batches interleave; with `--json` every record has its own error line; either
/// way acknowledged + failed = sent.
#[test]
fn records_refused_by_the_broker_are_one_line_per_batch() {
    let k = shared();
    let home = tempfile::tempdir().unwrap();
    let b = k.bootstrap(Listener::Plaintext);
    let topic = format!("apps-compacted-{}", std::process::id());
    let (code, out, err) = run(kquota(home.path())
        .args(["topics", "create", &topic, "-b", &b, "--partitions", "3"])
        .args(["--config", "cleanup.policy=compact"]));
    assert_eq!(code, 0, "{out}{err}");
    let produce = |json: bool| {
        let mut c = kquota(home.path());
        c.args(["produce", "-b", &b, "--topic-name", &topic])
            .args(["--producer-type", "async", "--num-messages", "300"])
            .args(["--linger-ms", "5"]);
        if json {
            c.arg("--json");
        }
        run(&mut c)
    };
    let (code, out, err) = produce(false);
    assert_eq!(code, 3, "{out}{err}");
    let counts = out
        .lines()
        .find_map(|l| l.strip_prefix("produce: "))
        .unwrap_or_else(|| panic!("no summary: {out}"));
    let numbers: Vec<u64> = counts
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert_eq!(&numbers[..3], &[300, 0, 300], "{out}");
    let last = "error: 300 of 300 record(s) were not delivered (see the errors above)";
    let mut in_lines = 0;
    let mut lines = Vec::new();
    for l in err.lines().filter(|l| *l != last) {
        let (n, rest) = match l
            .strip_prefix("error: ")
            .and_then(|l| l.split_once(" record(s) not delivered: "))
        {
            Some((n, rest)) => (n.parse::<u64>().unwrap(), rest),
            None => (
                1,
                l.strip_prefix("error: ").unwrap_or_else(|| panic!("{l}")),
            ),
        };
        assert!(
            rest.starts_with(&format!("produce to {topic}-"))
                && rest.contains(": broker error 87 (InvalidRecord): ")
                && rest.contains("Compacted topic cannot accept message without key"),
            "{l}"
        );
        in_lines += n;
        lines.push(l);
    }
    assert_eq!(
        in_lines, 300,
        "each refused record in exactly one line: {err}"
    );
    assert!(
        lines.len() < 20,
        "one line per batch, not per record: {err}"
    );
    assert!(err.ends_with(&format!("{last}\n")), "{err}");

    let (code, out, err) = produce(true);
    assert_eq!(code, 3, "{out}{err}");
    let s = summary(&out);
    assert_eq!(
        (
            s["records"].as_u64(),
            s["acked"].as_u64(),
            s["failed"].as_u64()
        ),
        (Some(300), Some(0), Some(300)),
        "{s}"
    );
    let errors = json_lines(&out)
        .into_iter()
        .filter(|v| v["type"] == "error")
        .inspect(|v| {
            assert!(
                v["error"].as_str().unwrap().contains("(InvalidRecord)"),
                "{v}"
            )
        })
        .count();
    assert_eq!(errors, 300, "{out}");
    delete_topic(k, &topic);
}

/// The end of an async run sends what is still queued at once (as the Java client's close()):
/// with linger.ms at 10 minutes the run must not sit out the linger. A delivery timeout shorter
/// than the linger is refused before anything is sent.
#[test]
fn an_async_run_sends_its_last_records_without_waiting_for_linger() {
    let k = shared();
    let home = tempfile::tempdir().unwrap();
    let plaintext = k.bootstrap(Listener::Plaintext);
    let topic = format!("apps-linger-{}", std::process::id());
    create_topic(k, &topic, 1, &[]);
    let mut child = kquota(home.path())
        .args(["produce", "-b", &plaintext, "--topic-name", &topic])
        .args(["--num-messages", "5", "--producer-type", "async", "--json"])
        .args(["--linger-ms", "600000", "--delivery-timeout-ms", "900000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A hang detector, not a speed check: without the final flush this takes 10 minutes.
    let until = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > until {
            let _ = child.kill();
            panic!("produce still waiting for linger.ms after 120 s");
        }
        thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(summary(&stdout)["acked"], 5, "{stdout}");

    let (code, out, err) = run(kquota(home.path())
        .args(["produce", "-b", &plaintext, "--topic-name", &topic])
        .args(["--producer-type", "async", "--linger-ms", "8000"])
        .args(["--delivery-timeout-ms", "5000"]));
    assert_eq!(code, 2, "{out}{err}");
    assert_one_error_line(
        &err,
        "delivery.timeout.ms (5000 ms) must be at least linger.ms (8000 ms)",
        "delivery timeout below linger",
    );
    delete_topic(k, &topic);
}

/// `--rate R --duration S` sends exactly R × S records (the record due at the end is not sent);
/// `consume --num-messages N --duration S` stops at whichever comes first (documented: both
/// may be given), here the duration, with what there was; one record is "1 record".
#[test]
fn rate_times_duration_records_and_num_messages_with_duration_stop_at_the_first() {
    let k = shared();
    let home = tempfile::tempdir().unwrap();
    let plaintext = k.bootstrap(Listener::Plaintext);
    let topic = format!("apps-rate-{}", std::process::id());
    create_topic(k, &topic, 1, &[]);
    // Async: sends never wait for acknowledgements, so a slow machine does not delay the
    // schedule (20 records due at 0, 0.1, ..., 1.9 s).
    let (code, out, err) = run(kquota(home.path())
        .args(["produce", "-b", &plaintext, "--topic-name", &topic])
        .args([
            "--rate",
            "10",
            "--duration",
            "2",
            "--producer-type",
            "async",
        ])
        .args(["--message-size", "10", "--json"]));
    assert_eq!(code, 0, "{out}{err}");
    let s = summary(&out);
    assert_eq!(
        (s["records"].clone(), s["acked"].clone()),
        (20.into(), 20.into()),
        "{out}"
    );
    let (code, out, err) = run(kquota(home.path())
        .args(["produce", "-b", &plaintext, "--topic-name", &topic])
        .args(["--num-messages", "1", "--quiet"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("produce: 1 record, 1 ok, 0 failed in "),
        "{out}"
    );

    let (code, out, err) = run(kquota(home.path())
        .args(["consume", "-b", &plaintext, "--topic-name", &topic])
        .args(["--num-messages", "1000000", "--duration", "3", "--json"]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(summary(&out)["records"], 21, "{out}");
    delete_topic(k, &topic);
}
