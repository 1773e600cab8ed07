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
    let topic = common::topic("pc-roundtrip");
    common::create_topic(&cluster, &topic, 3, 1).await;
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
            .send_sync(ProducerRecord::new(topic.as_str(), v.clone()))
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
                .send(ProducerRecord::new(topic.as_str(), v.clone()).with_key(format!("k{i}")))
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

    let got = common::read_all(cluster.clone(), &topic, sent.len(), Duration::from_secs(30)).await;
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
    let topic = common::topic("pc-acks");
    common::create_topic(&cluster, &topic, 1, 1).await;
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
                .send_sync(ProducerRecord::new(topic.as_str(), format!("{comp}-{i}")))
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
    let got = common::read_all(cluster, &topic, total, Duration::from_secs(30)).await;
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
    // This test's own topic: tests in this binary run in any order.
    let topic = common::topic("pc-big");
    common::create_topic(&cluster, &topic, 1, 1).await;
    let big = ProducerRecord::new(topic.as_str(), vec![0u8; 2 * 1024 * 1024]);
    let e = p.send(big).await.unwrap_err();
    assert!(matches!(e, ClientError::RecordTooLarge { .. }), "{e}");
    p.close().await;
    // Larger than the broker's message.max.bytes (1 MiB default) but allowed by the client.
    let cfg = ProducerConfig {
        max_request_size: 4 * 1024 * 1024,
        ..ProducerConfig::default()
    };
    let p = Producer::new(cluster.clone(), cfg).await.unwrap();
    let e = p
        .send_sync(ProducerRecord::new(
            topic.as_str(),
            vec![1u8; 2 * 1024 * 1024],
        ))
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
    let e = c.assign(vec![common::tp(&topic, 7)]).await.unwrap_err();
    assert!(e.to_string().contains("partition 7 does not exist"), "{e}");
}

// ---- lz4 and zstd, ours and the Java client's ----

/// Every batch stored in `topic` partition 0, as raw Fetch bytes (from offset 0, up to 8 MiB).
async fn raw_partition0(cluster: &kquota_net::Cluster, topic: &str) -> bytes::Bytes {
    use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
    use kafka_protocol::messages::{BrokerId, FetchRequest, TopicName};
    use kafka_protocol::protocol::StrBytes;
    let md = cluster
        .refresh_metadata(Some(&[topic.to_owned()]))
        .await
        .unwrap();
    let leader = md.leader(topic, 0).expect("leader");
    let id = md.topics[topic].topic_id;
    let req = FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(100)
        .with_min_bytes(1)
        .with_max_bytes(8 << 20)
        .with_session_epoch(-1)
        .with_topics(vec![FetchTopic::default()
            .with_topic(TopicName(StrBytes::from_string(topic.to_owned())))
            .with_topic_id(id)
            .with_partitions(vec![FetchPartition::default()
                .with_partition(0)
                .with_fetch_offset(0)
                .with_partition_max_bytes(8 << 20)])]);
    let resp = cluster
        .send(kquota_net::Target::Broker(leader), req)
        .await
        .unwrap();
    let p = &resp.body.responses[0].partitions[0];
    assert_eq!(p.error_code, 0, "fetch {topic}");
    p.records.clone().unwrap_or_default()
}

/// The codec of every batch in `raw` (asserting there is at least one).
fn codecs_of(raw: bytes::Bytes) -> Vec<kafka_protocol::records::Compression> {
    let (sets, truncated) = kquota_net::records::decode_batches(raw).unwrap();
    assert!(!truncated && !sets.is_empty());
    sets.iter().map(|s| s.compression).collect()
}

