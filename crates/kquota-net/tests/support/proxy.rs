//! A loopback TCP proxy that timestamps every Kafka frame passing through, to measure what the
//! client puts on the wire (e.g. the gap after a throttled response).
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Client to broker (request).
    Request,
    /// Broker to client (response).
    Response,
}

#[derive(Debug, Clone)]
pub struct Seen {
    pub dir: Dir,
    pub correlation_id: i32,
    /// API key for requests, -1 for responses.
    pub api_key: i16,
    pub at: Instant,
    /// The frame without its size prefix.
    pub frame: bytes::Bytes,
}

pub struct Proxy {
    pub addr: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Proxy {
    pub async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pump(cr, sw, Dir::Request, s2.clone()));
                tokio::spawn(pump(sr, cw, Dir::Response, s2.clone()));
            }
        });
        Proxy { addr, seen }
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    dir: Dir,
    seen: Arc<Mutex<Vec<Seen>>>,
) {
    loop {
        let mut size = [0u8; 4];
        if from.read_exact(&mut size).await.is_err() {
            return;
        }
        let mut buf = vec![0u8; i32::from_be_bytes(size).max(0) as usize];
        if from.read_exact(&mut buf).await.is_err() {
            return;
        }
        let at = Instant::now();
        let (api_key, correlation_id) = match dir {
            Dir::Request if buf.len() >= 8 => (
                i16::from_be_bytes([buf[0], buf[1]]),
                i32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
            ),
            Dir::Response if buf.len() >= 4 => {
                (-1, i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]))
            }
            _ => (-1, -1),
        };
        seen.lock().unwrap().push(Seen {
            dir,
            correlation_id,
            api_key,
            at,
            frame: bytes::Bytes::copy_from_slice(&buf),
        });
        if to.write_all(&size).await.is_err() || to.write_all(&buf).await.is_err() {
            return;
        }
    }
}
