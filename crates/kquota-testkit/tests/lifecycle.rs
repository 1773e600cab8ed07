//! Cluster life cycle: two clusters at once, restarts, the 3-broker shape, no orphan JVM after
//! SIGKILL, and clear errors (never a hang) for bad input.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Conn;
use kquota_testkit::{ClusterSpec, KafkaCluster, Listener, TestkitError};

fn testkit_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kquota-testkit"))
}

fn all_ports(c: &KafkaCluster) -> Vec<u16> {
    c.brokers()
        .iter()
        .flat_map(|b| Listener::ALL.map(|l| b.addr(l).port()))
        .collect()
}

/// The first official signer vector (see tests/validator.rs for provenance).
fn first_vector() -> serde_json::Value {
    let path = kquota_testkit::repo_root().join("../shared/vectors/msk_iam_oauthbearer.json");
    let v: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v.into_iter()
        .find(|x| x["inputs"]["session_token"].is_null())
        .unwrap()
}

#[test]
fn two_clusters_run_at_once_and_a_broker_restarts_on_the_same_ports() {
    let vector = first_vector();
    let signed_at = vector["inputs"]["signing_time_epoch_ms"].as_u64().unwrap();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| KafkaCluster::start(ClusterSpec::single()));
        let b = s.spawn(|| {
            KafkaCluster::start(
                ClusterSpec::single()
                    .anonymous_super_user(false)
                    .ssl_client_auth(true)
                    .iam_fixed_now_ms(signed_at),
            )
        });
        (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
    });
    let (pa, pb) = (all_ports(&a), all_ports(&b));
    assert!(pa.iter().all(|p| !pb.contains(p)), "{pa:?} vs {pb:?}");
    assert_ne!(a.cluster_id(), b.cluster_id());
    assert_ne!(a.dir(), b.dir());
    assert!(
        Conn::plain(a.brokers()[0].plaintext)
            .api_versions()
            .unwrap()
            > 40
    );
    assert!(
        Conn::plain(b.brokers()[0].plaintext)
            .api_versions()
            .unwrap()
            > 40
    );
    assert!(
        Conn::tls(a.brokers()[0].ssl, a.ca_pem_path(), None)
            .api_versions()
            .unwrap()
            > 40
    );

    // b requires client certificates on SSL: without one the broker drops the connection.
    let b0 = b.brokers()[0].clone();
    assert!(Conn::tls(b0.ssl, b.ca_pem_path(), None)
        .api_versions()
        .is_err());
    let client = Some((b.client_cert_pem_path(), b.client_key_pem_path()));
    let mut cert_conn = Conn::tls(b0.ssl, b.ca_pem_path(), client);
    assert!(cert_conn.api_versions().unwrap() > 40);
    // b: neither ANONYMOUS nor the certificate principal is a super user...
    let mut anon = Conn::plain(b0.plaintext);
    assert_eq!(
        anon.create_topic("testkit-anon", 1, 1),
        29 /* TOPIC_AUTHORIZATION_FAILED */
    );
    assert_eq!(cert_conn.create_topic("testkit-cert", 1, 1), 29);
    // ...until admin grants CREATE to exactly User:CN=kquota-client.
    let creds = b.credentials();
    let mut admin = Conn::plain(b0.sasl_plaintext);
    admin
        .sasl_plain(&creds.admin.user, &creds.admin.password)
        .unwrap();
    let principal = format!("User:CN={}", kquota_testkit::CLIENT_CERT_CN);
    assert_eq!(
        admin.allow_topic(&principal, "testkit-cert", 5 /* CREATE */),
        0
    );
    let mut created = -1;
    for _ in 0..50 {
        created = cert_conn.create_topic("testkit-cert", 1, 1);
        if created == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        created, 0,
        "the client certificate's principal is {principal}"
    );

    // b's validator runs at the vector's signing time, so the official signer's token is accepted
    // by the live broker once its (example) key is registered.
    let i = &vector["inputs"];
    let arn = "arn:aws:sts::111111111111:assumed-role/Vector-Role/vector-session";
    b.register_iam_credentials(
        i["access_key_id"].as_str().unwrap(),
        i["secret_access_key"].as_str().unwrap(),
        None,
        arn,
    )
    .unwrap();
    let mut iam = Conn::plain(b0.sasl_plaintext);
    let resp = iam
        .sasl_oauthbearer(vector["token"].as_str().unwrap())
        .unwrap();
    // The session is bounded by the token: 900 s from signing, on the shifted clock.
    assert!(
        (800_000..=900_000).contains(&resp.session_lifetime_ms),
        "{}",
        resp.session_lifetime_ms
    );
    assert!(iam.api_versions().unwrap() > 40);

    let mut anon_a = Conn::plain(a.brokers()[0].plaintext);
    assert_eq!(anon_a.create_topic("testkit-anon", 1, 1), 0);
    // Restart a's broker: same address, same data (the topic survives).
    let before = a.brokers()[0].clone();
    a.stop_broker(1).unwrap();
    assert!(
        Conn::plain_result(before.plaintext).is_err(),
        "the broker is down"
    );
    a.start_broker(1).unwrap();
    assert_eq!(a.brokers()[0], before);
    let mut conn = Conn::plain(before.plaintext);
    let mut err = -1;
    for _ in 0..100 {
        err = conn.topic_error("testkit-anon");
        if err == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(err, 0, "topic survives the restart");

    let dir = a.dir().to_path_buf();
    drop(a);
    assert!(!dir.exists(), "a dropped cluster removes its directory");
    assert!(common::java_processes_mentioning(&dir.to_string_lossy()).is_empty());
}

