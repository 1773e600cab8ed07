//! [`Cluster`]: bootstrap, metadata, lazy per-broker connections, routing, retries.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{MetadataRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use rand::Rng;
use tokio::sync::broadcast;
use tracing::{debug, warn};

use crate::config::ClientConfig;
use crate::connection::{BrokerConnection, ConnectSettings, Response};
use crate::metadata::ClusterMetadata;
use crate::throttle::ThrottleEvent;
use crate::{Error, KafkaRequest};

/// Where a request goes.
///
/// ```
/// use kquota_net::Target;
/// let t = Target::Leader { topic: "Topic-B".into(), partition: 0 };
/// assert_eq!(t.to_string(), "leader of Topic-B-0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Any broker (one already connected if possible).
    Any,
    /// This node id.
    Broker(i32),
    /// The controller as reported by Metadata.
    Controller,
    /// The leader of a partition (metadata refreshed if unknown).
    Leader {
        /// Topic name.
        topic: String,
        /// Partition index.
        partition: i32,
    },
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Any => f.write_str("any broker"),
            Target::Broker(id) => write!(f, "broker {id}"),
            Target::Controller => f.write_str("the controller"),
            Target::Leader { topic, partition } => write!(f, "leader of {topic}-{partition}"),
        }
    }
}

/// Connection slot of one broker: the live connection and the reconnect back-off.
#[derive(Default)]
struct Slot {
    conn: Option<BrokerConnection>,
    last_attempt: Option<Instant>,
    failures: u32,
}

struct Inner {
    settings: ConnectSettings,
    metadata: RwLock<Arc<ClusterMetadata>>,
    stale: AtomicBool,
    refresh_lock: tokio::sync::Mutex<()>,
    slots: Mutex<HashMap<i32, Arc<tokio::sync::Mutex<Slot>>>>,
    throttle_tx: broadcast::Sender<ThrottleEvent>,
    closed: AtomicBool,
}

