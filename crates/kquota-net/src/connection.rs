//! One broker connection: connect, negotiate versions (ApiVersions), authenticate (SASL,
//! re-authentication per KIP-368), then pipeline requests.
//!
//! Layout: the write half sits behind an async mutex; whoever holds it waits out any throttle
//! (KIP-219), registers the request in the correlation map and writes the whole frame. A reader
//! task owns the read half, cuts frames (size-capped before allocating), decodes each response
//! for its waiting caller, records the throttle *before* waking the caller, and poisons the
//! connection on any protocol error so it is never reused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{broadcast, oneshot};
use tokio::task::AbortHandle;
use tracing::{debug, warn, Instrument};

use crate::config::ClientConfig;
use crate::correlation::InFlight;
use crate::frame::{self, FrameDecoder, FrameError};
use crate::sasl::{mechanism_for, SaslMechanism, SaslStep};
use crate::throttle::{ThrottleEvent, ThrottleGate};
use crate::transport::{self, Io, Tls};
use crate::{AuthError, Error, KafkaRequest};

/// A decoded response with where it came from.
///
/// ```
/// use kafka_protocol::messages::MetadataResponse;
/// use kquota_net::Response;
/// let r = Response { body: MetadataResponse::default(), broker_id: 1, api_version: 12, throttle_time_ms: 0 };
/// assert_eq!(r.throttle_time_ms, 0);
/// ```
#[derive(Debug, Clone)]
pub struct Response<T> {
    /// The decoded body (`Default` for Produce with `acks = 0`, which gets no response).
    pub body: T,
    /// Node id of the broker that answered (-1 for a bootstrap connection before metadata).
    pub broker_id: i32,
    /// The version used.
    pub api_version: i16,
    /// The response's `throttle_time_ms` (0 if none).
    pub throttle_time_ms: i32,
}

/// Why a connection can no longer be used.
#[derive(Debug, Clone)]
pub(crate) enum PoisonReason {
    /// The broker closed the connection; `first_request` when it did so with a request in
    /// flight and no answer yet beyond the connection set-up (see [`Shared::eof`]).
    Eof {
        first_request: bool,
    },
    Io(std::io::ErrorKind, String),
    FrameTooLarge {
        size: i64,
        max: usize,
    },
    Protocol(String),
    Timeout(ApiKey),
    Auth(String),
    Closed,
}

impl PoisonReason {
    fn to_error(&self, broker: &str, request_sent: bool) -> Error {
        let closed = |reason: String| Error::ConnectionClosed {
            broker: broker.to_owned(),
            reason,
            request_sent,
            first_request: false,
        };
        match self {
            PoisonReason::Eof { first_request } => Error::ConnectionClosed {
                broker: broker.to_owned(),
                reason: "closed by the broker".into(),
                request_sent,
                first_request: *first_request && request_sent,
            },
            PoisonReason::Io(kind, msg) => {
                if request_sent {
                    Error::Io {
                        broker: broker.to_owned(),
                        source: std::io::Error::new(*kind, msg.clone()),
                    }
                } else {
                    closed(format!("earlier I/O error: {msg}"))
                }
            }
            PoisonReason::FrameTooLarge { size, max } => {
                if request_sent {
                    Error::FrameTooLarge {
                        broker: broker.to_owned(),
                        size: *size,
                        max: *max,
                    }
                } else {
                    closed(format!(
                        "an earlier response frame of {size} bytes exceeded the maximum of {max}"
                    ))
                }
            }
            PoisonReason::Protocol(d) => {
                if request_sent {
                    Error::Protocol {
                        broker: broker.to_owned(),
                        detail: d.clone(),
                    }
                } else {
                    closed(format!("earlier protocol error: {d}"))
                }
            }
            PoisonReason::Timeout(api) => closed(format!("an earlier {api:?} request timed out")),
            PoisonReason::Auth(d) => closed(format!("re-authentication failed: {d}")),
            PoisonReason::Closed => closed("closed by the client".into()),
        }
    }
}

/// Hands a response frame (or the connection's failure) to the request's caller; gets the time
/// the request was written. Returns a reason to poison the connection (an undecodable answer).
type Deliver =
    Box<dyn FnOnce(Result<Bytes, Error>, &Shared, Instant) -> Option<PoisonReason> + Send>;

struct Pending {
    deliver: Deliver,
    sent_at: Instant,
}

