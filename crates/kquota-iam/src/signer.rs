//! [`MskSigner`]: credentials provider + signing options, signing a fresh token per call.

use std::sync::Arc;

use crate::{
    msk_iam_payload, oauth_token, region_from_broker_host, CredentialsProvider, IamError,
    IamMechanism, SignOptions, SignedPayload, SignedToken,
};

/// Signs a fresh OAUTHBEARER token or AWS_MSK_IAM payload at every call, with credentials from
/// a [`CredentialsProvider`] (wrap it in [`crate::CachedCredentials`] for refresh-ahead caching).
/// This is what the kquota-net adapters call at every (re-)authentication.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kquota_iam::IamError> {
/// use std::sync::Arc;
/// use kquota_iam::{Credentials, MskSigner, StaticCredentials};
/// let creds = StaticCredentials::new(Credentials::new("AKIDEXAMPLE", "secret", None, None)?);
/// let signer = MskSigner::new(Arc::new(creds)).with_region("eu-west-1");
/// let token = signer.oauth_token().await?;
/// assert!(token.expires_at() > std::time::SystemTime::now());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MskSigner {
    credentials: Arc<dyn CredentialsProvider>,
    region: Option<String>,
    user_agent: Option<String>,
    token_host: Option<String>,
    mechanism: IamMechanism,
}

impl MskSigner {
    /// A signer for OAUTHBEARER with no region yet (set one with [`MskSigner::with_region`];
    /// AWS_MSK_IAM can also take it from the broker host).
    pub fn new(credentials: Arc<dyn CredentialsProvider>) -> Self {
        Self {
            credentials,
            region: None,
            user_agent: None,
            token_host: None,
            mechanism: IamMechanism::OAuthBearer,
        }
    }

    /// Sets the signing region.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sets the User-Agent (default `kquota/<version>`).
    pub fn with_user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// Signs OAUTHBEARER tokens for this host instead of `kafka.<region>.amazonaws.com`.
    pub fn with_token_host(mut self, host: impl Into<String>) -> Self {
        self.token_host = Some(host.into());
        self
    }

    /// Selects the mechanism the net adapter should speak.
    pub fn with_mechanism(mut self, mechanism: IamMechanism) -> Self {
        self.mechanism = mechanism;
        self
    }

    /// The mechanism this signer is configured for.
    pub fn mechanism(&self) -> IamMechanism {
        self.mechanism
    }

    /// The configured region, if any.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The credentials provider.
    pub fn credentials_provider(&self) -> &Arc<dyn CredentialsProvider> {
        &self.credentials
    }

    fn options(&self, region: String) -> SignOptions {
        let mut o = SignOptions::new(region);
        if let Some(ua) = &self.user_agent {
            o = o.user_agent(ua.clone());
        }
        if let Some(h) = &self.token_host {
            o = o.host(h.clone());
        }
        o
    }

    /// Fetches credentials and signs an OAUTHBEARER token now.
    pub async fn oauth_token(&self) -> Result<SignedToken, IamError> {
        let region = self.region.clone().ok_or_else(|| IamError::NoRegion {
            what: "the OAUTHBEARER token".into(),
        })?;
        let creds = self.credentials.credentials().await?;
        oauth_token(&creds, &self.options(region))
    }

    /// Fetches credentials and signs an AWS_MSK_IAM payload for `broker_host` now. The region
    /// comes from the host name (e.g. `….kafka.us-east-1.amazonaws.com`), else from the config.
    pub async fn msk_iam_payload(&self, broker_host: &str) -> Result<SignedPayload, IamError> {
        let host = crate::region::strip_port(broker_host);
        let region = region_from_broker_host(host)
            .or_else(|| self.region.clone())
            .ok_or_else(|| IamError::NoRegion {
                what: format!("the AWS_MSK_IAM payload for broker {host} (no region in its name)"),
            })?;
        let creds = self.credentials.credentials().await?;
        msk_iam_payload(&creds, host, &self.options(region))
    }
}
