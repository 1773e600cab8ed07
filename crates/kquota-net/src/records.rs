//! Record batches in Fetch responses: decode the complete ones, stop at a batch the broker cut
//! at `max_bytes` (KIP-74 allows a truncated trailing batch), report corruption as errors.

use std::io::Read;

use bytes::{Buf, Bytes};
use kafka_protocol::records::{Compression, RecordBatchDecoder, RecordSet};

/// Bytes before a batch's payload that tell its size: base offset (8) + batch length (4).
const BATCH_LENGTH_PREFIX: usize = 12;
/// Smallest v2 batch after the length field (partition leader epoch .. records count).
const MIN_V2_BATCH_LEN: usize = 49;

/// Default cap on one batch's uncompressed size (a decompression bomb is an error, not an
/// allocation of whatever the compressed bytes expand to).
pub const DEFAULT_MAX_UNCOMPRESSED: usize = 128 << 20;

/// xerial snappy-java framing header (Kafka's snappy batches).
const XERIAL_MAGIC: &[u8] = &[0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];

/// A record batch that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordsError {
    /// The batch header is impossible (negative or too small length).
    #[error("corrupt record batch at byte {position}: {detail}")]
    Corrupt {
        /// Byte position of the batch in the records field.
        position: usize,
        /// What was wrong.
        detail: String,
    },
    /// The batch is complete but does not decode (bad CRC, bad compression, bad record...).
    #[error("cannot decode record batch at byte {position} (base offset {base_offset}): {detail}")]
    Decode {
        /// Byte position of the batch in the records field.
        position: usize,
        /// The batch's base offset.
        base_offset: i64,
        /// Codec message (e.g. "Cyclic redundancy check failed").
        detail: String,
    },
}

/// Decodes every complete record batch in a partition's `records` bytes, each batch's
/// uncompressed size capped at [`DEFAULT_MAX_UNCOMPRESSED`]; see [`decode_batches_limited`].
///
/// Returns the batches and whether a truncated trailing batch was dropped (normal at the end of
/// a Fetch response: fetch again from the next offset). A bad CRC or other corruption in a
/// complete batch is an error.
///
/// ```
/// use bytes::Bytes;
/// use kquota_net::records::decode_batches;
/// let (batches, truncated) = decode_batches(Bytes::new()).unwrap();
/// assert!(batches.is_empty() && !truncated);
/// // 12 header bytes announcing a 100-byte batch, only 3 of which arrived:
/// let cut = Bytes::from_static(&[0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 100, 1, 2, 3]);
/// assert_eq!(decode_batches(cut).unwrap().1, true);
/// ```
pub fn decode_batches(bytes: Bytes) -> Result<(Vec<RecordSet>, bool), RecordsError> {
    decode_batches_limited(bytes, DEFAULT_MAX_UNCOMPRESSED)
}

/// [`decode_batches`] with an explicit cap on each batch's uncompressed size. gzip and snappy
/// (raw and xerial-framed) are decompressed here with the cap enforced while decompressing;
/// lz4 and zstd batches are errors (kquota builds without those C codecs).
///
/// ```
/// use bytes::Bytes;
/// let (b, truncated) = kquota_net::records::decode_batches_limited(Bytes::new(), 1 << 20).unwrap();
/// assert!(b.is_empty() && !truncated);
/// ```
pub fn decode_batches_limited(
    mut bytes: Bytes,
    max_uncompressed: usize,
) -> Result<(Vec<RecordSet>, bool), RecordsError> {
    let mut batches = Vec::new();
    let mut position = 0usize;
    while bytes.has_remaining() {
        if bytes.len() < BATCH_LENGTH_PREFIX {
            return Ok((batches, true));
        }
        let base_offset = i64::from_be_bytes(bytes[0..8].try_into().unwrap_or([0; 8]));
        let len = i32::from_be_bytes(bytes[8..12].try_into().unwrap_or([0; 4]));
        if len < 0 || (len as usize) < MIN_V2_BATCH_LEN {
            return Err(RecordsError::Corrupt {
                position,
                detail: format!("batch length {len} is impossible"),
            });
        }
        let total = BATCH_LENGTH_PREFIX + len as usize;
        if bytes.len() < total {
            return Ok((batches, true));
        }
        let mut batch = bytes.split_to(total);
        let decompress = |data: &mut Bytes, c: Compression| {
            decompress_bounded(data, c, max_uncompressed).map_err(Into::into)
        };
        let set = RecordBatchDecoder::decode_with_custom_compression(&mut batch, Some(decompress))
            .map_err(|e| RecordsError::Decode {
                position,
                base_offset,
                detail: e.to_string(),
            })?;
        batches.push(set);
        position += total;
    }
    Ok((batches, false))
}

fn too_big(limit: usize) -> std::io::Error {
    std::io::Error::other(format!("batch decompresses to more than {limit} bytes"))
}

