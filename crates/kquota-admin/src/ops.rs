//! Small cluster helpers the quota scenario needs: topics, ACLs and broker configs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use kquota_admin::ops::{self, Acl, Operation, Permission, ResourceType, TopicSpec};
//! let cluster = kquota_net::Cluster::connect(kquota_net::ClientConfig::new(["localhost:9092"])).await?;
//! ops::create_topics(&cluster, &[TopicSpec::new("Topic-B", 3)]).await?;
//! ops::create_acls(&cluster, &[Acl::allow_topic("Topic-B", "User:alice", Operation::Write)]).await?;
//! let quota_settings = ops::describe_broker_configs(&cluster, 1, Some(ops::QUOTA_BROKER_CONFIGS)).await?;
//! # let _ = quota_settings; Ok(()) }
//! ```

use kquota_net::kafka_protocol::messages::create_acls_request::AclCreation;
use std::time::{Duration, Instant};

use kquota_net::kafka_protocol::messages::create_topics_request::{
    CreatableTopic, CreatableTopicConfig,
};
use kquota_net::kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kquota_net::kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kquota_net::kafka_protocol::messages::{
    ApiKey, CreateAclsRequest, CreateTopicsRequest, DeleteTopicsRequest, DescribeAclsRequest,
    DescribeConfigsRequest, TopicName,
};
use kquota_net::kafka_protocol::protocol::StrBytes;
use kquota_net::{Cluster, Target};

use crate::client::{AdminError, BrokerError};

/// Broker settings that matter for quotas (`describe_broker_configs` filter).
pub const QUOTA_BROKER_CONFIGS: &[&str] = &[
    "quota.window.num",
    "quota.window.size.seconds",
    "controller.quota.window.num",
    "controller.quota.window.size.seconds",
    "client.quota.callback.class",
    "max.connection.creation.rate",
    "max.connections.per.ip",
    "num.io.threads",
    "num.network.threads",
];

/// A topic to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// Name.
    pub name: String,
    /// Partition count; -1 uses the broker default (`num.partitions`).
    pub partitions: i32,
    /// Replication factor; -1 uses the broker default.
    pub replication_factor: i16,
    /// Topic configs (`retention.ms`, `max.message.bytes`, ...), checked by the broker.
    pub configs: Vec<(String, String)>,
}

/// Longest topic name Kafka accepts.
pub const MAX_TOPIC_NAME_LEN: usize = 249;

