//! The fuzz seed corpus (testdata/fuzz-corpus/): every checked-in input runs through the same
//! entry points as the cargo-fuzz targets without panicking. With `KQUOTA_WRITE_FUZZ_CORPUS=1`
//! the seeds are (re)generated from real encodings first.

use std::path::PathBuf;

use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Encodable, HeaderVersion};
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/fuzz-corpus")
}

fn index_of(api: ApiKey) -> u8 {
    let mut keys = Vec::new();
    kquota_net::for_each_response_decoder(|k, _| keys.push(k));
    keys.iter().position(|k| *k == api).unwrap() as u8
}

fn frame_of<T: Encodable + HeaderVersion>(version: i16, body: &T) -> Vec<u8> {
    let mut buf = BytesMut::new();
    ResponseHeader::default()
        .with_correlation_id(7)
        .encode(&mut buf, T::header_version(version))
        .unwrap();
    body.encode(&mut buf, version).unwrap();
    buf.to_vec()
}

fn seed<T: Encodable + HeaderVersion + Default>(out: &mut Vec<(String, Vec<u8>)>, api: ApiKey) {
    let r = api.valid_versions();
    for v in [r.min, r.max] {
        let mut input = vec![index_of(api), (v - r.min) as u8];
        input.extend(frame_of(v, &T::default()));
        out.push((format!("response/{api:?}-v{v}"), input));
    }
}

fn record(offset: i64) -> Record {
    Record {
        transactional: false,
        control: false,
        partition_leader_epoch: 0,
        producer_id: -1,
        producer_epoch: -1,
        timestamp_type: TimestampType::Creation,
        offset,
        sequence: -1,
        timestamp: 0,
        key: Some(bytes::Bytes::from_static(b"k")),
        value: Some(bytes::Bytes::from_static(b"value")),
        headers: Default::default(),
        delete_horizon: false,
    }
}

fn generate() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    seed::<ProduceResponse>(&mut out, ApiKey::Produce);
    seed::<FetchResponse>(&mut out, ApiKey::Fetch);
    seed::<ListOffsetsResponse>(&mut out, ApiKey::ListOffsets);
    seed::<MetadataResponse>(&mut out, ApiKey::Metadata);
    seed::<ApiVersionsResponse>(&mut out, ApiKey::ApiVersions);
    seed::<SaslHandshakeResponse>(&mut out, ApiKey::SaslHandshake);
    seed::<SaslAuthenticateResponse>(&mut out, ApiKey::SaslAuthenticate);
    seed::<DescribeClientQuotasResponse>(&mut out, ApiKey::DescribeClientQuotas);
    seed::<AlterClientQuotasResponse>(&mut out, ApiKey::AlterClientQuotas);
    seed::<FindCoordinatorResponse>(&mut out, ApiKey::FindCoordinator);
    seed::<JoinGroupResponse>(&mut out, ApiKey::JoinGroup);
    seed::<SyncGroupResponse>(&mut out, ApiKey::SyncGroup);
    seed::<HeartbeatResponse>(&mut out, ApiKey::Heartbeat);
    seed::<LeaveGroupResponse>(&mut out, ApiKey::LeaveGroup);
    seed::<OffsetCommitResponse>(&mut out, ApiKey::OffsetCommit);
    seed::<OffsetFetchResponse>(&mut out, ApiKey::OffsetFetch);
    seed::<InitProducerIdResponse>(&mut out, ApiKey::InitProducerId);
    seed::<CreateTopicsResponse>(&mut out, ApiKey::CreateTopics);
    seed::<DeleteTopicsResponse>(&mut out, ApiKey::DeleteTopics);
    seed::<CreateAclsResponse>(&mut out, ApiKey::CreateAcls);
    seed::<DescribeAclsResponse>(&mut out, ApiKey::DescribeAcls);
    seed::<DescribeConfigsResponse>(&mut out, ApiKey::DescribeConfigs);
    seed::<DescribeClusterResponse>(&mut out, ApiKey::DescribeCluster);

    // Hostile seeds: the 14-byte DescribeClientQuotas v0 abort and its v1 twin.
    let dcq = index_of(ApiKey::DescribeClientQuotas);
    out.push((
        "response/hostile-dcq-v0-huge-count".into(),
        [
            &[dcq, 0][..],
            &[
                0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0, 0,
            ],
        ]
        .concat(),
    ));
    out.push((
        "response/hostile-dcq-v1-huge-count".into(),
        [
            &[dcq, 1][..],
            &[
                0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x07,
            ],
        ]
        .concat(),
    ));
    let md = index_of(ApiKey::Metadata);
    out.push((
        "response/hostile-metadata-v1-huge-count".into(),
        [&[md, 0][..], &[0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff, 0, 0]].concat(),
    ));

    // Frame streams: two frames, delivered 3 bytes at a time.
    let mut stream = BytesMut::new();
    for (v, body) in [
        (1i16, DescribeClientQuotasResponse::default()),
        (
            1,
            DescribeClientQuotasResponse::default().with_throttle_time_ms(5),
        ),
    ] {
        let f = frame_of(v, &body);
        stream.put_i32(f.len() as i32);
        stream.put_slice(&f);
    }
    out.push((
        "frame_stream/two-dcq-frames".into(),
        [&[3, dcq, 1][..], &stream].concat(),
    ));
    out.push((
        "frame_stream/absurd-length".into(),
        vec![1, dcq, 1, 0x7f, 0xff, 0xff, 0xff, 1, 2],
    ));
    out.push((
        "frame_stream/negative-length".into(),
        vec![2, dcq, 1, 0xff, 0xff, 0xff, 0xfe],
    ));

    // Record batches: two batches, one cut, one with a flipped byte.
    let mut batches = BytesMut::new();
    for c in [Compression::None, Compression::Gzip] {
        RecordBatchEncoder::encode(
            &mut batches,
            [record(0), record(1)].iter(),
            &RecordEncodeOptions {
                version: 2,
                compression: c,
            },
        )
        .unwrap();
    }
    out.push(("records/two-batches".into(), batches.to_vec()));
    out.push(("records/cut".into(), batches[..batches.len() - 9].to_vec()));
    let mut bad = batches.to_vec();
    bad[70] ^= 0x55;
    out.push(("records/bad-crc".into(), bad));
    // lz4 and zstd batches (kquota's encoder), and their bare records sections for `decompress`.
    for (name, c, byte) in [
        ("lz4", Compression::Lz4, 3u8),
        ("zstd", Compression::Zstd, 4),
    ] {
        let mut b = BytesMut::new();
        let recs: Vec<Record> = (0..3)
            .map(|i| Record {
                sequence: i as i32 - 1,
                ..record(i)
            })
            .collect();
        kquota_net::records::encode_batch(&mut b, &recs, c).unwrap();
        out.push((format!("records/{name}-batch"), b.to_vec()));
        out.push((
            format!("decompress/{name}"),
            [&[byte][..], &b[61..]].concat(),
        ));
    }
    // A zstd frame header claiming a 2 TiB window, and an LZ4 block longer than its 64 KiB max.
    out.push((
        "decompress/zstd-huge-window".into(),
        vec![4, 0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8],
    ));
    out.push((
        "decompress/lz4-oversized-block".into(),
        vec![
            3, 0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82, 0xa0, 0x86, 0x01, 0x00, 1, 2, 3,
        ],
    ));

    // SCRAM: RFC 7677 messages (source: RFC 7677 §3).
    out.push((
        "scram/rfc7677".into(),
        [
            &b"r=fuzznonce%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"[..],
            &[0xff],
            b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
        ]
        .concat(),
    ));
    out.push(("scram/server-error".into(), b"e=invalid-proof".to_vec()));
    out
}

