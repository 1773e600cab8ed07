//! Classic consumer groups: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, OffsetCommit,
//! OffsetFetch, LeaveGroup, with the range and round-robin assignors.
//!
//! The group leader (chosen by the coordinator) computes the assignment from every member's
//! subscription with the first assignor all members support, exactly as the Java client's
//! `RangeAssignor` and `RoundRobinAssignor` do; the others receive theirs in SyncGroup.
//! Heartbeats run in a background task; a rebalance it notices is acted on in the next `poll`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition as AssignedTp;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    ConsumerProtocolAssignment, ConsumerProtocolSubscription, FindCoordinatorRequest, GroupId,
    HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest, OffsetCommitRequest, OffsetFetchRequest,
    SyncGroupRequest, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kquota_net::{Cluster, ClusterMetadata, Target};
use tokio::task::JoinHandle;
use tracing::{debug, info};

use crate::consumer::Consumer;
use crate::error::ClientError;
use crate::types::TopicPartition;

/// A partition assignment strategy (`partition.assignment.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Assignor {
    /// Java `RangeAssignor` ("range"): per topic, contiguous ranges to members in order.
    Range,
    /// Java `RoundRobinAssignor` ("roundrobin"): all partitions dealt out in turn.
    RoundRobin,
}

impl Assignor {
    /// Protocol name.
    pub fn name(self) -> &'static str {
        match self {
            Assignor::Range => "range",
            Assignor::RoundRobin => "roundrobin",
        }
    }

    /// Parses `range` / `roundrobin`.
    pub fn from_name(s: &str) -> Option<Assignor> {
        match s {
            "range" => Some(Assignor::Range),
            "roundrobin" | "round-robin" => Some(Assignor::RoundRobin),
            _ => None,
        }
    }

    /// Assigns partitions: `members` maps member id → subscribed topics, `partitions` maps
    /// topic → partition count. Every member gets an entry, possibly empty.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use kquota_client::group::Assignor;
    /// let members = BTreeMap::from([("a".to_string(), vec!["T".to_string()]),
    ///                               ("b".to_string(), vec!["T".to_string()])]);
    /// let parts = BTreeMap::from([("T".to_string(), 3)]);
    /// let out = Assignor::Range.assign(&members, &parts);
    /// assert_eq!(out["a"].len(), 2);
    /// assert_eq!(out["b"].len(), 1);
    /// ```
    pub fn assign(
        self,
        members: &BTreeMap<String, Vec<String>>,
        partitions: &BTreeMap<String, usize>,
    ) -> BTreeMap<String, Vec<TopicPartition>> {
        let mut out: BTreeMap<String, Vec<TopicPartition>> =
            members.keys().map(|m| (m.clone(), Vec::new())).collect();
        match self {
            Assignor::Range => {
                let topics: BTreeSet<&String> = members.values().flatten().collect();
                for topic in topics {
                    let Some(&n) = partitions.get(topic) else {
                        continue;
                    };
                    let subs: Vec<&String> = members
                        .iter()
                        .filter(|(_, t)| t.contains(topic))
                        .map(|(m, _)| m)
                        .collect();
                    if subs.is_empty() {
                        continue;
                    }
                    let per = n / subs.len();
                    let extra = n % subs.len();
                    let mut start = 0;
                    for (i, m) in subs.iter().enumerate() {
                        let len = per + usize::from(i < extra);
                        for p in start..start + len {
                            out.entry((*m).clone())
                                .or_default()
                                .push(TopicPartition::new(topic.clone(), p as i32));
                        }
                        start += len;
                    }
                }
            }
            Assignor::RoundRobin => {
                let topics: BTreeSet<&String> = members.values().flatten().collect();
                let all: Vec<TopicPartition> = topics
                    .into_iter()
                    .flat_map(|t| {
                        (0..partitions.get(t).copied().unwrap_or(0))
                            .map(move |p| TopicPartition::new(t.clone(), p as i32))
                    })
                    .collect();
                let ids: Vec<&String> = members.keys().collect();
                let mut i = 0usize;
                for tp in all {
                    // Next member (in order) subscribed to this topic.
                    for _ in 0..ids.len() {
                        let m = ids[i % ids.len()];
                        i += 1;
                        if members[m].iter().any(|t| **t == *tp.topic) {
                            out.entry(m.clone()).or_default().push(tp);
                            break;
                        }
                    }
                }
            }
        }
        out
    }
}