#[derive(Default)]
struct State {
    in_flight: InFlight<Pending>,
    gate: ThrottleGate,
    poisoned: Option<PoisonReason>,
    /// Responses routed so far.
    responses: u64,
    /// `responses` when the connection was set up (ApiVersions, SASL); `None` while setting up.
    ready_at: Option<u64>,
}

/// What the reader task and the callers share.
struct Shared {
    broker: String,
    /// Whether the connection authenticates with SASL.
    sasl: bool,
    broker_id: std::sync::atomic::AtomicI32,
    state: Mutex<State>,
    throttle_tx: Option<broadcast::Sender<ThrottleEvent>>,
}

impl Shared {
    fn id(&self) -> i32 {
        self.broker_id.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the map half-updated (single calls),
        // so recover the guard instead of propagating the poison.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a response's throttle (called by the decoder before the caller is woken).
    fn record_throttle(&self, api: ApiKey, version: i16, throttle_time_ms: i32, received: Instant) {
        if throttle_time_ms <= 0 {
            return;
        }
        let client_waits = self
            .lock()
            .gate
            .record(api, version, throttle_time_ms, received);
        debug!(broker = self.id(), api = ?api, version, throttle_time_ms, client_waits, "broker throttled the client");
        if let Some(tx) = &self.throttle_tx {
            let _ = tx.send(ThrottleEvent {
                broker_id: self.id(),
                api,
                api_version: version,
                throttle_time_ms,
                client_waits,
                at: SystemTime::now(),
            });
        }
    }

    /// The reason for a close by the broker. It is flagged as happening at the first request
    /// when a request is waiting and the broker answered nothing at all (it closed at
    /// ApiVersions), or — without SASL — nothing after ApiVersions: a SASL listener answers
    /// ApiVersions, then drops a client whose next request is not a SASL handshake.
    fn eof(&self) -> PoisonReason {
        let s = self.lock();
        let first_request = !s.in_flight.is_empty()
            && match s.ready_at {
                None => s.responses == 0,
                Some(n) => !self.sasl && s.responses == n,
            };
        PoisonReason::Eof { first_request }
    }

    fn poison(&self, reason: PoisonReason) {
        let drained = {
            let mut s = self.lock();
            if s.poisoned.is_none() {
                match &reason {
                    PoisonReason::Eof { .. } | PoisonReason::Closed => {
                        debug!(broker = %self.broker, ?reason, "connection closed")
                    }
                    _ => warn!(broker = %self.broker, ?reason, "closing connection"),
                }
                s.poisoned = Some(reason.clone());
            }
            s.in_flight.drain()
        };
        for p in drained {
            let _ = (p.deliver)(Err(reason.to_error(&self.broker, true)), self, p.sent_at);
        }
    }

    fn is_poisoned(&self) -> bool {
        self.lock().poisoned.is_some()
    }

    /// Routes one response frame to its caller.
    fn dispatch(&self, frame: Bytes) -> Result<(), PoisonReason> {
        let Some(id) = frame::peek_correlation_id(&frame) else {
            return Err(PoisonReason::Protocol(format!(
                "response frame of {} bytes has no correlation id",
                frame.len()
            )));
        };
        let pending = {
            let mut s = self.lock();
            s.responses += 1;
            s.in_flight.take(id)
        };
        let Some(p) = pending else {
            return Err(PoisonReason::Protocol(format!(
                "response with unknown correlation id {id}"
            )));
        };
        match (p.deliver)(Ok(frame), self, p.sent_at) {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }
}

async fn read_loop(mut rd: ReadHalf<Box<dyn Io>>, shared: Arc<Shared>, max: usize) {
    let decoder = FrameDecoder::new(max);
    let mut buf = BytesMut::with_capacity(8 * 1024);
    loop {
        // Hand out every complete frame already buffered before reading more.
        match decoder.decode(&mut buf) {
            Ok(Some(frame)) => {
                if let Err(reason) = shared.dispatch(frame.freeze()) {
                    shared.poison(reason);
                    return;
                }
                continue;
            }
            Ok(None) => {}
            Err(FrameError::TooLarge { size, max }) => {
                shared.poison(PoisonReason::FrameTooLarge { size, max });
                return;
            }
            Err(e) => {
                shared.poison(PoisonReason::Protocol(e.to_string()));
                return;
            }
        }
        // Grow in bounded steps: the announced size is only trusted as data arrives.
        buf.reserve(decoder.reserve_hint(&buf));
        match rd.read_buf(&mut buf).await {
            Ok(0) if buf.is_empty() => {
                shared.poison(shared.eof());
                return;
            }
            Ok(0) => {
                shared.poison(PoisonReason::Protocol(format!(
                    "connection closed in the middle of a response frame ({} bytes buffered)",
                    buf.len()
                )));
                return;
            }
            Ok(_) => {}
            Err(e) => {
                shared.poison(PoisonReason::Io(e.kind(), e.to_string()));
                return;
            }
        }
    }
}

/// Everything a connection needs from the client configuration, prepared once.
#[derive(Clone)]
pub(crate) struct ConnectSettings {
    pub(crate) config: Arc<ClientConfig>,
    pub(crate) tls: Option<Tls>,
    pub(crate) sasl: Option<Arc<dyn SaslMechanism>>,
    pub(crate) throttle_tx: Option<broadcast::Sender<ThrottleEvent>>,
}

impl ConnectSettings {
    pub(crate) fn new(
        config: ClientConfig,
        throttle_tx: Option<broadcast::Sender<ThrottleEvent>>,
    ) -> Result<Self, Error> {
        let tls = config.security.tls().map(Tls::new).transpose()?;
        let sasl = config.security.sasl().map(mechanism_for);
        Ok(ConnectSettings {
            config: Arc::new(config),
            tls,
            sasl,
            throttle_tx,
        })
    }
}

struct Inner {
    addr: String,
    host: String,
    settings: ConnectSettings,
    writer: tokio::sync::Mutex<WriteHalf<Box<dyn Io>>>,
    shared: Arc<Shared>,
    versions: OnceLock<HashMap<i16, (i16, i16)>>,
    reader: AbortHandle,
    reauth: Mutex<Option<AbortHandle>>,
    reauth_count: std::sync::atomic::AtomicU64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.reader.abort();
        if let Some(h) = self.reauth.lock().unwrap_or_else(|e| e.into_inner()).take() {
            h.abort();
        }
    }
}

/// One authenticated connection to one broker, safe to share between tasks (cheap `Clone`);
/// requests from several tasks are pipelined and answered by correlation id.
///
/// ```no_run
/// # async fn demo() -> Result<(), kquota_net::Error> {
/// use kafka_protocol::messages::MetadataRequest;
/// use kquota_net::{BrokerConnection, ClientConfig};
/// let cfg = ClientConfig::new(["localhost:9092"]);
/// let conn = BrokerConnection::connect("localhost:9092", -1, &cfg).await?;
/// let md = conn.send(&MetadataRequest::default().with_topics(Some(vec![]))).await?;
/// println!("{} brokers, v{}", md.body.brokers.len(), md.api_version);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BrokerConnection {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for BrokerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerConnection")
            .field("broker", &self.inner.addr)
            .field("broker_id", &self.inner.shared.id())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Kafka release needed for an API, for [`Error::UnsupportedApi`].
pub(crate) fn needed_release(api: ApiKey) -> &'static str {
    match api {
        ApiKey::DescribeClientQuotas | ApiKey::AlterClientQuotas => "Kafka 2.6 or newer",
        ApiKey::DescribeUserScramCredentials | ApiKey::AlterUserScramCredentials => {
            "Kafka 2.7 or newer"
        }
        ApiKey::DescribeCluster => "Kafka 2.8 or newer",
        ApiKey::SaslAuthenticate => "Kafka 1.0 or newer",
        // Every broker has served Metadata since Kafka 0.8; a KRaft controller's listener does not.
        ApiKey::Metadata => {
            "a broker's address (this looks like a KRaft controller's, which serves no client requests)"
        }
        _ => "a newer Kafka broker",
    }
}

