//! Broker failures on a real three-broker cluster: a broker killed mid-request gives an error,
//! routing follows the partition leader to another broker, and the next request to the
//! restarted broker reconnects.

use std::time::Duration;

use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kquota_net::*;
use kquota_testkit::{ClusterSpec, KafkaCluster, Listener};

const TOPIC: &str = "kquota-net-failover";

fn list_offsets(partition: i32) -> ListOffsetsRequest {
    ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(TopicName(StrBytes::from_static_str(TOPIC)))
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(partition)
                .with_timestamp(-1)])])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_killed_mid_request_then_leader_followed_and_reconnect() {
    let k =
        tokio::task::spawn_blocking(|| KafkaCluster::start(ClusterSpec::three_brokers()).unwrap())
            .await
            .unwrap();
    let k = std::sync::Arc::new(k);
    let cfg = ClientConfig::new([k.bootstrap(Listener::Plaintext)])
        .request_timeout(Duration::from_secs(20))
        .retries(8, Duration::from_millis(200), Duration::from_secs(2));
    let cluster = Cluster::connect(cfg).await.unwrap();
    assert_eq!(cluster.metadata().await.unwrap().brokers.len(), 3);

    let topic = CreatableTopic::default()
        .with_name(TopicName(StrBytes::from_static_str(TOPIC)))
        .with_num_partitions(1)
        .with_replication_factor(3);
    let r = cluster
        .send(
            Target::Controller,
            CreateTopicsRequest::default()
                .with_topics(vec![topic])
                .with_timeout_ms(30_000),
        )
        .await
        .unwrap();
    assert_eq!(
        r.body.topics[0].error_code, 0,
        "{:?}",
        r.body.topics[0].error_message
    );

    // Leader of partition 0, found through Target::Leader routing.
    let mut leader = None;
    for _ in 0..50 {
        let md = cluster
            .refresh_metadata(Some(&[TOPIC.to_owned()]))
            .await
            .unwrap();
        if let Some(l) = md.leader(TOPIC, 0) {
            leader = Some(l);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let leader = leader.expect("partition 0 got a leader");
    let r = cluster
        .send(
            Target::Leader {
                topic: TOPIC.into(),
                partition: 0,
            },
            list_offsets(0),
        )
        .await
        .unwrap();
    assert_eq!(r.broker_id, leader);

    // A long-poll Fetch is in flight on the leader when it is killed.
    let md = cluster.metadata().await.unwrap();
    let topic_id = md.topics[TOPIC].topic_id;
    let fetch = FetchRequest::default()
        .with_max_wait_ms(15_000)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_topics(vec![FetchTopic::default()
            .with_topic(TopicName(StrBytes::from_static_str(TOPIC)))
            .with_topic_id(topic_id)
            .with_partitions(vec![FetchPartition::default()
                .with_partition(0)
                .with_fetch_offset(0)
                .with_partition_max_bytes(1 << 20)])]);
    let conn = cluster.connection(leader).await.unwrap();
    let in_flight = tokio::spawn(async move { conn.send(&fetch).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let k2 = k.clone();
    tokio::task::spawn_blocking(move || k2.stop_broker(leader).unwrap())
        .await
        .unwrap();
    let fetched = in_flight.await.unwrap();
    match &fetched {
        Err(e) => assert!(e.is_retriable(), "a connection error: {e:?}"),
        // A broker shutting down cleanly may answer the poll first; then the *next* use fails.
        Ok(r) => eprintln!(
            "fetch answered during shutdown: {:?}",
            r.body.responses.first().map(|t| t.partitions[0].error_code)
        ),
    }

    // Routing follows the new leader (metadata refreshed after the disconnect / NOT_LEADER).
    let r = cluster
        .send(
            Target::Leader {
                topic: TOPIC.into(),
                partition: 0,
            },
            list_offsets(0),
        )
        .await
        .unwrap();
    assert_ne!(r.broker_id, leader, "still routed to the stopped broker");
    assert_eq!(r.body.topics[0].partitions[0].error_code, 0);
    assert_eq!(
        cluster.metadata().await.unwrap().leader(TOPIC, 0),
        Some(r.broker_id)
    );

    // The stopped broker: a clear error while it is down, a fresh connection once it is back.
    let e = cluster
        .send(Target::Broker(leader), DescribeClusterRequest::default())
        .await;
    assert!(e.is_err() || e.as_ref().is_ok_and(|r| r.broker_id == leader));
    let k3 = k.clone();
    tokio::task::spawn_blocking(move || k3.start_broker(leader).unwrap())
        .await
        .unwrap();
    let r = cluster
        .send(Target::Broker(leader), DescribeClusterRequest::default())
        .await
        .unwrap();
    assert_eq!(r.broker_id, leader);
    assert_eq!(r.body.error_code, 0);
    cluster.close().await;
}