#[test]
fn three_broker_cluster_comes_up_and_each_broker_answers() {
    let c = KafkaCluster::start(
        ClusterSpec::three_brokers().broker_config("quota.window.size.seconds", "1"),
    )
    .unwrap();
    let ids: Vec<i32> = c.brokers().iter().map(|b| b.id).collect();
    assert_eq!(ids, [1, 2, 3]);
    assert!(c.controller_log().unwrap().exists());
    let creds = c.credentials();
    for b in c.brokers() {
        let mut p = Conn::plain(b.plaintext);
        assert!(p.api_versions().unwrap() > 40, "broker {}", b.id);
        assert_eq!(p.broker_ids(), [1, 2, 3], "broker {}", b.id);
        let mut s = Conn::tls(b.sasl_ssl, c.ca_pem_path(), None);
        s.sasl_scram(true, &creds.admin.user, &creds.admin.password)
            .unwrap();
        assert!(s.api_versions().unwrap() > 40);
        let props = std::fs::read_to_string(b.log.with_file_name("server.properties")).unwrap();
        assert!(props.contains(&format!("node.id={}", b.id)));
    }
    assert_eq!(c.bootstrap(Listener::Plaintext).split(',').count(), 3);
    let mut admin = Conn::plain(c.brokers()[0].plaintext);
    assert_eq!(admin.create_topic("testkit-three", 3, 3), 0);
}

/// Waits for `kquota-testkit up` to print its "is up" line; returns the child.
fn start_up(args: &[&str], json: &Path) -> std::process::Child {
    let mut child = testkit_bin()
        .arg("up")
        .args(args)
        .arg("--json")
        .arg(json)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.starts_with("Press Ctrl-C") => return child,
            Ok(_) => {}
            Err(_) => {
                let _ = child.kill();
                panic!("kquota-testkit up did not come up: {:?}", child.wait());
            }
        }
    }
}

fn wait_gone(dir: &str) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = common::java_processes_mentioning(dir);
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A process that started a cluster is SIGKILLed: its JVM must not survive it.
#[test]
fn a_killed_test_process_leaves_no_jvm_behind() {
    let json =
        std::env::temp_dir().join(format!("kquota-testkit-kill-{}.json", std::process::id()));
    let mut child = start_up(&[], &json);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let dir = v["dir"].as_str().unwrap().to_string();
    assert!(
        !common::java_processes_mentioning(&dir).is_empty(),
        "the broker JVM runs"
    );
    // Attach from this process, as a test binary would with KQUOTA_TESTKIT_SHARED.
    let attached = KafkaCluster::attach(&json).unwrap();
    assert!(
        Conn::plain(attached.brokers()[0].plaintext)
            .api_versions()
            .unwrap()
            > 40
    );
    child.kill().unwrap(); // SIGKILL: no destructor, no signal handler runs
    child.wait().unwrap();
    assert_eq!(
        wait_gone(&dir),
        Vec::<u32>::new(),
        "JVMs of {dir} outlived their parent"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&json);
}

/// SIGTERM stops `kquota-testkit up` cleanly: JVM gone, directory and JSON removed.
#[test]
fn up_stops_cleanly_on_sigterm() {
    let json =
        std::env::temp_dir().join(format!("kquota-testkit-term-{}.json", std::process::id()));
    let mut child = start_up(&["--config", "quota.window.num=2"], &json);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let dir = v["dir"].as_str().unwrap().to_string();
    let log = PathBuf::from(v["brokers"][0]["log"].as_str().unwrap());
    assert!(
        std::fs::read_to_string(log.with_file_name("server.properties"))
            .unwrap()
            .contains("quota.window.num=2")
    );
    // SAFETY: signals our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(wait_gone(&dir), Vec::<u32>::new());
    assert!(!Path::new(&dir).exists());
    assert!(!json.exists());
}

