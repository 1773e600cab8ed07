//! Minimal blocking Kafka exchanges over a plain TCP socket, used for readiness checks: an
//! ApiVersions round trip proves a broker serves requests, a Metadata answer listing every broker
//! proves the cluster has formed. Message codecs come from `kafka-protocol`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, MetadataRequest, MetadataResponse,
    RequestHeader, ResponseHeader,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};

/// Frames larger than this are treated as garbage (a readiness probe never needs more).
const MAX_FRAME: usize = 16 << 20;

fn err(addr: SocketAddr, detail: impl std::fmt::Display) -> String {
    format!("{addr}: {detail}")
}

/// Sends one request and reads its response on `stream`.
fn round_trip<Req: Encodable + HeaderVersion, Resp: Decodable + HeaderVersion>(
    stream: &mut TcpStream,
    addr: SocketAddr,
    key: ApiKey,
    version: i16,
    req: &Req,
) -> Result<Resp, String> {
    let header = RequestHeader::default()
        .with_request_api_key(key as i16)
        .with_request_api_version(version)
        .with_correlation_id(7)
        .with_client_id(Some(StrBytes::from_static_str("kquota-testkit")));
    let mut body = BytesMut::new();
    header
        .encode(&mut body, Req::header_version(version))
        .map_err(|e| err(addr, format!("encoding request header: {e}")))?;
    req.encode(&mut body, version)
        .map_err(|e| err(addr, format!("encoding request: {e}")))?;
    let mut frame = Vec::with_capacity(body.len() + 4);
    frame.extend_from_slice(&(body.len() as i32).to_be_bytes());
    frame.extend_from_slice(&body);
    stream
        .write_all(&frame)
        .map_err(|e| err(addr, format!("sending request: {e}")))?;
    let mut len = [0u8; 4];
    stream
        .read_exact(&mut len)
        .map_err(|e| err(addr, format!("reading response size: {e}")))?;
    let len = i32::from_be_bytes(len);
    if len < 4 || len as usize > MAX_FRAME {
        return Err(err(
            addr,
            format!("response frame size {len} is out of range"),
        ));
    }
    let mut buf = vec![0u8; len as usize];
    stream
        .read_exact(&mut buf)
        .map_err(|e| err(addr, format!("reading response: {e}")))?;
    let mut bytes = bytes::Bytes::from(buf);
    let rh = ResponseHeader::decode(&mut bytes, Resp::header_version(version))
        .map_err(|e| err(addr, format!("decoding response header: {e}")))?;
    if rh.correlation_id != 7 {
        return Err(err(
            addr,
            format!("unexpected correlation id {}", rh.correlation_id),
        ));
    }
    let resp = Resp::decode(&mut bytes, version)
        .map_err(|e| err(addr, format!("decoding response: {e}")))?;
    if bytes.has_remaining() {
        return Err(err(
            addr,
            format!("{} unread bytes after response", bytes.remaining()),
        ));
    }
    Ok(resp)
}

fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, String> {
    let s = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| err(addr, format!("connect: {e}")))?;
    s.set_read_timeout(Some(timeout)).ok();
    s.set_write_timeout(Some(timeout)).ok();
    Ok(s)
}

/// ApiVersions v3 on a PLAINTEXT listener; returns the number of APIs the broker lists.
pub(crate) fn api_versions(addr: SocketAddr, timeout: Duration) -> Result<usize, String> {
    let mut s = connect(addr, timeout)?;
    let req = ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("kquota-testkit"))
        .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
    let resp: ApiVersionsResponse = round_trip(&mut s, addr, ApiKey::ApiVersions, 3, &req)?;
    if resp.error_code != 0 {
        return Err(err(
            addr,
            format!("ApiVersions error code {}", resp.error_code),
        ));
    }
    Ok(resp.api_keys.len())
}

/// Metadata v12 (no topics) on a PLAINTEXT listener; returns the broker ids it lists.
pub(crate) fn broker_ids(addr: SocketAddr, timeout: Duration) -> Result<Vec<i32>, String> {
    let mut s = connect(addr, timeout)?;
    let req = MetadataRequest::default().with_topics(Some(vec![]));
    let resp: MetadataResponse = round_trip(&mut s, addr, ApiKey::Metadata, 12, &req)?;
    let mut ids: Vec<i32> = resp.brokers.iter().map(|b| b.node_id.0).collect();
    ids.sort_unstable();
    Ok(ids)
}
