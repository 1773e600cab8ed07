//! Cluster metadata: brokers, controller, topics → partitions → leader.

use std::collections::BTreeMap;
use std::time::Instant;

use kafka_protocol::messages::MetadataResponse;
use kafka_protocol::ResponseError;

/// A broker as advertised in Metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerInfo {
    /// Node id.
    pub id: i32,
    /// Advertised host.
    pub host: String,
    /// Advertised port.
    pub port: i32,
    /// Rack, if configured.
    pub rack: Option<String>,
}

impl BrokerInfo {
    /// `host:port` (IPv6 hosts in brackets).
    ///
    /// ```
    /// let b = kquota_net::BrokerInfo { id: 1, host: "::1".into(), port: 9092, rack: None };
    /// assert_eq!(b.address(), "[::1]:9092");
    /// ```
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// One partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    /// Partition index.
    pub id: i32,
    /// Leader node id (`None` while there is no leader).
    pub leader: Option<i32>,
    /// Leader epoch.
    pub leader_epoch: i32,
    /// Replica node ids.
    pub replicas: Vec<i32>,
    /// In-sync replica node ids.
    pub isr: Vec<i32>,
    /// Error reported for the partition, if any.
    pub error: Option<ResponseError>,
}

/// One topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    /// Name.
    pub name: String,
    /// Topic id (all zeros before Metadata v10).
    pub topic_id: uuid::Uuid,
    /// Internal topic (e.g. `__consumer_offsets`).
    pub is_internal: bool,
    /// Partitions by index.
    pub partitions: BTreeMap<i32, PartitionInfo>,
    /// The topic-level error code of the last Metadata response (0 for none), e.g. 29
    /// TOPIC_AUTHORIZATION_FAILED, when `partitions` is empty.
    pub error_code: i16,
}

/// A snapshot of the cluster's metadata.
///
/// ```
/// let md = kquota_net::ClusterMetadata::default();
/// assert_eq!(md.leader("Topic-B", 0), None);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ClusterMetadata {
    /// Cluster id.
    pub cluster_id: Option<String>,
    /// The controller node id as the brokers report it (in KRaft a broker that forwards).
    pub controller_id: Option<i32>,
    /// Brokers by node id.
    pub brokers: BTreeMap<i32, BrokerInfo>,
    /// Known topics by name (only those asked for so far, or all after a full refresh).
    pub topics: BTreeMap<String, TopicInfo>,
    /// When this snapshot was fetched.
    pub fetched_at: Option<Instant>,
}

impl ClusterMetadata {
    /// The leader of a partition, if known.
    pub fn leader(&self, topic: &str, partition: i32) -> Option<i32> {
        self.topics.get(topic)?.partitions.get(&partition)?.leader
    }

    /// Builds a snapshot from a Metadata response; topics not in `previous` are added,
    /// topics in the response replace the old ones, topics reported unknown are removed.
    pub fn merged(previous: Option<&ClusterMetadata>, resp: &MetadataResponse) -> ClusterMetadata {
        let brokers = resp
            .brokers
            .iter()
            .map(|b| {
                (
                    b.node_id.0,
                    BrokerInfo {
                        id: b.node_id.0,
                        host: b.host.to_string(),
                        port: b.port,
                        rack: b.rack.as_ref().map(|r| r.to_string()),
                    },
                )
            })
            .collect();
        let mut topics = previous.map(|p| p.topics.clone()).unwrap_or_default();
        for t in &resp.topics {
            let Some(name) = t.name.as_ref().map(|n| n.0.to_string()) else {
                continue;
            };
            let err = ResponseError::try_from_code(t.error_code);
            if matches!(
                err,
                Some(ResponseError::UnknownTopicOrPartition)
                    | Some(ResponseError::InvalidTopicException)
            ) {
                topics.remove(&name);
                continue;
            }
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    (
                        p.partition_index,
                        PartitionInfo {
                            id: p.partition_index,
                            leader: (p.leader_id.0 >= 0).then_some(p.leader_id.0),
                            leader_epoch: p.leader_epoch,
                            replicas: p.replica_nodes.iter().map(|r| r.0).collect(),
                            isr: p.isr_nodes.iter().map(|r| r.0).collect(),
                            error: ResponseError::try_from_code(p.error_code),
                        },
                    )
                })
                .collect();
            topics.insert(
                name.clone(),
                TopicInfo {
                    name,
                    topic_id: t.topic_id,
                    is_internal: t.is_internal,
                    partitions,
                    error_code: t.error_code,
                },
            );
        }
        ClusterMetadata {
            cluster_id: resp.cluster_id.as_ref().map(|c| c.to_string()),
            controller_id: (resp.controller_id.0 >= 0).then_some(resp.controller_id.0),
            brokers,
            topics,
            fetched_at: Some(Instant::now()),
        }
    }
}
