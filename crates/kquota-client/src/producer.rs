//! The producer: sync and async sends, batching, acks 0/1/all, idempotence, delivery timeout.
//!
//! Every record ends acknowledged (its [`RecordMetadata`]) or reported failed (a
//! [`ClientError`]): none vanish. A sender task drains the [`Accumulator`] into one Produce
//! request per leader, keeping at most one batch per partition in flight so retries never
//! reorder; with idempotence (the default with `acks=all`) the broker drops duplicates of a
//! retried batch by its producer id and sequence.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{InitProducerIdRequest, ProduceRequest, ProducerId, TopicName};
use kafka_protocol::protocol::{Encodable, StrBytes};
use kquota_net::{Cluster, Target};
use tokio::sync::Notify;
use tracing::{debug, warn};

use crate::accumulator::{Accumulator, Batch, PendingRecord, Sequences, BATCH_OVERHEAD};
use crate::buffer::{BufferPool, Reservation};
use crate::compression::CompressionType;
pub use crate::delivery::DeliveryFuture;
use crate::error::{ClientError, InvalidSetting};
use crate::metrics::{ClientKind, ClientMetrics, MetricConfig};
use crate::partitioner::DefaultPartitioner;
use crate::types::{ProducerRecord, RecordMetadata, TopicPartition};

/// Acknowledgement level (`acks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Acks {
    /// `acks=0`: fire and forget (no response, offsets unknown).
    None,
    /// `acks=1`: the leader wrote it.
    Leader,
    /// `acks=all` (-1): every in-sync replica wrote it.
    #[default]
    All,
}

impl Acks {
    /// The wire value.
    pub fn wire(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }
}

impl std::str::FromStr for Acks {
    type Err = ClientError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "0" => Ok(Acks::None),
            "1" => Ok(Acks::Leader),
            "all" | "-1" => Ok(Acks::All),
            other => Err(ClientError::Config(format!(
                "acks must be 0, 1 or all, not '{other}'"
            ))),
        }
    }
}

/// Producer settings (Java names in the docs).
///
/// ```
/// use std::time::Duration;
/// use kquota_client::producer::{Acks, ProducerConfig};
/// let c = ProducerConfig { acks: Acks::Leader, linger: Duration::ZERO, ..ProducerConfig::default() };
/// assert!(!c.idempotence_enabled()); // idempotence needs acks=all
/// assert!(ProducerConfig::default().idempotence_enabled());
/// ```
#[derive(Debug, Clone)]
pub struct ProducerConfig {
    /// `acks` (default all).
    pub acks: Acks,
    /// `enable.idempotence`: `None` = on exactly when `acks=all` (Java default behaviour).
    pub idempotence: Option<bool>,
    /// `batch.size` in bytes (16384).
    pub batch_size: usize,
    /// `linger.ms` (5 ms).
    pub linger: Duration,
    /// `buffer.memory` in bytes (32 MiB): bounds the memory of records not yet acknowledged,
    /// each counted as its wire size plus kquota's bookkeeping for it (~250 bytes), so small
    /// records fill it sooner than their bytes alone would.
    pub buffer_memory: usize,
    /// `max.block.ms` (60 s): how long `send` waits for buffer space.
    pub max_block: Duration,
    /// `delivery.timeout.ms` (120 s): how long a record may take from send to acknowledgement.
    pub delivery_timeout: Duration,
    /// `request.timeout.ms` (30 s): the Produce request's broker-side timeout.
    pub request_timeout: Duration,
    /// `retry.backoff.ms` (100 ms).
    pub retry_backoff: Duration,
    /// `max.request.size` (1 MiB): the largest record accepted.
    pub max_request_size: usize,
    /// `compression.type` (none).
    pub compression: CompressionType,
    /// Metric windows (2 × 30 s).
    pub metrics: MetricConfig,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            acks: Acks::All,
            idempotence: None,
            batch_size: 16_384,
            linger: Duration::from_millis(5),
            buffer_memory: 32 * 1024 * 1024,
            max_block: Duration::from_secs(60),
            delivery_timeout: Duration::from_secs(120),
            request_timeout: Duration::from_secs(30),
            retry_backoff: Duration::from_millis(100),
            max_request_size: 1024 * 1024,
            compression: CompressionType::None,
            metrics: MetricConfig::default(),
        }
    }
}

