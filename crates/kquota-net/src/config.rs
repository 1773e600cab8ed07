//! Client configuration: bootstrap servers, security (TLS, SASL), timeouts, retries.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::messages::ApiKey;

use crate::sasl::{SaslMechanism, TokenProvider};

/// A secret string (password, token). Its `Debug` prints `***`; it has no `Display`, so it
/// cannot end up in a log line or an error message by accident.
///
/// ```
/// use kquota_net::Secret;
/// let s = Secret::new("hunter2");
/// assert_eq!(format!("{s:?}"), "***");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret itself; call only where it is put on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

/// SCRAM hash function (RFC 5802 with SHA-256 / SHA-512, RFC 7677).
///
/// ```
/// use kquota_net::ScramMechanism;
/// assert_eq!(ScramMechanism::Sha512.mechanism_name(), "SCRAM-SHA-512");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScramMechanism {
    /// SCRAM-SHA-256.
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

impl ScramMechanism {
    /// The SASL mechanism name sent in SaslHandshake.
    pub fn mechanism_name(self) -> &'static str {
        match self {
            ScramMechanism::Sha256 => "SCRAM-SHA-256",
            ScramMechanism::Sha512 => "SCRAM-SHA-512",
        }
    }
}

/// SASL settings.
///
/// ```
/// use kquota_net::{SaslConfig, ScramMechanism, Secret};
/// let plain = SaslConfig::Plain { username: "alice".into(), password: Secret::new("pw") };
/// let scram = SaslConfig::Scram {
///     mechanism: ScramMechanism::Sha256, username: "bob".into(), password: "pw".into() };
/// assert_eq!(plain.mechanism_name(), "PLAIN");
/// assert_eq!(scram.mechanism_name(), "SCRAM-SHA-256");
/// assert!(!format!("{scram:?}").contains("pw\""));
/// ```
#[derive(Clone, Debug)]
pub enum SaslConfig {
    /// SASL/PLAIN (RFC 4616).
    Plain {
        /// User name.
        username: String,
        /// Password.
        password: Secret,
    },
    /// SCRAM-SHA-256 / SCRAM-SHA-512.
    Scram {
        /// Hash function.
        mechanism: ScramMechanism,
        /// User name.
        username: String,
        /// Password.
        password: Secret,
    },
    /// OAUTHBEARER (RFC 7628, KIP-255); a fresh token is asked for at every (re)authentication.
    OAuthBearer(Arc<dyn TokenProvider>),
    /// Any other mechanism, e.g. `AWS_MSK_IAM` from kquota-iam.
    Custom(Arc<dyn SaslMechanism>),
}

impl SaslConfig {
    /// The SASL mechanism name sent in SaslHandshake.
    pub fn mechanism_name(&self) -> String {
        match self {
            SaslConfig::Plain { .. } => "PLAIN".into(),
            SaslConfig::Scram { mechanism, .. } => mechanism.mechanism_name().into(),
            SaslConfig::OAuthBearer(_) => "OAUTHBEARER".into(),
            SaslConfig::Custom(m) => m.name().to_owned(),
        }
    }
}

/// Where trusted CA certificates come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CaSource {
    WebPki,
    File(PathBuf),
    Pem(Vec<u8>),
}

/// TLS settings. The server certificate is verified by default (Mozilla's roots from
/// `webpki-roots`, or a CA PEM file); SNI is the broker host name unless overridden.
///
/// ```
/// use kquota_net::TlsConfig;
/// let tls = TlsConfig::new()
///     .ca_file("/etc/kafka/ca.pem")
///     .client_cert("/etc/kafka/client.pem", "/etc/kafka/client.key");
/// # let _ = tls;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsConfig {
    pub(crate) ca: CaSource,
    pub(crate) client_cert: Option<(PathBuf, PathBuf)>,
    pub(crate) server_name: Option<String>,
    pub(crate) accept_invalid_certs: bool,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl TlsConfig {
    /// Verify brokers against the Mozilla root store compiled in (`webpki-roots`; it contains
    /// the Amazon roots MSK uses).
    pub fn new() -> Self {
        TlsConfig {
            ca: CaSource::WebPki,
            client_cert: None,
            server_name: None,
            accept_invalid_certs: false,
        }
    }
    /// Trust only the CA certificates in this PEM file.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca = CaSource::File(path.into());
        self
    }
    /// Trust only the CA certificates in this PEM text.
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca = CaSource::Pem(pem.into());
        self
    }
    /// Present a client certificate (mTLS): PEM certificate chain and PEM private key files.
    pub fn client_cert(
        mut self,
        cert_pem: impl Into<PathBuf>,
        key_pem: impl Into<PathBuf>,
    ) -> Self {
        self.client_cert = Some((cert_pem.into(), key_pem.into()));
        self
    }
    /// Verify (and send as SNI) this name instead of the broker host.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }
    /// DANGER: accept any server certificate (self-signed test set-ups only). The connection is
    /// encrypted but not authenticated: anyone on the path can read and change it. Logged as a
    /// warning at every connection.
    pub fn dangerously_accept_invalid_certs(mut self) -> Self {
        self.accept_invalid_certs = true;
        self
    }
}

/// How to talk to the brokers (Kafka's `security.protocol`).
///
/// ```
/// use kquota_net::{Security, SaslConfig, TlsConfig};
/// let s = Security::SaslSsl(
///     SaslConfig::Plain { username: "u".into(), password: "p".into() },
///     TlsConfig::new(),
/// );
/// assert!(s.tls().is_some() && s.sasl().is_some());
/// ```
#[derive(Clone, Debug, Default)]
pub enum Security {
    /// Plain TCP.
    #[default]
    Plaintext,
    /// TLS.
    Ssl(TlsConfig),
    /// SASL over plain TCP.
    SaslPlaintext(SaslConfig),
    /// SASL over TLS.
    SaslSsl(SaslConfig, TlsConfig),
}

