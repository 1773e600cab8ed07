//! krafka-peer: krafka (a pure-Rust Kafka client on crates.io) as a load peer for scripts/bench.
//!
//! ```text
//! krafka-peer produce --brokers B --topic T --num N --size S --acks 1|all
//! krafka-peer consume --brokers B --topic T --num N
//! ```
//! Prints `records=.. bytes=.. seconds=.. records_per_sec=.. mb_per_sec=..` (MiB = 2^20 bytes).
//! Producer settings match the harness's other tools: linger 5 ms, batch 16 KiB, no compression,
//! idempotence on for acks=all only (the Java client's default). The consumer's clock starts at
//! the first record (the group join is excluded, as kafka-consumer-perf-test's fetch.* figures
//! exclude it).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use krafka::consumer::AutoOffsetReset;
use krafka::producer::Acks;
use krafka::{Kafka, Record};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("krafka-peer: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Error> {
    let mut argv = std::env::args().skip(1);
    let cmd = argv
        .next()
        .ok_or("usage: krafka-peer produce|consume --flag value ...")?;
    let mut flags = HashMap::new();
    while let Some(k) = argv.next() {
        let v = argv.next().ok_or_else(|| format!("{k} needs a value"))?;
        flags.insert(k.trim_start_matches('-').to_string(), v);
    }
    let get = |k: &str| {
        flags
            .get(k)
            .cloned()
            .ok_or_else(|| format!("--{k} is required"))
    };
    let brokers = get("brokers")?;
    let topic = get("topic")?;
    let num: usize = get("num")?.parse()?;
    let kafka = Kafka::builder(brokers)
        .client_id("krafka-peer")
        .connect()
        .await?;
    match cmd.as_str() {
        "produce" => {
            let size: usize = get("size")?.parse()?;
            let acks = match get("acks")?.as_str() {
                "all" | "-1" => Acks::All,
                "1" => Acks::Leader,
                other => return Err(format!("acks must be 1 or all, not {other}").into()),
            };
            let idempotent = matches!(acks, Acks::All);
            let producer = kafka
                .producer()
                .acks(acks)
                .linger(Duration::from_millis(5))
                .batch_size(16 * 1024)
                .idempotent(idempotent)
                .build()
                .await?;
            let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
            let payload: Vec<u8> = (0..size)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    b'A' + (x % 26) as u8
                })
                .collect();
            let payload = bytes::Bytes::from(payload);
            let start = Instant::now();
            let mut pending = VecDeque::new();
            for _ in 0..num {
                pending.push_back(
                    producer
                        .enqueue(Record::new(topic.clone(), payload.clone()))
                        .await?,
                );
                if pending.len() >= 50_000 {
                    if let Some(h) = pending.pop_front() {
                        let _delivered = h.await?;
                    }
                }
            }
            for h in pending {
                let _delivered = h.await?;
            }
            let took = start.elapsed();
            producer.close().await?;
            report(num, num * size, took);
        }
        "consume" => {
            let group = format!(
                "krafka-peer-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)?
                    .as_nanos()
            );
            let consumer = kafka
                .consumer(group)
                .auto_offset_reset(AutoOffsetReset::Earliest)
                .enable_auto_commit(false)
                .build()
                .await?;
            consumer.subscribe([topic.as_str()]).await?;
            let (mut got, mut bytes, mut start) = (0usize, 0usize, None);
            let deadline = Instant::now() + Duration::from_secs(120);
            while got < num {
                if Instant::now() > deadline {
                    return Err(format!("only {got} of {num} records within 120 s").into());
                }
                let records = consumer.poll(Duration::from_millis(500)).await?;
                if !records.is_empty() && start.is_none() {
                    start = Some(Instant::now());
                }
                for r in &records {
                    got += 1;
                    bytes += r.value.as_ref().map_or(0, |v| v.len());
                }
            }
            let took = start.map(|s| s.elapsed()).unwrap_or_default();
            consumer.close().await?;
            report(got, bytes, took);
        }
        other => return Err(format!("unknown command {other}").into()),
    }
    Ok(())
}

fn report(records: usize, bytes: usize, took: Duration) {
    let s = took.as_secs_f64().max(1e-9);
    println!(
        "records={records} bytes={bytes} seconds={s:.6} records_per_sec={:.1} mb_per_sec={:.3}",
        records as f64 / s,
        bytes as f64 / s / 1_048_576.0
    );
}
