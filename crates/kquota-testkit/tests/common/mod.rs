//! Small blocking Kafka client for the testkit's own tests: raw TCP or rustls, message codecs from
//! kafka-protocol, SASL PLAIN / SCRAM / OAUTHBEARER done by hand (RFC 4616, RFC 5802, RFC 7628).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::{Buf, Bytes, BytesMut};
use hmac::{Hmac, Mac};
use kafka_protocol::messages::{
    create_acls_request::AclCreation, create_topics_request::CreatableTopic,
    metadata_request::MetadataRequestTopic, ApiKey, ApiVersionsRequest, ApiVersionsResponse,
    CreateAclsRequest, CreateAclsResponse, CreateTopicsRequest, CreateTopicsResponse,
    MetadataRequest, MetadataResponse, RequestHeader, ResponseHeader, SaslAuthenticateRequest,
    SaslAuthenticateResponse, SaslHandshakeRequest, SaslHandshakeResponse, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use sha2::{Digest, Sha256, Sha512};

/// Kafka error codes used in assertions (from the protocol guide).
pub const SASL_AUTHENTICATION_FAILED: i16 = 58;
pub const TOPIC_AUTHORIZATION_FAILED: i16 = 29;

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

pub enum Stream {
    Plain(TcpStream),
    Tls(Box<Tls>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

pub struct Conn {
    stream: Stream,
    correlation: i32,
}

fn tcp(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

fn pem_certs(path: &Path) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    let mut r = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    rustls_pemfile::certs(&mut r)
        .collect::<Result<_, _>>()
        .unwrap()
}

impl Conn {
    pub fn plain(addr: SocketAddr) -> Conn {
        Conn {
            stream: Stream::Plain(tcp(addr)),
            correlation: 0,
        }
    }

    /// Connects, or returns the connection error (for "is it down?" checks).
    pub fn plain_result(addr: SocketAddr) -> std::io::Result<Conn> {
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map(|s| Conn {
            stream: Stream::Plain(s),
            correlation: 0,
        })
    }

    /// TLS to 127.0.0.1, trusting only `ca`; with `client` = (cert chain, key) for client auth.
    pub fn tls(addr: SocketAddr, ca: &Path, client: Option<(&Path, &Path)>) -> Conn {
        let mut roots = rustls::RootCertStore::empty();
        for c in pem_certs(ca) {
            roots.add(c).unwrap();
        }
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
        let config = match client {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let mut r = std::io::BufReader::new(std::fs::File::open(key).unwrap());
                let key = rustls_pemfile::private_key(&mut r).unwrap().unwrap();
                builder.with_client_auth_cert(pem_certs(cert), key).unwrap()
            }
        };
        let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
        let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        Conn {
            stream: Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp(addr)))),
            correlation: 0,
        }
    }

    /// One request/response exchange. Errors are returned as text (e.g. the broker closed).
    pub fn send<Req: Encodable + HeaderVersion, Resp: Decodable + HeaderVersion>(
        &mut self,
        key: ApiKey,
        version: i16,
        req: &Req,
    ) -> Result<Resp, String> {
        self.correlation += 1;
        let header = RequestHeader::default()
            .with_request_api_key(key as i16)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(StrBytes::from_static_str("kquota-testkit-test")));
        let mut body = BytesMut::new();
        header
            .encode(&mut body, Req::header_version(version))
            .map_err(|e| e.to_string())?;
        req.encode(&mut body, version).map_err(|e| e.to_string())?;
        let mut frame = (body.len() as i32).to_be_bytes().to_vec();
        frame.extend_from_slice(&body);
        self.stream
            .write_all(&frame)
            .and_then(|_| self.stream.flush())
            .map_err(|e| format!("write: {e}"))?;
        let mut len = [0u8; 4];
        self.stream
            .read_exact(&mut len)
            .map_err(|e| format!("read size: {e}"))?;
        let len = i32::from_be_bytes(len);
        if !(4..=(64 << 20)).contains(&len) {
            return Err(format!("bad frame size {len}"));
        }
        let mut buf = vec![0u8; len as usize];
        self.stream
            .read_exact(&mut buf)
            .map_err(|e| format!("read body: {e}"))?;
        let mut b = Bytes::from(buf);
        let rh = ResponseHeader::decode(&mut b, Resp::header_version(version))
            .map_err(|e| e.to_string())?;
        if rh.correlation_id != self.correlation {
            return Err(format!(
                "correlation id {} != {}",
                rh.correlation_id, self.correlation
            ));
        }
        let resp = Resp::decode(&mut b, version).map_err(|e| e.to_string())?;
        if b.has_remaining() {
            return Err(format!("{} trailing bytes", b.remaining()));
        }
        Ok(resp)
    }

    /// ApiVersions v3; returns the number of API keys listed.
    pub fn api_versions(&mut self) -> Result<usize, String> {
        let req = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("kquota-testkit-test"))
            .with_client_software_version(StrBytes::from_static_str("0.1.0"));
        let resp: ApiVersionsResponse = self.send(ApiKey::ApiVersions, 3, &req)?;
        if resp.error_code != 0 {
            return Err(format!("ApiVersions error {}", resp.error_code));
        }
        Ok(resp.api_keys.len())
    }

    pub fn handshake(&mut self, mechanism: &'static str) -> Result<(), String> {
        let req =
            SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(mechanism));
        let resp: SaslHandshakeResponse = self.send(ApiKey::SaslHandshake, 1, &req)?;
        if resp.error_code != 0 {
            return Err(format!(
                "SaslHandshake({mechanism}) error {}",
                resp.error_code
            ));
        }
        Ok(())
    }

    pub fn authenticate(&mut self, bytes: Vec<u8>) -> Result<SaslAuthenticateResponse, String> {
        let req = SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(bytes));
        self.send(ApiKey::SaslAuthenticate, 2, &req)
    }

    /// SASL/PLAIN (RFC 4616). `Err((code, message))` when refused.
    pub fn sasl_plain(&mut self, user: &str, password: &str) -> Result<(), (i16, String)> {
        self.handshake("PLAIN").map_err(|e| (-1, e))?;
        let r = self
            .authenticate(format!("\0{user}\0{password}").into_bytes())
            .map_err(|e| (-1, e))?;
        check(&r)
    }

    /// SASL/SCRAM-SHA-256 or -512 (RFC 5802/7677), verifying the server signature.
    pub fn sasl_scram(
        &mut self,
        sha512: bool,
        user: &str,
        password: &str,
    ) -> Result<(), (i16, String)> {
        let mech = if sha512 {
            "SCRAM-SHA-512"
        } else {
            "SCRAM-SHA-256"
        };
        self.handshake(mech).map_err(|e| (-1, e))?;
        let nonce: String =
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(rand::random::<[u8; 18]>());
        let client_first_bare = format!("n={user},r={nonce}");
        let r = self
            .authenticate(format!("n,,{client_first_bare}").into_bytes())
            .map_err(|e| (-1, e))?;
        check(&r)?;
        let server_first = String::from_utf8(r.auth_bytes.to_vec()).unwrap();
        let mut snonce = "";
        let mut salt = Vec::new();
        let mut iters = 0u32;
        for part in server_first.split(',') {
            if let Some(v) = part.strip_prefix("r=") {
                snonce = v;
            } else if let Some(v) = part.strip_prefix("s=") {
                salt = base64::engine::general_purpose::STANDARD.decode(v).unwrap();
            } else if let Some(v) = part.strip_prefix("i=") {
                iters = v.parse().unwrap();
            }
        }
        assert!(snonce.starts_with(&nonce), "server nonce must extend ours");
        let without_proof = format!("c=biws,r={snonce}");
        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let (proof, server_sig) = if sha512 {
            scram_proof_512(password, &salt, iters, &auth_message)
        } else {
            scram_proof_256(password, &salt, iters, &auth_message)
        };
        let b64 = base64::engine::general_purpose::STANDARD;
        let r = self
            .authenticate(format!("{without_proof},p={}", b64.encode(proof)).into_bytes())
            .map_err(|e| (-1, e))?;
        check(&r)?;
        let server_final = String::from_utf8(r.auth_bytes.to_vec()).unwrap();
        assert_eq!(
            server_final,
            format!("v={}", b64.encode(server_sig)),
            "server signature"
        );
        Ok(())
    }

    /// SASL/OAUTHBEARER (RFC 7628) with the bytes Kafka's client sends. On refusal Kafka first
    /// answers with an error challenge, to which the client replies 0x01 (kvsep).
    pub fn sasl_oauthbearer(
        &mut self,
        token: &str,
    ) -> Result<SaslAuthenticateResponse, (i16, String)> {
        self.handshake("OAUTHBEARER").map_err(|e| (-1, e))?;
        let r = self
            .authenticate(format!("n,,\x01auth=Bearer {token}\x01\x01").into_bytes())
            .map_err(|e| (-1, e))?;
        check(&r)?;
        if r.auth_bytes.is_empty() {
            return Ok(r);
        }
        let challenge = String::from_utf8_lossy(&r.auth_bytes).to_string();
        let r2 = self
            .authenticate(vec![1])
            .map_err(|e| (-1, format!("{challenge} / {e}")))?;
        match check(&r2) {
            Err((code, msg)) => Err((code, format!("{challenge} / {msg}"))),
            Ok(()) => Err((0, format!("error challenge {challenge} without failure"))),
        }
    }

    pub fn create_topic(&mut self, name: &str, partitions: i32, rf: i16) -> i16 {
        let req = CreateTopicsRequest::default()
            .with_topics(vec![CreatableTopic::default()
                .with_name(TopicName(StrBytes::from_string(name.to_string())))
                .with_num_partitions(partitions)
                .with_replication_factor(rf)])
            .with_timeout_ms(30_000);
        let resp: CreateTopicsResponse = self.send(ApiKey::CreateTopics, 7, &req).unwrap();
        resp.topics[0].error_code
    }

    /// Creates an ALLOW ACL for `principal` on topic `topic` (literal) for `operation`
    /// (protocol codes: 3 READ, 4 WRITE, 8 DESCRIBE).
    pub fn allow_topic(&mut self, principal: &str, topic: &str, operation: i8) -> i16 {
        let req = CreateAclsRequest::default().with_creations(vec![AclCreation::default()
            .with_resource_type(2)
            .with_resource_name(StrBytes::from_string(topic.to_string()))
            .with_resource_pattern_type(3)
            .with_principal(StrBytes::from_string(principal.to_string()))
            .with_host(StrBytes::from_static_str("*"))
            .with_operation(operation)
            .with_permission_type(3)]);
        let resp: CreateAclsResponse = self.send(ApiKey::CreateAcls, 3, &req).unwrap();
        resp.results[0].error_code
    }

    /// Metadata v12 for one topic; returns the topic's error code.
    pub fn topic_error(&mut self, topic: &str) -> i16 {
        let req = MetadataRequest::default()
            .with_topics(Some(vec![MetadataRequestTopic::default().with_name(Some(
                TopicName(StrBytes::from_string(topic.to_string())),
            ))]))
            .with_allow_auto_topic_creation(false);
        let resp: MetadataResponse = self.send(ApiKey::Metadata, 12, &req).unwrap();
        resp.topics[0].error_code
    }

    /// Broker ids from Metadata v12.
    pub fn broker_ids(&mut self) -> Vec<i32> {
        let req = MetadataRequest::default().with_topics(Some(vec![]));
        let resp: MetadataResponse = self.send(ApiKey::Metadata, 12, &req).unwrap();
        let mut ids: Vec<i32> = resp.brokers.iter().map(|b| b.node_id.0).collect();
        ids.sort_unstable();
        ids
    }
}

