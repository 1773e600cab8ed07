//! SCRAM-SHA-256 / SCRAM-SHA-512 client (RFC 5802, RFC 7677) as a sans-IO state machine.
//!
//! Messages (no channel binding, gs2 header `n,,`):
//! client-first `n,,n=<user>,r=<cnonce>` → server-first `r=<cnonce+snonce>,s=<salt>,i=<iter>` →
//! client-final `c=biws,r=<nonce>,p=<proof>` → server-final `v=<server signature>` (verified).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::{Digest, Sha256, Sha512};

use super::{BoxFuture, SaslMechanism, SaslSession, SaslStep};
use crate::config::{ScramMechanism, Secret};
use crate::AuthError;

/// Kafka's minimum iteration count for both SCRAM mechanisms (`ScramMechanism.minIterations`).
pub const MIN_ITERATIONS: u32 = 4096;
/// Upper bound accepted from a server, so a hostile one cannot make us spin for hours.
pub const MAX_ITERATIONS: u32 = 1_000_000;

/// The SCRAM mechanism (factory of [`ScramClient`] sessions).
///
/// ```
/// use kquota_net::{sasl::Scram, SaslMechanism, ScramMechanism};
/// let m = Scram::new(ScramMechanism::Sha512, "alice".into(), "pw".into());
/// assert_eq!(m.name(), "SCRAM-SHA-512");
/// ```
#[derive(Debug, Clone)]
pub struct Scram {
    mechanism: ScramMechanism,
    username: String,
    password: Secret,
}

impl Scram {
    /// SCRAM with these credentials.
    pub fn new(mechanism: ScramMechanism, username: String, password: Secret) -> Self {
        Scram {
            mechanism,
            username,
            password,
        }
    }
}

impl SaslMechanism for Scram {
    fn name(&self) -> &str {
        self.mechanism.mechanism_name()
    }
    fn start(&self, _broker_host: &str) -> BoxFuture<'_, Result<Box<dyn SaslSession>, AuthError>> {
        let nonce: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        let c =
            ScramClient::with_nonce(self.mechanism, &self.username, self.password.clone(), nonce);
        Box::pin(async move { Ok(Box::new(c) as Box<dyn SaslSession>) })
    }
}

#[derive(Debug)]
enum State {
    Initial,
    SentFirst { client_first_bare: String },
    SentFinal { server_signature: Vec<u8> },
    Done,
}

/// One SCRAM exchange. Public so the RFC 7677 vector can be checked with a fixed nonce.
///
/// ```
/// use kquota_net::{sasl::scram::ScramClient, ScramMechanism, SaslSession};
/// let mut c = ScramClient::with_nonce(ScramMechanism::Sha256, "user", "pencil".into(),
///     "rOprNGfwEbeRWgbNEkqO".into());
/// assert_eq!(c.initial_response().unwrap(), b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
/// ```
pub struct ScramClient {
    mechanism: ScramMechanism,
    username: String,
    password: Secret,
    nonce: String,
    state: State,
}

