//! mTLS against a real broker whose SSL listener requires client certificates.

use std::sync::OnceLock;

use kafka_protocol::messages::*;
use kquota_net::*;
use kquota_testkit::{ClusterSpec, KafkaCluster, Listener};

fn cluster() -> &'static KafkaCluster {
    static C: OnceLock<KafkaCluster> = OnceLock::new();
    C.get_or_init(|| {
        KafkaCluster::start(ClusterSpec::single().ssl_client_auth(true))
            .expect("start a broker requiring client certificates")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_client_certificate_is_required_and_becomes_the_principal() {
    let k = cluster();
    let addr = k.bootstrap(Listener::Ssl);
    // Without a certificate the broker refuses the handshake.
    let no_cert = ClientConfig::new([addr.clone()])
        .security(Security::Ssl(TlsConfig::new().ca_file(k.ca_pem_path())));
    let e = Cluster::connect(no_cert)
        .await
        .expect_err("connected without a client certificate");
    assert!(
        matches!(
            e,
            Error::Tls { .. } | Error::Io { .. } | Error::ConnectionClosed { .. }
        ),
        "{e:?}"
    );
    // With it: connected as User:CN=kquota-client, which has no ACL, so the quota API is
    // refused by the authorizer (proof that the certificate, not ANONYMOUS, is the principal).
    let tls = TlsConfig::new()
        .ca_file(k.ca_pem_path())
        .client_cert(k.client_cert_pem_path(), k.client_key_pem_path());
    let cluster = Cluster::connect(ClientConfig::new([addr]).security(Security::Ssl(tls)))
        .await
        .unwrap();
    let r = cluster
        .send(Target::Any, DescribeClientQuotasRequest::default())
        .await
        .unwrap();
    assert_eq!(
        r.body.error_code,
        kafka_protocol::ResponseError::ClusterAuthorizationFailed.code(),
        "{:?}",
        r.body.error_message
    );
    cluster.close().await;
}