impl ProducerConfig {
    /// Whether the idempotent producer is used.
    pub fn idempotence_enabled(&self) -> bool {
        self.idempotence.unwrap_or(self.acks == Acks::All)
    }

    /// Checks the settings that do not need a broker (e.g. idempotence needs `acks=all`);
    /// [`Producer::new`] calls it too.
    ///
    /// ```
    /// use kquota_client::{Acks, ProducerConfig};
    /// let c = ProducerConfig { acks: Acks::Leader, idempotence: Some(true), ..ProducerConfig::default() };
    /// assert!(c.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), ClientError> {
        self.check().map_err(ClientError::from)
    }

    /// [`Self::validate`] naming the Java config keys at fault.
    ///
    /// ```
    /// use kquota_client::ProducerConfig;
    /// let c = ProducerConfig { batch_size: 0, ..ProducerConfig::default() };
    /// assert_eq!(c.check().unwrap_err().keys, ["batch.size"]);
    /// ```
    pub fn check(&self) -> Result<(), InvalidSetting> {
        if self.idempotence == Some(true) && self.acks != Acks::All {
            return Err(InvalidSetting::new(
                &["enable.idempotence", "acks"],
                "idempotence requires acks=all (set acks=all or disable idempotence)",
            ));
        }
        // A batch may wait `linger` before it is sent at all: a shorter delivery timeout expires
        // records that were never tried (Java refuses it too, with request.timeout.ms added).
        if self.delivery_timeout < self.linger {
            return Err(InvalidSetting::new(
                &["delivery.timeout.ms", "linger.ms"],
                format!(
                    "delivery.timeout.ms ({} ms) must be at least linger.ms ({} ms)",
                    self.delivery_timeout.as_millis(),
                    self.linger.as_millis()
                ),
            ));
        }
        for (key, value) in [
            ("batch.size", self.batch_size),
            ("buffer.memory", self.buffer_memory),
            ("max.request.size", self.max_request_size),
        ] {
            if value == 0 {
                return Err(InvalidSetting::new(&[key], format!("{key} must be > 0")));
            }
        }
        Ok(())
    }
}

/// Why [`Producer::try_send`] did not take a record.
#[derive(Debug, thiserror::Error)]
pub enum TrySendError {
    /// Taking it would mean waiting (for metadata or buffer space); the record is given back
    /// unsent, for [`Producer::send`] (boxed: this is the slow path, and it keeps the common
    /// `Result` small).
    #[error("sending to topic '{}' would wait for metadata or buffer space", .0.topic)]
    WouldBlock(Box<ProducerRecord>),
    /// The record is refused (too large, unknown partition, producer closed): the error
    /// [`Producer::send`] would give.
    #[error(transparent)]
    Refused(ClientError),
}

/// An explicit partition must exist in the topic.
fn check_partition(record: &ProducerRecord, partitions: usize) -> Result<(), ClientError> {
    match record.partition {
        Some(p) if p < 0 || p as usize >= partitions => Err(ClientError::UnknownPartition {
            topic: record.topic.to_string(),
            partition: p,
            partitions,
        }),
        _ => Ok(()),
    }
}

#[derive(Debug, Default)]
struct State {
    acc: Option<Accumulator>,
    partitioner: DefaultPartitioner,
    seq: Sequences,
    in_flight: HashSet<TopicPartition>,
    retry_at: BTreeMap<TopicPartition, Instant>,
    flushing: usize,
    closing: bool,
    /// Brokers we hold batches back from while they throttle us, since when.
    held: BTreeMap<i32, Instant>,
    needs_reset: bool,
}