impl std::fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramClient")
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl ScramClient {
    /// A client with a chosen nonce (printable, no `,`).
    pub fn with_nonce(
        mechanism: ScramMechanism,
        username: &str,
        password: Secret,
        nonce: String,
    ) -> Self {
        ScramClient {
            mechanism,
            username: username.to_owned(),
            password,
            nonce,
            state: State::Initial,
        }
    }

    fn err(&self, detail: impl Into<String>) -> AuthError {
        AuthError::Mechanism {
            mechanism: self.mechanism.mechanism_name().into(),
            detail: detail.into(),
        }
    }

    fn hmac(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, AuthError> {
        // HMAC accepts keys of any length, so `new_from_slice` cannot fail; map it anyway.
        match self.mechanism {
            ScramMechanism::Sha256 => {
                let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
                    .map_err(|e| self.err(e.to_string()))?;
                m.update(data);
                Ok(m.finalize().into_bytes().to_vec())
            }
            ScramMechanism::Sha512 => {
                let mut m = <Hmac<Sha512> as KeyInit>::new_from_slice(key)
                    .map_err(|e| self.err(e.to_string()))?;
                m.update(data);
                Ok(m.finalize().into_bytes().to_vec())
            }
        }
    }

    fn hash(&self, data: &[u8]) -> Vec<u8> {
        match self.mechanism {
            ScramMechanism::Sha256 => Sha256::digest(data).to_vec(),
            ScramMechanism::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    fn salted_password(&self, salt: &[u8], iterations: u32) -> Vec<u8> {
        match self.mechanism {
            ScramMechanism::Sha256 => {
                let mut out = [0u8; 32];
                pbkdf2::pbkdf2_hmac::<Sha256>(
                    self.password.expose().as_bytes(),
                    salt,
                    iterations,
                    &mut out,
                );
                out.to_vec()
            }
            ScramMechanism::Sha512 => {
                let mut out = [0u8; 64];
                pbkdf2::pbkdf2_hmac::<Sha512>(
                    self.password.expose().as_bytes(),
                    salt,
                    iterations,
                    &mut out,
                );
                out.to_vec()
            }
        }
    }

    fn client_first(&mut self) -> Result<Vec<u8>, AuthError> {
        if !matches!(self.state, State::Initial) {
            return Err(self.err("client-first message asked twice"));
        }
        // RFC 5802 §5.1: saslname escapes '=' and ','.
        let user = self.username.replace('=', "=3D").replace(',', "=2C");
        let bare = format!("n={user},r={}", self.nonce);
        let msg = format!("n,,{bare}");
        self.state = State::SentFirst {
            client_first_bare: bare,
        };
        Ok(msg.into_bytes())
    }

    fn client_final(&mut self, server_first: &[u8]) -> Result<Vec<u8>, AuthError> {
        let State::SentFirst { client_first_bare } = &self.state else {
            return Err(self.err("unexpected server-first message"));
        };
        let client_first_bare = client_first_bare.clone();
        let server_first = std::str::from_utf8(server_first)
            .map_err(|_| self.err("server-first message is not UTF-8"))?;
        let (mut nonce, mut salt, mut iterations) = (None, None, None);
        for (i, attr) in server_first.split(',').enumerate() {
            match attr.split_once('=') {
                Some(("m", _)) if i == 0 => {
                    return Err(self.err("server requires an unsupported extension (m=)"))
                }
                Some(("e", e)) => return Err(self.err(format!("server error: {e}"))),
                Some(("r", v)) => nonce = Some(v),
                Some(("s", v)) => {
                    salt = Some(
                        B64.decode(v)
                            .map_err(|_| self.err("server salt is not base64"))?,
                    )
                }
                Some(("i", v)) => {
                    iterations = Some(
                        v.parse::<u32>()
                            .map_err(|_| self.err("server iteration count is not a number"))?,
                    )
                }
                _ => {}
            }
        }
        let (Some(nonce), Some(salt), Some(iterations)) = (nonce, salt, iterations) else {
            return Err(self.err("server-first message lacks r=, s= or i="));
        };
        if !nonce.starts_with(&self.nonce) || nonce.len() <= self.nonce.len() {
            return Err(self.err("server nonce does not extend the client nonce"));
        }
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
            return Err(self.err(format!(
                "server iteration count {iterations} outside {MIN_ITERATIONS}..={MAX_ITERATIONS}"
            )));
        }
        let salted = self.salted_password(&salt, iterations);
        let client_key = self.hmac(&salted, b"Client Key")?;
        let stored_key = self.hash(&client_key);
        // "biws" = base64("n,,"), the gs2 header without channel binding.
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let client_signature = self.hmac(&stored_key, auth_message.as_bytes())?;
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&client_signature)
            .map(|(a, b)| a ^ b)
            .collect();
        let server_key = self.hmac(&salted, b"Server Key")?;
        let server_signature = self.hmac(&server_key, auth_message.as_bytes())?;
        self.state = State::SentFinal { server_signature };
        Ok(format!("{without_proof},p={}", B64.encode(proof)).into_bytes())
    }

    fn verify_server_final(&mut self, server_final: &[u8]) -> Result<(), AuthError> {
        let State::SentFinal { server_signature } = &self.state else {
            return Err(self.err("unexpected server-final message"));
        };
        let text = std::str::from_utf8(server_final)
            .map_err(|_| self.err("server-final message is not UTF-8"))?;
        let first = text.split(',').next().unwrap_or("");
        if let Some(e) = first.strip_prefix("e=") {
            return Err(self.err(format!("server error: {e}")));
        }
        let Some(v) = first.strip_prefix("v=") else {
            return Err(self.err("server-final message lacks v="));
        };
        let got = B64
            .decode(v)
            .map_err(|_| self.err("server signature is not base64"))?;
        // Compare without an early exit.
        let same = got.len() == server_signature.len()
            && got
                .iter()
                .zip(server_signature)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return Err(
                self.err("server signature mismatch: the broker does not know the password")
            );
        }
        self.state = State::Done;
        Ok(())
    }
}

