//! Hostile and broken input from a scripted fake broker: every case is a typed error, never a
//! panic, an abort or a hang; the connection is never reused after a protocol error.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_protocol::messages::*;
use kafka_protocol::protocol::Decodable;
use kquota_net::*;
use support::fake_broker::*;

fn quotas_req() -> DescribeClientQuotasRequest {
    DescribeClientQuotasRequest::default().with_strict(false)
}

fn cfg(addr: &str) -> ClientConfig {
    ClientConfig::new([addr.to_owned()]).request_timeout(Duration::from_secs(5))
}

/// Fake broker answering DescribeClientQuotas with `reply(correlation_id)`.
async fn quotas_broker(reply: impl Fn(i32) -> Vec<Action> + Send + Sync + 'static) -> FakeBroker {
    FakeBroker::start(Arc::new(move |r: &Req| {
        if r.api_key == ApiKey::DescribeClientQuotas as i16 {
            reply(r.correlation_id)
        } else {
            vec![Action::Default]
        }
    }))
    .await
}

/// The classic abort of kafka-protocol 0.18 (fixed by our build-time patch): 14 body bytes
/// claiming i32::MAX entries. Decoding must fail, not try to allocate ~150 GB.
#[test]
fn fourteen_byte_describe_client_quotas_response_with_huge_count_is_an_error_not_an_abort() {
    #[rustfmt::skip]
    let body: &[u8] = &[
        0, 0, 0, 0,             // throttle_time_ms
        0, 0,                   // error_code
        0xff, 0xff,             // error_message: null
        0x7f, 0xff, 0xff, 0xff, // entries: count i32::MAX
        0, 0,                   // two bytes where ~150 GB of entries should be
    ];
    assert_eq!(body.len(), 14);
    let mut b = bytes::Bytes::from_static(body);
    assert!(DescribeClientQuotasResponse::decode(&mut b, 0).is_err());
}

#[tokio::test]
async fn huge_array_count_over_the_wire_is_a_decode_error_and_closes_the_connection() {
    let fake = quotas_broker(|c| {
        vec![Action::Raw(raw_response(
            c,
            &[0, 0, 0, 0, 0, 0, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff],
        ))]
    })
    .await;
    let conn = BrokerConnection::connect(&fake.addr, 1, &cfg(&fake.addr))
        .await
        .unwrap();
    let e = conn.send_version(0, &quotas_req()).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Decode {
                api: ApiKey::DescribeClientQuotas,
                version: 0,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains(&fake.addr), "{e}");
    assert!(conn.is_closed());
    let e2 = conn.send_version(0, &quotas_req()).await.unwrap_err();
    assert!(
        matches!(
            e2,
            Error::ConnectionClosed {
                request_sent: false,
                ..
            }
        ),
        "{e2:?}"
    );
}

#[tokio::test]
async fn absurd_frame_length_is_rejected_before_allocating() {
    let fake = quotas_broker(|_| vec![Action::Raw(vec![0x7f, 0xff, 0xff, 0xff, 1, 2, 3])]).await;
    let conn =
        BrokerConnection::connect(&fake.addr, 1, &cfg(&fake.addr).max_response_size(1 << 20))
            .await
            .unwrap();
    let e = conn.send(&quotas_req()).await.unwrap_err();
    match e {
        Error::FrameTooLarge { size, max, .. } => {
            assert_eq!((size, max), (i32::MAX as i64, 1 << 20))
        }
        other => panic!("{other:?}"),
    }
    assert!(conn.is_closed());
}

#[tokio::test]
async fn negative_frame_length_is_a_protocol_error() {
    let fake = quotas_broker(|_| vec![Action::Raw(vec![0xff, 0xff, 0xff, 0xf0])]).await;
    let conn = BrokerConnection::connect(&fake.addr, 1, &cfg(&fake.addr))
        .await
        .unwrap();
    let e = conn.send(&quotas_req()).await.unwrap_err();
    assert!(matches!(e, Error::Protocol { .. }), "{e:?}");
}

