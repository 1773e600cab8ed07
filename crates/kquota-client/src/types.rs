//! Records and their metadata, shared by the producer and the consumer.

use std::sync::Arc;

use bytes::Bytes;

/// A topic and partition.
///
/// Topic names are `Arc<str>` here and in the record types: every record of a run names the
/// same few topics, and cloning an `Arc` is a counter increment where a `String` would be an
/// allocation per record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition index.
    pub partition: i32,
}

impl TopicPartition {
    /// `TopicPartition::new("Topic-B", 2)`.
    pub fn new(topic: impl Into<Arc<str>>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl std::fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// A record to produce.
///
/// ```
/// use kquota_client::ProducerRecord;
/// let r = ProducerRecord::new("Topic-B", "hello").with_key("k1");
/// assert_eq!(r.key.as_deref(), Some(&b"k1"[..]));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ProducerRecord {
    /// Target topic.
    pub topic: Arc<str>,
    /// Explicit partition; `None` lets the partitioner choose.
    pub partition: Option<i32>,
    /// Key (murmur2-partitioned when set).
    pub key: Option<Bytes>,
    /// Value.
    pub value: Option<Bytes>,
    /// Headers.
    pub headers: Vec<(String, Option<Bytes>)>,
    /// Creation timestamp in ms since the epoch; `None` means now.
    pub timestamp: Option<i64>,
}

impl ProducerRecord {
    /// A record with a value and no key.
    pub fn new(topic: impl Into<Arc<str>>, value: impl Into<Bytes>) -> Self {
        ProducerRecord {
            topic: topic.into(),
            partition: None,
            key: None,
            value: Some(value.into()),
            headers: Vec::new(),
            timestamp: None,
        }
    }

    /// Sets the key.
    pub fn with_key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets an explicit partition.
    pub fn with_partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Adds a header.
    pub fn with_header(mut self, key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.headers.push((key.into(), Some(value.into())));
        self
    }

    /// Upper-bound estimate of the record's size inside a v2 batch (Java's
    /// `DefaultRecord.sizeInBytes` upper bound: varint overheads at their maximum).
    pub fn estimated_size(&self) -> usize {
        let kv =
            self.key.as_ref().map_or(0, |k| k.len()) + self.value.as_ref().map_or(0, |v| v.len());
        let headers: usize = self
            .headers
            .iter()
            .map(|(k, v)| k.len() + v.as_ref().map_or(0, |v| v.len()) + 10)
            .sum();
        21 + kv + headers
    }
}

/// Where an acknowledged record was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    /// Topic.
    pub topic: Arc<str>,
    /// Partition.
    pub partition: i32,
    /// Offset in the partition (-1 with acks=0, which gets no answer).
    pub offset: i64,
    /// Timestamp the broker stored (create time unless the topic uses log-append time).
    pub timestamp: i64,
}

/// A record read by the consumer.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerRecord {
    /// Topic.
    pub topic: Arc<str>,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Timestamp.
    pub timestamp: i64,
    /// Key.
    pub key: Option<Bytes>,
    /// Value.
    pub value: Option<Bytes>,
    /// Headers.
    pub headers: Vec<(String, Option<Bytes>)>,
}
