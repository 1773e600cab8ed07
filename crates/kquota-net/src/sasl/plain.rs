//! SASL/PLAIN (RFC 4616): one message `authzid NUL authcid NUL passwd`, empty server reply.

use super::{BoxFuture, SaslMechanism, SaslSession, SaslStep};
use crate::config::Secret;
use crate::AuthError;

/// The PLAIN mechanism.
///
/// ```
/// use kquota_net::sasl::Plain;
/// use kquota_net::SaslMechanism;
/// assert_eq!(Plain::new("u".into(), "p".into()).name(), "PLAIN");
/// ```
#[derive(Debug, Clone)]
pub struct Plain {
    username: String,
    password: Secret,
}

impl Plain {
    /// A PLAIN mechanism for these credentials.
    pub fn new(username: String, password: Secret) -> Self {
        Plain { username, password }
    }
}

struct PlainSession {
    message: Option<Vec<u8>>,
}

impl SaslSession for PlainSession {
    fn initial_response(&mut self) -> Result<Vec<u8>, AuthError> {
        self.message.take().ok_or_else(|| AuthError::Mechanism {
            mechanism: "PLAIN".into(),
            detail: "initial response asked twice".into(),
        })
    }
    fn step(&mut self, _server_message: &[u8]) -> Result<SaslStep, AuthError> {
        // The broker answers PLAIN with an empty message on success (failures come as an
        // error code on SaslAuthenticate), so any reply completes the exchange.
        Ok(SaslStep::Done)
    }
}

impl SaslMechanism for Plain {
    fn name(&self) -> &str {
        "PLAIN"
    }
    fn start(&self, _broker_host: &str) -> BoxFuture<'_, Result<Box<dyn SaslSession>, AuthError>> {
        // Empty authzid: act as the authenticated user.
        let mut m = Vec::with_capacity(2 + self.username.len() + self.password.expose().len());
        m.push(0);
        m.extend_from_slice(self.username.as_bytes());
        m.push(0);
        m.extend_from_slice(self.password.expose().as_bytes());
        Box::pin(
            async move { Ok(Box::new(PlainSession { message: Some(m) }) as Box<dyn SaslSession>) },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn plain_message_golden_bytes() {
        let mut s = Plain::new("alice".into(), "pw".into())
            .start("b")
            .await
            .unwrap();
        assert_eq!(s.initial_response().unwrap(), b"\0alice\0pw");
        assert_eq!(s.step(b"").unwrap(), SaslStep::Done);
    }
}
