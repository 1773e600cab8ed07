//! Amazon MSK IAM authentication for kquota.
//!
//! On MSK with IAM access control the principal a broker sees is the caller's IAM identity, for
//! an assumed role `arn:aws:sts::<account>:assumed-role/<role>/<role-session-name>`, and client
//! quotas are keyed on that principal plus the client-id. This crate produces what the broker
//! verifies:
//!
//! - the **OAUTHBEARER token** of the official AWS signer libraries ([`oauth_token`]): a SigV4
//!   presigned `kafka-cluster:Connect` URL, base64url without padding, byte for byte what
//!   `aws-msk-iam-sasl-signer-python` emits for the same inputs and User-Agent;
//! - the **AWS_MSK_IAM payload** of the Java `IAMLoginModule` ([`msk_iam_payload`]) and the check
//!   of the broker's reply ([`check_msk_iam_reply`]);
//! - **credentials** ([`Credentials`], [`CredentialsProvider`], [`CachedCredentials`] with a
//!   15-minute refresh margin) and, with the `aws-sdk` feature, the AWS default chain, profiles,
//!   STS AssumeRole, identity secrets from Secrets Manager and `whoami` (`aws` module);
//! - **configuration** from Java client properties or flags ([`IamConfig`]).
//!
//! The signing core is pure (no I/O) and needs neither the AWS SDK nor kquota-net.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use kquota_iam::{oauth_token, Credentials, SignOptions};
//!
//! let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None)?;
//! let opts = SignOptions::new("us-east-1")
//!     .signing_time(UNIX_EPOCH + Duration::from_secs(1_705_322_096))
//!     .user_agent("aws-msk-iam-sasl-signer-python/1.0.2");
//! let token = oauth_token(&creds, &opts)?;
//! assert_eq!(token.token().len(), 516);
//! # Ok::<(), kquota_iam::IamError>(())
//! ```
//!
//! Secrets (secret key, session token, token, signature) never appear in `Debug`, `Display`,
//! errors or logs.

#![deny(rust_2018_idioms, unsafe_code, rustdoc::broken_intra_doc_links)]
#![warn(missing_docs, missing_debug_implementations)]

#[cfg(feature = "clap")]
mod args;
#[cfg(feature = "aws-sdk")]
pub mod aws;
mod config;
mod credentials;
mod error;
mod net;
mod region;
mod sign;
mod signer;

#[cfg(feature = "clap")]
pub use args::{IamArgs, MechanismArg};
pub use config::{IamConfig, IamMechanism};
pub use net::MskIamMechanism;
pub use signer::MskSigner;

pub use credentials::{
    BoxFuture, CachedCredentials, Credentials, CredentialsProvider, StaticCredentials,
    DEFAULT_REFRESH_MARGIN,
};
pub use error::IamError;
pub use region::{is_region_name, region_from_broker_host};
pub use sign::{
    check_msk_iam_reply, default_user_agent, msk_iam_payload, oauth_token, parse_signing_time,
    MskIamReply, SignOptions, SignedPayload, SignedToken, ACTION, MAX_EXPIRY, MSK_IAM_VERSION,
    SERVICE,
};

/// The kafka-configs entity flags (also taken by `kquota configs`) for the quotas of a user
/// `principal` and, when known, its client-id, each quoted for POSIX shells when needed.
///
/// ```
/// assert_eq!(
///     kquota_iam::quota_entity_args("arn:aws:sts::111111111111:assumed-role/R/s", Some("c 1")),
///     "--entity-type users --entity-name arn:aws:sts::111111111111:assumed-role/R/s --entity-type clients --entity-name 'c 1'"
/// );
/// ```
pub fn quota_entity_args(principal: &str, client_id: Option<&str>) -> String {
    let mut s = format!(
        "--entity-type users --entity-name {}",
        shell_word(principal)
    );
    if let Some(c) = client_id {
        s.push_str(&format!(
            " --entity-type clients --entity-name {}",
            shell_word(c)
        ));
    }
    s
}

/// Quotes a word for POSIX shells when it needs it.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/@=+,%".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
