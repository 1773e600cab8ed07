//! Ctrl-C (SIGINT) and SIGTERM sent to the `kquota` process (kill(2)), against the testkit's
//! real broker: nothing half-applied without the user being told, every record acknowledged
//! or reported failed.
//!
//! Each signal is sent at a point the process has shown it reached (a line it printed, a
//! connection it opened), never after a sleep. Where a run must still be going when the
//! signal lands, a quota makes it slow: a `request_percentage` quota far below what the
//! client uses makes the broker throttle every answer by its maximum (one quota window, 1 s),
//! which the client waits out before its next request (KIP-219); a byte-rate quota does the
//! same for produce and consume.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use kquota_admin::{Alteration, Entity, EntityName, Filter, Op, QuotaAdmin, QuotaKey};
use kquota_testkit::{shared, Listener};
use serde_json::Value;

mod common;
use common::kquota;

/// A run is seconds; a hang must fail the test, not the CI job.
const DEADLINE: Duration = Duration::from_secs(120);
const WAITING: &str = "interrupted: waiting for the broker's answer to the change already sent; press Ctrl-C again to stop without it";

// ---------------------------------------------------------------------------------------------
// The process

/// A running `kquota` whose output lines arrive as they are printed.
struct Proc {
    child: Child,
    out: Lines,
    err: Lines,
}

/// One output stream: its lines so far, and a channel of new ones.
struct Lines {
    all: Arc<Mutex<Vec<String>>>,
    rx: mpsc::Receiver<String>,
    reader: Option<thread::JoinHandle<()>>,
}

impl Lines {
    fn read(stream: impl std::io::Read + Send + 'static) -> Lines {
        let all = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let a = all.clone();
        let reader = thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                a.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        Lines {
            all,
            rx,
            reader: Some(reader),
        }
    }

    fn text(&self) -> String {
        self.all.lock().unwrap().join("\n")
    }
}

fn start(c: &mut Command) -> Proc {
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kquota");
    let out = Lines::read(child.stdout.take().unwrap());
    let err = Lines::read(child.stderr.take().unwrap());
    Proc { child, out, err }
}

impl Proc {
    fn signal(&self, sig: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) on our own child, which has not been waited for (its pid is ours).
        let rc = unsafe { libc::kill(pid, sig) };
        assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
    }

    /// Waits for a line of stdout (`out`) or stderr matching `want`; fails the test when the
    /// stream ends first or the deadline passes.
    fn wait_for(&mut self, on_stdout: bool, mut want: impl FnMut(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let rx = if on_stdout {
                &self.out.rx
            } else {
                &self.err.rx
            };
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) if want(&line) => return line,
                Ok(_) => {}
                Err(e) => {
                    let _ = self.child.kill();
                    panic!(
                        "no such line on {} ({e:?})\nstdout:\n{}\nstderr:\n{}",
                        if on_stdout { "stdout" } else { "stderr" },
                        self.out.text(),
                        self.err.text()
                    );
                }
            }
        }
    }

    /// Waits for the exit: code (-1 for a signal death), stdout lines, stderr lines.
    fn finish(mut self) -> (i32, Vec<String>, Vec<String>) {
        let deadline = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "kquota did not end within {DEADLINE:?} (killed)\nstdout:\n{}\nstderr:\n{}",
                    self.out.text(),
                    self.err.text()
                );
            }
            thread::sleep(Duration::from_millis(20));
        };
        for l in [&mut self.out, &mut self.err] {
            if let Some(r) = l.reader.take() {
                r.join().unwrap();
            }
        }
        let out = self.out.all.lock().unwrap().clone();
        let err = self.err.all.lock().unwrap().clone();
        (status.code().unwrap_or(-1), out, err)
    }
}

/// Runs to the end: code, stdout, stderr.
fn run(c: &mut Command) -> (i32, String, String) {
    let (code, out, err) = start(c).finish();
    (code, out.join("\n"), err.join("\n"))
}

