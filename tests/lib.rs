//! Helpers for kquota's cross-crate scenario tests (real local Kafka from kquota-testkit).

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_protocol::messages::alter_client_quotas_request::{EntityData, EntryData, OpData};
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::{AlterClientQuotasRequest, CreateTopicsRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use kquota_client::consumer::{Consumer, ConsumerConfig};
use kquota_client::ConsumerRecord;
use kquota_net::{ClientConfig, Cluster, SaslConfig, Security, Target};

/// Connects over SASL/PLAIN as `user` with `client_id`.
pub async fn connect_plain(
    bootstrap: &str,
    user: &str,
    password: &str,
    client_id: &str,
) -> Cluster {
    let cfg = ClientConfig::new([bootstrap])
        .client_id(client_id)
        .security(Security::SaslPlaintext(SaslConfig::Plain {
            username: user.into(),
            password: password.into(),
        }));
    Cluster::connect(cfg).await.expect("connect")
}

/// Creates a topic (idempotent) and waits until every partition has a leader.
pub async fn create_topic(cluster: &Cluster, name: &str, partitions: i32, replication: i16) {
    let mut configs = Vec::new();
    if replication > 1 {
        configs.push(
            CreatableTopicConfig::default()
                .with_name(StrBytes::from_static_str("min.insync.replicas"))
                .with_value(Some(StrBytes::from_static_str("2"))),
        );
    }
    let req = CreateTopicsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![CreatableTopic::default()
            .with_name(TopicName(StrBytes::from_string(name.to_owned())))
            .with_num_partitions(partitions)
            .with_replication_factor(replication)
            .with_configs(configs)]);
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

/// Sets (`Some`) or removes (`None`) a quota key on the (user, client-id) entity.
pub async fn set_quota(
    admin: &Cluster,
    user: &str,
    client_id: &str,
    key: &str,
    value: Option<f64>,
) {
    let entity = vec![
        EntityData::default()
            .with_entity_type(StrBytes::from_static_str("user"))
            .with_entity_name(Some(StrBytes::from_string(user.to_owned()))),
        EntityData::default()
            .with_entity_type(StrBytes::from_static_str("client-id"))
            .with_entity_name(Some(StrBytes::from_string(client_id.to_owned()))),
    ];
    let op = OpData::default()
        .with_key(StrBytes::from_string(key.to_owned()))
        .with_value(value.unwrap_or(0.0))
        .with_remove(value.is_none());
    let req = AlterClientQuotasRequest::default().with_entries(vec![EntryData::default()
        .with_entity(entity)
        .with_ops(vec![op])]);
    let r = admin.send(Target::Any, req).await.expect("alter quotas");
    for e in &r.body.entries {
        assert_eq!(e.error_code, 0, "alter quota: {:?}", e.error_message);
    }
    // Every broker applies the quota from its metadata image: give them a moment.
    tokio::time::sleep(Duration::from_secs(2)).await;
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

/// Asserts `rate` is within ±`tolerance` (0.15 = 15 %) of `quota`, naming the broker.
pub fn assert_within(what: &str, rates: &BTreeMap<i32, f64>, quota: f64, tolerance: f64) {
    assert!(!rates.is_empty(), "{what}: no broker traffic measured");
    for (broker, rate) in rates {
        let lo = quota * (1.0 - tolerance);
        let hi = quota * (1.0 + tolerance);
        assert!(
            *rate >= lo && *rate <= hi,
            "{what}: broker {broker} measured {rate:.0} B/s, quota {quota} B/s (allowed {lo:.0}..{hi:.0}); all: {rates:?}"
        );
    }
}
