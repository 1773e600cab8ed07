//! Starting, observing and stopping a local KRaft cluster.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::certs;
use crate::credentials::{self, Credentials, IamIdentity};
use crate::error::{Result, TestkitError};
use crate::fetch;
use crate::probe;
use crate::process::Jvm;

/// Node id of the controller in multi-broker clusters (brokers are `1..=n`).
pub const CONTROLLER_ID: i32 = 100;

/// JVM options for brokers: small heap, serial GC, C1 only (fast start, little CPU).
const JVM_FAST: &[&str] = &[
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:-UsePerfData",
    "-Xss512k",
    "-Djava.awt.headless=true",
];

/// The client-facing listeners every broker has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Listener {
    /// `PLAINTEXT`: no authentication, principal `User:ANONYMOUS`.
    Plaintext,
    /// `SASL_PLAINTEXT`: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER (MSK IAM tokens).
    SaslPlaintext,
    /// `SSL`: TLS with the testkit's CA; principal `User:ANONYMOUS`, or `User:CN=kquota-client`
    /// with [`ClusterSpec::ssl_client_auth`].
    Ssl,
    /// `SASL_SSL`: the SASL mechanisms over TLS.
    SaslSsl,
}

impl Listener {
    /// All four client listeners.
    pub const ALL: [Listener; 4] = [
        Listener::Plaintext,
        Listener::SaslPlaintext,
        Listener::Ssl,
        Listener::SaslSsl,
    ];

    /// The listener (and security protocol) name: `PLAINTEXT`, `SASL_PLAINTEXT`, `SSL`, `SASL_SSL`.
    ///
    /// ```
    /// assert_eq!(kquota_testkit::Listener::SaslSsl.name(), "SASL_SSL");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Listener::Plaintext => "PLAINTEXT",
            Listener::SaslPlaintext => "SASL_PLAINTEXT",
            Listener::Ssl => "SSL",
            Listener::SaslSsl => "SASL_SSL",
        }
    }

    /// Whether the listener uses TLS.
    ///
    /// ```
    /// assert!(kquota_testkit::Listener::Ssl.is_tls());
    /// ```
    pub fn is_tls(self) -> bool {
        matches!(self, Listener::Ssl | Listener::SaslSsl)
    }

    /// Whether the listener uses SASL.
    ///
    /// ```
    /// assert!(kquota_testkit::Listener::SaslSsl.is_sasl());
    /// ```
    pub fn is_sasl(self) -> bool {
        matches!(self, Listener::SaslPlaintext | Listener::SaslSsl)
    }
}

impl fmt::Display for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What cluster to start. Build with [`ClusterSpec::single`] or [`ClusterSpec::three_brokers`].
///
/// ```
/// use kquota_testkit::ClusterSpec;
/// let spec = ClusterSpec::three_brokers()
///     .broker_config("quota.window.size.seconds", "1")
///     .broker_config("connections.max.reauth.ms", "10000")
///     .anonymous_super_user(false)
///     .ssl_client_auth(true);
/// assert_eq!(spec.broker_count(), 3);
/// ```
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    brokers: usize,
    broker_configs: Vec<(String, String)>,
    anonymous_super_user: bool,
    ssl_client_auth: bool,
    extra_super_users: Vec<String>,
    start_timeout: Duration,
    fixed_ports: Option<u16>,
    heap_mb: u32,
    iam_clock_skew_secs: u64,
    iam_fixed_now_ms: Option<u64>,
}

impl ClusterSpec {
    /// One combined node (`process.roles=broker,controller`, node id 1).
    pub fn single() -> Self {
        ClusterSpec {
            brokers: 1,
            broker_configs: Vec::new(),
            anonymous_super_user: true,
            ssl_client_auth: false,
            extra_super_users: Vec::new(),
            start_timeout: Duration::from_secs(90),
            fixed_ports: None,
            heap_mb: 256,
            iam_clock_skew_secs: 300,
            iam_fixed_now_ms: None,
        }
    }

    /// Three brokers (ids 1, 2, 3) and one controller (id [`CONTROLLER_ID`] = 100).
    pub fn three_brokers() -> Self {
        ClusterSpec {
            brokers: 3,
            ..Self::single()
        }
    }

    /// `n` brokers (ids `1..=n`); `n == 1` gives the combined node, more add controller 100.
    ///
    /// ```
    /// assert_eq!(kquota_testkit::ClusterSpec::brokers(2).broker_count(), 2);
    /// ```
    pub fn brokers(n: usize) -> Self {
        ClusterSpec {
            brokers: n,
            ..Self::single()
        }
    }

    /// Adds a broker config (`server.properties` line) applied to every broker, after the
    /// testkit's own settings, so it can override them.
    ///
    /// ```
    /// let spec = kquota_testkit::ClusterSpec::single().broker_config("quota.window.num", "2");
    /// # let _ = spec;
    /// ```
    pub fn broker_config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.broker_configs.push((key.into(), value.into()));
        self
    }

    /// Whether `User:ANONYMOUS` (PLAINTEXT, and SSL without client certificates) is a super
    /// user. Default `true`, for test convenience; set `false` to make unauthenticated clients
    /// subject to ACLs like everyone else.
    ///
    /// ```
    /// let spec = kquota_testkit::ClusterSpec::single().anonymous_super_user(false);
    /// # let _ = spec;
    /// ```
    pub fn anonymous_super_user(mut self, yes: bool) -> Self {
        self.anonymous_super_user = yes;
        self
    }

    /// Require client certificates on the `SSL` listener (`ssl.client.auth=required`). Clients
    /// use [`KafkaCluster::client_cert_pem_path`] / [`KafkaCluster::client_key_pem_path`]; their
    /// principal is `User:CN=kquota-client`. Default `false`.
    ///
    /// ```
    /// let spec = kquota_testkit::ClusterSpec::single().ssl_client_auth(true);
    /// # let _ = spec;
    /// ```
    pub fn ssl_client_auth(mut self, yes: bool) -> Self {
        self.ssl_client_auth = yes;
        self
    }

    /// Adds a super user principal, e.g. `User:CN=kquota-client` or an IAM ARN principal.
    ///
    /// ```
    /// let spec = kquota_testkit::ClusterSpec::single().super_user("User:CN=kquota-client");
    /// # let _ = spec;
    /// ```
    pub fn super_user(mut self, principal: impl Into<String>) -> Self {
        self.extra_super_users.push(principal.into());
        self
    }

    /// Bound on the start (format + boot + readiness). Default 90 s.
    ///
    /// ```
    /// let spec = kquota_testkit::ClusterSpec::single().start_timeout(std::time::Duration::from_secs(60));
    /// # let _ = spec;
    /// ```
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Use consecutive ports from `first` instead of free ephemeral ones (6 per node: PLAINTEXT,
    /// SASL_PLAINTEXT, SSL, SASL_SSL, the inter-broker listener and the controller listener).
    /// No retry on a clash: a taken port is a [`TestkitError::PortInUse`].
    ///
    /// ```
    /// let spec = kquota_testkit::ClusterSpec::single().fixed_ports(39092);
    /// # let _ = spec;
    /// ```
    pub fn fixed_ports(mut self, first: u16) -> Self {
        self.fixed_ports = Some(first);
        self
    }

    /// Maximum JVM heap of each broker in MiB (default 256; the controller gets half).
    ///
    /// ```
    /// let spec = kquota_testkit::ClusterSpec::single().heap_mb(384);
    /// # let _ = spec;
    /// ```
    pub fn heap_mb(mut self, mb: u32) -> Self {
        self.heap_mb = mb;
        self
    }

    /// Clock skew the MSK IAM validator allows around `X-Amz-Date` and its expiry (default 300 s).
    ///
    /// ```
    /// let spec = kquota_testkit::ClusterSpec::single().iam_clock_skew_secs(0);
    /// # let _ = spec;
    /// ```
    pub fn iam_clock_skew_secs(mut self, secs: u64) -> Self {
        self.iam_clock_skew_secs = secs;
        self
    }

    /// Makes the MSK IAM validator use this fixed "now" (epoch milliseconds) instead of the clock,
    /// e.g. the signing time of a recorded token such as the official signer vectors.
    ///
    /// ```
    /// let spec = kquota_testkit::ClusterSpec::single().iam_fixed_now_ms(1_705_322_096_000);
    /// # let _ = spec;
    /// ```
    pub fn iam_fixed_now_ms(mut self, epoch_ms: u64) -> Self {
        self.iam_fixed_now_ms = Some(epoch_ms);
        self
    }

    /// Number of brokers.
    ///
    /// ```
    /// assert_eq!(kquota_testkit::ClusterSpec::single().broker_count(), 1);
    /// ```
    pub fn broker_count(&self) -> usize {
        self.brokers
    }
}