/// A Kafka cluster client: cheap to clone (an `Arc` inside), shareable between tasks.
///
/// ```no_run
/// # async fn demo() -> Result<(), kquota_net::Error> {
/// use kafka_protocol::messages::DescribeClientQuotasRequest;
/// use kquota_net::{ClientConfig, Cluster, Target};
/// let cluster = Cluster::connect(ClientConfig::new(["localhost:9092"])).await?;
/// let resp = cluster.send(Target::Any, DescribeClientQuotasRequest::default().with_strict(false)).await?;
/// println!("{} entities, throttled {} ms by broker {}", resp.body.entries.map_or(0, |e| e.len()),
///     resp.throttle_time_ms, resp.broker_id);
/// cluster.close().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("bootstrap", &self.inner.settings.config.bootstrap)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Cluster {
    /// Connects to the first reachable bootstrap server, authenticates, and loads the broker
    /// list. Errors name every bootstrap server tried.
    pub async fn connect(config: ClientConfig) -> Result<Cluster, Error> {
        if config.bootstrap.is_empty() {
            return Err(Error::Config("no bootstrap servers given".into()));
        }
        for b in &config.bootstrap {
            crate::transport::split_host_port(b)?;
        }
        let (throttle_tx, _) = broadcast::channel(1024);
        let settings = ConnectSettings::new(config, Some(throttle_tx.clone()))?;
        let cluster = Cluster {
            inner: Arc::new(Inner {
                settings,
                metadata: RwLock::new(Arc::new(ClusterMetadata::default())),
                stale: AtomicBool::new(true),
                refresh_lock: tokio::sync::Mutex::new(()),
                slots: Mutex::new(HashMap::new()),
                throttle_tx,
                closed: AtomicBool::new(false),
            }),
        };
        cluster.bootstrap().await?;
        Ok(cluster)
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.settings.config
    }

    async fn bootstrap(&self) -> Result<(), Error> {
        let mut errors = Vec::new();
        for addr in self.inner.settings.config.bootstrap.clone() {
            match BrokerConnection::connect_with(&addr, -1, &self.inner.settings).await {
                Ok(conn) => {
                    let resp = conn
                        .send(&MetadataRequest::default().with_topics(Some(vec![])))
                        .await;
                    match resp {
                        Ok(r) => {
                            let md = ClusterMetadata::merged(None, &r.body);
                            // Keep the bootstrap connection if it is one of the advertised
                            // brokers (saves a connection: MSK limits their rate).
                            let id = md
                                .brokers
                                .values()
                                .find(|b| b.address() == addr)
                                .map(|b| b.id);
                            *self
                                .inner
                                .metadata
                                .write()
                                .unwrap_or_else(|e| e.into_inner()) = Arc::new(md);
                            self.inner.stale.store(false, Ordering::Relaxed);
                            if let Some(id) = id {
                                let slot = self.slot(id);
                                let mut s = slot.lock().await;
                                s.conn = Some(conn.relabel(id));
                                s.last_attempt = Some(Instant::now());
                            } else {
                                conn.close().await;
                            }
                            return Ok(());
                        }
                        Err(e) => errors.push(e),
                    }
                }
                // Authentication and TLS failures will not get better on another bootstrap.
                Err(e @ (Error::Auth(_) | Error::Tls { .. } | Error::Config(_))) => return Err(e),
                Err(e) => errors.push(e),
            }
        }
        if errors.len() == 1 {
            return Err(errors.remove(0));
        }
        Err(Error::NoBroker {
            target: "bootstrap".into(),
            detail: errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        })
    }

    fn slot(&self, id: i32) -> Arc<tokio::sync::Mutex<Slot>> {
        lock(&self.inner.slots).entry(id).or_default().clone()
    }

    /// The current metadata snapshot (refreshed first if stale or older than
    /// `metadata_max_age`).
    pub async fn metadata(&self) -> Result<Arc<ClusterMetadata>, Error> {
        if let Some(md) = self.metadata_now() {
            return Ok(md);
        }
        let topics: Vec<String> = self.cached().topics.keys().cloned().collect();
        self.refresh_metadata(Some(&topics)).await
    }

    /// The cached metadata snapshot when it is fresh (not marked stale, not older than
    /// `metadata_max_age`), without waiting; `None` when [`Cluster::metadata`] would refresh
    /// it first. For hot paths that must not build a future per call (the producer's send).
    ///
    /// ```no_run
    /// # async fn f(cluster: kquota_net::Cluster) -> Result<(), kquota_net::Error> {
    /// let md = match cluster.metadata_now() {
    ///     Some(md) => md,
    ///     None => cluster.metadata().await?,
    /// };
    /// println!("{} topics known", md.topics.len());
    /// # Ok(()) }
    /// ```
    pub fn metadata_now(&self) -> Option<Arc<ClusterMetadata>> {
        let md = self.cached();
        let old = md
            .fetched_at
            .is_none_or(|t| t.elapsed() > self.inner.settings.config.metadata_max_age);
        (!old && !self.inner.stale.load(Ordering::Relaxed)).then_some(md)
    }

    fn cached(&self) -> Arc<ClusterMetadata> {
        self.inner
            .metadata
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Fetches metadata for these topics (`None`: all topics) and merges it into the cache.
    pub async fn refresh_metadata(
        &self,
        topics: Option<&[String]>,
    ) -> Result<Arc<ClusterMetadata>, Error> {
        let _single_flight = self.inner.refresh_lock.lock().await;
        let req = MetadataRequest::default()
            .with_allow_auto_topic_creation(false)
            .with_topics(topics.map(|ts| {
                ts.iter()
                    .map(|t| {
                        MetadataRequestTopic::default()
                            .with_name(Some(TopicName(StrBytes::from_string(t.clone()))))
                    })
                    .collect()
            }));
        let resp = self
            .send_with_retries(Target::Any, None, &req, false)
            .await?;
        let previous = self.cached();
        let md = Arc::new(ClusterMetadata::merged(Some(&previous), &resp.body));
        *self
            .inner
            .metadata
            .write()
            .unwrap_or_else(|e| e.into_inner()) = md.clone();
        self.inner.stale.store(false, Ordering::Relaxed);
        // Drop connections to brokers that left the cluster.
        let gone: Vec<i32> = lock(&self.inner.slots)
            .keys()
            .filter(|id| !md.brokers.contains_key(id))
            .copied()
            .collect();
        for id in gone {
            lock(&self.inner.slots).remove(&id);
        }
        Ok(md)
    }

    /// Throttle notifications: one [`ThrottleEvent`] per response with `throttle_time_ms > 0`
    /// (every response's value is also in [`Response::throttle_time_ms`]). A slow subscriber
    /// loses the oldest events (`RecvError::Lagged`), never blocks the client.
    pub fn throttle_events(&self) -> broadcast::Receiver<ThrottleEvent> {
        self.inner.throttle_tx.subscribe()
    }

    /// Closes every connection; later calls fail with [`Error::Closed`].
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::Relaxed);
        let slots: Vec<_> = lock(&self.inner.slots).drain().map(|(_, s)| s).collect();
        for slot in slots {
            let conn = slot.lock().await.conn.take();
            if let Some(c) = conn {
                c.close().await;
            }
        }
    }

    /// Sends `request` to `target` at the highest version both sides support (capped by
    /// [`ClientConfig::cap_version`]), retrying retriable failures (see [`KafkaRequest::RETRY_SAFE`]).
    ///
    /// Produce with `acks = 0` returns once written, with a default (empty) body.
    /// Per-partition errors are left in the body for the caller; routing errors in it
    /// (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION...) mark the metadata stale, and when
    /// *every* code is such an error the request is retried on the new leader.
    pub async fn send<R: KafkaRequest>(
        &self,
        target: Target,
        request: R,
    ) -> Result<Response<R::Response>, Error> {
        self.send_with_retries(target, None, &request, true).await
    }

    /// Like [`send`](Self::send) with an explicit version.
    pub async fn send_version<R: KafkaRequest>(
        &self,
        target: Target,
        version: i16,
        request: R,
    ) -> Result<Response<R::Response>, Error> {
        self.send_with_retries(target, Some(version), &request, true)
            .await
    }

    /// A connection to `broker_id` (opened if needed; respects the reconnect back-off).
    pub async fn connection(&self, broker_id: i32) -> Result<BrokerConnection, Error> {
        if self.inner.closed.load(Ordering::Relaxed) {
            return Err(Error::Closed);
        }
        let md = self.cached();
        let Some(info) = md.brokers.get(&broker_id) else {
            // Perhaps it (re)joined since the last refresh: look again before the next try.
            self.inner.stale.store(true, Ordering::Relaxed);
            return Err(Error::NoBroker {
                target: format!("broker {broker_id}"),
                detail: "not in the cluster metadata".into(),
            });
        };
        let addr = info.address();
        let slot = self.slot(broker_id);
        let mut s = slot.lock().await;
        if let Some(c) = &s.conn {
            if !c.is_closed() && c.address() == addr {
                return Ok(c.clone());
            }
            s.conn = None;
        }
        let cfg = &self.inner.settings.config;
        if let Some(last) = s.last_attempt {
            // At least `reconnect_backoff` (>= 1 s) between attempts, doubling per failure.
            let factor = 2u32.saturating_pow(s.failures.saturating_sub(1).min(16));
            let backoff = cfg
                .reconnect_backoff
                .saturating_mul(factor)
                .min(cfg.reconnect_backoff_max);
            let ready = last + backoff;
            if ready > Instant::now() {
                debug!(
                    broker = broker_id,
                    wait_ms = (ready - Instant::now()).as_millis() as u64,
                    "reconnect back-off"
                );
                tokio::time::sleep_until(ready.into()).await;
            }
        }
        s.last_attempt = Some(Instant::now());
        match BrokerConnection::connect_with(&addr, broker_id, &self.inner.settings).await {
            Ok(c) => {
                s.failures = 0;
                s.conn = Some(c.clone());
                Ok(c)
            }
            Err(e) => {
                s.failures = s.failures.saturating_add(1);
                self.inner.stale.store(true, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    async fn resolve(&self, target: &Target) -> Result<i32, Error> {
        let md = if self.inner.stale.load(Ordering::Relaxed) {
            let topics: Vec<String> = self.cached().topics.keys().cloned().collect();
            match self.refresh_metadata(Some(&topics)).await {
                Ok(md) => md,
                Err(e) => {
                    warn!(error = %e, "metadata refresh failed; routing with the cached metadata");
                    self.cached()
                }
            }
        } else {
            self.cached()
        };
        match target {
            Target::Any => {
                // Prefer a broker we are already connected to.
                let connected: Vec<i32> = {
                    let slots = lock(&self.inner.slots);
                    slots
                        .iter()
                        .filter(|(id, s)| {
                            md.brokers.contains_key(id)
                                && s.try_lock()
                                    .is_ok_and(|s| s.conn.as_ref().is_some_and(|c| !c.is_closed()))
                        })
                        .map(|(id, _)| *id)
                        .collect()
                };
                let pool: Vec<i32> = if connected.is_empty() {
                    md.brokers.keys().copied().collect()
                } else {
                    connected
                };
                if pool.is_empty() {
                    return Err(Error::NoBroker {
                        target: target.to_string(),
                        detail: "metadata lists no brokers".into(),
                    });
                }
                Ok(pool[rand::thread_rng().gen_range(0..pool.len())])
            }
            Target::Broker(id) => Ok(*id),
            Target::Controller => md.controller_id.ok_or_else(|| Error::NoBroker {
                target: target.to_string(),
                detail: "metadata names no controller".into(),
            }),
            Target::Leader { topic, partition } => {
                if let Some(l) = md.leader(topic, *partition) {
                    return Ok(l);
                }
                let md = self
                    .refresh_metadata(Some(std::slice::from_ref(topic)))
                    .await?;
                match md.topics.get(topic) {
                    None => Err(Error::NoBroker {
                        target: target.to_string(),
                        detail: format!("topic {topic} does not exist"),
                    }),
                    Some(t) => match t.partitions.get(partition) {
                        None => Err(Error::NoBroker {
                            target: target.to_string(),
                            detail: match t.partitions.len() {
                                1 => format!("topic {topic} has 1 partition"),
                                n => format!("topic {topic} has {n} partitions"),
                            },
                        }),
                        Some(p) => p.leader.ok_or_else(|| Error::NoBroker {
                            target: target.to_string(),
                            detail: "the partition has no leader right now".into(),
                        }),
                    },
                }
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let cfg = &self.inner.settings.config;
        let exp = cfg
            .retry_backoff
            .saturating_mul(2u32.saturating_pow(attempt.min(16)));
        let capped = exp.min(cfg.retry_backoff_max);
        // Full jitter in [50 %, 100 %] so clients that failed together do not retry together.
        capped.mul_f64(rand::thread_rng().gen_range(0.5..=1.0))
    }

    async fn send_with_retries<R: KafkaRequest>(
        &self,
        target: Target,
        version: Option<i16>,
        request: &R,
        refresh_on_routing_error: bool,
    ) -> Result<Response<R::Response>, Error> {
        let retries = self.inner.settings.config.retries;
        let mut attempt = 0u32;
        loop {
            let result = async {
                let broker = match target {
                    // Metadata itself must not recurse into a refresh.
                    Target::Any if !refresh_on_routing_error => {
                        let md = self.cached();
                        let ids: Vec<i32> = md.brokers.keys().copied().collect();
                        if ids.is_empty() {
                            return Err(Error::NoBroker {
                                target: "any broker".into(),
                                detail: "no brokers known".into(),
                            });
                        }
                        let connected = ids.iter().copied().find(|id| {
                            lock(&self.inner.slots).get(id).is_some_and(|s| {
                                s.try_lock()
                                    .is_ok_and(|s| s.conn.as_ref().is_some_and(|c| !c.is_closed()))
                            })
                        });
                        connected.unwrap_or(ids[rand::thread_rng().gen_range(0..ids.len())])
                    }
                    // Boxed: resolving may refresh metadata, which sends through here again.
                    _ => Box::pin(self.resolve(&target)).await?,
                };
                let conn = self.connection(broker).await?;
                match version {
                    Some(v) => conn.send_version(v, request).await,
                    None => conn.send(request).await,
                }
            }
            .await;
            match result {
                Ok(resp) => {
                    let mut routing = 0usize;
                    let mut total = 0usize;
                    R::error_codes(&resp.body, &mut |code| {
                        if code == 0 {
                            total += 1;
                            return;
                        }
                        total += 1;
                        if matches!(
                            ResponseError::try_from_code(code),
                            Some(
                                ResponseError::NotLeaderOrFollower
                                    | ResponseError::UnknownTopicOrPartition
                                    | ResponseError::LeaderNotAvailable
                                    | ResponseError::NotController
                                    | ResponseError::FencedLeaderEpoch
                                    | ResponseError::UnknownLeaderEpoch
                            )
                        ) {
                            routing += 1;
                        }
                    });
                    if routing > 0 {
                        debug!(api = ?R::KEY, routing_errors = routing, "routing error in response; metadata marked stale");
                        self.inner.stale.store(true, Ordering::Relaxed);
                        // Nothing in the request was applied: safe to retry even a Produce.
                        if routing == total
                            && attempt < retries
                            && refresh_on_routing_error
                            && target != Target::Any
                        {
                            tokio::time::sleep(self.backoff(attempt)).await;
                            attempt += 1;
                            continue;
                        }
                    }
                    return Ok(resp);
                }
                Err(e) => {
                    if matches!(e, Error::Closed) {
                        return Err(e);
                    }
                    if matches!(
                        e,
                        Error::Io { .. }
                            | Error::ConnectionClosed { .. }
                            | Error::Connect { .. }
                            | Error::ConnectTimeout { .. }
                            | Error::Timeout { .. }
                    ) {
                        self.inner.stale.store(true, Ordering::Relaxed);
                    }
                    let retry =
                        e.is_retriable() && (R::RETRY_SAFE || e.not_sent()) && attempt < retries;
                    if !retry {
                        return Err(e);
                    }
                    debug!(api = ?R::KEY, attempt, error = %e, "retrying");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }
}