/// Encodes a member's subscription (ConsumerProtocolSubscription v0).
pub fn encode_subscription(topics: &[String]) -> Result<Bytes, ClientError> {
    let sub = ConsumerProtocolSubscription::default().with_topics(
        topics
            .iter()
            .map(|t| StrBytes::from_string(t.clone()))
            .collect(),
    );
    encode_versioned(&sub, 0, "subscription")
}

/// Decodes a member's subscription (any version); returns its topics.
pub fn decode_subscription(bytes: &Bytes) -> Result<Vec<String>, ClientError> {
    let mut b = bytes.clone();
    let version = read_version(&mut b, "subscription")?;
    let sub = ConsumerProtocolSubscription::decode(&mut b, version.min(3))
        .map_err(|e| codec_err("subscription", e))?;
    Ok(sub.topics.iter().map(|t| t.to_string()).collect())
}

/// Encodes an assignment (ConsumerProtocolAssignment v0).
pub fn encode_assignment(tps: &[TopicPartition]) -> Result<Bytes, ClientError> {
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for tp in tps {
        by_topic.entry(&tp.topic).or_default().push(tp.partition);
    }
    let a = ConsumerProtocolAssignment::default().with_assigned_partitions(
        by_topic
            .into_iter()
            .map(|(t, ps)| {
                AssignedTp::default()
                    .with_topic(TopicName(StrBytes::from_string(t.to_owned())))
                    .with_partitions(ps)
            })
            .collect(),
    );
    encode_versioned(&a, 0, "assignment")
}

/// Decodes an assignment (any version).
pub fn decode_assignment(bytes: &Bytes) -> Result<Vec<TopicPartition>, ClientError> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let mut b = bytes.clone();
    let version = read_version(&mut b, "assignment")?;
    let a = ConsumerProtocolAssignment::decode(&mut b, version.min(3))
        .map_err(|e| codec_err("assignment", e))?;
    Ok(a.assigned_partitions
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(move |p| TopicPartition::new(t.topic.0.to_string(), *p))
        })
        .collect())
}

fn encode_versioned<T: Encodable>(m: &T, version: i16, what: &str) -> Result<Bytes, ClientError> {
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&version.to_be_bytes());
    m.encode(&mut buf, version)
        .map_err(|e| codec_err(what, e))?;
    Ok(buf.freeze())
}

fn read_version(b: &mut Bytes, what: &str) -> Result<i16, ClientError> {
    if b.len() < 2 {
        return Err(ClientError::Codec {
            context: format!("consumer {what}"),
            message: "too short".into(),
        });
    }
    let v = i16::from_be_bytes([b[0], b[1]]);
    let _ = b.split_to(2);
    if v < 0 {
        return Err(ClientError::Codec {
            context: format!("consumer {what}"),
            message: format!("bad version {v}"),
        });
    }
    Ok(v)
}

fn codec_err(what: &str, e: impl std::fmt::Display) -> ClientError {
    ClientError::Codec {
        context: format!("consumer {what}"),
        message: e.to_string(),
    }
}

/// This consumer's membership in a group.
#[derive(Debug)]
pub(crate) struct GroupMember {
    pub group: String,
    pub member_id: String,
    pub generation: i32,
    pub coordinator: Option<i32>,
    rejoin: Arc<AtomicBool>,
    heartbeat: Option<JoinHandle<()>>,
}