impl SaslSession for ScramClient {
    fn initial_response(&mut self) -> Result<Vec<u8>, AuthError> {
        self.client_first()
    }
    fn step(&mut self, server_message: &[u8]) -> Result<SaslStep, AuthError> {
        match self.state {
            State::SentFirst { .. } => Ok(SaslStep::Respond(self.client_final(server_message)?)),
            State::SentFinal { .. } => {
                self.verify_server_final(server_message)?;
                Ok(SaslStep::Done)
            }
            State::Initial | State::Done => Err(self.err("unexpected server message")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 §3 test vector (SCRAM-SHA-256, user "user", password "pencil", 4096 iterations).
    #[test]
    fn rfc7677_sha256_vector() {
        let mut c = ScramClient::with_nonce(
            ScramMechanism::Sha256,
            "user",
            "pencil".into(),
            "rOprNGfwEbeRWgbNEkqO".into(),
        );
        assert_eq!(
            c.initial_response().unwrap(),
            b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
        );
        let server_first = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let SaslStep::Respond(final_msg) = c.step(server_first).unwrap() else {
            panic!("expected client-final")
        };
        assert_eq!(
            String::from_utf8(final_msg).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert_eq!(
            c.step(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
                .unwrap(),
            SaslStep::Done
        );
    }

    #[test]
    fn wrong_server_signature_is_rejected() {
        let mut c = ScramClient::with_nonce(
            ScramMechanism::Sha256,
            "user",
            "pencil".into(),
            "rOprNGfwEbeRWgbNEkqO".into(),
        );
        c.initial_response().unwrap();
        c.step(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096").unwrap();
        let e = c
            .step(b"v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap_err();
        assert!(e.to_string().contains("server signature mismatch"), "{e}");
    }

    #[test]
    fn hostile_server_first_messages_are_errors() {
        for bad in [
            &b"r=other,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"[..],
            b"r=abc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", // nonce not extended
            b"r=abcX,s=***,i=4096",
            b"r=abcX,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1",
            b"r=abcX,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4294967295",
            b"m=ext,r=abcX,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            b"e=other-error",
            b"\xff\xfe",
            b"",
        ] {
            let mut c =
                ScramClient::with_nonce(ScramMechanism::Sha512, "u", "p".into(), "abc".into());
            c.initial_response().unwrap();
            assert!(c.step(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn username_is_escaped() {
        let mut c =
            ScramClient::with_nonce(ScramMechanism::Sha256, "a=b,c", "p".into(), "n".into());
        assert_eq!(c.initial_response().unwrap(), b"n,,n=a=3Db=2Cc,r=n");
    }
}
