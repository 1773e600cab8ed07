//! kquota-net against a real Apache Kafka (kquota-testkit): every listener and mechanism,
//! wrong credentials, pipelining, version negotiation.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kafka_protocol::messages::describe_client_quotas_request::ComponentData;
use kafka_protocol::messages::*;
use kquota_net::*;
use kquota_testkit::{shared, KafkaCluster, Listener};

/// ApiVersions v3+ needs a client software name, or the broker answers INVALID_REQUEST.
fn api_versions() -> ApiVersionsRequest {
    ApiVersionsRequest::default()
        .with_client_software_name("kquota-net-test".into())
        .with_client_software_version("1.0".into())
}

fn tls(cluster: &KafkaCluster) -> TlsConfig {
    TlsConfig::new().ca_file(cluster.ca_pem_path())
}

fn scram(m: ScramMechanism, user: &str, pw: &str) -> SaslConfig {
    SaslConfig::Scram {
        mechanism: m,
        username: user.into(),
        password: pw.into(),
    }
}

/// An OAUTHBEARER provider making MSK-IAM-style tokens with the testkit's signer.
#[derive(Debug)]
struct IamTokens {
    identity: kquota_testkit::IamIdentity,
    asked: std::sync::atomic::AtomicUsize,
}

impl TokenProvider for IamTokens {
    fn token(&self) -> BoxFuture<'_, Result<OAuthToken, AuthError>> {
        Box::pin(async move {
            self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let id = self.identity.clone();
            let token = tokio::task::spawn_blocking(move || {
                kquota_testkit::sign_iam_token(&id, "us-east-1", None)
            })
            .await
            .map_err(|e| AuthError::Credentials(e.to_string()))?
            .map_err(|e| AuthError::Credentials(e.to_string()))?;
            Ok(OAuthToken::new(
                token,
                SystemTime::now() + Duration::from_secs(900),
            ))
        })
    }
}

async fn describe_quotas(cluster: &Cluster) -> Response<DescribeClientQuotasResponse> {
    let req = DescribeClientQuotasRequest::default()
        .with_strict(false)
        .with_components(vec![ComponentData::default()
            .with_entity_type("user".into())
            .with_match_type(2)
            .with_match(None)]);
    cluster
        .send(Target::Any, req)
        .await
        .expect("DescribeClientQuotas")
}

