//! The measured data and its Markdown rendering (benches/RESULTS.md).

use std::fmt::Write as _;
use std::time::Duration;

use crate::stats::{fmt_count, fmt_mib, fmt_ms, fmt_ratio, median, ms, range};

/// One timed invocation.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Wall time.
    pub wall: Duration,
    /// Peak RSS, KiB.
    pub rss_kib: u64,
}

/// All runs of one tool in one scenario.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Tool label as shown in the table.
    pub tool: String,
    /// Successful runs.
    pub samples: Vec<Sample>,
    /// Why the tool stopped being measured, if it failed.
    pub error: Option<String>,
    /// Shown under the table.
    pub note: Option<String>,
    /// The wall time shown is this factor × the per-invocation median (extrapolated loops).
    pub scale: Option<f64>,
}

impl Series {
    /// A series for `tool`.
    pub fn new(tool: impl Into<String>) -> Self {
        Series {
            tool: tool.into(),
            ..Default::default()
        }
    }

    /// Median wall time in ms (scaled when extrapolated).
    pub fn wall_ms(&self) -> Option<f64> {
        let v: Vec<f64> = self.samples.iter().map(|s| ms(s.wall)).collect();
        median(&v).map(|m| m * self.scale.unwrap_or(1.0))
    }

    /// Median peak RSS, KiB.
    pub fn rss_kib(&self) -> Option<f64> {
        let v: Vec<f64> = self.samples.iter().map(|s| s.rss_kib as f64).collect();
        median(&v)
    }

    fn wall_range(&self) -> Option<(f64, f64)> {
        let v: Vec<f64> = self.samples.iter().map(|s| ms(s.wall)).collect();
        range(&v)
    }
}

/// A table of series compared with the first one (kquota).
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Heading.
    pub title: String,
    /// What exactly was run.
    pub what: String,
    /// kquota first, then the peers.
    pub series: Vec<Series>,
}

impl Scenario {
    /// The series whose label starts with `prefix`.
    pub fn get(&self, prefix: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.tool.starts_with(prefix))
    }

    /// Markdown table: median wall (min–max), median peak RSS, and peer/kquota ratios.
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(out, "### {}\n\n{}\n", self.title, self.what);
        let _ = writeln!(
            out,
            "| tool | runs | wall, median ms (min–max) | peak RSS, median MiB | wall vs kquota | RSS vs kquota |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        let base = self.series.first();
        let (bw, br) = (
            base.and_then(Series::wall_ms),
            base.and_then(Series::rss_kib),
        );
        for s in &self.series {
            if let Some(e) = &s.error {
                if s.samples.is_empty() {
                    let _ = writeln!(out, "| {} | 0 | failed: {} | | | |", s.tool, md_escape(e));
                    continue;
                }
            }
            let wall = match (s.wall_ms(), s.wall_range()) {
                (Some(w), Some((lo, hi))) if s.scale.is_none() => {
                    format!("{} ({}–{})", fmt_ms(w), fmt_ms(lo), fmt_ms(hi))
                }
                (Some(w), Some((lo, hi))) => format!(
                    "{} (extrapolated: {:.0} × {} per call, {}–{})",
                    fmt_ms(w),
                    s.scale.unwrap_or(1.0),
                    fmt_ms(w / s.scale.unwrap_or(1.0)),
                    fmt_ms(lo),
                    fmt_ms(hi)
                ),
                _ => "–".into(),
            };
            let rss = s
                .rss_kib()
                .filter(|r| *r > 0.0)
                .map(fmt_mib)
                .unwrap_or_else(|| "–".into());
            let rw = ratio(s.wall_ms(), bw);
            let rr = ratio(s.rss_kib().filter(|r| *r > 0.0), br);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                s.tool,
                s.samples.len(),
                wall,
                rss,
                rw,
                rr
            );
        }
        let _ = writeln!(out);
        for s in &self.series {
            if let Some(n) = &s.note {
                let _ = writeln!(out, "- {}: {}", s.tool, n);
            }
            if let (Some(e), false) = (&s.error, s.samples.is_empty()) {
                let _ = writeln!(
                    out,
                    "- {}: stopped after a failure: {}",
                    s.tool,
                    md_escape(e)
                );
            }
        }
        let _ = writeln!(out);
    }
}

fn ratio(x: Option<f64>, base: Option<f64>) -> String {
    match (x, base) {
        (Some(x), Some(b)) if b > 0.0 => fmt_ratio(x / b),
        _ => "–".into(),
    }
}

/// One throughput run.
#[derive(Debug, Clone, Copy)]
pub struct Tput {
    /// Records per second.
    pub records_per_s: f64,
    /// MiB of record values per second.
    pub mib_per_s: f64,
    /// Peak RSS, KiB.
    pub rss_kib: u64,
}

/// All runs of one tool at one setting.
#[derive(Debug, Clone, Default)]
pub struct TputSeries {
    /// Tool label.
    pub tool: String,
    /// How the rate was timed.
    pub basis: String,
    /// Successful runs.
    pub samples: Vec<Tput>,
    /// Failure, if any.
    pub error: Option<String>,
}

impl TputSeries {
    /// Median records/s.
    pub fn rps(&self) -> Option<f64> {
        median(
            &self
                .samples
                .iter()
                .map(|t| t.records_per_s)
                .collect::<Vec<_>>(),
        )
    }
    fn mibps(&self) -> Option<f64> {
        median(&self.samples.iter().map(|t| t.mib_per_s).collect::<Vec<_>>())
    }
    fn rss(&self) -> Option<f64> {
        median(
            &self
                .samples
                .iter()
                .map(|t| t.rss_kib as f64)
                .collect::<Vec<_>>(),
        )
    }
}

/// Throughput at one setting (record size, acks) for every tool.
#[derive(Debug, Clone)]
pub struct TputCase {
    /// e.g. "100 B, acks=1".
    pub setting: String,
    /// kquota first.
    pub series: Vec<TputSeries>,
}

/// Renders throughput cases as one table.
pub fn render_tput(title: &str, what: &str, cases: &[TputCase], out: &mut String) {
    let _ = writeln!(out, "### {title}\n\n{what}\n");
    let _ = writeln!(
        out,
        "| setting | tool | runs | records/s, median | MiB/s, median | peak RSS MiB | kquota ÷ tool | timed by |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---|");
    for c in cases {
        let base = c.series.first().and_then(TputSeries::rps);
        for s in &c.series {
            if s.samples.is_empty() {
                let e = s.error.as_deref().unwrap_or("not run");
                let _ = writeln!(
                    out,
                    "| {} | {} | 0 | {} | | | | |",
                    c.setting,
                    s.tool,
                    md_escape(e)
                );
                continue;
            }
            let r = match (base, s.rps()) {
                (Some(b), Some(x)) if x > 0.0 => fmt_ratio(b / x),
                _ => "–".into(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {:.1} | {} | {} | {} |",
                c.setting,
                s.tool,
                s.samples.len(),
                s.rps().map(fmt_count).unwrap_or_default(),
                s.mibps().unwrap_or(0.0),
                s.rss().map(fmt_mib).unwrap_or_default(),
                r,
                s.basis
            );
        }
    }
    let _ = writeln!(out);
}

/// Makes text safe inside a Markdown table cell.
pub fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
