//! [`KafkaRequest`]: our mapping from a kafka-protocol request type to its API key, response
//! type and throttle rule (the crate's own `Request` trait exists only with its `broker` feature).

use std::fmt::Debug;

use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Message};

use crate::throttle::kip219_since;

/// A request kquota can send, with its response type.
///
/// ```
/// use kafka_protocol::messages::{ApiKey, DescribeClientQuotasRequest};
/// use kquota_net::KafkaRequest;
/// assert_eq!(DescribeClientQuotasRequest::KEY, ApiKey::DescribeClientQuotas);
/// assert_eq!(DescribeClientQuotasRequest::THROTTLE_AFTER_RESPONSE_SINCE, Some(0));
/// ```
pub trait KafkaRequest:
    Encodable + HeaderVersion + Message + Debug + Send + Sync + 'static
{
    /// The API key.
    const KEY: ApiKey;
    /// First version at which the broker throttles *after* sending the response (KIP-219), so
    /// the client must wait before sending more; `None` if the API is never throttled.
    const THROTTLE_AFTER_RESPONSE_SINCE: Option<i16> = kip219_since(Self::KEY);
    /// Whether sending the request twice is harmless (reads). Only such requests are retried
    /// after the connection broke with the request written; any request is retried when it
    /// provably never reached the broker.
    const RETRY_SAFE: bool;
    /// The response type.
    type Response: Decodable + HeaderVersion + Default + Debug + Send + 'static;

    /// The response's `throttle_time_ms` (0 at versions without the field); `None` if the
    /// response type has no such field.
    fn throttle_time_ms(resp: &Self::Response) -> Option<i32>;

    /// Whether the broker answers this request at all (`false` for Produce with `acks = 0`).
    fn expects_response(&self) -> bool {
        true
    }

    /// Calls `f` with every error code in the response that says something about routing
    /// (top-level, per topic, per partition). Used to refresh metadata on NOT_LEADER etc.
    fn error_codes(_resp: &Self::Response, _f: &mut dyn FnMut(i16)) {}
}

macro_rules! kafka_request {
    ($req:ty => $resp:ty, $key:ident, retry_safe: $safe:expr, throttle: $thr:expr, codes: $codes:expr) => {
        impl KafkaRequest for $req {
            const KEY: ApiKey = ApiKey::$key;
            const RETRY_SAFE: bool = $safe;
            type Response = $resp;
            fn throttle_time_ms(resp: &Self::Response) -> Option<i32> {
                #[allow(clippy::redundant_closure_call)]
                ($thr)(resp)
            }
            fn error_codes(resp: &Self::Response, f: &mut dyn FnMut(i16)) {
                #[allow(clippy::redundant_closure_call)]
                ($codes)(resp, f)
            }
        }
    };
    ($req:ty => $resp:ty, $key:ident, retry_safe: $safe:expr, throttle: $thr:expr) => {
        kafka_request!($req => $resp, $key, retry_safe: $safe, throttle: $thr, codes: |_r: &$resp, _f: &mut dyn FnMut(i16)| {});
    };
    ($req:ty => $resp:ty, $key:ident, retry_safe: $safe:expr) => {
        kafka_request!($req => $resp, $key, retry_safe: $safe, throttle: |r: &$resp| Some(r.throttle_time_ms));
    };
}

impl KafkaRequest for ProduceRequest {
    const KEY: ApiKey = ApiKey::Produce;
    const RETRY_SAFE: bool = false;
    type Response = ProduceResponse;
    fn throttle_time_ms(resp: &ProduceResponse) -> Option<i32> {
        Some(resp.throttle_time_ms)
    }
    /// `acks = 0`: the broker sends no response; `send` returns an empty `ProduceResponse`.
    fn expects_response(&self) -> bool {
        self.acks != 0
    }
    fn error_codes(resp: &ProduceResponse, f: &mut dyn FnMut(i16)) {
        for t in &resp.responses {
            for p in &t.partition_responses {
                f(p.error_code);
            }
        }
    }
}

