//! Batching of produced records per partition (sans-IO): size and linger, delivery timeout
//! expiry, and the idempotent producer's sequence numbers.
//!
//! The producer's sender task drives this structure; it never touches the network, so every
//! rule here is unit-tested with plain values.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{Compression, Record, TimestampType};

use crate::buffer::Reservation;
use crate::delivery::{BatchAck, DeliveryFuture, Settle};
use crate::error::ClientError;
use crate::types::{ProducerRecord, TopicPartition};

/// A record waiting in a batch.
#[derive(Debug)]
pub(crate) struct PendingRecord {
    pub record: ProducerRecord,
    pub timestamp: i64,
    pub size: usize,
}

/// Size of a v2 record batch header.
pub(crate) const BATCH_OVERHEAD: usize = 61;

/// Records of one partition that travel in one produce request.
#[derive(Debug)]
pub(crate) struct Batch {
    pub tp: TopicPartition,
    pub records: Vec<PendingRecord>,
    pub bytes: usize,
    pub created: Instant,
    pub base_sequence: Option<i32>,
    pub producer: Option<(i64, i16)>,
    pub attempts: u32,
    /// Closed batches take no more records (they were sent at least once).
    pub closed: bool,
    /// The records' outcome, read by their [`DeliveryFuture`]s.
    settle: Settle,
    /// The buffer bytes of all its records, freed when the batch is dropped (settled).
    reservation: Reservation,
}

