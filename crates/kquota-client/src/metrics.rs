//! Throttle and throughput metrics with the Java client's definitions.
//!
//! The Java client records `throttle_time_ms` of **every** response (zeros included) into a
//! sensor with an `Avg` and a `Max` stat, each a sampled stat over `metrics.num.samples = 2`
//! windows of `metrics.sample.window.ms = 30000` (apache/kafka
//! `clients/.../metrics/stats/SampledStat.java`, `Avg.java`, `Max.java`). The names are
//! `produce-throttle-time-avg/max` (producer) and `fetch-throttle-time-avg/max` (consumer).
//! On top of that kquota keeps what the Java client lacks: the same stats per broker, the bytes
//! sent or received per broker, and the time spent waiting out throttles.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Window configuration of a sampled stat (Java `MetricConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricConfig {
    /// Number of samples kept (`metrics.num.samples`, Java default 2).
    pub samples: usize,
    /// Length of one sample window (`metrics.sample.window.ms`, Java default 30 s).
    pub window: Duration,
}

impl Default for MetricConfig {
    fn default() -> Self {
        MetricConfig {
            samples: 2,
            window: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatKind {
    Avg,
    Max,
}

#[derive(Debug, Clone)]
struct Sample {
    value: f64,
    event_count: u64,
    start_ms: u64,
    last_event_ms: u64,
}

impl Sample {
    fn new(initial: f64, now_ms: u64) -> Self {
        Sample {
            value: initial,
            event_count: 0,
            start_ms: now_ms,
            last_event_ms: now_ms,
        }
    }
    fn reset(&mut self, initial: f64, now_ms: u64) {
        *self = Sample::new(initial, now_ms);
    }
}

/// A Java-style sampled statistic (`Avg` or `Max`) over `samples` time windows.
///
/// Times are milliseconds on any monotonic clock the caller chooses.
///
/// ```
/// use kquota_client::metrics::{MetricConfig, SampledStat};
/// let mut avg = SampledStat::avg(MetricConfig::default());
/// avg.record(0.0, 0);
/// avg.record(100.0, 10);
/// assert_eq!(avg.measure(20), 50.0);
/// ```
#[derive(Debug, Clone)]
pub struct SampledStat {
    kind: StatKind,
    config: MetricConfig,
    samples: Vec<Sample>,
    current: usize,
}

impl SampledStat {
    /// The average of all recorded values in the live samples (NaN when there are none).
    pub fn avg(config: MetricConfig) -> Self {
        SampledStat {
            kind: StatKind::Avg,
            config,
            samples: Vec::new(),
            current: 0,
        }
    }

    /// The maximum of all recorded values in the live samples (NaN when there are none).
    pub fn max(config: MetricConfig) -> Self {
        SampledStat {
            kind: StatKind::Max,
            config,
            samples: Vec::new(),
            current: 0,
        }
    }

    fn initial(&self) -> f64 {
        match self.kind {
            StatKind::Avg => 0.0,
            StatKind::Max => f64::NEG_INFINITY,
        }
    }

    fn window_ms(&self) -> u64 {
        self.config.window.as_millis() as u64
    }

    /// Records `value` at time `now_ms`.
    pub fn record(&mut self, value: f64, now_ms: u64) {
        let initial = self.initial();
        if self.samples.is_empty() {
            self.samples.push(Sample::new(initial, now_ms));
        }
        if now_ms.saturating_sub(self.samples[self.current].start_ms) >= self.window_ms() {
            // Advance, keeping one extra sample as Java does (see `purge`).
            let max_samples = self.config.samples + 1;
            self.current = (self.current + 1) % max_samples;
            if self.current >= self.samples.len() {
                self.samples.push(Sample::new(initial, now_ms));
            } else {
                self.samples[self.current].reset(initial, now_ms);
            }
        }
        let sample = &mut self.samples[self.current];
        match self.kind {
            StatKind::Avg => sample.value += value,
            StatKind::Max => sample.value = sample.value.max(value),
        }
        sample.event_count += 1;
        sample.last_event_ms = now_ms;
    }

    /// Measures the stat at `now_ms`, first dropping samples with no event in the last
    /// `samples × window`.
    pub fn measure(&mut self, now_ms: u64) -> f64 {
        let expire = self.config.samples as u64 * self.window_ms();
        let initial = self.initial();
        for s in &mut self.samples {
            if now_ms.saturating_sub(s.last_event_ms) >= expire {
                s.reset(initial, now_ms);
            }
        }
        let count: u64 = self.samples.iter().map(|s| s.event_count).sum();
        if count == 0 {
            return f64::NAN;
        }
        match self.kind {
            StatKind::Avg => self.samples.iter().map(|s| s.value).sum::<f64>() / count as f64,
            StatKind::Max => self
                .samples
                .iter()
                .map(|s| s.value)
                .fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// Which client the metrics belong to; selects the Java metric names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientKind {
    /// `produce-throttle-time-*`.
    Producer,
    /// `fetch-throttle-time-*`.
    Consumer,
}

impl ClientKind {
    /// The Java name prefix of the throttle metrics.
    pub fn throttle_metric_prefix(self) -> &'static str {
        match self {
            ClientKind::Producer => "produce-throttle-time",
            ClientKind::Consumer => "fetch-throttle-time",
        }
    }
}

#[derive(Debug)]
struct ThrottleSensor {
    avg: SampledStat,
    max: SampledStat,
}

impl ThrottleSensor {
    fn new(config: MetricConfig) -> Self {
        ThrottleSensor {
            avg: SampledStat::avg(config),
            max: SampledStat::max(config),
        }
    }
    fn record(&mut self, v: f64, now: u64) {
        self.avg.record(v, now);
        self.max.record(v, now);
    }
}

#[derive(Debug)]
struct BrokerEntry {
    sensor: ThrottleSensor,
    bytes: u64,
    records: u64,
    responses: u64,
    throttled_responses: u64,
    last_throttle_ms: u32,
    throttle_wait: Duration,
    throttle_until: Option<Instant>,
    first: Instant,
    last: Instant,
}

#[derive(Debug)]
struct Inner {
    total: ThrottleSensor,
    brokers: BTreeMap<i32, BrokerEntry>,
}

/// Throttle and throughput metrics of one producer or consumer; cheap to clone (shared).
///
/// ```
/// use kquota_client::metrics::{ClientKind, ClientMetrics};
/// let m = ClientMetrics::new(ClientKind::Producer);
/// m.record_response(1, 0, 100, 1);
/// m.record_response(1, 200, 100, 1);
/// let s = m.snapshot();
/// assert_eq!(s.throttle_time_avg, 100.0);
/// assert_eq!(s.throttle_time_max, 200.0);
/// assert_eq!(s.brokers[0].bytes, 200);
/// ```
#[derive(Debug, Clone)]
pub struct ClientMetrics {
    kind: ClientKind,
    config: MetricConfig,
    epoch: Instant,
    inner: Arc<Mutex<Inner>>,
}

/// Per-broker figures in a [`MetricsSnapshot`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BrokerMetrics {
    /// Broker id.
    pub broker_id: i32,
    /// Sampled average of `throttle_time_ms` of this broker's responses (NaN: none yet).
    pub throttle_time_avg: f64,
    /// Sampled maximum of `throttle_time_ms` of this broker's responses (NaN: none yet).
    pub throttle_time_max: f64,
    /// Payload bytes exchanged with the broker (produce request or fetch response bytes).
    pub bytes: u64,
    /// Records exchanged with the broker.
    pub records: u64,
    /// Responses received.
    pub responses: u64,
    /// Responses with `throttle_time_ms > 0`.
    pub throttled_responses: u64,
    /// `throttle_time_ms` of the latest throttled response (0: none yet).
    pub last_throttle_time_ms: u32,
    /// Time spent waiting before a request could be sent because the broker throttled us.
    pub throttle_wait: Duration,
    /// Time between the first and the last recorded exchange.
    pub active: Duration,
    /// `bytes / elapsed` where elapsed runs from the first exchange to the snapshot.
    pub bytes_per_sec: f64,
}

/// A point-in-time copy of a client's metrics.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Producer or consumer.
    pub kind: ClientKind,
    /// `produce-throttle-time-avg` or `fetch-throttle-time-avg`.
    pub throttle_time_avg: f64,
    /// `produce-throttle-time-max` or `fetch-throttle-time-max`.
    pub throttle_time_max: f64,
    /// Per-broker figures, ordered by broker id.
    pub brokers: Vec<BrokerMetrics>,
    /// When the snapshot was taken.
    pub at: Instant,
}

impl MetricsSnapshot {
    /// The Java metric names and values: `[(name-avg, avg), (name-max, max)]`.
    pub fn java_metrics(&self) -> [(String, f64); 2] {
        let p = self.kind.throttle_metric_prefix();
        [
            (format!("{p}-avg"), self.throttle_time_avg),
            (format!("{p}-max"), self.throttle_time_max),
        ]
    }

    /// Total time waited out on throttles, all brokers.
    pub fn throttle_wait(&self) -> Duration {
        self.brokers.iter().map(|b| b.throttle_wait).sum()
    }

    /// Bytes per second per broker between `earlier` and `self` (a measurement window).
    pub fn rates_since(&self, earlier: &MetricsSnapshot) -> BTreeMap<i32, f64> {
        let secs = self.at.saturating_duration_since(earlier.at).as_secs_f64();
        let mut out = BTreeMap::new();
        for b in &self.brokers {
            let before = earlier
                .brokers
                .iter()
                .find(|e| e.broker_id == b.broker_id)
                .map_or(0, |e| e.bytes);
            let rate = if secs > 0.0 {
                b.bytes.saturating_sub(before) as f64 / secs
            } else {
                0.0
            };
            out.insert(b.broker_id, rate);
        }
        out
    }
}

impl ClientMetrics {
    /// Metrics with the Java default window (2 × 30 s).
    pub fn new(kind: ClientKind) -> Self {
        Self::with_config(kind, MetricConfig::default())
    }

    /// Metrics with a custom window.
    pub fn with_config(kind: ClientKind, config: MetricConfig) -> Self {
        ClientMetrics {
            kind,
            config,
            epoch: Instant::now(),
            inner: Arc::new(Mutex::new(Inner {
                total: ThrottleSensor::new(config),
                brokers: BTreeMap::new(),
            })),
        }
    }

    /// Producer or consumer.
    pub fn kind(&self) -> ClientKind {
        self.kind
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the stats inconsistent in a way that
        // matters for reporting; keep going with the data.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_millis() as u64
    }

    fn entry<'a>(&self, inner: &'a mut Inner, broker: i32, now: Instant) -> &'a mut BrokerEntry {
        let config = self.config;
        inner.brokers.entry(broker).or_insert_with(|| BrokerEntry {
            sensor: ThrottleSensor::new(config),
            bytes: 0,
            records: 0,
            responses: 0,
            throttled_responses: 0,
            last_throttle_ms: 0,
            throttle_wait: Duration::ZERO,
            throttle_until: None,
            first: now,
            last: now,
        })
    }

