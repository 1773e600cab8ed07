//! Compression codec selection for produced record batches.
//!
//! none, gzip and snappy are pure Rust inside `kafka-protocol`. lz4 and zstd would pull C
//! libraries through kafka-protocol's own features, so they are refused with a clear error in
//! this build (see the crate docs).

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
    /// lz4 (not available in this build).
    Lz4,
    /// zstd (not available in this build).
    Zstd,
}

impl CompressionType {
    /// All names accepted by [`FromStr`].
    pub const NAMES: [&'static str; 5] = ["none", "gzip", "snappy", "lz4", "zstd"];

    /// The kafka-protocol codec, or an error when this build cannot encode it.
    pub fn codec(self) -> Result<Codec, ClientError> {
        match self {
            CompressionType::None => Ok(Codec::None),
            CompressionType::Gzip => Ok(Codec::Gzip),
            CompressionType::Snappy => Ok(Codec::Snappy),
            CompressionType::Lz4 | CompressionType::Zstd => Err(ClientError::Config(format!(
                "compression '{}' is not available in this build (supported: none, gzip, snappy)",
                self.name()
            ))),
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
    use kafka_protocol::records::{
        Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
    };

    #[test]
    fn names_round_trip_and_unknown_is_clear() {
        for n in CompressionType::NAMES {
            assert_eq!(n.parse::<CompressionType>().unwrap().name(), n);
        }
        let e = "lzma".parse::<CompressionType>().unwrap_err().to_string();
        assert!(e.contains("unknown compression type 'lzma'"), "{e}");
        assert!(CompressionType::Zstd
            .codec()
            .unwrap_err()
            .to_string()
            .contains("not available"));
    }

    #[test]
    fn supported_codecs_round_trip_a_batch() {
        for c in [
            CompressionType::None,
            CompressionType::Gzip,
            CompressionType::Snappy,
        ] {
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
            RecordBatchEncoder::encode(
                &mut buf,
                [&rec],
                &RecordEncodeOptions {
                    version: 2,
                    compression: c.codec().unwrap(),
                },
            )
            .unwrap();
            if c != CompressionType::None {
                assert!(buf.len() < 200, "{c} did not compress: {}", buf.len());
            }
            let mut b = buf.freeze();
            let set = RecordBatchDecoder::decode(&mut b).unwrap();
            assert_eq!(set.records[0].value, rec.value);
        }
    }
}
