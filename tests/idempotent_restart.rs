//! A broker of the 3-broker cluster is stopped and restarted during an acks=all idempotent
//! produce: no acknowledged record is lost and none is duplicated (read back and compared).

use std::collections::BTreeMap;
use std::time::Duration;

use kquota_client::producer::{Producer, ProducerConfig};
use kquota_client::ProducerRecord;
use kquota_net::{ClientConfig, Cluster};
use kquota_testkit::{ClusterSpec, KafkaCluster, Listener};
use kquota_tests::{create_topic, read_all};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_during_idempotent_produce_loses_and_duplicates_nothing() {
    let kafka = tokio::task::spawn_blocking(|| KafkaCluster::start(ClusterSpec::three_brokers()))
        .await
        .unwrap()
        .expect("start cluster");
    let bootstrap = kafka.bootstrap(Listener::Plaintext);
    let conn = Cluster::connect(ClientConfig::new([bootstrap]).client_id("idem-restart"))
        .await
        .unwrap();
    create_topic(&conn, "idem", 3, 3).await;
    let p = Producer::new(conn.clone(), ProducerConfig::default())
        .await
        .unwrap();
    assert!(p.producer_id().is_some());
    let total = 3000usize;
    let mut futs = Vec::new();
    let mut victim = None;
    for i in 0..total {
        if i == total / 3 {
            // Stop the leader of partition 0 while records are in flight.
            let v = conn.metadata().await.unwrap().leader("idem", 0).unwrap();
            let k = &kafka;
            tokio::task::block_in_place(|| k.stop_broker(v)).unwrap();
            victim = Some(v);
        }
        if i == 2 * total / 3 {
            if let Some(v) = victim {
                let k = &kafka;
                tokio::task::block_in_place(|| k.start_broker(v)).unwrap();
            }
        }
        let f = p
            .send(ProducerRecord::new("idem", format!("{i:06}")).with_key(format!("k{}", i % 97)))
            .await
            .unwrap();
        futs.push((i, f));
        if i % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let mut acked = BTreeMap::new();
    let mut failed = 0;
    for (i, f) in futs {
        match f.await {
            Ok(md) => {
                acked.insert(format!("{i:06}"), md);
            }
            Err(e) => {
                eprintln!("record {i} failed: {e}");
                failed += 1;
            }
        }
    }
    p.close().await;
    assert_eq!(acked.len() + failed, total);
    let got = read_all(conn, "idem", acked.len(), Duration::from_secs(90)).await;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for r in &got {
        *seen
            .entry(String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap())
            .or_default() += 1;
    }
    let dups: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dups.is_empty(), "duplicated records: {dups:?}");
    for v in acked.keys() {
        assert!(seen.contains_key(v), "acknowledged record {v} lost");
    }
    eprintln!(
        "idempotent restart: {} acked, {failed} failed, {} read back",
        acked.len(),
        got.len()
    );
}
