//! The consumer: a fetch loop per partition leader, offsets tracked, fetch metrics.
//!
//! One fetch task runs per leader broker, so a broker that throttles us (and whose connection
//! the net layer holds back until the throttle ends, KIP-219) does not slow down the others. A
//! throttled Fetch response comes back empty: that is normal, the same offsets are fetched again.
//! Fetch sizes shrink while a broker throttles us, so a consumer under a tiny quota still makes
//! steady progress (the broker also caps them, KAFKA-9677), and after a throttle the fetches to
//! that broker are paced at an estimate of its quota (the `pacing` module) so the rate settles
//! at the quota instead of swinging between a burst and a window of empty fetches.
//!
//! Assign mode ([`Consumer::assign`]) needs no group; [`Consumer::subscribe`] joins a classic
//! consumer group (see [`crate::group`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{
    BrokerId, FetchRequest, FetchResponse, ListOffsetsRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kquota_net::records::decode_batches;
use kquota_net::{Cluster, ClusterMetadata, Target};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::task::AbortOnDropHandle;
use tracing::{debug, trace};

use crate::error::{ClientError, InvalidSetting};
use crate::group::{Assignor, GroupMember};
use crate::metrics::{ClientKind, ClientMetrics, MetricConfig};
use crate::pacing::{FetchPacer, QUOTA_WINDOW};
use crate::types::{ConsumerRecord, TopicPartition};

/// Where to start when there is no committed offset (`auto.offset.reset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OffsetReset {
    /// The oldest record.
    #[default]
    Earliest,
    /// The next record written.
    Latest,
}

impl OffsetReset {
    fn timestamp(self) -> i64 {
        match self {
            OffsetReset::Earliest => -2,
            OffsetReset::Latest => -1,
        }
    }
}

/// Consumer settings (Java names in the docs).
///
/// ```
/// use kquota_client::consumer::ConsumerConfig;
/// let c = ConsumerConfig { group_id: Some("ConsumerApp-1".into()), ..ConsumerConfig::default() };
/// assert_eq!(c.max_partition_fetch_bytes, 1024 * 1024);
/// ```
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// `group.id` (needed by [`Consumer::subscribe`] and [`Consumer::commit`]).
    pub group_id: Option<String>,
    /// `fetch.max.bytes` (50 MiB).
    pub fetch_max_bytes: i32,
    /// `max.partition.fetch.bytes` (1 MiB).
    pub max_partition_fetch_bytes: i32,
    /// Smallest fetch size the throttle adaptation goes down to (1 KiB).
    pub min_adaptive_fetch_bytes: i32,
    /// `fetch.min.bytes` (1).
    pub fetch_min_bytes: i32,
    /// `fetch.max.wait.ms` (500 ms).
    pub fetch_max_wait: Duration,
    /// `auto.offset.reset` (earliest).
    pub auto_offset_reset: OffsetReset,
    /// `session.timeout.ms` (45 s).
    pub session_timeout: Duration,
    /// `heartbeat.interval.ms` (3 s).
    pub heartbeat_interval: Duration,
    /// `max.poll.interval.ms`, sent as the rebalance timeout (300 s).
    pub rebalance_timeout: Duration,
    /// `partition.assignment.strategy` (range, then round-robin).
    pub assignors: Vec<Assignor>,
    /// `enable.auto.commit`: commit consumed offsets on rebalance and close (true).
    pub auto_commit: bool,
    /// Metric windows (2 × 30 s).
    pub metrics: MetricConfig,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            group_id: None,
            fetch_max_bytes: 50 * 1024 * 1024,
            max_partition_fetch_bytes: 1024 * 1024,
            min_adaptive_fetch_bytes: 1024,
            fetch_min_bytes: 1,
            fetch_max_wait: Duration::from_millis(500),
            auto_offset_reset: OffsetReset::Earliest,
            session_timeout: Duration::from_secs(45),
            heartbeat_interval: Duration::from_secs(3),
            rebalance_timeout: Duration::from_secs(300),
            assignors: vec![Assignor::Range, Assignor::RoundRobin],
            auto_commit: true,
            metrics: MetricConfig::default(),
        }
    }
}

