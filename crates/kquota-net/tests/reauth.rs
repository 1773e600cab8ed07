//! KIP-368 re-authentication against a real broker with `connections.max.reauth.ms=3000`:
//! connections stay up across several session lifetimes with zero failed requests, and
//! OAUTHBEARER asks for a fresh token at each re-authentication.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use kafka_protocol::messages::*;
use kquota_net::*;
use kquota_testkit::{ClusterSpec, KafkaCluster, Listener};

fn cluster() -> &'static KafkaCluster {
    static C: OnceLock<KafkaCluster> = OnceLock::new();
    C.get_or_init(|| {
        KafkaCluster::start(
            ClusterSpec::single().broker_config("connections.max.reauth.ms", "3000"),
        )
        .expect("start a broker with connections.max.reauth.ms=3000")
    })
}

/// OAUTHBEARER tokens signed by the testkit's Java signer. A JVM start per token takes about a
/// second (more on a loaded machine), which is a large part of a 3-second session lifetime, so
/// a background thread signs ahead and `token()` hands out the next fresh one at once: the test
/// measures the connection's re-authentication, not the JVM.
struct IamTokens {
    next: Mutex<std::sync::mpsc::Receiver<Result<String, String>>>,
    asked: AtomicUsize,
}

impl std::fmt::Debug for IamTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamTokens").finish_non_exhaustive()
    }
}

impl IamTokens {
    fn new(identity: kquota_testkit::IamIdentity) -> IamTokens {
        // Two tokens ahead; the thread ends when the receiver is dropped.
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        std::thread::spawn(move || loop {
            let t = kquota_testkit::sign_iam_token(&identity, "us-east-1", None)
                .map_err(|e| e.to_string());
            if tx.send(t).is_err() {
                return;
            }
        });
        IamTokens {
            next: Mutex::new(rx),
            asked: 0.into(),
        }
    }
}

impl TokenProvider for IamTokens {
    fn token(&self) -> BoxFuture<'_, Result<OAuthToken, AuthError>> {
        Box::pin(async move {
            self.asked.fetch_add(1, Ordering::SeqCst);
            let token = tokio::task::block_in_place(|| {
                self.next
                    .lock()
                    .unwrap()
                    .recv()
                    .map_err(|e| AuthError::Credentials(e.to_string()))
            })?
            .map_err(AuthError::Credentials)?;
            Ok(OAuthToken::new(
                token,
                SystemTime::now() + Duration::from_secs(900),
            ))
        })
    }
}

/// Keeps two request streams going on one connection for `run`, counting failures.
async fn hammer(conn: &BrokerConnection, run: Duration) -> (usize, Vec<String>) {
    let end = Instant::now() + run;
    let ok = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let (c, ok) = (conn.clone(), ok.clone());
        tasks.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            while Instant::now() < end {
                match c
                    .send(&MetadataRequest::default().with_topics(Some(vec![])))
                    .await
                {
                    Ok(_) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => failures.push(e.to_string()),
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            failures
        }));
    }
    let mut failures = Vec::new();
    for t in tasks {
        failures.extend(t.await.unwrap());
    }
    (ok.load(Ordering::Relaxed), failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_connection_survives_several_session_lifetimes() {
    let k = cluster();
    let a = k.credentials().admin;
    let sasl = SaslConfig::Scram {
        mechanism: ScramMechanism::Sha512,
        username: a.user,
        password: a.password.into(),
    };
    let addr = k.bootstrap(Listener::SaslPlaintext);
    let cfg = ClientConfig::new([addr.clone()]).security(Security::SaslPlaintext(sasl));
    let conn = BrokerConnection::connect(&addr, 1, &cfg).await.unwrap();
    // 10 s = more than three 3-second lifetimes.
    let (ok, failures) = hammer(&conn, Duration::from_secs(10)).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert!(ok > 100, "{ok}");
    assert!(
        conn.reauthentication_count() >= 3,
        "re-authenticated {} times",
        conn.reauthentication_count()
    );
    assert!(!conn.is_closed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauthbearer_reauthenticates_with_a_fresh_token_each_time() {
    let k = cluster();
    let provider = Arc::new(IamTokens::new(
        k.credentials()
            .iam_by_name("consumerapp-1")
            .unwrap()
            .clone(),
    ));
    let addr = k.bootstrap(Listener::SaslSsl);
    let cfg = ClientConfig::new([addr.clone()]).security(Security::SaslSsl(
        SaslConfig::OAuthBearer(provider.clone()),
        TlsConfig::new().ca_file(k.ca_pem_path()),
    ));
    let conn = BrokerConnection::connect(&addr, 1, &cfg).await.unwrap();
    // 12 s = more than three 3-second lifetimes.
    let (ok, failures) = hammer(&conn, Duration::from_secs(12)).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert!(ok > 50, "{ok}");
    let reauths = conn.reauthentication_count();
    assert!(reauths >= 3, "re-authenticated {reauths} times");
    assert_eq!(
        provider.asked.load(Ordering::SeqCst) as u64,
        reauths + 1,
        "one fresh token per (re)authentication"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_cluster_connection_is_still_usable_after_its_session_lifetime() {
    let k = cluster();
    let a = k.credentials().admin;
    let sasl = SaslConfig::Plain {
        username: a.user,
        password: a.password.into(),
    };
    let cluster = Cluster::connect(
        ClientConfig::new([k.bootstrap(Listener::SaslPlaintext)])
            .security(Security::SaslPlaintext(sasl)),
    )
    .await
    .unwrap();
    cluster
        .send(Target::Any, DescribeClusterRequest::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(7)).await;
    let r = cluster
        .send(Target::Any, DescribeClusterRequest::default())
        .await
        .unwrap();
    assert_eq!(r.body.error_code, 0);
    let conn = cluster.connection(r.broker_id).await.unwrap();
    assert!(conn.reauthentication_count() >= 2);
    cluster.close().await;
}
