//! Latency statistics: nearest-rank percentiles over per-request samples.

/// Summary of latency samples, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Median (nearest rank).
    pub p50: f64,
    /// 99th percentile (nearest rank).
    pub p99: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
}

/// The `p`-th percentile (0 < p ≤ 100) of sorted samples, nearest-rank method: the smallest
/// sample such that at least p % of all samples are ≤ it. `None` when empty.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64 / 100.0).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Summarises latency samples given in nanoseconds; `None` when empty.
pub fn summarize(samples_ns: &[u64]) -> Option<Summary> {
    if samples_ns.is_empty() {
        return None;
    }
    let mut us: Vec<f64> = samples_ns.iter().map(|&n| n as f64 / 1000.0).collect();
    us.sort_by(|a, b| a.total_cmp(b));
    Some(Summary {
        n: us.len(),
        p50: percentile(&us, 50.0)?,
        p99: percentile(&us, 99.0)?,
        mean: us.iter().sum::<f64>() / us.len() as f64,
        min: us[0],
        max: us[us.len() - 1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&v, 100.0), Some(100.0));
        assert_eq!(percentile(&[5.0], 99.0), Some(5.0));
        assert_eq!(percentile(&[1.0, 2.0], 50.0), Some(1.0));
        assert_eq!(percentile(&[1.0, 2.0, 3.0], 99.0), Some(3.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn summary_of_nanosecond_samples() {
        // Unsorted input; one slow outlier lands in p99 of 100 samples only at rank 100.
        let mut ns: Vec<u64> = (1..=99).map(|i| i * 1000).collect();
        ns.push(1_000_000);
        ns.reverse();
        let s = summarize(&ns).unwrap();
        assert_eq!(s.n, 100);
        assert_eq!(s.p50, 50.0);
        assert_eq!(s.p99, 99.0);
        assert_eq!(s.min, 1.0);
        assert_eq!(s.max, 1000.0);
        assert!((s.mean - (4950.0 + 1000.0) / 100.0).abs() < 1e-9);
        assert_eq!(summarize(&[]), None);
    }
}