/// Addresses and log of one broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerInfo {
    /// Broker (node) id: 1, 2, 3.
    pub id: i32,
    /// `PLAINTEXT` listener.
    pub plaintext: SocketAddr,
    /// `SASL_PLAINTEXT` listener.
    pub sasl_plaintext: SocketAddr,
    /// `SSL` listener.
    pub ssl: SocketAddr,
    /// `SASL_SSL` listener.
    pub sasl_ssl: SocketAddr,
    /// The broker's log file (stdout and stderr of its JVM).
    pub log: PathBuf,
}

impl BrokerInfo {
    /// This broker's address on `listener`.
    ///
    /// ```no_run
    /// let cluster = kquota_testkit::shared();
    /// let b = &cluster.brokers()[0];
    /// assert_eq!(b.addr(kquota_testkit::Listener::Ssl), b.ssl);
    /// ```
    pub fn addr(&self, listener: Listener) -> SocketAddr {
        match listener {
            Listener::Plaintext => self.plaintext,
            Listener::SaslPlaintext => self.sasl_plaintext,
            Listener::Ssl => self.ssl,
            Listener::SaslSsl => self.sasl_ssl,
        }
    }
}

/// Everything about a cluster that another process needs to use it (the JSON of
/// [`KafkaCluster::to_json`]).
#[derive(Clone, Serialize, Deserialize)]
struct ClusterInfo {
    format: u32,
    cluster_id: String,
    dir: PathBuf,
    brokers: Vec<BrokerInfo>,
    controller_log: Option<PathBuf>,
    bootstrap: BTreeMap<String, String>,
    credentials: Credentials,
    ca_pem: PathBuf,
    client_cert_pem: PathBuf,
    client_key_pem: PathBuf,
    client_keystore_pem: PathBuf,
    iam_credentials_file: PathBuf,
    java: PathBuf,
    classpath: String,
    tools_log4j: PathBuf,
    anonymous_super_user: bool,
    ssl_client_auth: bool,
    pid: u32,
}

/// Ports of one node.
#[derive(Debug, Clone, Copy)]
struct Ports {
    plaintext: u16,
    sasl_plaintext: u16,
    ssl: u16,
    sasl_ssl: u16,
    internal: u16,
    controller: u16,
}

#[derive(Debug)]
struct Node {
    id: i32,
    broker: bool,
    dir: PathBuf,
    props: PathBuf,
    log: PathBuf,
    heap_mb: u32,
    jvm: Option<Jvm>,
    /// Where this node's JVM writes the class-data archive at exit (first start only).
    cds_dump: Option<PathBuf>,
}

impl Node {
    /// Stops the JVM gracefully; publishes the class-data archive it wrote, if any.
    fn stop(&mut self, timeout: Duration) {
        if let Some(mut j) = self.jvm.take() {
            let code = j.stop(timeout);
            if let Some(tmp) = self.cds_dump.take() {
                publish_cds(&tmp, code);
            }
        }
    }
}

/// Renames a freshly written class-data archive into place (only after a clean JVM exit).
fn publish_cds(tmp: &Path, exit_code: Option<i32>) {
    let complete = exit_code.is_some()
        && fs::metadata(tmp)
            .map(|m| m.len() > (1 << 20))
            .unwrap_or(false);
    // "<hash>.jsa.tmp<pid>" -> "<hash>.jsa"
    let final_path = tmp.with_extension("");
    if complete && !final_path.exists() && fs::rename(tmp, &final_path).is_ok() {
        // Archives of older classpaths (an earlier plugin build) are dead weight (~50 MB each).
        if let Some(dir) = final_path.parent() {
            for e in fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                let stale = p != final_path
                    && e.metadata()
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > Duration::from_secs(3600));
                if stale && p.extension().is_some_and(|x| x == "jsa") {
                    let _ = fs::remove_file(p);
                }
            }
        }
    }
    let _ = fs::remove_file(tmp);
}

/// A running local Apache Kafka (KRaft) cluster: started by [`KafkaCluster::start`] (stopped on
/// drop), or attached from the JSON of `kquota-testkit up` (see [`crate::shared`]).
///
/// ```no_run
/// use kquota_testkit::{ClusterSpec, KafkaCluster, Listener};
/// let cluster = KafkaCluster::start(ClusterSpec::single())?;
/// let bootstrap = cluster.bootstrap(Listener::SaslPlaintext); // "127.0.0.1:41234"
/// let admin = &cluster.credentials().admin;                   // admin / admin-secret
/// # let _ = (bootstrap, admin);
/// # Ok::<(), kquota_testkit::TestkitError>(())
/// ```
pub struct KafkaCluster {
    info: ClusterInfo,
    nodes: Mutex<Vec<Node>>,
    iam: Mutex<Vec<IamIdentity>>,
    owned: bool,
    /// Shared clusters keep their logs when the process exits.
    pub(crate) keep_logs: bool,
    /// Held while this cluster's first node records the class-data archive.
    _cds_lock: Option<fetch::FileLock>,
}

impl fmt::Debug for KafkaCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaCluster")
            .field("cluster_id", &self.info.cluster_id)
            .field("dir", &self.info.dir)
            .field("brokers", &self.info.brokers)
            .field("owned", &self.owned)
            .finish()
    }
}

static CLUSTER_SEQ: AtomicU32 = AtomicU32::new(0);

fn io_ctx<T>(r: std::io::Result<T>, ctx: impl FnOnce() -> String) -> Result<T> {
    r.map_err(|e| TestkitError::io(ctx(), e))
}

