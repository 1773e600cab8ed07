//! An alter split into several AlterClientQuotas requests that fails part-way, against the
//! real broker: the error carries what the requests before the failure applied, which
//! entities were in the failed request (outcome unknown) and which were never sent.
//!
//! The failure is a real one: the client refuses to read an answer larger than its
//! `max_response_size`. The answer echoes every entity, so the request whose entities have
//! long names gets an answer too large to read, after the broker has applied it: exactly the
//! case where the outcome is unknown to the client.

use std::time::Duration;

use kquota_admin::client::MAX_ENTITIES_PER_REQUEST;
use kquota_admin::{AdminError, Alteration, Entity, EntityName, Filter, Op, QuotaAdmin, QuotaKey};
use kquota_net::{ClientConfig, Cluster};
use kquota_testkit::{shared, Listener};

fn alteration(client_id: String, op: Op) -> Alteration {
    Alteration {
        entity: Entity::new().with_client_id(EntityName::named(client_id)),
        ops: vec![op],
    }
}

async fn admin(max_response_size: Option<usize>) -> QuotaAdmin {
    let mut cfg = ClientConfig::new([shared().bootstrap(Listener::Plaintext)])
        .client_id("partial-alter-test");
    if let Some(max) = max_response_size {
        cfg = cfg.max_response_size(max);
    }
    QuotaAdmin::new(Cluster::connect(cfg).await.expect("connect"))
}

#[tokio::test]
async fn a_request_failing_part_way_keeps_what_the_requests_before_it_applied() {
    let n = MAX_ENTITIES_PER_REQUEST;
    let tag = format!("partial-{}", std::process::id());
    let set = |i: usize| Op::Set(QuotaKey::ProducerByteRate, 1000.0 + i as f64);
    // Request 1: short names (an answer of ~45 KiB). Request 2: 200-byte names (~250 KiB).
    // Request 3: never sent.
    let first: Vec<Alteration> = (0..n)
        .map(|i| alteration(format!("{tag}-a-{i:04}"), set(i)))
        .collect();
    let second: Vec<Alteration> = (0..n)
        .map(|i| alteration(format!("{tag}-b-{i:04}-{}", "x".repeat(200)), set(i)))
        .collect();
    let third: Vec<Alteration> = (0..n / 2)
        .map(|i| alteration(format!("{tag}-c-{i:04}"), set(i)))
        .collect();
    let all: Vec<Alteration> = [first.clone(), second.clone(), third.clone()].concat();

    let small = admin(Some(128 << 10)).await;
    let err = small.alter(&all, false).await.unwrap_err();
    small.cluster().close().await;
    let AdminError::Incomplete(inc) = err else {
        panic!("expected AdminError::Incomplete, got {err:?}");
    };
    assert_eq!((inc.failed_request, inc.requests), (2, 3), "{inc}");
    assert_eq!(inc.answered.len(), n);
    for (r, a) in inc.answered.iter().zip(&first) {
        assert_eq!(r.entity, a.entity);
        assert!(r.error.is_none(), "{r:?}");
    }
    let entities = |alts: &[Alteration]| alts.iter().map(|a| a.entity.clone()).collect::<Vec<_>>();
    assert_eq!(inc.unanswered, entities(&second));
    assert_eq!(inc.not_sent, entities(&third));
    assert!(
        !inc.rejected(),
        "a lost answer is an unknown outcome: {inc}"
    );
    assert!(
        matches!(
            inc.source,
            AdminError::Net(kquota_net::Error::FrameTooLarge { .. })
        ),
        "{:?}",
        inc.source
    );
    let line = inc.to_string();
    assert!(
        line.contains("request 2 of 3") && line.contains(&format!("{n} entities")),
        "{line}"
    );

    // What the broker has: the first request's changes (reported as applied), the second's
    // too (its answer was lost, not the change), nothing of the third.
    let admin = admin(None).await;
    let lagging = admin
        .wait_applied(
            &[first.clone(), second.clone()].concat(),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert!(lagging.is_empty(), "brokers {lagging:?}");
    let stored = admin.describe(&Filter::all()).await.unwrap();
    let ours = |prefix: &str| {
        stored
            .iter()
            .filter(|eq| {
                matches!(&eq.entity.client_id, Some(EntityName::Named(c)) if c.starts_with(prefix))
            })
            .count()
    };
    assert_eq!(ours(&format!("{tag}-a-")), n);
    assert_eq!(ours(&format!("{tag}-b-")), n);
    assert_eq!(ours(&format!("{tag}-c-")), 0);

    let removals: Vec<Alteration> = [first, second]
        .concat()
        .into_iter()
        .map(|a| Alteration {
            entity: a.entity,
            ops: vec![Op::Remove(QuotaKey::ProducerByteRate)],
        })
        .collect();
    for r in admin.alter(&removals, false).await.unwrap() {
        assert!(r.error.is_none(), "{r:?}");
    }
    admin.cluster().close().await;
}