impl ConsumerConfig {
    /// Checks the settings that do not need a broker, naming the Java config keys at fault.
    ///
    /// ```
    /// use std::time::Duration;
    /// use kquota_client::ConsumerConfig;
    /// let c = ConsumerConfig { heartbeat_interval: Duration::from_secs(60), ..ConsumerConfig::default() };
    /// assert_eq!(c.check().unwrap_err().keys, ["heartbeat.interval.ms", "session.timeout.ms"]);
    /// ```
    pub fn check(&self) -> Result<(), InvalidSetting> {
        for (key, value) in [
            ("fetch.max.bytes", self.fetch_max_bytes),
            ("max.partition.fetch.bytes", self.max_partition_fetch_bytes),
        ] {
            if value <= 0 {
                return Err(InvalidSetting::new(&[key], format!("{key} must be > 0")));
            }
        }
        if self.fetch_min_bytes < 0 {
            return Err(InvalidSetting::new(
                &["fetch.min.bytes"],
                "fetch.min.bytes must be >= 0",
            ));
        }
        if self.heartbeat_interval >= self.session_timeout {
            return Err(InvalidSetting::new(
                &["heartbeat.interval.ms", "session.timeout.ms"],
                format!(
                    "heartbeat.interval.ms ({} ms) must be lower than session.timeout.ms ({} ms)",
                    self.heartbeat_interval.as_millis(),
                    self.session_timeout.as_millis()
                ),
            ));
        }
        Ok(())
    }
}

enum FetchEvent {
    Records {
        tp: TopicPartition,
        records: Vec<ConsumerRecord>,
        next: i64,
    },
    OutOfRange(TopicPartition),
    /// Leadership moved or the broker went away: rebuild the fetchers.
    Restart,
    Error(ClientError),
}

struct Fetchers {
    tasks: Vec<JoinHandle<()>>,
    rx: mpsc::Receiver<FetchEvent>,
}

impl Drop for Fetchers {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A Kafka consumer over a [`Cluster`].
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use kquota_client::consumer::{Consumer, ConsumerConfig};
/// use kquota_client::TopicPartition;
/// use kquota_net::{ClientConfig, Cluster};
/// let cluster = Cluster::connect(ClientConfig::new(["127.0.0.1:9092"])).await?;
/// let mut consumer = Consumer::new(cluster, ConsumerConfig::default());
/// consumer.assign(vec![TopicPartition::new("Topic-B", 0)]).await?;
/// let records = consumer.poll(Duration::from_secs(1)).await?;
/// println!("{} records, fetch-throttle-time-max {}", records.len(),
///     consumer.metrics().snapshot().throttle_time_max);
/// consumer.close().await;
/// # Ok(()) }
/// ```
pub struct Consumer {
    pub(crate) cluster: Cluster,
    pub(crate) config: ConsumerConfig,
    metrics: ClientMetrics,
    /// Next offset to hand out, per assigned partition.
    positions: BTreeMap<TopicPartition, i64>,
    assignment: Vec<TopicPartition>,
    fetchers: Option<Fetchers>,
    pub(crate) group: Option<GroupMember>,
    subscription: Vec<String>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("assignment", &self.assignment)
            .field("positions", &self.positions)
            .field("group", &self.config.group_id)
            .finish_non_exhaustive()
    }
}

impl Consumer {
    /// A consumer with nothing assigned yet.
    pub fn new(cluster: Cluster, config: ConsumerConfig) -> Self {
        Consumer {
            metrics: ClientMetrics::with_config(ClientKind::Consumer, config.metrics),
            cluster,
            config,
            positions: BTreeMap::new(),
            assignment: Vec::new(),
            fetchers: None,
            group: None,
            subscription: Vec::new(),
        }
    }

