//! Kafka framing, sans-IO: a 4-byte big-endian size, then the header and body.
//!
//! [`FrameDecoder::decode`] follows the check-then-parse pattern: it looks at the size prefix,
//! rejects negative or oversized sizes *before* allocating anything, and returns `Ok(None)` when
//! the frame is not complete yet ("incomplete" is not an error). [`encode_request`] builds a whole
//! request frame; [`decode_response`] splits a response frame into correlation id and body.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};

/// Size of the length prefix.
pub const LENGTH_PREFIX: usize = 4;
/// Offset of the correlation id inside an encoded request frame (size, api key, api version).
pub const REQUEST_CORRELATION_OFFSET: usize = 8;
/// Bytes read from the socket at most per step while a large frame is incomplete, so an
/// announced size is never allocated up front.
pub const READ_CHUNK: usize = 64 * 1024;

/// A framing error. The stream cannot be resynchronised after one, so the connection is closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The size prefix is negative.
    #[error("negative frame size {0}")]
    NegativeSize(i32),
    /// The size prefix exceeds the configured maximum.
    #[error("frame of {size} bytes exceeds the maximum of {max} bytes")]
    TooLarge {
        /// Announced size.
        size: i64,
        /// Configured maximum.
        max: usize,
    },
}

/// Splits a byte stream into frames.
///
/// ```
/// use bytes::BytesMut;
/// use kquota_net::frame::FrameDecoder;
/// let d = FrameDecoder::new(1024);
/// let mut buf = BytesMut::from(&[0, 0, 0, 2, 0xAB][..]);
/// assert_eq!(d.decode(&mut buf).unwrap(), None); // one byte missing
/// buf.extend_from_slice(&[0xCD, 0, 0]);
/// assert_eq!(&d.decode(&mut buf).unwrap().unwrap()[..], &[0xAB, 0xCD]);
/// assert_eq!(&buf[..], &[0, 0]); // start of the next frame stays buffered
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FrameDecoder {
    max_frame: usize,
}

impl FrameDecoder {
    /// A decoder accepting frames up to `max_frame` bytes (without the prefix).
    pub fn new(max_frame: usize) -> Self {
        FrameDecoder { max_frame }
    }

    /// Checks the size prefix at the start of `buf`; `Ok(None)` if fewer than 4 bytes.
    pub fn check_size(&self, buf: &[u8]) -> Result<Option<usize>, FrameError> {
        let Some(prefix) = buf.get(..LENGTH_PREFIX) else {
            return Ok(None);
        };
        let size = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
        if size < 0 {
            return Err(FrameError::NegativeSize(size));
        }
        let size = size as usize;
        if size > self.max_frame {
            return Err(FrameError::TooLarge {
                size: size as i64,
                max: self.max_frame,
            });
        }
        Ok(Some(size))
    }

    /// Takes one complete frame (without its prefix) off the front of `buf`.
    pub fn decode(&self, buf: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        let Some(size) = self.check_size(buf)? else {
            return Ok(None);
        };
        if buf.len() < LENGTH_PREFIX + size {
            return Ok(None);
        }
        buf.advance(LENGTH_PREFIX);
        Ok(Some(buf.split_to(size)))
    }

    /// How many more bytes to make room for before the next read: what the current frame still
    /// needs, but at most [`READ_CHUNK`] (the announced size is not trusted for allocation).
    pub fn reserve_hint(&self, buf: &[u8]) -> usize {
        let needed = match self.check_size(buf) {
            Ok(Some(size)) => (LENGTH_PREFIX + size).saturating_sub(buf.len()),
            _ => LENGTH_PREFIX,
        };
        needed.clamp(LENGTH_PREFIX, READ_CHUNK)
    }
}

