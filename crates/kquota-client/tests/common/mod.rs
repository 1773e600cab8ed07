//! Helpers shared by the broker tests.
#![allow(dead_code)]

use std::time::Duration;

use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::{CreateTopicsRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use kquota_client::consumer::{Consumer, ConsumerConfig};
use kquota_client::{ConsumerRecord, TopicPartition};
use kquota_net::{ClientConfig, Cluster, Target};

pub async fn connect(bootstrap: &str, client_id: &str) -> Cluster {
    Cluster::connect(ClientConfig::new([bootstrap]).client_id(client_id))
        .await
        .expect("connect")
}

pub async fn create_topic(cluster: &Cluster, name: &str, partitions: i32, replication: i16) {
    let req = CreateTopicsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![CreatableTopic::default()
            .with_name(TopicName(StrBytes::from_string(name.to_owned())))
            .with_num_partitions(partitions)
            .with_replication_factor(replication)
            .with_configs(if replication > 1 {
                vec![CreatableTopicConfig::default()
                    .with_name(StrBytes::from_static_str("min.insync.replicas"))
                    .with_value(Some(StrBytes::from_static_str("2")))]
            } else {
                vec![]
            })]);
    let r = cluster
        .send(Target::Controller, req)
        .await
        .expect("create topic");
    for t in &r.body.topics {
        assert!(
            t.error_code == 0 || t.error_code == 36,
            "create {name}: error {}",
            t.error_code
        );
    }
    // Wait until every partition has a leader.
    for _ in 0..100 {
        let md = cluster
            .refresh_metadata(Some(&[name.to_owned()]))
            .await
            .expect("metadata");
        if let Some(t) = md.topics.get(name) {
            if t.partitions.len() == partitions as usize
                && t.partitions.values().all(|p| p.leader.is_some())
            {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("topic {name} has no leaders");
}

/// Reads every record of `topic` from the beginning until `expected` records or `timeout`.
pub async fn read_all(
    cluster: Cluster,
    topic: &str,
    expected: usize,
    timeout: Duration,
) -> Vec<ConsumerRecord> {
    let mut c = Consumer::new(cluster, ConsumerConfig::default());
    c.assign_topics(&[topic.to_owned()]).await.expect("assign");
    let deadline = tokio::time::Instant::now() + timeout;
    let mut out = Vec::new();
    while out.len() < expected && tokio::time::Instant::now() < deadline {
        out.extend(c.poll(Duration::from_millis(500)).await.expect("poll"));
    }
    c.close().await;
    out
}

pub fn tp(topic: &str, p: i32) -> TopicPartition {
    TopicPartition::new(topic, p)
}

/// `name` with a suffix unique to this test run, so a re-run against the same shared broker
/// (KQUOTA_TESTKIT_SHARED) does not read the records an earlier run left in the topic.
pub fn topic(name: &str) -> String {
    static RUN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let run = RUN.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        format!("{}-{nanos}", std::process::id())
    });
    format!("{name}-{run}")
}
