//! End to end against a real Kafka broker (kquota-testkit) whose OAUTHBEARER validator verifies
//! MSK-IAM SigV4 tokens and makes the principal the identity's ARN:
//! moto's STS AssumeRole gives `Topic-B-Write-Role` credentials for session
//! `producerapp-1-role-session`, the broker learns them, and a kquota-net connection authenticates
//! with our token provider as
//! `arn:aws:sts::111111111111:assumed-role/Topic-B-Write-Role/producerapp-1-role-session`;
//! with `connections.max.reauth.ms=3000` it re-authenticates every few seconds with a new token
//! and keeps working; a request quota on that principal throttles it.

#[path = "../../../testdata/iam/moto_server.rs"]
mod moto_server;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kquota_iam::aws::AwsIam;
use kquota_iam::{Credentials, IamConfig, MskSigner, StaticCredentials};
use kquota_net::kafka_protocol::messages::alter_client_quotas_request::{
    EntityData, EntryData, OpData,
};
use kquota_net::kafka_protocol::messages::{AlterClientQuotasRequest, MetadataRequest};
use kquota_net::*;
use kquota_testkit::{ClusterSpec, KafkaCluster, Listener};

const PRINCIPAL: &str =
    "arn:aws:sts::111111111111:assumed-role/Topic-B-Write-Role/producerapp-1-role-session";

/// Records every token handed to the connection.
#[derive(Debug)]
struct Recording {
    signer: MskSigner,
    tokens: Mutex<Vec<String>>,
}

impl TokenProvider for Recording {
    fn token(&self) -> BoxFuture<'_, Result<OAuthToken, AuthError>> {
        Box::pin(async move {
            let t = TokenProvider::token(&self.signer).await?;
            self.tokens
                .lock()
                .unwrap()
                .push(t.value.expose().to_string());
            Ok(t)
        })
    }
}

async fn hammer(conn: &BrokerConnection, run: Duration) -> (usize, Vec<String>, i32) {
    let end = Instant::now() + run;
    let ok = Arc::new(AtomicUsize::new(0));
    let max_throttle = Arc::new(std::sync::atomic::AtomicI32::new(0));
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let (c, ok, mt) = (conn.clone(), ok.clone(), max_throttle.clone());
        tasks.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            while Instant::now() < end {
                match c
                    .send(&MetadataRequest::default().with_topics(Some(vec![])))
                    .await
                {
                    Ok(r) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                        mt.fetch_max(r.throttle_time_ms, Ordering::Relaxed);
                    }
                    Err(e) => failures.push(e.to_string()),
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            failures
        }));
    }
    let mut failures = Vec::new();
    for t in tasks {
        failures.extend(t.await.unwrap());
    }
    (
        ok.load(Ordering::Relaxed),
        failures,
        max_throttle.load(Ordering::Relaxed),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assumed_role_authenticates_reauthenticates_and_is_throttled_by_its_quota() {
    let moto = moto_server::MotoServer::start();
    let k = tokio::task::spawn_blocking(|| {
        KafkaCluster::start(
            ClusterSpec::single().broker_config("connections.max.reauth.ms", "3000"),
        )
        .expect("start a broker with connections.max.reauth.ms=3000")
    })
    .await
    .unwrap();
    let addr = k.bootstrap(Listener::SaslPlaintext);

    // Assume the write role through moto's STS.
    let mut cfg = IamConfig::default();
    cfg.region = Some("us-east-1".into());
    cfg.endpoint_url = Some(moto.url().to_string());
    cfg.assume_role_arn = Some("arn:aws:iam::111111111111:role/Topic-B-Write-Role".into());
    cfg.role_session_name = Some("producerapp-1-role-session".into());
    let base = Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        None,
        None,
    )
    .unwrap();
    let iam = AwsIam::load(&cfg, Some(base.clone())).await.unwrap();
    assert_eq!(iam.whoami().await.unwrap().principal(), PRINCIPAL);

    // The broker's validator learns the assumed credentials, as MSK knows every STS session.
    let assumed = iam.credentials_provider().credentials().await.unwrap();
    k.register_iam_credentials(
        assumed.access_key_id(),
        assumed.secret_access_key(),
        assumed.session_token(),
        PRINCIPAL,
    )
    .unwrap();

    // Authenticate, then keep requests flowing over several 3-second session lifetimes.
    let provider = Arc::new(Recording {
        signer: iam.signer(),
        tokens: Mutex::new(Vec::new()),
    });
    let client_cfg = ClientConfig::new([addr.clone()])
        .client_id("producerapp-1-client-id")
        .security(Security::SaslPlaintext(SaslConfig::OAuthBearer(
            provider.clone(),
        )));
    let conn = BrokerConnection::connect(&addr, 1, &client_cfg)
        .await
        .unwrap();
    let (ok, failures, _) = hammer(&conn, Duration::from_secs(12)).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert!(ok > 50, "{ok}");
    let reauths = conn.reauthentication_count();
    assert!(reauths >= 3, "re-authenticated {reauths} times");
    let tokens = provider.tokens.lock().unwrap().clone();
    assert_eq!(
        tokens.len() as u64,
        reauths + 1,
        "one token per (re)authentication"
    );
    let mut distinct = tokens.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), tokens.len(), "a new token each time");

    // Keys the broker does not know (the base keys) are refused with the broker's reason.
    let stranger = MskSigner::new(Arc::new(StaticCredentials::new(base)))
        .with_region("us-east-1")
        .sasl_config();
    let err = BrokerConnection::connect(
        &addr,
        1,
        &ClientConfig::new([addr.clone()]).security(Security::SaslPlaintext(stranger)),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("OAUTHBEARER"), "{err}");

    // A request quota on the (principal, client-id) pair throttles this connection: the broker
    // keys quotas on the assumed-role ARN it derived from our token.
    let a = k.credentials().admin;
    let admin_cfg =
        ClientConfig::new([addr.clone()]).security(Security::SaslPlaintext(SaslConfig::Scram {
            mechanism: ScramMechanism::Sha512,
            username: a.user,
            password: a.password.into(),
        }));
    let admin = BrokerConnection::connect(&addr, 1, &admin_cfg)
        .await
        .unwrap();
    let entry = EntryData::default()
        .with_entity(vec![
            EntityData::default()
                .with_entity_type("user".into())
                .with_entity_name(Some(PRINCIPAL.to_string().into())),
            EntityData::default()
                .with_entity_type("client-id".into())
                .with_entity_name(Some("producerapp-1-client-id".into())),
        ])
        .with_ops(vec![OpData::default()
            .with_key("request_percentage".into())
            .with_value(0.01)]);
    let r = admin
        .send(&AlterClientQuotasRequest::default().with_entries(vec![entry]))
        .await
        .unwrap();
    assert!(
        r.body.entries.iter().all(|e| e.error_code == 0),
        "{:?}",
        r.body
    );
    // Stop at the first throttled response: with a 3-second session and a tiny request quota,
    // staying muted longer than the session is the broker's business, not this test's.
    let conn2 = BrokerConnection::connect(&addr, 1, &client_cfg)
        .await
        .unwrap();
    let end = Instant::now() + Duration::from_secs(20);
    let mut throttle = 0;
    while throttle == 0 && Instant::now() < end {
        let r = conn2
            .send(&MetadataRequest::default().with_topics(Some(vec![])))
            .await
            .unwrap();
        throttle = r.throttle_time_ms;
    }
    assert!(throttle > 0, "no throttling seen for {PRINCIPAL}");
    conn2.close().await;

    conn.close().await;
    admin.close().await;
    drop(k);
    drop(moto);
}