/// Decompresses a batch's records section, never producing (or allocating) more than `limit`.
fn decompress_bounded(
    data: &mut Bytes,
    c: Compression,
    limit: usize,
) -> Result<Bytes, std::io::Error> {
    let input = data.split_off(0);
    match c {
        Compression::None => Ok(input),
        Compression::Gzip => {
            let mut out = Vec::new();
            // Read one byte past the limit to tell "exactly at" from "over".
            flate2::read::GzDecoder::new(&input[..])
                .take(limit as u64 + 1)
                .read_to_end(&mut out)?;
            if out.len() > limit {
                return Err(too_big(limit));
            }
            Ok(out.into())
        }
        Compression::Snappy => {
            let snappy_err = |e: snap::Error| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
            };
            if !input.starts_with(XERIAL_MAGIC) {
                // Raw snappy: the header announces the size; check it before allocating.
                let len = snap::raw::decompress_len(&input).map_err(snappy_err)?;
                if len > limit {
                    return Err(too_big(limit));
                }
                return snap::raw::Decoder::new()
                    .decompress_vec(&input)
                    .map(Into::into)
                    .map_err(snappy_err);
            }
            // xerial framing: 16-byte header, then blocks of [u32 length][raw snappy block].
            let mut rest = input.get(16..).ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "short xerial header")
            })?;
            let mut out = Vec::new();
            while !rest.is_empty() {
                if rest.len() < 4 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "short snappy block length",
                    ));
                }
                let n = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
                let block = rest.get(4..4 + n).ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "short snappy block")
                })?;
                let len = snap::raw::decompress_len(block).map_err(snappy_err)?;
                if out.len().saturating_add(len) > limit {
                    return Err(too_big(limit));
                }
                let start = out.len();
                out.resize(start + len, 0);
                snap::raw::Decoder::new()
                    .decompress(block, &mut out[start..])
                    .map_err(snappy_err)?;
                rest = &rest[4 + n..];
            }
            Ok(out.into())
        }
        other => Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!("{other:?} compression is not supported by this build (gzip and snappy are)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use kafka_protocol::records::{
        Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
    };

    fn record(offset: i64, value: &'static [u8]) -> Record {
        Record {
            transactional: false,
            control: false,
            partition_leader_epoch: 0,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset,
            sequence: -1,
            timestamp: 1_700_000_000_000,
            key: None,
            value: Some(Bytes::from_static(value)),
            headers: Default::default(),
            delete_horizon: false,
        }
    }

    fn two_batches(compression: Compression) -> (Bytes, usize) {
        let mut buf = BytesMut::new();
        let opts = RecordEncodeOptions {
            version: 2,
            compression,
        };
        RecordBatchEncoder::encode(&mut buf, [record(0, b"first")].iter(), &opts).unwrap();
        let first_len = buf.len();
        RecordBatchEncoder::encode(&mut buf, [record(1, b"second")].iter(), &opts).unwrap();
        (buf.freeze(), first_len)
    }

    #[test]
    fn complete_batches_decode() {
        for c in [Compression::None, Compression::Gzip, Compression::Snappy] {
            let (all, _) = two_batches(c);
            let (b, truncated) = decode_batches(all).unwrap();
            assert!(!truncated);
            assert_eq!(b.len(), 2);
            assert_eq!(b[1].records[0].value.as_deref(), Some(&b"second"[..]));
            assert_eq!(b[1].records[0].offset, 1);
        }
    }

    #[test]
    fn batch_cut_at_max_bytes_keeps_the_complete_ones() {
        let (all, first_len) = two_batches(Compression::None);
        for cut in [first_len + 1, first_len + 11, first_len + 12, all.len() - 1] {
            let (b, truncated) = decode_batches(all.slice(..cut)).unwrap();
            assert!(truncated, "cut at {cut}");
            assert_eq!(b.len(), 1);
            assert_eq!(b[0].records[0].value.as_deref(), Some(&b"first"[..]));
        }
    }

    #[test]
    fn bad_crc_is_a_typed_error() {
        let (all, first_len) = two_batches(Compression::None);
        let mut bad = BytesMut::from(&all[..]);
        let last = first_len + 70;
        bad[last] ^= 0xff; // inside the second batch's records: CRC no longer matches
        match decode_batches(bad.freeze()) {
            Err(RecordsError::Decode {
                position, detail, ..
            }) => {
                assert_eq!(position, first_len);
                assert!(detail.contains("Cyclic redundancy check"), "{detail}");
            }
            other => panic!("expected a CRC error, got {other:?}"),
        }
    }

    #[test]
    fn decompression_is_capped() {
        let (all, _) = two_batches(Compression::Gzip);
        assert_eq!(
            decode_batches_limited(all.clone(), 1 << 20)
                .unwrap()
                .0
                .len(),
            2
        );
        let e = decode_batches_limited(all, 4).unwrap_err();
        assert!(e.to_string().contains("more than 4 bytes"), "{e}");
        // Raw snappy announcing 4 GiB is refused before any allocation.
        let mut bomb = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0x0f, 0]);
        let e = decompress_bounded(&mut bomb, Compression::Snappy, 1 << 20).unwrap_err();
        assert!(e.to_string().contains("more than"), "{e}");
        let (all, _) = two_batches(Compression::Snappy);
        assert_eq!(
            decode_batches_limited(all.clone(), 1 << 20)
                .unwrap()
                .0
                .len(),
            2
        );
        assert!(decode_batches_limited(all, 4).is_err());
    }

    #[test]
    fn impossible_lengths_are_errors() {
        let neg = Bytes::from_static(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0]);
        assert!(matches!(
            decode_batches(neg),
            Err(RecordsError::Corrupt { .. })
        ));
        let small = Bytes::from_static(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0]);
        assert!(matches!(
            decode_batches(small),
            Err(RecordsError::Corrupt { .. })
        ));
    }

    #[test]
    fn huge_record_count_in_a_small_batch_is_an_error_not_an_abort() {
        let (all, first_len) = two_batches(Compression::None);
        let mut b = BytesMut::from(&all[..first_len]);
        // records count is the last 4 bytes of the 61-byte v2 header (offset 57..61).
        b[57..61].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(decode_batches(b.freeze()).is_err());
    }
}
