//! Describe and alter client quotas over kquota-net.

use std::collections::BTreeMap;
use std::fmt;

use kquota_net::kafka_protocol::error::ResponseError;
use kquota_net::kafka_protocol::messages::ApiKey;
use kquota_net::kafka_protocol::messages::{
    alter_client_quotas_request, describe_client_quotas_request, AlterClientQuotasRequest,
    DescribeClientQuotasRequest,
};
use kquota_net::kafka_protocol::protocol::StrBytes;
use kquota_net::{Cluster, Target};

use crate::filter::{Filter, Match};
use crate::model::{
    Alteration, Entity, EntityName, EntityQuotas, EntityType, Op, QuotaKey, QuotaValues,
};
use crate::validate::{validate_alterations, ValidationError};

/// Largest number of entities sent in one AlterClientQuotas request. The controller rejects a
/// request producing more than 10 000 records (POLICY_VIOLATION); 1 000 entities × at most 4
/// keys stays well below.
pub const MAX_ENTITIES_PER_REQUEST: usize = 1000;

/// A broker error code with its name and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerError {
    /// The Kafka error code.
    pub code: i16,
    /// Its name, e.g. `INVALID_REQUEST`.
    pub code_name: String,
    /// The broker's message.
    pub message: Option<String>,
}

impl BrokerError {
    fn new(code: i16, message: Option<&StrBytes>) -> BrokerError {
        Self::from_code(code, message.map(|m| m.as_str()))
    }

    /// Builds the error of a Kafka error code and the broker's message.
    pub fn from_code(code: i16, message: Option<&str>) -> BrokerError {
        let code_name = ResponseError::try_from_code(code)
            .map(|e| screaming(&format!("{e:?}")))
            .unwrap_or_else(|| format!("ERROR_{code}"));
        BrokerError {
            code,
            code_name,
            message: message.map(str::to_string).filter(|m| !m.is_empty()),
        }
    }

    /// Authorization failures (CLUSTER_AUTHORIZATION_FAILED and friends).
    pub fn is_authorization(&self) -> bool {
        matches!(self.code, 29..=31)
    }
}

fn screaming(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

impl fmt::Display for BrokerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => write!(f, "{} ({}): {m}", self.code_name, self.code),
            None => write!(f, "{} ({})", self.code_name, self.code),
        }
    }
}

/// Errors of quota operations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// Rejected locally before sending.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// A topic rejected locally before sending (name, counts, config names).
    #[error(transparent)]
    InvalidTopic(#[from] crate::ops::TopicSpecError),
    /// Connection layer failure (connect, TLS, SASL, timeout, decode).
    #[error(transparent)]
    Net(#[from] kquota_net::Error),
    /// The broker lacks the API (Kafka < 2.6).
    #[error("broker does not support {api:?} (Kafka 2.6 or newer is required for client quotas): {detail}")]
    Unsupported {
        /// The API.
        api: ApiKey,
        /// Details from the connection layer.
        detail: String,
    },
    /// The broker answered a request-level error.
    #[error("{api:?} failed on broker {broker_id}: {error}")]
    Broker {
        /// The API.
        api: ApiKey,
        /// The broker that answered.
        broker_id: i32,
        /// The error.
        error: BrokerError,
    },
    /// The response does not account for every entity sent.
    #[error("the broker's AlterClientQuotas response has no result for entity {0}; its state is unknown")]
    MissingResult(Entity),
    /// The response contains something that cannot be understood.
    #[error("unexpected response from broker {broker_id}: {detail}")]
    BadResponse {
        /// The broker.
        broker_id: i32,
        /// What is wrong.
        detail: String,
    },
    /// An alter split into several requests failed part-way: what earlier requests applied is
    /// in [`AlterIncomplete::answered`], the cause in [`AlterIncomplete::source`].
    #[error(transparent)]
    Incomplete(Box<AlterIncomplete>),
}

/// How far an alter split into several AlterClientQuotas requests got when one of them failed
/// (see [`QuotaAdmin::alter`]). Each request is applied on its own, so the results of the
/// requests answered before the failure stand, and callers must be able to say so.
#[derive(Debug, thiserror::Error)]
#[error(
    "{source} (request {failed_request} of {requests}; the {} entities of the requests before it were answered, {} not sent)",
    answered.len(),
    not_sent.len()
)]
pub struct AlterIncomplete {
    /// The results of the requests answered before the failure, in request order (a prefix of
    /// the alterations).
    pub answered: Vec<AlterResult>,
    /// The entities of the request that failed: not applied when the broker rejected the
    /// request as a whole ([`AlterIncomplete::rejected`]), else their outcome is unknown (the
    /// request may have been applied without its answer being read).
    pub unanswered: Vec<Entity>,
    /// The entities of the later requests, which were not sent.
    pub not_sent: Vec<Entity>,
    /// The failed request's number (1-based).
    pub failed_request: usize,
    /// How many requests the alter needed.
    pub requests: usize,
    /// Why the request failed.
    pub source: AdminError,
}

