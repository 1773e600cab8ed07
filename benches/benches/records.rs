//! Record batch encode and decode throughput (MB/s of record values) by compression codec.
//!
//! Encoding is `kquota_net::records::encode_batch` (what kquota-client's accumulator calls:
//! kafka-protocol's `RecordBatchEncoder`, with lz4_flex and ruzstd plugged in for lz4 and zstd);
//! decoding is `kquota_net::records::decode_batches`, the Fetch path (it walks the batches and
//! hands each complete one to kafka-protocol's `RecordBatchDecoder`, decompressing with a size
//! cap). Values are random `A`-`Z` bytes, like kafka-producer-perf-test's default payload, so the
//! compressed codecs do real work. Each iteration is one batch of 64 KiB of values.

use std::hint::black_box;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::records::{Compression, Record, TimestampType};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One produce batch's worth of data per iteration (the Java client's default batch.size is
/// 16 KiB; a fetch returns many such batches, so 64 KiB of values is a fair middle).
const BATCH_VALUE_BYTES: usize = 64 * 1024;

const CODECS: [(&str, Compression); 5] = [
    ("none", Compression::None),
    ("gzip", Compression::Gzip),
    ("snappy", Compression::Snappy),
    ("lz4", Compression::Lz4),
    ("zstd", Compression::Zstd),
];

fn records(value_size: usize, rng: &mut StdRng) -> Vec<Record> {
    let count = BATCH_VALUE_BYTES / value_size;
    (0..count)
        .map(|i| {
            let value: Vec<u8> = (0..value_size)
                .map(|_| rng.gen_range(b'A'..=b'Z'))
                .collect();
            Record {
                transactional: false,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: 0,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset: i as i64,
                // kafka-protocol starts a new batch when offset - sequence changes; keep it
                // constant (as kquota-client does) so the records are one batch.
                sequence: i as i32 - 1,
                timestamp: 1_764_720_000_000 + i as i64,
                key: None,
                value: Some(Bytes::from(value)),
                headers: IndexMap::new(),
            }
        })
        .collect()
}

fn encode(records: &[Record], compression: Compression) -> BytesMut {
    let mut buf = BytesMut::with_capacity(BATCH_VALUE_BYTES + 4096);
    kquota_net::records::encode_batch(&mut buf, records, compression).expect("encode record batch");
    buf
}

fn bench_records(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(7);
    for value_size in [100usize, 1024] {
        let recs = records(value_size, &mut rng);
        let value_bytes = (recs.len() * value_size) as u64;

        let mut g = c.benchmark_group(format!("record_batch_encode/{value_size}B"));
        g.throughput(Throughput::Bytes(value_bytes));
        for (name, codec) in CODECS {
            g.bench_with_input(BenchmarkId::from_parameter(name), &recs, |b, recs| {
                b.iter(|| black_box(encode(black_box(recs), codec)))
            });
        }
        g.finish();

        let mut g = c.benchmark_group(format!("record_batch_decode/{value_size}B"));
        g.throughput(Throughput::Bytes(value_bytes));
        for (name, codec) in CODECS {
            let wire = encode(&recs, codec).freeze();
            // Check once that the bench decodes what it encoded.
            let (batches, truncated) =
                kquota_net::records::decode_batches(wire.clone()).expect("decode");
            assert!(!truncated);
            assert_eq!(batches.len(), 1, "{name}: one batch");
            assert_eq!(batches[0].compression, codec);
            assert_eq!(
                batches.iter().map(|b| b.records.len()).sum::<usize>(),
                recs.len()
            );
            g.bench_with_input(BenchmarkId::from_parameter(name), &wire, |b, wire| {
                b.iter(|| black_box(kquota_net::records::decode_batches(wire.clone())))
            });
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench_records
}
criterion_main!(benches);
