//! Record batches: encode produced batches with every Kafka codec, and decode the complete
//! batches of a Fetch response, stopping at a batch the broker cut at `max_bytes` (KIP-74 allows
//! a truncated trailing batch) and reporting corruption as errors.
//!
//! Compression is pure Rust: gzip and snappy through kafka-protocol (encoding) and `flate2`/`snap`
//! (bounded decoding, below); lz4 and zstd through kafka-protocol's custom-compression hooks with
//! `lz4_flex` (LZ4 frame format) and `ruzstd`, because kafka-protocol's own lz4/zstd features
//! link C libraries (lz4-sys, zstd-sys).
//!
//! # Kafka's LZ4 framing
//!
//! Kafka's LZ4 batches are standard LZ4 frames (v1.5.1 of the frame format) with restrictions,
//! from `clients/src/main/java/org/apache/kafka/common/compress/Lz4BlockOutputStream.java` and
//! `Lz4BlockInputStream.java` (apache/kafka, checked against kafka-clients-4.1.1.jar):
//!
//! - the Java reader (used by the broker to validate produced batches and by the Java consumer)
//!   accepts FLG version 01 only, reserved bits 0, and **independent blocks only** (`FLG.validate`:
//!   "Dependent block stream is unsupported"); BD block max size 4..=7 (64 KiB..4 MiB), reserved
//!   bits 0; an optional 8-byte content size (skipped); the header checksum byte
//!   `(xxh32(FLG..) >> 8) & 0xff`, the standard one for magic v2 batches (the "broken" checksum
//!   over the magic too is only for magic v0 message sets, `Lz4Compression.java`); optional block
//!   checksums (verified); the content checksum flag is accepted, 4.1.1 does not read the
//!   checksum after the end mark (later trunk versions verify it);
//! - the Java writer (`Lz4BlockOutputStream(out, level, broken)` → block size value 4 = 64 KiB,
//!   no block checksum) writes FLG `0x60` (version 01, independent blocks, no checksums, no
//!   content size) and BD `0x40` (64 KiB), stores a block uncompressed (high bit of the block
//!   size) when it does not shrink, and ends with a 0 end mark and no content checksum.
//!
//! We write exactly that descriptor ([`LZ4_FLG`], [`LZ4_BD`]; tested against a Java-made batch),
//! and read anything the LZ4 frame format allows (linked blocks and checksums too).
//!
//! # Kafka's zstd framing
//!
//! `ZstdCompression.java` (`ZstdFactory.java` in older releases) wraps zstd-jni's
//! `ZstdOutputStreamNoFinalizer` / `ZstdInputStreamNoFinalizer`: a batch's records section is
//! one standard zstd frame from the streaming API, with no content size and the level's window
//! (a batch from the 4.1.1 Java producer at the default level 3 starts `28 b5 2f fd 00 58`:
//! descriptor 0x58, a 2 MiB window). We write one frame with ruzstd's `Fastest` level (about
//! zstd level 1; its other levels are not implemented) and read one or more frames, skipping
//! skippable frames and verifying the content checksum when present. The broker takes zstd
//! only in Produce v7+ (`ProduceRequest.validateRecords`: "Produce requests with version N are
//! not allowed to use ZStandard compression", error 76 UNSUPPORTED_COMPRESSION_TYPE); the
//! producer surfaces that code as a broker error.

use std::io::{Read, Write};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, RecordSet,
};

/// Bytes before a batch's payload that tell its size: base offset (8) + batch length (4).
const BATCH_LENGTH_PREFIX: usize = 12;
/// Smallest v2 batch after the length field (partition leader epoch .. records count).
const MIN_V2_BATCH_LEN: usize = 49;

/// Default cap on one batch's uncompressed size (a decompression bomb is an error, not an
/// allocation of whatever the compressed bytes expand to).
pub const DEFAULT_MAX_UNCOMPRESSED: usize = 128 << 20;

/// xerial snappy-java framing header (Kafka's snappy batches).
const XERIAL_MAGIC: &[u8] = &[0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];

/// The LZ4 FLG byte Kafka's Java client writes (`Lz4BlockOutputStream.java`): version 01,
/// independent blocks (required by the Java reader), no block or content checksum, no content
/// size. [`encode_batch`] writes the same.
pub const LZ4_FLG: u8 = 0x60;
/// The LZ4 BD byte Kafka's Java client writes: block maximum size value 4, 64 KiB blocks.
pub const LZ4_BD: u8 = 0x40;