impl Drop for GroupMember {
    fn drop(&mut self) {
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
    }
}

impl GroupMember {
    pub fn new(group: String) -> Self {
        GroupMember {
            group,
            member_id: String::new(),
            generation: -1,
            coordinator: None,
            rejoin: Arc::new(AtomicBool::new(false)),
            heartbeat: None,
        }
    }

    pub fn needs_rejoin(&self) -> bool {
        self.rejoin.load(Ordering::Relaxed)
    }

    /// Joins (or rejoins) the group and returns this member's assignment.
    pub async fn join(
        &mut self,
        consumer: &Consumer,
        topics: &[String],
        md: &ClusterMetadata,
    ) -> Result<Vec<TopicPartition>, ClientError> {
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
        let cluster = &consumer.cluster;
        let config = &consumer.config;
        let sub = encode_subscription(topics)?;
        let mut attempts = 0;
        loop {
            attempts += 1;
            if attempts > 20 {
                return Err(ClientError::Config(format!(
                    "could not join group '{}' after 20 attempts",
                    self.group
                )));
            }
            let coord = match self.coordinator {
                Some(c) => c,
                None => {
                    let c = find_coordinator(cluster, &self.group).await?;
                    self.coordinator = Some(c);
                    c
                }
            };
            let req = JoinGroupRequest::default()
                .with_group_id(GroupId(StrBytes::from_string(self.group.clone())))
                .with_session_timeout_ms(config.session_timeout.as_millis() as i32)
                .with_rebalance_timeout_ms(config.rebalance_timeout.as_millis() as i32)
                .with_member_id(StrBytes::from_string(self.member_id.clone()))
                .with_protocol_type(StrBytes::from_static_str("consumer"))
                .with_protocols(
                    config
                        .assignors
                        .iter()
                        .map(|a| {
                            JoinGroupRequestProtocol::default()
                                .with_name(StrBytes::from_static_str(a.name()))
                                .with_metadata(sub.clone())
                        })
                        .collect(),
                );
            let resp = cluster
                .send(Target::Broker(coord), req)
                .await
                .map_err(|e| ClientError::net(format!("join group '{}'", self.group), e))?;
            let body = resp.body;
            match body.error_code {
                0 => {}
                // MEMBER_ID_REQUIRED: rejoin with the id the coordinator gave us.
                79 => {
                    self.member_id = body.member_id.to_string();
                    continue;
                }
                // UNKNOWN_MEMBER_ID: start over with a fresh id.
                25 => {
                    self.member_id.clear();
                    continue;
                }
                // COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, REBALANCE_IN_PROGRESS
                14..=16 | 27 => {
                    self.coordinator = None;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
                code => {
                    return Err(ClientError::broker(
                        format!("join group '{}'", self.group),
                        code,
                        None,
                    ));
                }
            }
            self.member_id = body.member_id.to_string();
            self.generation = body.generation_id;
            let protocol = body
                .protocol_name
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default();
            let assignments = if body.leader == body.member_id {
                let assignor = Assignor::from_name(&protocol).unwrap_or(Assignor::Range);
                let mut members = BTreeMap::new();
                let mut all_topics = BTreeSet::new();
                for m in &body.members {
                    let t = decode_subscription(&m.metadata)?;
                    all_topics.extend(t.iter().cloned());
                    members.insert(m.member_id.to_string(), t);
                }
                let counts: BTreeMap<String, usize> = all_topics
                    .into_iter()
                    .filter_map(|t| md.topics.get(&t).map(|x| (t, x.partitions.len())))
                    .collect();
                let plan = assignor.assign(&members, &counts);
                info!(group = %self.group, generation = self.generation, assignor = assignor.name(), members = plan.len(), "computed assignment as group leader");
                plan.iter()
                    .map(|(m, tps)| {
                        Ok(SyncGroupRequestAssignment::default()
                            .with_member_id(StrBytes::from_string(m.clone()))
                            .with_assignment(encode_assignment(tps)?))
                    })
                    .collect::<Result<Vec<_>, ClientError>>()?
            } else {
                Vec::new()
            };
            let sync = SyncGroupRequest::default()
                .with_group_id(GroupId(StrBytes::from_string(self.group.clone())))
                .with_generation_id(self.generation)
                .with_member_id(StrBytes::from_string(self.member_id.clone()))
                .with_protocol_type(Some(StrBytes::from_static_str("consumer")))
                .with_protocol_name(Some(StrBytes::from_string(protocol)))
                .with_assignments(assignments);
            let resp = cluster
                .send(Target::Broker(coord), sync)
                .await
                .map_err(|e| ClientError::net(format!("sync group '{}'", self.group), e))?;
            match resp.body.error_code {
                0 => {}
                27 | 22 | 25 => {
                    if resp.body.error_code == 25 {
                        self.member_id.clear();
                    }
                    continue;
                }
                14..=16 => {
                    self.coordinator = None;
                    continue;
                }
                code => {
                    return Err(ClientError::broker(
                        format!("sync group '{}'", self.group),
                        code,
                        None,
                    ));
                }
            }
            let assignment = decode_assignment(&resp.body.assignment)?;
            info!(group = %self.group, member = %self.member_id, generation = self.generation, partitions = assignment.len(), "joined group");
            self.rejoin.store(false, Ordering::Relaxed);
            self.heartbeat = Some(tokio::spawn(heartbeat_loop(
                cluster.clone(),
                coord,
                self.group.clone(),
                self.member_id.clone(),
                self.generation,
                config.heartbeat_interval,
                Arc::clone(&self.rejoin),
            )));
            return Ok(assignment);
        }
    }

    /// Leaves the group (LeaveGroup), so the others rebalance at once.
    pub async fn leave(&mut self, consumer: &Consumer) {
        if let Some(h) = self.heartbeat.take() {
            h.abort();
        }
        let Some(coord) = self.coordinator else {
            return;
        };
        if self.member_id.is_empty() {
            return;
        }
        let v = match version_for::<LeaveGroupRequest>(&consumer.cluster, Some(coord)).await {
            Ok(v) => v,
            Err(e) => {
                debug!(group = %self.group, error = %e, "leave group: no connection");
                return;
            }
        };
        let req = LeaveGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(self.group.clone())));
        let req = if v >= 3 {
            req.with_members(vec![MemberIdentity::default()
                .with_member_id(StrBytes::from_string(self.member_id.clone()))])
        } else {
            req.with_member_id(StrBytes::from_string(self.member_id.clone()))
        };
        match consumer
            .cluster
            .send_version(Target::Broker(coord), v, req)
            .await
        {
            Ok(r) if r.body.error_code == 0 => debug!(group = %self.group, "left group"),
            Ok(r) => debug!(group = %self.group, code = r.body.error_code, "leave group error"),
            Err(e) => debug!(group = %self.group, error = %e, "leave group failed"),
        }
    }
}