impl BrokerConnection {
    /// Connects to `addr` (`host:port`), negotiates API versions and authenticates as
    /// configured. `broker_id` is only a label (-1 if unknown).
    pub async fn connect(
        addr: &str,
        broker_id: i32,
        config: &ClientConfig,
    ) -> Result<BrokerConnection, Error> {
        let settings = ConnectSettings::new(config.clone(), None)?;
        Self::connect_with(addr, broker_id, &settings).await
    }

    pub(crate) async fn connect_with(
        addr: &str,
        broker_id: i32,
        settings: &ConnectSettings,
    ) -> Result<BrokerConnection, Error> {
        let cfg = &settings.config;
        let (host, _) = transport::split_host_port(addr)?;
        let span = tracing::debug_span!("kafka_connect", broker = broker_id, addr);
        async move {
            let io = transport::connect(addr, settings.tls.as_ref(), cfg.connect_timeout).await?;
            let (rd, wr) = tokio::io::split(io);
            let shared = Arc::new(Shared {
                broker: addr.to_owned(),
                sasl: settings.sasl.is_some(),
                broker_id: broker_id.into(),
                state: Mutex::new(State::default()),
                throttle_tx: settings.throttle_tx.clone(),
            });
            let reader =
                tokio::spawn(read_loop(rd, shared.clone(), cfg.max_response_size)).abort_handle();
            let conn = BrokerConnection {
                inner: Arc::new(Inner {
                    addr: addr.to_owned(),
                    host,
                    settings: settings.clone(),
                    writer: tokio::sync::Mutex::new(wr),
                    shared,
                    versions: OnceLock::new(),
                    reader,
                    reauth: Mutex::new(None),
                    reauth_count: Default::default(),
                }),
            };
            let mut w = conn.inner.writer.lock().await;
            conn.negotiate_versions(&mut w).await?;
            if let Some(mech) = settings.sasl.clone() {
                // Nothing else can use the connection yet: start the session after the
                // handshake, so a mechanism the broker lacks is reported before any token work.
                let next = conn.authenticate(&mut w, mech.as_ref(), None).await?;
                conn.schedule_reauth(next);
            }
            {
                let mut s = conn.inner.shared.lock();
                s.ready_at = Some(s.responses);
            }
            drop(w);
            debug!("connected");
            Ok(conn)
        }
        .instrument(span)
        .await
    }