async fn check_listener(security: Security, listener: Listener) {
    let k = shared();
    let cfg = ClientConfig::new([k.bootstrap(listener)])
        .client_id("kquota-net-test")
        .security(security);
    let cluster = Cluster::connect(cfg)
        .await
        .unwrap_or_else(|e| panic!("{listener}: {e}"));
    let md = cluster.metadata().await.unwrap();
    assert_eq!(md.brokers.len(), 1, "{listener}");
    assert!(md.controller_id.is_some());
    let r = describe_quotas(&cluster).await;
    assert_eq!(
        r.body.error_code, 0,
        "{listener}: {:?}",
        r.body.error_message
    );
    assert_eq!(
        r.api_version, 1,
        "highest common DescribeClientQuotas version"
    );
    assert_eq!(r.broker_id, *md.brokers.keys().next().unwrap());
    let v = cluster.send(Target::Any, api_versions()).await.unwrap();
    assert!(v
        .body
        .api_keys
        .iter()
        .any(|k| k.api_key == ApiKey::AlterClientQuotas as i16));
    cluster.close().await;
    assert!(matches!(
        cluster.send(Target::Any, api_versions()).await,
        Err(Error::Closed)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_listener() {
    check_listener(Security::Plaintext, Listener::Plaintext).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssl_listener_verifies_the_ca() {
    let k = shared();
    check_listener(Security::Ssl(tls(k)), Listener::Ssl).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssl_with_webpki_roots_rejects_the_test_ca() {
    let k = shared();
    let cfg =
        ClientConfig::new([k.bootstrap(Listener::Ssl)]).security(Security::Ssl(TlsConfig::new()));
    let e = Cluster::connect(cfg).await.unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e}");
    assert!(e.to_string().contains("certificate"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssl_accepting_invalid_certs_connects() {
    let k = shared();
    let cfg = ClientConfig::new([k.bootstrap(Listener::Ssl)]).security(Security::Ssl(
        TlsConfig::new().dangerously_accept_invalid_certs(),
    ));
    Cluster::connect(cfg).await.unwrap().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_plain_on_both_sasl_listeners() {
    let k = shared();
    let a = k.credentials().admin;
    let plain = SaslConfig::Plain {
        username: a.user.clone(),
        password: a.password.clone().into(),
    };
    check_listener(
        Security::SaslPlaintext(plain.clone()),
        Listener::SaslPlaintext,
    )
    .await;
    check_listener(Security::SaslSsl(plain, tls(k)), Listener::SaslSsl).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_scram_sha256_and_sha512() {
    let k = shared();
    let a = k.credentials().admin;
    for m in [ScramMechanism::Sha256, ScramMechanism::Sha512] {
        check_listener(
            Security::SaslPlaintext(scram(m, &a.user, &a.password)),
            Listener::SaslPlaintext,
        )
        .await;
    }
    check_listener(
        Security::SaslSsl(scram(ScramMechanism::Sha512, &a.user, &a.password), tls(k)),
        Listener::SaslSsl,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_oauthbearer_with_msk_iam_style_token() {
    let k = shared();
    let identity = k
        .credentials()
        .iam_by_name("producerapp-1")
        .unwrap()
        .clone();
    let provider = Arc::new(IamTokens {
        identity,
        asked: 0.into(),
    });
    let cfg = ClientConfig::new([k.bootstrap(Listener::SaslSsl)]).security(Security::SaslSsl(
        SaslConfig::OAuthBearer(provider.clone()),
        tls(k),
    ));
    let cluster = Cluster::connect(cfg).await.unwrap();
    // The principal is not a super user and has no ACL: metadata works, quotas need an ACL.
    let md = cluster.metadata().await.unwrap();
    assert_eq!(md.brokers.len(), 1);
    assert!(provider.asked.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    cluster.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_clear_auth_errors_without_secrets() {
    let k = shared();
    for sasl in [
        SaslConfig::Plain {
            username: "admin".into(),
            password: "wrong-password-1".into(),
        },
        scram(ScramMechanism::Sha256, "admin", "wrong-password-1"),
        scram(ScramMechanism::Sha512, "nobody", "wrong-password-1"),
    ] {
        let name = sasl.mechanism_name();
        let cfg = ClientConfig::new([k.bootstrap(Listener::SaslPlaintext)])
            .security(Security::SaslPlaintext(sasl));
        let e = Cluster::connect(cfg).await.unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(e, Error::Auth(AuthError::Rejected { .. })),
            "{name}: {e:?}"
        );
        assert!(text.contains(&name), "{text}");
        assert!(
            !text.contains("wrong-password-1") && !format!("{e:?}").contains("wrong-password-1"),
            "{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_mechanism_not_enabled_lists_the_enabled_ones() {
    #[derive(Debug)]
    struct Gssapi;
    impl SaslMechanism for Gssapi {
        fn name(&self) -> &str {
            "GSSAPI"
        }
        fn start(&self, _: &str) -> BoxFuture<'_, Result<Box<dyn SaslSession>, AuthError>> {
            Box::pin(async { Err(AuthError::Credentials("not used".into())) })
        }
    }
    let k = shared();
    let cfg = ClientConfig::new([k.bootstrap(Listener::SaslPlaintext)]).security(
        Security::SaslPlaintext(SaslConfig::Custom(Arc::new(Gssapi))),
    );
    let e = Cluster::connect(cfg).await.unwrap_err();
    match &e {
        Error::Auth(AuthError::MechanismNotEnabled { enabled, .. }) => {
            assert!(enabled.iter().any(|m| m == "PLAIN"), "{e}")
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_bootstrap_is_a_connect_error() {
    // Port 1 on loopback: nothing listens there.
    let cfg = ClientConfig::new(["127.0.0.1:1"]).connect_timeout(Duration::from_secs(2));
    let e = Cluster::connect(cfg).await.unwrap_err();
    assert!(matches!(e, Error::Connect { .. }), "{e:?}");
    assert!(e.to_string().contains("127.0.0.1:1"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_on_one_connection_get_their_own_responses() {
    let k = shared();
    let conn = BrokerConnection::connect(
        &k.bootstrap(Listener::Plaintext),
        1,
        &ClientConfig::new([k.bootstrap(Listener::Plaintext)]),
    )
    .await
    .unwrap();
    // Fire 64 requests of three kinds at once; each caller must get the response to its own.
    let mut tasks = Vec::new();
    for i in 0..64 {
        let c = conn.clone();
        tasks.push(tokio::spawn(async move {
            match i % 3 {
                0 => {
                    let r = c.send(&api_versions()).await.unwrap();
                    assert_eq!(r.body.error_code, 0);
                    assert!(!r.body.api_keys.is_empty());
                }
                1 => {
                    let r = c
                        .send(&MetadataRequest::default().with_topics(Some(vec![])))
                        .await
                        .unwrap();
                    assert_eq!(r.body.brokers.len(), 1);
                }
                _ => {
                    let r = c.send(&DescribeClusterRequest::default()).await.unwrap();
                    assert_eq!(r.body.error_code, 0);
                    assert_eq!(r.body.brokers.len(), 1);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(!conn.is_closed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_versions_and_version_errors() {
    let k = shared();
    let cluster = Cluster::connect(
        ClientConfig::new([k.bootstrap(Listener::Plaintext)]).cap_version(ApiKey::Metadata, 9),
    )
    .await
    .unwrap();
    let r = cluster
        .send(
            Target::Any,
            MetadataRequest::default().with_topics(Some(vec![])),
        )
        .await
        .unwrap();
    assert_eq!(r.api_version, 9, "capped");
    let r = cluster
        .send_version(
            Target::Any,
            12,
            MetadataRequest::default().with_topics(Some(vec![])),
        )
        .await
        .unwrap();
    assert_eq!(r.api_version, 12);
    // A version beyond both sides' ranges is a clear error, and nothing is sent.
    let e = cluster
        .send_version(Target::Any, 99, MetadataRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::UnsupportedVersion { .. }), "{e:?}");
    cluster.close().await;
}

#[path = "support/proxy.rs"]
mod proxy;

async fn set_request_quota(admin: &Cluster, client_id: &str, value: Option<f64>) {
    use kafka_protocol::messages::alter_client_quotas_request::{EntityData, EntryData, OpData};
    let op = OpData::default()
        .with_key("request_percentage".into())
        .with_value(value.unwrap_or(0.0))
        .with_remove(value.is_none());
    let entry = EntryData::default()
        .with_entity(vec![EntityData::default()
            .with_entity_type("client-id".into())
            .with_entity_name(Some(
                kafka_protocol::protocol::StrBytes::from_string(client_id.to_owned()),
            ))])
        .with_ops(vec![op]);
    let r = admin
        .send(
            Target::Any,
            AlterClientQuotasRequest::default().with_entries(vec![entry]),
        )
        .await
        .unwrap();
    for e in &r.body.entries {
        assert_eq!(e.error_code, 0, "{:?}", e.error_message);
    }
}

/// A client under a tiny request quota waits out every throttle: measured on the wire (through
/// a timestamping proxy), the next request after a throttled response comes at least
/// `throttle_time_ms` later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_client_waits_out_each_throttle_on_the_wire() {
    let k = shared();
    let bootstrap = k.bootstrap(Listener::Plaintext);
    let admin = Cluster::connect(ClientConfig::new([bootstrap.clone()]))
        .await
        .unwrap();
    let client_id = "kquota-net-throttle-test";
    set_request_quota(&admin, client_id, Some(0.01)).await;

    let proxy = proxy::Proxy::start(bootstrap.clone()).await;
    let cfg = ClientConfig::new([proxy.addr.clone()]).client_id(client_id);
    let conn = BrokerConnection::connect(&proxy.addr, 1, &cfg)
        .await
        .unwrap();
    let mut throttled = Vec::new();
    let started = std::time::Instant::now();
    while throttled.len() < 3 && started.elapsed() < Duration::from_secs(60) {
        let r = conn
            .send(&MetadataRequest::default().with_topics(None))
            .await
            .unwrap();
        assert!(r.api_version >= 6, "KIP-219 version");
        if r.throttle_time_ms > 0 {
            throttled.push(r.throttle_time_ms);
        }
    }
    // One more request, so the last throttle has a successor on the wire.
    conn.send(&MetadataRequest::default().with_topics(Some(vec![])))
        .await
        .unwrap();
    set_request_quota(&admin, client_id, None).await;
    assert!(
        throttled.len() >= 3,
        "the tiny quota never throttled: {throttled:?}"
    );

    let seen = proxy.seen.lock().unwrap().clone();
    let version = conn.pick_version::<MetadataRequest>().unwrap();
    let mut checked = Vec::new();
    for (i, s) in seen.iter().enumerate() {
        if s.dir != proxy::Dir::Response {
            continue;
        }
        // Connection set-up (ApiVersions) responses do not decode as Metadata: skip them.
        let Ok((_, body)) =
            kquota_net::frame::decode_response::<MetadataResponse>(s.frame.clone(), version)
        else {
            continue;
        };
        if body.throttle_time_ms <= 0 {
            continue;
        }
        // The very last response may be throttled too, with nothing sent after it.
        let Some(next) = seen[i + 1..].iter().find(|n| n.dir == proxy::Dir::Request) else {
            continue;
        };
        let gap = next.at.duration_since(s.at);
        assert!(
            gap >= Duration::from_millis(body.throttle_time_ms as u64),
            "gap {gap:?} < throttle {} ms",
            body.throttle_time_ms
        );
        checked.push((body.throttle_time_ms, gap));
    }
    assert!(
        checked.len() >= 3,
        "{checked:?} vs client view {throttled:?}"
    );
    eprintln!("throttle -> gap on the wire: {checked:?}");
    admin.close().await;
}