    /// The consumer's metrics (shared; keeps updating).
    pub fn metrics(&self) -> ClientMetrics {
        self.metrics.clone()
    }

    /// Partitions currently assigned.
    pub fn assignment(&self) -> &[TopicPartition] {
        &self.assignment
    }

    /// The next offset `poll` will return for `tp`.
    pub fn position(&self, tp: &TopicPartition) -> Option<i64> {
        self.positions.get(tp).copied()
    }

    /// Positions of all assigned partitions.
    pub fn positions(&self) -> &BTreeMap<TopicPartition, i64> {
        &self.positions
    }

    /// Assigns partitions directly (no group). Starting offsets: the group's committed offsets
    /// if a `group_id` is set, else `auto_offset_reset`.
    pub async fn assign(&mut self, partitions: Vec<TopicPartition>) -> Result<(), ClientError> {
        let md = self
            .topic_metadata(partitions.iter().map(|tp| tp.topic.to_string()))
            .await?;
        for tp in &partitions {
            let n = md.topics.get(&*tp.topic).map_or(0, |t| t.partitions.len());
            if tp.partition < 0 || tp.partition as usize >= n {
                return Err(ClientError::UnknownPartition {
                    topic: tp.topic.to_string(),
                    partition: tp.partition,
                    partitions: n,
                });
            }
        }
        self.set_assignment(partitions).await
    }

    /// Assigns every partition of `topics` (no group).
    pub async fn assign_topics(&mut self, topics: &[String]) -> Result<(), ClientError> {
        let md = self.topic_metadata(topics.iter().cloned()).await?;
        let tps = topics
            .iter()
            .flat_map(|t| {
                md.topics[t]
                    .partitions
                    .keys()
                    .map(move |p| TopicPartition::new(t.clone(), *p))
            })
            .collect();
        self.set_assignment(tps).await
    }

    /// Sets the starting offset of an assigned partition.
    pub fn seek(&mut self, tp: &TopicPartition, offset: i64) {
        if self.positions.contains_key(tp) {
            self.positions.insert(tp.clone(), offset);
            self.fetchers = None;
        }
    }

    /// Joins the consumer group `group_id` subscribed to `topics` (classic protocol); the
    /// assignment follows from the group and changes on rebalances, handled inside `poll`.
    pub async fn subscribe(&mut self, topics: Vec<String>) -> Result<(), ClientError> {
        let Some(group) = self.config.group_id.clone() else {
            return Err(ClientError::Config(
                "subscribe needs a consumer group id".into(),
            ));
        };
        self.topic_metadata(topics.iter().cloned()).await?;
        self.subscription = topics;
        self.group = Some(GroupMember::new(group));
        self.rejoin().await
    }

    pub(crate) async fn topic_metadata(
        &self,
        topics: impl Iterator<Item = String>,
    ) -> Result<Arc<ClusterMetadata>, ClientError> {
        let topics: Vec<String> = topics.collect();
        let md = self
            .cluster
            .refresh_metadata(Some(&topics))
            .await
            .map_err(|e| ClientError::net("metadata", e))?;
        for t in &topics {
            if md.topics.get(t).is_none_or(|x| x.partitions.is_empty()) {
                return Err(ClientError::missing_topic(t, &md));
            }
        }
        Ok(md)
    }

    async fn rejoin(&mut self) -> Result<(), ClientError> {
        if self.config.auto_commit && self.group.as_ref().is_some_and(|g| g.generation >= 0) {
            if let Err(e) = self.commit().await {
                debug!(error = %e, "commit before rebalance failed");
            }
        }
        let topics = self.subscription.clone();
        let md = self.topic_metadata(topics.iter().cloned()).await?;
        let Some(mut member) = self.group.take() else {
            return Err(ClientError::Config("not in a group".into()));
        };
        let result = member.join(self, &topics, &md).await;
        self.group = Some(member);
        let assignment = result?;
        self.set_assignment(assignment).await
    }

