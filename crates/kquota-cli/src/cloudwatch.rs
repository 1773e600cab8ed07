//! CloudWatch publishing of the throttle metrics for `kquota produce` / `kquota consume`
//! (`--cw-namespace`, `--cw-dimension-name`, `--cw-dimension-value`), as the MSK sample apps do.
//!
//! Each publish is one PutMetricData call with the two Java client metrics of the snapshot
//! (`produce-throttle-time-avg/max` or `fetch-throttle-time-avg/max`), unit `Milliseconds`,
//! the snapshot's wall-clock time as timestamp and the one optional dimension. The commands
//! publish at every `--metrics-interval` and once at the end.
//!
//! - The calls run in a background task, so a slow or unreachable endpoint never slows the
//!   produce or fetch loop; the end of the command waits for the queued calls.
//! - A value that is not a finite number (the Java client's `NaN` before the first response)
//!   is left out: CloudWatch refuses it, and "no data" is what it means.
//! - The client uses the caller's own AWS credentials (default chain or `--aws-profile`), not
//!   an assumed Kafka role, and the region of `--region` / `--aws-region` / `AWS_REGION`. The
//!   SDK's `AWS_ENDPOINT_URL_CLOUDWATCH` / `AWS_ENDPOINT_URL` override the endpoint.
//! - A failed call prints one `warning:` line on stderr (the AWS error code and message or the
//!   transport failure, never a credential) and the command then exits 4 at the end, after its
//!   normal output: the metrics did not all reach CloudWatch.

use clap::Args;
use kquota_client::metrics::MetricsSnapshot;

use crate::exit;

/// The CloudWatch flags of `produce` and `consume`.
#[derive(Args, Debug, Clone, Default)]
pub struct CloudWatchArgs {
    /// Publish the throttle metrics to this CloudWatch namespace (PutMetricData, unit
    /// Milliseconds) at every --metrics-interval and at the end. Uses the caller's own AWS
    /// credentials and --region / AWS_REGION; needs the aws-sdk build feature.
    #[arg(long, value_name = "NAMESPACE")]
    pub cw_namespace: Option<String>,
    /// Name of the one CloudWatch dimension of the metrics (with --cw-dimension-value).
    #[arg(long, value_name = "NAME")]
    pub cw_dimension_name: Option<String>,
    /// Value of that dimension, e.g. the app's name (with --cw-dimension-name).
    #[arg(long, value_name = "VALUE")]
    pub cw_dimension_value: Option<String>,
}

/// Where the metrics go: a validated namespace and optional dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The namespace.
    pub namespace: String,
    /// `(name, value)` of the one dimension.
    pub dimension: Option<(String, String)>,
}

/// Longest namespace and dimension name CloudWatch accepts.
const MAX_NAME: usize = 255;
/// Longest dimension value CloudWatch accepts.
const MAX_VALUE: usize = 1024;

impl CloudWatchArgs {
    /// Checks the flags (no network): `Ok(None)` when no CloudWatch flag is given, a usage
    /// error for a dimension name without a value (or the reverse), dimension flags without
    /// `--cw-namespace`, or names CloudWatch would refuse.
    pub fn target(&self) -> anyhow::Result<Option<Target>> {
        let dimension = match (&self.cw_dimension_name, &self.cw_dimension_value) {
            (Some(n), Some(v)) => Some((n.clone(), v.clone())),
            (Some(_), None) => {
                return Err(exit::usage(
                    "--cw-dimension-name needs --cw-dimension-value",
                ))
            }
            (None, Some(_)) => {
                return Err(exit::usage(
                    "--cw-dimension-value needs --cw-dimension-name",
                ))
            }
            (None, None) => None,
        };
        let Some(namespace) = &self.cw_namespace else {
            if dimension.is_some() {
                return Err(exit::usage(
                    "--cw-dimension-name and --cw-dimension-value need --cw-namespace",
                ));
            }
            return Ok(None);
        };
        check_name("--cw-namespace", namespace, MAX_NAME)?;
        if namespace.starts_with("AWS/") {
            return Err(exit::usage(format!(
                "--cw-namespace {namespace:?}: namespaces starting with \"AWS/\" are reserved for AWS services"
            )));
        }
        if let Some((name, value)) = &dimension {
            check_name("--cw-dimension-name", name, MAX_NAME)?;
            check_name("--cw-dimension-value", value, MAX_VALUE)?;
        }
        Ok(Some(Target {
            namespace: namespace.clone(),
            dimension,
        }))
    }
}