/// lz4_flex settings for [`LZ4_FLG`] and [`LZ4_BD`].
fn lz4_frame_info() -> lz4_flex::frame::FrameInfo {
    lz4_flex::frame::FrameInfo::new()
        .block_size(lz4_flex::frame::BlockSize::Max64KB)
        .block_mode(lz4_flex::frame::BlockMode::Independent)
        .block_checksums(false)
        .content_checksum(false)
        .content_size(None)
}

/// Smallest zstd window a frame may declare whatever the output cap (libzstd's streaming
/// window at level 19 is 8 MiB; Kafka's default level 3 uses 2 MiB).
const ZSTD_MIN_WINDOW_CAP: usize = 8 << 20;

/// A record batch that cannot be decoded (or encoded).
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
    /// Records could not be encoded (e.g. a record too large, or a codec failure).
    #[error("cannot encode record batch ({compression:?}): {detail}")]
    Encode {
        /// The codec that was asked for.
        compression: Compression,
        /// Codec message.
        detail: String,
    },
}

/// Encodes `records` as v2 record batches appended to `buf` (one batch when the records share
/// producer id, epoch and flags, as a producer's batch does), compressed with `compression`.
///
/// none, gzip and snappy are kafka-protocol's encoders; lz4 (Kafka's frame settings, see
/// [`LZ4_FLG`]) and zstd (ruzstd, `Fastest`) are compressed here through
/// `RecordBatchEncoder::encode_with_custom_compression`.
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use kafka_protocol::records::{Compression, Record, TimestampType};
/// use kquota_net::records::{decode_batches, encode_batch};
/// let rec = Record {
///     transactional: false, control: false, delete_horizon: false,
///     partition_leader_epoch: -1, producer_id: -1, producer_epoch: -1,
///     timestamp_type: TimestampType::Creation, offset: 0, sequence: -1, timestamp: 1,
///     key: None, value: Some(Bytes::from_static(b"hello")), headers: Default::default(),
/// };
/// for c in [Compression::Lz4, Compression::Zstd] {
///     let mut buf = BytesMut::new();
///     encode_batch(&mut buf, [&rec], c).unwrap();
///     let (sets, _) = decode_batches(buf.freeze()).unwrap();
///     assert_eq!(sets[0].compression, c);
///     assert_eq!(sets[0].records[0].value, rec.value);
/// }
/// ```
pub fn encode_batch<'a, I>(
    buf: &mut BytesMut,
    records: I,
    compression: Compression,
) -> Result<(), RecordsError>
where
    I: IntoIterator<Item = &'a Record>,
    I::IntoIter: Clone,
{
    let options = RecordEncodeOptions {
        version: 2,
        compression,
    };
    let result = match compression {
        Compression::Lz4 | Compression::Zstd => {
            let compress = |raw: &mut BytesMut, out: &mut BytesMut, c: Compression| {
                compress_into(raw, out, c).map_err(Into::into)
            };
            RecordBatchEncoder::encode_with_custom_compression(
                buf,
                records,
                &options,
                Some(compress),
            )
        }
        _ => RecordBatchEncoder::encode(buf, records, &options),
    };
    result.map_err(|e| RecordsError::Encode {
        compression,
        detail: e.to_string(),
    })
}

/// Compresses a batch's encoded records (`raw`) into `out` with lz4 or zstd.
fn compress_into(raw: &[u8], out: &mut BytesMut, c: Compression) -> std::io::Result<()> {
    match c {
        Compression::Lz4 => {
            let mut enc =
                lz4_flex::frame::FrameEncoder::with_frame_info(lz4_frame_info(), out.writer());
            enc.write_all(raw)?;
            enc.finish().map_err(std::io::Error::other)?;
            Ok(())
        }
        Compression::Zstd => {
            // Writing to a BytesMut cannot fail, so ruzstd's internal unwraps cannot fire.
            ruzstd::encoding::compress(
                raw,
                out.writer(),
                ruzstd::encoding::CompressionLevel::Fastest,
            );
            Ok(())
        }
        other => Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!("{other:?} is not compressed here"),
        )),
    }
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