impl AlterIncomplete {
    /// Whether the broker refused the failed request as a whole (its entities were not
    /// changed), as opposed to a failure after which their outcome is unknown.
    pub fn rejected(&self) -> bool {
        matches!(
            self.source,
            AdminError::Broker { .. } | AdminError::Unsupported { .. }
        )
    }
}

impl AdminError {
    /// Whether this is an authentication/authorization/connection problem (vs a rejection).
    pub fn is_access_problem(&self) -> bool {
        match self {
            AdminError::Broker { error, .. } => error.is_authorization(),
            AdminError::Net(e) => !matches!(e, kquota_net::Error::Broker { .. }),
            AdminError::Incomplete(i) => i.source.is_access_problem(),
            _ => false,
        }
    }
}

/// One describe entry in the broker's order.
#[derive(Debug, Clone, PartialEq)]
pub struct WireEntry {
    /// The entity.
    pub entity: Entity,
    /// Its values in the broker's order.
    pub values: Vec<(QuotaKey, f64)>,
}

/// The outcome for one entity of an alter request.
#[derive(Debug, Clone, PartialEq)]
pub struct AlterResult {
    /// The entity, as sent.
    pub entity: Entity,
    /// `None` on success.
    pub error: Option<BrokerError>,
}

/// A step of [`QuotaAdmin::alter_until`], told to its `progress` callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlterStep {
    /// Request `request` of `requests` (1-based), with `entities` entities, is handed to the
    /// connection: from here on it is awaited until answered (or failed), whatever `stop` does.
    /// (The connection may still hold it back while the broker throttles this client.)
    Sending {
        /// This request's number.
        request: usize,
        /// How many requests the alter needs.
        requests: usize,
        /// Entities in this request.
        entities: usize,
    },
    /// Request `request` of `requests` was answered; `answered` of `total` entities have a
    /// result now.
    Answered {
        /// This request's number.
        request: usize,
        /// How many requests the alter needs.
        requests: usize,
        /// Entities with a result so far.
        answered: usize,
        /// Entities in the whole alter.
        total: usize,
    },
}

/// What [`QuotaAdmin::alter_until`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct AlterOutcome {
    /// The results of the entities sent, in request order (a prefix of the alterations).
    pub results: Vec<AlterResult>,
    /// The entities not sent because `stop` fired first (empty when every request was sent).
    pub not_sent: Vec<Entity>,
}