#[derive(Debug)]
struct Shared {
    cluster: Cluster,
    config: ProducerConfig,
    state: Mutex<State>,
    wake: Notify,
    idle: Notify,
    buffer: BufferPool,
    metrics: ClientMetrics,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A Kafka producer over a [`Cluster`].
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use kquota_client::producer::{Producer, ProducerConfig};
/// use kquota_client::ProducerRecord;
/// use kquota_net::{ClientConfig, Cluster};
/// let cluster = Cluster::connect(ClientConfig::new(["127.0.0.1:9092"])).await?;
/// let producer = Producer::new(cluster, ProducerConfig::default()).await?;
/// let md = producer.send_sync(ProducerRecord::new("Topic-B", "hello")).await?; // sync
/// let pending = producer.send(ProducerRecord::new("Topic-B", "world")).await?; // async
/// println!("{md:?} {:?}", pending.await?);
/// let m = producer.metrics().snapshot();
/// println!("produce-throttle-time-avg = {}", m.throttle_time_avg);
/// producer.close().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Producer {
    shared: Arc<Shared>,
    sender: tokio::task::JoinHandle<()>,
}

/// The memory a buffered record takes: its wire size plus its slot in the batch and the slot
/// of its future's waker (the batch's shared outcome and topic name are per batch). Counting
/// only the wire bytes let 100-byte records use ~4x `buffer.memory` (measured: 32 MiB buffer,
/// 115 MiB RSS); the Java client counts its batch buffers, i.e. what is really held.
fn record_footprint(wire_size: usize) -> usize {
    use std::mem::size_of;
    wire_size + size_of::<PendingRecord>() + size_of::<Option<std::task::Waker>>()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Producer {
    /// Creates a producer; with idempotence it first obtains a producer id (InitProducerId).
    pub async fn new(cluster: Cluster, config: ProducerConfig) -> Result<Producer, ClientError> {
        config.validate()?;
        let state = State {
            acc: Some(Accumulator::new(config.batch_size, config.linger)),
            ..State::default()
        };
        let shared = Arc::new(Shared {
            buffer: BufferPool::new(config.buffer_memory),
            metrics: ClientMetrics::with_config(ClientKind::Producer, config.metrics),
            cluster,
            config,
            state: Mutex::new(state),
            wake: Notify::new(),
            idle: Notify::new(),
        });
        if shared.config.idempotence_enabled() {
            let p = init_producer_id(&shared).await?;
            shared.lock().seq.reset(Some(p));
        }
        let sender = tokio::spawn(sender_loop(Arc::clone(&shared)));
        Ok(Producer { shared, sender })
    }

    /// The producer's metrics (shared; keeps updating).
    pub fn metrics(&self) -> ClientMetrics {
        self.shared.metrics.clone()
    }

    /// The configuration in use.
    pub fn config(&self) -> &ProducerConfig {
        &self.shared.config
    }

    /// The producer id and epoch of the idempotent producer.
    pub fn producer_id(&self) -> Option<(i64, i16)> {
        self.shared.lock().seq.producer
    }

    async fn partitions_of(
        &self,
        topic: &str,
    ) -> Result<(usize, Arc<kquota_net::ClusterMetadata>), ClientError> {
        let md = self
            .shared
            .cluster
            .metadata()
            .await
            .map_err(|e| ClientError::net(format!("metadata for topic '{topic}'"), e))?;
        if let Some(t) = md.topics.get(topic) {
            if !t.partitions.is_empty() {
                return Ok((t.partitions.len(), md.clone()));
            }
        }
        let md = self
            .shared
            .cluster
            .refresh_metadata(Some(&[topic.to_owned()]))
            .await
            .map_err(|e| ClientError::net(format!("metadata for topic '{topic}'"), e))?;
        match md.topics.get(topic) {
            Some(t) if !t.partitions.is_empty() => Ok((t.partitions.len(), md.clone())),
            _ => Err(ClientError::missing_topic(topic, &md)),
        }
    }

    /// Queues a record (waiting up to `max_block` for buffer space) and returns a future for
    /// its outcome. An error here means the record was not accepted.
    pub async fn send(&self, record: ProducerRecord) -> Result<DeliveryFuture, ClientError> {
        match self.try_send(record) {
            Ok(f) => Ok(f),
            Err(TrySendError::Refused(e)) => Err(e),
            // Boxed: the waiting path's state (metadata refresh, buffer wait) is large, and a
            // future holding it inline was built and moved per record (a third of a 100-byte
            // produce run was that memcpy, measured with perf).
            Err(TrySendError::WouldBlock(record)) => Box::pin(self.send_waiting(*record)).await,
        }
    }

    /// Queues a record if that needs no waiting: its topic's metadata is cached and fresh, and
    /// the buffer has room. [`TrySendError::WouldBlock`] gives the record back (then
    /// [`Producer::send`] waits for what was missing); [`TrySendError::Refused`] is what `send`
    /// would have failed with.
    ///
    /// ```no_run
    /// # async fn f(producer: kquota_client::Producer) -> Result<(), kquota_client::ClientError> {
    /// use kquota_client::producer::TrySendError;
    /// let record = kquota_client::ProducerRecord::new("Topic-B", "hello");
    /// let pending = match producer.try_send(record) {
    ///     Ok(pending) => pending,
    ///     Err(TrySendError::WouldBlock(record)) => producer.send(*record).await?,
    ///     Err(TrySendError::Refused(e)) => return Err(e),
    /// };
    /// producer.flush_nowait();
    /// pending.await?;
    /// # Ok(()) }
    /// ```
    pub fn try_send(&self, record: ProducerRecord) -> Result<DeliveryFuture, TrySendError> {
        let size = self.check_size(&record).map_err(TrySendError::Refused)?;
        let Some(md) = self.shared.cluster.metadata_now() else {
            return Err(TrySendError::WouldBlock(Box::new(record)));
        };
        let partitions = match md.topics.get(&*record.topic) {
            Some(t) if !t.partitions.is_empty() => t.partitions.len(),
            _ => return Err(TrySendError::WouldBlock(Box::new(record))),
        };
        check_partition(&record, partitions).map_err(TrySendError::Refused)?;
        let footprint = self.footprint(size);
        let Some(reservation) = self.shared.buffer.try_reserve(footprint) else {
            return Err(TrySendError::WouldBlock(Box::new(record)));
        };
        self.enqueue(record, size, partitions, &md, reservation)
            .map_err(TrySendError::Refused)
    }

    /// `send` when something must be waited for: metadata, or buffer space (up to `max_block`).
    async fn send_waiting(&self, record: ProducerRecord) -> Result<DeliveryFuture, ClientError> {
        let size = self.check_size(&record)?;
        let (partitions, md) = self.partitions_of(&record.topic).await?;
        check_partition(&record, partitions)?;
        let footprint = self.footprint(size);
        let reservation = self
            .shared
            .buffer
            .reserve(footprint, self.shared.config.max_block)
            .await?;
        self.enqueue(record, size, partitions, &md, reservation)
    }

    /// The record's wire size, refused when a batch of it alone exceeds `max.request.size`.
    fn check_size(&self, record: &ProducerRecord) -> Result<usize, ClientError> {
        let size = record.estimated_size();
        let max = self.shared.config.max_request_size;
        if size + BATCH_OVERHEAD > max {
            return Err(ClientError::RecordTooLarge {
                size,
                max,
                what: "max.request.size",
            });
        }
        Ok(size)
    }

    /// What the record holds of `buffer.memory`: its bytes plus kquota's own bookkeeping for
    /// it (see `record_footprint`). A record whose bytes alone fit takes at most the whole
    /// buffer; a larger one asks for its own size, which `reserve` refuses saying so.
    fn footprint(&self, size: usize) -> usize {
        let total = self.shared.buffer.total();
        if size > total {
            size
        } else {
            record_footprint(size).min(total)
        }
    }

    /// Picks the partition and appends the record to its batch (no waiting).
    fn enqueue(
        &self,
        record: ProducerRecord,
        size: usize,
        partitions: usize,
        md: &kquota_net::ClusterMetadata,
        reservation: Reservation,
    ) -> Result<DeliveryFuture, ClientError> {
        let future = {
            let mut st = self.shared.lock();
            if st.closing {
                return Err(ClientError::Closed("producer"));
            }
            let partition = match record.partition {
                Some(p) => p as usize,
                None if record.key.is_none() => {
                    let metrics = &self.shared.metrics;
                    let topic = &*record.topic;
                    let throttled = |p: usize| {
                        md.leader(topic, p as i32)
                            .and_then(|l| metrics.throttled_until(l))
                            .is_some()
                    };
                    st.partitioner.avoid(topic, partitions, &throttled)
                }
                None => st
                    .partitioner
                    .partition(&record.topic, record.key.as_deref(), partitions),
            };
            let tp = TopicPartition::new(record.topic.clone(), partition as i32);
            let keyed = record.key.is_some() || record.partition.is_some();
            let timestamp = record.timestamp.unwrap_or_else(now_ms);
            let pending = PendingRecord {
                record,
                timestamp,
                size,
            };
            let Some(acc) = st.acc.as_mut() else {
                return Err(ClientError::Closed("producer"));
            };
            let (future, new_batch) = acc.append(&tp, pending, reservation, Instant::now);
            if new_batch && !keyed {
                st.partitioner
                    .on_new_batch(&tp.topic, partition, partitions);
            }
            future
        };
        self.shared.wake.notify_one();
        Ok(future)
    }

    /// Sends a record and waits for its acknowledgement (the sample apps' `sync` mode).
    pub async fn send_sync(&self, record: ProducerRecord) -> Result<RecordMetadata, ClientError> {
        let fut = self.send(record).await?;
        self.flush_nowait();
        fut.await
    }

    /// Sends everything queued now, without waiting for `linger` and without waiting for the
    /// outcomes (await the records' [`DeliveryFuture`]s for those). What the Java client's
    /// `close()` does first: the last records of a run leave at once.
    ///
    /// ```no_run
    /// # async fn f(producer: kquota_client::Producer) -> Result<(), kquota_client::ClientError> {
    /// let pending = producer.send(kquota_client::ProducerRecord::new("Topic-B", "last")).await?;
    /// producer.flush_nowait();
    /// pending.await?;
    /// # Ok(()) }
    /// ```
    pub fn flush_nowait(&self) {
        self.shared.lock().flushing += 1;
        self.shared.wake.notify_one();
        // The flag is consumed by the sender once the queue is drained.
    }

    /// Sends everything queued now and waits until each of those records is acknowledged or
    /// reported failed.
    pub async fn flush(&self) {
        self.shared.lock().flushing += 1;
        loop {
            let idle = self.shared.idle.notified();
            self.shared.wake.notify_one();
            {
                let st = self.shared.lock();
                let empty = st.acc.as_ref().is_none_or(|a| a.is_empty());
                if empty && st.in_flight.is_empty() {
                    break;
                }
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), idle).await;
        }
    }

    /// Flushes, then stops the sender. Records still queued after `delivery_timeout` are failed
    /// by the usual expiry; nothing is dropped silently.
    pub async fn close(self) {
        self.flush().await;
        {
            let mut st = self.shared.lock();
            st.closing = true;
            if let Some(mut acc) = st.acc.take() {
                for b in acc.drain_all() {
                    b.fail(&ClientError::Closed("producer"));
                }
            }
        }
        self.shared.buffer.close();
        self.shared.wake.notify_one();
        let _ = self.sender.await;
    }
}