#[tokio::test]
async fn truncated_frame_then_close_is_a_protocol_error() {
    let fake = quotas_broker(|c| {
        let mut v = 100i32.to_be_bytes().to_vec();
        v.extend_from_slice(&c.to_be_bytes());
        v.extend_from_slice(&[0; 6]);
        vec![Action::Raw(v), Action::Close]
    })
    .await;
    let conn = BrokerConnection::connect(&fake.addr, 1, &cfg(&fake.addr))
        .await
        .unwrap();
    let e = conn.send(&quotas_req()).await.unwrap_err();
    assert!(
        matches!(&e, Error::Protocol { detail, .. } if detail.contains("middle of a response frame")),
        "{e:?}"
    );
}

#[tokio::test]
async fn wrong_correlation_id_is_a_protocol_error() {
    let fake = quotas_broker(|c| vec![Action::Frame(response_bytes(c + 1000))]).await;
    let conn = BrokerConnection::connect(&fake.addr, 1, &cfg(&fake.addr))
        .await
        .unwrap();
    let e = conn.send(&quotas_req()).await.unwrap_err();
    assert!(
        matches!(&e, Error::Protocol { detail, .. } if detail.contains("unknown correlation id")),
        "{e:?}"
    );
    assert!(conn.is_closed());
}

fn response_bytes(correlation_id: i32) -> Vec<u8> {
    // v1 DescribeClientQuotas response: header v1 (tagged fields), empty result.
    let full = response(
        correlation_id,
        1,
        &DescribeClientQuotasResponse::default().with_entries(Some(vec![])),
    );
    full[4..].to_vec()
}

#[tokio::test]
async fn short_frame_without_correlation_id_is_a_protocol_error() {
    let fake = quotas_broker(|_| vec![Action::Frame(vec![0, 1])]).await;
    let conn = BrokerConnection::connect(&fake.addr, 1, &cfg(&fake.addr))
        .await
        .unwrap();
    let e = conn.send(&quotas_req()).await.unwrap_err();
    assert!(matches!(e, Error::Protocol { .. }), "{e:?}");
}

#[tokio::test]
async fn eof_instead_of_a_response_is_connection_closed() {
    let fake = quotas_broker(|_| vec![Action::Close]).await;
    let conn = BrokerConnection::connect(&fake.addr, 1, &cfg(&fake.addr))
        .await
        .unwrap();
    let e = conn.send(&quotas_req()).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::ConnectionClosed {
                request_sent: true,
                first_request: true,
                ..
            }
        ),
        "{e:?}"
    );
    // What a SASL listener does to a client without SASL: answer ApiVersions, then close.
    assert!(e.to_string().contains("check security.protocol"), "{e}");
}

/// A close after the broker has answered a request is an ordinary close: no SASL hint.
#[tokio::test]
async fn a_close_after_an_answer_has_no_sasl_hint() {
    let answered = Arc::new(AtomicUsize::new(0));
    let seen = answered.clone();
    let fake = quotas_broker(move |c| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            // v0: throttle, no error, null message, no entries
            vec![Action::Raw(raw_response(
                c,
                &[0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0],
            ))]
        } else {
            vec![Action::Close]
        }
    })
    .await;
    let conn = BrokerConnection::connect(&fake.addr, 1, &cfg(&fake.addr))
        .await
        .unwrap();
    conn.send_version(0, &quotas_req()).await.unwrap();
    let e = conn.send_version(0, &quotas_req()).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::ConnectionClosed {
                request_sent: true,
                first_request: false,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("may have been processed"), "{e}");
}