fn json(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

fn bootstrap() -> String {
    shared().bootstrap(Listener::Plaintext)
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

async fn admin() -> QuotaAdmin {
    let cfg = kquota_net::ClientConfig::new([bootstrap()]).client_id("interrupt-test-admin");
    QuotaAdmin::new(kquota_net::Cluster::connect(cfg).await.expect("connect"))
}

fn client_id(name: &str) -> Entity {
    Entity::new().with_client_id(EntityName::named(name))
}

/// Removes the quotas of these client-ids when dropped (also when the test fails), so the
/// shared broker is left as it was.
struct Cleanup(Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let ids = std::mem::take(&mut self.0);
        block_on(async {
            let admin = admin().await;
            let stored = admin.describe(&Filter::all()).await.expect("describe");
            let removals: Vec<Alteration> = stored
                .into_iter()
                .filter(|eq| {
                    matches!(&eq.entity.client_id, Some(EntityName::Named(c)) if ids.iter().any(|p| c.starts_with(p.as_str())))
                })
                .map(|eq| Alteration {
                    ops: eq.values.keys().cloned().map(Op::Remove).collect(),
                    entity: eq.entity,
                })
                .collect();
            if !removals.is_empty() {
                admin
                    .alter(&removals, false)
                    .await
                    .expect("clean up quotas");
            }
            admin.cluster().close().await;
        });
    }
}

/// Sets one quota with the CLI.
fn set_quota(home: &Path, id: &str, kv: &str) {
    let (code, out, err) = run(kquota(home).args([
        "quotas",
        "alter",
        "-b",
        &bootstrap(),
        "--client-id",
        id,
        "--set",
        kv,
    ]));
    assert_eq!(code, 0, "{out}{err}");
}

/// A throttle of 1 s on every answer to `id` (see the module comment).
fn slow_requests(home: &Path, id: &str) {
    set_quota(home, id, "request_percentage=0.0001");
}

/// A quota file of `n` client-id entities `{prefix}-NNNN`, and their values.
fn quota_file(dir: &Path, prefix: &str, n: usize) -> (std::path::PathBuf, BTreeMap<String, f64>) {
    let mut yaml = String::from("quotas:\n");
    let mut want = BTreeMap::new();
    for i in 0..n {
        let id = format!("{prefix}-{i:04}");
        let v = 1000.0 + i as f64;
        yaml += &format!(
            "  - entity: {{ client-id: {id} }}\n    values: {{ producer_byte_rate: {v} }}\n"
        );
        want.insert(id, v);
    }
    let f = dir.join("quotas.yaml");
    std::fs::write(&f, yaml).unwrap();
    (f, want)
}

/// The client-ids of JSON entities.
/// Starts `kquota quotas apply` of `n` new entities named `{tag}-{pid}-e…` whose requests the
/// broker throttles (so a signal can land between them), with `extra` arguments before `-f`.
/// Returns the process, the name prefix, the quota file, the values it sets, and the guard
/// that removes the entities.
fn start_slow_apply(
    home: &Path,
    tag: &str,
    n: usize,
    extra: &[&str],
) -> (
    Proc,
    String,
    std::path::PathBuf,
    BTreeMap<String, f64>,
    Cleanup,
) {
    let prefix = format!("{tag}-{}", std::process::id());
    let cli_id = format!("{prefix}-cli");
    let cleanup = Cleanup(vec![prefix.clone()]);
    slow_requests(home, &cli_id);
    let (file, want) = quota_file(home, &format!("{prefix}-e"), n);
    let b = bootstrap();
    let mut args = vec!["quotas", "apply", "-b", &b, "--connect-client-id", &cli_id];
    args.extend_from_slice(extra);
    args.extend(["-f", file.to_str().unwrap()]);
    let p = start(kquota(home).args(&args));
    (p, prefix, file, want, cleanup)
}

fn ids(list: &Value, key: Option<&str>) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let e = key.map_or(v, |k| &v[k]);
            e["client-id"].as_str().unwrap().to_string()
        })
        .collect()
}