    async fn set_assignment(&mut self, partitions: Vec<TopicPartition>) -> Result<(), ClientError> {
        self.fetchers = None;
        let mut positions = BTreeMap::new();
        let committed = match (&self.config.group_id, partitions.is_empty()) {
            (Some(g), false) => crate::group::fetch_offsets(self, g, &partitions).await?,
            _ => BTreeMap::new(),
        };
        let mut missing = Vec::new();
        for tp in &partitions {
            match committed.get(tp) {
                Some(&o) if o >= 0 => {
                    positions.insert(tp.clone(), o);
                }
                _ => missing.push(tp.clone()),
            }
        }
        if !missing.is_empty() {
            let reset = self
                .list_offsets(&missing, self.config.auto_offset_reset)
                .await?;
            positions.extend(reset);
        }
        self.assignment = partitions;
        self.positions = positions;
        Ok(())
    }

    /// Looks up the earliest or latest offsets of partitions (ListOffsets to each leader).
    pub async fn list_offsets(
        &self,
        partitions: &[TopicPartition],
        which: OffsetReset,
    ) -> Result<BTreeMap<TopicPartition, i64>, ClientError> {
        let mut out = BTreeMap::new();
        let mut attempts = 0;
        let mut todo: Vec<TopicPartition> = partitions.to_vec();
        while !todo.is_empty() {
            let md = self
                .cluster
                .metadata()
                .await
                .map_err(|e| ClientError::net("metadata", e))?;
            let mut by_leader: BTreeMap<i32, Vec<TopicPartition>> = BTreeMap::new();
            for tp in &todo {
                let leader = md.leader(&tp.topic, tp.partition).unwrap_or(-1);
                by_leader.entry(leader).or_default().push(tp.clone());
            }
            let mut retry = Vec::new();
            for (leader, tps) in by_leader {
                if leader < 0 {
                    retry.extend(tps);
                    continue;
                }
                let mut topics: BTreeMap<Arc<str>, Vec<ListOffsetsPartition>> = BTreeMap::new();
                for tp in &tps {
                    topics.entry(tp.topic.clone()).or_default().push(
                        ListOffsetsPartition::default()
                            .with_partition_index(tp.partition)
                            .with_current_leader_epoch(-1)
                            .with_timestamp(which.timestamp()),
                    );
                }
                let req = ListOffsetsRequest::default()
                    // The codec's default replica id is 0 (a broker); consumers send -1.
                    .with_replica_id(BrokerId(-1))
                    .with_isolation_level(0)
                    .with_timeout_ms(30_000)
                    .with_topics(
                        topics
                            .into_iter()
                            .map(|(name, parts)| {
                                ListOffsetsTopic::default()
                                    .with_name(TopicName(StrBytes::from_string(name.to_string())))
                                    .with_partitions(parts)
                            })
                            .collect(),
                    );
                let resp = match self.cluster.send(Target::Broker(leader), req).await {
                    Ok(r) => r,
                    Err(e) if e.is_retriable() && attempts < 10 => {
                        debug!(error = %e, "list offsets failed; retrying");
                        retry.extend(tps);
                        continue;
                    }
                    Err(e) => {
                        return Err(ClientError::net(
                            format!("list offsets on broker {leader}"),
                            e,
                        ))
                    }
                };
                self.metrics
                    .record_throttle(resp.broker_id, resp.throttle_time_ms);
                for t in &resp.body.topics {
                    for p in &t.partitions {
                        let tp = TopicPartition::new(t.name.0.to_string(), p.partition_index);
                        if p.error_code == 0 {
                            out.insert(tp, p.offset);
                        } else if crate::error::is_retriable_code(p.error_code) && attempts < 10 {
                            retry.push(tp);
                        } else {
                            return Err(ClientError::broker(
                                format!("list offsets for {tp}"),
                                p.error_code,
                                None,
                            ));
                        }
                    }
                }
            }
            if !retry.is_empty() {
                attempts += 1;
                if attempts > 10 {
                    return Err(ClientError::Config(format!(
                        "no leader for {} partition(s) after 10 attempts",
                        retry.len()
                    )));
                }
                tokio::time::sleep(Duration::from_millis(200 * attempts)).await;
                let _ = self.cluster.refresh_metadata(None).await;
            }
            todo = retry;
        }
        Ok(out)
    }

