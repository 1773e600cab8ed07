//! # kquota-testkit: a real Apache Kafka for integration tests
//!
//! Starts a local Apache Kafka 4.1 (KRaft) from Rust — no Docker, no mocks — with every listener
//! kquota speaks, an authorizer, test users, generated TLS certificates and an
//! **MSK-IAM-style OAUTHBEARER validator**, so protocol code is tested against the real broker.
//!
//! Requirements: a JDK 17+ (`java`, `javac`) and Maven (`mvn`) on `PATH`. The first use fetches
//! Kafka's jars from Maven Central (`testdata/kafka/pom.xml`, ~10 s) into `<repo>/.cache/kafka`
//! (env `KQUOTA_TESTKIT_CACHE` overrides; the repo root is found from this crate's manifest dir,
//! env `KQUOTA_TESTKIT_REPO` overrides) under a file lock, and compiles the broker plugin
//! (`testdata/broker-plugin/*.java`: the validator and a storage formatter) with `javac` into a jar.
//!
//! ## Quick start
//!
//! ```no_run
//! use kquota_testkit::{shared, Listener};
//!
//! #[test]
//! fn talks_to_kafka() {
//!     let cluster = shared(); // one broker per test binary, started on first use
//!     let bootstrap = cluster.bootstrap(Listener::SaslPlaintext); // "127.0.0.1:40123"
//!     let admin = cluster.credentials().admin; // admin / admin-secret, a super user
//!     // ... connect with your client ...
//! #   let _ = (bootstrap, admin);
//! }
//! ```
//!
//! A test that needs special broker settings starts its own cluster; it stops on drop:
//!
//! ```no_run
//! use kquota_testkit::{ClusterSpec, KafkaCluster, Listener};
//! let cluster = KafkaCluster::start(
//!     ClusterSpec::three_brokers()
//!         .broker_config("quota.window.size.seconds", "1")
//!         .broker_config("quota.window.num", "2")
//!         .broker_config("connections.max.reauth.ms", "10000"),
//! )?;
//! for b in cluster.brokers() {
//!     println!("broker {}: {} (log {})", b.id, b.addr(Listener::Plaintext), b.log.display());
//! }
//! # Ok::<(), kquota_testkit::TestkitError>(())
//! ```
//!
//! From `#[tokio::test]` the blocking calls are fine as they are (each test has its own
//! runtime thread); inside a busy multi-threaded runtime wrap them in `spawn_blocking`.
//!
//! ## Shapes and ids
//!
//! | shape | nodes |
//! |---|---|
//! | [`ClusterSpec::single`] | node 1, `process.roles=broker,controller` |
//! | [`ClusterSpec::three_brokers`] | brokers 1, 2, 3 and controller [`CONTROLLER_ID`] (100) |
//!
//! Every port is a free ephemeral port on 127.0.0.1 (retried if another process takes it first),
//! each cluster has its own directory under the temp dir, and each JVM runs with
//! `-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1`. A cluster is ready when every broker
//! answers an ApiVersions request (and, with 3 brokers, each one's metadata lists all three);
//! the start is bounded (90 s by default) and every failure is a [`TestkitError`] naming the cause
//! and the node's log file, which is kept.
//!
//! ## Listeners
//!
//! | [`Listener`] | security | mechanisms / principal |
//! |---|---|---|
//! | `Plaintext` | none | `User:ANONYMOUS` |
//! | `SaslPlaintext` | SASL | PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER (MSK IAM token) |
//! | `Ssl` | TLS (testkit CA) | `User:ANONYMOUS`; `User:CN=kquota-client` with [`ClusterSpec::ssl_client_auth`] |
//! | `SaslSsl` | TLS + SASL | as `SaslPlaintext` |
//!
//! TLS: [`KafkaCluster::ca_pem_path`] is the CA (the broker certificate has SANs `127.0.0.1` and
//! `localhost`); [`KafkaCluster::client_cert_pem_path`] and
//! [`KafkaCluster::client_key_pem_path`] are the client certificate and key (PEM, ECDSA P-256).
//!
//! ## Credentials and authorization
//!
//! The `StandardAuthorizer` is on; with no ACL, nothing is allowed except for super users.
//!
//! | principal | super user | credentials |
//! |---|---|---|
//! | `User:admin` | yes | PLAIN and SCRAM-SHA-256/512: `admin` / `admin-secret` |
//! | `User:alice`, `User:bob` | no | PLAIN and SCRAM: `alice`/`alice-secret`, `bob`/`bob-secret` |
//! | `User:arn:aws:sts::111111111111:assumed-role/Topic-B-Write-Role/producerapp-1-role-session` | no | IAM `producerapp-1` (`ASIAKQUOTAPRODUCER01` + session token) |
//! | `User:arn:aws:sts::111111111111:assumed-role/Topic-B-Read-Role/consumerapp-1-role-session` | no | IAM `consumerapp-1` |
//! | `User:arn:aws:sts::111111111111:assumed-role/Topic-B-Read-Role/consumerapp-2-role-session` | no | IAM `consumerapp-2` |
//! | `User:arn:aws:iam::111111111111:user/kquota-admin` | no | IAM `iam-user` (long-term key, no session token) |
//! | `User:ANONYMOUS` | by default | PLAINTEXT, SSL without client certificate |
//! | `User:broker` | yes | internal only (inter-broker and controller listeners) |
//!
//! [`KafkaCluster::credentials`] returns them all (the keys and secrets of the IAM identities
//! included); `Debug` output redacts passwords, secret keys and session tokens.
//!
//! **Why `User:ANONYMOUS` is a super user by default, and how the authorizer stays meaningful:**
//! tests that only exercise the protocol (produce, fetch, quotas over PLAINTEXT) should not have to
//! create ACLs first, so unauthenticated clients are super users unless
//! [`ClusterSpec::anonymous_super_user`]`(false)`. Brokers and the controller never use the client
//! listeners: they talk over their own SASL/PLAIN listeners (`INTERNAL`, `CONTROLLER`) as
//! `User:broker`. So every authenticated client principal — SASL users, IAM ARNs, the client
//! certificate — is subject to ACLs exactly as on MSK, and with `anonymous_super_user(false)` so
//! is PLAINTEXT.
//!
//! ## MSK IAM (OAUTHBEARER)
//!
//! The SASL listeners' OAUTHBEARER validator accepts what the official AWS MSK IAM signers emit:
//! the unpadded base64url of a SigV4-presigned
//! `GET https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect&...` (any region,
//! path `/` or empty, query in any order, `User-Agent` ignored). It looks up the access key in the
//! cluster's credentials file ([`KafkaCluster::iam_credentials_path`]), checks the session token,
//! recomputes the signature, and accepts the token from `X-Amz-Date` (±300 s) until
//! `X-Amz-Date + X-Amz-Expires` (at most 900 s). The principal is the identity's ARN; the
//! token's expiry bounds the SASL session, as on MSK. Refusals are SASL authentication failures
//! whose message says why (`{"status":"invalid_token: signature does not match ..."}`).
//! [`KafkaCluster::register_iam_credentials`] adds identities at run time (e.g. from moto's
//! AssumeRole); [`sign_iam_token`] makes tokens with the validator's independent Java signer.
//!
//! ## Sharing one cluster
//!
//! [`shared`] / [`shared_three`] start one cluster per process, lazily. In CI, one cluster can
//! serve every test binary: run `kquota-testkit up --json /tmp/k.json &` and set
//! `KQUOTA_TESTKIT_SHARED=/tmp/k.json` (`KQUOTA_TESTKIT_SHARED_THREE` for `--brokers 3`).
//!
//! ## Lifetime
//!
//! Each JVM runs under a small `sh` watchdog reading a pipe from the test process; when the pipe
//! closes — on drop, normal exit, panic, or SIGKILL of the test process — the JVM gets SIGTERM and
//! then SIGKILL 5 s later. No orphan JVMs. Set `KQUOTA_TESTKIT_KEEP=1` to keep a dropped cluster's
//! logs (they are always kept when the dropping thread panics, and for shared clusters).
//!
//! For recorded tokens (such as the official signer vectors) start a cluster with
//! [`ClusterSpec::iam_fixed_now_ms`]: the validator then checks tokens at that instant (and moves
//! the token's lifetime, which bounds the SASL session, onto the real clock).
//! [`ClusterSpec::iam_clock_skew_secs`] sets the allowed skew. The validator's command line
//! (`validate`, `sign`; see [`validator_command`]) checks or makes tokens without a broker.
//!
//! ## Using it in your own integration tests
//!
//! ```toml
//! [dev-dependencies]
//! kquota-testkit = { git = "https://example.invalid/kquota" }
//! ```
//!
//! ```no_run
//! // tests/my_kafka_test.rs
//! use kquota_testkit::{shared, Listener};
//!
//! #[test]
//! fn my_client_talks_sasl_ssl() {
//!     let cluster = shared();
//!     let bootstrap = cluster.bootstrap(Listener::SaslSsl);
//!     let ca_pem = cluster.ca_pem_path(); // trust this CA in your TLS config
//!     let alice = cluster.credentials().plain_user("alice").cloned().unwrap();
//!     // connect your client to `bootstrap` with SASL/SCRAM-SHA-512 alice/alice-secret ...
//! #   let _ = (bootstrap, ca_pem, alice);
//! }
//! ```
//!
//! The testkit finds `testdata/` (the Maven pom and the plugin sources) next to the crate in the
//! kquota checkout; set `KQUOTA_TESTKIT_CACHE` to keep the ~90 MB of jars where your CI caches
//! things. Run one cluster for the whole suite with `kquota-testkit up --json k.json` and
//! `KQUOTA_TESTKIT_SHARED=k.json cargo test`. When a test fails, its captured output names the
//! cluster directory and broker logs.
//!
//! ## Start-up cost
//!
//! On the 2-core development machine: a single node is ready in about 6 s, three brokers and a
//! controller in about 10 s (busy machine: up to ~20 s). Storage for all nodes is formatted in one
//! JVM, and the first cluster that stops cleanly records a class-data-sharing archive in the cache
//! (`-XX:ArchiveClassesAtExit`) that later JVMs load, saving about a second each.
//!
//! ## The `kquota-testkit` binary
//!
//! `kquota-testkit up [--brokers 1|3] [--json FILE] [--config k=v]...` starts a cluster, prints
//! its listeners and credentials, writes the JSON, and runs until SIGINT/SIGTERM.
//! `kquota-testkit fetch` only fetches Kafka and compiles the validator.

#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

mod certs;
mod cluster;
mod credentials;
mod error;
mod fetch;
mod iam;
mod moto;
mod probe;
mod process;
mod shared;

pub use certs::CLIENT_CERT_CN;
pub use cluster::{BrokerInfo, ClusterSpec, KafkaCluster, Listener, CONTROLLER_ID};
pub use credentials::{Credentials, IamIdentity, UserPassword, TEST_ACCOUNT};
pub use error::{Result, TestkitError};
pub use fetch::{cache_dir, kafka_home, plugin_jar, repo_root, KAFKA_VERSION, VALIDATOR_CLASS};
pub use iam::{sign_iam_token, validator_command};
pub use moto::MotoServer;
pub use shared::{shared, shared_three, try_shared, try_shared_three};

/// Fetches Kafka and compiles the validator plugin (what `kquota-testkit fetch` does).
///
/// ```no_run
/// kquota_testkit::fetch()?;
/// # Ok::<(), kquota_testkit::TestkitError>(())
/// ```
pub fn fetch() -> Result<std::path::PathBuf> {
    fetch::find_tool("java")?;
    let home = kafka_home()?;
    plugin_jar()?;
    Ok(home)
}
