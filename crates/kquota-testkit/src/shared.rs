//! One cluster per process (or per CI run), started lazily.

use std::sync::{Once, OnceLock};

use crate::cluster::{ClusterSpec, KafkaCluster};
use crate::error::TestkitError;

static SHARED: OnceLock<Result<KafkaCluster, TestkitError>> = OnceLock::new();
static SHARED_THREE: OnceLock<Result<KafkaCluster, TestkitError>> = OnceLock::new();
static AT_EXIT: Once = Once::new();

extern "C" fn stop_shared_clusters() {
    for cell in [&SHARED, &SHARED_THREE] {
        if let Some(Ok(c)) = cell.get() {
            // The watchdogs would stop the JVMs anyway once this process is gone; killing them
            // here lets us remove the data directories (logs stay, for failed tests).
            c.kill_all();
            c.remove_data();
        }
    }
}

fn init(env: &str, spec: fn() -> ClusterSpec) -> Result<KafkaCluster, TestkitError> {
    if let Some(path) = std::env::var_os(env) {
        return KafkaCluster::attach(path);
    }
    let mut c = KafkaCluster::start(spec())?;
    c.keep_logs = true;
    AT_EXIT.call_once(|| {
        // SAFETY: registers a plain `extern "C" fn` without arguments, as atexit requires.
        unsafe {
            libc::atexit(stop_shared_clusters);
        }
    });
    Ok(c)
}

fn report(
    cell: &'static OnceLock<Result<KafkaCluster, TestkitError>>,
    env: &str,
    spec: fn() -> ClusterSpec,
) -> Result<&'static KafkaCluster, &'static TestkitError> {
    let r = cell.get_or_init(|| init(env, spec)).as_ref();
    if let Ok(c) = r {
        // Captured by the test harness and shown only when the test fails.
        eprintln!(
            "kquota-testkit: shared cluster PLAINTEXT {}; logs under {}",
            c.bootstrap(crate::Listener::Plaintext),
            c.dir().display()
        );
    }
    r
}

/// The process-wide single-node cluster, started on first use (or attached from the JSON file
/// named by env `KQUOTA_TESTKIT_SHARED`, written by `kquota-testkit up --json`). It is never
/// dropped; its JVM is stopped when the process exits, however it exits.
///
/// Blocking; safe to call from many threads at once (one start) and from `#[tokio::test]`.
///
/// # Panics
/// When the cluster cannot start; the message names the cause and the log. Use
/// [`try_shared`] to handle the error.
///
/// ```no_run
/// let cluster = kquota_testkit::shared();
/// let bootstrap = cluster.bootstrap(kquota_testkit::Listener::Plaintext);
/// # let _ = bootstrap;
/// ```
pub fn shared() -> &'static KafkaCluster {
    match try_shared() {
        Ok(c) => c,
        Err(e) => panic!("kquota-testkit: shared cluster unavailable: {e}"),
    }
}

/// [`shared`] without the panic. The start is attempted once per process; later calls return the
/// same error.
///
/// ```no_run
/// match kquota_testkit::try_shared() {
///     Ok(c) => println!("{}", c.bootstrap(kquota_testkit::Listener::Plaintext)),
///     Err(e) => eprintln!("no broker: {e}"),
/// }
/// ```
pub fn try_shared() -> Result<&'static KafkaCluster, &'static TestkitError> {
    report(&SHARED, "KQUOTA_TESTKIT_SHARED", ClusterSpec::single)
}

/// The process-wide 3-broker cluster (brokers 1, 2, 3, controller 100), like [`shared`]; env
/// `KQUOTA_TESTKIT_SHARED_THREE` attaches to one started by `kquota-testkit up --brokers 3`.
///
/// ```no_run
/// assert_eq!(kquota_testkit::shared_three().brokers().len(), 3);
/// ```
pub fn shared_three() -> &'static KafkaCluster {
    match try_shared_three() {
        Ok(c) => c,
        Err(e) => panic!("kquota-testkit: shared 3-broker cluster unavailable: {e}"),
    }
}

/// [`shared_three`] without the panic.
///
/// ```no_run
/// let ok = kquota_testkit::try_shared_three().is_ok();
/// # let _ = ok;
/// ```
pub fn try_shared_three() -> Result<&'static KafkaCluster, &'static TestkitError> {
    report(
        &SHARED_THREE,
        "KQUOTA_TESTKIT_SHARED_THREE",
        ClusterSpec::three_brokers,
    )
}