#[tokio::test]
async fn silent_broker_times_out_and_the_connection_is_closed() {
    let fake = quotas_broker(|_| vec![Action::Nothing]).await;
    let conn = BrokerConnection::connect(
        &fake.addr,
        1,
        &cfg(&fake.addr).request_timeout(Duration::from_millis(300)),
    )
    .await
    .unwrap();
    let e = conn.send(&quotas_req()).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Timeout {
                api: ApiKey::DescribeClientQuotas,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(conn.is_closed());
}

#[tokio::test]
async fn garbage_after_a_good_response_poisons_but_the_good_one_is_delivered() {
    let fake = quotas_broker(|c| {
        vec![
            Action::Frame(response_bytes(c)),
            Action::Raw(vec![0x80, 0, 0, 0]),
        ]
    })
    .await;
    let conn = BrokerConnection::connect(&fake.addr, 1, &cfg(&fake.addr))
        .await
        .unwrap();
    let r = conn.send(&quotas_req()).await.unwrap();
    assert_eq!(r.body.entries.map(|e| e.len()), Some(0));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(conn.is_closed());
}

#[tokio::test]
async fn cluster_reconnects_after_a_protocol_error_with_backoff() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let fake = quotas_broker(move |c| {
        if n2.fetch_add(1, Ordering::SeqCst) == 0 {
            vec![Action::Frame(response_bytes(c + 7))]
        } else {
            vec![Action::Frame(response_bytes(c))]
        }
    })
    .await;
    let cluster = Cluster::connect(cfg(&fake.addr)).await.unwrap();
    // DescribeClientQuotas is retry-safe: the protocol error is not retriable, so it surfaces.
    let e = cluster.send(Target::Any, quotas_req()).await.unwrap_err();
    assert!(matches!(e, Error::Protocol { .. }), "{e:?}");
    let t = Instant::now();
    let r = cluster.send(Target::Broker(1), quotas_req()).await.unwrap();
    assert_eq!(r.broker_id, 1);
    // A new connection was needed; the bootstrap connection was opened moments ago, so the
    // reconnect back-off (>= 1 s) applied.
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
    let conns = fake
        .log
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.conn)
        .max()
        .unwrap();
    assert_eq!(conns, 1, "exactly one reconnect");
}

/// KIP-219: after a throttled response, nothing is written to that broker until it ends.
#[tokio::test]
async fn throttled_response_delays_the_next_request_by_the_throttle_time() {
    let fake = quotas_broker(|c| {
        let body = DescribeClientQuotasResponse::default()
            .with_throttle_time_ms(700)
            .with_entries(Some(vec![]));
        vec![Action::Raw(response(c, 1, &body))]
    })
    .await;
    let cluster = Cluster::connect(cfg(&fake.addr)).await.unwrap();
    let mut events = cluster.throttle_events();
    let r1 = cluster.send(Target::Broker(1), quotas_req()).await.unwrap();
    assert_eq!(r1.throttle_time_ms, 700);
    let ev = events.try_recv().unwrap();
    assert_eq!(
        (ev.broker_id, ev.api, ev.throttle_time_ms, ev.client_waits),
        (1, ApiKey::DescribeClientQuotas, 700, true)
    );
    // Metadata on the same broker must wait too (the whole connection is muted).
    cluster
        .send(
            Target::Broker(1),
            MetadataRequest::default().with_topics(Some(vec![])),
        )
        .await
        .unwrap();
    let reqs = fake.log.lock().unwrap().clone();
    let quota = reqs
        .iter()
        .find(|r| r.api_key == ApiKey::DescribeClientQuotas as i16)
        .unwrap();
    let sent_at = fake
        .sent
        .lock()
        .unwrap()
        .iter()
        .find(|(c, _)| *c == quota.correlation_id)
        .unwrap()
        .1;
    let next = reqs
        .iter()
        .filter(|r| r.at > quota.at && r.conn == quota.conn)
        .map(|r| r.at)
        .min()
        .unwrap();
    assert!(
        next.duration_since(sent_at) >= Duration::from_millis(700),
        "gap {:?}",
        next.duration_since(sent_at)
    );
}