/// [`decode_batches`] with an explicit cap on each batch's uncompressed size. Every codec is
/// decompressed here with the cap enforced while decompressing: gzip, snappy (raw and
/// xerial-framed), lz4 (frame format) and zstd (one or more frames; a frame whose declared
/// window exceeds the larger of the cap and 8 MiB is refused before anything is allocated).
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

/// The offset after the last complete record batch in a partition's `records` bytes, read from
/// the batch headers only (base offset + last offset delta + 1, as Java's `nextOffset()`),
/// without checking or decoding the records; `from` when no batch is complete. A consumer
/// uses it to send its next Fetch while it still decodes this one.
///
/// ```
/// use bytes::Bytes;
/// use kquota_net::records::next_offset_after;
/// assert_eq!(next_offset_after(&Bytes::new(), 42), 42);
/// ```
pub fn next_offset_after(records: &[u8], from: i64) -> i64 {
    /// Where a v2 batch's lastOffsetDelta starts: baseOffset (8), batchLength (4),
    /// partitionLeaderEpoch (4), magic (1), crc (4), attributes (2).
    const LAST_OFFSET_DELTA_AT: usize = 23;
    let mut next = from;
    let mut rest = records;
    while rest.len() >= BATCH_LENGTH_PREFIX {
        let len = i32::from_be_bytes([rest[8], rest[9], rest[10], rest[11]]);
        if len < 0 || (len as usize) < MIN_V2_BATCH_LEN {
            break;
        }
        let total = BATCH_LENGTH_PREFIX + len as usize;
        if rest.len() < total {
            break;
        }
        let base = i64::from_be_bytes(rest[0..8].try_into().unwrap_or([0; 8]));
        let d = &rest[LAST_OFFSET_DELTA_AT..LAST_OFFSET_DELTA_AT + 4];
        let last_delta = i32::from_be_bytes([d[0], d[1], d[2], d[3]]);
        next = next.max(base.saturating_add(i64::from(last_delta)).saturating_add(1));
        rest = &rest[total..];
    }
    next
}

fn too_big(limit: usize) -> std::io::Error {
    std::io::Error::other(format!("batch decompresses to more than {limit} bytes"))
}

/// Decompresses a batch's records section, never producing (or allocating) more than `limit`.
pub(crate) fn decompress_bounded(
    data: &mut Bytes,
    c: Compression,
    limit: usize,
) -> Result<Bytes, std::io::Error> {
    let input = data.split_off(0);
    match c {
        Compression::None => Ok(input),
        Compression::Gzip => read_capped(flate2::read::GzDecoder::new(&input[..]), limit),
        // lz4_flex's frame decoder allocates one block buffer from the BD byte (at most 8 MiB,
        // twice that plus 64 KiB for linked blocks), never from the content size field.
        Compression::Lz4 => read_capped(lz4_flex::frame::FrameDecoder::new(&input[..]), limit),
        Compression::Zstd => zstd_bounded(&input, limit),
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
    }
}

/// Reads `r` to the end, failing once it yields more than `limit` bytes.
fn read_capped(r: impl Read, limit: usize) -> Result<Bytes, std::io::Error> {
    let mut out = Vec::new();
    // Read one byte past the limit to tell "exactly at" from "over".
    r.take(limit as u64 + 1).read_to_end(&mut out)?;
    if out.len() > limit {
        return Err(too_big(limit));
    }
    Ok(out.into())
}

fn invalid(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, format!("zstd: {e}"))
}