async fn heartbeat_loop(
    cluster: Cluster,
    coord: i32,
    group: String,
    member: String,
    generation: i32,
    interval: Duration,
    rejoin: Arc<AtomicBool>,
) {
    loop {
        tokio::time::sleep(interval).await;
        let req = HeartbeatRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(group.clone())))
            .with_generation_id(generation)
            .with_member_id(StrBytes::from_string(member.clone()));
        match cluster.send(Target::Broker(coord), req).await {
            Ok(r) if r.body.error_code == 0 => {}
            Ok(r) => {
                debug!(%group, code = r.body.error_code, "heartbeat: rejoin needed");
                rejoin.store(true, Ordering::Relaxed);
                return;
            }
            Err(e) => debug!(%group, error = %e, "heartbeat failed"),
        }
    }
}

/// The version the net layer will use for `R` with `broker` (`None` for any broker), so that
/// requests whose shape changed between versions are built for the right one.
pub(crate) async fn version_for<R: kquota_net::KafkaRequest>(
    cluster: &Cluster,
    broker: Option<i32>,
) -> Result<i16, ClientError> {
    let id = match broker {
        Some(b) => b,
        None => {
            let md = cluster
                .metadata()
                .await
                .map_err(|e| ClientError::net("metadata", e))?;
            *md.brokers
                .keys()
                .next()
                .ok_or_else(|| ClientError::Config("no brokers known".into()))?
        }
    };
    let conn = cluster
        .connection(id)
        .await
        .map_err(|e| ClientError::net(format!("connect to broker {id}"), e))?;
    conn.pick_version::<R>()
        .map_err(|e| ClientError::net(format!("{:?} on broker {id}", R::KEY), e))
}

