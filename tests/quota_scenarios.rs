//! design.md §1 quota scenarios against a real 3-broker Kafka (kquota-testkit) with a 1 s quota
//! window, so the broker's rate measurement settles in seconds. Rates are measured by the
//! client per broker over 30 s after a 10 s warm-up.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kquota_client::consumer::{Consumer, ConsumerConfig};
use kquota_client::producer::{Producer, ProducerConfig};
use kquota_client::{ClientError, ProducerRecord};
use kquota_testkit::{ClusterSpec, KafkaCluster, Listener};
use kquota_tests::{assert_within, connect_plain, create_topic, read_all, set_quota};

const WARMUP: Duration = Duration::from_secs(10);
const WINDOW: Duration = Duration::from_secs(30);
/// A consumer settles later than a producer: its first fetch (1 MiB per partition) is refused
/// with a throttle of up to one quota window (~10 s), and the broker then lets through a burst of
/// one window's worth (quota x 10 s) before its rate limit binds. Measure after both.
const CONSUMER_WARMUP: Duration = Duration::from_secs(25);

fn cluster() -> &'static KafkaCluster {
    static C: OnceLock<KafkaCluster> = OnceLock::new();
    C.get_or_init(|| {
        KafkaCluster::start(
            ClusterSpec::three_brokers().broker_config("quota.window.size.seconds", "1"),
        )
        .expect("start 3-broker cluster")
    })
}