/// A topic that would be refused, found before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopicSpecError {
    /// The name breaks Kafka's topic name rules.
    #[error("invalid topic name '{}': {reason}", crate::model::escape_controls(.name))]
    InvalidName {
        /// The name.
        name: String,
        /// Which rule.
        reason: String,
    },
    /// Partitions must be at least 1 (or -1 for the broker default).
    #[error("topic '{name}': the number of partitions must be at least 1, not {partitions}")]
    InvalidPartitions {
        /// The topic.
        name: String,
        /// The count given.
        partitions: i32,
    },
    /// The replication factor must be at least 1 (or -1 for the broker default).
    #[error("topic '{name}': the replication factor must be at least 1, not {replication_factor}")]
    InvalidReplicationFactor {
        /// The topic.
        name: String,
        /// The factor given.
        replication_factor: i16,
    },
    /// An empty config name, or the same config twice.
    #[error("topic '{name}': config '{key}' {reason}")]
    InvalidConfig {
        /// The topic.
        name: String,
        /// The config name.
        key: String,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Checks a topic name against Kafka's rules: 1 to 249 characters of `[a-zA-Z0-9._-]`, and
/// neither `.` nor `..`.
///
/// ```
/// use kquota_admin::ops::validate_topic_name;
/// assert!(validate_topic_name("Topic-B").is_ok());
/// assert!(validate_topic_name("Topic B").is_err());
/// ```
pub fn validate_topic_name(name: &str) -> Result<(), TopicSpecError> {
    let bad = |reason: String| {
        Err(TopicSpecError::InvalidName {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("the name is empty".into());
    }
    if name == "." || name == ".." {
        return bad("'.' and '..' are not allowed".into());
    }
    if name.len() > MAX_TOPIC_NAME_LEN {
        return bad(format!(
            "{} characters, at most {MAX_TOPIC_NAME_LEN} are allowed",
            name.chars().count()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return bad(format!(
            "{c:?} is not allowed (only ASCII letters, digits, '.', '_' and '-')"
        ));
    }
    Ok(())
}

impl TopicSpec {
    /// A topic with the broker's default replication factor.
    pub fn new(name: impl Into<String>, partitions: i32) -> TopicSpec {
        TopicSpec {
            name: name.into(),
            partitions,
            replication_factor: -1,
            configs: Vec::new(),
        }
    }

    /// The checks that need no broker: the name, the counts, and config names that are empty
    /// or given twice. Values and unknown config names are the broker's to judge.
    pub fn validate(&self) -> Result<(), TopicSpecError> {
        validate_topic_name(&self.name)?;
        if self.partitions < 1 && self.partitions != -1 {
            return Err(TopicSpecError::InvalidPartitions {
                name: self.name.clone(),
                partitions: self.partitions,
            });
        }
        if self.replication_factor < 1 && self.replication_factor != -1 {
            return Err(TopicSpecError::InvalidReplicationFactor {
                name: self.name.clone(),
                replication_factor: self.replication_factor,
            });
        }
        let mut seen = std::collections::BTreeSet::new();
        for (k, _) in &self.configs {
            let reason = if k.trim().is_empty() {
                "is empty"
            } else if !seen.insert(k.as_str()) {
                "is given twice"
            } else {
                continue;
            };
            return Err(TopicSpecError::InvalidConfig {
                name: self.name.clone(),
                key: k.clone(),
                reason,
            });
        }
        Ok(())
    }
}

/// The outcome for one topic (or one ACL): `None` on success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemResult {
    /// Topic name (or ACL description).
    pub name: String,
    /// The error, if any.
    pub error: Option<BrokerError>,
}

fn broker_error(code: i16, message: Option<&StrBytes>) -> Option<BrokerError> {
    (code != 0).then(|| BrokerError::from_code(code, message.map(|m| m.as_str())))
}

/// The outcome of creating one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedTopic {
    /// Topic name.
    pub name: String,
    /// The broker's refusal, if any (`TOPIC_ALREADY_EXISTS`, `INVALID_REPLICATION_FACTOR`, ...).
    pub error: Option<BrokerError>,
    /// Partitions the topic got (the broker default applied), when created.
    pub partitions: Option<i32>,
    /// Replication factor the topic got, when created.
    pub replication_factor: Option<i16>,
}

/// Creates topics (through the controller) after [`TopicSpec::validate`]. Broker refusals
/// (`TOPIC_ALREADY_EXISTS`, `INVALID_REPLICATION_FACTOR`, `INVALID_CONFIG`, ...) are reported
/// per topic.
pub async fn create_topics(
    cluster: &Cluster,
    topics: &[TopicSpec],
) -> Result<Vec<CreatedTopic>, AdminError> {
    for t in topics {
        t.validate()?;
    }
    let mut req = CreateTopicsRequest::default();
    req.timeout_ms = 30_000;
    req.topics = topics
        .iter()
        .map(|t| {
            let mut c = CreatableTopic::default();
            c.name = TopicName(StrBytes::from_string(t.name.clone()));
            c.num_partitions = t.partitions;
            c.replication_factor = t.replication_factor;
            c.configs = t
                .configs
                .iter()
                .map(|(k, v)| {
                    let mut e = CreatableTopicConfig::default();
                    e.name = StrBytes::from_string(k.clone());
                    e.value = Some(StrBytes::from_string(v.clone()));
                    e
                })
                .collect();
            c
        })
        .collect();
    let resp = cluster.send(Target::Controller, req).await?;
    Ok(resp
        .body
        .topics
        .iter()
        .map(|r| {
            let error = broker_error(r.error_code, r.error_message.as_ref());
            let known = error.is_none() && r.num_partitions > 0;
            CreatedTopic {
                name: r.name.0.to_string(),
                error,
                partitions: known.then_some(r.num_partitions),
                replication_factor: known.then_some(r.replication_factor),
            }
        })
        .collect())
}

/// Deletes topics by name (DeleteTopics v6, Kafka 2.8+).
pub async fn delete_topics(
    cluster: &Cluster,
    names: &[String],
) -> Result<Vec<ItemResult>, AdminError> {
    let mut req = DeleteTopicsRequest::default();
    req.timeout_ms = 30_000;
    req.topics = names
        .iter()
        .map(|n| {
            let mut s = DeleteTopicState::default();
            s.name = Some(TopicName(StrBytes::from_string(n.clone())));
            s
        })
        .collect();
    let resp = cluster.send_version(Target::Controller, 6, req).await?;
    Ok(resp
        .body
        .responses
        .iter()
        .map(|r| ItemResult {
            name: r.name.as_ref().map(|n| n.0.to_string()).unwrap_or_default(),
            error: broker_error(r.error_code, r.error_message.as_ref()),
        })
        .collect())
}

/// Lists topic names (fresh metadata), sorted.
pub async fn list_topics(cluster: &Cluster) -> Result<Vec<String>, AdminError> {
    Ok(describe_topics(cluster)
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect())
}

/// A topic as listed: name, partition count and replication factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicListing {
    /// Name.
    pub name: String,
    /// Partitions.
    pub partitions: usize,
    /// Replicas of the first partition (the topic's replication factor).
    pub replication_factor: usize,
    /// Internal topic (`__consumer_offsets`, ...).
    pub internal: bool,
}

/// Every topic the principal may describe (fresh metadata), sorted by name.
pub async fn describe_topics(cluster: &Cluster) -> Result<Vec<TopicListing>, AdminError> {
    let md = cluster.refresh_metadata(None).await?;
    Ok(md
        .topics
        .values()
        .map(|t| TopicListing {
            name: t.name.clone(),
            partitions: t.partitions.len(),
            replication_factor: t.partitions.values().next().map_or(0, |p| p.replicas.len()),
            internal: t.is_internal,
        })
        .collect())
}

/// Waits until each topic's partitions all have a leader (brokers learn a new topic from the
/// metadata log a little after CreateTopics returns). Returns the topics still not ready when
/// `timeout` ran out.
pub async fn wait_topics_ready(
    cluster: &Cluster,
    names: &[String],
    timeout: Duration,
) -> Result<Vec<String>, AdminError> {
    let deadline = Instant::now() + timeout;
    loop {
        let md = cluster.refresh_metadata(Some(names)).await?;
        let waiting: Vec<String> = names
            .iter()
            .filter(|n| {
                !md.topics.get(n.as_str()).is_some_and(|t| {
                    !t.partitions.is_empty() && t.partitions.values().all(|p| p.leader.is_some())
                })
            })
            .cloned()
            .collect();
        if waiting.is_empty() || Instant::now() >= deadline {
            return Ok(waiting);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// ACL resource types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    /// A topic.
    Topic = 2,
    /// A consumer group.
    Group = 3,
    /// The cluster (resource name `kafka-cluster`).
    Cluster = 4,
}

/// ACL operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// All operations.
    All = 2,
    /// Read.
    Read = 3,
    /// Write.
    Write = 4,
    /// Create.
    Create = 5,
    /// Describe.
    Describe = 8,
    /// DescribeConfigs (needed for DescribeClientQuotas on the cluster).
    DescribeConfigs = 10,
    /// AlterConfigs (needed for AlterClientQuotas on the cluster).
    AlterConfigs = 11,
}

/// ACL permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Deny.
    Deny = 2,
    /// Allow.
    Allow = 3,
}

/// One ACL binding (literal or prefixed resource pattern).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    /// Resource type.
    pub resource_type: ResourceType,
    /// Resource name.
    pub resource_name: String,
    /// Prefixed (true) or literal pattern.
    pub prefixed: bool,
    /// Principal, e.g. `User:arn:aws:sts::1:assumed-role/R/s`.
    pub principal: String,
    /// Host (`*` for any).
    pub host: String,
    /// Operation.
    pub operation: Operation,
    /// Allow or deny.
    pub permission: Permission,
}

impl Acl {
    /// Allow `principal` to do `operation` on a topic, from any host.
    pub fn allow_topic(topic: &str, principal: &str, operation: Operation) -> Acl {
        Acl::allow(ResourceType::Topic, topic, principal, operation)
    }

    /// Allow `principal` to do `operation` on a literal resource, from any host.
    ///
    /// ```
    /// use kquota_admin::ops::{Acl, Operation, ResourceType};
    /// let a = Acl::allow(ResourceType::Group, "ConsumerApp-1-group", "User:alice", Operation::Read);
    /// assert_eq!(a.host, "*");
    /// ```
    pub fn allow(
        resource_type: ResourceType,
        name: &str,
        principal: &str,
        operation: Operation,
    ) -> Acl {
        Acl {
            resource_type,
            resource_name: name.into(),
            prefixed: false,
            principal: principal.into(),
            host: "*".into(),
            operation,
            permission: Permission::Allow,
        }
    }

    fn describe(&self) -> String {
        format!(
            "{:?} {:?} {} on {:?} '{}'",
            self.permission, self.operation, self.principal, self.resource_type, self.resource_name
        )
    }
}

/// Creates ACLs; one result per ACL, in order.
pub async fn create_acls(cluster: &Cluster, acls: &[Acl]) -> Result<Vec<ItemResult>, AdminError> {
    let mut req = CreateAclsRequest::default();
    req.creations = acls
        .iter()
        .map(|a| {
            let mut c = AclCreation::default();
            c.resource_type = a.resource_type as i8;
            c.resource_name = StrBytes::from_string(a.resource_name.clone());
            c.resource_pattern_type = if a.prefixed { 4 } else { 3 };
            c.principal = StrBytes::from_string(a.principal.clone());
            c.host = StrBytes::from_string(a.host.clone());
            c.operation = a.operation as i8;
            c.permission_type = a.permission as i8;
            c
        })
        .collect();
    let resp = cluster.send(Target::Any, req).await?;
    if resp.body.results.len() != acls.len() {
        return Err(AdminError::BadResponse {
            broker_id: resp.broker_id,
            detail: format!(
                "{} ACL results for {} ACLs",
                resp.body.results.len(),
                acls.len()
            ),
        });
    }
    Ok(acls
        .iter()
        .zip(&resp.body.results)
        .map(|(a, r)| ItemResult {
            name: a.describe(),
            error: broker_error(r.error_code, r.error_message.as_ref()),
        })
        .collect())
}

/// Lists every ACL binding (ACLs of unknown operation/resource codes are skipped).
pub async fn list_acls(cluster: &Cluster) -> Result<Vec<Acl>, AdminError> {
    let mut req = DescribeAclsRequest::default();
    req.resource_type_filter = 1; // ANY
    req.pattern_type_filter = 1; // ANY
    req.operation = 1; // ANY
    req.permission_type = 1; // ANY
                             // kafka-protocol defaults these filters to Some(""), which matches nothing: None is "any".
    req.resource_name_filter = None;
    req.principal_filter = None;
    req.host_filter = None;
    let resp = cluster.send(Target::Any, req).await?;
    if resp.body.error_code != 0 {
        return Err(AdminError::Broker {
            api: ApiKey::DescribeAcls,
            broker_id: resp.broker_id,
            error: BrokerError::from_code(
                resp.body.error_code,
                resp.body.error_message.as_ref().map(|m| m.as_str()),
            ),
        });
    }
    let mut out = Vec::new();
    for r in &resp.body.resources {
        let rt = match r.resource_type {
            2 => ResourceType::Topic,
            3 => ResourceType::Group,
            4 => ResourceType::Cluster,
            _ => continue,
        };
        for a in &r.acls {
            let op = match a.operation {
                2 => Operation::All,
                3 => Operation::Read,
                4 => Operation::Write,
                5 => Operation::Create,
                8 => Operation::Describe,
                10 => Operation::DescribeConfigs,
                11 => Operation::AlterConfigs,
                _ => continue,
            };
            let permission = if a.permission_type == 2 {
                Permission::Deny
            } else {
                Permission::Allow
            };
            out.push(Acl {
                resource_type: rt,
                resource_name: r.resource_name.to_string(),
                prefixed: r.pattern_type == 4,
                principal: a.principal.to_string(),
                host: a.host.to_string(),
                operation: op,
                permission,
            });
        }
    }
    Ok(out)
}

/// One broker config entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    /// Name.
    pub name: String,
    /// Value (`None` for sensitive or unset values).
    pub value: Option<String>,
    /// Kafka's config source code (1 dynamic broker, 4 static broker, 5 default, ...).
    pub source: i8,
    /// Sensitive values are never returned.
    pub sensitive: bool,
}