/// CloudWatch's rules for namespaces and dimension names and values: 1..=max characters,
/// printable ASCII, not all blank, not starting with ':'.
fn check_name(flag: &str, s: &str, max: usize) -> anyhow::Result<()> {
    let problem = if s.trim().is_empty() {
        Some("must not be empty or blank".to_string())
    } else if s.len() > max {
        Some(format!("is {} characters; the limit is {max}", s.len()))
    } else if !s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Some("must be printable ASCII".to_string())
    } else if s.starts_with(':') {
        Some("must not start with ':'".to_string())
    } else {
        None
    };
    match problem {
        Some(p) => Err(exit::usage(format!("{flag} {s:?} {p}"))),
        None => Ok(()),
    }
}

/// The metric names and values of a snapshot that CloudWatch can take: the Java client's avg
/// and max, non-finite values (no sample yet) left out.
pub fn metric_values(snap: &MetricsSnapshot) -> Vec<(String, f64)> {
    snap.java_metrics()
        .into_iter()
        .filter(|(_, v)| v.is_finite())
        .collect()
}

/// AWS settings of the publisher, from the command's flags.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// `--region` / `--aws-region` (else `AWS_REGION` / the profile's region).
    pub region: Option<String>,
    /// `--aws-profile`.
    pub profile: Option<String>,
}

/// How the publishing went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// PutMetricData calls made.
    pub calls: u64,
    /// Calls that failed (each printed as a warning).
    pub failed: u64,
}

impl Report {
    /// The error to end the command with when any call failed (exit 4).
    pub fn into_result(self) -> anyhow::Result<()> {
        if self.failed == 0 {
            return Ok(());
        }
        Err(exit::connection(format!(
            "{} of {} CloudWatch PutMetricData call(s) failed (see the warnings above)",
            self.failed, self.calls
        )))
    }
}

/// Publishes snapshots in a background task; [`Publisher::finish`] waits for it.
pub struct Publisher {
    inner: imp::Inner,
}

impl Publisher {
    /// Starts the publisher when `args` asks for it: validates the flags, loads the AWS
    /// configuration and checks the region and credentials now, before any record is sent.
    pub async fn start(args: &CloudWatchArgs, aws: AwsSettings) -> anyhow::Result<Option<Self>> {
        match args.target()? {
            None => Ok(None),
            Some(target) => Ok(Some(Publisher {
                inner: imp::Inner::start(target, aws).await?,
            })),
        }
    }

    /// Queues one PutMetricData call with the snapshot's metrics (timestamped now).
    pub fn publish(&self, snap: &MetricsSnapshot) {
        let values = metric_values(snap);
        if !values.is_empty() {
            self.inner.publish(values, std::time::SystemTime::now());
        }
    }

    /// Waits for every queued call and says how they went.
    pub async fn finish(self) -> Report {
        self.inner.finish().await
    }
}

/// Publishes when there is a publisher.
pub fn publish(p: &Option<Publisher>, snap: &MetricsSnapshot) {
    if let Some(p) = p {
        p.publish(snap);
    }
}

/// Finishes the publisher, if any (an empty report without one).
pub async fn finish(p: Option<Publisher>) -> Report {
    match p {
        Some(p) => p.finish().await,
        None => Report::default(),
    }
}

#[cfg(feature = "aws-sdk")]
mod imp {
    use std::time::SystemTime;

    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    use tokio::sync::mpsc;

    use super::{AwsSettings, Report, Target};

    type Batch = (Vec<(String, f64)>, SystemTime);

    pub(super) struct Inner {
        tx: mpsc::UnboundedSender<Batch>,
        task: tokio::task::JoinHandle<Report>,
    }

