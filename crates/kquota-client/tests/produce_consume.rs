//! Producer and consumer against the real local Kafka (kquota-testkit, one broker).

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use kquota_client::producer::{Acks, Producer, ProducerConfig};
use kquota_client::{ClientError, ProducerRecord};
use kquota_testkit::Listener;

fn bootstrap() -> String {
    kquota_testkit::shared().bootstrap(Listener::Plaintext)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_and_async_records_are_all_acknowledged_and_read_back_once() {
    let cluster = common::connect(&bootstrap(), "pc-1").await;
    common::create_topic(&cluster, "pc-roundtrip", 3, 1).await;
    let producer = Producer::new(cluster.clone(), ProducerConfig::default())
        .await
        .unwrap();
    assert!(
        producer.producer_id().is_some(),
        "idempotent by default with acks=all"
    );
    let mut sent = BTreeSet::new();
    for i in 0..20 {
        let v = format!("sync-{i}");
        let md = producer
            .send_sync(ProducerRecord::new("pc-roundtrip", v.clone()))
            .await
            .unwrap();
        assert!(md.offset >= 0);
        sent.insert(v);
    }
    let mut futs = Vec::new();
    for i in 0..500 {
        let v = format!("async-{i}");
        futs.push(
            producer
                .send(ProducerRecord::new("pc-roundtrip", v.clone()).with_key(format!("k{i}")))
                .await
                .unwrap(),
        );
        sent.insert(v);
    }
    for f in futs {
        f.await.unwrap();
    }
    let snap = producer.metrics().snapshot();
    assert_eq!(snap.java_metrics()[0].0, "produce-throttle-time-avg");
    assert_eq!(snap.throttle_time_avg, 0.0, "no quota: avg is 0.0");
    assert_eq!(snap.throttle_time_max, 0.0);
    assert!(snap.brokers.iter().map(|b| b.records).sum::<u64>() >= 520);
    producer.close().await;

    let got = common::read_all(
        cluster.clone(),
        "pc-roundtrip",
        sent.len(),
        Duration::from_secs(30),
    )
    .await;
    let values: Vec<String> = got
        .iter()
        .map(|r| String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap())
        .collect();
    let unique: BTreeSet<String> = values.iter().cloned().collect();
    assert_eq!(values.len(), unique.len(), "duplicates read back");
    assert_eq!(unique, sent);
    // Keyed records land where the Java partitioner puts them.
    for r in &got {
        if let Some(k) = &r.key {
            assert_eq!(
                r.partition as usize,
                kquota_client::partitioner::partition_for_key(k, 3)
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_zero_and_one_and_gzip_snappy() {
    let cluster = common::connect(&bootstrap(), "pc-2").await;
    common::create_topic(&cluster, "pc-acks", 1, 1).await;
    let mut total = 0;
    for (acks, comp) in [
        (Acks::None, "none"),
        (Acks::Leader, "gzip"),
        (Acks::All, "snappy"),
    ] {
        let cfg = ProducerConfig {
            acks,
            compression: comp.parse().unwrap(),
            ..ProducerConfig::default()
        };
        let p = Producer::new(cluster.clone(), cfg).await.unwrap();
        for i in 0..10 {
            let md = p
                .send_sync(ProducerRecord::new("pc-acks", format!("{comp}-{i}")))
                .await
                .unwrap();
            if acks == Acks::None {
                assert_eq!(md.offset, -1);
            } else {
                assert!(md.offset >= 0);
            }
        }
        p.close().await;
        total += 10;
    }
    let got = common::read_all(cluster, "pc-acks", total, Duration::from_secs(30)).await;
    assert_eq!(got.len(), total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gives_clear_errors() {
    let cluster = common::connect(&bootstrap(), "pc-3").await;
    let p = Producer::new(cluster.clone(), ProducerConfig::default())
        .await
        .unwrap();
    let e = p
        .send(ProducerRecord::new("no-such-topic-xyz", "x"))
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::UnknownTopic(_)), "{e}");
    assert!(e.to_string().contains("no-such-topic-xyz"));
    let big = ProducerRecord::new("pc-acks", vec![0u8; 2 * 1024 * 1024]);
    let e = p.send(big).await.unwrap_err();
    assert!(matches!(e, ClientError::RecordTooLarge { .. }), "{e}");
    p.close().await;
    // Larger than the broker's message.max.bytes (1 MiB default) but allowed by the client.
    common::create_topic(&cluster, "pc-big", 1, 1).await;
    let cfg = ProducerConfig {
        max_request_size: 4 * 1024 * 1024,
        ..ProducerConfig::default()
    };
    let p = Producer::new(cluster.clone(), cfg).await.unwrap();
    let e = p
        .send_sync(ProducerRecord::new("pc-big", vec![1u8; 2 * 1024 * 1024]))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("MessageTooLarge")
            || e.to_string().contains("RecordListTooLarge")
            || e.to_string().contains("broker error 10"),
        "{e}"
    );
    p.close().await;
    let e = "lz5"
        .parse::<kquota_client::compression::CompressionType>()
        .unwrap_err();
    assert!(e.to_string().contains("unknown compression type"));
    let mut c = kquota_client::Consumer::new(cluster, Default::default());
    let e = c.assign(vec![common::tp("pc-acks", 7)]).await.unwrap_err();
    assert!(e.to_string().contains("partition 7 does not exist"), "{e}");
}