#[tokio::test]
async fn throttle_below_the_kip219_version_does_not_delay() {
    // Produce v5 predates KIP-219: the broker already delayed the response, so the client
    // must not wait again.
    let fake = FakeBroker::start(Arc::new(|r: &Req| {
        if r.api_key == ApiKey::Produce as i16 {
            vec![Action::Raw(response(
                r.correlation_id,
                r.version,
                &ProduceResponse::default().with_throttle_time_ms(5000),
            ))]
        } else if r.api_key == ApiKey::DescribeClientQuotas as i16 {
            vec![Action::Frame(response_bytes(r.correlation_id))]
        } else {
            vec![Action::Default]
        }
    }))
    .await;
    let conn = BrokerConnection::connect(&fake.addr, 1, &cfg(&fake.addr))
        .await
        .unwrap();
    let r = conn
        .send_version(
            5,
            &ProduceRequest::default().with_acks(1).with_timeout_ms(1000),
        )
        .await
        .unwrap();
    assert_eq!(r.throttle_time_ms, 5000);
    conn.send(&quotas_req()).await.unwrap();
    let produce = &fake.requests(ApiKey::Produce)[0];
    let next = &fake.requests(ApiKey::DescribeClientQuotas)[0];
    assert!(next.at.duration_since(produce.at) < Duration::from_millis(4000));
}

#[tokio::test]
async fn produce_with_acks_zero_does_not_wait_and_keeps_correlation_in_sync() {
    let fake = quotas_broker(|c| vec![Action::Frame(response_bytes(c))]).await;
    let conn = BrokerConnection::connect(
        &fake.addr,
        1,
        &cfg(&fake.addr).request_timeout(Duration::from_secs(2)),
    )
    .await
    .unwrap();
    // The fake never answers Produce (script returns nothing for it via Default -> None).
    let r = conn
        .send(&ProduceRequest::default().with_acks(0).with_timeout_ms(1000))
        .await
        .unwrap();
    assert!(r.body.responses.is_empty());
    let r = conn.send(&quotas_req()).await.unwrap();
    assert_eq!(r.body.error_code, 0);
    assert!(!conn.is_closed());
    assert_eq!(fake.requests(ApiKey::Produce).len(), 1);
}

