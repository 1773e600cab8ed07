//! Typed errors of the connection layer.
//!
//! Every variant names the broker it happened with (its `host:port`, plus the node id when known)
//! and, where a request was involved, the API. Errors that come from the network are always
//! returned, never panicked on.

use std::time::Duration;

use kafka_protocol::messages::ApiKey;
use kafka_protocol::ResponseError;

/// An error from [`crate::Cluster`] or [`crate::BrokerConnection`].
///
/// ```
/// use kquota_net::Error;
/// let e = Error::FrameTooLarge { broker: "b1:9092".into(), size: 1 << 30, max: 100 << 20 };
/// assert!(e.to_string().contains("b1:9092"));
/// assert!(!e.is_retriable());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// TCP connection (or address resolution) failed; nothing was sent.
    #[error("cannot connect to broker {broker}: {source}")]
    Connect {
        /// Broker address.
        broker: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Reading or writing an established connection failed.
    #[error("I/O error with broker {broker}: {source}")]
    Io {
        /// Broker address.
        broker: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// No response within the request timeout (the connection is closed afterwards, as the
    /// Java client does, because a late response could otherwise be mismatched).
    #[error("{api:?} request to broker {broker} timed out after {after:?}")]
    Timeout {
        /// The API of the request.
        api: ApiKey,
        /// Broker address.
        broker: String,
        /// The timeout that elapsed.
        after: Duration,
    },
    /// Connecting took longer than the connect timeout.
    #[error("connecting to broker {broker} timed out after {after:?}")]
    ConnectTimeout {
        /// Broker address.
        broker: String,
        /// The timeout that elapsed.
        after: Duration,
    },
    /// The TLS handshake failed (untrusted certificate, wrong name...). CA, certificate or key
    /// files that cannot be loaded are [`Error::Config`].
    #[error("TLS error with broker {broker}: {detail}")]
    Tls {
        /// Broker address (or the file that could not be loaded).
        broker: String,
        /// What went wrong.
        detail: String,
    },
    /// SASL authentication failed.
    #[error(transparent)]
    Auth(#[from] crate::AuthError),
    /// The broker does not implement an API kquota needs.
    #[error("broker {broker} does not support {api:?}; {needed} is needed")]
    UnsupportedApi {
        /// The missing API.
        api: ApiKey,
        /// Broker address.
        broker: String,
        /// Which broker release is needed, e.g. "Kafka 2.6 or newer".
        needed: String,
    },
    /// The broker and kquota have no version of an API in common, or an explicit version is
    /// outside the broker's range.
    #[error("broker {broker} supports {api:?} versions {broker_min}..={broker_max}; version {requested} cannot be used")]
    UnsupportedVersion {
        /// The API.
        api: ApiKey,
        /// Broker address.
        broker: String,
        /// Version asked for (or kquota's highest).
        requested: i16,
        /// Broker's lowest version.
        broker_min: i16,
        /// Broker's highest version.
        broker_max: i16,
    },
    /// A request could not be encoded (for example a field not representable at that version).
    #[error("cannot encode {api:?} v{version} request: {detail}")]
    Encode {
        /// The API.
        api: ApiKey,
        /// The version.
        version: i16,
        /// Codec message.
        detail: String,
    },
    /// A response could not be decoded. The connection is closed afterwards.
    #[error("cannot decode {api:?} v{version} response from broker {broker}: {detail}")]
    Decode {
        /// The API.
        api: ApiKey,
        /// The version.
        version: i16,
        /// Broker address.
        broker: String,
        /// Codec message.
        detail: String,
    },
    /// The byte stream broke the protocol (unknown correlation id, short frame...). The
    /// connection is closed afterwards.
    #[error("protocol error from broker {broker}: {detail}")]
    Protocol {
        /// Broker address.
        broker: String,
        /// What was wrong.
        detail: String,
    },
    /// A response frame announced more bytes than `max_response_size`; nothing was allocated.
    #[error(
        "response frame of {size} bytes from broker {broker} exceeds the maximum of {max} bytes{}",
        tls_hint(*size)
    )]
    FrameTooLarge {
        /// Broker address.
        broker: String,
        /// Announced frame size.
        size: i64,
        /// Configured maximum.
        max: usize,
    },
    /// The connection was closed (by the peer, after an earlier error, or by [`crate::Cluster::close`]).
    #[error("connection to broker {broker} closed: {reason}{}", closed_suffix(*.request_sent, *.first_request))]
    ConnectionClosed {
        /// Broker address.
        broker: String,
        /// Why.
        reason: String,
        /// Whether the request had been written before the connection closed.
        request_sent: bool,
        /// The broker closed a new connection at its first request: at ApiVersions, or (with
        /// no SASL configured) right after it, which is what a SASL listener does to a client
        /// that does not authenticate. The message then points at `security.protocol`.
        first_request: bool,
    },
    /// The broker answered with an error code at the top level of a response.
    #[error("{api:?} failed on broker {broker}: {code}{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Broker {
        /// The API.
        api: ApiKey,
        /// Broker address.
        broker: String,
        /// The Kafka error code.
        code: ResponseError,
        /// The broker's error message, if any.
        message: Option<String>,
    },
    /// No broker is known for the target (unknown topic/partition, no leader, no controller).
    #[error("no broker available for {target}: {detail}")]
    NoBroker {
        /// The target that could not be routed.
        target: String,
        /// Why.
        detail: String,
    },
    /// The configuration is invalid (also a CA, certificate or key file that cannot be loaded).
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// The client was closed with [`crate::Cluster::close`].
    #[error("the Kafka client is closed")]
    Closed,
}