/// Quota operations on a connected cluster.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use kquota_admin::{client::QuotaAdmin, Alteration, Entity, EntityName, Filter, Op, QuotaKey};
/// let cluster = kquota_net::Cluster::connect(kquota_net::ClientConfig::new(["localhost:9092"])).await?;
/// let admin = QuotaAdmin::new(cluster);
/// let e = Entity::new().with_client_id(EntityName::named("app"));
/// admin.alter(&[Alteration { entity: e.clone(), ops: vec![Op::Set(QuotaKey::ProducerByteRate, 1024.0)] }], false).await?;
/// let found = admin.describe(&Filter::exact_entity(&e)).await?;
/// # let _ = found; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct QuotaAdmin {
    cluster: Cluster,
}

/// Up to this many alterations, [`QuotaAdmin::wait_applied`] checks each entity with an exact
/// describe; beyond it, with one describe of every entity per broker.
const EXACT_CHECKS_UP_TO: usize = 8;

impl QuotaAdmin {
    /// Wraps a connected cluster.
    pub fn new(cluster: Cluster) -> QuotaAdmin {
        QuotaAdmin { cluster }
    }

    /// The underlying cluster.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// DescribeClientQuotas through any broker. Entities without values are dropped.
    pub async fn describe(&self, filter: &Filter) -> Result<Vec<EntityQuotas>, AdminError> {
        self.describe_on(Target::Any, filter).await
    }

    /// DescribeClientQuotas through a chosen broker (each answers from its own metadata cache).
    /// Entities are sorted and merged; entities without values are dropped.
    pub async fn describe_on(
        &self,
        target: Target,
        filter: &Filter,
    ) -> Result<Vec<EntityQuotas>, AdminError> {
        let mut out: BTreeMap<Entity, EntityQuotas> = BTreeMap::new();
        for w in self.describe_wire(target, filter).await? {
            let eq = out.entry(w.entity.clone()).or_insert(EntityQuotas {
                entity: w.entity,
                values: Default::default(),
            });
            eq.values.extend(w.values);
        }
        Ok(out.into_values().collect())
    }

    /// DescribeClientQuotas keeping the broker's order of entities and keys (needed to print
    /// exactly what Java tools print, whose output order depends on insertion order).
    /// Entries without values are dropped (KAFKA-14285).
    pub async fn describe_wire(
        &self,
        target: Target,
        filter: &Filter,
    ) -> Result<Vec<WireEntry>, AdminError> {
        let mut req = DescribeClientQuotasRequest::default();
        req.strict = filter.strict;
        req.components = filter
            .components
            .iter()
            .map(|c| {
                let mut d = describe_client_quotas_request::ComponentData::default();
                d.entity_type = StrBytes::from_static_str(c.entity_type.wire_name());
                // kafka-protocol defaults `_match` to "", which the broker rejects for
                // DEFAULT/ANY: set it explicitly.
                let (t, m) = match &c.matching {
                    Match::Exact(s) => (0, Some(StrBytes::from_string(s.clone()))),
                    Match::Default => (1, None),
                    Match::Any => (2, None),
                };
                d.match_type = t;
                d._match = m;
                d
            })
            .collect();
        let resp = self
            .cluster
            .send(target, req)
            .await
            .map_err(|e| map_net(e, ApiKey::DescribeClientQuotas))?;
        let body = resp.body;
        if body.error_code != 0 {
            return Err(AdminError::Broker {
                api: ApiKey::DescribeClientQuotas,
                broker_id: resp.broker_id,
                error: BrokerError::new(body.error_code, body.error_message.as_ref()),
            });
        }
        let mut out = Vec::new();
        for entry in body.entries.unwrap_or_default() {
            let mut entity = Entity::new();
            for c in &entry.entity {
                let t = EntityType::parse(c.entity_type.as_str()).ok_or_else(|| {
                    AdminError::BadResponse {
                        broker_id: resp.broker_id,
                        detail: format!("unknown entity type '{}'", c.entity_type.as_str()),
                    }
                })?;
                entity.set(
                    t,
                    EntityName::from_wire(c.entity_name.as_ref().map(|s| s.as_str())),
                );
            }
            if entry.values.is_empty() {
                continue;
            }
            out.push(WireEntry {
                entity,
                values: entry
                    .values
                    .iter()
                    .map(|v| (QuotaKey::from_name(v.key.as_str()), v.value))
                    .collect(),
            });
        }
        Ok(out)
    }