/// DescribeConfigs of one broker, optionally only some keys (e.g. [`QUOTA_BROKER_CONFIGS`]).
pub async fn describe_broker_configs(
    cluster: &Cluster,
    broker_id: i32,
    keys: Option<&[&str]>,
) -> Result<Vec<ConfigEntry>, AdminError> {
    let mut res = DescribeConfigsResource::default();
    res.resource_type = 4; // BROKER
    res.resource_name = StrBytes::from_string(broker_id.to_string());
    res.configuration_keys = keys.map(|ks| {
        ks.iter()
            .map(|k| StrBytes::from_string(k.to_string()))
            .collect()
    });
    let mut req = DescribeConfigsRequest::default();
    req.resources = vec![res];
    let resp = cluster.send(Target::Broker(broker_id), req).await?;
    let mut out = Vec::new();
    for r in &resp.body.results {
        if r.error_code != 0 {
            return Err(AdminError::Broker {
                api: ApiKey::DescribeConfigs,
                broker_id: resp.broker_id,
                error: BrokerError::from_code(
                    r.error_code,
                    r.error_message.as_ref().map(|m| m.as_str()),
                ),
            });
        }
        for c in &r.configs {
            out.push(ConfigEntry {
                name: c.name.to_string(),
                value: c.value.as_ref().map(|v| v.to_string()),
                source: c.config_source,
                sensitive: c.is_sensitive,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_kafkas_rules() {
        for ok in [
            "Topic-B",
            "a.b_c-D9",
            &"x".repeat(MAX_TOPIC_NAME_LEN),
            "...",
        ] {
            assert!(validate_topic_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a b", "tópico", "a/b", &"x".repeat(250)] {
            let e = validate_topic_name(bad).unwrap_err();
            assert!(e.to_string().starts_with("invalid topic name"), "{e}");
        }
    }

    #[test]
    fn specs_are_checked_before_sending() {
        assert!(TopicSpec::new("t", -1).validate().is_ok());
        let e = TopicSpec::new("t", 0).validate().unwrap_err();
        assert_eq!(
            e.to_string(),
            "topic 't': the number of partitions must be at least 1, not 0"
        );
        let mut s = TopicSpec::new("t", 1);
        s.replication_factor = 0;
        assert!(matches!(
            s.validate(),
            Err(TopicSpecError::InvalidReplicationFactor { .. })
        ));
        s.replication_factor = 1;
        s.configs = vec![
            ("retention.ms".into(), "1".into()),
            ("retention.ms".into(), "2".into()),
        ];
        assert_eq!(
            s.validate().unwrap_err().to_string(),
            "topic 't': config 'retention.ms' is given twice"
        );
    }
}
