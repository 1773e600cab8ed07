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
use kquota_net::kafka_protocol::messages::create_topics_request::CreatableTopic;
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
    /// Partition count.
    pub partitions: i32,
    /// Replication factor; -1 uses the broker default.
    pub replication_factor: i16,
}

impl TopicSpec {
    /// A topic with the broker's default replication factor.
    pub fn new(name: impl Into<String>, partitions: i32) -> TopicSpec {
        TopicSpec {
            name: name.into(),
            partitions,
            replication_factor: -1,
        }
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

/// Creates topics (through the controller). `TOPIC_ALREADY_EXISTS` is reported per topic.
pub async fn create_topics(
    cluster: &Cluster,
    topics: &[TopicSpec],
) -> Result<Vec<ItemResult>, AdminError> {
    let mut req = CreateTopicsRequest::default();
    req.timeout_ms = 30_000;
    req.topics = topics
        .iter()
        .map(|t| {
            let mut c = CreatableTopic::default();
            c.name = TopicName(StrBytes::from_string(t.name.clone()));
            c.num_partitions = t.partitions;
            c.replication_factor = t.replication_factor;
            c
        })
        .collect();
    let resp = cluster.send(Target::Controller, req).await?;
    Ok(resp
        .body
        .topics
        .iter()
        .map(|r| ItemResult {
            name: r.name.0.to_string(),
            error: broker_error(r.error_code, r.error_message.as_ref()),
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
    let md = cluster.refresh_metadata(None).await?;
    let mut names: Vec<String> = md.topics.keys().map(|k| k.to_string()).collect();
    names.sort();
    Ok(names)
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