async fn init_producer_id(shared: &Shared) -> Result<(i64, i16), ClientError> {
    let mut attempt = 0u32;
    loop {
        let req = InitProducerIdRequest::default()
            .with_transactional_id(None)
            .with_transaction_timeout_ms(60_000)
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1);
        let resp = shared
            .cluster
            .send(Target::Any, req)
            .await
            .map_err(|e| ClientError::net("InitProducerId (idempotent producer)", e))?;
        shared
            .metrics
            .record_throttle(resp.broker_id, resp.throttle_time_ms);
        let code = resp.body.error_code;
        if code == 0 {
            return Ok((resp.body.producer_id.0, resp.body.producer_epoch));
        }
        attempt += 1;
        // The transaction coordinator is still loading on a fresh or restarted broker.
        if crate::error::is_retriable_code(code) && attempt < 30 {
            tokio::time::sleep(shared.config.retry_backoff * attempt.min(10)).await;
            continue;
        }
        return Err(ClientError::broker(
            "InitProducerId (idempotent producer: set enable.idempotence=false, or grant IDEMPOTENT_WRITE)",
            code,
            None,
        ));
    }
}

/// One sender iteration's work: batches grouped by leader.
type Drained = BTreeMap<i32, Vec<Batch>>;

async fn sender_loop(shared: Arc<Shared>) {
    loop {
        // Re-initialise the producer id after a sequence was lost (expired in-flight batch,
        // OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID), once nothing is in flight.
        let reset = {
            let st = shared.lock();
            st.needs_reset && st.in_flight.is_empty()
        };
        if reset {
            match init_producer_id(&shared).await {
                Ok(p) => {
                    let mut st = shared.lock();
                    st.seq.reset(Some(p));
                    if let Some(acc) = st.acc.as_mut() {
                        acc.clear_sequences();
                    }
                    st.needs_reset = false;
                }
                Err(e) => {
                    warn!(error = %e, "could not re-initialise the idempotent producer; retrying");
                    tokio::time::sleep(shared.config.retry_backoff).await;
                    continue;
                }
            }
        }
        let md = shared.cluster.metadata().await.ok();
        let now = Instant::now();
        let (drained, deadline, done, blocked) = {
            let mut guard = shared.lock();
            let st = &mut *guard;
            let Some(acc) = st.acc.as_mut() else { break };
            let in_flight = &st.in_flight;
            let expired = acc.expire(now, shared.config.delivery_timeout, &|tp| {
                in_flight.contains(tp)
            });
            for b in expired {
                let err = b.expired_error(now);
                warn!(%err, "delivery timeout");
                if b.base_sequence.is_some() {
                    st.needs_reset = true;
                }
                b.fail(&err);
            }
            let flush = st.flushing > 0 || st.closing;
            let mut drained: Drained = BTreeMap::new();
            let mut blocked_on_metadata = false;
            let mut throttle_end: Option<Instant> = None;
            if !st.needs_reset {
                for tp in acc.ready(now, flush) {
                    if st.in_flight.contains(&tp) {
                        continue;
                    }
                    if st.retry_at.get(&tp).is_some_and(|t| *t > now) {
                        continue;
                    }
                    let Some(leader) = md.as_ref().and_then(|m| m.leader(&tp.topic, tp.partition))
                    else {
                        blocked_on_metadata = true;
                        continue;
                    };
                    // KIP-219: send nothing to a broker that throttles us until the throttle
                    // ends. The batches wait here, where the delivery timeout can expire them.
                    if let Some(until) = shared.metrics.throttled_until(leader) {
                        st.held.entry(leader).or_insert(now);
                        throttle_end = Some(throttle_end.map_or(until, |t: Instant| t.min(until)));
                        continue;
                    }
                    if let Some(since) = st.held.remove(&leader) {
                        shared
                            .metrics
                            .add_throttle_wait(leader, now.saturating_duration_since(since));
                    }
                    let Some(mut batch) = acc.take_front(&tp) else {
                        continue;
                    };
                    st.seq.assign(&mut batch);
                    st.retry_at.remove(&tp);
                    st.in_flight.insert(tp);
                    drained.entry(leader).or_default().push(batch);
                }
            }
            if acc.is_empty() && st.in_flight.is_empty() && drained.is_empty() {
                st.flushing = 0;
            }
            let mut deadline = acc.next_deadline(shared.config.delivery_timeout);
            if let Some(t) = st.retry_at.values().min() {
                deadline = Some(deadline.map_or(*t, |d| d.min(*t)));
            }
            if blocked_on_metadata {
                deadline = Some(now + shared.config.retry_backoff);
            }
            if let Some(t) = throttle_end {
                deadline = Some(deadline.map_or(t, |d| d.min(t)));
            }
            let done = st.closing && acc.is_empty() && st.in_flight.is_empty();
            (drained, deadline, done, blocked_on_metadata)
        };
        if blocked || md.is_none() {
            // A partition without a known leader (broker restarting, new topic): ask again.
            let topics: Vec<String> = md
                .as_ref()
                .map(|m| m.topics.keys().cloned().collect())
                .unwrap_or_default();
            let _ = shared.cluster.refresh_metadata(Some(&topics)).await;
        }
        for (leader, batches) in drained {
            tokio::spawn(send_batches(Arc::clone(&shared), leader, batches));
        }
        if done {
            break;
        }
        let wake = shared.wake.notified();
        match deadline {
            Some(d) if d > now => {
                let _ = tokio::time::timeout_at(d.into(), wake).await;
            }
            // A past deadline means the ready batches are blocked (their partition is in
            // flight): the response's `finish` wakes us; the timeout is only a safety net.
            Some(_) => {
                let _ = tokio::time::timeout(Duration::from_millis(100), wake).await;
            }
            None => {
                let _ = tokio::time::timeout(Duration::from_secs(1), wake).await;
            }
        }
    }
}

