//! A scripted fake broker over loopback, for what a real broker cannot be made to send:
//! hostile bytes, exact throttle values, a misbehaving SASL server. It answers ApiVersions and
//! Metadata itself unless the script takes over; everything else goes to the script.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::metadata_response::MetadataResponseBroker;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Encodable, HeaderVersion, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the fake broker saw it.
#[derive(Debug, Clone)]
pub struct Req {
    pub api_key: i16,
    pub version: i16,
    pub correlation_id: i32,
    /// Request body (after the header).
    pub body: Bytes,
    /// When its last byte was read.
    pub at: Instant,
    /// Connection number (0 = first connection).
    pub conn: usize,
}

/// What to do for a request.
pub enum Action {
    /// Write these bytes as they are (write your own size prefix).
    Raw(Vec<u8>),
    /// Write a frame: size prefix + these bytes.
    Frame(Vec<u8>),
    /// Wait.
    Sleep(Duration),
    /// Close the connection.
    Close,
    /// Answer as the default handler would.
    Default,
    /// Send nothing.
    Nothing,
}

pub type Script = Arc<dyn Fn(&Req) -> Vec<Action> + Send + Sync>;

pub struct FakeBroker {
    pub addr: String,
    pub log: Arc<Mutex<Vec<Req>>>,
    /// When each response frame was written: (correlation id, instant).
    pub sent: Arc<Mutex<Vec<(i32, Instant)>>>,
}

impl FakeBroker {
    pub async fn start(script: Script) -> FakeBroker {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let log = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let (l2, s2, a2) = (log.clone(), sent.clone(), addr.clone());
        tokio::spawn(async move {
            let mut n = 0;
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve(
                    sock,
                    n,
                    script.clone(),
                    l2.clone(),
                    s2.clone(),
                    a2.clone(),
                ));
                n += 1;
            }
        });
        FakeBroker { addr, log, sent }
    }

    pub fn requests(&self, api: ApiKey) -> Vec<Req> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.api_key == api as i16)
            .cloned()
            .collect()
    }
}

async fn serve(
    mut sock: TcpStream,
    conn: usize,
    script: Script,
    log: Arc<Mutex<Vec<Req>>>,
    sent: Arc<Mutex<Vec<(i32, Instant)>>>,
    addr: String,
) {
    loop {
        let mut size = [0u8; 4];
        if sock.read_exact(&mut size).await.is_err() {
            return;
        }
        let mut buf = vec![0u8; i32::from_be_bytes(size) as usize];
        if sock.read_exact(&mut buf).await.is_err() {
            return;
        }
        let mut b = Bytes::from(buf);
        let api_key = i16::from_be_bytes([b[0], b[1]]);
        let version = i16::from_be_bytes([b[2], b[3]]);
        let header = kafka_protocol::protocol::decode_request_header_from_buffer(&mut b).unwrap();
        let req = Req {
            api_key,
            version,
            correlation_id: header.correlation_id,
            body: b,
            at: Instant::now(),
            conn,
        };
        log.lock().unwrap().push(req.clone());
        for action in script(&req) {
            let bytes = match action {
                Action::Raw(v) => v,
                Action::Frame(v) => framed(&v),
                Action::Sleep(d) => {
                    tokio::time::sleep(d).await;
                    continue;
                }
                Action::Close => return,
                Action::Nothing => continue,
                Action::Default => match default_reply(&req, &addr) {
                    Some(v) => v,
                    None => continue,
                },
            };
            if sock.write_all(&bytes).await.is_err() {
                return;
            }
            sent.lock()
                .unwrap()
                .push((req.correlation_id, Instant::now()));
        }
    }
}

pub fn framed(v: &[u8]) -> Vec<u8> {
    let mut out = (v.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(v);
    out
}

/// A whole response frame for `body` at `version`.
pub fn response<T: Encodable + HeaderVersion>(
    correlation_id: i32,
    version: i16,
    body: &T,
) -> Vec<u8> {
    let mut buf = BytesMut::new();
    let header = ResponseHeader::default().with_correlation_id(correlation_id);
    header.encode(&mut buf, T::header_version(version)).unwrap();
    body.encode(&mut buf, version).unwrap();
    framed(&buf)
}

/// Raw response body bytes after a v0 header.
pub fn raw_response(correlation_id: i32, body: &[u8]) -> Vec<u8> {
    let mut buf = BytesMut::new();
    buf.put_i32(correlation_id);
    buf.put_slice(body);
    framed(&buf)
}

const SUPPORTED: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 11),
    (ApiKey::Metadata, 1, 12),
    (ApiKey::ApiVersions, 0, 3),
    (ApiKey::SaslHandshake, 0, 1),
    (ApiKey::SaslAuthenticate, 0, 2),
    (ApiKey::DescribeClientQuotas, 0, 1),
    (ApiKey::AlterClientQuotas, 0, 1),
    (ApiKey::DescribeCluster, 0, 1),
];

pub fn default_reply(req: &Req, addr: &str) -> Option<Vec<u8>> {
    if req.api_key == ApiKey::ApiVersions as i16 {
        let keys = SUPPORTED
            .iter()
            .map(|(k, min, max)| {
                ApiVersion::default()
                    .with_api_key(*k as i16)
                    .with_min_version(*min)
                    .with_max_version(*max)
            })
            .collect();
        let v = req.version.min(3);
        return Some(response(
            req.correlation_id,
            v,
            &ApiVersionsResponse::default().with_api_keys(keys),
        ));
    }
    if req.api_key == ApiKey::Metadata as i16 {
        let (host, port) = addr.rsplit_once(':').unwrap();
        let b = MetadataResponseBroker::default()
            .with_node_id(BrokerId(1))
            .with_host(StrBytes::from_string(host.to_owned()))
            .with_port(port.parse().unwrap());
        let body = MetadataResponse::default()
            .with_brokers(vec![b])
            .with_controller_id(BrokerId(1));
        return Some(response(req.correlation_id, req.version, &body));
    }
    None
}