impl Error {
    /// Whether retrying the same request (after a metadata refresh / reconnect) may succeed.
    ///
    /// ```
    /// # use kquota_net::Error;
    /// let e = Error::Connect { broker: "b:9092".into(), source: std::io::ErrorKind::ConnectionRefused.into() };
    /// assert!(e.is_retriable());
    /// ```
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Connect { .. }
            | Error::ConnectTimeout { .. }
            | Error::Io { .. }
            | Error::Timeout { .. }
            | Error::ConnectionClosed { .. }
            | Error::NoBroker { .. } => true,
            Error::Broker { code, .. } => code.is_retriable(),
            _ => false,
        }
    }

    /// Whether the request certainly never reached the broker (so even a non-idempotent
    /// request can be retried safely).
    pub(crate) fn not_sent(&self) -> bool {
        match self {
            Error::Connect { .. } | Error::ConnectTimeout { .. } | Error::NoBroker { .. } => true,
            Error::ConnectionClosed { request_sent, .. } => !request_sent,
            _ => false,
        }
    }
}

fn closed_suffix(request_sent: bool, first_request: bool) -> &'static str {
    if first_request {
        " at the first request on a new connection: the listener probably requires SASL or TLS; check security.protocol (and the SASL settings)"
    } else if request_sent {
        " (the request may have been processed)"
    } else {
        ""
    }
}

/// A SASL authentication failure.
///
/// Mechanism implementations outside this crate (e.g. `AWS_MSK_IAM` in kquota-iam) build
/// [`AuthError::Mechanism`] or [`AuthError::Credentials`].
///
/// ```
/// use kquota_net::AuthError;
/// let e = AuthError::Mechanism { mechanism: "SCRAM-SHA-256".into(), detail: "bad server signature".into() };
/// assert_eq!(e.to_string(), "SCRAM-SHA-256: bad server signature");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The broker rejected the credentials (SaslAuthenticate error), with its message.
    #[error("{mechanism} authentication with broker {broker} failed: {message}")]
    Rejected {
        /// SASL mechanism name.
        mechanism: String,
        /// Broker address.
        broker: String,
        /// The broker's error message (never contains our secrets).
        message: String,
    },
    /// The broker does not enable the mechanism on this listener.
    #[error("broker {broker} does not enable SASL mechanism {mechanism}; enabled: {}", .enabled.join(", "))]
    MechanismNotEnabled {
        /// The mechanism we asked for.
        mechanism: String,
        /// Broker address.
        broker: String,
        /// The mechanisms the broker offers.
        enabled: Vec<String>,
    },
    /// The mechanism failed locally (malformed server message, server signature mismatch...).
    #[error("{mechanism}: {detail}")]
    Mechanism {
        /// SASL mechanism name.
        mechanism: String,
        /// What went wrong.
        detail: String,
    },
    /// Credentials or a token could not be obtained.
    #[error("cannot obtain credentials: {0}")]
    Credentials(String),
}

/// A plaintext client reading a TLS listener's answer takes the TLS record header (content type
/// 0x14-0x17, then version 0x03 0x0N) for a Kafka size prefix: say so instead of leaving the
/// user with an absurd frame size.
fn tls_hint(size: i64) -> &'static str {
    let content_type = (size >> 24) & 0xff;
    let major = (size >> 16) & 0xff;
    if (0x14..=0x17).contains(&content_type) && major == 0x03 {
        " (these bytes are a TLS record: the listener speaks TLS, use security.protocol SSL or SASL_SSL)"
    } else if size == 0x4854_5450 {
        // "HTTP", the start of an HTTP response.
        " (these bytes are \"HTTP\": the address is an HTTP server, not a Kafka listener)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http_answer_read_as_a_frame_size_names_http() {
        let e = Error::FrameTooLarge {
            broker: "10.0.0.1:9092".into(),
            size: i64::from(u32::from_be_bytes(*b"HTTP")),
            max: 100 * 1024 * 1024,
        };
        let text = e.to_string();
        assert!(text.contains("1213486160 bytes"), "{text}");
        assert!(
            text.contains("an HTTP server, not a Kafka listener"),
            "{text}"
        );
    }

    #[test]
    fn a_tls_alert_read_as_a_frame_size_names_tls() {
        // A TLS 1.2 alert record header, 15 03 03 00, read as a big-endian i32 size.
        let e = Error::FrameTooLarge {
            broker: "127.0.0.1:9093".into(),
            size: 0x1503_0300,
            max: 100 * 1024 * 1024,
        };
        let text = e.to_string();
        assert!(text.contains("352518912 bytes"), "{text}");
        assert!(text.contains("TLS record"), "{text}");
        let e = Error::FrameTooLarge {
            broker: "b".into(),
            size: 200 * 1024 * 1024,
            max: 100 * 1024 * 1024,
        };
        assert!(!e.to_string().contains("TLS"), "{e}");
    }
}
