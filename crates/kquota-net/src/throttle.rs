//! Throttle bookkeeping (KIP-219), sans-IO.
//!
//! Since Kafka 2.0 a broker answers a quota-violating request at once, with `throttle_time_ms`,
//! and then mutes the connection for that long. The client must send nothing more to that broker
//! until the throttle ends — for responses at or above the API's KIP-219 version (before it, the
//! broker had already delayed the response). APIs added after 2.0 (DescribeClientQuotas,
//! AlterClientQuotas, DescribeCluster...) throttle after the response at every version. The wait is
//! never capped (a bandwidth throttle can legitimately last tens of seconds).
//! Table: ../shared/reference/quotas.md §3.3 (Java `shouldClientThrottle`, franz-go `Throttle()`).

use std::time::{Duration, Instant, SystemTime};

use kafka_protocol::messages::ApiKey;

/// First version of `api` whose response is sent *before* the broker applies the throttle
/// (so the client must back off itself); `None` if the API has no throttle.
///
/// ```
/// use kafka_protocol::messages::ApiKey;
/// use kquota_net::throttle::kip219_since;
/// assert_eq!(kip219_since(ApiKey::Produce), Some(6));
/// assert_eq!(kip219_since(ApiKey::DescribeClientQuotas), Some(0));
/// assert_eq!(kip219_since(ApiKey::SaslHandshake), None);
/// ```
pub const fn kip219_since(api: ApiKey) -> Option<i16> {
    use ApiKey::*;
    match api {
        Produce | Metadata => Some(6),
        Fetch => Some(8),
        ListOffsets | JoinGroup | CreateTopics => Some(3),
        OffsetCommit | OffsetFetch => Some(4),
        FindCoordinator | Heartbeat | LeaveGroup | SyncGroup | DescribeGroups | ListGroups
        | ApiVersions | DeleteTopics | DescribeConfigs => Some(2),
        DeleteRecords
        | InitProducerId
        | AddPartitionsToTxn
        | AddOffsetsToTxn
        | EndTxn
        | TxnOffsetCommit
        | DescribeAcls
        | CreateAcls
        | DeleteAcls
        | AlterConfigs
        | CreatePartitions
        | CreateDelegationToken
        | RenewDelegationToken
        | ExpireDelegationToken
        | DescribeDelegationToken
        | DeleteGroups
        | OffsetForLeaderEpoch
        | AlterReplicaLogDirs
        | DescribeLogDirs => Some(1),
        SaslHandshake | SaslAuthenticate => None,
        // Everything added after Kafka 2.0 (KIP-219) throttles after the response at every
        // version: DescribeClientQuotas, AlterClientQuotas, IncrementalAlterConfigs, DescribeCluster...
        _ => Some(0),
    }
}

/// Whether a response of `api` at `version` carrying a throttle obliges the client to wait.
///
/// ```
/// use kafka_protocol::messages::ApiKey;
/// assert!(!kquota_net::throttle::client_must_wait(ApiKey::Produce, 5));
/// assert!(kquota_net::throttle::client_must_wait(ApiKey::Produce, 9));
/// ```
pub const fn client_must_wait(api: ApiKey, version: i16) -> bool {
    match kip219_since(api) {
        Some(v) => version >= v,
        None => false,
    }
}

/// A response that carried `throttle_time_ms > 0`, published by
/// [`crate::Cluster::throttle_events`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleEvent {
    /// The broker's node id (-1 for a bootstrap connection whose id is not known yet).
    pub broker_id: i32,
    /// The API of the response.
    pub api: ApiKey,
    /// The response version.
    pub api_version: i16,
    /// The broker's throttle time.
    pub throttle_time_ms: i32,
    /// Whether the client waits it out before sending more to this broker (KIP-219 rule).
    pub client_waits: bool,
    /// When the response was received.
    pub at: SystemTime,
}

/// Per-connection throttle gate: until when nothing may be written.
///
/// ```
/// use std::time::{Duration, Instant};
/// use kafka_protocol::messages::ApiKey;
/// use kquota_net::throttle::ThrottleGate;
/// let mut g = ThrottleGate::default();
/// let now = Instant::now();
/// assert!(g.record(ApiKey::DescribeClientQuotas, 1, 250, now));
/// assert_eq!(g.blocked_until(now), Some(now + Duration::from_millis(250)));
/// assert_eq!(g.blocked_until(now + Duration::from_secs(1)), None);
/// ```
#[derive(Debug, Default, Clone)]
pub struct ThrottleGate {
    until: Option<Instant>,
}

impl ThrottleGate {
    /// Records a response received at `received`; returns whether the client must wait.
    /// Overlapping throttles extend the gate to the later end.
    pub fn record(
        &mut self,
        api: ApiKey,
        version: i16,
        throttle_time_ms: i32,
        received: Instant,
    ) -> bool {
        if throttle_time_ms <= 0 || !client_must_wait(api, version) {
            return false;
        }
        let end = received + Duration::from_millis(throttle_time_ms as u64);
        self.until = Some(self.until.map_or(end, |u| u.max(end)));
        true
    }

    /// `Some(deadline)` while writes must wait, else `None`.
    pub fn blocked_until(&self, now: Instant) -> Option<Instant> {
        self.until.filter(|u| *u > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_below_kip219_do_not_gate() {
        let mut g = ThrottleGate::default();
        let now = Instant::now();
        assert!(!g.record(ApiKey::Fetch, 7, 5000, now));
        assert_eq!(g.blocked_until(now), None);
        assert!(g.record(ApiKey::Fetch, 8, 5000, now));
        assert!(g.blocked_until(now + Duration::from_millis(4999)).is_some());
    }

    #[test]
    fn gate_is_never_capped_and_keeps_the_later_end() {
        let mut g = ThrottleGate::default();
        let now = Instant::now();
        g.record(ApiKey::Produce, 9, i32::MAX, now);
        assert_eq!(
            g.blocked_until(now),
            Some(now + Duration::from_millis(i32::MAX as u64))
        );
        let mut g = ThrottleGate::default();
        g.record(ApiKey::Metadata, 12, 1000, now);
        g.record(ApiKey::Metadata, 12, 10, now);
        assert_eq!(
            g.blocked_until(now),
            Some(now + Duration::from_millis(1000))
        );
        assert!(!g.record(ApiKey::Metadata, 12, 0, now));
        assert!(!g.record(ApiKey::Metadata, 12, -5, now));
    }

    #[test]
    fn quota_apis_throttle_at_every_version() {
        for api in [
            ApiKey::DescribeClientQuotas,
            ApiKey::AlterClientQuotas,
            ApiKey::DescribeCluster,
        ] {
            assert!(client_must_wait(api, 0), "{api:?}");
        }
    }
}