/// Sends one Produce request with `batches` to `leader` and settles each batch.
async fn send_batches(shared: Arc<Shared>, leader: i32, batches: Vec<Batch>) {
    let config = &shared.config;
    let md = shared.cluster.metadata().await.ok();
    let codec = config.compression.codec();
    let mut topics: BTreeMap<Arc<str>, Vec<PartitionProduceData>> = BTreeMap::new();
    let mut records = 0u64;
    let mut ok_batches = Vec::with_capacity(batches.len());
    for b in batches {
        match b.encode(codec) {
            Ok(bytes) => {
                records += b.len() as u64;
                topics.entry(b.tp.topic.clone()).or_default().push(
                    PartitionProduceData::default()
                        .with_index(b.tp.partition)
                        .with_records(Some(bytes)),
                );
                ok_batches.push(b);
            }
            Err(e) => finish(&shared, vec![b], |b| Outcome::Fail(b, e.clone())),
        }
    }
    let batches = ok_batches;
    if batches.is_empty() {
        return;
    }
    let topic_data = topics
        .into_iter()
        .map(|(name, parts)| {
            let id = md
                .as_ref()
                .and_then(|m| m.topics.get(&*name))
                .map(|t| t.topic_id)
                .unwrap_or_default();
            TopicProduceData::default()
                .with_name(TopicName(StrBytes::from_string(name.to_string())))
                .with_topic_id(id)
                .with_partition_data(parts)
        })
        .collect();
    let req = ProduceRequest::default()
        .with_acks(config.acks.wire())
        .with_timeout_ms(config.request_timeout.as_millis().min(i32::MAX as u128) as i32)
        .with_topic_data(topic_data);
    let result = shared
        .cluster
        .send(Target::Broker(leader), req.clone())
        .await;
    match result {
        Err(e) => {
            let err = ClientError::net(format!("produce to broker {leader}"), e);
            debug!(%err, "produce failed");
            let retriable = err.is_retriable();
            finish(&shared, batches, |b| {
                if retriable {
                    Outcome::Retry(b, err.clone())
                } else {
                    Outcome::Fail(b, err.clone())
                }
            });
        }
        Ok(resp) => {
            // Bytes the broker counts against producer_byte_rate: the whole request.
            let size = req.compute_size(resp.api_version).unwrap_or(0) as u64
                + 10
                + shared.cluster.config().get_client_id().len() as u64;
            shared
                .metrics
                .record_response(resp.broker_id, resp.throttle_time_ms, size, records);
            if config.acks == Acks::None {
                finish(&shared, batches, |b| Outcome::Done(b, -1, -1));
                return;
            }
            let mut by_tp: BTreeMap<TopicPartition, (i16, i64, i64, Option<String>)> =
                BTreeMap::new();
            for t in &resp.body.responses {
                let name = if t.name.0.is_empty() {
                    md.as_ref()
                        .and_then(|m| m.topics.values().find(|x| x.topic_id == t.topic_id))
                        .map(|x| x.name.clone())
                        .unwrap_or_default()
                } else {
                    t.name.0.to_string()
                };
                for p in &t.partition_responses {
                    let msg = p.error_message.as_ref().map(|m| m.to_string()).or_else(|| {
                        p.record_errors.first().and_then(|r| {
                            r.batch_index_error_message.as_ref().map(|m| m.to_string())
                        })
                    });
                    by_tp.insert(
                        TopicPartition::new(name.clone(), p.index),
                        (p.error_code, p.base_offset, p.log_append_time_ms, msg),
                    );
                }
            }
            finish(&shared, batches, |b| match by_tp.get(&b.tp) {
                None => Outcome::Retry(
                    b,
                    ClientError::Codec {
                        context: format!("produce response from broker {leader}"),
                        message: "partition missing from the response".into(),
                    },
                ),
                Some((0, base, lat, _)) => Outcome::Done(b, *base, *lat),
                // DUPLICATE_SEQUENCE_NUMBER: the broker already has this batch.
                Some((46, base, lat, _)) => Outcome::Done(b, *base, *lat),
                Some((code, _, _, msg)) => {
                    let err = ClientError::broker(
                        format!("produce to {} on broker {leader}", b.tp),
                        *code,
                        msg.clone(),
                    );
                    match *code {
                        // OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, UNKNOWN_PRODUCER_ID
                        45 | 47 | 59 => Outcome::Reset(b, err),
                        c if crate::error::is_retriable_code(c) => Outcome::Retry(b, err),
                        _ => Outcome::Fail(b, err),
                    }
                }
            });
        }
    }
}

