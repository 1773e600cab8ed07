//! kquota-client: producer and consumer apps for verifying Kafka client quotas.
//!
//! - [`partitioner`]: the Java client's default partitioner (murmur2, sticky).
//! - [`metrics`]: `produce-throttle-time-avg/max` and `fetch-throttle-time-avg/max` with the Java
//!   client's sampled-window definitions, plus per-broker throttle, bytes/s and throttle waits.
//! - [`buffer`]: the async producer's bounded byte buffer with a max-block time.
//! - [`compression`]: compression codec selection: none, gzip, snappy, lz4 and zstd.
//!
//! Every codec is pure Rust: kafka-protocol's lz4/zstd features would link C libraries (lz4-sys,
//! zstd-sys), so lz4 (`lz4_flex`) and zstd (`ruzstd`) go through kafka-protocol's
//! custom-compression hooks in [`kquota_net::records`].
#![deny(rust_2018_idioms, unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

pub(crate) mod accumulator;
pub mod buffer;
pub mod compression;
pub mod consumer;
mod delivery;
pub mod error;
pub mod group;
pub mod metrics;
mod pacing;
pub mod partitioner;
pub mod producer;
mod types;

pub use consumer::{Consumer, ConsumerConfig, OffsetReset};
pub use error::{ClientError, InvalidSetting};
pub use producer::{Acks, DeliveryFuture, Producer, ProducerConfig, TrySendError};
pub use types::{ConsumerRecord, ProducerRecord, RecordMetadata, TopicPartition};
