//! The testkit's error type: every variant names the cause and, where there is one, the log file.

use std::path::PathBuf;

/// Why the testkit could not fetch, start, stop or talk to a local Kafka.
///
/// Every message is one line that says what failed and where to look (the broker, Maven or javac
/// log). Secrets never appear in it.
///
/// ```no_run
/// use kquota_testkit::{ClusterSpec, KafkaCluster, TestkitError};
/// match KafkaCluster::start(ClusterSpec::single().fixed_ports(9092)) {
///     Ok(cluster) => drop(cluster),
///     Err(TestkitError::PortInUse { port, log, .. }) => eprintln!("{port} taken, see {}", log.display()),
///     Err(e) => eprintln!("{e}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestkitError {
    /// A program the testkit runs (java, javac, mvn) is not on `PATH`.
    #[error("`{tool}` was not found on PATH: kquota-testkit needs a JDK 17+ (java, javac) and Maven (mvn) to fetch and run Apache Kafka")]
    MissingTool {
        /// The program that is missing.
        tool: &'static str,
    },
    /// `mvn dependency:copy-dependencies` failed (registry unreachable, bad pom, ...).
    #[error("fetching Apache Kafka {version} from Maven Central failed ({status}); see the Maven log {}", log.display())]
    Fetch {
        /// Kafka version being fetched.
        version: &'static str,
        /// Exit status or reason.
        status: String,
        /// Maven's output.
        log: PathBuf,
    },
    /// javac could not compile the MSK IAM validator plugin.
    #[error("compiling the MSK IAM validator {} failed ({status}); see {}", source_file.display(), log.display())]
    Compile {
        /// The Java source.
        source_file: PathBuf,
        /// Exit status or reason.
        status: String,
        /// javac's output.
        log: PathBuf,
    },
    /// A Kafka node (broker or controller) failed to format its storage or to start.
    #[error("kafka node {node} failed to {stage}: {cause}; see log {}", log.display())]
    NodeFailed {
        /// Node id (brokers 1..=3, controller 100).
        node: i32,
        /// `format storage` or `start`.
        stage: &'static str,
        /// The cause as read from the log (first error line), or what the testkit observed.
        cause: String,
        /// The node's log file (kept).
        log: PathBuf,
    },
    /// A listener port was already taken by another process.
    #[error("kafka node {node} could not bind 127.0.0.1:{port}: the port is already in use; see log {}", log.display())]
    PortInUse {
        /// Node id.
        node: i32,
        /// The port in use.
        port: u16,
        /// The node's log file (kept).
        log: PathBuf,
    },
    /// The cluster did not become ready within the start timeout.
    #[error("kafka node {node} was not ready after {secs} s: {cause}; see log {}", log.display())]
    StartTimeout {
        /// Node id.
        node: i32,
        /// Timeout in seconds.
        secs: u64,
        /// Last readiness probe error.
        cause: String,
        /// The node's log file (kept).
        log: PathBuf,
    },
    /// A file or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What the testkit was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The cluster spec or a call argument is not valid.
    #[error("invalid testkit input: {0}")]
    Invalid(String),
    /// Attaching to a cluster described by a JSON file failed.
    #[error("cannot attach to the testkit cluster described by {}: {reason}", path.display())]
    Attach {
        /// The JSON file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// An operation that needs the broker processes was called on an attached cluster.
    #[error("{0} is not possible on a cluster attached from a JSON file (its processes belong to `kquota-testkit up`)")]
    NotOwned(&'static str),
    /// A broker protocol exchange failed (readiness probes, helpers).
    #[error("{addr}: {detail}")]
    Protocol {
        /// Broker address.
        addr: String,
        /// What went wrong.
        detail: String,
    },
    /// A Java helper (validator `sign`/`validate`) failed.
    #[error("{what} failed: {detail}")]
    Tool {
        /// Which helper.
        what: &'static str,
        /// Its stderr or status.
        detail: String,
    },
}

impl TestkitError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        TestkitError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result alias for the testkit.
pub type Result<T, E = TestkitError> = std::result::Result<T, E>;
