//! OAUTHBEARER (RFC 7628 §3.1, KIP-255): `n,,\x01auth=Bearer <token>\x01[key=value\x01]*\x01`.

use std::sync::Arc;

use super::{BoxFuture, SaslMechanism, SaslSession, SaslStep, TokenProvider};
use crate::AuthError;

/// The OAUTHBEARER mechanism over a [`TokenProvider`]; each `start` asks for a fresh token.
///
/// ```
/// # use std::{sync::Arc, time::{Duration, SystemTime}};
/// # use kquota_net::{AuthError, BoxFuture, OAuthToken, TokenProvider, SaslMechanism};
/// # #[derive(Debug)] struct P;
/// # impl TokenProvider for P { fn token(&self) -> BoxFuture<'_, Result<OAuthToken, AuthError>> {
/// #   Box::pin(async { Ok(OAuthToken::new("t", SystemTime::now() + Duration::from_secs(9))) }) } }
/// let m = kquota_net::sasl::OAuthBearer::new(Arc::new(P));
/// assert_eq!(m.name(), "OAUTHBEARER");
/// ```
#[derive(Debug, Clone)]
pub struct OAuthBearer {
    provider: Arc<dyn TokenProvider>,
}

impl OAuthBearer {
    /// OAUTHBEARER with tokens from `provider`.
    pub fn new(provider: Arc<dyn TokenProvider>) -> Self {
        OAuthBearer { provider }
    }
}

struct OAuthSession {
    message: Option<Vec<u8>>,
}

impl SaslSession for OAuthSession {
    fn initial_response(&mut self) -> Result<Vec<u8>, AuthError> {
        self.message.take().ok_or_else(|| AuthError::Mechanism {
            mechanism: "OAUTHBEARER".into(),
            detail: "initial response asked twice".into(),
        })
    }
    fn step(&mut self, server_message: &[u8]) -> Result<SaslStep, AuthError> {
        if server_message.is_empty() {
            return Ok(SaslStep::Done);
        }
        // RFC 7628 §3.2.2: on failure the server sends a JSON error and expects a lone
        // %x01 to finish; Kafka reports the failure in SaslAuthenticate's error instead,
        // but answer properly if a server does send it.
        Ok(SaslStep::Respond(vec![0x01]))
    }
}

/// Builds the client initial response (RFC 7628 §3.1) for a token.
pub(crate) fn initial_response(token: &str, extensions: &[(String, String)]) -> Vec<u8> {
    let mut m = Vec::with_capacity(32 + token.len());
    m.extend_from_slice(b"n,,\x01auth=Bearer ");
    m.extend_from_slice(token.as_bytes());
    m.push(0x01);
    for (k, v) in extensions {
        m.extend_from_slice(k.as_bytes());
        m.push(b'=');
        m.extend_from_slice(v.as_bytes());
        m.push(0x01);
    }
    m.push(0x01);
    m
}

impl SaslMechanism for OAuthBearer {
    fn name(&self) -> &str {
        "OAUTHBEARER"
    }
    fn start(&self, _broker_host: &str) -> BoxFuture<'_, Result<Box<dyn SaslSession>, AuthError>> {
        Box::pin(async move {
            let token = self.provider.token().await?;
            let m = initial_response(token.value.expose(), &token.extensions);
            Ok(Box::new(OAuthSession { message: Some(m) }) as Box<dyn SaslSession>)
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn initial_response_golden_bytes() {
        // Layout from RFC 7628 §3.1 (gs2 header "n,,", kvsep 0x01, "auth=Bearer <token>").
        let m = super::initial_response("abc", &[("traceId".into(), "42".into())]);
        assert_eq!(m, b"n,,\x01auth=Bearer abc\x01traceId=42\x01\x01");
    }
}