    /// Records a response from `broker` with its `throttle_time_ms`, and the payload bytes and
    /// records it carried (produce: bytes sent; fetch: bytes received).
    pub fn record_response(&self, broker: i32, throttle_time_ms: i32, bytes: u64, records: u64) {
        self.record_response_at(broker, throttle_time_ms, bytes, records, Instant::now());
    }

    /// [`Self::record_response`] at an explicit time (for tests and replays).
    pub fn record_response_at(
        &self,
        broker: i32,
        throttle_time_ms: i32,
        bytes: u64,
        records: u64,
        now: Instant,
    ) {
        let t = f64::from(throttle_time_ms.max(0));
        let ms = self.ms(now);
        let mut inner = self.lock();
        inner.total.record(t, ms);
        let e = self.entry(&mut inner, broker, now);
        e.sensor.record(t, ms);
        e.bytes += bytes;
        e.records += records;
        e.responses += 1;
        e.last = now;
        if throttle_time_ms > 0 {
            e.throttled_responses += 1;
            e.last_throttle_ms = throttle_time_ms.unsigned_abs();
            let until = now + Duration::from_millis(throttle_time_ms as u64);
            e.throttle_until = Some(e.throttle_until.map_or(until, |u| u.max(until)));
        }
    }

    /// Records only a throttle time (a response carrying no payload, e.g. metadata).
    pub fn record_throttle(&self, broker: i32, throttle_time_ms: i32) {
        self.record_response(broker, throttle_time_ms, 0, 0);
    }