    async fn start_fetchers(&mut self) -> Result<(), ClientError> {
        let md = self
            .cluster
            .metadata()
            .await
            .map_err(|e| ClientError::net("metadata", e))?;
        let mut by_leader: BTreeMap<i32, Vec<(TopicPartition, i64)>> = BTreeMap::new();
        let mut leaderless = false;
        for (tp, &pos) in &self.positions {
            match md.leader(&tp.topic, tp.partition) {
                Some(l) => by_leader.entry(l).or_default().push((tp.clone(), pos)),
                None => leaderless = true,
            }
        }
        if leaderless {
            let _ = self.cluster.refresh_metadata(None).await;
        }
        let (tx, rx) = mpsc::channel(16);
        let tasks = by_leader
            .into_iter()
            .map(|(leader, parts)| {
                let ctx = FetchCtx {
                    cluster: self.cluster.clone(),
                    metrics: self.metrics.clone(),
                    config: self.config.clone(),
                    leader,
                    md: Arc::clone(&md),
                    tx: tx.clone(),
                };
                tokio::spawn(fetch_loop(ctx, parts))
            })
            .collect();
        self.fetchers = Some(Fetchers { tasks, rx });
        Ok(())
    }

    /// Returns the records fetched so far, waiting up to `timeout` for at least one.
    /// Also keeps the group membership alive (heartbeats run in the background; a rebalance
    /// is handled here).
    pub async fn poll(&mut self, timeout: Duration) -> Result<Vec<ConsumerRecord>, ClientError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.group.as_ref().is_some_and(|g| g.needs_rejoin()) {
                self.rejoin().await?;
            }
            if self.fetchers.is_none() {
                if self.positions.is_empty() {
                    // Nothing assigned (e.g. more group members than partitions): just wait.
                    tokio::time::sleep_until(
                        deadline.min(tokio::time::Instant::now() + Duration::from_millis(200)),
                    )
                    .await;
                    if tokio::time::Instant::now() >= deadline {
                        return Ok(Vec::new());
                    }
                    continue;
                }
                self.start_fetchers().await?;
            }
            let Some(f) = self.fetchers.as_mut() else {
                continue;
            };
            let ev = match tokio::time::timeout_at(deadline, f.rx.recv()).await {
                Err(_) => return Ok(Vec::new()),
                Ok(None) => {
                    self.fetchers = None;
                    continue;
                }
                Ok(Some(ev)) => ev,
            };
            match ev {
                FetchEvent::Records { tp, records, next } => {
                    // Drop records fetched before a seek/rebalance moved the position.
                    let Some(pos) = self.positions.get_mut(&tp) else {
                        continue;
                    };
                    let out: Vec<ConsumerRecord> =
                        records.into_iter().filter(|r| r.offset >= *pos).collect();
                    if next > *pos {
                        *pos = next;
                    }
                    if !out.is_empty() {
                        return Ok(out);
                    }
                }
                FetchEvent::OutOfRange(tp) => {
                    let reset = self
                        .list_offsets(std::slice::from_ref(&tp), self.config.auto_offset_reset)
                        .await?;
                    self.positions.extend(reset);
                    self.fetchers = None;
                }
                FetchEvent::Restart => {
                    let _ = self.cluster.refresh_metadata(None).await;
                    self.fetchers = None;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                FetchEvent::Error(e) => {
                    self.fetchers = None;
                    return Err(e);
                }
            }
        }
    }

    /// Commits the consumed positions to the group.
    pub async fn commit(&mut self) -> Result<(), ClientError> {
        let Some(g) = self.config.group_id.clone() else {
            return Err(ClientError::Config(
                "commit needs a consumer group id".into(),
            ));
        };
        let positions = self.positions.clone();
        crate::group::commit_offsets(self, &g, &positions).await
    }

    /// Commits (with a group and auto-commit), leaves the group and stops fetching.
    pub async fn close(self) {
        if let Err(e) = self.close_committing().await {
            debug!(error = %e, "final commit failed");
        }
    }

    /// [`close`](Self::close), telling how the final commit went: `Ok(true)` when the
    /// positions were committed, `Ok(false)` when there was nothing to commit (no group,
    /// auto-commit off, nothing assigned). The group is left either way.
    ///
    /// ```no_run
    /// # async fn f(consumer: kquota_client::consumer::Consumer) {
    /// match consumer.close_committing().await {
    ///     Ok(true) => println!("offsets committed"),
    ///     Ok(false) => println!("nothing to commit"),
    ///     Err(e) => eprintln!("offsets not committed: {e}"),
    /// }
    /// # }
    /// ```
    pub async fn close_committing(mut self) -> Result<bool, ClientError> {
        self.fetchers = None;
        let commit = if self.config.auto_commit
            && self.config.group_id.is_some()
            && !self.positions.is_empty()
        {
            self.commit().await.map(|()| true)
        } else {
            Ok(false)
        };
        if let Some(mut g) = self.group.take() {
            g.leave(&self).await;
        }
        commit
    }
}