impl Security {
    /// The TLS part, if any.
    pub fn tls(&self) -> Option<&TlsConfig> {
        match self {
            Security::Ssl(t) | Security::SaslSsl(_, t) => Some(t),
            _ => None,
        }
    }
    /// The SASL part, if any.
    pub fn sasl(&self) -> Option<&SaslConfig> {
        match self {
            Security::SaslPlaintext(s) | Security::SaslSsl(s, _) => Some(s),
            _ => None,
        }
    }
}

/// Configuration of a [`crate::Cluster`] (and of each [`crate::BrokerConnection`] it opens).
///
/// ```
/// use std::time::Duration;
/// use kquota_net::{ClientConfig, Security};
/// let cfg = ClientConfig::new(["localhost:9092"])
///     .client_id("quota-admin")
///     .security(Security::Plaintext)
///     .request_timeout(Duration::from_secs(10))
///     .max_response_size(64 << 20);
/// assert_eq!(cfg.bootstrap_servers(), ["localhost:9092".to_string()]);
/// ```
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub(crate) bootstrap: Vec<String>,
    pub(crate) client_id: String,
    pub(crate) security: Security,
    pub(crate) request_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_response_size: usize,
    pub(crate) reconnect_backoff: Duration,
    pub(crate) reconnect_backoff_max: Duration,
    pub(crate) retries: u32,
    pub(crate) retry_backoff: Duration,
    pub(crate) retry_backoff_max: Duration,
    pub(crate) metadata_max_age: Duration,
    pub(crate) version_caps: HashMap<i16, i16>,
}

/// Smallest reconnect back-off: MSK limits how often IAM connections may be opened.
pub const MIN_RECONNECT_BACKOFF: Duration = Duration::from_secs(1);

impl ClientConfig {
    /// A configuration with these `host:port` bootstrap servers and defaults: client id
    /// `kquota`, plaintext, request timeout 30 s, connect timeout 10 s, max response 100 MiB,
    /// reconnect back-off 1 s (max 10 s), 3 retries with 100 ms..1 s back-off, metadata max age
    /// 5 min. Entries may be comma-separated lists, as in Kafka's `bootstrap.servers`.
    ///
    /// ```
    /// let cfg = kquota_net::ClientConfig::new(["b1:9092, b2:9092", "b3:9092"]);
    /// assert_eq!(cfg.bootstrap_servers().len(), 3);
    /// ```
    pub fn new(bootstrap: impl IntoIterator<Item = impl Into<String>>) -> Self {
        ClientConfig {
            // "a:9092,b:9092" (Kafka's bootstrap.servers form) is split into its entries.
            bootstrap: bootstrap
                .into_iter()
                .flat_map(|s| {
                    s.into()
                        .split(',')
                        .map(|p| p.trim().to_owned())
                        .filter(|p| !p.is_empty())
                        .collect::<Vec<_>>()
                })
                .collect(),
            client_id: "kquota".into(),
            security: Security::Plaintext,
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_response_size: 100 << 20,
            reconnect_backoff: MIN_RECONNECT_BACKOFF,
            reconnect_backoff_max: Duration::from_secs(10),
            retries: 3,
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_secs(1),
            metadata_max_age: Duration::from_secs(300),
            version_caps: HashMap::new(),
        }
    }
    /// The client id sent in every request header (quotas can be keyed on it).
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = id.into();
        self
    }
    /// TLS / SASL settings.
    pub fn security(mut self, s: Security) -> Self {
        self.security = s;
        self
    }
    /// How long to wait for each response once the request is written (throttle waits before
    /// writing are not counted: they are never capped).
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }
    /// Limit for TCP connect + TLS handshake.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }
    /// Largest response frame accepted; checked before any allocation.
    pub fn max_response_size(mut self, bytes: usize) -> Self {
        self.max_response_size = bytes;
        self
    }
    /// Minimum time between two connection attempts to the same broker; values below 1 s are
    /// raised to 1 s. Doubles after each failure up to `max`.
    pub fn reconnect_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.reconnect_backoff = min.max(MIN_RECONNECT_BACKOFF);
        self.reconnect_backoff_max = max.max(self.reconnect_backoff);
        self
    }
    /// Retries for retriable errors, with exponential back-off and jitter between `initial`
    /// and `max`.
    pub fn retries(mut self, retries: u32, initial: Duration, max: Duration) -> Self {
        self.retries = retries;
        self.retry_backoff = initial;
        self.retry_backoff_max = max.max(initial);
        self
    }
    /// Cached metadata older than this is refreshed before routing.
    pub fn metadata_max_age(mut self, d: Duration) -> Self {
        self.metadata_max_age = d;
        self
    }
    /// Never use a version of `api` above `max_version` (e.g. to stay on Produce v12, which
    /// carries topic names rather than ids).
    pub fn cap_version(mut self, api: ApiKey, max_version: i16) -> Self {
        self.version_caps.insert(api as i16, max_version);
        self
    }
    /// The bootstrap servers.
    pub fn bootstrap_servers(&self) -> &[String] {
        &self.bootstrap
    }
    /// The configured client id.
    pub fn get_client_id(&self) -> &str {
        &self.client_id
    }
    /// The configured security.
    pub fn get_security(&self) -> &Security {
        &self.security
    }
    /// The configured request timeout.
    pub fn get_request_timeout(&self) -> Duration {
        self.request_timeout
    }
}