    impl Inner {
        pub(super) async fn start(target: Target, aws: AwsSettings) -> anyhow::Result<Inner> {
            let mut cfg = kquota_iam::IamConfig::default();
            cfg.region = aws.region;
            cfg.profile = aws.profile;
            let sdk = kquota_iam::aws::load_sdk_config(&cfg, "CloudWatch metrics (--cw-namespace)")
                .await
                .map_err(crate::cmd::token::classify)?;
            let client = aws_sdk_cloudwatch::Client::new(&sdk);
            let (tx, mut rx) = mpsc::unbounded_channel::<Batch>();
            let task = tokio::spawn(async move {
                let mut report = Report::default();
                while let Some((values, at)) = rx.recv().await {
                    report.calls += 1;
                    if let Err(e) = put(&client, &target, values, at).await {
                        report.failed += 1;
                        eprintln!("\rwarning: {e}");
                    }
                }
                report
            });
            Ok(Inner { tx, task })
        }

        pub(super) fn publish(&self, values: Vec<(String, f64)>, at: SystemTime) {
            // The task only ends after the sender is dropped, so this cannot fail.
            let _ = self.tx.send((values, at));
        }

        pub(super) async fn finish(self) -> Report {
            drop(self.tx);
            self.task.await.unwrap_or(Report {
                calls: 1,
                failed: 1,
            })
        }
    }

    /// One PutMetricData call.
    async fn put(
        client: &aws_sdk_cloudwatch::Client,
        target: &Target,
        values: Vec<(String, f64)>,
        at: SystemTime,
    ) -> Result<(), kquota_iam::IamError> {
        let dimension = target
            .dimension
            .as_ref()
            .map(|(n, v)| Dimension::builder().name(n).value(v).build());
        let mut req = client.put_metric_data().namespace(&target.namespace);
        for (name, value) in values {
            req = req.metric_data(
                MetricDatum::builder()
                    .metric_name(name)
                    .value(value)
                    .unit(StandardUnit::Milliseconds)
                    .timestamp(DateTime::from(at))
                    .set_dimensions(dimension.clone().map(|d| vec![d]))
                    .build(),
            );
        }
        req.send().await.map(|_| ()).map_err(|e| {
            kquota_iam::aws::sdk_call_error(
                "CloudWatch",
                "PutMetricData",
                Some(&format!("namespace {}", target.namespace)),
                e,
            )
        })
    }
}

#[cfg(not(feature = "aws-sdk"))]
mod imp {
    use std::time::SystemTime;

    use super::{AwsSettings, Report, Target};

    pub(super) struct Inner;

    impl Inner {
        pub(super) async fn start(_target: Target, _aws: AwsSettings) -> anyhow::Result<Inner> {
            Err(crate::exit::usage(
                "--cw-namespace needs kquota built with the aws-sdk feature (the default)",
            ))
        }

        pub(super) fn publish(&self, _values: Vec<(String, f64)>, _at: SystemTime) {}