    /// AlterClientQuotas, validated locally first. Results are matched to the request by entity
    /// (the broker answers from a map, in any order); the returned list follows request order.
    ///
    /// Large batches are split into requests of [`MAX_ENTITIES_PER_REQUEST`] entities, each
    /// applied by the broker on its own. When a request fails after others were sent, the error
    /// is [`AdminError::Incomplete`]: it carries the results of the requests answered before
    /// (those changes stand), the entities of the failed request and those not sent.
    pub async fn alter(
        &self,
        alterations: &[Alteration],
        validate_only: bool,
    ) -> Result<Vec<AlterResult>, AdminError> {
        let outcome = self
            .alter_until(alterations, validate_only, std::future::pending(), |_| {})
            .await?;
        Ok(outcome.results)
    }

    /// [`alter`](Self::alter) that can be stopped between requests: `stop` is watched before
    /// the first request and between requests (also while waiting out a throttle the previous
    /// answer asked for, KIP-219), never while a request is outstanding, so every request sent
    /// is awaited until answered. When `stop` fires, the remaining entities are not sent and
    /// are listed in [`AlterOutcome::not_sent`]. `progress` is told each [`AlterStep`].
    ///
    /// ```no_run
    /// # async fn f(admin: kquota_admin::QuotaAdmin, alts: Vec<kquota_admin::Alteration>) -> Result<(), kquota_admin::AdminError> {
    /// let stop = tokio::time::sleep(std::time::Duration::from_secs(5));
    /// let outcome = admin.alter_until(&alts, false, stop, |step| eprintln!("{step:?}")).await?;
    /// println!("{} answered, {} not sent", outcome.results.len(), outcome.not_sent.len());
    /// # Ok(()) }
    /// ```
    pub async fn alter_until(
        &self,
        alterations: &[Alteration],
        validate_only: bool,
        stop: impl std::future::Future<Output = ()>,
        mut progress: impl FnMut(AlterStep),
    ) -> Result<AlterOutcome, AdminError> {
        validate_alterations(alterations)?;
        tokio::pin!(stop);
        let requests = alterations.len().div_ceil(MAX_ENTITIES_PER_REQUEST);
        let mut results: Vec<AlterResult> = Vec::with_capacity(alterations.len());
        // When the last answer asked the client to hold back (KIP-219), the next request waits
        // here, where `stop` can still end the alter, rather than inside the connection.
        let mut hold_until: Option<tokio::time::Instant> = None;
        for (i, chunk) in alterations.chunks(MAX_ENTITIES_PER_REQUEST).enumerate() {
            let stopped = tokio::select! {
                biased;
                _ = &mut stop => true,
                _ = sleep_until_opt(hold_until) => false,
            };
            if stopped {
                let not_sent = alterations[results.len()..]
                    .iter()
                    .map(|a| a.entity.clone())
                    .collect();
                return Ok(AlterOutcome { results, not_sent });
            }
            progress(AlterStep::Sending {
                request: i + 1,
                requests,
                entities: chunk.len(),
            });
            match self.alter_chunk(chunk, validate_only).await {
                Ok((answered, throttle)) => {
                    results.extend(answered);
                    hold_until = throttle;
                    progress(AlterStep::Answered {
                        request: i + 1,
                        requests,
                        answered: results.len(),
                        total: alterations.len(),
                    });
                }
                Err(e) if requests == 1 => return Err(e),
                Err(source) => {
                    let entities = |alts: &[Alteration]| -> Vec<Entity> {
                        alts.iter().map(|a| a.entity.clone()).collect()
                    };
                    let start = results.len();
                    let end = start + chunk.len();
                    return Err(AdminError::Incomplete(Box::new(AlterIncomplete {
                        answered: results,
                        unanswered: entities(&alterations[start..end]),
                        not_sent: entities(&alterations[end..]),
                        failed_request: i + 1,
                        requests,
                        source,
                    })));
                }
            }
        }
        Ok(AlterOutcome {
            results,
            not_sent: Vec::new(),
        })
    }