/// Measurements share two cores: run one scenario at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn admin_connect(client_id: &str) -> kquota_net::Cluster {
    let c = cluster();
    let admin = c.credentials().admin;
    connect_plain(
        &c.bootstrap(Listener::SaslPlaintext),
        &admin.user,
        &admin.password,
        client_id,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_producer_rate_settles_at_producer_byte_rate_per_broker() {
    let _g = SERIAL.lock().await;
    let admin = admin_connect("qs-admin").await;
    create_topic(&admin, "qs-produce", 3, 1).await;
    let user = cluster().credentials().admin.user;
    let client_id = "producerapp-1-client-id";

    // Without a quota the throttle metrics read 0.0.
    let conn = admin_connect(client_id).await;
    let p = Producer::new(
        conn.clone(),
        ProducerConfig {
            linger: Duration::ZERO,
            ..ProducerConfig::default()
        },
    )
    .await
    .unwrap();
    for _ in 0..30 {
        p.send_sync(ProducerRecord::new("qs-produce", vec![b'a'; 100]))
            .await
            .unwrap();
    }
    let before = p.metrics().snapshot();
    assert_eq!(before.throttle_time_avg, 0.0, "{before:?}");
    assert_eq!(before.throttle_time_max, 0.0, "{before:?}");
    p.close().await;

    // The broker's rate window (11 x 1 s) must forget the unthrottled phase first.
    tokio::time::sleep(Duration::from_secs(12)).await;
    set_quota(&admin, &user, client_id, "producer_byte_rate", Some(1024.0)).await;
    let conn = admin_connect(client_id).await;
    let p = Producer::new(
        conn,
        ProducerConfig {
            linger: Duration::ZERO,
            ..ProducerConfig::default()
        },
    )
    .await
    .unwrap();
    let metrics = p.metrics();
    let stop = Instant::now() + WARMUP + WINDOW;
    let run = tokio::spawn(async move {
        let mut n = 0u64;
        while Instant::now() < stop {
            p.send_sync(ProducerRecord::new("qs-produce", vec![b'q'; 100]))
                .await
                .unwrap();
            n += 1;
        }
        p.close().await;
        n
    });
    tokio::time::sleep(WARMUP).await;
    let s1 = metrics.snapshot();
    tokio::time::sleep(WINDOW).await;
    let s2 = metrics.snapshot();
    let sent = run.await.unwrap();
    let rates = s2.rates_since(&s1);
    eprintln!(
        "sync producer: {sent} records; rates {rates:?}; throttle avg {} max {}; waited {:?}",
        s2.throttle_time_avg,
        s2.throttle_time_max,
        s2.throttle_wait()
    );
    assert_within("producer_byte_rate=1024", &rates, 1024.0, 0.15);
    assert!(
        s2.throttle_time_avg > 0.0 && s2.throttle_time_max > 0.0,
        "{s2:?}"
    );
    assert!(s2.throttle_wait() > Duration::ZERO);
    assert!(
        s2.brokers.iter().all(|b| b.throttled_responses > 0),
        "every broker throttles: {s2:?}"
    );

    // Quota removed: throttling stops (fresh metrics read 0.0 again).
    set_quota(&admin, &user, client_id, "producer_byte_rate", None).await;
    let conn = admin_connect(client_id).await;
    let p = Producer::new(
        conn,
        ProducerConfig {
            linger: Duration::ZERO,
            ..ProducerConfig::default()
        },
    )
    .await
    .unwrap();
    // Let the broker's window forget the throttled period.
    tokio::time::sleep(Duration::from_secs(12)).await;
    for _ in 0..30 {
        p.send_sync(ProducerRecord::new("qs-produce", vec![b'z'; 100]))
            .await
            .unwrap();
    }
    let after = p.metrics().snapshot();
    assert_eq!(after.throttle_time_max, 0.0, "{after:?}");
    p.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_settle_at_their_consumer_byte_rates_and_progress() {
    let _g = SERIAL.lock().await;
    let admin = admin_connect("qs-admin-2").await;
    create_topic(&admin, "qs-consume", 3, 1).await;
    let user = cluster().credentials().admin.user;

    // Enough data for 55 s at 5 KiB/s on each of the 3 brokers, one record per batch so that
    // a fetch (which returns at least one whole batch, KIP-74) is small next to the quota.
    let loader = Producer::new(
        admin.clone(),
        ProducerConfig {
            linger: Duration::ZERO,
            ..ProducerConfig::default()
        },
    )
    .await
    .unwrap();
    for i in 0..1100u32 {
        loader
            .send_sync(ProducerRecord::new("qs-consume", vec![b'c'; 1000]).with_key(i.to_string()))
            .await
            .unwrap();
    }
    loader.close().await;

    set_quota(
        &admin,
        &user,
        "consumerapp-1-client-id",
        "consumer_byte_rate",
        Some(5120.0),
    )
    .await;
    set_quota(
        &admin,
        &user,
        "consumerapp-2-client-id",
        "consumer_byte_rate",
        Some(1024.0),
    )
    .await;

    let mut handles = Vec::new();
    for (client_id, group) in [
        ("consumerapp-1-client-id", "ConsumerApp-1-group"),
        ("consumerapp-2-client-id", "ConsumerApp-2-group"),
    ] {
        let conn = admin_connect(client_id).await;
        let cfg = ConsumerConfig {
            group_id: Some(group.into()),
            ..ConsumerConfig::default()
        };
        let mut c = Consumer::new(conn, cfg);
        c.subscribe(vec!["qs-consume".into()]).await.unwrap();
        let metrics = c.metrics();
        let stop = Instant::now() + CONSUMER_WARMUP + WINDOW;
        let h = tokio::spawn(async move {
            let mut n = 0usize;
            while Instant::now() < stop {
                n += c.poll(Duration::from_millis(500)).await.unwrap().len();
            }
            c.close().await;
            n
        });
        handles.push((client_id, metrics, h));
    }
    tokio::time::sleep(CONSUMER_WARMUP).await;
    let s1: Vec<_> = handles.iter().map(|(_, m, _)| m.snapshot()).collect();
    tokio::time::sleep(WINDOW).await;
    let s2: Vec<_> = handles.iter().map(|(_, m, _)| m.snapshot()).collect();
    for (i, (client_id, _, h)) in handles.into_iter().enumerate() {
        let n = h.await.unwrap();
        let quota = if i == 0 { 5120.0 } else { 1024.0 };
        let rates = s2[i].rates_since(&s1[i]);
        eprintln!(
            "{client_id}: {n} records, rates {rates:?}, fetch-throttle avg {} max {}",
            s2[i].throttle_time_avg, s2[i].throttle_time_max
        );
        assert!(n > 0, "{client_id} made no progress");
        assert!(s2[i].throttle_time_max > 0.0, "{client_id} never throttled");
        assert_within(client_id, &rates, quota, 0.15);
    }
    set_quota(
        &admin,
        &user,
        "consumerapp-1-client-id",
        "consumer_byte_rate",
        None,
    )
    .await;
    set_quota(
        &admin,
        &user,
        "consumerapp-2-client-id",
        "consumer_byte_rate",
        None,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_producer_over_quota_blocks_then_reports_every_expired_record() {
    let _g = SERIAL.lock().await;
    let admin = admin_connect("qs-admin-3").await;
    create_topic(&admin, "qs-async", 3, 1).await;
    let user = cluster().credentials().admin.user;
    let client_id = "producerapp-async-client-id";
    set_quota(&admin, &user, client_id, "producer_byte_rate", Some(1024.0)).await;

    let conn = admin_connect(client_id).await;
    let cfg = ProducerConfig {
        buffer_memory: 32 * 1024,
        batch_size: 4096,
        max_block: Duration::from_millis(200),
        delivery_timeout: Duration::from_secs(6),
        request_timeout: Duration::from_secs(5),
        ..ProducerConfig::default()
    };
    let p = Producer::new(conn, cfg).await.unwrap();
    let total = 200usize;
    let mut accepted = Vec::new();
    let mut buffer_full = 0usize;
    for i in 0..total {
        let value = format!("{i:05}-{}", "v".repeat(500));
        let t = Instant::now();
        match p.send(ProducerRecord::new("qs-async", value.clone())).await {
            Ok(f) => accepted.push((value, f)),
            Err(e @ ClientError::BufferFull { .. }) => {
                assert!(
                    t.elapsed() >= Duration::from_millis(200),
                    "failed before max block: {e}"
                );
                buffer_full += 1;
            }
            Err(e) => panic!("unexpected send error: {e}"),
        }
    }
    let mut acked = Vec::new();
    let mut expired = 0usize;
    for (value, f) in accepted {
        match f.await {
            Ok(md) => acked.push((md, value)),
            Err(e @ ClientError::Expired { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with("Expiring ")
                        && msg.contains("ms has passed since batch creation"),
                    "{msg}"
                );
                expired += 1;
            }
            Err(e) => panic!("unexpected delivery error: {e}"),
        }
    }
    let snap = p.metrics().snapshot();
    p.close().await;
    eprintln!(
        "async: {} acked, {expired} expired, {buffer_full} refused after blocking; throttle max {}",
        acked.len(),
        snap.throttle_time_max
    );
    assert_eq!(
        acked.len() + expired + buffer_full,
        total,
        "every record is acknowledged or reported"
    );
    assert!(buffer_full > 0, "the buffer never filled");
    assert!(expired > 0, "nothing expired");
    assert!(!acked.is_empty(), "nothing acknowledged");
    assert!(snap.throttle_time_max > 0.0);

    set_quota(&admin, &user, client_id, "producer_byte_rate", None).await;
    let got = read_all(
        admin.clone(),
        "qs-async",
        acked.len(),
        Duration::from_secs(60),
    )
    .await;
    for (md, value) in &acked {
        let found = got
            .iter()
            .find(|r| r.partition == md.partition && r.offset == md.offset);
        let found = found.unwrap_or_else(|| panic!("acknowledged record {md:?} missing"));
        assert_eq!(found.value.as_deref(), Some(value.as_bytes()));
    }
}