/// Decompresses concatenated zstd frames (Kafka writes one), at most `limit` bytes in all.
fn zstd_bounded(input: &[u8], limit: usize) -> Result<Bytes, std::io::Error> {
    use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
    use ruzstd::decoding::{FrameDecoder, StreamingDecoder};

    let mut decoder = FrameDecoder::new();
    // The window is allocated when a frame starts: refuse a header claiming more up front.
    decoder.set_max_window_size(limit.max(ZSTD_MIN_WINDOW_CAP) as u64);
    let mut src = input;
    let mut out = Vec::new();
    while !src.is_empty() {
        let room = limit - out.len();
        let mut frame = match StreamingDecoder::new_with_decoder(&mut src, &mut decoder) {
            Ok(frame) => frame,
            Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                length,
                ..
            })) => {
                // The magic and length are read; skip the user data.
                src = src.get(length as usize..).ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "short skippable frame")
                })?;
                continue;
            }
            Err(e) => return Err(invalid(e)),
        };
        (&mut frame)
            .take(room as u64 + 1)
            .read_to_end(&mut out)
            .map_err(invalid)?;
        if out.len() > limit {
            return Err(too_big(limit));
        }
        let dec = frame.into_frame_decoder();
        if !dec.is_finished() {
            return Err(invalid("frame ends early"));
        }
        if let (Some(want), Some(got)) =
            (dec.get_checksum_from_data(), dec.get_calculated_checksum())
        {
            if want != got {
                return Err(invalid("content checksum mismatch"));
            }
        }
    }
    Ok(out.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::records::TimestampType;

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

    const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    fn two_batches(compression: Compression) -> (Bytes, usize) {
        let mut buf = BytesMut::new();
        encode_batch(&mut buf, [record(0, b"first")].iter(), compression).unwrap();
        let first_len = buf.len();
        encode_batch(&mut buf, [record(1, b"second")].iter(), compression).unwrap();
        (buf.freeze(), first_len)
    }

    /// One batch of `n` records whose values are `value` repeated.
    fn big_batch(compression: Compression, n: usize, value: &[u8]) -> Bytes {
        let value = Bytes::copy_from_slice(value);
        let recs: Vec<Record> = (0..n)
            .map(|i| Record {
                value: Some(value.clone()),
                // kafka-protocol starts a new batch when offset - sequence changes.
                sequence: i as i32 - 1,
                ..record(i as i64, b"")
            })
            .collect();
        let mut buf = BytesMut::new();
        encode_batch(&mut buf, &recs, compression).unwrap();
        buf.freeze()
    }

    /// The compressed records section of a single batch (after the 61-byte v2 header).
    fn section(batch: &[u8]) -> Bytes {
        Bytes::copy_from_slice(&batch[61..])
    }

    #[test]
    fn next_offset_after_reads_the_batch_headers_and_skips_a_truncated_tail() {
        let (bytes, first_len) = two_batches(Compression::None);
        let (batches, _) = decode_batches(bytes.clone()).unwrap();
        let last = batches.last().unwrap().records.last().unwrap().offset;
        assert_eq!(next_offset_after(&bytes, 0), last + 1);
        // A cut trailing batch counts for nothing; garbage stops the scan.
        let first_last = batches[0].records.last().unwrap().offset;
        assert_eq!(
            next_offset_after(&bytes[..bytes.len() - 1], 0),
            first_last + 1
        );
        assert_eq!(next_offset_after(&bytes[..first_len], 0), first_last + 1);
        assert_eq!(next_offset_after(&[0xff; 40], 7), 7);
        // Never moves backwards.
        assert_eq!(next_offset_after(&bytes, i64::MAX), i64::MAX);
    }

    #[test]
    fn complete_batches_decode() {
        for c in ALL {
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

    #[test]
    fn every_codec_round_trips_through_encode_batch() {
        // Compressible and incompressible values, one record and many, across 64 KiB LZ4 blocks.
        let mut noise = vec![0u8; 70_000];
        let mut x = 0x2545_f491_u32;
        for b in noise.iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        for c in ALL {
            for (n, value) in [(1, &b"v"[..]), (500, &[b'x'; 1000][..]), (3, &noise[..])] {
                let wire = big_batch(c, n, value);
                let (sets, truncated) = decode_batches(wire.clone()).unwrap();
                assert!(!truncated);
                assert_eq!(sets.len(), 1, "{c:?}");
                assert_eq!(sets[0].compression, c);
                assert_eq!(sets[0].records.len(), n);
                assert!(sets[0]
                    .records
                    .iter()
                    .all(|r| r.value.as_deref() == Some(value)));
                if c != Compression::None && n == 500 {
                    assert!(
                        wire.len() < 50_000,
                        "{c:?} did not compress: {}",
                        wire.len()
                    );
                }
            }
        }
    }

    #[test]
    fn lz4_frames_use_the_java_clients_descriptor() {
        let wire = big_batch(Compression::Lz4, 200, &[b'y'; 1000]);
        let s = section(&wire);
        // Magic 0x184D2204 little-endian, then FLG and BD as Lz4BlockOutputStream.java writes them.
        assert_eq!(&s[..4], &[0x04, 0x22, 0x4d, 0x18]);
        assert_eq!((s[4], s[5]), (LZ4_FLG, LZ4_BD));
        // Ends with the 0 end mark and no content checksum.
        assert_eq!(&s[s.len() - 4..], &[0, 0, 0, 0]);
        // 200 KB of values: several 64 KiB blocks, each no bigger than 64 KiB.
        let mut at = 7;
        let mut blocks = 0;
        loop {
            let n = u32::from_le_bytes(s[at..at + 4].try_into().unwrap()) & 0x7fff_ffff;
            if n == 0 {
                break;
            }
            assert!(n as usize <= 64 * 1024);
            at += 4 + n as usize;
            blocks += 1;
        }
        assert!(blocks >= 3, "{blocks} blocks");
        assert_eq!(at + 4, s.len());
    }

    #[test]
    fn lz4_and_zstd_decompression_is_capped() {
        for c in [Compression::Lz4, Compression::Zstd] {
            // ~1 MB of records that compress to a few KB.
            let wire = big_batch(c, 1000, &[b'z'; 1000]);
            assert!(wire.len() < 50_000, "{c:?}: {}", wire.len());
            assert_eq!(
                decode_batches_limited(wire.clone(), 2 << 20)
                    .unwrap()
                    .0
                    .len(),
                1
            );
            let e = decode_batches_limited(wire.clone(), 64 << 10).unwrap_err();
            assert!(
                e.to_string().contains("more than 65536 bytes"),
                "{c:?}: {e}"
            );
            // Exactly at the limit is fine, one byte less is not.
            let exact = decompress_bounded(&mut section(&wire), c, usize::MAX >> 1)
                .unwrap()
                .len();
            assert!(decompress_bounded(&mut section(&wire), c, exact).is_ok());
            let e = decompress_bounded(&mut section(&wire), c, exact - 1).unwrap_err();
            assert!(e.to_string().contains("more than"), "{c:?}: {e}");
        }
    }

    #[test]
    fn lz4_and_zstd_bombs_stop_at_the_cap() {
        // 64 MiB of zeros compress to a few hundred KB; the cap stops decoding at 1 MiB.
        let zeros = vec![0u8; 64 << 20];
        let mut lz4 = BytesMut::new();
        compress_into(&zeros, &mut lz4, Compression::Lz4).unwrap();
        let mut zstd = BytesMut::new();
        compress_into(&zeros, &mut zstd, Compression::Zstd).unwrap();
        drop(zeros);
        for (c, mut bomb) in [
            (Compression::Lz4, lz4.freeze()),
            (Compression::Zstd, zstd.freeze()),
        ] {
            assert!(bomb.len() < 1 << 20, "{c:?}: {}", bomb.len());
            let e = decompress_bounded(&mut bomb, c, 1 << 20).unwrap_err();
            assert!(
                e.to_string().contains("more than 1048576 bytes"),
                "{c:?}: {e}"
            );
        }
    }

    #[test]
    fn headers_claiming_huge_sizes_are_errors() {
        let zstd = |b: &'static [u8]| {
            decompress_bounded(&mut Bytes::from_static(b), Compression::Zstd, 1 << 20)
                .unwrap_err()
                .to_string()
        };
        // zstd magic, FHD 0 (no single segment), window descriptor exponent 31: a 2 TiB window.
        let e = zstd(&[0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8]);
        assert!(e.contains("window"), "{e}");
        // 128 MiB window (exponent 17) with a 1 MiB cap: over the 8 MiB floor, refused.
        let e = zstd(&[0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x88]);
        assert!(e.contains("window"), "{e}");
        // Single segment, 8-byte content size u64::MAX: the window is the content size.
        let e = zstd(&[
            0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ]);
        assert!(e.contains("window"), "{e}");
        // LZ4: a 4 MiB-block frame claiming u64::MAX content, whose first block says 2 GiB.
        let mut lz4 = vec![0x04, 0x22, 0x4d, 0x18, 0x68, 0x70];
        lz4.extend_from_slice(&u64::MAX.to_le_bytes());
        lz4.push(0); // header checksum (wrong; an error either way)
        lz4.extend_from_slice(&0x7fff_ffffu32.to_le_bytes());
        assert!(decompress_bounded(&mut Bytes::from(lz4), Compression::Lz4, 1 << 20).is_err());
        // A valid header (Java's FLG/BD) and a compressed block longer than 64 KiB.
        let mut hdr = BytesMut::new();
        compress_into(b"", &mut hdr, Compression::Lz4).unwrap();
        let mut lz4 = hdr[..7].to_vec();
        lz4.extend_from_slice(&(100_000u32).to_le_bytes());
        lz4.extend_from_slice(&[0; 16]);
        let e = decompress_bounded(&mut Bytes::from(lz4), Compression::Lz4, 1 << 20).unwrap_err();
        assert!(!e.to_string().is_empty());
    }

    #[test]
    fn zstd_reads_concatenated_and_skippable_frames_and_checks_the_checksum() {
        let mut input = ruzstd::encoding::compress_to_vec(
            &b"hello "[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        // Skippable frame: magic 0x184D2A50..5F, 4-byte length, user data.
        input.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
        input.extend(ruzstd::encoding::compress_to_vec(
            &b"world"[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        ));
        let out =
            decompress_bounded(&mut Bytes::from(input.clone()), Compression::Zstd, 100).unwrap();
        assert_eq!(&out[..], b"hello world");
        // The cap counts all frames together.
        assert!(
            decompress_bounded(&mut Bytes::from(input.clone()), Compression::Zstd, 10).is_err()
        );
        // ruzstd writes a content checksum; a wrong one is an error.
        let last = input.len() - 1;
        input[last] ^= 1;
        let e = decompress_bounded(&mut Bytes::from(input), Compression::Zstd, 100).unwrap_err();
        assert!(e.to_string().contains("checksum"), "{e}");
        // Trailing bytes after the last frame that are not a frame are an error.
        let mut input = ruzstd::encoding::compress_to_vec(
            &b"x"[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        input.extend_from_slice(&[1, 2, 3, 4, 5]);
        assert!(decompress_bounded(&mut Bytes::from(input), Compression::Zstd, 100).is_err());
    }

    /// Batches written by Kafka's own Java producer (kafka-clients 4.1.1, via
    /// `org.apache.kafka.tools.ConsoleProducer --compression-codec lz4|zstd`), fetched from a
    /// broker with `compression.type=producer` so the bytes are the producer's; regenerate with
    /// `KQUOTA_WRITE_GOLDEN=1 cargo test -p kquota-client --test produce_consume java_`.
    #[test]
    fn batches_from_the_java_producer_decode() {
        for (c, wire) in [
            (
                Compression::Lz4,
                &include_bytes!("../../../testdata/records/java-lz4.bin")[..],
            ),
            (
                Compression::Zstd,
                &include_bytes!("../../../testdata/records/java-zstd.bin")[..],
            ),
        ] {
            let (sets, truncated) = decode_batches(Bytes::from_static(wire)).unwrap();
            assert!(!truncated);
            let values: Vec<String> = sets
                .iter()
                .inspect(|s| assert_eq!(s.compression, c))
                .flat_map(|s| &s.records)
                .map(|r| String::from_utf8(r.value.as_deref().unwrap().to_vec()).unwrap())
                .collect();
            let prefix = format!("java-{c:?}-").to_lowercase();
            let want: Vec<String> = (0..values.len()).map(|i| format!("{prefix}{i}")).collect();
            assert!(values.len() >= 100, "{c:?}: {} records", values.len());
            assert_eq!(values, want);
            if c == Compression::Lz4 {
                // The Java writer's descriptor is the one we write.
                let s = section(wire);
                assert_eq!(&s[..6], &[0x04, 0x22, 0x4d, 0x18, LZ4_FLG, LZ4_BD]);
            } else {
                assert_eq!(&section(wire)[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
            }
        }
    }

    #[test]
    fn mangled_lz4_and_zstd_sections_are_errors_not_panics() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for c in [Compression::Lz4, Compression::Zstd] {
            let clean = section(&big_batch(c, 50, b"some text that compresses, some text"));
            for _ in 0..3000 {
                let mut m = clean.to_vec();
                for _ in 0..rng.gen_range(1..4) {
                    let i = rng.gen_range(0..m.len());
                    m[i] = rng.gen();
                }
                if rng.gen_bool(0.2) {
                    m.truncate(rng.gen_range(0..m.len()));
                }
                let _ = decompress_bounded(&mut Bytes::from(m), c, 1 << 20);
            }
        }
    }
}