struct FetchCtx {
    cluster: Cluster,
    metrics: ClientMetrics,
    config: ConsumerConfig,
    leader: i32,
    md: Arc<ClusterMetadata>,
    tx: mpsc::Sender<FetchEvent>,
}

/// Rough size of the Fetch response framing around the record bytes (header, throttle, error,
/// session, topic and partition headers), for the bytes/s figure.
fn response_overhead(topics: usize, partitions: usize) -> u64 {
    (18 + topics * 24 + partitions * 50) as u64
}

/// The Fetch request for `positions`, at most `part_bytes` per partition.
fn fetch_request(
    ctx: &FetchCtx,
    positions: &BTreeMap<TopicPartition, i64>,
    part_bytes: i32,
) -> FetchRequest {
    let mut topics: BTreeMap<Arc<str>, Vec<FetchPartition>> = BTreeMap::new();
    for (tp, off) in positions {
        topics.entry(tp.topic.clone()).or_default().push(
            FetchPartition::default()
                .with_partition(tp.partition)
                .with_fetch_offset(*off)
                .with_partition_max_bytes(part_bytes),
        );
    }
    FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(ctx.config.fetch_max_wait.as_millis().min(i32::MAX as u128) as i32)
        .with_min_bytes(ctx.config.fetch_min_bytes)
        .with_max_bytes(
            ctx.config
                .fetch_max_bytes
                .min(part_bytes.saturating_mul(positions.len() as i32)),
        )
        .with_isolation_level(0)
        .with_session_id(0)
        .with_session_epoch(-1)
        .with_topics(
            topics
                .into_iter()
                .map(|(name, parts)| {
                    let id = ctx
                        .md
                        .topics
                        .get(&*name)
                        .map(|t| t.topic_id)
                        .unwrap_or_default();
                    FetchTopic::default()
                        .with_topic(TopicName(StrBytes::from_string(name.to_string())))
                        .with_topic_id(id)
                        .with_partitions(parts)
                })
                .collect(),
        )
}

type FetchResult = Result<kquota_net::Response<FetchResponse>, kquota_net::Error>;

/// Sends a Fetch in its own task, so that it is on the wire while the previous response is
/// decoded; dropping the handle aborts it.
fn spawn_fetch(ctx: &FetchCtx, req: FetchRequest) -> AbortOnDropHandle<FetchResult> {
    ctx.metrics.note_request(ctx.leader);
    let cluster = ctx.cluster.clone();
    let leader = ctx.leader;
    AbortOnDropHandle::new(tokio::spawn(async move {
        cluster.send(Target::Broker(leader), req).await
    }))
}