/// SASL server that speaks SCRAM with a nonce it made up, or a wrong final signature.
async fn scram_broker(bad_nonce: bool) -> FakeBroker {
    FakeBroker::start(Arc::new(move |r: &Req| {
        if r.api_key == ApiKey::SaslHandshake as i16 {
            let body =
                SaslHandshakeResponse::default().with_mechanisms(vec!["SCRAM-SHA-256".into()]);
            return vec![Action::Raw(response(r.correlation_id, r.version, &body))];
        }
        if r.api_key == ApiKey::SaslAuthenticate as i16 {
            let mut b = r.body.clone();
            let req = SaslAuthenticateRequest::decode(&mut b, r.version).unwrap();
            let text = String::from_utf8_lossy(&req.auth_bytes).to_string();
            let reply = if text.starts_with("n,,") {
                let cnonce = text.rsplit("r=").next().unwrap().to_owned();
                let nonce = if bad_nonce {
                    "someoneelse".to_owned()
                } else {
                    format!("{cnonce}server")
                };
                format!("r={nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
            } else {
                "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".into()
            };
            let body =
                SaslAuthenticateResponse::default().with_auth_bytes(reply.into_bytes().into());
            return vec![Action::Raw(response(r.correlation_id, r.version, &body))];
        }
        vec![Action::Default]
    }))
    .await
}

#[tokio::test]
async fn misbehaving_scram_server_is_an_auth_error() {
    for bad_nonce in [true, false] {
        let fake = scram_broker(bad_nonce).await;
        let sasl = SaslConfig::Scram {
            mechanism: ScramMechanism::Sha256,
            username: "user".into(),
            password: "pencil".into(),
        };
        let e = BrokerConnection::connect(
            &fake.addr,
            1,
            &cfg(&fake.addr).security(Security::SaslPlaintext(sasl)),
        )
        .await
        .unwrap_err();
        let want = if bad_nonce {
            "nonce"
        } else {
            "server signature mismatch"
        };
        assert!(
            matches!(&e, Error::Auth(AuthError::Mechanism { detail, .. }) if detail.contains(want)),
            "{e:?}"
        );
    }
}

/// Re-authentication on a tiny session lifetime, with requests in flight the whole time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reauthenticates_before_short_sessions_expire_without_failing_requests() {
    let fake = FakeBroker::start(Arc::new(|r: &Req| {
        if r.api_key == ApiKey::SaslHandshake as i16 {
            let body = SaslHandshakeResponse::default().with_mechanisms(vec!["PLAIN".into()]);
            return vec![Action::Raw(response(r.correlation_id, r.version, &body))];
        }
        if r.api_key == ApiKey::SaslAuthenticate as i16 {
            let body = SaslAuthenticateResponse::default().with_session_lifetime_ms(200);
            return vec![Action::Raw(response(r.correlation_id, r.version, &body))];
        }
        if r.api_key == ApiKey::DescribeClientQuotas as i16 {
            return vec![
                Action::Sleep(Duration::from_millis(20)),
                Action::Frame(response_bytes(r.correlation_id)),
            ];
        }
        vec![Action::Default]
    }))
    .await;
    let sasl = SaslConfig::Plain {
        username: "u".into(),
        password: "p".into(),
    };
    let conn = BrokerConnection::connect(
        &fake.addr,
        1,
        &cfg(&fake.addr).security(Security::SaslPlaintext(sasl)),
    )
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_millis(1500);
    let mut ok = 0;
    while Instant::now() < deadline {
        let (q1, q2) = (quotas_req(), quotas_req());
        let (a, b) = tokio::join!(conn.send(&q1), conn.send(&q2));
        a.unwrap();
        b.unwrap();
        ok += 2;
    }
    assert!(ok > 10);
    let auths = fake.requests(ApiKey::SaslAuthenticate);
    // One initial + a re-auth every 170..190 ms over 1.5 s.
    assert!(auths.len() >= 6, "{} authentications", auths.len());
    assert!(conn.reauthentication_count() >= 5);
    assert_eq!(
        auths.iter().map(|r| r.conn).max(),
        Some(0),
        "all on the first connection"
    );
}

#[tokio::test]
async fn missing_api_is_a_clear_unsupported_error() {
    // An old broker (pre-2.6): no DescribeClientQuotas in its ApiVersions.
    let fake = FakeBroker::start(Arc::new(|r: &Req| {
        if r.api_key == ApiKey::ApiVersions as i16 {
            use kafka_protocol::messages::api_versions_response::ApiVersion;
            let keys = vec![
                ApiVersion::default()
                    .with_api_key(ApiKey::ApiVersions as i16)
                    .with_max_version(3),
                ApiVersion::default()
                    .with_api_key(ApiKey::Metadata as i16)
                    .with_min_version(1)
                    .with_max_version(9),
            ];
            return vec![Action::Raw(response(
                r.correlation_id,
                r.version,
                &ApiVersionsResponse::default().with_api_keys(keys),
            ))];
        }
        vec![Action::Default]
    }))
    .await;
    let cluster = Cluster::connect(cfg(&fake.addr)).await.unwrap();
    let e = cluster.send(Target::Any, quotas_req()).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::UnsupportedApi {
                api: ApiKey::DescribeClientQuotas,
                ..
            }
        ),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.contains("does not support DescribeClientQuotas; Kafka 2.6 or newer is needed"),
        "{text}"
    );
    assert!(
        fake.requests(ApiKey::DescribeClientQuotas).is_empty(),
        "nothing was sent"
    );
}