kafka_request!(FetchRequest => FetchResponse, Fetch, retry_safe: true,
throttle: |r: &FetchResponse| Some(r.throttle_time_ms),
codes: |r: &FetchResponse, f: &mut dyn FnMut(i16)| {
    f(r.error_code);
    for t in &r.responses { for p in &t.partitions { f(p.error_code); } }
});
kafka_request!(ListOffsetsRequest => ListOffsetsResponse, ListOffsets, retry_safe: true,
throttle: |r: &ListOffsetsResponse| Some(r.throttle_time_ms),
codes: |r: &ListOffsetsResponse, f: &mut dyn FnMut(i16)| {
    for t in &r.topics { for p in &t.partitions { f(p.error_code); } }
});
kafka_request!(MetadataRequest => MetadataResponse, Metadata, retry_safe: true,
    throttle: |r: &MetadataResponse| Some(r.throttle_time_ms),
    codes: |r: &MetadataResponse, f: &mut dyn FnMut(i16)| { f(r.error_code); });
kafka_request!(ApiVersionsRequest => ApiVersionsResponse, ApiVersions, retry_safe: true);
kafka_request!(SaslHandshakeRequest => SaslHandshakeResponse, SaslHandshake, retry_safe: false,
    throttle: |_r: &SaslHandshakeResponse| None);
kafka_request!(SaslAuthenticateRequest => SaslAuthenticateResponse, SaslAuthenticate, retry_safe: false,
    throttle: |_r: &SaslAuthenticateResponse| None);
kafka_request!(DescribeClientQuotasRequest => DescribeClientQuotasResponse, DescribeClientQuotas, retry_safe: true,
    throttle: |r: &DescribeClientQuotasResponse| Some(r.throttle_time_ms),
    codes: |r: &DescribeClientQuotasResponse, f: &mut dyn FnMut(i16)| { f(r.error_code); });
kafka_request!(AlterClientQuotasRequest => AlterClientQuotasResponse, AlterClientQuotas, retry_safe: false);
kafka_request!(FindCoordinatorRequest => FindCoordinatorResponse, FindCoordinator, retry_safe: true);
kafka_request!(JoinGroupRequest => JoinGroupResponse, JoinGroup, retry_safe: false);
kafka_request!(SyncGroupRequest => SyncGroupResponse, SyncGroup, retry_safe: false);
kafka_request!(HeartbeatRequest => HeartbeatResponse, Heartbeat, retry_safe: true);
kafka_request!(LeaveGroupRequest => LeaveGroupResponse, LeaveGroup, retry_safe: false);
kafka_request!(OffsetCommitRequest => OffsetCommitResponse, OffsetCommit, retry_safe: false);
kafka_request!(OffsetFetchRequest => OffsetFetchResponse, OffsetFetch, retry_safe: true);
kafka_request!(InitProducerIdRequest => InitProducerIdResponse, InitProducerId, retry_safe: false);
kafka_request!(CreateTopicsRequest => CreateTopicsResponse, CreateTopics, retry_safe: false,
    throttle: |r: &CreateTopicsResponse| Some(r.throttle_time_ms),
    codes: |r: &CreateTopicsResponse, f: &mut dyn FnMut(i16)| { for t in &r.topics { f(t.error_code); } });
kafka_request!(DeleteTopicsRequest => DeleteTopicsResponse, DeleteTopics, retry_safe: false,
    throttle: |r: &DeleteTopicsResponse| Some(r.throttle_time_ms),
    codes: |r: &DeleteTopicsResponse, f: &mut dyn FnMut(i16)| { for t in &r.responses { f(t.error_code); } });