/// Finds the group coordinator's broker id.
pub(crate) async fn find_coordinator(cluster: &Cluster, group: &str) -> Result<i32, ClientError> {
    for attempt in 0..10u64 {
        let md = cluster
            .metadata()
            .await
            .map_err(|e| ClientError::net("metadata", e))?;
        let broker = md
            .brokers
            .keys()
            .copied()
            .nth(attempt as usize % md.brokers.len().max(1));
        let v = version_for::<FindCoordinatorRequest>(cluster, broker).await?;
        let req = if v >= 4 {
            FindCoordinatorRequest::default()
                .with_key_type(0)
                .with_coordinator_keys(vec![StrBytes::from_string(group.to_owned())])
        } else {
            FindCoordinatorRequest::default()
                .with_key(StrBytes::from_string(group.to_owned()))
                .with_key_type(0)
        };
        let target = broker.map_or(Target::Any, Target::Broker);
        let resp = cluster
            .send_version(target, v, req)
            .await
            .map_err(|e| ClientError::net(format!("find coordinator of group '{group}'"), e))?;
        let (code, node, msg) = match resp.body.coordinators.first() {
            Some(c) => (
                c.error_code,
                c.node_id.0,
                c.error_message.as_ref().map(|m| m.to_string()),
            ),
            None => (
                resp.body.error_code,
                resp.body.node_id.0,
                resp.body.error_message.as_ref().map(|m| m.to_string()),
            ),
        };
        match code {
            0 => return Ok(node),
            15 | 14 => tokio::time::sleep(Duration::from_millis(200 * (attempt + 1))).await,
            c => {
                return Err(ClientError::broker(
                    format!("find coordinator of group '{group}'"),
                    c,
                    msg,
                ));
            }
        }
    }
    Err(ClientError::broker(
        format!("find coordinator of group '{group}'"),
        15,
        None,
    ))
}