impl Batch {
    fn new(tp: TopicPartition, now: Instant) -> Self {
        Batch {
            settle: Settle::new(tp.clone()),
            reservation: Reservation::none(),
            tp,
            records: Vec::new(),
            bytes: BATCH_OVERHEAD,
            created: now,
            base_sequence: None,
            producer: None,
            attempts: 0,
            closed: false,
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Appends a record; returns its future.
    fn push(&mut self, rec: PendingRecord, reservation: Reservation) -> DeliveryFuture {
        let f = self.settle.future(self.records.len(), rec.timestamp);
        self.bytes += rec.size;
        self.records.push(rec);
        self.reservation.merge(reservation);
        f
    }

    /// Reports success for every record: offsets `base_offset + i`.
    pub fn complete(self, base_offset: i64, log_append_time: i64) {
        self.settle.settle(Ok(BatchAck {
            base_offset,
            log_append_time,
        }));
    }

    /// Reports `err` for every record (a broker error with the batch size, see
    /// [`ClientError::batch_records`]).
    pub fn fail(self, err: &ClientError) {
        let n = self.records.len();
        self.settle.settle(Err(err.clone().for_batch(n)));
    }

    /// The Java-style expiry error for this batch at `now`.
    pub fn expired_error(&self, now: Instant) -> ClientError {
        ClientError::Expired {
            topic: self.tp.topic.to_string(),
            partition: self.tp.partition,
            count: self.records.len(),
            elapsed_ms: now.saturating_duration_since(self.created).as_millis(),
        }
    }

    /// Encodes the batch as one v2 record batch.
    pub fn encode(&self, compression: Compression) -> Result<Bytes, ClientError> {
        let (producer_id, producer_epoch) = self.producer.unwrap_or((-1, -1));
        let base_seq = self.base_sequence.unwrap_or(-1);
        let records: Vec<Record> = self
            .records
            .iter()
            .enumerate()
            .map(|(i, p)| Record {
                transactional: false,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: -1,
                producer_id,
                producer_epoch,
                timestamp_type: TimestampType::Creation,
                offset: i as i64,
                // Only the first record's sequence is on the wire (the batch's base sequence;
                // -1 without idempotence). kafka-protocol starts a new batch whenever
                // offset - sequence changes, so every record gets base + i as a plain wrapping
                // i32: one batch per partition, as the broker requires (else INVALID_RECORD).
                // The broker applies Kafka's wrap at i32::MAX to the sequences itself.
                sequence: base_seq.wrapping_add(i as i32),
                timestamp: p.timestamp,
                key: p.record.key.clone(),
                value: p.record.value.clone(),
                headers: p
                    .record
                    .headers
                    .iter()
                    .map(|(k, v)| (StrBytes::from_string(k.clone()), v.clone()))
                    .collect(),
            })
            .collect();
        let mut buf = BytesMut::with_capacity(self.bytes);
        kquota_net::records::encode_batch(&mut buf, &records, compression).map_err(|e| {
            ClientError::Codec {
                context: format!("encoding a batch for {}", self.tp),
                message: e.to_string(),
            }
        })?;
        Ok(buf.freeze())
    }
}

/// Per-partition queues of batches.
#[derive(Debug)]
pub(crate) struct Accumulator {
    queues: BTreeMap<TopicPartition, VecDeque<Batch>>,
    batch_size: usize,
    linger: Duration,
}

impl Accumulator {
    pub fn new(batch_size: usize, linger: Duration) -> Self {
        Accumulator {
            queues: BTreeMap::new(),
            batch_size: batch_size.max(1),
            linger,
        }
    }

    /// Appends a record holding `reservation` of the buffer; returns its future and whether it
    /// started a new batch. `now` is asked only when a new batch is opened (its creation time
    /// starts the linger): the common case, a record joining the open batch, costs no clock
    /// read, no clone and no allocation.
    pub fn append(
        &mut self,
        tp: &TopicPartition,
        rec: PendingRecord,
        reservation: Reservation,
        now: impl FnOnce() -> Instant,
    ) -> (DeliveryFuture, bool) {
        if !self.queues.contains_key(tp) {
            self.queues.insert(tp.clone(), VecDeque::new());
        }
        let q = self.queues.get_mut(tp).expect("inserted above");
        if let Some(last) = q.back_mut() {
            if !last.closed && last.bytes + rec.size <= self.batch_size {
                return (last.push(rec, reservation), false);
            }
        }
        let mut b = Batch::new(tp.clone(), now());
        // Room for a batch of records like this one, so the vector does not grow (and get
        // re-allocated) record by record; at most 1 024 slots up front.
        b.records
            .reserve((self.batch_size / rec.size.max(1)).clamp(1, 1024));
        let f = b.push(rec, reservation);
        q.push_back(b);
        (f, true)
    }

    fn front_ready(&self, q: &VecDeque<Batch>, now: Instant, flush: bool) -> bool {
        match q.front() {
            None => false,
            Some(b) => {
                flush
                    || b.closed
                    || q.len() > 1
                    || b.bytes >= self.batch_size
                    || now.saturating_duration_since(b.created) >= self.linger
            }
        }
    }

    /// Partitions whose first batch may be sent now.
    pub fn ready(&self, now: Instant, flush: bool) -> Vec<TopicPartition> {
        self.queues
            .iter()
            .filter(|(_, q)| self.front_ready(q, now, flush))
            .map(|(tp, _)| tp.clone())
            .collect()
    }

    /// Removes and returns the first batch of `tp`, closed for appends.
    pub fn take_front(&mut self, tp: &TopicPartition) -> Option<Batch> {
        let q = self.queues.get_mut(tp)?;
        let mut b = q.pop_front()?;
        if q.is_empty() {
            self.queues.remove(tp);
        }
        b.closed = true;
        Some(b)
    }

    /// Puts a batch back at the head of its queue (a retry keeps its place and sequence).
    pub fn push_front(&mut self, batch: Batch) {
        self.queues
            .entry(batch.tp.clone())
            .or_default()
            .push_front(batch);
    }

    /// Removes batches older than `timeout` (except partitions in `skip`), returning them.
    pub fn expire(
        &mut self,
        now: Instant,
        timeout: Duration,
        skip: &dyn Fn(&TopicPartition) -> bool,
    ) -> Vec<Batch> {
        let mut out = Vec::new();
        for (tp, q) in self.queues.iter_mut() {
            if skip(tp) {
                continue;
            }
            while q
                .front()
                .is_some_and(|b| now.saturating_duration_since(b.created) >= timeout)
            {
                if let Some(b) = q.pop_front() {
                    out.push(b);
                }
            }
        }
        self.queues.retain(|_, q| !q.is_empty());
        out
    }

    /// When the sender next has something to do: the earliest linger end or expiry.
    pub fn next_deadline(&self, timeout: Duration) -> Option<Instant> {
        self.queues
            .values()
            .filter_map(|q| q.front())
            .map(|b| (b.created + self.linger).min(b.created + timeout))
            .min()
    }

    /// Whether no record is queued.
    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    /// Clears the sequences of queued batches (after the producer id was reset).
    pub fn clear_sequences(&mut self) {
        for b in self.queues.values_mut().flatten() {
            b.base_sequence = None;
            b.producer = None;
        }
    }

    /// Takes every queued batch out (closing the producer).
    pub fn drain_all(&mut self) -> Vec<Batch> {
        std::mem::take(&mut self.queues)
            .into_values()
            .flatten()
            .collect()
    }
}

/// The idempotent producer's id, epoch and next sequence number per partition.
///
/// ```
/// # // (crate-internal; exercised by unit tests)
/// ```
#[derive(Debug, Default)]
pub(crate) struct Sequences {
    pub producer: Option<(i64, i16)>,
    next: HashMap<TopicPartition, i32>,
}

impl Sequences {
    /// Assigns producer id and base sequence to a batch that has none; retries keep theirs.
    pub fn assign(&mut self, batch: &mut Batch) {
        let Some(p) = self.producer else { return };
        if batch.base_sequence.is_some() && batch.producer == Some(p) {
            return;
        }
        let next = self.next.entry(batch.tp.clone()).or_insert(0);
        batch.base_sequence = Some(*next);
        batch.producer = Some(p);
        // Sequences wrap to 0 after i32::MAX, as in the Java client.
        *next = ((i64::from(*next) + batch.len() as i64) % (i64::from(i32::MAX) + 1)) as i32;
    }

    /// A new producer id (after InitProducerId): sequences restart at 0.
    pub fn reset(&mut self, producer: Option<(i64, i16)>) {
        self.producer = producer;
        self.next.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(size: usize) -> PendingRecord {
        let record = ProducerRecord::new("T", vec![b'v'; size]);
        let size = record.estimated_size();
        PendingRecord {
            record,
            timestamp: 7,
            size,
        }
    }

    /// Appends a record of `size` value bytes; returns its future and whether it opened a batch.
    fn append(
        acc: &mut Accumulator,
        tp: &TopicPartition,
        size: usize,
        now: Instant,
    ) -> (DeliveryFuture, bool) {
        acc.append(tp, rec(size), Reservation::none(), || now)
    }

    #[test]
    fn batches_by_size_and_linger() {
        let t0 = Instant::now();
        let mut acc = Accumulator::new(310, Duration::from_millis(50));
        let tp = TopicPartition::new("T", 0);
        assert!(append(&mut acc, &tp, 100, t0).1);
        assert!(!append(&mut acc, &tp, 100, t0).1);
        assert!(acc.ready(t0, false).is_empty(), "not full, linger not over");
        assert_eq!(
            acc.ready(t0 + Duration::from_millis(50), false),
            vec![tp.clone()]
        );
        assert_eq!(
            acc.ready(t0, true),
            vec![tp.clone()],
            "flush makes it ready"
        );
        // A third record does not fit (61 + 3 x 121 > 310): new batch, the first is ready.
        assert!(append(&mut acc, &tp, 100, t0).1);
        assert_eq!(acc.ready(t0, false), vec![tp.clone()]);
        let b = acc.take_front(&tp).unwrap();
        assert_eq!(b.len(), 2);
        assert!(b.closed);
        assert_eq!(
            acc.next_deadline(Duration::from_secs(120)),
            Some(t0 + Duration::from_millis(50))
        );
    }

    #[tokio::test]
    async fn a_failed_batch_gives_every_record_the_error_with_the_batch_size() {
        let t0 = Instant::now();
        let mut acc = Accumulator::new(16384, Duration::ZERO);
        let tp = TopicPartition::new("T", 0);
        let rxs: Vec<_> = (0..3).map(|_| append(&mut acc, &tp, 10, t0).0).collect();
        let err = ClientError::broker("produce to T-0 on broker 1", 87, None);
        assert_eq!(err.batch_records(), None);
        acc.take_front(&tp).unwrap().fail(&err);
        for rx in rxs {
            let e = rx.await.unwrap_err();
            assert_eq!(e.batch_records(), Some(3));
            assert_eq!(e.to_string(), err.to_string());
        }
    }

    #[tokio::test]
    async fn expiry_reports_every_record_with_java_message() {
        let t0 = Instant::now();
        let mut acc = Accumulator::new(16384, Duration::ZERO);
        let tp = TopicPartition::new("Topic-B", 2);
        let rxs: Vec<_> = (0..3).map(|_| append(&mut acc, &tp, 10, t0).0).collect();
        let later = t0 + Duration::from_millis(1500);
        let expired = acc.expire(later, Duration::from_millis(1000), &|_| false);
        assert_eq!(expired.len(), 1);
        let err = expired[0].expired_error(later);
        assert_eq!(
            err.to_string(),
            "Expiring 3 record(s) for Topic-B-2: 1500 ms has passed since batch creation"
        );
        for b in expired {
            b.fail(&err);
        }
        for rx in rxs {
            assert!(matches!(
                rx.await,
                Err(ClientError::Expired { count: 3, .. })
            ));
        }
        assert!(acc.is_empty());
    }

    #[tokio::test]
    async fn complete_assigns_consecutive_offsets() {
        let mut acc = Accumulator::new(16384, Duration::ZERO);
        let tp = TopicPartition::new("T", 1);
        let (rxa, _) = append(&mut acc, &tp, 1, Instant::now());
        let (rxb, _) = append(&mut acc, &tp, 1, Instant::now());
        acc.take_front(&tp).unwrap().complete(41, -1);
        assert_eq!(rxa.await.unwrap().offset, 41);
        let mb = rxb.await.unwrap();
        assert_eq!((mb.offset, mb.timestamp, mb.partition), (42, 7, 1));
    }

    #[test]
    fn sequences_are_assigned_once_and_survive_retries() {
        let mut seq = Sequences::default();
        seq.reset(Some((1000, 0)));
        let mut acc = Accumulator::new(200, Duration::ZERO);
        let tp = TopicPartition::new("T", 0);
        for _ in 0..3 {
            append(&mut acc, &tp, 50, Instant::now());
        }
        let mut b1 = acc.take_front(&tp).unwrap();
        seq.assign(&mut b1);
        assert_eq!(b1.base_sequence, Some(0));
        let n1 = b1.len() as i32;
        // Retry: put back, take again, assign again: same sequence.
        acc.push_front(b1);
        let mut b1 = acc.take_front(&tp).unwrap();
        seq.assign(&mut b1);
        assert_eq!(b1.base_sequence, Some(0));
        let mut b2 = acc.take_front(&tp).unwrap();
        seq.assign(&mut b2);
        assert_eq!(b2.base_sequence, Some(n1));
        // The encoded batch carries producer id, epoch and base sequence.
        let bytes = b2.encode(Compression::None).unwrap();
        let info =
            kafka_protocol::records::RecordBatchDecoder::decode_batch_info(&mut bytes.clone())
                .unwrap();
        assert_eq!(info[0].producer_id, 1000);
        assert_eq!(info[0].base_sequence, n1);
        // New producer id: sequences restart.
        seq.reset(Some((1001, 0)));
        let mut b3 = Batch::new(tp.clone(), Instant::now());
        seq.assign(&mut b3);
        assert_eq!(b3.base_sequence, Some(0));
        // Wrap-around after i32::MAX.
        seq.next.insert(tp.clone(), i32::MAX);
        let mut b4 = Batch::new(tp.clone(), Instant::now());
        b4.records.push(rec(1));
        b4.records.push(rec(1));
        seq.assign(&mut b4);
        assert_eq!(b4.base_sequence, Some(i32::MAX));
        assert_eq!(seq.next[&tp], 1);
    }

    #[test]
    fn a_batch_encodes_as_one_record_batch_with_every_codec() {
        // Without idempotence (no base sequence), with it, and across the i32::MAX sequence
        // wrap, n records are one v2 batch: the broker takes exactly one batch per partition in
        // a Produce request (more is INVALID_RECORD).
        for base in [None, Some(9), Some(i32::MAX - 1)] {
            for c in [Compression::None, Compression::Lz4, Compression::Zstd] {
                let mut b = Batch::new(TopicPartition::new("T", 0), Instant::now());
                for _ in 0..5 {
                    b.records.push(rec(100));
                }
                if let Some(seq) = base {
                    b.producer = Some((1000, 0));
                    b.base_sequence = Some(seq);
                }
                let bytes = b.encode(c).unwrap();
                let info = kafka_protocol::records::RecordBatchDecoder::decode_batch_info(
                    &mut bytes.clone(),
                )
                .unwrap();
                assert_eq!(info.len(), 1, "{base:?} {c:?}");
                assert_eq!(info[0].record_count, 5);
                assert_eq!(info[0].compression, c);
                assert_eq!(info[0].base_sequence, base.unwrap_or(-1));
            }
        }
    }
}
