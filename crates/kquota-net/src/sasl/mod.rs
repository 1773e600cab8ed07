//! SASL mechanisms as plain state machines over bytes (no I/O): PLAIN, SCRAM-SHA-256/512,
//! OAUTHBEARER, and the [`SaslMechanism`] trait other crates implement (kquota-iam's
//! `AWS_MSK_IAM`). The connection drives them with SaslHandshake + SaslAuthenticate.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use crate::config::{SaslConfig, Secret};
use crate::AuthError;

mod oauth;
mod plain;
pub mod scram;

pub use oauth::OAuthBearer;
pub use plain::Plain;
pub use scram::Scram;

/// A boxed, `Send` future (what the async trait methods here return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An OAUTHBEARER token (RFC 6750 bearer token) with its expiry.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use kquota_net::OAuthToken;
/// let t = OAuthToken::new("eyJ...", SystemTime::now() + Duration::from_secs(900));
/// assert_eq!(format!("{:?}", t.value), "***");
/// ```
#[derive(Clone, Debug)]
pub struct OAuthToken {
    /// The token (sent as `auth=Bearer <value>`).
    pub value: Secret,
    /// When it stops being valid.
    pub expires_at: SystemTime,
    /// SASL extensions (KIP-342), sent as `key=value` pairs.
    pub extensions: Vec<(String, String)>,
}

impl OAuthToken {
    /// A token without extensions.
    pub fn new(value: impl Into<Secret>, expires_at: SystemTime) -> Self {
        OAuthToken {
            value: value.into(),
            expires_at,
            extensions: Vec::new(),
        }
    }
}

/// Supplies OAUTHBEARER tokens; asked for a fresh one at every (re)authentication.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use kquota_net::{AuthError, BoxFuture, OAuthToken, TokenProvider};
/// #[derive(Debug)]
/// struct Static(String);
/// impl TokenProvider for Static {
///     fn token(&self) -> BoxFuture<'_, Result<OAuthToken, AuthError>> {
///         let v = self.0.clone();
///         Box::pin(async move { Ok(OAuthToken::new(v, SystemTime::now() + Duration::from_secs(60))) })
///     }
/// }
/// ```
pub trait TokenProvider: Send + Sync + fmt::Debug {
    /// A currently valid token.
    fn token(&self) -> BoxFuture<'_, Result<OAuthToken, AuthError>>;
}

/// What a [`SaslSession`] wants after evaluating a server message.
#[derive(Debug, PartialEq, Eq)]
pub enum SaslStep {
    /// Send these bytes in the next SaslAuthenticate request.
    Respond(Vec<u8>),
    /// Authentication is complete (the server's final message checked out).
    Done,
}

/// One authentication exchange (client side), created by [`SaslMechanism::start`].
///
/// The connection sends [`initial_response`](Self::initial_response) in the first
/// SaslAuthenticate request, then passes every server message to [`step`](Self::step) until it
/// returns [`SaslStep::Done`].
pub trait SaslSession: Send {
    /// The client's first message.
    fn initial_response(&mut self) -> Result<Vec<u8>, AuthError>;
    /// Evaluates a server message.
    fn step(&mut self, server_message: &[u8]) -> Result<SaslStep, AuthError>;
}

/// A SASL mechanism (implemented here for PLAIN, SCRAM and OAUTHBEARER; kquota-iam implements
/// `AWS_MSK_IAM`).
///
/// ```
/// use kquota_net::{AuthError, BoxFuture, SaslMechanism, SaslSession, SaslStep};
/// #[derive(Debug)]
/// struct Anonymous;
/// struct Session;
/// impl SaslSession for Session {
///     fn initial_response(&mut self) -> Result<Vec<u8>, AuthError> { Ok(b"trace".to_vec()) }
///     fn step(&mut self, _: &[u8]) -> Result<SaslStep, AuthError> { Ok(SaslStep::Done) }
/// }
/// impl SaslMechanism for Anonymous {
///     fn name(&self) -> &str { "ANONYMOUS" }
///     fn start(&self, _broker_host: &str) -> BoxFuture<'_, Result<Box<dyn SaslSession>, AuthError>> {
///         Box::pin(async { Ok(Box::new(Session) as Box<dyn SaslSession>) })
///     }
/// }
/// ```
pub trait SaslMechanism: Send + Sync + fmt::Debug {
    /// Mechanism name for SaslHandshake, e.g. `AWS_MSK_IAM`.
    fn name(&self) -> &str;
    /// Starts an exchange with the broker at `broker_host` (host name without port).
    fn start(&self, broker_host: &str) -> BoxFuture<'_, Result<Box<dyn SaslSession>, AuthError>>;
}

/// Turns the configuration into a mechanism object.
pub(crate) fn mechanism_for(config: &SaslConfig) -> Arc<dyn SaslMechanism> {
    match config {
        SaslConfig::Plain { username, password } => {
            Arc::new(Plain::new(username.clone(), password.clone()))
        }
        SaslConfig::Scram {
            mechanism,
            username,
            password,
        } => Arc::new(Scram::new(*mechanism, username.clone(), password.clone())),
        SaslConfig::OAuthBearer(provider) => Arc::new(OAuthBearer::new(provider.clone())),
        SaslConfig::Custom(m) => m.clone(),
    }
}