fn check(r: &SaslAuthenticateResponse) -> Result<(), (i16, String)> {
    if r.error_code == 0 {
        Ok(())
    } else {
        Err((
            r.error_code,
            r.error_message
                .as_ref()
                .map(|m| m.to_string())
                .unwrap_or_default(),
        ))
    }
}

macro_rules! scram_proof_fn {
    ($name:ident, $digest:ty) => {
        /// Client proof and expected server signature (RFC 5802 section 3).
        fn $name(
            password: &str,
            salt: &[u8],
            iters: u32,
            auth_message: &str,
        ) -> (Vec<u8>, Vec<u8>) {
            let mut salted = vec![0u8; <$digest as Digest>::output_size()];
            pbkdf2::pbkdf2_hmac::<$digest>(password.as_bytes(), salt, iters, &mut salted);
            let hmac = |key: &[u8], data: &[u8]| {
                let mut m = <Hmac<$digest> as hmac::KeyInit>::new_from_slice(key).unwrap();
                m.update(data);
                m.finalize().into_bytes().to_vec()
            };
            let client_key = hmac(&salted, b"Client Key");
            let stored_key = <$digest as Digest>::digest(&client_key).to_vec();
            let client_sig = hmac(&stored_key, auth_message.as_bytes());
            let proof = client_key
                .iter()
                .zip(&client_sig)
                .map(|(a, b)| a ^ b)
                .collect();
            let server_key = hmac(&salted, b"Server Key");
            (proof, hmac(&server_key, auth_message.as_bytes()))
        }
    };
}
scram_proof_fn!(scram_proof_256, Sha256);
scram_proof_fn!(scram_proof_512, Sha512);

/// Java processes whose command line mentions `needle` (e.g. a cluster's directory).
pub fn java_processes_mentioning(needle: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).to_string())
            .collect();
        let is_java = args
            .first()
            .is_some_and(|a| a == "java" || a.ends_with("/java"));
        if is_java && args.iter().any(|a| a.contains(needle)) {
            out.push(pid);
        }
    }
    out
}
