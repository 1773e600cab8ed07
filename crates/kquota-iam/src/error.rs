//! Typed errors of kquota-iam.
//!
//! Every variant renders as one line that says which source failed and how to fix it. No variant
//! ever carries a secret key, session token, signature or token: messages are built only from
//! names, ARNs, regions, error codes and AWS service messages.

use std::time::SystemTime;

/// Everything that can go wrong while finding credentials, signing or authenticating.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IamError {
    /// A credential value is unusable (for example an empty access key id).
    #[error("invalid AWS credentials from {source_name}: {reason}")]
    InvalidCredentials {
        /// Where the credentials came from (e.g. "static credentials", "profile dev").
        source_name: String,
        /// What is wrong with them.
        reason: String,
    },
    /// The credentials expired before the token could be signed.
    #[error(
        "AWS credentials from {source_name} expired at {} (signing time {}): refresh them (new keys, `aws sso login`, or a new assume-role session)",
        httpdate::fmt_http_date(*expired_at),
        httpdate::fmt_http_date(*signing_time)
    )]
    ExpiredCredentials {
        /// Where the credentials came from.
        source_name: String,
        /// When they expired.
        expired_at: SystemTime,
        /// The signing time that was requested.
        signing_time: SystemTime,
    },
    /// No region was configured and none could be derived.
    #[error("no AWS region for {what}: pass --region (or awsStsRegion / AWS_REGION)")]
    NoRegion {
        /// What needed the region (e.g. "the OAUTHBEARER token").
        what: String,
    },
    /// A region string is not a valid AWS region name.
    #[error("invalid AWS region {region:?}: expected a region name such as us-east-1")]
    InvalidRegion {
        /// The rejected value.
        region: String,
    },
    /// A caller-supplied argument is out of range or malformed.
    #[error("invalid {name}: {reason}")]
    InvalidArgument {
        /// The argument's name (flag, property or field).
        name: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A Java-style client property or JAAS option could not be understood.
    #[error("invalid client property {key}: {reason}")]
    Config {
        /// The property key (e.g. `sasl.jaas.config`).
        key: String,
        /// Why it was rejected.
        reason: String,
    },
    /// SigV4 signing failed inside aws-sigv4.
    #[error("SigV4 signing of the MSK IAM request failed: {0}")]
    Signing(String),
    /// A credential source (default chain, profile, web identity, container, IMDS) failed.
    #[error("could not load AWS credentials from {source_name}: {message}; {hint}")]
    CredentialSource {
        /// Which source failed.
        source_name: String,
        /// The source's own message.
        message: String,
        /// How to fix it.
        hint: &'static str,
    },
    /// An AWS API call (STS, Secrets Manager) failed.
    #[error("AWS {service} {operation}{} failed: {message}; {hint}", target.as_ref().map(|t| format!(" for {t}")).unwrap_or_default())]
    Aws {
        /// The service name, e.g. "STS".
        service: &'static str,
        /// The operation, e.g. "AssumeRole".
        operation: &'static str,
        /// The resource the call was about (role ARN, secret id), if any.
        target: Option<String>,
        /// The AWS error code, if the service answered (e.g. "AccessDenied").
        code: Option<String>,
        /// The service's message or the transport error.
        message: String,
        /// How to fix it.
        hint: &'static str,
    },
    /// The identity secret exists but its content is unusable.
    #[error("identity secret {secret_id}: {reason}; store a JSON object like {{\"client_id\": \"...\", \"role_session_name\": \"...\"}}")]
    IdentitySecret {
        /// The secret id or ARN.
        secret_id: String,
        /// What is wrong with the content (never the content itself).
        reason: String,
    },
    /// The broker's reply to an AWS_MSK_IAM authentication is not what the protocol requires.
    #[error("unexpected AWS_MSK_IAM reply from broker: {0}")]
    ServerReply(String),
}

impl IamError {
    pub(crate) fn invalid_argument(name: impl Into<String>, reason: impl Into<String>) -> Self {
        IamError::InvalidArgument {
            name: name.into(),
            reason: reason.into(),
        }
    }
}