/// The stored producer_byte_rate of client-ids starting with `prefix`, once every broker shows
/// the `applied` ones.
fn stored(prefix: &str, applied: &[String], want: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    block_on(async {
        let admin = admin().await;
        let alts: Vec<Alteration> = applied
            .iter()
            .map(|id| Alteration {
                entity: client_id(id),
                ops: vec![Op::Set(QuotaKey::ProducerByteRate, want[id])],
            })
            .collect();
        let lagging = admin
            .wait_applied(&alts, Duration::from_secs(10))
            .await
            .unwrap();
        assert!(lagging.is_empty(), "brokers {lagging:?}");
        let all = admin.describe(&Filter::all()).await.unwrap();
        admin.cluster().close().await;
        all.into_iter()
            .filter_map(|eq| match &eq.entity.client_id {
                Some(EntityName::Named(c)) if c.starts_with(prefix) => {
                    Some((c.clone(), eq.values[&QuotaKey::ProducerByteRate]))
                }
                _ => None,
            })
            .collect()
    })
}

// ---------------------------------------------------------------------------------------------
// Before anything is sent

/// A TCP server that accepts connections and never answers: a broker that hangs. Each accept
/// is told on the channel.
fn silent_broker() -> (String, mpsc::Receiver<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut held = Vec::new();
        for c in l.incoming() {
            let Ok(c) = c else { break };
            held.push(c);
            if tx.send(()).is_err() {
                break;
            }
        }
    });
    (addr, rx)
}

/// Ctrl-C (or SIGTERM) while a command is still connecting: the commands that change
/// something, produce or consume say in one line that nothing was changed / sent / read and
/// exit 130; a command that only reads ends at once, silently, 130 (143 for SIGTERM).
#[test]
fn a_signal_before_anything_is_sent_changes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("q.yaml");
    std::fs::write(
        &file,
        "quotas:\n  - entity: { client-id: c }\n    values: { producer_byte_rate: 1024 }\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let nothing = "interrupted: nothing was changed";
    let cases: Vec<(Vec<&str>, libc::c_int, i32, Option<&str>)> = vec![
        (
            vec![
                "quotas",
                "alter",
                "--client-id",
                "c",
                "--set",
                "producer_byte_rate=1024",
            ],
            libc::SIGINT,
            130,
            Some(nothing),
        ),
        (
            vec![
                "quotas",
                "alter",
                "--client-id",
                "c",
                "--set",
                "producer_byte_rate=1024",
            ],
            libc::SIGTERM,
            130,
            Some(nothing),
        ),
        (
            vec!["quotas", "delete", "--client-id", "c"],
            libc::SIGINT,
            130,
            Some(nothing),
        ),
        (
            vec!["quotas", "apply", "-f", file],
            libc::SIGINT,
            130,
            Some(nothing),
        ),
        (
            vec!["topics", "create", "t"],
            libc::SIGINT,
            130,
            Some(nothing),
        ),
        (
            vec!["topics", "delete", "t"],
            libc::SIGTERM,
            130,
            Some(nothing),
        ),
        (
            vec!["produce", "--topic-name", "t", "--num-messages", "10"],
            libc::SIGINT,
            130,
            Some("interrupted: no record was sent"),
        ),
        (
            vec![
                "consume",
                "--topic-name",
                "t",
                "--consumer-group",
                "g",
                "--num-messages",
                "1",
            ],
            libc::SIGINT,
            130,
            Some("interrupted: no record was read"),
        ),
        (vec!["quotas", "describe"], libc::SIGINT, 130, None),
        (vec!["quotas", "describe"], libc::SIGTERM, 143, None),
    ];
    for (args, sig, want_code, want_line) in cases {
        let (addr, accepted) = silent_broker();
        let mut c = kquota(home.path());
        c.args(&args).args(["-b", &addr]);
        let p = start(&mut c);
        accepted
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|_| panic!("{args:?} never connected"));
        p.signal(sig);
        let (code, out, err) = p.finish();
        assert_eq!(code, want_code, "{args:?} {sig}: {out:?} {err:?}");
        match want_line {
            Some(line) => assert_eq!(err, [line], "{args:?} {sig}"),
            None => assert!(err.is_empty(), "{args:?} {sig}: {err:?}"),
        }
        assert!(out.is_empty(), "{args:?}: {out:?}");
    }
    // The kafka-configs mode too.
    let (addr, accepted) = silent_broker();
    let p = start(kquota(home.path()).args([
        "configs",
        "--bootstrap-server",
        &addr,
        "--alter",
        "--entity-type",
        "clients",
        "--entity-name",
        "c",
        "--add-config",
        "producer_byte_rate=1024",
    ]));
    accepted.recv_timeout(DEADLINE).unwrap();
    p.signal(libc::SIGINT);
    let (code, _, err) = p.finish();
    assert_eq!((code, err), (130, vec![nothing.to_string()]));
}