    /// Waits until every broker answers DescribeClientQuotas with the state `alterations` asked
    /// for (each `Set` key at its value, each `Remove`d key gone), polling each broker with an
    /// exact-entity filter for up to `timeout`.
    ///
    /// Why: in KRaft the controller commits the change before the brokers replay it into their
    /// metadata caches, so a describe (or the quota enforcement) right after an alter can still
    /// see the old value for a few milliseconds. Returns the ids of brokers still lagging when
    /// the time is up (empty: all brokers agree); the caller decides whether that is a warning.
    ///
    /// ```no_run
    /// # async fn f(admin: kquota_admin::QuotaAdmin, alts: Vec<kquota_admin::Alteration>) -> Result<(), kquota_admin::AdminError> {
    /// admin.alter(&alts, false).await?;
    /// let lagging = admin.wait_applied(&alts, std::time::Duration::from_secs(10)).await?;
    /// assert!(lagging.is_empty(), "brokers {lagging:?} still show the old quotas");
    /// # Ok(()) }
    /// ```
    pub async fn wait_applied(
        &self,
        alterations: &[Alteration],
        timeout: std::time::Duration,
    ) -> Result<Vec<i32>, AdminError> {
        let deadline = std::time::Instant::now() + timeout;
        let brokers: Vec<i32> = self
            .cluster
            .metadata()
            .await
            .map_err(AdminError::Net)?
            .brokers
            .keys()
            .copied()
            .collect();
        let mut lagging = Vec::new();
        for id in brokers {
            // Brokers usually replay the change within milliseconds: poll soon, then back off
            // (2, 4, 8, ... ms, at most 50 ms between polls).
            let mut pause = std::time::Duration::from_millis(2);
            loop {
                if self.broker_shows(id, alterations).await? {
                    break;
                }
                if std::time::Instant::now() >= deadline {
                    lagging.push(id);
                    break;
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_millis(50));
            }
        }
        Ok(lagging)
    }

