//! The plug into kquota-net: [`MskSigner`] is an OAUTHBEARER [`TokenProvider`], and
//! [`MskIamMechanism`] is the `AWS_MSK_IAM` [`SaslMechanism`]. Both sign fresh at every
//! (re-)authentication.

use std::sync::Arc;

use kquota_net::{
    AuthError, BoxFuture, OAuthToken, SaslConfig, SaslMechanism, SaslSession, SaslStep,
    TokenProvider,
};

use crate::{check_msk_iam_reply, IamError, IamMechanism, MskSigner};

fn auth_error(e: IamError) -> AuthError {
    AuthError::Credentials(e.to_string())
}

impl TokenProvider for MskSigner {
    fn token(&self) -> BoxFuture<'_, Result<OAuthToken, AuthError>> {
        Box::pin(async move {
            let t = self.oauth_token().await.map_err(auth_error)?;
            Ok(OAuthToken::new(t.token(), t.expires_at()))
        })
    }
}

impl MskSigner {
    /// The kquota-net SASL configuration for this signer's mechanism: OAUTHBEARER with this
    /// signer as token provider, or the `AWS_MSK_IAM` mechanism.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use kquota_iam::{Credentials, MskSigner, StaticCredentials};
    /// let creds = StaticCredentials::new(Credentials::new("AKIDEXAMPLE", "secret", None, None)?);
    /// let sasl = MskSigner::new(Arc::new(creds)).with_region("us-east-1").sasl_config();
    /// assert_eq!(sasl.mechanism_name(), "OAUTHBEARER");
    /// # Ok::<(), kquota_iam::IamError>(())
    /// ```
    pub fn sasl_config(&self) -> SaslConfig {
        match self.mechanism() {
            IamMechanism::AwsMskIam => {
                SaslConfig::Custom(Arc::new(MskIamMechanism::new(self.clone())))
            }
            _ => SaslConfig::OAuthBearer(Arc::new(self.clone())),
        }
    }
}

/// The `AWS_MSK_IAM` SASL mechanism: one `SaslAuthenticate` carrying the JSON payload signed for
/// the broker's own host, answered by `{"version":"2020_10_22","request-id":…}`.
///
/// ```
/// use std::sync::Arc;
/// use kquota_iam::{Credentials, MskIamMechanism, MskSigner, StaticCredentials};
/// use kquota_net::SaslMechanism;
/// let creds = StaticCredentials::new(Credentials::new("AKIDEXAMPLE", "secret", None, None)?);
/// let m = MskIamMechanism::new(MskSigner::new(Arc::new(creds)));
/// assert_eq!(m.name(), "AWS_MSK_IAM");
/// # Ok::<(), kquota_iam::IamError>(())
/// ```
#[derive(Debug, Clone)]
pub struct MskIamMechanism {
    signer: MskSigner,
}

impl MskIamMechanism {
    /// The mechanism over `signer` (its region is the fallback when the broker host has none).
    pub fn new(signer: MskSigner) -> Self {
        Self { signer }
    }
}

struct MskIamSession {
    payload: Option<Vec<u8>>,
}

impl SaslSession for MskIamSession {
    fn initial_response(&mut self) -> Result<Vec<u8>, AuthError> {
        self.payload.take().ok_or_else(|| AuthError::Mechanism {
            mechanism: "AWS_MSK_IAM".into(),
            detail: "initial response asked twice".into(),
        })
    }

    fn step(&mut self, server_message: &[u8]) -> Result<SaslStep, AuthError> {
        match check_msk_iam_reply(server_message) {
            Ok(reply) => {
                tracing::debug!(request_id = ?reply.request_id, "AWS_MSK_IAM authenticated");
                Ok(SaslStep::Done)
            }
            Err(e) => Err(AuthError::Mechanism {
                mechanism: "AWS_MSK_IAM".into(),
                detail: e.to_string(),
            }),
        }
    }
}

impl SaslMechanism for MskIamMechanism {
    fn name(&self) -> &str {
        "AWS_MSK_IAM"
    }

    fn start(&self, broker_host: &str) -> BoxFuture<'_, Result<Box<dyn SaslSession>, AuthError>> {
        let host = broker_host.to_string();
        Box::pin(async move {
            let payload = self
                .signer
                .msk_iam_payload(&host)
                .await
                .map_err(auth_error)?;
            Ok(Box::new(MskIamSession {
                payload: Some(payload.as_bytes().to_vec()),
            }) as Box<dyn SaslSession>)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Credentials, StaticCredentials};

    fn signer() -> MskSigner {
        let c = Credentials::new("AKIDEXAMPLE", "secret/+", Some("tok".into()), None).unwrap();
        MskSigner::new(Arc::new(StaticCredentials::new(c))).with_region("eu-west-1")
    }

    #[tokio::test]
    async fn aws_msk_iam_session_exchange() {
        let m = MskIamMechanism::new(signer());
        let mut s = m
            .start("b-1.x.abc.c2.kafka.us-east-1.amazonaws.com")
            .await
            .unwrap();
        let first = s.initial_response().unwrap();
        let json: serde_json::Value = serde_json::from_slice(&first).unwrap();
        assert_eq!(json["host"], "b-1.x.abc.c2.kafka.us-east-1.amazonaws.com");
        assert!(json["x-amz-credential"]
            .as_str()
            .unwrap()
            .contains("/us-east-1/kafka-cluster/"));
        assert!(s.initial_response().is_err());
        assert_eq!(
            s.step(br#"{"version":"2020_10_22","request-id":"r1"}"#)
                .unwrap(),
            SaslStep::Done
        );
        assert!(s.step(br#"{"version":"1999"}"#).is_err());
        assert!(s.step(b"").is_err());
    }

    #[tokio::test]
    async fn region_falls_back_to_config_for_custom_hosts() {
        let m = MskIamMechanism::new(signer());
        let mut s = m.start("localhost").await.unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&s.initial_response().unwrap()).unwrap();
        assert!(json["x-amz-credential"]
            .as_str()
            .unwrap()
            .contains("/eu-west-1/kafka-cluster/"));
        let no_region =
            MskIamMechanism::new(MskSigner::new(signer().credentials_provider().clone()));
        let err = no_region.start("localhost").await.err().unwrap();
        assert!(err.to_string().contains("no AWS region"), "{err}");
    }

    #[tokio::test]
    async fn token_provider_signs_fresh_tokens() {
        let s = signer();
        let t = TokenProvider::token(&s).await.unwrap();
        assert!(t.expires_at > std::time::SystemTime::now());
        assert!(!format!("{t:?}").contains(t.value.expose()));
    }
}
