//! Classic consumer groups against the real broker: two members split the partitions, and the
//! remaining member takes them all when the other leaves.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use kquota_client::consumer::{Consumer, ConsumerConfig};
use kquota_client::group::Assignor;
use kquota_client::producer::{Producer, ProducerConfig};
use kquota_client::ProducerRecord;
use kquota_net::{ClientConfig, Cluster};
use kquota_testkit::Listener;
use kquota_tests::create_topic;

async fn connect(client_id: &str) -> Cluster {
    let b = kquota_testkit::shared().bootstrap(Listener::Plaintext);
    Cluster::connect(ClientConfig::new([b]).client_id(client_id))
        .await
        .unwrap()
}

fn cfg(assignor: Assignor) -> ConsumerConfig {
    ConsumerConfig {
        group_id: Some(format!("cg-{}", assignor.name())),
        session_timeout: Duration::from_secs(10),
        heartbeat_interval: Duration::from_millis(500),
        rebalance_timeout: Duration::from_secs(15),
        assignors: vec![assignor],
        ..ConsumerConfig::default()
    }
}

async fn poll_until(
    c: &mut Consumer,
    other: Option<&mut Consumer>,
    pred: impl Fn(&Consumer, Option<&Consumer>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut other = other;
    loop {
        if pred(c, other.as_deref()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "group did not settle: {:?} / {:?}",
            c.assignment(),
            other.as_ref().map(|o| o.assignment().to_vec())
        );
        c.poll(Duration::from_millis(200)).await.unwrap();
        if let Some(o) = other.as_deref_mut() {
            o.poll(Duration::from_millis(200)).await.unwrap();
        }
    }
}

async fn split_and_rebalance(assignor: Assignor, topic: &str) {
    let admin = connect("cg-admin").await;
    create_topic(&admin, topic, 3, 1).await;
    let p = Producer::new(admin.clone(), ProducerConfig::default())
        .await
        .unwrap();
    for i in 0..30 {
        p.send(ProducerRecord::new(topic, format!("r{i}")).with_key(i.to_string()))
            .await
            .unwrap();
    }
    p.flush().await;
    p.close().await;

    let mut a = Consumer::new(connect("cg-a").await, cfg(assignor));
    a.subscribe(vec![topic.into()]).await.unwrap();
    assert_eq!(a.assignment().len(), 3, "alone: all partitions");
    let mut b = Consumer::new(connect("cg-b").await, cfg(assignor));
    // b's join triggers a rebalance; a rejoins from its poll loop.
    let t = topic.to_owned();
    let join_b = tokio::spawn(async move {
        b.subscribe(vec![t]).await.unwrap();
        b
    });
    let deadline = Instant::now() + Duration::from_secs(40);
    while !join_b.is_finished() {
        assert!(Instant::now() < deadline, "second member never joined");
        a.poll(Duration::from_millis(200)).await.unwrap();
    }
    let mut b = join_b.await.unwrap();
    poll_until(&mut a, Some(&mut b), |a, b| {
        let b = b.unwrap();
        a.assignment().len() + b.assignment().len() == 3
            && !a.assignment().is_empty()
            && !b.assignment().is_empty()
    })
    .await;
    let all: BTreeSet<_> = a
        .assignment()
        .iter()
        .chain(b.assignment())
        .cloned()
        .collect();
    assert_eq!(all.len(), 3, "partitions split without overlap");
    // b leaves: a gets everything back.
    b.close().await;
    poll_until(&mut a, None, |a, _| a.assignment().len() == 3).await;
    a.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_members_split_partitions_and_rebalance_on_leave_range() {
    split_and_rebalance(Assignor::Range, "cg-range").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_members_split_partitions_and_rebalance_on_leave_roundrobin() {
    split_and_rebalance(Assignor::RoundRobin, "cg-rr").await;
}
