//! Framing and message codec on the quota path (kquota-net `frame`):
//! - splitting a read buffer into frames (`FrameDecoder::decode`, MB/s);
//! - decoding a DescribeClientQuotas v1 response with 1 000 entries (`decode_response`);
//! - encoding an AlterClientQuotas v1 request of 1 000 entities (`encode_request`), the
//!   single request behind `kquota quotas apply` of 1 000 entities.

use std::hint::black_box;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kafka_protocol::messages::{
    alter_client_quotas_request, describe_client_quotas_response, AlterClientQuotasRequest, ApiKey,
    DescribeClientQuotasResponse, ResponseHeader,
};
use kafka_protocol::protocol::{Encodable, HeaderVersion, StrBytes};
use kquota_net::frame::{decode_response, encode_request, FrameDecoder};

const ENTITIES: usize = 1_000;
const VERSION: i16 = 1;

fn user(i: usize) -> StrBytes {
    StrBytes::from_string(format!(
        "arn:aws:sts::111111111111:assumed-role/Tenant-{i}-Role/app-{i}-role-session"
    ))
}

fn client(i: usize) -> StrBytes {
    StrBytes::from_string(format!("app-{i}-client-id"))
}

/// A DescribeClientQuotas v1 response frame (without the size prefix), as a broker sends it.
fn describe_response_frame(correlation_id: i32) -> Bytes {
    use describe_client_quotas_response::{EntityData, EntryData, ValueData};
    let entries = (0..ENTITIES)
        .map(|i| {
            EntryData::default()
                .with_entity(vec![
                    EntityData::default()
                        .with_entity_type(StrBytes::from_static_str("user"))
                        .with_entity_name(Some(user(i))),
                    EntityData::default()
                        .with_entity_type(StrBytes::from_static_str("client-id"))
                        .with_entity_name(Some(client(i))),
                ])
                .with_values(vec![
                    ValueData::default()
                        .with_key(StrBytes::from_static_str("producer_byte_rate"))
                        .with_value(1024.0 * i as f64),
                    ValueData::default()
                        .with_key(StrBytes::from_static_str("consumer_byte_rate"))
                        .with_value(2048.0 * i as f64),
                ])
        })
        .collect();
    let body = DescribeClientQuotasResponse::default().with_entries(Some(entries));
    let mut buf = BytesMut::new();
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(
            &mut buf,
            DescribeClientQuotasResponse::header_version(VERSION),
        )
        .expect("encode header");
    body.encode(&mut buf, VERSION).expect("encode body");
    buf.freeze()
}

fn alter_request() -> AlterClientQuotasRequest {
    use alter_client_quotas_request::{EntityData, EntryData, OpData};
    let entries = (0..ENTITIES)
        .map(|i| {
            EntryData::default()
                .with_entity(vec![
                    EntityData::default()
                        .with_entity_type(StrBytes::from_static_str("user"))
                        .with_entity_name(Some(user(i))),
                    EntityData::default()
                        .with_entity_type(StrBytes::from_static_str("client-id"))
                        .with_entity_name(Some(client(i))),
                ])
                .with_ops(vec![OpData::default()
                    .with_key(StrBytes::from_static_str("producer_byte_rate"))
                    .with_value(1024.0)])
        })
        .collect();
    AlterClientQuotasRequest::default().with_entries(entries)
}

fn bench_frame(c: &mut Criterion) {
    // A read buffer holding 256 frames of 1 KiB (e.g. pipelined small responses).
    let mut stream = BytesMut::new();
    for i in 0..256u32 {
        stream.put_u32(1024);
        stream.put_bytes((i % 251) as u8, 1024);
    }
    let stream = stream.freeze();
    let decoder = FrameDecoder::new(100 * 1024 * 1024);
    let mut g = c.benchmark_group("frame_split");
    g.throughput(Throughput::Bytes(stream.len() as u64));
    g.bench_function("256x1KiB", |b| {
        b.iter(|| {
            let mut buf = BytesMut::from(&stream[..]);
            let mut n = 0;
            while let Some(frame) = decoder.decode(&mut buf).expect("frame") {
                n += frame.len();
            }
            black_box(n)
        })
    });
    g.finish();

    let frame = describe_response_frame(42);
    let mut g = c.benchmark_group("describe_client_quotas_response_decode");
    g.throughput(Throughput::Elements(ENTITIES as u64));
    g.bench_function("1000_entities", |b| {
        b.iter(|| {
            let (cid, body) =
                decode_response::<DescribeClientQuotasResponse>(frame.clone(), VERSION)
                    .expect("decode");
            black_box((cid, body))
        })
    });
    g.finish();

    let req = alter_request();
    let mut g = c.benchmark_group("alter_client_quotas_request_encode");
    g.throughput(Throughput::Elements(ENTITIES as u64));
    g.bench_function("1000_entities", |b| {
        b.iter(|| {
            black_box(
                encode_request(ApiKey::AlterClientQuotas, VERSION, 7, Some("kquota"), &req)
                    .expect("encode"),
            )
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench_frame
}
criterion_main!(benches);