/// The fetch loop of one leader. While nothing is wrong and no quota holds it back, the next
/// Fetch goes out as soon as a response arrives (its offsets read from the batch headers), and
/// the response is decoded while the broker prepares the next one: decoding no longer adds to
/// every round trip (measured: a 1 KiB-record consume run waited ~4 ms per 3 MiB fetch, a
/// quarter of it decoding). Under a throttle or pacing, fetches stay one at a time.
async fn fetch_loop(ctx: FetchCtx, parts: Vec<(TopicPartition, i64)>) {
    let mut positions: BTreeMap<TopicPartition, i64> = parts.into_iter().collect();
    let max_part = ctx.config.max_partition_fetch_bytes.max(1);
    let floor = ctx.config.min_adaptive_fetch_bytes.clamp(1, max_part);
    let mut part_bytes = max_part;
    let mut last_throttle: Option<std::time::Instant> = None;
    let mut pacer = FetchPacer::new(QUOTA_WINDOW);
    let mut ahead: Option<AbortOnDropHandle<FetchResult>> = None;
    loop {
        let n_parts = positions.len();
        let n_topics = {
            let mut names: Vec<&str> = positions.keys().map(|tp| &*tp.topic).collect();
            names.dedup();
            names.len()
        };
        let sent = match ahead.take() {
            Some(next) => next.await,
            None => spawn_fetch(&ctx, fetch_request(&ctx, &positions, part_bytes)).await,
        };
        let resp = match sent {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                let ev = if e.is_retriable() {
                    debug!(error = %e, broker = ctx.leader, "fetch failed; rebuilding fetchers");
                    FetchEvent::Restart
                } else {
                    FetchEvent::Error(ClientError::net(
                        format!("fetch from broker {}", ctx.leader),
                        e,
                    ))
                };
                let _ = ctx.tx.send(ev).await;
                return;
            }
            // The fetch task panicked or was cancelled: start over.
            Err(_) => {
                let _ = ctx.tx.send(FetchEvent::Restart).await;
                return;
            }
        };
        if resp.body.error_code != 0 {
            let err = ClientError::broker(
                format!("fetch from broker {}", ctx.leader),
                resp.body.error_code,
                None,
            );
            let ev = if err.is_retriable() {
                FetchEvent::Restart
            } else {
                FetchEvent::Error(err)
            };
            let _ = ctx.tx.send(ev).await;
            return;
        }
        let names: Vec<Arc<str>> = resp
            .body
            .responses
            .iter()
            .map(|t| {
                if t.topic.0.is_empty() {
                    ctx.md
                        .topics
                        .values()
                        .find(|x| x.topic_id == t.topic_id)
                        .map(|x| Arc::from(x.name.as_str()))
                        .unwrap_or_else(|| Arc::from(""))
                } else {
                    Arc::from(t.topic.0.as_str())
                }
            })
            .collect();
        // Before decoding: the bytes for the metrics and pacing, and whether every partition
        // answered without error (only then is the next fetch sent ahead).
        let mut bytes = 0u64;
        let mut all_ok = true;
        let mut next_positions = positions.clone();
        for (t, name) in resp.body.responses.iter().zip(&names) {
            for p in &t.partitions {
                let tp = TopicPartition::new(name.clone(), p.partition_index);
                let Some(pos) = next_positions.get_mut(&tp) else {
                    continue;
                };
                if p.error_code != 0 {
                    all_ok = false;
                    continue;
                }
                if let Some(raw) = &p.records {
                    bytes += raw.len() as u64;
                    *pos = kquota_net::records::next_offset_after(raw, *pos);
                }
            }
        }
        let overhead = if bytes > 0 {
            response_overhead(n_topics, n_parts)
        } else {
            0
        };
        let pause = pacer.on_response(
            std::time::Instant::now(),
            bytes + overhead,
            resp.throttle_time_ms,
        );
        // Under a quota, ask for less per fetch so each response stays within what the broker
        // lets through in a fraction of its window; grow back when unthrottled.
        // Shrink on a throttle; grow back only after 30 s without one, so that under a quota
        // the fetch size settles small and the byte rate stays smooth rather than arriving in
        // window-sized bursts.
        if resp.throttle_time_ms > 0 {
            // Drop straight to the floor: one fetch then carries about one batch, so the
            // broker's throttle keeps the rate near the quota instead of in 10 s bursts.
            part_bytes = floor;
            last_throttle = Some(std::time::Instant::now());
        } else if bytes > 0 && last_throttle.is_none_or(|t| t.elapsed() > Duration::from_secs(30)) {
            part_bytes = part_bytes.saturating_mul(2).min(max_part);
        }
        if all_ok && pause.is_zero() && resp.throttle_time_ms == 0 {
            ahead = Some(spawn_fetch(
                &ctx,
                fetch_request(&ctx, &next_positions, part_bytes),
            ));
        }
        let mut count = 0u64;
        let mut events = Vec::new();
        let mut restart = false;
        for (t, name) in resp.body.responses.iter().zip(&names) {
            for p in &t.partitions {
                let tp = TopicPartition::new(name.clone(), p.partition_index);
                let Some(&pos) = positions.get(&tp) else {
                    continue;
                };
                match p.error_code {
                    0 => {}
                    1 => {
                        // OFFSET_OUT_OF_RANGE
                        events.push(FetchEvent::OutOfRange(tp));
                        continue;
                    }
                    c if crate::error::is_retriable_code(c) => {
                        restart = true;
                        continue;
                    }
                    c => {
                        events.push(FetchEvent::Error(ClientError::broker(
                            format!("fetch {tp} from broker {}", ctx.leader),
                            c,
                            None,
                        )));
                        continue;
                    }
                }
                let Some(raw) = p.records.clone() else {
                    continue;
                };
                let batches = match decode_batches(raw) {
                    Ok((b, _truncated)) => b,
                    Err(e) => {
                        events.push(FetchEvent::Error(ClientError::Codec {
                            context: format!("fetch {tp} from broker {}", ctx.leader),
                            message: e.to_string(),
                        }));
                        continue;
                    }
                };
                let next = next_positions.get(&tp).copied().unwrap_or(pos);
                let mut out = Vec::with_capacity(batches.iter().map(|b| b.records.len()).sum());
                for set in batches {
                    for r in set.records {
                        if r.control || r.offset < pos {
                            continue;
                        }
                        out.push(ConsumerRecord {
                            topic: tp.topic.clone(),
                            partition: tp.partition,
                            offset: r.offset,
                            timestamp: r.timestamp,
                            key: r.key,
                            value: r.value,
                            headers: r
                                .headers
                                .into_iter()
                                .map(|(k, v)| (k.to_string(), v))
                                .collect(),
                        });
                    }
                }
                count += out.len() as u64;
                positions.insert(tp.clone(), next);
                if next > pos || !out.is_empty() {
                    events.push(FetchEvent::Records {
                        tp,
                        records: out,
                        next,
                    });
                }
            }
        }
        ctx.metrics.record_response(
            resp.broker_id,
            resp.throttle_time_ms,
            bytes + overhead,
            count,
        );
        let stop = events
            .iter()
            .any(|e| !matches!(e, FetchEvent::Records { .. }));
        for ev in events {
            if ctx.tx.send(ev).await.is_err() {
                return;
            }
        }
        if restart {
            let _ = ctx.tx.send(FetchEvent::Restart).await;
            return;
        }
        if stop {
            return;
        }
        if !pause.is_zero() {
            trace!(broker = ctx.leader, pause = ?pause, quota_estimate = ?pacer.rate(), "pacing fetches");
            tokio::time::sleep(pause).await;
        }
    }
}
