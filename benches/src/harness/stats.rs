//! Medians and formatting.

use std::time::Duration;

/// The median of both binaries (the rtt report, shared with kquota-bench-rtt, owns it).
pub use crate::rtt_report::median;

/// Smallest and largest value.
pub fn range(v: &[f64]) -> Option<(f64, f64)> {
    let min = v.iter().copied().reduce(f64::min)?;
    let max = v.iter().copied().reduce(f64::max)?;
    Some((min, max))
}

/// Milliseconds of a duration.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A duration in ms with sensible precision.
pub fn fmt_ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// KiB as MiB.
pub fn fmt_mib(kib: f64) -> String {
    let m = kib / 1024.0;
    if m >= 100.0 {
        format!("{m:.0}")
    } else {
        format!("{m:.1}")
    }
}

/// A ratio like `31.2×`.
pub fn fmt_ratio(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}×")
    } else {
        format!("{r:.2}×")
    }
}

/// A count with thousands separators.
pub fn fmt_count(v: f64) -> String {
    let n = v.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(range(&[2.0, 5.0, 1.0]), Some((1.0, 5.0)));
    }

    #[test]
    fn formatting() {
        assert_eq!(fmt_count(1234567.0), "1 234 567");
        assert_eq!(fmt_count(999.0), "999");
        assert_eq!(fmt_ratio(31.4), "31×");
        assert_eq!(fmt_ratio(1.234), "1.23×");
        assert_eq!(fmt_mib(2048.0), "2.0");
    }
}