    async fn broker_shows(
        &self,
        broker: i32,
        alterations: &[Alteration],
    ) -> Result<bool, AdminError> {
        // A few entities: one exact describe each. More: one describe of everything, instead
        // of a round trip per entity (1 000 entities took ~0.4 s that way).
        let everything = if alterations.len() > EXACT_CHECKS_UP_TO {
            Some(
                self.describe_on(Target::Broker(broker), &Filter::all())
                    .await?,
            )
        } else {
            None
        };
        // Indexed by entity: a linear search per alteration made 1 000 entities ~1 M compares.
        let index: Option<std::collections::HashMap<&Entity, &QuotaValues>> = everything
            .as_ref()
            .map(|all| all.iter().map(|eq| (&eq.entity, &eq.values)).collect());
        for a in alterations {
            let exact;
            let values = match &index {
                Some(index) => index.get(&a.entity).copied(),
                None => {
                    exact = self
                        .describe_on(Target::Broker(broker), &Filter::exact_entity(&a.entity))
                        .await?
                        .into_iter()
                        .find(|eq| eq.entity == a.entity);
                    exact.as_ref().map(|eq| &eq.values)
                }
            };
            let ok = a.ops.iter().all(|op| match op {
                Op::Set(k, v) => values.and_then(|vs| vs.get(k)) == Some(v),
                Op::Remove(k) => values.is_none_or(|vs| !vs.contains_key(k)),
            });
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// One AlterClientQuotas request: the per-entity results and, when the broker throttled
    /// the answer, the time until which the next request should wait.
    async fn alter_chunk(
        &self,
        alterations: &[Alteration],
        validate_only: bool,
    ) -> Result<(Vec<AlterResult>, Option<tokio::time::Instant>), AdminError> {
        let mut req = AlterClientQuotasRequest::default();
        req.validate_only = validate_only;
        req.entries = alterations
            .iter()
            .map(|a| {
                let mut e = alter_client_quotas_request::EntryData::default();
                e.entity = a
                    .entity
                    .components()
                    .map(|(t, n)| {
                        let mut d = alter_client_quotas_request::EntityData::default();
                        d.entity_type = StrBytes::from_static_str(t.wire_name());
                        d.entity_name = n.as_wire().map(|s| StrBytes::from_string(s.to_string()));
                        d
                    })
                    .collect();
                e.ops = a
                    .ops
                    .iter()
                    .map(|op| {
                        let mut o = alter_client_quotas_request::OpData::default();
                        match op {
                            Op::Set(k, v) => {
                                o.key = StrBytes::from_string(k.name().to_string());
                                o.value = *v;
                            }
                            Op::Remove(k) => {
                                o.key = StrBytes::from_string(k.name().to_string());
                                o.remove = true;
                            }
                        }
                        o
                    })
                    .collect();
                e
            })
            .collect();
        // KRaft brokers forward to the controller; send to any broker.
        let resp = self
            .cluster
            .send(Target::Any, req)
            .await
            .map_err(|e| map_net(e, ApiKey::AlterClientQuotas))?;
        // From v1 the client holds back after a throttled answer (KIP-219); v0 answers were
        // already delayed by the broker.
        let hold = u64::try_from(resp.throttle_time_ms)
            .ok()
            .filter(|ms| *ms > 0 && resp.api_version >= 1)
            .map(|ms| tokio::time::Instant::now() + std::time::Duration::from_millis(ms));
        let mut by_entity: BTreeMap<Entity, Option<BrokerError>> = BTreeMap::new();
        for entry in &resp.body.entries {
            let mut entity = Entity::new();
            for c in &entry.entity {
                let t = EntityType::parse(c.entity_type.as_str()).ok_or_else(|| {
                    AdminError::BadResponse {
                        broker_id: resp.broker_id,
                        detail: format!("unknown entity type '{}'", c.entity_type.as_str()),
                    }
                })?;
                entity.set(
                    t,
                    EntityName::from_wire(c.entity_name.as_ref().map(|s| s.as_str())),
                );
            }
            let err = (entry.error_code != 0)
                .then(|| BrokerError::new(entry.error_code, entry.error_message.as_ref()));
            by_entity.insert(entity, err);
        }
        let mut out = Vec::with_capacity(alterations.len());
        for a in alterations {
            match by_entity.get(&a.entity) {
                Some(err) => out.push(AlterResult {
                    entity: a.entity.clone(),
                    error: err.clone(),
                }),
                None => return Err(AdminError::MissingResult(a.entity.clone())),
            }
        }
        // A request-wide failure (authorization, NOT_CONTROLLER) is copied into every entry.
        if !out.is_empty()
            && out
                .iter()
                .all(|r| r.error.as_ref().is_some_and(|e| e.is_authorization()))
        {
            let error = out[0].error.clone().expect("checked above");
            return Err(AdminError::Broker {
                api: ApiKey::AlterClientQuotas,
                broker_id: resp.broker_id,
                error,
            });
        }
        Ok((out, hold))
    }
}

/// Sleeps until `at`, or not at all.
async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

pub(crate) fn map_net(e: kquota_net::Error, api: ApiKey) -> AdminError {
    match e {
        kquota_net::Error::UnsupportedApi { .. } | kquota_net::Error::UnsupportedVersion { .. } => {
            AdminError::Unsupported {
                api,
                detail: e.to_string(),
            }
        }
        other => AdminError::Net(other),
    }
}