        pub(super) async fn finish(self) -> Report {
            Report::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(ns: Option<&str>, name: Option<&str>, value: Option<&str>) -> CloudWatchArgs {
        CloudWatchArgs {
            cw_namespace: ns.map(str::to_string),
            cw_dimension_name: name.map(str::to_string),
            cw_dimension_value: value.map(str::to_string),
        }
    }

    fn usage_message(a: &CloudWatchArgs) -> String {
        let e = a.target().unwrap_err();
        assert_eq!(exit::code_for(&e), exit::USAGE, "{e}");
        e.to_string()
    }

    #[test]
    fn flags_to_target() {
        assert_eq!(args(None, None, None).target().unwrap(), None);
        assert_eq!(
            args(Some("kquota/quotas"), None, None).target().unwrap(),
            Some(Target {
                namespace: "kquota/quotas".into(),
                dimension: None
            })
        );
        assert_eq!(
            args(Some("MSK"), Some("ProducerApp"), Some("producerapp-1"))
                .target()
                .unwrap()
                .unwrap()
                .dimension,
            Some(("ProducerApp".into(), "producerapp-1".into()))
        );
    }

    #[test]
    fn half_a_dimension_or_no_namespace_is_a_usage_error() {
        assert_eq!(
            usage_message(&args(Some("n"), Some("d"), None)),
            "--cw-dimension-name needs --cw-dimension-value"
        );
        assert_eq!(
            usage_message(&args(Some("n"), None, Some("v"))),
            "--cw-dimension-value needs --cw-dimension-name"
        );
        assert!(usage_message(&args(None, Some("d"), Some("v"))).contains("need --cw-namespace"));
    }

    #[test]
    fn names_cloudwatch_refuses_are_usage_errors() {
        let long = "x".repeat(256);
        for (a, want) in [
            (args(Some(""), None, None), "must not be empty"),
            (args(Some("  "), None, None), "must not be empty"),
            (args(Some(&long), None, None), "the limit is 255"),
            (args(Some("AWS/Kafka"), None, None), "reserved"),
            (args(Some(":x"), None, None), "start with ':'"),
            (args(Some("n\u{e9}"), None, None), "printable ASCII"),
            (args(Some("n"), Some(""), Some("v")), "--cw-dimension-name"),
            (
                args(Some("n"), Some("d"), Some(&"v".repeat(1025))),
                "the limit is 1024",
            ),
        ] {
            let m = usage_message(&a);
            assert!(m.contains(want), "{a:?}: {m}");
        }
        assert!(args(Some("n"), Some("d"), Some(&"v".repeat(1024)))
            .target()
            .is_ok());
    }

    #[test]
    fn values_are_the_java_metrics_without_nan() {
        use kquota_client::metrics::{ClientKind, ClientMetrics};
        let m = ClientMetrics::new(ClientKind::Producer);
        assert!(
            metric_values(&m.snapshot()).is_empty(),
            "no sample yet: NaN is not published"
        );
        m.record_response(1, 250, 1000, 1);
        m.record_response(1, 50, 1000, 1);
        let v = metric_values(&m.snapshot());
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].0, "produce-throttle-time-avg");
        assert_eq!(v[1], ("produce-throttle-time-max".to_string(), 250.0));
        assert!((v[0].1 - 150.0).abs() < 1e-9, "{v:?}");
        let c = ClientMetrics::new(ClientKind::Consumer);
        c.record_response(1, 0, 10, 1);
        let names: Vec<String> = metric_values(&c.snapshot())
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            names,
            ["fetch-throttle-time-avg", "fetch-throttle-time-max"]
        );
    }

    /// Runs in a build without the aws-sdk feature:
    /// `cargo test -p kquota-cli --no-default-features --bin kquota cloudwatch`.
    #[cfg(not(feature = "aws-sdk"))]
    #[test]
    fn without_the_aws_sdk_feature_cw_namespace_is_a_clear_usage_error() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let e = rt
            .block_on(Publisher::start(
                &args(Some("kquota"), Some("App"), Some("a1")),
                AwsSettings::default(),
            ))
            .err()
            .expect("an error without the aws-sdk feature");
        assert_eq!(exit::code_for(&e), exit::USAGE);
        assert_eq!(
            e.to_string(),
            "--cw-namespace needs kquota built with the aws-sdk feature (the default)"
        );
        // Flag errors are still reported as such, and no flag means no publisher.
        assert!(usage_message(&args(Some("n"), Some("d"), None)).contains("needs"));
        assert!(rt
            .block_on(Publisher::start(
                &args(None, None, None),
                AwsSettings::default()
            ))
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_failed_call_fails_the_command_with_exit_4() {
        assert!(Report {
            calls: 3,
            failed: 0
        }
        .into_result()
        .is_ok());
        let e = Report {
            calls: 3,
            failed: 2,
        }
        .into_result()
        .unwrap_err();
        assert_eq!(exit::code_for(&e), exit::CONNECTION);
        assert_eq!(
            e.to_string(),
            "2 of 3 CloudWatch PutMetricData call(s) failed (see the warnings above)"
        );
    }
}