// ---------------------------------------------------------------------------------------------
// quotas apply

/// Ctrl-C between two requests of a large apply (after the first answer, while the client
/// waits out the broker's throttle): the rest is not sent, the output lists exactly what was
/// applied and what was not sent, and that is what the broker has.
#[test]
fn apply_interrupted_between_requests_reports_exactly_what_was_applied() {
    let home = tempfile::tempdir().unwrap();
    let (mut p, prefix, file, want, _cleanup) =
        start_slow_apply(home.path(), "sigint-apply", 3000, &["-o", "json"]);
    p.wait_for(false, |l| l.starts_with("apply: request 1 of 3 answered"));
    p.signal(libc::SIGINT);
    let (code, out, err) = p.finish();
    assert_eq!(code, 130, "{out:?} {err:?}");
    assert_eq!(out.len(), 2, "the plan and the results: {out:?}");
    assert_eq!(json(&out[0])["changes"].as_array().unwrap().len(), 3000);
    let doc = json(&out[1]);
    assert_eq!(doc["interrupted"], true, "{doc}");
    for r in doc["results"].as_array().unwrap() {
        assert_eq!(r["ok"], true, "{r}");
    }
    let applied = ids(&doc["results"], Some("entity"));
    let not_sent = ids(&doc["not_sent"], None);
    assert_eq!(doc["unanswered"], serde_json::json!([]), "{doc}");
    assert_eq!(applied.len() + not_sent.len(), 3000);
    assert!(
        applied.len() >= 1000 && applied.len().is_multiple_of(1000),
        "whole requests: {}",
        applied.len()
    );
    let last = err.last().unwrap();
    let mut line = format!("interrupted: {} of 3000 entities changed", applied.len());
    if !not_sent.is_empty() {
        line += &format!(", {} not sent", not_sent.len());
    }
    assert!(last.starts_with(&line), "{err:?}");
    assert!(
        last.ends_with(&format!(
            "check with 'kquota quotas plan -f {}'",
            file.display()
        )),
        "{last}"
    );
    // Exactly what the output says was applied is stored, with the file's values.
    let have = stored(&format!("{prefix}-e-"), &applied, &want);
    let expected: BTreeMap<String, f64> = applied.iter().map(|id| (id.clone(), want[id])).collect();
    assert_eq!(have, expected);
}

/// Ctrl-C while a request is out: one line says kquota waits for the answer, the answer is
/// reported (its entities applied), the later requests are not sent, exit 130. The request
/// is out as soon as the plan is printed: the client then waits out the broker's throttle of
/// the describe before it goes.
#[test]
fn apply_interrupted_with_a_request_out_waits_for_its_answer() {
    let home = tempfile::tempdir().unwrap();
    let (mut p, prefix, file, want, _cleanup) =
        start_slow_apply(home.path(), "sigint-wait", 2000, &[]);
    p.wait_for(true, |l| l.starts_with("Plan: 2000 to create"));
    p.signal(libc::SIGINT);
    let (code, out, err) = p.finish();
    assert_eq!(code, 130, "{out:?} {err:?}");
    assert_eq!(
        err,
        [
            WAITING.to_string(),
            "apply: request 1 of 2 answered (1000 of 2000 entities)".to_string(),
            format!(
                "interrupted: 1000 of 2000 entities changed, 1000 not sent; not confirmed that every broker shows the change yet; check with 'kquota quotas plan -f {}'",
                file.display()
            ),
        ]
    );
    // The table after the plan: 1000 OK rows, then the 1000 not sent.
    let ok: Vec<String> = out
        .iter()
        .filter(|l| l.ends_with("  OK"))
        .map(|l| l.split('\'').nth(1).unwrap().to_string())
        .collect();
    let not_sent = out
        .iter()
        .filter(|l| l.ends_with("  not sent (interrupted)"))
        .count();
    assert_eq!((ok.len(), not_sent), (1000, 1000), "{out:?}");
    let have = stored(&format!("{prefix}-e-"), &ok, &want);
    assert_eq!(have.keys().cloned().collect::<Vec<_>>(), ok);
}

