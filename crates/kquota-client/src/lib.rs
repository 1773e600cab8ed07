//! kquota-client: producer and consumer apps for verifying Kafka client quotas.
//!
//! - [`partitioner`]: the Java client's default partitioner (murmur2, sticky).
//! - [`metrics`]: `produce-throttle-time-avg/max` and `fetch-throttle-time-avg/max` with the Java
//!   client's sampled-window definitions, plus per-broker throttle, bytes/s and throttle waits.
//! - [`buffer`]: the async producer's bounded byte buffer with a max-block time.
//! - [`compression`]: compression codec selection.
//!
//! lz4 and zstd: kafka-protocol only offers them through C libraries (lz4-sys, zstd-sys); this
//! crate stays pure Rust and refuses them with a clear error.
#![deny(rust_2018_idioms, unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

pub(crate) mod accumulator;
pub mod buffer;
pub mod compression;
pub mod consumer;
pub mod error;
pub mod group;
pub mod metrics;
pub mod partitioner;
pub mod producer;
mod types;

pub use consumer::{Consumer, ConsumerConfig, OffsetReset};
pub use error::ClientError;
pub use producer::{Acks, DeliveryFuture, Producer, ProducerConfig};
pub use types::{ConsumerRecord, ProducerRecord, RecordMetadata, TopicPartition};