    /// The broker address this connection goes to.
    pub fn address(&self) -> &str {
        &self.inner.addr
    }

    /// The node id given at connect time (-1 if unknown).
    pub fn broker_id(&self) -> i32 {
        self.inner.shared.id()
    }

    /// Sets the node id label (a bootstrap connection learns it from Metadata).
    pub(crate) fn relabel(self, broker_id: i32) -> Self {
        self.inner
            .shared
            .broker_id
            .store(broker_id, std::sync::atomic::Ordering::Relaxed);
        self
    }

    /// Whether the connection failed or was closed (it is never reused then).
    pub fn is_closed(&self) -> bool {
        self.inner.shared.is_poisoned()
    }

    /// How many times the connection re-authenticated (KIP-368).
    pub fn reauthentication_count(&self) -> u64 {
        self.inner
            .reauth_count
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The version range the broker supports for `api`, if it supports it at all.
    pub fn broker_versions(&self, api: ApiKey) -> Option<(i16, i16)> {
        self.inner
            .versions
            .get()
            .and_then(|m| m.get(&(api as i16)).copied())
    }

    /// The version `send` uses for `R`: the highest both sides support, capped by
    /// [`ClientConfig::cap_version`].
    pub fn pick_version<R: KafkaRequest>(&self) -> Result<i16, Error> {
        self.pick_version_of(R::KEY, R::VERSIONS.min, R::VERSIONS.max)
    }

    /// [`Self::pick_version`] for an api whose versions kquota knows to be `ours_min..=ours_max`.
    /// Not generic, like every part of a request's path that does not touch its type: one copy
    /// in the binary for all requests.
    fn pick_version_of(&self, api: ApiKey, ours_min: i16, ours_max: i16) -> Result<i16, Error> {
        let Some((bmin, bmax)) = self.broker_versions(api) else {
            return Err(Error::UnsupportedApi {
                api,
                broker: self.inner.addr.clone(),
                needed: needed_release(api).into(),
            });
        };
        let mut max = ours_max.min(bmax);
        if let Some(cap) = self.inner.settings.config.version_caps.get(&(api as i16)) {
            max = max.min(*cap);
        }
        if max < ours_min.max(bmin) {
            return Err(Error::UnsupportedVersion {
                api,
                broker: self.inner.addr.clone(),
                requested: max,
                broker_min: bmin,
                broker_max: bmax,
            });
        }
        Ok(max)
    }

    /// Sends `request` at the negotiated version and waits for its response.
    pub async fn send<R: KafkaRequest>(&self, request: &R) -> Result<Response<R::Response>, Error> {
        let version = self.pick_version::<R>()?;
        self.send_version(version, request).await
    }

    /// Sends `request` at an explicit `version` (checked against both sides' ranges).
    ///
    /// Produce with `acks = 0` returns as soon as the frame is written, with a default body.
    pub async fn send_version<R: KafkaRequest>(
        &self,
        version: i16,
        request: &R,
    ) -> Result<Response<R::Response>, Error> {
        self.check_version(R::KEY, R::VERSIONS.min, R::VERSIONS.max, version)?;
        let span = self.request_span(R::KEY, version);
        async {
            let mut w = self.inner.writer.lock().await;
            let pending = self.write_request(&mut w, version, request).await?;
            drop(w);
            self.wait(pending, version).await
        }
        .instrument(span)
        .await
    }

    /// The tracing span of one request (api, version, broker, correlation id, latency,
    /// throttle); never the request body, so no credentials.
    fn request_span(&self, api: ApiKey, version: i16) -> tracing::Span {
        tracing::debug_span!(
            "kafka_request",
            api = ?api,
            version,
            broker = self.inner.shared.id(),
            addr = %self.inner.addr,
            correlation_id = tracing::field::Empty,
            latency_us = tracing::field::Empty,
            throttle_ms = tracing::field::Empty,
        )
    }

    /// Checks an explicit `version` of `api` against both sides' ranges.
    fn check_version(
        &self,
        api: ApiKey,
        ours_min: i16,
        ours_max: i16,
        version: i16,
    ) -> Result<(), Error> {
        match self.broker_versions(api) {
            Some((bmin, bmax)) if version < bmin.max(ours_min) || version > bmax.min(ours_max) => {
                Err(Error::UnsupportedVersion {
                    api,
                    broker: self.inner.addr.clone(),
                    requested: version,
                    broker_min: bmin,
                    broker_max: bmax,
                })
            }
            None if self.inner.versions.get().is_some() => Err(Error::UnsupportedApi {
                api,
                broker: self.inner.addr.clone(),
                needed: needed_release(api).into(),
            }),
            _ => Ok(()),
        }
    }

    /// Closes the connection; requests in flight fail with [`Error::ConnectionClosed`].
    pub async fn close(&self) {
        self.inner.shared.poison(PoisonReason::Closed);
        let mut w = self.inner.writer.lock().await;
        let _ = w.shutdown().await;
        self.inner.reader.abort();
    }

    /// Writes one request while holding the writer; returns the response receiver, if any.
    /// The generic part only encodes and builds the typed response handler; the writing is
    /// [`Self::write_frame`], one copy for every request type.
    async fn write_request<R: KafkaRequest>(
        &self,
        w: &mut WriteHalf<Box<dyn Io>>,
        version: i16,
        request: &R,
    ) -> Result<Option<Waiting<R::Response>>, Error> {
        let client_id = &self.inner.settings.config.client_id;
        let frame = frame::encode_request(R::KEY, version, 0, Some(client_id), request).map_err(
            |detail| Error::Encode {
                api: R::KEY,
                version,
                detail,
            },
        )?;
        if !request.expects_response() {
            self.write_frame(w, R::KEY, frame, None).await?;
            return Ok(None);
        }
        let (tx, rx) = oneshot::channel();
        let deliver: Deliver = Box::new(move |res, sh: &Shared, sent_at| {
            let received = Instant::now();
            let frame = match res {
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return None;
                }
                Ok(frame) => frame,
            };
            match frame::decode_response::<R::Response>(frame, version) {
                Ok((_, body)) => {
                    let throttle = R::throttle_time_ms(&body).unwrap_or(0);
                    // Record before waking the caller, so its next request sees the gate.
                    sh.record_throttle(R::KEY, version, throttle, received);
                    let _ = tx.send(Ok((body, throttle, received - sent_at)));
                    None
                }
                Err(detail) => {
                    let reason = undecodable(R::KEY, version, &detail);
                    let _ = tx.send(Err(Error::Decode {
                        api: R::KEY,
                        version,
                        broker: sh.broker.clone(),
                        detail,
                    }));
                    Some(reason)
                }
            }
        });
        self.write_frame(w, R::KEY, frame, Some(deliver)).await?;
        Ok(Some(Waiting { rx, api: R::KEY }))
    }