#[test]
fn corpus_inputs_never_panic() {
    let dir = corpus_dir();
    if std::env::var_os("KQUOTA_WRITE_FUZZ_CORPUS").is_some() {
        for (name, bytes) in generate() {
            let path = dir.join(&name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
    }
    // Always run the generated seeds, and everything checked in.
    for (_, input) in generate() {
        run_all(&input);
    }
    let mut n = 0;
    for target in ["response", "frame_stream", "records", "decompress", "scram"] {
        let Ok(entries) = std::fs::read_dir(dir.join(target)) else {
            continue;
        };
        for e in entries {
            let data = std::fs::read(e.unwrap().path()).unwrap();
            match target {
                "response" => kquota_net::fuzzing::response(&data),
                "frame_stream" => kquota_net::fuzzing::frame_stream(&data),
                "records" => kquota_net::fuzzing::records(&data),
                "decompress" => kquota_net::fuzzing::decompress(&data),
                _ => kquota_net::fuzzing::scram(&data),
            }
            n += 1;
        }
    }
    assert!(n >= 40, "only {n} corpus files under {}", dir.display());
}

fn run_all(input: &[u8]) {
    kquota_net::fuzzing::response(input);
    kquota_net::fuzzing::frame_stream(input);
    kquota_net::fuzzing::records(input);
    kquota_net::fuzzing::decompress(input);
    kquota_net::fuzzing::scram(input);
}

/// The seeds that should decode do decode (so the fuzzer starts from valid structure).
#[test]
fn default_response_seeds_decode() {
    let mut decoders = Vec::new();
    kquota_net::for_each_response_decoder(|k, f| decoders.push((k, f)));
    for (name, input) in generate() {
        if !name.starts_with("response/") || name.contains("hostile") {
            continue;
        }
        let (api, decode) = decoders[input[0] as usize];
        let v = api.valid_versions().min + input[1] as i16;
        decode(bytes::Bytes::copy_from_slice(&input[2..]), v)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// The lz4 and zstd seeds are valid, so the fuzzer mutates real frames.
#[test]
fn codec_seeds_decode() {
    for (name, input) in generate() {
        if name.ends_with("-batch") {
            let (sets, truncated) =
                kquota_net::records::decode_batches(bytes::Bytes::from(input)).unwrap();
            assert!(!truncated && sets[0].records.len() == 3, "{name}");
        }
    }
}
