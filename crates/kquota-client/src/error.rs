//! Typed errors of the producer and consumer.

use std::sync::Arc;
use std::time::Duration;

/// Everything that can go wrong in a producer or consumer.
///
/// Each variant's message says what failed and where (topic, partition, broker, group), so the
/// CLI can print it on one line.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The async producer's buffer stayed full for longer than `max_block`.
    #[error(
        "failed to allocate {requested} bytes in the {buffer_memory}-byte producer buffer within \
         max block time of {} ms (the broker is not taking data fast enough, e.g. throttled by a quota)",
        max_block.as_millis()
    )]
    BufferFull {
        /// Bytes the record needed.
        requested: usize,
        /// Total buffer size.
        buffer_memory: usize,
        /// How long the send waited.
        max_block: Duration,
    },
    /// A single record is larger than the buffer or the configured maximum request size.
    #[error("record of {size} bytes is larger than the maximum of {max} bytes ({what})")]
    RecordTooLarge {
        /// Record size.
        size: usize,
        /// The limit.
        max: usize,
        /// Which limit.
        what: &'static str,
    },
    /// A batch sat in the producer longer than `delivery_timeout` (the Java client's
    /// "Expiring N record(s) for T-P: X ms has passed since batch creation").
    #[error("Expiring {count} record(s) for {topic}-{partition}: {elapsed_ms} ms has passed since batch creation")]
    Expired {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// Records of the batch that expired.
        count: usize,
        /// Age of the batch.
        elapsed_ms: u128,
    },
    /// The topic does not exist (or the principal may not describe it).
    #[error("topic '{0}' does not exist or is not visible to this principal")]
    UnknownTopic(String),
    /// A partition number outside the topic.
    #[error("partition {partition} does not exist in topic '{topic}' ({partitions} partition{})", if *.partitions == 1 { "" } else { "s" })]
    UnknownPartition {
        /// Topic.
        topic: String,
        /// Requested partition.
        partition: i32,
        /// Partitions the topic has.
        partitions: usize,
    },
    /// The broker answered with an error code for a partition, group or request.
    #[error("{context}: broker error {code} ({name}){}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Broker {
        /// What the request was about, e.g. "produce to Topic-B-2 on broker 1".
        context: String,
        /// Kafka error code.
        code: i16,
        /// Error name.
        name: String,
        /// Broker-supplied message.
        message: Option<String>,
        /// For a produce error that failed a whole batch: how many records the batch had (each
        /// of them gets this error). Not part of the message.
        records: Option<usize>,
    },
    /// A connection-layer failure (unreachable broker, authentication, framing, timeout).
    #[error("{context}: {source}")]
    Net {
        /// What was being done.
        context: String,
        /// The connection-layer error.
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    /// Invalid configuration (unknown compression name, bad sizes, ...).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Encoding or decoding a record batch failed.
    #[error("{context}: {message}")]
    Codec {
        /// What was being encoded or decoded.
        context: String,
        /// The codec's message.
        message: String,
    },
    /// The producer or consumer was closed before the operation finished.
    #[error("{0} was closed before the operation completed")]
    Closed(&'static str),
}

/// A producer or consumer setting that cannot work, with the Java config keys it concerns
/// (so a caller can say where the value came from).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidSetting {
    /// The Java config keys involved, the one most likely to change first.
    pub keys: Vec<&'static str>,
    /// What is wrong.
    pub message: String,
}

impl InvalidSetting {
    pub(crate) fn new(keys: &[&'static str], message: impl Into<String>) -> Self {
        InvalidSetting {
            keys: keys.to_vec(),
            message: message.into(),
        }
    }
}

impl From<InvalidSetting> for ClientError {
    fn from(e: InvalidSetting) -> Self {
        ClientError::Config(e.message)
    }
}

impl ClientError {
    /// A broker error from a Kafka error code.
    pub fn broker(context: impl Into<String>, code: i16, message: Option<String>) -> Self {
        let name = kafka_protocol::ResponseError::try_from_code(code)
            .map(|e| format!("{e:?}"))
            .unwrap_or_else(|| "UnknownErrorCode".to_owned());
        ClientError::Broker {
            context: context.into(),
            code,
            name,
            message,
            records: None,
        }
    }

    /// How many records share this error because it failed their whole produce batch: an
    /// expired batch's count, a broker error's batch size. `None` for other errors.
    pub fn batch_records(&self) -> Option<usize> {
        match self {
            ClientError::Expired { count, .. } => Some(*count),
            ClientError::Broker { records, .. } => *records,
            _ => None,
        }
    }

    /// This error as it fails a batch of `n` records (see [`ClientError::batch_records`]).
    pub fn for_batch(mut self, n: usize) -> Self {
        if let ClientError::Broker { records, .. } = &mut self {
            *records = Some(n);
        }
        self
    }

    /// The error for a topic that Metadata gave no partitions for: the broker's topic-level
    /// error when it has one other than "unknown" (e.g. 29 TOPIC_AUTHORIZATION_FAILED),
    /// otherwise [`ClientError::UnknownTopic`].
    pub fn missing_topic(topic: &str, md: &kquota_net::ClusterMetadata) -> Self {
        match md.topics.get(topic).map(|t| t.error_code) {
            // 3 UNKNOWN_TOPIC_OR_PARTITION, 17 INVALID_TOPIC_EXCEPTION.
            Some(code) if code != 0 && code != 3 && code != 17 => {
                ClientError::broker(format!("metadata for topic '{topic}'"), code, None)
            }
            _ => ClientError::UnknownTopic(topic.to_owned()),
        }
    }

    /// A connection-layer error with context.
    pub fn net<E: std::error::Error + Send + Sync + 'static>(
        context: impl Into<String>,
        e: E,
    ) -> Self {
        ClientError::Net {
            context: context.into(),
            source: Arc::new(e),
        }
    }

    /// Whether retrying the same request may succeed (leader moved, broker restarting, ...).
    pub fn is_retriable(&self) -> bool {
        match self {
            ClientError::Broker { code, .. } => is_retriable_code(*code),
            ClientError::Net { .. } => true,
            _ => false,
        }
    }
}

/// Whether a Kafka error code is worth retrying.
pub fn is_retriable_code(code: i16) -> bool {
    kafka_protocol::ResponseError::try_from_code(code).is_some_and(|e| e.is_retriable())
        // NOT_ENOUGH_REPLICAS_AFTER_APPEND is retriable in Java too.
        || code == 20
}