enum Outcome {
    Done(Batch, i64, i64),
    Retry(Batch, ClientError),
    Reset(Batch, ClientError),
    Fail(Batch, ClientError),
}

/// Settles batches: acknowledges, fails, or re-queues them at the head of their partition.
fn finish(shared: &Shared, batches: Vec<Batch>, mut decide: impl FnMut(Batch) -> Outcome) {
    let now = Instant::now();
    {
        let mut st = shared.lock();
        for b in batches {
            let tp = b.tp.clone();
            st.in_flight.remove(&tp);
            match decide(b) {
                Outcome::Done(b, base, lat) => b.complete(base, lat),
                Outcome::Fail(b, e) => b.fail(&e),
                Outcome::Retry(mut b, e) | Outcome::Reset(mut b, e)
                    if now.saturating_duration_since(b.created)
                        >= shared.config.delivery_timeout =>
                {
                    let _ = e;
                    b.attempts += 1;
                    if b.base_sequence.is_some() {
                        st.needs_reset = true;
                    }
                    let err = b.expired_error(now);
                    warn!(%err, "delivery timeout after retries");
                    b.fail(&err);
                }
                Outcome::Retry(mut b, e) => {
                    debug!(error = %e, tp = %tp, "retrying batch");
                    b.attempts += 1;
                    st.retry_at.insert(tp, now + shared.config.retry_backoff);
                    match st.acc.as_mut() {
                        Some(acc) => acc.push_front(b),
                        None => b.fail(&ClientError::Closed("producer")),
                    }
                }
                Outcome::Reset(mut b, e) => {
                    warn!(error = %e, tp = %tp, "sequence lost; re-initialising the producer id");
                    b.attempts += 1;
                    st.needs_reset = true;
                    match st.acc.as_mut() {
                        Some(acc) => acc.push_front(b),
                        None => b.fail(&ClientError::Closed("producer")),
                    }
                }
            }
        }
    }
    shared.wake.notify_one();
    shared.idle.notify_waiters();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_timeout_shorter_than_the_linger_is_refused() {
        let c = ProducerConfig {
            linger: Duration::from_secs(8),
            delivery_timeout: Duration::from_secs(5),
            ..ProducerConfig::default()
        };
        assert_eq!(
            c.check().unwrap_err().keys,
            ["delivery.timeout.ms", "linger.ms"]
        );
        let ok = ProducerConfig {
            delivery_timeout: Duration::from_secs(8),
            ..c
        };
        assert!(ok.check().is_ok());
    }

    #[test]
    fn a_record_counts_its_bookkeeping_against_the_buffer() {
        let record = ProducerRecord::new("Topic-B", vec![b'x'; 100]);
        let wire = record.estimated_size();
        let footprint = record_footprint(wire);
        assert!(
            footprint >= wire + std::mem::size_of::<PendingRecord>() + 8,
            "{footprint}"
        );
        // Not wildly more than the structures involved.
        assert!(footprint < wire + 1024, "{footprint}");
    }
}