/// Ctrl-C once every request was answered, while kquota waits for every broker to show the
/// change (its describe waits out the throttle of the last answer first): the results are
/// reported, the change stands, its propagation is not confirmed, exit 130.
#[test]
fn apply_interrupted_while_waiting_for_the_brokers_reports_the_change_as_applied() {
    let home = tempfile::tempdir().unwrap();
    let (mut p, prefix, file, want, _cleanup) =
        start_slow_apply(home.path(), "sigint-prop", 1500, &[]);
    p.wait_for(false, |l| l.starts_with("apply: request 2 of 2 answered"));
    p.signal(libc::SIGINT);
    let (code, out, err) = p.finish();
    assert_eq!(code, 130, "{out:?} {err:?}");
    assert_eq!(
        err.last().unwrap(),
        &format!(
            "interrupted: 1500 of 1500 entities changed; not confirmed that every broker shows the change yet; check with 'kquota quotas plan -f {}'",
            file.display()
        )
    );
    let ok = out.iter().filter(|l| l.ends_with("  OK")).count();
    assert_eq!(ok, 1500, "{out:?}");
    let all: Vec<String> = want.keys().cloned().collect();
    assert_eq!(stored(&format!("{prefix}-e-"), &all, &want), want);
}

/// A second Ctrl-C while the answer is awaited ends the run at once, saying that the outcome
/// is unknown and how to check it.
#[test]
fn a_second_ctrl_c_stops_without_the_answer_and_says_how_to_check() {
    let home = tempfile::tempdir().unwrap();
    let (mut p, _, file, _, _cleanup) = start_slow_apply(home.path(), "sigint-twice", 1500, &[]);
    p.wait_for(true, |l| l.starts_with("Plan: 1500 to create"));
    p.signal(libc::SIGINT);
    p.wait_for(false, |l| l == WAITING);
    p.signal(libc::SIGINT);
    let (code, out, err) = p.finish();
    assert_eq!(code, 130, "{out:?} {err:?}");
    assert_eq!(
        err,
        [
            WAITING.to_string(),
            format!(
                "interrupted again: stopped without the broker's answer; the change was sent and its outcome is unknown; check with 'kquota quotas plan -f {}'",
                file.display()
            )
        ]
    );
    assert!(
        out.last().unwrap().starts_with("Plan: "),
        "no results: {out:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// produce / consume

fn create_topic(home: &Path, topic: &str, partitions: &str) {
    let (code, out, err) = run(kquota(home).args([
        "topics",
        "create",
        topic,
        "--partitions",
        partitions,
        "-b",
        &bootstrap(),
    ]));
    assert_eq!(code, 0, "{out}{err}");
}

fn delete_topic(home: &Path, topic: &str) {
    let _ = run(kquota(home).args(["topics", "delete", topic, "-b", &bootstrap()]));
}

/// The JSON record lines of a consume run: (partition, offset) -> value.
fn records(out: &[String]) -> BTreeMap<(i64, i64), String> {
    out.iter()
        .map(|l| json(l))
        .filter(|v| v["type"] == "record")
        .map(|v| {
            (
                (
                    v["partition"].as_i64().unwrap(),
                    v["offset"].as_i64().unwrap(),
                ),
                v["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Ctrl-C during a sync produce: no new record, the summary (JSON) and the metrics are
/// printed, the counts add up, exit 130; every acknowledged record is in the topic.
#[test]
fn produce_interrupted_prints_the_summary_and_every_acknowledged_record_is_there() {
    let home = tempfile::tempdir().unwrap();
    let topic = format!("sigint-produce-{}", std::process::id());
    create_topic(home.path(), &topic, "2");
    let mut p = start(kquota(home.path()).args([
        "produce",
        "-b",
        &bootstrap(),
        "--topic-name",
        &topic,
        "--num-messages",
        "1000000",
        "--rate",
        "200",
        "--message-size",
        "20",
        "--json",
        "--print-producer-quota-metrics",
        "--metrics-interval",
        "1",
    ]));
    p.wait_for(true, |l| json(l)["type"] == "metrics");
    p.signal(libc::SIGINT);
    let (code, out, err) = p.finish();
    assert_eq!(code, 130, "{out:?} {err:?}");
    let summary = json(out.last().unwrap());
    assert_eq!(summary["type"], "summary", "{out:?}");
    assert_eq!(summary["interrupted"], true);
    assert!(
        summary["produce-throttle-time-max"].is_number(),
        "{summary}"
    );
    let sent = summary["records"].as_u64().unwrap();
    let acked = summary["acked"].as_u64().unwrap();
    assert_eq!((acked, summary["failed"].as_u64().unwrap()), (sent, 0));
    assert!(sent > 0);
    assert_eq!(
        err,
        [format!(
            "interrupted: stopped after {sent} record(s): {sent} acknowledged, 0 failed"
        )]
    );
    // Read back: records 0 .. sent, each once.
    let (code, out, err) = run(kquota(home.path()).args([
        "consume",
        "-b",
        &bootstrap(),
        "--topic-name",
        &topic,
        "--num-messages",
        &sent.to_string(),
        "--duration",
        "60",
        "--print-records",
        "--json",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let out: Vec<String> = out.lines().map(str::to_string).collect();
    let indexes: BTreeSet<u64> = records(&out)
        .values()
        .map(|v| v[..12].parse().unwrap())
        .collect();
    assert_eq!(indexes, (0..sent).collect::<BTreeSet<u64>>());
    delete_topic(home.path(), &topic);
}

/// Ctrl-C during an async produce throttled by its quota: one line says the records already
/// sent are being settled; each ends acknowledged or expired (reported), the counts add up,
/// exit 130. A second Ctrl-C in that phase stops at once with the count of records left
/// unsettled.
#[test]
fn async_produce_interrupted_settles_every_record_and_a_second_ctrl_c_counts_the_rest() {
    let home = tempfile::tempdir().unwrap();
    let tag = format!("sigint-async-{}", std::process::id());
    let producer_id = format!("{tag}-producer");
    let _cleanup = Cleanup(vec![tag.clone()]);
    set_quota(home.path(), &producer_id, "producer_byte_rate=1024");
    create_topic(home.path(), &tag, "1");
    let produce = |delivery_timeout_ms: &str| {
        start(kquota(home.path()).args([
            "produce",
            "-b",
            &bootstrap(),
            "--topic-name",
            &tag,
            "--client-id",
            &producer_id,
            "--producer-type",
            "async",
            "--num-messages",
            "1000000",
            "--message-size",
            "1000",
            // Room for a few hundred records: the settling phase stays short.
            "--buffer-memory",
            "300000",
            "--delivery-timeout-ms",
            delivery_timeout_ms,
            "--json",
            "--print-producer-quota-metrics",
            "--metrics-interval",
            "1",
        ]))
    };
    let settling = |l: &str| l.starts_with("interrupted: settling the ");

    let mut p = produce("3000");
    p.wait_for(true, |l| json(l)["type"] == "metrics");
    p.signal(libc::SIGINT);
    let (code, out, err) = p.finish();
    assert_eq!(code, 130, "{out:?} {err:?}");
    let summary = json(out.last().unwrap());
    assert_eq!(summary["type"], "summary", "{out:?}");
    let sent = summary["records"].as_u64().unwrap();
    let acked = summary["acked"].as_u64().unwrap();
    let failed = summary["failed"].as_u64().unwrap();
    assert_eq!(acked + failed, sent, "{summary}");
    let error_lines = out.iter().filter(|l| json(l)["type"] == "error").count();
    assert_eq!(
        error_lines as u64, failed,
        "every failed record is reported"
    );
    assert_eq!(err.len(), 2, "{err:?}");
    assert!(settling(&err[0]), "{err:?}");
    assert_eq!(
        err[1],
        format!(
            "interrupted: stopped after {sent} record(s): {acked} acknowledged, {failed} failed"
        )
    );

    let mut p = produce("60000");
    p.wait_for(true, |l| json(l)["type"] == "metrics");
    p.signal(libc::SIGINT);
    p.wait_for(false, settling);
    p.signal(libc::SIGINT);
    let (code, out, err) = p.finish();
    assert_eq!(code, 130, "{out:?} {err:?}");
    assert_eq!(err.len(), 2, "{err:?}");
    let left: u64 = err[1]
        .strip_prefix("interrupted again: stopped with ")
        .and_then(|r| r.split_once(" record(s) unsettled"))
        .map(|(n, _)| n.parse().unwrap())
        .unwrap_or_else(|| panic!("{err:?}"));
    assert!(left > 0, "{err:?}");
    assert!(
        !out.iter().any(|l| json(l)["type"] == "summary"),
        "no summary after the second Ctrl-C: {out:?}"
    );
    delete_topic(home.path(), &tag);
}

/// Ctrl-C during a group consume: fetching stops, the offsets of exactly the records printed
/// are committed, the group is left, the summary printed, exit 130. The group's next run
/// reads exactly the rest.
#[test]
fn consume_interrupted_commits_the_offsets_of_what_was_printed() {
    let home = tempfile::tempdir().unwrap();
    let tag = format!("sigint-consume-{}", std::process::id());
    let group = format!("{tag}-group");
    let slow_id = format!("{tag}-consumer");
    let _cleanup = Cleanup(vec![tag.clone()]);
    create_topic(home.path(), &tag, "3");
    let total = 1000u64;
    // Sync: one small batch per record, so a fetch of 1 KiB per partition carries a few.
    let (code, out, err) = run(kquota(home.path()).args([
        "produce",
        "-b",
        &bootstrap(),
        "--topic-name",
        &tag,
        "--num-messages",
        &total.to_string(),
        "--message-size",
        "100",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    // 4 KiB/s: the 100 KiB take well over 10 s once the first window's burst is used.
    set_quota(home.path(), &slow_id, "consumer_byte_rate=4096");
    let mut p = start(kquota(home.path()).args([
        "consume",
        "-b",
        &bootstrap(),
        "--topic-name",
        &tag,
        "--consumer-group",
        &group,
        "--client-id",
        &slow_id,
        "--max-partition-fetch-bytes",
        "1024",
        "--duration",
        "600",
        "--print-records",
        "--json",
        "--print-consumer-quota-metrics",
    ]));
    let mut seen = 0;
    p.wait_for(true, |l| {
        if json(l)["type"] == "record" {
            seen += 1;
        }
        seen >= 50
    });
    p.signal(libc::SIGINT);
    let (code, out, err) = p.finish();
    assert_eq!(code, 130, "{out:?} {err:?}");
    let first = records(&out);
    let n = first.len() as u64;
    assert!(n >= 50 && n < total, "{n}");
    let summary = json(out.last().unwrap());
    assert_eq!(summary["type"], "summary", "{out:?}");
    assert_eq!(summary["records"], n);
    assert_eq!(summary["interrupted"], true);
    assert!(summary["fetch-throttle-time-max"].is_number(), "{summary}");
    assert_eq!(
        err,
        [format!(
            "interrupted: stopped after {n} record(s) read; offsets committed and group '{group}' left"
        )]
    );
    // The group resumes exactly after what was printed.
    let (code, out, err) = run(kquota(home.path()).args([
        "consume",
        "-b",
        &bootstrap(),
        "--topic-name",
        &tag,
        "--consumer-group",
        &group,
        "--num-messages",
        &(total - n).to_string(),
        "--duration",
        "60",
        "--print-records",
        "--json",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let out: Vec<String> = out.lines().map(str::to_string).collect();
    let rest = records(&out);
    assert_eq!(rest.len() as u64, total - n);
    let overlap: Vec<&(i64, i64)> = rest.keys().filter(|k| first.contains_key(k)).collect();
    assert!(overlap.is_empty(), "read twice: {overlap:?}");
    let values: BTreeSet<u64> = first
        .values()
        .chain(rest.values())
        .map(|v| v[..12].parse().unwrap())
        .collect();
    assert_eq!(values, (0..total).collect::<BTreeSet<u64>>());
    delete_topic(home.path(), &tag);
}