    /// Writes an encoded request frame: waits out the broker's throttle first (KIP-219: while
    /// throttled, send nothing to this broker; holding the writer makes every other request
    /// wait too; never capped), registers `deliver` for the response (`None`: no response is
    /// coming, an acks=0 produce), sets the correlation id and writes within the request
    /// timeout. A failed or timed-out write poisons the connection.
    async fn write_frame(
        &self,
        w: &mut WriteHalf<Box<dyn Io>>,
        api: ApiKey,
        mut frame: BytesMut,
        deliver: Option<Deliver>,
    ) -> Result<(), Error> {
        let shared = &self.inner.shared;
        loop {
            let until = {
                let s = shared.lock();
                if let Some(p) = &s.poisoned {
                    return Err(p.to_error(&shared.broker, false));
                }
                s.gate.blocked_until(Instant::now())
            };
            match until {
                Some(t) => {
                    debug!(
                        wait_ms = t.saturating_duration_since(Instant::now()).as_millis() as u64,
                        "waiting out broker throttle"
                    );
                    tokio::time::sleep_until(t.into()).await;
                }
                None => break,
            }
        }
        let sent_at = Instant::now();
        let id = {
            let mut s = shared.lock();
            match deliver {
                Some(deliver) => s.in_flight.register(Pending { deliver, sent_at }),
                None => s.in_flight.next_id(),
            }
        };
        frame::set_correlation_id(&mut frame, id);
        tracing::Span::current().record("correlation_id", id);
        // A write cancelled half-way would leave a partial frame on the wire: poison then.
        let guard = PoisonOnDrop(Some(shared));
        let timeout = self.inner.settings.config.request_timeout;
        let written = tokio::time::timeout(timeout, async {
            w.write_all(&frame).await?;
            w.flush().await
        })
        .await;
        guard.disarm();
        match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                let err = Error::Io {
                    broker: shared.broker.clone(),
                    source: std::io::Error::new(e.kind(), e.to_string()),
                };
                shared.poison(PoisonReason::Io(e.kind(), e.to_string()));
                Err(err)
            }
            Err(_) => {
                shared.poison(PoisonReason::Timeout(api));
                Err(Error::Timeout {
                    api,
                    broker: shared.broker.clone(),
                    after: timeout,
                })
            }
        }
    }

    async fn wait<T: Default>(
        &self,
        pending: Option<Waiting<T>>,
        version: i16,
    ) -> Result<Response<T>, Error> {
        let broker_id = self.inner.shared.id();
        let Some(Waiting { rx, api }) = pending else {
            return Ok(Response {
                body: T::default(),
                broker_id,
                api_version: version,
                throttle_time_ms: 0,
            });
        };
        let timeout = self.inner.settings.config.request_timeout;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(Ok((body, throttle, latency)))) => {
                let span = tracing::Span::current();
                span.record("latency_us", latency.as_micros() as u64);
                span.record("throttle_ms", throttle);
                debug!(
                    latency_us = latency.as_micros() as u64,
                    throttle_ms = throttle,
                    "response"
                );
                Ok(Response {
                    body,
                    broker_id,
                    api_version: version,
                    throttle_time_ms: throttle,
                })
            }
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(_)) => Err(Error::ConnectionClosed {
                broker: self.inner.addr.clone(),
                reason: "connection dropped".into(),
                request_sent: true,
                first_request: false,
            }),
            Err(_) => {
                // Like the Java client: a timed-out connection is closed, so a late response can
                // never be taken for another request's.
                self.inner.shared.poison(PoisonReason::Timeout(api));
                Err(Error::Timeout {
                    api,
                    broker: self.inner.addr.clone(),
                    after: timeout,
                })
            }
        }
    }

    /// Sends and waits while already holding the writer (connect, SASL, re-authentication).
    async fn round_trip_locked<R: KafkaRequest>(
        &self,
        w: &mut WriteHalf<Box<dyn Io>>,
        version: i16,
        request: &R,
    ) -> Result<Response<R::Response>, Error> {
        let span = self.request_span(R::KEY, version);
        async {
            let pending = self.write_request(w, version, request).await?;
            self.wait(pending, version).await
        }
        .instrument(span)
        .await
    }

    async fn negotiate_versions(&self, w: &mut WriteHalf<Box<dyn Io>>) -> Result<(), Error> {
        // v3 (KIP-511, Kafka 2.4+) carries the client software name. A broker that does not
        // know the version answers with a v0 body and UNSUPPORTED_VERSION plus its own range;
        // then retry at the highest version it has.
        let req = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("kquota"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let mut version = 3;
        for _ in 0..2 {
            let raw = self
                .raw_round_trip(w, ApiKey::ApiVersions, version, &req)
                .instrument(self.request_span(ApiKey::ApiVersions, version))
                .await?;
            let decoded = frame::decode_response::<ApiVersionsResponse>(raw.clone(), version);
            let body = match decoded {
                Ok((_, b)) if b.error_code == 0 => b,
                other => {
                    let v0 = frame::decode_response::<ApiVersionsResponse>(raw, 0)
                        .map_err(|d| Error::Decode {
                            api: ApiKey::ApiVersions,
                            version,
                            broker: self.inner.addr.clone(),
                            detail: d,
                        })?
                        .1;
                    if v0.error_code == ResponseError::UnsupportedVersion.code() {
                        if let Some(k) = v0
                            .api_keys
                            .iter()
                            .find(|k| k.api_key == ApiKey::ApiVersions as i16)
                        {
                            version = k.max_version.min(version - 1).max(0);
                            continue;
                        }
                    }
                    let detail = match other {
                        Err(d) => d,
                        Ok((_, b)) => format!("error code {}", b.error_code),
                    };
                    return Err(Error::Decode {
                        api: ApiKey::ApiVersions,
                        version,
                        broker: self.inner.addr.clone(),
                        detail,
                    });
                }
            };
            let map = body
                .api_keys
                .iter()
                .map(|k| (k.api_key, (k.min_version, k.max_version)))
                .collect();
            let _ = self.inner.versions.set(map);
            return Ok(());
        }
        Err(Error::Protocol {
            broker: self.inner.addr.clone(),
            detail: "ApiVersions negotiation did not converge".into(),
        })
    }

    /// Sends a request and returns the raw response frame (no decoding, no poisoning).
    async fn raw_round_trip<R: KafkaRequest>(
        &self,
        w: &mut WriteHalf<Box<dyn Io>>,
        api: ApiKey,
        version: i16,
        request: &R,
    ) -> Result<Bytes, Error> {
        let shared = &self.inner.shared;
        let cfg = &self.inner.settings.config;
        let frame = frame::encode_request(api, version, 0, Some(&cfg.client_id), request).map_err(
            |detail| Error::Encode {
                api,
                version,
                detail,
            },
        )?;
        let (tx, rx) = oneshot::channel();
        let deliver: Deliver = Box::new(move |res, _, _| {
            let _ = tx.send(res);
            None
        });
        self.write_frame(w, api, frame, Some(deliver)).await?;
        let timeout = cfg.request_timeout;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(PoisonReason::Closed.to_error(&shared.broker, true)),
            Err(_) => {
                shared.poison(PoisonReason::Timeout(api));
                Err(Error::Timeout {
                    api,
                    broker: shared.broker.clone(),
                    after: timeout,
                })
            }
        }
    }

    /// SaslHandshake + SaslAuthenticate loop. Returns when to re-authenticate (KIP-368), if the
    /// broker set a session lifetime.
    /// On re-authentication `session` comes from `mech.start()`, called *before* taking the
    /// writer, so fetching a token or credentials never blocks requests on this connection;
    /// `None` starts it after the handshake (first authentication).
    async fn authenticate(
        &self,
        w: &mut WriteHalf<Box<dyn Io>>,
        mech: &dyn SaslMechanism,
        session: Option<Box<dyn crate::SaslSession>>,
    ) -> Result<Option<Instant>, Error> {
        let name = mech.name().to_owned();
        let broker = self.inner.addr.clone();
        let hs_version = self.pick_version::<SaslHandshakeRequest>()?;
        if hs_version < 1 {
            return Err(Error::UnsupportedApi {
                api: ApiKey::SaslAuthenticate,
                broker,
                needed: needed_release(ApiKey::SaslAuthenticate).into(),
            });
        }
        let hs = self
            .round_trip_locked(
                w,
                hs_version,
                &SaslHandshakeRequest::default()
                    .with_mechanism(StrBytes::from_string(name.clone())),
            )
            .await?;
        if hs.body.error_code != 0 {
            if hs.body.error_code == ResponseError::UnsupportedSaslMechanism.code() {
                return Err(AuthError::MechanismNotEnabled {
                    mechanism: name,
                    broker,
                    enabled: hs.body.mechanisms.iter().map(|m| m.to_string()).collect(),
                }
                .into());
            }
            let code = ResponseError::try_from_code(hs.body.error_code)
                .unwrap_or(ResponseError::UnknownServerError);
            // A listener without SASL (PLAINTEXT, SSL) answers a handshake with
            // ILLEGAL_SASL_STATE: the reverse of a client without SASL on a SASL listener.
            let hint = if code == ResponseError::IllegalSaslState {
                "; the listener probably does not use SASL (a PLAINTEXT or SSL listener): check security.protocol"
            } else {
                ""
            };
            return Err(AuthError::Rejected {
                mechanism: name,
                broker,
                message: format!("SaslHandshake failed: {code}{hint}"),
            }
            .into());
        }
        let auth_version = self.pick_version::<SaslAuthenticateRequest>()?;
        let mut session = match session {
            Some(s) => s,
            None => mech.start(&self.inner.host).await?,
        };
        let mut message = session.initial_response()?;
        let started = Instant::now();
        let lifetime_ms = loop {
            let req = SaslAuthenticateRequest::default()
                .with_auth_bytes(Bytes::from(std::mem::take(&mut message)));
            let resp = self.round_trip_locked(w, auth_version, &req).await?;
            if resp.body.error_code != 0 {
                let code = ResponseError::try_from_code(resp.body.error_code)
                    .unwrap_or(ResponseError::UnknownServerError);
                let msg = resp
                    .body
                    .error_message
                    .as_deref()
                    .map(str::to_owned)
                    .unwrap_or_else(|| code.to_string());
                // The broker closes the connection after a failed authentication.
                self.inner.shared.poison(PoisonReason::Auth(msg.clone()));
                return Err(AuthError::Rejected {
                    mechanism: name,
                    broker,
                    message: msg,
                }
                .into());
            }
            match session.step(&resp.body.auth_bytes)? {
                SaslStep::Respond(m) => message = m,
                SaslStep::Done => break resp.body.session_lifetime_ms,
            }
        };
        debug!(mechanism = %name, session_lifetime_ms = lifetime_ms, "authenticated");
        if lifetime_ms <= 0 {
            return Ok(None);
        }
        // KIP-368: re-authenticate at a random point between 85 % and 95 % of the lifetime,
        // counted from before the exchange (conservative), whatever the lifetime's size.
        let fraction = rand::thread_rng().gen_range(0.85..0.95);
        let lifetime = Duration::from_millis(lifetime_ms as u64);
        Ok(Some(started + lifetime.mul_f64(fraction)))
    }

    fn schedule_reauth(&self, at: Option<Instant>) {
        let Some(mut at) = at else { return };
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep_until(at.into()).await;
                let Some(inner) = weak.upgrade() else { return };
                let conn = BrokerConnection { inner };
                let Some(mech) = conn.inner.settings.sasl.clone() else {
                    return;
                };
                // A fresh token / credentials first, without holding the writer.
                let session = match mech.start(&conn.inner.host).await {
                    Ok(s) => s,
                    Err(e) => {
                        warn!(broker = %conn.inner.addr, error = %e, "re-authentication failed");
                        conn.inner.shared.poison(PoisonReason::Auth(e.to_string()));
                        return;
                    }
                };
                let mut w = conn.inner.writer.lock().await;
                if conn.is_closed() {
                    return;
                }
                // Holding the writer: nothing else is sent during the exchange; responses to
                // requests already in flight still reach their callers through the reader.
                match conn
                    .authenticate(&mut w, mech.as_ref(), Some(session))
                    .await
                {
                    Ok(Some(next)) => {
                        conn.inner
                            .reauth_count
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        debug!(broker = %conn.inner.addr, "re-authenticated");
                        at = next;
                    }
                    Ok(None) => {
                        conn.inner
                            .reauth_count
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        return;
                    }
                    Err(e) => {
                        warn!(broker = %conn.inner.addr, error = %e, "re-authentication failed");
                        conn.inner.shared.poison(PoisonReason::Auth(e.to_string()));
                        return;
                    }
                }
            }
        });
        *self.inner.reauth.lock().unwrap_or_else(|e| e.into_inner()) = Some(task.abort_handle());
    }
}

/// Why a connection that got an undecodable response is closed.
fn undecodable(api: ApiKey, version: i16, detail: &str) -> PoisonReason {
    PoisonReason::Protocol(format!("undecodable {api:?} v{version} response: {detail}"))
}

type Delivered<T> = (T, i32, Duration);

struct Waiting<T> {
    rx: oneshot::Receiver<Result<Delivered<T>, Error>>,
    api: ApiKey,
}

/// Poisons the connection if dropped before `disarm` (a cancelled, half-written request).
struct PoisonOnDrop<'a>(Option<&'a Shared>);

impl PoisonOnDrop<'_> {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for PoisonOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            s.poison(PoisonReason::Protocol(
                "request cancelled while being written".into(),
            ));
        }
    }
}