/// Committed offsets of `partitions` in `group` (-1 where none).
pub(crate) async fn fetch_offsets(
    consumer: &Consumer,
    group: &str,
    partitions: &[TopicPartition],
) -> Result<BTreeMap<TopicPartition, i64>, ClientError> {
    let coord = find_coordinator(&consumer.cluster, group).await?;
    let md = consumer
        .cluster
        .metadata()
        .await
        .map_err(|e| ClientError::net("metadata", e))?;
    let mut by_topic: BTreeMap<Arc<str>, Vec<i32>> = BTreeMap::new();
    for tp in partitions {
        by_topic
            .entry(tp.topic.clone())
            .or_default()
            .push(tp.partition);
    }
    let old_topics: Vec<OffsetFetchRequestTopic> = by_topic
        .iter()
        .map(|(t, ps)| {
            OffsetFetchRequestTopic::default()
                .with_name(TopicName(StrBytes::from_string(t.to_string())))
                .with_partition_indexes(ps.clone())
        })
        .collect();
    let new_topics: Vec<OffsetFetchRequestTopics> = by_topic
        .iter()
        .map(|(t, ps)| {
            OffsetFetchRequestTopics::default()
                .with_name(TopicName(StrBytes::from_string(t.to_string())))
                .with_topic_id(md.topics.get(&**t).map(|x| x.topic_id).unwrap_or_default())
                .with_partition_indexes(ps.clone())
        })
        .collect();
    let v = version_for::<OffsetFetchRequest>(&consumer.cluster, Some(coord)).await?;
    let req = if v >= 8 {
        let new_topics = if v >= 10 {
            new_topics
                .into_iter()
                .map(|t| t.with_name(TopicName(StrBytes::default())))
                .collect()
        } else {
            new_topics
                .into_iter()
                .map(|t| t.with_topic_id(Default::default()))
                .collect()
        };
        OffsetFetchRequest::default().with_groups(vec![OffsetFetchRequestGroup::default()
            .with_group_id(GroupId(StrBytes::from_string(group.to_owned())))
            .with_member_epoch(if v >= 9 { -1 } else { 0 })
            .with_topics(Some(new_topics))])
    } else {
        OffsetFetchRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(group.to_owned())))
            .with_topics(Some(old_topics))
    };
    let resp = consumer
        .cluster
        .send_version(Target::Broker(coord), v, req)
        .await
        .map_err(|e| ClientError::net(format!("fetch committed offsets of group '{group}'"), e))?;
    let mut out = BTreeMap::new();
    let body = resp.body;
    let check = |code: i16| -> Result<(), ClientError> {
        if code != 0 {
            return Err(ClientError::broker(
                format!("fetch committed offsets of group '{group}'"),
                code,
                None,
            ));
        }
        Ok(())
    };
    if let Some(g) = body.groups.first() {
        check(g.error_code)?;
        for t in &g.topics {
            let name = if t.name.0.is_empty() {
                md.topics
                    .values()
                    .find(|x| x.topic_id == t.topic_id)
                    .map(|x| x.name.clone())
                    .unwrap_or_default()
            } else {
                t.name.0.to_string()
            };
            for p in &t.partitions {
                check(p.error_code)?;
                out.insert(
                    TopicPartition::new(name.clone(), p.partition_index),
                    p.committed_offset,
                );
            }
        }
    } else {
        check(body.error_code)?;
        for t in &body.topics {
            for p in &t.partitions {
                check(p.error_code)?;
                out.insert(
                    TopicPartition::new(t.name.0.to_string(), p.partition_index),
                    p.committed_offset,
                );
            }
        }
    }
    Ok(out)
}