kafka_request!(CreateAclsRequest => CreateAclsResponse, CreateAcls, retry_safe: false);
kafka_request!(DescribeAclsRequest => DescribeAclsResponse, DescribeAcls, retry_safe: true);
kafka_request!(DeleteAclsRequest => DeleteAclsResponse, DeleteAcls, retry_safe: false);
kafka_request!(DescribeConfigsRequest => DescribeConfigsResponse, DescribeConfigs, retry_safe: true);
kafka_request!(IncrementalAlterConfigsRequest => IncrementalAlterConfigsResponse, IncrementalAlterConfigs, retry_safe: false);
kafka_request!(DescribeClusterRequest => DescribeClusterResponse, DescribeCluster, retry_safe: true);
kafka_request!(DescribeGroupsRequest => DescribeGroupsResponse, DescribeGroups, retry_safe: true);
kafka_request!(ListGroupsRequest => ListGroupsResponse, ListGroups, retry_safe: true);
kafka_request!(DeleteGroupsRequest => DeleteGroupsResponse, DeleteGroups, retry_safe: false);
kafka_request!(CreatePartitionsRequest => CreatePartitionsResponse, CreatePartitions, retry_safe: false);
kafka_request!(DescribeUserScramCredentialsRequest => DescribeUserScramCredentialsResponse, DescribeUserScramCredentials, retry_safe: true);
kafka_request!(AlterUserScramCredentialsRequest => AlterUserScramCredentialsResponse, AlterUserScramCredentials, retry_safe: false);

/// Decodes a response frame (correlation id, header, body) at a version; used by fuzzing.
pub type ResponseDecoder = fn(bytes::Bytes, i16) -> Result<(), String>;

/// Calls `f(api, decode)` for every response type kquota decodes, with a function that decodes
/// a response frame of that API at a version. Used by the fuzz targets and hostile-input tests.
pub fn for_each_response_decoder(
    mut f: impl FnMut(ApiKey, fn(bytes::Bytes, i16) -> Result<(), String>),
) {
    macro_rules! each {
        ($($req:ty),* $(,)?) => {$(
            f(<$req as KafkaRequest>::KEY, |b, v| {
                crate::frame::decode_response::<<$req as KafkaRequest>::Response>(b, v).map(|_| ())
            });
        )*};
    }
    each!(
        ProduceRequest,
        FetchRequest,
        ListOffsetsRequest,
        MetadataRequest,
        ApiVersionsRequest,
        SaslHandshakeRequest,
        SaslAuthenticateRequest,
        DescribeClientQuotasRequest,
        AlterClientQuotasRequest,
        FindCoordinatorRequest,
        JoinGroupRequest,
        SyncGroupRequest,
        HeartbeatRequest,
        LeaveGroupRequest,
        OffsetCommitRequest,
        OffsetFetchRequest,
        InitProducerIdRequest,
        CreateTopicsRequest,
        DeleteTopicsRequest,
        CreateAclsRequest,
        DescribeAclsRequest,
        DeleteAclsRequest,
        DescribeConfigsRequest,
        IncrementalAlterConfigsRequest,
        DescribeClusterRequest,
        DescribeGroupsRequest,
        ListGroupsRequest,
        DeleteGroupsRequest,
        CreatePartitionsRequest,
        DescribeUserScramCredentialsRequest,
        AlterUserScramCredentialsRequest,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn produce_with_acks_zero_expects_no_response() {
        assert!(!ProduceRequest::default().expects_response());
        assert!(ProduceRequest::default().with_acks(-1).expects_response());
    }

    #[test]
    fn every_decoder_rejects_empty_and_garbage_frames() {
        let mut n = 0;
        for_each_response_decoder(|api, decode| {
            n += 1;
            let range = api.valid_versions();
            for v in range.min..=range.max {
                assert!(decode(bytes::Bytes::new(), v).is_err(), "{api:?} v{v}");
                let _ = decode(
                    bytes::Bytes::from_static(&[
                        0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff,
                    ]),
                    v,
                );
            }
        });
        assert!(n >= 23);
    }
}
