//! Compression codec selection for produced record batches.
//!
//! Every Kafka codec is available and pure Rust: none, gzip and snappy are kafka-protocol's
//! encoders; lz4 (the Java client's frame settings: 64 KiB independent blocks, no checksums) and
//! zstd (ruzstd's fastest level, about zstd level 1) are compressed by
//! [`kquota_net::records::encode_batch`]. Fetched batches of every codec are decompressed with a
//! per-batch size cap by [`kquota_net::records::decode_batches`].

use std::str::FromStr;

use kafka_protocol::records::Compression as Codec;

use crate::error::ClientError;

/// A producer compression type (`compression.type`).
///
/// ```
/// use kquota_client::compression::CompressionType;
/// let c: CompressionType = "gzip".parse().unwrap();
/// assert_eq!(c, CompressionType::Gzip);
/// assert!("brotli".parse::<CompressionType>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CompressionType {
    /// No compression.
    #[default]
    None,
    /// gzip.
    Gzip,
    /// snappy (xerial framing, as the Java client).
    Snappy,
    /// lz4 (LZ4 frame format, as the Java client writes it).
    Lz4,
    /// zstd (needs Produce v7+, i.e. Kafka 2.1+; an older broker answers
    /// UNSUPPORTED_COMPRESSION_TYPE, error 76, which the producer reports per record).
    Zstd,
}

impl CompressionType {
    /// All names accepted by [`FromStr`].
    pub const NAMES: [&'static str; 5] = ["none", "gzip", "snappy", "lz4", "zstd"];

    /// The kafka-protocol codec, the batch attribute [`kquota_net::records::encode_batch`]
    /// compresses with.
    ///
    /// ```
    /// use kafka_protocol::records::Compression;
    /// use kquota_client::compression::CompressionType;
    /// assert_eq!(CompressionType::Zstd.codec(), Compression::Zstd);
    /// ```
    pub fn codec(self) -> Codec {
        match self {
            CompressionType::None => Codec::None,
            CompressionType::Gzip => Codec::Gzip,
            CompressionType::Snappy => Codec::Snappy,
            CompressionType::Lz4 => Codec::Lz4,
            CompressionType::Zstd => Codec::Zstd,
        }
    }

    /// The Kafka name.
    pub fn name(self) -> &'static str {
        match self {
            CompressionType::None => "none",
            CompressionType::Gzip => "gzip",
            CompressionType::Snappy => "snappy",
            CompressionType::Lz4 => "lz4",
            CompressionType::Zstd => "zstd",
        }
    }
}

impl FromStr for CompressionType {
    type Err = ClientError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "" => Ok(CompressionType::None),
            "gzip" => Ok(CompressionType::Gzip),
            "snappy" => Ok(CompressionType::Snappy),
            "lz4" => Ok(CompressionType::Lz4),
            "zstd" => Ok(CompressionType::Zstd),
            other => Err(ClientError::Config(format!(
                "unknown compression type '{other}' (expected one of: {})",
                CompressionType::NAMES.join(", ")
            ))),
        }
    }
}

impl std::fmt::Display for CompressionType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::{Bytes, BytesMut};
    use kafka_protocol::records::{Record, TimestampType};

    #[test]
    fn names_round_trip_and_unknown_is_clear() {
        for n in CompressionType::NAMES {
            assert_eq!(n.parse::<CompressionType>().unwrap().name(), n);
        }
        let e = "lzma".parse::<CompressionType>().unwrap_err().to_string();
        assert!(e.contains("unknown compression type 'lzma'"), "{e}");
        assert_eq!(
            "ZSTD".parse::<CompressionType>().unwrap(),
            CompressionType::Zstd
        );
    }

    #[test]
    fn every_codec_round_trips_a_batch() {
        for n in CompressionType::NAMES {
            let c: CompressionType = n.parse().unwrap();
            let rec = Record {
                transactional: false,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: -1,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset: 0,
                sequence: -1,
                timestamp: 1,
                key: None,
                value: Some(Bytes::from(vec![b'x'; 500])),
                headers: Default::default(),
            };
            let mut buf = BytesMut::new();
            kquota_net::records::encode_batch(&mut buf, [&rec], c.codec()).unwrap();
            if c != CompressionType::None {
                assert!(buf.len() < 200, "{c} did not compress: {}", buf.len());
            }
            let (sets, _) = kquota_net::records::decode_batches(buf.freeze()).unwrap();
            assert_eq!(sets[0].compression, c.codec());
            assert_eq!(sets[0].records[0].value, rec.value);
        }
    }

    #[test]
    fn unsupported_compression_from_the_broker_is_named() {
        // What a pre-2.1 broker (or a Produce request below v7) answers to a zstd batch.
        let e = ClientError::broker("produce to t-0 on broker 1", 76, None).to_string();
        assert!(
            e.contains("76") && e.contains("UnsupportedCompressionType"),
            "{e}"
        );
        assert!(!ClientError::broker("x", 76, None).is_retriable());
    }
}