/// Commits `positions` for `group` (with the member's generation when in the group).
pub(crate) async fn commit_offsets(
    consumer: &Consumer,
    group: &str,
    positions: &BTreeMap<TopicPartition, i64>,
) -> Result<(), ClientError> {
    if positions.is_empty() {
        return Ok(());
    }
    let (coord, generation, member) = match &consumer.group {
        Some(g) if g.generation >= 0 => (g.coordinator, g.generation, g.member_id.clone()),
        _ => (None, -1, String::new()),
    };
    let coord = match coord {
        Some(c) => c,
        None => find_coordinator(&consumer.cluster, group).await?,
    };
    let md = consumer
        .cluster
        .metadata()
        .await
        .map_err(|e| ClientError::net("metadata", e))?;
    let mut by_topic: BTreeMap<Arc<str>, Vec<OffsetCommitRequestPartition>> = BTreeMap::new();
    for (tp, off) in positions {
        by_topic.entry(tp.topic.clone()).or_default().push(
            OffsetCommitRequestPartition::default()
                .with_partition_index(tp.partition)
                .with_committed_offset(*off)
                .with_committed_leader_epoch(-1),
        );
    }
    let v = version_for::<OffsetCommitRequest>(&consumer.cluster, Some(coord)).await?;
    let req = OffsetCommitRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.to_owned())))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(StrBytes::from_string(member))
        .with_retention_time_ms(-1)
        .with_topics(
            by_topic
                .into_iter()
                .map(|(t, ps)| {
                    let topic = OffsetCommitRequestTopic::default().with_partitions(ps);
                    if v >= 10 {
                        topic.with_topic_id(
                            md.topics.get(&*t).map(|x| x.topic_id).unwrap_or_default(),
                        )
                    } else {
                        topic.with_name(TopicName(StrBytes::from_string(t.to_string())))
                    }
                })
                .collect(),
        );
    let resp = consumer
        .cluster
        .send_version(Target::Broker(coord), v, req)
        .await
        .map_err(|e| ClientError::net(format!("commit offsets of group '{group}'"), e))?;
    for t in &resp.body.topics {
        for p in &t.partitions {
            if p.error_code != 0 {
                return Err(ClientError::broker(
                    format!(
                        "commit offset of {}-{} in group '{group}'",
                        t.name.0, p.partition_index
                    ),
                    p.error_code,
                    None,
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(ms: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        ms.iter()
            .map(|(m, ts)| (m.to_string(), ts.iter().map(|t| t.to_string()).collect()))
            .collect()
    }

    #[test]
    fn range_matches_java_range_assignor() {
        // Java RangeAssignor: 2 consumers, 2 topics with 3 partitions each:
        // c0 -> t0p0, t0p1, t1p0, t1p1; c1 -> t0p2, t1p2.
        let m = members(&[("c0", &["t0", "t1"]), ("c1", &["t0", "t1"])]);
        let p = BTreeMap::from([("t0".to_string(), 3), ("t1".to_string(), 3)]);
        let a = Assignor::Range.assign(&m, &p);
        let names = |v: &Vec<TopicPartition>| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert_eq!(names(&a["c0"]), ["t0-0", "t0-1", "t1-0", "t1-1"]);
        assert_eq!(names(&a["c1"]), ["t0-2", "t1-2"]);
    }

    #[test]
    fn round_robin_matches_java_round_robin_assignor() {
        // Java RoundRobinAssignor, same input: c0 -> t0p0, t0p2, t1p1; c1 -> t0p1, t1p0, t1p2.
        let m = members(&[("c0", &["t0", "t1"]), ("c1", &["t0", "t1"])]);
        let p = BTreeMap::from([("t0".to_string(), 3), ("t1".to_string(), 3)]);
        let a = Assignor::RoundRobin.assign(&m, &p);
        let names = |v: &Vec<TopicPartition>| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert_eq!(names(&a["c0"]), ["t0-0", "t0-2", "t1-1"]);
        assert_eq!(names(&a["c1"]), ["t0-1", "t1-0", "t1-2"]);
    }

    #[test]
    fn more_members_than_partitions_leaves_some_empty() {
        let m = members(&[("a", &["T"]), ("b", &["T"]), ("c", &["T"])]);
        let p = BTreeMap::from([("T".to_string(), 2)]);
        for assignor in [Assignor::Range, Assignor::RoundRobin] {
            let a = assignor.assign(&m, &p);
            assert_eq!(a.len(), 3);
            assert_eq!(a.values().map(|v| v.len()).sum::<usize>(), 2);
        }
    }

    #[test]
    fn subscription_and_assignment_round_trip() {
        let s = encode_subscription(&["Topic-B".to_string()]).unwrap();
        assert_eq!(&s[..2], &[0, 0], "version 0 prefix");
        assert_eq!(decode_subscription(&s).unwrap(), ["Topic-B"]);
        let tps = vec![
            TopicPartition::new("Topic-B", 0),
            TopicPartition::new("Topic-B", 2),
        ];
        let a = encode_assignment(&tps).unwrap();
        assert_eq!(decode_assignment(&a).unwrap(), tps);
        assert!(decode_assignment(&Bytes::new()).unwrap().is_empty());
        assert!(decode_subscription(&Bytes::from_static(&[0])).is_err());
        assert!(decode_assignment(&Bytes::from_static(&[0, 0, 0xff, 0xff, 0xff])).is_err());
    }
}
