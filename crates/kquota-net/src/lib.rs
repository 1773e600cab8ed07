//! kquota-net: kquota's own Kafka connection layer.
//!
//! * [`Cluster`]: bootstrap, metadata, lazy per-broker connections, routing to partition
//!   leaders, retries with exponential back-off and jitter, reconnect back-off ≥ 1 s.
//! * [`BrokerConnection`]: one connection — TCP/TLS (rustls), ApiVersions negotiation, SASL
//!   (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER, pluggable mechanisms such as `AWS_MSK_IAM`),
//!   KIP-368 re-authentication, pipelined requests matched by correlation id, per-request
//!   timeout, KIP-219 throttle back-off.
//! * Sans-IO pieces, unit-tested and fuzzed: [`frame`], [`correlation`], [`sasl`],
//!   [`throttle`], [`records`].
//!
//! Message codecs come from `kafka-protocol`; [`KafkaRequest`] maps each request to its API key
//! and response.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kquota_net::Error> {
//! use kafka_protocol::messages::DescribeClientQuotasRequest;
//! use kquota_net::{ClientConfig, Cluster, SaslConfig, ScramMechanism, Security, Target};
//! let cfg = ClientConfig::new(["localhost:9092"]).client_id("kquota").security(
//!     Security::SaslPlaintext(SaslConfig::Scram {
//!         mechanism: ScramMechanism::Sha512,
//!         username: "admin".into(),
//!         password: "admin-secret".into(),
//!     }),
//! );
//! let cluster = Cluster::connect(cfg).await?;
//! let mut throttles = cluster.throttle_events();
//! let r = cluster.send(Target::Any, DescribeClientQuotasRequest::default()).await?;
//! println!("broker {} v{} throttle {} ms", r.broker_id, r.api_version, r.throttle_time_ms);
//! # let _ = throttles.try_recv();
//! # Ok(()) }
//! ```
#![deny(
    unsafe_code,
    rust_2018_idioms,
    missing_docs,
    rustdoc::broken_intra_doc_links
)]
#![warn(missing_debug_implementations)]

mod cluster;
mod config;
mod connection;
pub mod correlation;
mod error;
pub mod frame;
#[doc(hidden)]
pub mod fuzzing;
mod metadata;
pub mod records;
mod request;
pub mod sasl;
pub mod throttle;
mod transport;

pub use cluster::{Cluster, Target};
pub use config::{
    ClientConfig, SaslConfig, ScramMechanism, Secret, Security, TlsConfig, MIN_RECONNECT_BACKOFF,
};
pub use connection::{BrokerConnection, Response};
pub use error::{AuthError, Error};
pub use metadata::{BrokerInfo, ClusterMetadata, PartitionInfo, TopicInfo};
pub use request::{for_each_response_decoder, KafkaRequest, ResponseDecoder};
pub use sasl::{BoxFuture, OAuthToken, SaslMechanism, SaslSession, SaslStep, TokenProvider};
pub use throttle::ThrottleEvent;

/// Re-export of the codec crate, so users name the same types.
pub use kafka_protocol;