impl KafkaCluster {
    /// Fetches Kafka if needed, generates certificates and configs, formats storage, starts the
    /// nodes and waits until every broker answers ApiVersions on its PLAINTEXT listener (and, with
    /// several brokers, until each one's metadata lists all of them).
    ///
    /// Errors name the cause and the node's log, which is then kept on disk.
    ///
    /// ```no_run
    /// use kquota_testkit::{ClusterSpec, KafkaCluster};
    /// let cluster = KafkaCluster::start(ClusterSpec::three_brokers().broker_config("quota.window.num", "2"))?;
    /// assert_eq!(cluster.brokers().len(), 3);
    /// # Ok::<(), kquota_testkit::TestkitError>(())
    /// ```
    pub fn start(spec: ClusterSpec) -> Result<KafkaCluster> {
        if spec.brokers == 0 || spec.brokers > 9 {
            return Err(TestkitError::Invalid(format!(
                "broker count must be 1..=9, not {}",
                spec.brokers
            )));
        }
        for (k, _) in &spec.broker_configs {
            if k.trim().is_empty() || k.contains(['=', '\n']) {
                return Err(TestkitError::Invalid(format!(
                    "bad broker config key {k:?}"
                )));
            }
        }
        let started = Instant::now();
        let java = fetch::find_tool("java")?;
        let home = fetch::kafka_home()?;
        let classpath = fetch::classpath()?;
        let base = match std::env::var_os("KQUOTA_TESTKIT_TMP") {
            Some(p) => PathBuf::from(p),
            None => std::env::temp_dir(),
        };
        prune_stale_dirs(&base);
        let dir = base.join(format!(
            "kquota-testkit-{}-{}-{:08x}",
            std::process::id(),
            CLUSTER_SEQ.fetch_add(1, Ordering::SeqCst),
            rand::random::<u32>()
        ));
        io_ctx(fs::create_dir_all(&dir), || {
            format!("creating {}", dir.display())
        })?;
        let tls = certs::generate(&dir.join("tls"))?;
        let creds = Credentials::default_test_set();
        let iam_file = dir.join("iam-credentials.json");
        credentials::write_iam_file(&iam_file, &creds.iam)?;
        let cluster_id = random_cluster_id();

        // The first cluster started with this classpath records which classes Kafka loads, so
        // later JVMs start faster (one process at a time does it).
        let cds_archive = fetch::cds_archive(&java, &classpath);
        let cds_lock = if cds_archive.exists() {
            None
        } else {
            let _ = fs::create_dir_all(cds_archive.parent().unwrap_or(Path::new(".")));
            fetch::try_lock(&cds_archive.with_extension("lock"))
        };
        let internal_password = {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 18]>())
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let ctx = StartCtx {
                spec: &spec,
                java: &java,
                classpath: &classpath,
                tools_log4j: home.join("log4j2-tools.properties"),
                broker_log4j: home.join("log4j2-broker.properties"),
                dir: &dir,
                tls: &tls,
                iam_file: &iam_file,
                creds: &creds,
                cluster_id: &cluster_id,
                internal_password: &internal_password,
                cds_dump: cds_lock.as_ref().map(|_| {
                    PathBuf::from(format!(
                        "{}.tmp{}",
                        cds_archive.display(),
                        std::process::id()
                    ))
                }),
            };
            match ctx.try_start() {
                Ok((nodes, brokers)) => {
                    let bootstrap = Listener::ALL
                        .iter()
                        .map(|l| {
                            let list: Vec<String> =
                                brokers.iter().map(|b| b.addr(*l).to_string()).collect();
                            (l.name().to_string(), list.join(","))
                        })
                        .collect();
                    let controller_log = nodes.iter().find(|n| !n.broker).map(|n| n.log.clone());
                    let cluster = KafkaCluster {
                        info: ClusterInfo {
                            format: 1,
                            cluster_id: cluster_id.clone(),
                            dir: dir.clone(),
                            brokers,
                            controller_log,
                            bootstrap,
                            credentials: creds.clone(),
                            ca_pem: tls.ca_pem.clone(),
                            client_cert_pem: tls.client_cert_pem.clone(),
                            client_key_pem: tls.client_key_pem.clone(),
                            client_keystore_pem: tls.client_keystore_pem.clone(),
                            iam_credentials_file: iam_file.clone(),
                            java: java.clone(),
                            classpath: classpath.clone(),
                            tools_log4j: home.join("log4j2-tools.properties"),
                            anonymous_super_user: spec.anonymous_super_user,
                            ssl_client_auth: spec.ssl_client_auth,
                            pid: std::process::id(),
                        },
                        nodes: Mutex::new(nodes),
                        iam: Mutex::new(creds.iam.clone()),
                        owned: true,
                        keep_logs: false,
                        _cds_lock: cds_lock,
                    };
                    eprintln!(
                        "kquota-testkit: {} broker(s) ready in {:.1} s; PLAINTEXT {}; logs under {}",
                        spec.brokers,
                        started.elapsed().as_secs_f64(),
                        cluster.bootstrap(Listener::Plaintext),
                        dir.display()
                    );
                    return Ok(cluster);
                }
                Err(TestkitError::PortInUse { .. })
                    if spec.fixed_ports.is_none() && attempt < 4 =>
                {
                    // Another process took one of our free ports between probe and bind: retry
                    // with new ports and fresh node directories.
                    for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
                        if entry.file_name().to_string_lossy().starts_with("node-") {
                            let _ = fs::remove_dir_all(entry.path());
                        }
                    }
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Attaches to a cluster another process started and described with [`KafkaCluster::to_json`]
    /// (e.g. `kquota-testkit up --json FILE`). The cluster is not stopped when this value drops.
    ///
    /// ```no_run
    /// let cluster = kquota_testkit::KafkaCluster::attach("/tmp/kquota-cluster.json")?;
    /// println!("{}", cluster.bootstrap(kquota_testkit::Listener::Plaintext));
    /// # Ok::<(), kquota_testkit::TestkitError>(())
    /// ```
    pub fn attach(path: impl AsRef<Path>) -> Result<KafkaCluster> {
        let path = path.as_ref();
        let attach_err = |reason: String| TestkitError::Attach {
            path: path.to_path_buf(),
            reason,
        };
        let text =
            fs::read_to_string(path).map_err(|e| attach_err(format!("cannot read it: {e}")))?;
        let info: ClusterInfo = serde_json::from_str(&text)
            .map_err(|e| attach_err(format!("not a testkit cluster JSON: {e}")))?;
        if info.format != 1 {
            return Err(attach_err(format!("unsupported format {}", info.format)));
        }
        let b = info
            .brokers
            .first()
            .ok_or_else(|| attach_err("it lists no brokers".into()))?;
        probe::api_versions(b.plaintext, Duration::from_secs(5))
            .map_err(|e| attach_err(format!("broker {} does not answer: {e}", b.id)))?;
        // Identities registered by other processes live in the credentials file.
        let iam = credentials::read_iam_file(&info.iam_credentials_file)
            .unwrap_or_else(|_| info.credentials.iam.clone());
        Ok(KafkaCluster {
            info,
            nodes: Mutex::new(Vec::new()),
            iam: Mutex::new(iam),
            owned: false,
            keep_logs: true,
            _cds_lock: None,
        })
    }

    /// Comma-separated `127.0.0.1:port` of every broker's `listener`.
    ///
    /// ```no_run
    /// let cluster = kquota_testkit::shared();
    /// let b = cluster.bootstrap(kquota_testkit::Listener::Plaintext);
    /// assert!(b.starts_with("127.0.0.1:"));
    /// ```
    pub fn bootstrap(&self, listener: Listener) -> String {
        self.info
            .brokers
            .iter()
            .map(|b| b.addr(listener).to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The brokers: ids, per-listener addresses, log files.
    ///
    /// ```no_run
    /// for b in kquota_testkit::shared_three().brokers() {
    ///     println!("broker {} PLAINTEXT {} log {}", b.id, b.plaintext, b.log.display());
    /// }
    /// ```
    pub fn brokers(&self) -> &[BrokerInfo] {
        &self.info.brokers
    }

    /// One broker by id.
    ///
    /// ```no_run
    /// assert_eq!(kquota_testkit::shared().broker(1).unwrap().id, 1);
    /// ```
    pub fn broker(&self, id: i32) -> Option<&BrokerInfo> {
        self.info.brokers.iter().find(|b| b.id == id)
    }

    /// The KRaft cluster id.
    ///
    /// ```no_run
    /// assert_eq!(kquota_testkit::shared().cluster_id().len(), 22);
    /// ```
    pub fn cluster_id(&self) -> &str {
        &self.info.cluster_id
    }

    /// The cluster's working directory (configs, data, logs, TLS files).
    ///
    /// ```no_run
    /// assert!(kquota_testkit::shared().dir().join("tls/ca.pem").exists());
    /// ```
    pub fn dir(&self) -> &Path {
        &self.info.dir
    }

    /// The controller's log (multi-broker clusters; `None` for the combined node).
    ///
    /// ```no_run
    /// assert!(kquota_testkit::shared_three().controller_log().is_some());
    /// ```
    pub fn controller_log(&self) -> Option<&Path> {
        self.info.controller_log.as_deref()
    }

    /// The accepted credentials, including IAM identities added with
    /// [`KafkaCluster::register_iam_credentials`].
    ///
    /// ```no_run
    /// let creds = kquota_testkit::shared().credentials();
    /// assert_eq!(creds.admin.password, "admin-secret");
    /// ```
    pub fn credentials(&self) -> Credentials {
        let mut c = self.info.credentials.clone();
        c.iam = lock(&self.iam).clone();
        c
    }

    /// The CA certificate (PEM) that signed the brokers' certificates (SAN `127.0.0.1`, `localhost`).
    ///
    /// ```no_run
    /// let ca = std::fs::read_to_string(kquota_testkit::shared().ca_pem_path()).unwrap();
    /// assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
    /// ```
    pub fn ca_pem_path(&self) -> &Path {
        &self.info.ca_pem
    }

    /// The client certificate chain (PEM, `CN=kquota-client`, then the CA).
    ///
    /// ```no_run
    /// let pem = std::fs::read_to_string(kquota_testkit::shared().client_cert_pem_path()).unwrap();
    /// assert!(pem.contains("BEGIN CERTIFICATE"));
    /// ```
    pub fn client_cert_pem_path(&self) -> &Path {
        &self.info.client_cert_pem
    }

    /// The client's private key (PEM, PKCS#8).
    ///
    /// ```no_run
    /// let pem = std::fs::read_to_string(kquota_testkit::shared().client_key_pem_path()).unwrap();
    /// assert!(pem.contains("BEGIN PRIVATE KEY"));
    /// ```
    pub fn client_key_pem_path(&self) -> &Path {
        &self.info.client_key_pem
    }

    /// The validator's IAM credentials file (JSON).
    ///
    /// ```no_run
    /// assert!(kquota_testkit::shared().iam_credentials_path().exists());
    /// ```
    pub fn iam_credentials_path(&self) -> &Path {
        &self.info.iam_credentials_file
    }

    /// Whether `User:ANONYMOUS` is a super user in this cluster.
    ///
    /// ```no_run
    /// assert!(kquota_testkit::shared().anonymous_is_super_user());
    /// ```
    pub fn anonymous_is_super_user(&self) -> bool {
        self.info.anonymous_super_user
    }

    /// Adds an IAM identity the OAUTHBEARER validator accepts from now on (the brokers re-read
    /// the credentials file when it changes), e.g. credentials minted by moto's AssumeRole.
    ///
    /// ```no_run
    /// let cluster = kquota_testkit::shared();
    /// let id = cluster.register_iam_credentials(
    ///     "ASIAMOTO000000000001", "moto-secret", Some("moto-session-token"),
    ///     "arn:aws:sts::123456789012:assumed-role/Topic-B-Write-Role/app-session")?;
    /// assert_eq!(id.name, "ASIAMOTO000000000001");
    /// # Ok::<(), kquota_testkit::TestkitError>(())
    /// ```
    pub fn register_iam_credentials(
        &self,
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<&str>,
        principal_arn: &str,
    ) -> Result<IamIdentity> {
        if access_key_id.is_empty() || access_key_id.contains('/') {
            return Err(TestkitError::Invalid(format!(
                "access key id {access_key_id:?} must be non-empty without '/'"
            )));
        }
        if secret_access_key.is_empty() || principal_arn.is_empty() {
            return Err(TestkitError::Invalid(
                "secret access key and principal ARN must be non-empty".into(),
            ));
        }
        let id = IamIdentity {
            name: access_key_id.to_string(),
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_access_key.to_string(),
            session_token: session_token.filter(|t| !t.is_empty()).map(str::to_string),
            principal_arn: principal_arn.to_string(),
        };
        credentials::add_iam_identity(&self.info.iam_credentials_file, &id)?;
        let mut iam = lock(&self.iam);
        iam.retain(|i| i.access_key_id != id.access_key_id);
        iam.push(id.clone());
        Ok(id)
    }

    /// A `java` command with Kafka's classpath, small heap and quiet logging, ready for a main
    /// class and its arguments — for cross-checks with Kafka's own tools.
    ///
    /// ```no_run
    /// use kquota_testkit::Listener;
    /// let cluster = kquota_testkit::shared();
    /// let out = cluster
    ///     .kafka_tool("kafka.admin.ConfigCommand")
    ///     .args(["--bootstrap-server", &cluster.bootstrap(Listener::SaslPlaintext)])
    ///     .arg("--command-config").arg(cluster.admin_properties(Listener::SaslPlaintext)?)
    ///     .args(["--describe", "--entity-type", "users"])
    ///     .output()
    ///     .unwrap();
    /// assert!(out.status.success());
    /// # Ok::<(), kquota_testkit::TestkitError>(())
    /// ```
    pub fn kafka_tool(&self, main_class: &str) -> Command {
        java_command(
            &self.info.java,
            &self.info.classpath,
            &self.info.tools_log4j,
            256,
            main_class,
        )
    }

    /// Writes (once per listener) a client `.properties` file for Kafka's tools that connects to
    /// `listener` as the super user: SASL/PLAIN `admin` on SASL listeners, the testkit CA (and the
    /// client certificate) on TLS listeners, `User:ANONYMOUS` on PLAINTEXT (a super user unless
    /// the spec turned that off).
    ///
    /// ```no_run
    /// let p = kquota_testkit::shared().admin_properties(kquota_testkit::Listener::SaslSsl)?;
    /// assert!(std::fs::read_to_string(p).unwrap().contains("security.protocol=SASL_SSL"));
    /// # Ok::<(), kquota_testkit::TestkitError>(())
    /// ```
    pub fn admin_properties(&self, listener: Listener) -> Result<PathBuf> {
        let mut text = format!(
            "bootstrap.servers={}\nsecurity.protocol={}\n",
            self.bootstrap(listener),
            listener.name()
        );
        if listener.is_sasl() {
            let a = &self.info.credentials.admin;
            text.push_str(&format!(
                "sasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"{}\" password=\"{}\";\n",
                a.user, a.password
            ));
        }
        if listener.is_tls() {
            text.push_str(&format!(
                "ssl.truststore.type=PEM\nssl.truststore.location={}\n",
                self.info.ca_pem.display()
            ));
            if listener == Listener::Ssl && self.info.ssl_client_auth {
                text.push_str(&format!(
                    "ssl.keystore.type=PEM\nssl.keystore.location={}\n",
                    self.info.client_keystore_pem.display()
                ));
            }
        }
        let path = self.info.dir.join(format!(
            "admin-{}.properties",
            listener.name().to_lowercase()
        ));
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        io_ctx(fs::write(&tmp, text), || {
            format!("writing {}", tmp.display())
        })?;
        io_ctx(fs::rename(&tmp, &path), || {
            format!("writing {}", path.display())
        })?;
        Ok(path)
    }

    /// The cluster as JSON: bootstrap strings, brokers, credentials (test secrets included), TLS
    /// and IAM file paths. [`KafkaCluster::attach`] reads it back.
    ///
    /// ```no_run
    /// let json = kquota_testkit::shared().to_json();
    /// let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    /// assert!(v["bootstrap"]["PLAINTEXT"].as_str().unwrap().starts_with("127.0.0.1:"));
    /// ```
    pub fn to_json(&self) -> String {
        let mut info = self.info.clone();
        info.credentials = self.credentials();
        serde_json::to_string_pretty(&info).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// Stops broker `id` (SIGTERM, SIGKILL after 5 s) and waits for it to exit. Its ports and
    /// data are kept for [`KafkaCluster::start_broker`].
    ///
    /// ```no_run
    /// use kquota_testkit::{ClusterSpec, KafkaCluster};
    /// let cluster = KafkaCluster::start(ClusterSpec::three_brokers())?;
    /// cluster.stop_broker(2)?;
    /// cluster.start_broker(2)?;
    /// # Ok::<(), kquota_testkit::TestkitError>(())
    /// ```
    pub fn stop_broker(&self, id: i32) -> Result<()> {
        if !self.owned {
            return Err(TestkitError::NotOwned("stop_broker"));
        }
        let mut nodes = lock(&self.nodes);
        let node = nodes
            .iter_mut()
            .find(|n| n.id == id && n.broker)
            .ok_or_else(|| TestkitError::Invalid(format!("no broker with id {id}")))?;
        node.stop(Duration::from_secs(15));
        Ok(())
    }

    /// Starts broker `id` again (same ports, config and data) and waits until it answers.
    /// Does nothing if it is running.
    ///
    /// ```no_run
    /// # let cluster = kquota_testkit::KafkaCluster::start(kquota_testkit::ClusterSpec::single())?;
    /// cluster.stop_broker(1)?;
    /// cluster.start_broker(1)?;
    /// # Ok::<(), kquota_testkit::TestkitError>(())
    /// ```
    pub fn start_broker(&self, id: i32) -> Result<()> {
        if !self.owned {
            return Err(TestkitError::NotOwned("start_broker"));
        }
        let mut nodes = lock(&self.nodes);
        let node = nodes
            .iter_mut()
            .find(|n| n.id == id && n.broker)
            .ok_or_else(|| TestkitError::Invalid(format!("no broker with id {id}")))?;
        if let Some(jvm) = node.jvm.as_mut() {
            if jvm.exited().is_none() {
                return Ok(());
            }
        }
        node.jvm = Some(launch(
            &self.info.java,
            &self.info.classpath,
            &self
                .info
                .tools_log4j
                .with_file_name("log4j2-broker.properties"),
            node,
        )?);
        let info = self
            .broker(id)
            .ok_or_else(|| TestkitError::Invalid(format!("no broker with id {id}")))?
            .clone();
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(status) = node.jvm.as_mut().and_then(|j| j.exited()) {
                return Err(node_failure(node.id, "start", &node.log, &status));
            }
            match probe::api_versions(info.plaintext, Duration::from_secs(2)) {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() >= deadline => {
                    return Err(TestkitError::StartTimeout {
                        node: id,
                        secs: 90,
                        cause: e,
                        log: node.log.clone(),
                    })
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// Kills every node at once (SIGKILL) — used at process exit for shared clusters. A node
    /// that is recording the class-data archive is given a few seconds to stop cleanly first.
    pub(crate) fn kill_all(&self) {
        if let Ok(mut nodes) = self.nodes.try_lock() {
            if let Some(n) = nodes
                .iter_mut()
                .find(|n| n.cds_dump.is_some() && n.jvm.is_some())
            {
                n.stop(Duration::from_secs(10));
            }
            for n in nodes.iter_mut() {
                if let Some(mut j) = n.jvm.take() {
                    j.kill_now();
                }
            }
        }
    }

    fn stop_all(&self) {
        let mut nodes = lock(&self.nodes);
        // Brokers first (all at once), then the controller, so controlled shutdown can finish.
        for n in nodes.iter_mut().filter(|n| n.broker) {
            if let Some(j) = n.jvm.as_mut() {
                j.begin_stop();
            }
        }
        for n in nodes.iter_mut().filter(|n| n.broker) {
            n.stop(Duration::from_secs(8));
        }
        for n in nodes.iter_mut() {
            n.stop(Duration::from_secs(8));
        }
    }

    /// Removes data directories; logs and configs stay.
    pub(crate) fn remove_data(&self) {
        for n in lock(&self.nodes).iter() {
            let _ = fs::remove_dir_all(n.dir.join("data"));
        }
    }
}

impl Drop for KafkaCluster {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        self.stop_all();
        let keep = std::thread::panicking()
            || self.keep_logs
            || std::env::var_os("KQUOTA_TESTKIT_KEEP").is_some();
        if keep {
            self.remove_data();
            eprintln!(
                "kquota-testkit: cluster stopped; logs kept under {}",
                self.info.dir.display()
            );
            for b in &self.info.brokers {
                eprintln!("kquota-testkit:   broker {} log {}", b.id, b.log.display());
            }
        } else {
            let _ = fs::remove_dir_all(&self.info.dir);
        }
    }
}

/// Removes cluster directories (`kquota-testkit-<pid>-<n>-<hex>`) of processes that are gone,
/// once they are an hour old: the kept logs of failed runs stay available for a while.
fn prune_stale_dirs(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(rest) = name.strip_prefix("kquota-testkit-") else {
            continue;
        };
        let parts: Vec<&str> = rest.split('-').collect();
        let [pid, seq, tag] = parts[..] else {
            continue;
        };
        if pid.parse::<u32>().is_err() || seq.parse::<u32>().is_err() || tag.len() != 8 {
            continue;
        }
        if Path::new("/proc").join(pid).exists() {
            continue;
        }
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        if old && e.path().is_dir() {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A random cluster id in Kafka's form (16 bytes, base64url without padding) that does not start
/// with `-`: kafka-storage's argument parser would take such an id for an option (1 start in 64
/// failed with "argument --cluster-id/-t: expected one argument"). Kafka's own
/// `Uuid.randomUuid()` draws again in that case too.
fn random_cluster_id() -> String {
    use base64::Engine;
    loop {
        let id =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
        if !id.starts_with('-') {
            return id;
        }
    }
}

pub(crate) fn java_command(
    java: &Path,
    classpath: &str,
    log4j: &Path,
    heap_mb: u32,
    main: &str,
) -> Command {
    let mut cmd = Command::new(java);
    cmd.arg(format!("-Xmx{heap_mb}m"))
        .arg("-Xms32m")
        .args(JVM_FAST)
        // JVM warnings (e.g. a stale class-data archive) must not mix with the tool's stdout.
        .args(["-Xlog:disable", "-Xlog:all=warning:stderr"]);
    let archive = fetch::cds_archive(java, classpath);
    if archive.exists() {
        cmd.arg(format!("-XX:SharedArchiveFile={}", archive.display()));
    }
    cmd.arg(format!("-Dlog4j2.configurationFile={}", log4j.display()))
        .arg("-cp")
        .arg(classpath)
        .arg(main);
    cmd
}

fn launch(java: &Path, classpath: &str, log4j: &Path, node: &Node) -> Result<Jvm> {
    let mut args: Vec<OsString> = vec![format!("-Xmx{}m", node.heap_mb).into(), "-Xms64m".into()];
    args.extend(JVM_FAST.iter().map(OsString::from));
    match &node.cds_dump {
        Some(tmp) => args.push(format!("-XX:ArchiveClassesAtExit={}", tmp.display()).into()),
        None => {
            let archive = fetch::cds_archive(java, classpath);
            if archive.exists() {
                args.push(format!("-XX:SharedArchiveFile={}", archive.display()).into());
            }
        }
    }
    args.push(format!("-Dlog4j2.configurationFile={}", log4j.display()).into());
    args.push("-cp".into());
    args.push(classpath.into());
    args.push("kafka.Kafka".into());
    args.push(node.props.clone().into());
    Jvm::spawn(java, &args, &node.log, &node.dir)
}

/// Reads the first meaningful error from a node's log.
fn node_failure(node: i32, stage: &'static str, log: &Path, status: &str) -> TestkitError {
    let text = fs::read_to_string(log).unwrap_or_default();
    if let Some(port) = bind_failure_port(&text) {
        return TestkitError::PortInUse {
            node,
            port,
            log: log.to_path_buf(),
        };
    }
    let cause = log_cause(&text).unwrap_or_else(|| format!("the JVM exited ({status})"));
    TestkitError::NodeFailed {
        node,
        stage,
        cause,
        log: log.to_path_buf(),
    }
}

fn bind_failure_port(text: &str) -> Option<u16> {
    for line in text.lines() {
        if line.contains("Address already in use") {
            // "... failed to bind to 127.0.0.1:PORT: Address already in use"
            if let Some(i) = line.find("127.0.0.1:") {
                let digits: String = line[i + 10..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Ok(p) = digits.parse() {
                    return Some(p);
                }
            }
            return Some(0);
        }
    }
    None
}

/// The most telling line: an exception message (`...Exception: text`) after an ERROR line, else
/// the ERROR line itself.
fn log_cause(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut error_line = None;
    for (i, line) in lines.iter().enumerate() {
        let is_error = line.contains("] ERROR ")
            || line.starts_with("ERROR ")
            || line.starts_with("Exception in thread");
        if is_error && error_line.is_none() {
            error_line = Some(i);
        }
        if error_line.is_some() {
            let t = line.trim();
            if let Some(pos) = t.find("Exception: ").or_else(|| t.find("Error: ")) {
                let head = &t[..pos];
                if !head.contains(' ')
                    || head.starts_with("Caused by")
                    || i > error_line.unwrap_or(0)
                {
                    return Some(clip(t));
                }
            }
        }
    }
    if let Some(i) = error_line {
        return Some(clip(lines[i].trim()));
    }
    // Tools print their error without log4j formatting.
    lines
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| clip(l.trim()))
}

fn clip(s: &str) -> String {
    let s = s.strip_prefix("Exception in thread \"main\" ").unwrap_or(s);
    if s.chars().count() > 400 {
        let mut t: String = s.chars().take(400).collect();
        t.push_str("...");
        t
    } else {
        s.to_string()
    }
}

struct StartCtx<'a> {
    spec: &'a ClusterSpec,
    java: &'a Path,
    classpath: &'a str,
    tools_log4j: PathBuf,
    broker_log4j: PathBuf,
    dir: &'a Path,
    tls: &'a certs::TlsFiles,
    iam_file: &'a Path,
    creds: &'a Credentials,
    cluster_id: &'a str,
    cds_dump: Option<PathBuf>,
    /// Password of `User:broker` on the internal listeners (random per cluster, never exposed).
    internal_password: &'a str,
}

impl StartCtx<'_> {
    fn allocate_ports(&self, count: usize) -> Result<Vec<u16>> {
        if let Some(first) = self.spec.fixed_ports {
            let last = first as usize + count - 1;
            if last > u16::MAX as usize {
                return Err(TestkitError::Invalid(format!(
                    "fixed ports from {first} overflow"
                )));
            }
            return Ok((0..count).map(|i| first + i as u16).collect());
        }
        // Hold every probe socket until all are chosen, so the ports are distinct.
        let mut held = Vec::with_capacity(count);
        for _ in 0..count {
            let l = io_ctx(TcpListener::bind("127.0.0.1:0"), || {
                "finding a free port".into()
            })?;
            held.push(l);
        }
        held.iter()
            .map(|l| io_ctx(l.local_addr(), || "finding a free port".into()).map(|a| a.port()))
            .collect()
    }

    fn try_start(&self) -> Result<(Vec<Node>, Vec<BrokerInfo>)> {
        let n = self.spec.brokers;
        let combined = n == 1;
        let node_count = if combined { 1 } else { n + 1 };
        let ports = self.allocate_ports(node_count * 6)?;
        let ports: Vec<Ports> = ports
            .chunks(6)
            .map(|c| Ports {
                plaintext: c[0],
                sasl_plaintext: c[1],
                ssl: c[2],
                sasl_ssl: c[3],
                internal: c[4],
                controller: c[5],
            })
            .collect();
        let mut nodes = Vec::with_capacity(node_count);
        let voters = if combined {
            format!("1@127.0.0.1:{}", ports[0].controller)
        } else {
            format!("{CONTROLLER_ID}@127.0.0.1:{}", ports[n].controller)
        };
        for (i, p) in ports.iter().enumerate() {
            let (id, broker, controller) = if combined {
                (1, true, true)
            } else if i < n {
                (i as i32 + 1, true, false)
            } else {
                (CONTROLLER_ID, false, true)
            };
            let dir = self.dir.join(format!("node-{id}"));
            io_ctx(fs::create_dir_all(&dir), || {
                format!("creating {}", dir.display())
            })?;
            let props = dir.join("server.properties");
            let text = self.server_properties(id, broker, controller, p, &voters, &dir);
            io_ctx(fs::write(&props, text), || {
                format!("writing {}", props.display())
            })?;
            let log = dir.join(if broker {
                "broker.log"
            } else {
                "controller.log"
            });
            nodes.push(Node {
                id,
                broker,
                dir,
                props,
                log,
                cds_dump: if i == 0 { self.cds_dump.clone() } else { None },
                heap_mb: if broker {
                    self.spec.heap_mb
                } else {
                    (self.spec.heap_mb / 2).max(128)
                },
                jvm: None,
            });
        }
        self.format_all(&nodes)?;
        for node in nodes.iter_mut() {
            node.jvm = Some(launch(self.java, self.classpath, &self.broker_log4j, node)?);
        }
        let brokers: Vec<BrokerInfo> = nodes
            .iter()
            .zip(ports.iter())
            .filter(|(node, _)| node.broker)
            .map(|(node, p)| {
                let a = |port| SocketAddr::from(([127, 0, 0, 1], port));
                BrokerInfo {
                    id: node.id,
                    plaintext: a(p.plaintext),
                    sasl_plaintext: a(p.sasl_plaintext),
                    ssl: a(p.ssl),
                    sasl_ssl: a(p.sasl_ssl),
                    log: node.log.clone(),
                }
            })
            .collect();
        match self.wait_ready(&mut nodes, &brokers) {
            Ok(()) => Ok((nodes, brokers)),
            Err(e) => {
                for node in nodes.iter_mut() {
                    if let Some(mut j) = node.jvm.take() {
                        j.kill_now();
                    }
                }
                Err(e)
            }
        }
    }

    fn wait_ready(&self, nodes: &mut [Node], brokers: &[BrokerInfo]) -> Result<()> {
        let timeout = self.spec.start_timeout;
        let deadline = Instant::now() + timeout;
        let mut ready = vec![false; brokers.len()];
        let mut last_err = String::from("no answer yet");
        let expected: Vec<i32> = brokers.iter().map(|b| b.id).collect();
        loop {
            for node in nodes.iter_mut() {
                if let Some(status) = node.jvm.as_mut().and_then(|j| j.exited()) {
                    return Err(node_failure(node.id, "start", &node.log, &status));
                }
            }
            for (i, b) in brokers.iter().enumerate() {
                if !ready[i] {
                    match probe::api_versions(b.plaintext, Duration::from_secs(2)) {
                        Ok(_) => ready[i] = true,
                        Err(e) => last_err = e,
                    }
                }
            }
            if ready.iter().all(|r| *r) {
                if brokers.len() == 1 {
                    return Ok(());
                }
                let mut all = true;
                for b in brokers {
                    match probe::broker_ids(b.plaintext, Duration::from_secs(2)) {
                        Ok(ids) if ids == expected => {}
                        Ok(ids) => {
                            all = false;
                            last_err = format!(
                                "broker {} sees brokers {ids:?}, expected {expected:?}",
                                b.id
                            );
                        }
                        Err(e) => {
                            all = false;
                            last_err = e;
                        }
                    }
                }
                if all {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                let idx = ready.iter().position(|r| !r).unwrap_or(0);
                return Err(TestkitError::StartTimeout {
                    node: brokers[idx].id,
                    secs: timeout.as_secs(),
                    cause: last_err,
                    log: brokers[idx].log.clone(),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `kafka-storage format` for every node, all in one short JVM (the plugin's
    /// `dev.kquota.testkit.FormatStorage` calls Kafka's `StorageTool.execute` per node, writing
    /// each node's output to its own log).
    fn format_all(&self, nodes: &[Node]) -> Result<()> {
        let mut scram = Vec::new();
        for u in &self.creds.scram_users {
            for mech in ["SCRAM-SHA-256", "SCRAM-SHA-512"] {
                scram.push("--add-scram".to_string());
                scram.push(format!("{mech}=[name={},password={}]", u.user, u.password));
            }
        }
        let mut jobs = String::new();
        for node in nodes {
            let mut fields = vec![
                node.log.display().to_string(),
                "format".into(),
                "-t".into(),
                self.cluster_id.to_string(),
                "-c".into(),
                node.props.display().to_string(),
            ];
            fields.extend(scram.iter().cloned());
            jobs.push_str(&fields.join("\t"));
            jobs.push('\n');
        }
        let jobs_file = self.dir.join("format-jobs.tsv");
        io_ctx(fs::write(&jobs_file, jobs), || {
            format!("writing {}", jobs_file.display())
        })?;
        let tool_log = self.dir.join("format.log");
        let out = io_ctx(fs::File::create(&tool_log), || {
            format!("creating {}", tool_log.display())
        })?;
        let mut cmd = java_command(
            self.java,
            self.classpath,
            &self.tools_log4j,
            128,
            "dev.kquota.testkit.FormatStorage",
        );
        cmd.arg(&jobs_file)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(out);
        let first = &nodes[0];
        let mut child = io_ctx(cmd.spawn(), || "running the storage formatter".into())?;
        let mut stdout = child.stdout.take();
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(s) = stdout.as_mut() {
                let _ = std::io::Read::read_to_string(s, &mut text);
            }
            text
        });
        let deadline = Instant::now() + Duration::from_secs(90);
        let status = loop {
            match child.try_wait() {
                Ok(Some(st)) => break st,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(TestkitError::NodeFailed {
                        node: first.id,
                        stage: "format storage",
                        cause: "the storage formatter did not finish in 90 s".into(),
                        log: tool_log,
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => return Err(TestkitError::io("waiting for the storage formatter", e)),
            }
        };
        let report = reader.join().unwrap_or_default();
        if status.success() {
            return Ok(());
        }
        let failed = report
            .lines()
            .find_map(|l| l.strip_prefix("FAILED ")?.trim().parse::<usize>().ok());
        match failed.and_then(|i| nodes.get(i)) {
            Some(node) => Err(node_failure(
                node.id,
                "format storage",
                &node.log,
                &status.to_string(),
            )),
            None => Err(node_failure(
                first.id,
                "format storage",
                &tool_log,
                &status.to_string(),
            )),
        }
    }

    fn server_properties(
        &self,
        id: i32,
        broker: bool,
        controller: bool,
        p: &Ports,
        voters: &str,
        dir: &Path,
    ) -> String {
        let spec = self.spec;
        let n = spec.brokers;
        let mut c: Vec<(String, String)> = Vec::new();
        let mut set = |k: &str, v: String| c.push((k.to_string(), v));
        let roles = match (broker, controller) {
            (true, true) => "broker,controller",
            (true, false) => "broker",
            _ => "controller",
        };
        set("process.roles", roles.into());
        set("node.id", id.to_string());
        set("controller.quorum.voters", voters.into());
        set("controller.listener.names", "CONTROLLER".into());
        let mut listeners = Vec::new();
        let mut advertised = Vec::new();
        if broker {
            for (name, port) in [
                ("PLAINTEXT", p.plaintext),
                ("SASL_PLAINTEXT", p.sasl_plaintext),
                ("SSL", p.ssl),
                ("SASL_SSL", p.sasl_ssl),
                ("INTERNAL", p.internal),
            ] {
                listeners.push(format!("{name}://127.0.0.1:{port}"));
                advertised.push(format!("{name}://127.0.0.1:{port}"));
            }
        }
        if controller {
            listeners.push(format!("CONTROLLER://127.0.0.1:{}", p.controller));
        }
        set("listeners", listeners.join(","));
        if broker {
            set("advertised.listeners", advertised.join(","));
            set("inter.broker.listener.name", "INTERNAL".into());
            set("sasl.mechanism.inter.broker.protocol", "PLAIN".into());
        }
        set(
            "listener.security.protocol.map",
            "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,INTERNAL:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT".into(),
        );
        set("sasl.mechanism.controller.protocol", "PLAIN".into());
        // Inter-broker and controller traffic authenticate as User:broker (a super user) with
        // SASL/PLAIN on listeners of their own, so the client listeners' principals stay meaningful.
        let broker_pw = self.internal_password;
        let internal_jaas = format!(
            "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"broker\" password=\"{broker_pw}\" user_broker=\"{broker_pw}\";"
        );
        for l in ["internal", "controller"] {
            set(
                &format!("listener.name.{l}.sasl.enabled.mechanisms"),
                "PLAIN".into(),
            );
            set(
                &format!("listener.name.{l}.plain.sasl.jaas.config"),
                internal_jaas.clone(),
            );
        }
        set(
            "sasl.enabled.mechanisms",
            "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER".into(),
        );
        if broker {
            let plain_users: String = self
                .creds
                .plain_users
                .iter()
                .map(|u| format!(" user_{}=\"{}\"", u.user, u.password))
                .collect();
            for l in ["sasl_plaintext", "sasl_ssl"] {
                set(
                    &format!("listener.name.{l}.plain.sasl.jaas.config"),
                    format!("org.apache.kafka.common.security.plain.PlainLoginModule required{plain_users};"),
                );
                for m in ["scram-sha-256", "scram-sha-512"] {
                    set(
                        &format!("listener.name.{l}.{m}.sasl.jaas.config"),
                        "org.apache.kafka.common.security.scram.ScramLoginModule required;".into(),
                    );
                }
                set(
                    &format!("listener.name.{l}.oauthbearer.sasl.jaas.config"),
                    format!(
                        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required credentialsFile=\"{}\" clockSkewSeconds=\"{}\" maxExpiresSeconds=\"900\"{} unsecuredLoginStringClaim_sub=\"broker\";",
                        self.iam_file.display(),
                        spec.iam_clock_skew_secs,
                        spec.iam_fixed_now_ms
                            .map(|ms| format!(" fixedNowMs=\"{ms}\""))
                            .unwrap_or_default()
                    ),
                );
                set(
                    &format!("listener.name.{l}.oauthbearer.sasl.server.callback.handler.class"),
                    fetch::VALIDATOR_CLASS.into(),
                );
            }
            set("ssl.keystore.type", "PEM".into());
            set(
                "ssl.keystore.location",
                self.tls.server_keystore_pem.display().to_string(),
            );
            set("ssl.truststore.type", "PEM".into());
            set(
                "ssl.truststore.location",
                self.tls.ca_pem.display().to_string(),
            );
            if spec.ssl_client_auth {
                set("listener.name.ssl.ssl.client.auth", "required".into());
            }
        }
        set(
            "authorizer.class.name",
            "org.apache.kafka.metadata.authorizer.StandardAuthorizer".into(),
        );
        let mut supers = vec![
            format!("User:{}", self.creds.admin.user),
            "User:broker".to_string(),
        ];
        if spec.anonymous_super_user {
            supers.push("User:ANONYMOUS".into());
        }
        supers.extend(spec.extra_super_users.iter().cloned());
        set("super.users", supers.join(";"));
        set("log.dirs", dir.join("data").display().to_string());
        set("metadata.log.dir", dir.join("data").display().to_string());
        let rf = n.min(3).to_string();
        set("offsets.topic.replication.factor", rf.clone());
        set("offsets.topic.num.partitions", "10".into());
        set("transaction.state.log.replication.factor", rf);
        set("transaction.state.log.min.isr", "1".into());
        set("transaction.state.log.num.partitions", "5".into());
        set(
            "share.coordinator.state.topic.replication.factor",
            n.min(3).to_string(),
        );
        set("share.coordinator.state.topic.min.isr", "1".into());
        set("group.initial.rebalance.delay.ms", "0".into());
        set("num.network.threads", "2".into());
        set("num.io.threads", "4".into());
        set("background.threads", "4".into());
        set("log.cleaner.dedupe.buffer.size", "8388608".into());
        set("log.cleaner.threads", "1".into());
        if broker {
            for (k, v) in &spec.broker_configs {
                set(k, v.clone());
            }
        }
        let mut out = String::from("# generated by kquota-testkit\n");
        for (k, v) in c {
            out.push_str(&format!("{k}={}\n", escape_props(&v)));
        }
        out
    }
}

/// Escapes a value for a Java `.properties` file (backslashes and line breaks).
fn escape_props(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_ids_never_start_with_a_dash() {
        // 1 id in 64 would start with '-' without the redraw.
        for _ in 0..2000 {
            let id = random_cluster_id();
            assert_eq!(id.len(), 22, "{id}");
            assert!(!id.starts_with('-'), "{id}");
        }
    }

    #[test]
    fn bind_failure_port_is_read_from_the_log() {
        let log = "[x] ERROR Exiting Kafka due to fatal exception (kafka.Kafka$)\norg.apache.kafka.common.KafkaException: Socket server failed to bind to 127.0.0.1:39102: Address already in use.\n";
        assert_eq!(bind_failure_port(log), Some(39102));
        assert_eq!(bind_failure_port("all good"), None);
    }

    #[test]
    fn cause_prefers_the_exception_message() {
        let log = "[d] INFO starting (kafka.Kafka)\n[d] ERROR Exiting Kafka due to fatal exception (kafka.Kafka$)\norg.apache.kafka.common.config.ConfigException: Invalid value abc for configuration quota.window.num: Not a number of type INT\n\tat x.y\n";
        let c = log_cause(log).unwrap();
        assert!(
            c.contains("Invalid value abc for configuration quota.window.num"),
            "{c}"
        );
    }

    #[test]
    fn spec_builders_accumulate() {
        let s = ClusterSpec::single()
            .broker_config("a", "1")
            .broker_config("b", "2")
            .anonymous_super_user(false)
            .ssl_client_auth(true);
        assert_eq!(s.broker_configs.len(), 2);
        assert!(!s.anonymous_super_user);
        assert!(s.ssl_client_auth);
        assert_eq!(ClusterSpec::three_brokers().broker_count(), 3);
    }
}