/// Encodes a whole request frame (size prefix, header, body).
///
/// ```
/// use kafka_protocol::messages::{ApiKey, ApiVersionsRequest};
/// let f = kquota_net::frame::encode_request(ApiKey::ApiVersions, 0, 7, Some("c"),
///     &ApiVersionsRequest::default()).unwrap();
/// // size=11, key=18, version=0, correlation=7, client id "c"
/// assert_eq!(&f[..], &[0, 0, 0, 11, 0, 18, 0, 0, 0, 0, 0, 7, 0, 1, b'c']);
/// ```
pub fn encode_request<R: Encodable + HeaderVersion>(
    api: ApiKey,
    version: i16,
    correlation_id: i32,
    client_id: Option<&str>,
    body: &R,
) -> Result<BytesMut, String> {
    let header = RequestHeader::default()
        .with_request_api_key(api as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(client_id.map(|c| StrBytes::from_string(c.to_owned())));
    let header_version = R::header_version(version);
    let size = header
        .compute_size(header_version)
        .map_err(|e| e.to_string())?
        + body.compute_size(version).map_err(|e| e.to_string())?;
    let size32 =
        i32::try_from(size).map_err(|_| format!("request of {size} bytes is too large"))?;
    let mut buf = BytesMut::with_capacity(LENGTH_PREFIX + size);
    buf.put_i32(size32);
    header
        .encode(&mut buf, header_version)
        .map_err(|e| e.to_string())?;
    body.encode(&mut buf, version).map_err(|e| e.to_string())?;
    Ok(buf)
}

/// Overwrites the correlation id of an encoded request frame.
pub fn set_correlation_id(frame: &mut [u8], correlation_id: i32) {
    if let Some(slot) = frame.get_mut(REQUEST_CORRELATION_OFFSET..REQUEST_CORRELATION_OFFSET + 4) {
        slot.copy_from_slice(&correlation_id.to_be_bytes());
    }
}

/// The correlation id at the start of a response frame (`None` if shorter than 4 bytes).
pub fn peek_correlation_id(frame: &[u8]) -> Option<i32> {
    let b = frame.get(..4)?;
    Some(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Decodes a response frame (without the size prefix) as `T` at `version`: the header
/// (version from `T::header_version`), then the body. Returns the correlation id and the body.
///
/// ```
/// use bytes::Bytes;
/// use kafka_protocol::messages::DescribeClientQuotasResponse;
/// // A hostile DescribeClientQuotas v0 response: entries count i32::MAX in 14 bytes.
/// let frame = Bytes::from_static(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff]);
/// assert!(kquota_net::frame::decode_response::<DescribeClientQuotasResponse>(frame, 0).is_err());
/// ```
pub fn decode_response<T: Decodable + HeaderVersion>(
    mut frame: Bytes,
    version: i16,
) -> Result<(i32, T), String> {
    if frame.len() < 4 {
        return Err(format!(
            "response frame of {} bytes is shorter than its header",
            frame.len()
        ));
    }
    let header = ResponseHeader::decode(&mut frame, T::header_version(version))
        .map_err(|e| format!("header: {e}"))?;
    let body = T::decode(&mut frame, version).map_err(|e| e.to_string())?;
    Ok((header.correlation_id, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::describe_client_quotas_request::ComponentData;
    use kafka_protocol::messages::{DescribeClientQuotasRequest, MetadataRequest};

    #[test]
    fn negative_and_oversized_sizes_are_rejected_before_allocation() {
        let d = FrameDecoder::new(1000);
        let mut neg = BytesMut::from(&[0xff, 0xff, 0xff, 0xfe][..]);
        assert_eq!(d.decode(&mut neg), Err(FrameError::NegativeSize(-2)));
        let mut huge = BytesMut::from(&[0x7f, 0xff, 0xff, 0xff][..]);
        assert_eq!(
            d.decode(&mut huge),
            Err(FrameError::TooLarge {
                size: i32::MAX as i64,
                max: 1000
            })
        );
        // The hint never asks for more than READ_CHUNK whatever the prefix says.
        let d = FrameDecoder::new(usize::MAX);
        assert_eq!(d.reserve_hint(&[0x7f, 0xff, 0xff, 0xff]), READ_CHUNK);
    }

    #[test]
    fn incomplete_prefix_and_body_wait_for_more() {
        let d = FrameDecoder::new(1000);
        let mut b = BytesMut::from(&[0, 0][..]);
        assert_eq!(d.decode(&mut b), Ok(None));
        b.extend_from_slice(&[0, 3, 1, 2]);
        assert_eq!(d.decode(&mut b), Ok(None));
        b.extend_from_slice(&[3]);
        assert_eq!(&d.decode(&mut b).unwrap().unwrap()[..], &[1, 2, 3]);
        assert!(b.is_empty());
        // A zero-size frame is a frame (the response decoder will reject it).
        let mut z = BytesMut::from(&[0, 0, 0, 0][..]);
        assert_eq!(d.decode(&mut z).unwrap().unwrap().len(), 0);
    }

    /// Golden bytes: DescribeClientQuotas v1 (flexible, request header v2), 50 bytes on the wire
    /// as measured in rust-ecosystem.md §1.
    #[test]
    fn describe_client_quotas_v1_golden_bytes() {
        let req = DescribeClientQuotasRequest::default()
            .with_strict(false)
            .with_components(vec![
                ComponentData::default()
                    .with_entity_type("user".into())
                    .with_match_type(0)
                    .with_match(Some("alice".into())),
                ComponentData::default()
                    .with_entity_type("client-id".into())
                    .with_match_type(2)
                    .with_match(None),
            ]);
        let f = encode_request(
            ApiKey::DescribeClientQuotas,
            1,
            0x01020304,
            Some("kptest"),
            &req,
        )
        .unwrap();
        #[rustfmt::skip]
        let want: &[u8] = &[
            0, 0, 0, 46,                 // size
            0, 48,                       // api key 48
            0, 1,                        // version 1
            1, 2, 3, 4,                  // correlation id
            0, 6, b'k', b'p', b't', b'e', b's', b't', // client id (nullable string, i16 length)
            0,                           // header tagged fields
            3,                           // components: compact array, 2 entries + 1
            5, b'u', b's', b'e', b'r',   // entity_type compact string
            0,                           // match_type 0 (exact)
            6, b'a', b'l', b'i', b'c', b'e', // match "alice"
            0,                           // tagged fields
            10, b'c', b'l', b'i', b'e', b'n', b't', b'-', b'i', b'd',
            2,                           // match_type 2 (any)
            0,                           // match null
            0,                           // tagged fields
            0,                           // strict = false
            0,                           // tagged fields
        ];
        assert_eq!(&f[..], want);
        assert_eq!(f.len(), 50);
        let mut g = f.clone();
        set_correlation_id(&mut g, 9);
        assert_eq!(&g[8..12], &[0, 0, 0, 9]);
    }

    #[test]
    fn metadata_v12_request_round_trips_through_the_frame_layer() {
        let req = MetadataRequest::default().with_topics(None);
        let f = encode_request(ApiKey::Metadata, 12, 5, Some("x"), &req).unwrap();
        let d = FrameDecoder::new(1 << 20);
        let mut b = f.clone();
        let frame = d.decode(&mut b).unwrap().unwrap();
        assert_eq!(&frame[0..2], &[0, 3]);
        assert_eq!(&frame[2..4], &[0, 12]);
        assert_eq!(peek_correlation_id(&frame[4..]), Some(5));
    }

    #[test]
    fn truncated_responses_are_errors() {
        use kafka_protocol::messages::MetadataResponse;
        assert!(decode_response::<MetadataResponse>(Bytes::from_static(&[0, 0]), 1).is_err());
        // Hostile MetadataResponse v1: brokers count i32::MAX in 10 bytes.
        let f = Bytes::from_static(&[0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff, 0, 0]);
        assert!(decode_response::<MetadataResponse>(f, 1).is_err());
    }
}