#[tokio::test]
async fn old_broker_answering_apiversions_v0_is_negotiated_down() {
    // A broker that only knows ApiVersions v0..=2 answers our v3 request with a v0 body carrying
    // UNSUPPORTED_VERSION and its range; the client retries at v2.
    let fake = FakeBroker::start(Arc::new(|r: &Req| {
        if r.api_key == ApiKey::ApiVersions as i16 {
            use kafka_protocol::messages::api_versions_response::ApiVersion;
            let keys = vec![
                ApiVersion::default()
                    .with_api_key(ApiKey::ApiVersions as i16)
                    .with_max_version(2),
                ApiVersion::default()
                    .with_api_key(ApiKey::Metadata as i16)
                    .with_min_version(1)
                    .with_max_version(9),
            ];
            let body = ApiVersionsResponse::default().with_api_keys(keys);
            if r.version > 2 {
                return vec![Action::Raw(response(
                    r.correlation_id,
                    0,
                    &body.with_error_code(35),
                ))];
            }
            return vec![Action::Raw(response(r.correlation_id, r.version, &body))];
        }
        vec![Action::Default]
    }))
    .await;
    let conn = BrokerConnection::connect(&fake.addr, 1, &cfg(&fake.addr))
        .await
        .unwrap();
    assert_eq!(conn.broker_versions(ApiKey::Metadata), Some((1, 9)));
    let versions: Vec<i16> = fake
        .requests(ApiKey::ApiVersions)
        .iter()
        .map(|r| r.version)
        .collect();
    assert_eq!(versions, vec![3, 2]);
    assert_eq!(
        conn.send(&MetadataRequest::default())
            .await
            .unwrap()
            .api_version,
        9
    );
}

/// Passwords never reach logs (TRACE level), errors or Debug output.
#[tokio::test]
async fn secrets_never_appear_in_logs_errors_or_debug() {
    use std::sync::Mutex;
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let b2 = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || b2.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    const SECRET: &str = "s3cr3t-Pa55word";
    let fake = scram_broker(false).await;
    let sasl = SaslConfig::Scram {
        mechanism: ScramMechanism::Sha256,
        username: "user".into(),
        password: SECRET.into(),
    };
    let config = cfg(&fake.addr).security(Security::SaslPlaintext(sasl));
    let e = BrokerConnection::connect(&fake.addr, 1, &config)
        .await
        .unwrap_err();
    let plain = SaslConfig::Plain {
        username: "user".into(),
        password: SECRET.into(),
    };
    let fake2 = FakeBroker::start(Arc::new(|r: &Req| {
        if r.api_key == ApiKey::SaslHandshake as i16 {
            let body = SaslHandshakeResponse::default().with_mechanisms(vec!["PLAIN".into()]);
            return vec![Action::Raw(response(r.correlation_id, r.version, &body))];
        }
        if r.api_key == ApiKey::SaslAuthenticate as i16 {
            let body = SaslAuthenticateResponse::default()
                .with_error_code(58)
                .with_error_message(Some(
                    "Authentication failed: Invalid username or password".into(),
                ));
            return vec![Action::Raw(response(r.correlation_id, r.version, &body))];
        }
        vec![Action::Default]
    }))
    .await;
    let config2 = cfg(&fake2.addr).security(Security::SaslPlaintext(plain));
    let e2 = BrokerConnection::connect(&fake2.addr, 1, &config2)
        .await
        .unwrap_err();
    assert!(
        matches!(&e2, Error::Auth(AuthError::Rejected { message, .. }) if message.contains("Invalid username")),
        "{e2:?}"
    );

    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("kafka_request"),
        "spans were recorded: {logs}"
    );
    for text in [
        logs,
        e.to_string(),
        format!("{e:?}"),
        e2.to_string(),
        format!("{e2:?}"),
        format!("{config:?}"),
        format!("{config2:?}"),
    ] {
        assert!(!text.contains(SECRET), "secret leaked into: {text}");
    }
}
