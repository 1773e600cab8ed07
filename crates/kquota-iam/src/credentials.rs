//! AWS credentials with redacted `Debug`, the [`CredentialsProvider`] trait and two providers that
//! need no AWS SDK: [`StaticCredentials`] and the refresh-ahead cache [`CachedCredentials`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};

use crate::IamError;

/// A boxed, `Send` future, the return type of the object-safe async traits in this crate.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How long before their expiry cached credentials are replaced: MSK binds a session to the
/// credentials' remaining life and answers "Session too short" near the end, so refresh early.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(15 * 60);

/// An AWS access key, its secret and an optional session token.
///
/// `Debug` shows the access key id and the expiry only; the secret key and the session token are
/// never printed. An empty session token is treated as absent (as the Go and JS signers do).
///
/// ```
/// use kquota_iam::Credentials;
/// let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", Some(String::new()), None)?;
/// assert!(creds.session_token().is_none());
/// assert!(!format!("{creds:?}").contains("EXAMPLEKEY"));
/// # Ok::<(), kquota_iam::IamError>(())
/// ```
#[derive(Clone)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: SecretString,
    session_token: Option<SecretString>,
    expires_at: Option<SystemTime>,
    source_name: String,
}

impl Credentials {
    /// Builds credentials; rejects an empty access key id or secret key (every official signer
    /// does). `source_name` defaults to "static credentials"; see [`Credentials::with_source`].
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
        expires_at: Option<SystemTime>,
    ) -> Result<Self, IamError> {
        let access_key_id = access_key_id.into();
        let secret_access_key = secret_access_key.into();
        let source_name = "static credentials".to_string();
        if access_key_id.trim().is_empty() {
            return Err(IamError::InvalidCredentials {
                source_name,
                reason: "the access key id is empty".into(),
            });
        }
        if secret_access_key.is_empty() {
            return Err(IamError::InvalidCredentials {
                source_name,
                reason: "the secret access key is empty".into(),
            });
        }
        Ok(Self {
            access_key_id,
            secret_access_key: SecretString::from(secret_access_key),
            session_token: session_token
                .filter(|t| !t.is_empty())
                .map(SecretString::from),
            expires_at,
            source_name,
        })
    }

    /// Names where these credentials came from; used in error messages.
    pub fn with_source(mut self, source_name: impl Into<String>) -> Self {
        self.source_name = source_name.into();
        self
    }

    /// The access key id (not a secret; it appears in every signed request).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key. Handle with care: never log it.
    pub fn secret_access_key(&self) -> &str {
        self.secret_access_key.expose_secret()
    }

    /// The session token of temporary credentials. Handle with care: never log it.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_ref().map(|t| t.expose_secret())
    }

    /// When the credentials stop working, if they are temporary.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// Where the credentials came from (for messages).
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    pub(crate) fn to_sdk(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key().to_string(),
            self.session_token().map(str::to_string),
            self.expires_at,
            "kquota",
        )
    }

    /// Converts credentials produced by an AWS SDK credentials provider.
    pub fn from_sdk(
        creds: &aws_credential_types::Credentials,
        source_name: impl Into<String>,
    ) -> Result<Self, IamError> {
        let source_name = source_name.into();
        Self::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            creds.session_token().map(str::to_string),
            creds.expiry(),
        )
        .map(|c| c.with_source(source_name.clone()))
        .map_err(|e| match e {
            IamError::InvalidCredentials { reason, .. } => IamError::InvalidCredentials {
                source_name,
                reason,
            },
            other => other,
        })
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("source", &self.source_name)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[redacted]")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at.map(httpdate::fmt_http_date))
            .finish()
    }
}

/// Something that hands out AWS credentials; called before every token is signed.
///
/// Implementations cache as they see fit; [`CachedCredentials`] adds refresh-ahead caching to any
/// provider.
pub trait CredentialsProvider: Send + Sync + fmt::Debug {
    /// Returns credentials valid now (and, ideally, for the next 15 minutes).
    fn credentials(&self) -> BoxFuture<'_, Result<Credentials, IamError>>;
}

/// Fixed credentials, e.g. from flags or from the embedding application.
///
/// ```
/// use kquota_iam::{Credentials, CredentialsProvider, StaticCredentials};
/// let provider = StaticCredentials::new(Credentials::new("AKID", "secret", None, None)?);
/// # let _ = &provider as &dyn CredentialsProvider;
/// # Ok::<(), kquota_iam::IamError>(())
/// ```
#[derive(Debug, Clone)]
pub struct StaticCredentials(Credentials);

impl StaticCredentials {
    /// Wraps fixed credentials.
    pub fn new(credentials: Credentials) -> Self {
        Self(credentials)
    }
}

impl CredentialsProvider for StaticCredentials {
    fn credentials(&self) -> BoxFuture<'_, Result<Credentials, IamError>> {
        let creds = self.0.clone();
        Box::pin(async move { Ok(creds) })
    }
}

/// Refresh-ahead cache in front of another provider: cached credentials are reused until less
/// than `margin` (default [`DEFAULT_REFRESH_MARGIN`], 15 minutes) of their life is left, then
/// fetched again. Credentials without an expiry are cached for good.
///
/// ```
/// use std::sync::Arc;
/// use kquota_iam::{CachedCredentials, Credentials, StaticCredentials};
/// let inner = StaticCredentials::new(Credentials::new("AKID", "secret", None, None)?);
/// let cached = CachedCredentials::new(Arc::new(inner));
/// # Ok::<(), kquota_iam::IamError>(())
/// ```
#[derive(Debug)]
pub struct CachedCredentials {
    inner: Arc<dyn CredentialsProvider>,
    margin: Duration,
    cached: Mutex<Option<Credentials>>,
}

impl CachedCredentials {
    /// Caches `inner` with the default 15-minute refresh margin.
    pub fn new(inner: Arc<dyn CredentialsProvider>) -> Self {
        Self::with_margin(inner, DEFAULT_REFRESH_MARGIN)
    }

    /// Caches `inner`, refreshing when less than `margin` is left.
    pub fn with_margin(inner: Arc<dyn CredentialsProvider>, margin: Duration) -> Self {
        Self {
            inner,
            margin,
            cached: Mutex::new(None),
        }
    }

    fn fresh_cached(&self, now: SystemTime) -> Option<Credentials> {
        let guard = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        let creds = guard.as_ref()?;
        match creds.expires_at() {
            None => Some(creds.clone()),
            Some(exp) if exp > now + self.margin => Some(creds.clone()),
            Some(_) => None,
        }
    }
}

impl CredentialsProvider for CachedCredentials {
    fn credentials(&self) -> BoxFuture<'_, Result<Credentials, IamError>> {
        Box::pin(async move {
            if let Some(c) = self.fresh_cached(SystemTime::now()) {
                return Ok(c);
            }
            tracing::debug!(
                margin_s = self.margin.as_secs(),
                "refreshing AWS credentials"
            );
            let creds = self.inner.credentials().await?;
            *self.cached.lock().unwrap_or_else(|e| e.into_inner()) = Some(creds.clone());
            Ok(creds)
        })
    }
}