fn codec(name: &str) -> kafka_protocol::records::Compression {
    name.parse::<kquota_client::compression::CompressionType>()
        .unwrap()
        .codec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lz4_and_zstd_batches_are_accepted_stored_and_read_back() {
    let cluster = common::connect(&bootstrap(), "pc-lz4-zstd").await;
    for comp in ["lz4", "zstd"] {
        let topic = common::topic(&format!("pc-codec-{comp}"));
        common::create_topic(&cluster, &topic, 1, 1).await;
        let cfg = ProducerConfig {
            compression: comp.parse().unwrap(),
            batch_size: 256 * 1024,
            linger: Duration::from_millis(20),
            ..ProducerConfig::default()
        };
        let p = Producer::new(cluster.clone(), cfg).await.unwrap();
        let mut sent = Vec::new();
        let mut futs = Vec::new();
        for i in 0..400 {
            // Mostly small values, some 100 KB ones (several 64 KiB LZ4 blocks per batch).
            let v = if i % 97 == 0 {
                format!("{comp}-{i}-{}", "abcdefghij".repeat(10_000))
            } else {
                format!("{comp}-{i}")
            };
            futs.push(
                p.send(ProducerRecord::new(topic.clone(), v.clone()).with_key(format!("k{i}")))
                    .await
                    .unwrap(),
            );
            sent.push(v);
        }
        for f in futs {
            assert!(f.await.unwrap().offset >= 0);
        }
        p.close().await;
        // The broker (compression.type=producer) validated and kept our batches as they are.
        let codecs = codecs_of(raw_partition0(&cluster, &topic).await);
        assert!(
            codecs.iter().all(|c| *c == codec(comp)),
            "{comp}: {codecs:?}"
        );
        let got =
            common::read_all(cluster.clone(), &topic, sent.len(), Duration::from_secs(30)).await;
        let values: Vec<String> = got
            .iter()
            .map(|r| String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap())
            .collect();
        assert_eq!(
            values, sent,
            "{comp}: values in order, none lost or doubled"
        );
        assert_eq!(got[1].key.as_deref(), Some(&b"k1"[..]));
    }
}

/// Kafka's console producer (kafka-clients 4.1.1's Java producer) writes lz4 and zstd batches;
/// our consumer reads them. With `KQUOTA_WRITE_GOLDEN=1` the fetched bytes are saved as the
/// golden files of kquota-net's unit tests (testdata/records/java-*.bin).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_producer_lz4_and_zstd_batches_are_read_by_our_consumer() {
    use std::io::Write;
    let cluster = common::connect(&bootstrap(), "pc-java-in").await;
    for comp in ["lz4", "zstd"] {
        let topic = common::topic(&format!("pc-java-{comp}"));
        common::create_topic(&cluster, &topic, 1, 1).await;
        let lines: Vec<String> = (0..200).map(|i| format!("java-{comp}-{i}")).collect();
        let mut child = kquota_testkit::shared()
            .kafka_tool("org.apache.kafka.tools.ConsoleProducer")
            .args(["--bootstrap-server", &bootstrap(), "--topic", &topic])
            .args(["--compression-codec", comp])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start ConsoleProducer");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{}\n", lines.join("\n")).as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "ConsoleProducer {comp}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let raw = raw_partition0(&cluster, &topic).await;
        let codecs = codecs_of(raw.clone());
        assert!(
            codecs.iter().all(|c| *c == codec(comp)),
            "{comp}: {codecs:?}"
        );
        if std::env::var_os("KQUOTA_WRITE_GOLDEN").is_some() {
            let dir =
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/records");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("java-{comp}.bin")), &raw).unwrap();
        }
        let got = common::read_all(
            cluster.clone(),
            &topic,
            lines.len(),
            Duration::from_secs(30),
        )
        .await;
        let values: Vec<String> = got
            .iter()
            .map(|r| String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap())
            .collect();
        assert_eq!(values, lines, "{comp}");
    }
}

/// Records we produce with lz4 and zstd are read by Kafka's Java console consumer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_console_consumer_reads_our_lz4_and_zstd_records() {
    let cluster = common::connect(&bootstrap(), "pc-java-out").await;
    for comp in ["lz4", "zstd"] {
        let topic = common::topic(&format!("pc-ours-{comp}"));
        common::create_topic(&cluster, &topic, 1, 1).await;
        let cfg = ProducerConfig {
            compression: comp.parse().unwrap(),
            linger: Duration::from_millis(20),
            ..ProducerConfig::default()
        };
        let p = Producer::new(cluster.clone(), cfg).await.unwrap();
        let mut sent = Vec::new();
        let mut futs = Vec::new();
        for i in 0..150 {
            // One value past 64 KiB, so the Java reader meets a multi-block LZ4 frame.
            let v = if i == 75 {
                format!("ours-{comp}-{i}-{}", "0123456789".repeat(8_000))
            } else {
                format!("ours-{comp}-{i}")
            };
            futs.push(
                p.send(ProducerRecord::new(topic.clone(), v.clone()))
                    .await
                    .unwrap(),
            );
            sent.push(v);
        }
        for f in futs {
            f.await.unwrap();
        }
        p.close().await;
        let codecs = codecs_of(raw_partition0(&cluster, &topic).await);
        assert!(
            codecs.iter().all(|c| *c == codec(comp)),
            "{comp}: {codecs:?}"
        );
        let out = kquota_testkit::shared()
            .kafka_tool("org.apache.kafka.tools.consumer.ConsoleConsumer")
            .args(["--bootstrap-server", &bootstrap(), "--topic", &topic])
            .args([
                "--from-beginning",
                "--max-messages",
                &sent.len().to_string(),
            ])
            .args(["--timeout-ms", "60000"])
            .output()
            .expect("run ConsoleConsumer");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let read: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            read,
            sent.iter().map(String::as_str).collect::<Vec<_>>(),
            "{comp}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success());
    }
}

/// acks=1 (no idempotence) with lz4/zstd: many records per batch, still one batch per partition
/// in each Produce request (the broker refuses more), all acknowledged and read back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_idempotent_compressed_batches_hold_many_records() {
    let cluster = common::connect(&bootstrap(), "pc-acks1-codec").await;
    for comp in ["lz4", "zstd", "none"] {
        let topic = common::topic(&format!("pc-acks1-{comp}"));
        common::create_topic(&cluster, &topic, 1, 1).await;
        let cfg = ProducerConfig {
            acks: Acks::Leader,
            compression: comp.parse().unwrap(),
            linger: Duration::from_millis(50),
            ..ProducerConfig::default()
        };
        let p = Producer::new(cluster.clone(), cfg).await.unwrap();
        assert!(p.producer_id().is_none());
        let mut futs = Vec::new();
        for i in 0..100 {
            futs.push(
                p.send(ProducerRecord::new(topic.clone(), format!("{comp}-{i}")))
                    .await
                    .unwrap(),
            );
        }
        for f in futs {
            f.await.unwrap();
        }
        p.close().await;
        let (sets, _) =
            kquota_net::records::decode_batches(raw_partition0(&cluster, &topic).await).unwrap();
        assert!(
            sets.len() < 50,
            "{comp}: {} batches for 100 records",
            sets.len()
        );
        let got = common::read_all(cluster.clone(), &topic, 100, Duration::from_secs(30)).await;
        assert_eq!(got.len(), 100, "{comp}");
    }
}