    /// Called right before a request goes to `broker`: if the broker's last throttle has not
    /// ended, the connection layer holds the request until it does; that wait is accounted here.
    /// Returns the expected wait.
    pub fn note_request(&self, broker: i32) -> Duration {
        let now = Instant::now();
        let mut inner = self.lock();
        let e = self.entry(&mut inner, broker, now);
        match e.throttle_until {
            Some(until) if until > now => {
                let wait = until - now;
                e.throttle_wait += wait;
                e.throttle_until = None;
                wait
            }
            _ => Duration::ZERO,
        }
    }

    /// When the last throttle of `broker` ends, if it has not ended yet. A client holds its
    /// requests for that broker until then (KIP-219).
    pub fn throttled_until(&self, broker: i32) -> Option<Instant> {
        let now = Instant::now();
        let inner = self.lock();
        inner
            .brokers
            .get(&broker)
            .and_then(|e| e.throttle_until)
            .filter(|u| *u > now)
    }

    /// Adds time the client held requests for `broker` back because it was throttled.
    pub fn add_throttle_wait(&self, broker: i32, waited: Duration) {
        let now = Instant::now();
        let mut inner = self.lock();
        self.entry(&mut inner, broker, now).throttle_wait += waited;
    }

    /// A snapshot of all metrics now.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let now = Instant::now();
        let ms = self.ms(now);
        let mut inner = self.lock();
        let throttle_time_avg = inner.total.avg.measure(ms);
        let throttle_time_max = inner.total.max.measure(ms);
        let brokers = inner
            .brokers
            .iter_mut()
            .map(|(&id, e)| {
                let elapsed = now.saturating_duration_since(e.first).as_secs_f64();
                BrokerMetrics {
                    broker_id: id,
                    throttle_time_avg: e.sensor.avg.measure(ms),
                    throttle_time_max: e.sensor.max.measure(ms),
                    bytes: e.bytes,
                    records: e.records,
                    responses: e.responses,
                    throttled_responses: e.throttled_responses,
                    last_throttle_time_ms: e.last_throttle_ms,
                    throttle_wait: e.throttle_wait,
                    active: e.last.saturating_duration_since(e.first),
                    bytes_per_sec: if elapsed > 0.0 {
                        e.bytes as f64 / elapsed
                    } else {
                        0.0
                    },
                }
            })
            .collect();
        MetricsSnapshot {
            kind: self.kind,
            throttle_time_avg,
            throttle_time_max,
            brokers,
            at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> MetricConfig {
        MetricConfig {
            samples: 2,
            window: Duration::from_millis(30_000),
        }
    }

    #[test]
    fn avg_includes_zeros_and_nan_when_empty() {
        let mut a = SampledStat::avg(cfg());
        assert!(a.measure(0).is_nan());
        for v in [0.0, 0.0, 0.0, 400.0] {
            a.record(v, 1000);
        }
        assert_eq!(a.measure(1000), 100.0);
        let mut m = SampledStat::max(cfg());
        m.record(0.0, 5);
        assert_eq!(m.measure(5), 0.0, "max of zeros is 0.0, not NaN");
    }

    #[test]
    fn samples_advance_and_expire_like_java() {
        let mut m = SampledStat::max(cfg());
        m.record(500.0, 0);
        m.record(10.0, 30_000); // second window
        assert_eq!(m.measure(30_000), 500.0);
        m.record(20.0, 60_000); // third sample (samples + 1 kept)
                                // The first sample's last event (t=0) is 60 s old: purged.
        assert_eq!(m.measure(60_000), 20.0);
        // Everything older than 2 x 30 s without events -> NaN.
        assert!(m.measure(200_000).is_nan());
    }

    #[test]
    fn per_broker_bytes_throttle_and_wait() {
        let m = ClientMetrics::new(ClientKind::Consumer);
        let t0 = Instant::now();
        m.record_response_at(1, 0, 1000, 10, t0);
        m.record_response_at(2, 300, 500, 5, t0);
        let s = m.snapshot();
        assert_eq!(s.java_metrics()[0].0, "fetch-throttle-time-avg");
        assert_eq!(s.throttle_time_avg, 150.0);
        assert_eq!(s.throttle_time_max, 300.0);
        assert_eq!(s.brokers.len(), 2);
        assert_eq!(s.brokers[1].throttled_responses, 1);
        assert_eq!(s.brokers[1].last_throttle_time_ms, 300);
        assert_eq!(s.brokers[0].last_throttle_time_ms, 0);
        assert!(s.brokers[0].throttle_time_max == 0.0);
        // Broker 2 throttled for 300 ms from t0; a request now waits the rest of it.
        let waited = m.note_request(2);
        assert!(waited <= Duration::from_millis(300));
        assert_eq!(m.note_request(1), Duration::ZERO);
        let later = m.snapshot();
        assert_eq!(later.throttle_wait(), waited);
        let rates = later.rates_since(&s);
        assert_eq!(rates[&1], 0.0);
    }
}