#[test]
fn missing_java_or_maven_is_one_clear_error() {
    let empty = std::env::temp_dir().join(format!("kquota-testkit-nopath-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let out = testkit_bin()
        .arg("up")
        .env("PATH", &empty)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("`java` was not found on PATH"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");

    // Java present but no Maven, and nothing fetched yet in this cache.
    let java = which("java");
    std::os::unix::fs::symlink(&java, empty.join("java")).unwrap();
    let cache = empty.join("cache");
    let out = testkit_bin()
        .arg("fetch")
        .env("PATH", &empty)
        .env("KQUOTA_TESTKIT_CACHE", &cache)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("`mvn` was not found on PATH"), "{err}");
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn maven_failure_names_the_maven_log() {
    let fake = std::env::temp_dir().join(format!("kquota-testkit-badrepo-{}", std::process::id()));
    std::fs::create_dir_all(fake.join("testdata/kafka")).unwrap();
    std::fs::write(
        fake.join("testdata/kafka/pom.xml"),
        "<project><this is not a pom",
    )
    .unwrap();
    let out = testkit_bin()
        .arg("fetch")
        .env("KQUOTA_TESTKIT_REPO", &fake)
        .env("KQUOTA_TESTKIT_CACHE", fake.join("cache"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    let line = err.lines().last().unwrap();
    assert!(
        line.contains("fetching Apache Kafka 4.1.1 from Maven Central failed"),
        "{err}"
    );
    let log = fake.join("cache/mvn-fetch.log");
    assert!(line.contains(&log.display().to_string()), "{err}");
    assert!(
        std::fs::metadata(&log).unwrap().len() > 0,
        "Maven's output is in the log"
    );
    let _ = std::fs::remove_dir_all(&fake);
}

/// An unreachable registry (every repository mirrored to a closed port, empty local repository).
#[test]
fn an_unreachable_registry_names_the_maven_log() {
    let home = std::env::temp_dir().join(format!("kquota-testkit-offline-{}", std::process::id()));
    std::fs::create_dir_all(home.join(".m2")).unwrap();
    std::fs::write(
        home.join(".m2/settings.xml"),
        "<settings><mirrors><mirror><id>unreachable</id><mirrorOf>*</mirrorOf>\
         <url>https://127.0.0.1:9/maven2</url></mirror></mirrors></settings>",
    )
    .unwrap();
    let started = Instant::now();
    let out = testkit_bin()
        .arg("fetch")
        .env("MAVEN_OPTS", format!("-Duser.home={}", home.display()))
        .env("KQUOTA_TESTKIT_CACHE", home.join("cache"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    let line = err.lines().last().unwrap();
    assert!(
        line.contains("from Maven Central failed (mvn exited with"),
        "{err}"
    );
    assert!(
        line.contains("127.0.0.1:9"),
        "the cause names the repository: {line}"
    );
    assert!(
        line.contains(&home.join("cache/mvn-fetch.log").display().to_string()),
        "{line}"
    );
    assert!(started.elapsed() < Duration::from_secs(300), "no hang");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn a_port_in_use_is_reported_with_the_port_and_the_log() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let started = Instant::now();
    let err = KafkaCluster::start(ClusterSpec::single().fixed_ports(port)).unwrap_err();
    match &err {
        TestkitError::PortInUse { port: p, log, .. } => {
            // Ours, or another of the node's six fixed ports that something else on the
            // machine (a concurrent test's ephemeral port) happens to hold: Kafka reports the
            // first listener it fails to bind, in its own order.
            assert!(
                (port..port.saturating_add(6)).contains(p),
                "port {p} outside the fixed range from {port}"
            );
            assert!(err.to_string().contains(&p.to_string()), "{err}");
            assert!(log.exists(), "log kept: {}", log.display());
        }
        other => panic!("expected PortInUse, got {other}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("already in use") && msg.contains("broker.log"),
        "{msg}"
    );
    assert!(started.elapsed() < Duration::from_secs(90), "no hang");
    drop(taken);
}

#[test]
fn a_broker_that_does_not_come_up_is_reported_with_its_cause_and_log() {
    let err = KafkaCluster::start(
        ClusterSpec::single().broker_config("quota.window.num", "not-a-number"),
    )
    .unwrap_err();
    let msg = err.to_string();
    match &err {
        TestkitError::NodeFailed {
            node, log, cause, ..
        } => {
            assert_eq!(*node, 1);
            assert!(log.exists());
            assert!(cause.contains("quota.window.num"), "{cause}");
        }
        other => panic!("expected NodeFailed, got {other}"),
    }
    assert!(msg.contains("broker.log") && !msg.contains('\n'), "{msg}");

    // A start that cannot finish in time is a timeout error, not a hang.
    let started = Instant::now();
    let err = KafkaCluster::start(ClusterSpec::single().start_timeout(Duration::from_millis(1)))
        .unwrap_err();
    assert!(matches!(err, TestkitError::StartTimeout { .. }), "{err}");
    assert!(err.to_string().contains("broker.log"));
    assert!(started.elapsed() < Duration::from_secs(60));
}

fn which(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{name} not on PATH"))
}
