//! DescribeUserScramCredentials (API key 50): which SCRAM mechanisms a user has, and with how
//! many iterations. kquota never reads or changes the credentials themselves.

use kquota_net::kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
use kquota_net::kafka_protocol::messages::{ApiKey, DescribeUserScramCredentialsRequest};
use kquota_net::kafka_protocol::protocol::StrBytes;
use kquota_net::Target;

use crate::client::{map_net, AdminError, BrokerError, QuotaAdmin};

/// `RESOURCE_NOT_FOUND`: the broker's answer for a requested user without SCRAM credentials.
pub const RESOURCE_NOT_FOUND: i16 = 91;

/// A SCRAM mechanism as the broker numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScramMechanism {
    /// `SCRAM-SHA-256` (type 1).
    Sha256,
    /// `SCRAM-SHA-512` (type 2).
    Sha512,
    /// Any other type number.
    Unknown(i8),
}

impl ScramMechanism {
    /// From the wire's type number.
    pub fn from_type(t: i8) -> ScramMechanism {
        match t {
            1 => ScramMechanism::Sha256,
            2 => ScramMechanism::Sha512,
            other => ScramMechanism::Unknown(other),
        }
    }

    /// The mechanism name (`SCRAM-SHA-256`, `SCRAM-SHA-512`; `UNKNOWN` like Java's
    /// `ScramMechanism.UNKNOWN`).
    pub fn name(self) -> &'static str {
        match self {
            ScramMechanism::Sha256 => "SCRAM-SHA-256",
            ScramMechanism::Sha512 => "SCRAM-SHA-512",
            ScramMechanism::Unknown(_) => "UNKNOWN",
        }
    }
}

/// One credential of a user: its mechanism and iteration count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScramCredentialInfo {
    /// The mechanism.
    pub mechanism: ScramMechanism,
    /// The iteration count.
    pub iterations: i32,
}

/// The broker's answer for one user, in the order of the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserScramCredentials {
    /// The user name (without `User:`).
    pub user: String,
    /// Its credentials, or the per-user error (`RESOURCE_NOT_FOUND` when it has none).
    pub result: Result<Vec<ScramCredentialInfo>, BrokerError>,
}

impl QuotaAdmin {
    /// DescribeUserScramCredentials for `users`, or for every user with credentials when
    /// `users` is empty. Results keep the broker's order; a requested user without credentials
    /// comes back with a `RESOURCE_NOT_FOUND` ([`RESOURCE_NOT_FOUND`]) error. A request-level
    /// error (e.g. `CLUSTER_AUTHORIZATION_FAILED`) is [`AdminError::Broker`].
    ///
    /// ```no_run
    /// # async fn demo(admin: kquota_admin::QuotaAdmin) -> Result<(), kquota_admin::AdminError> {
    /// for u in admin.describe_user_scram_credentials(&["alice".to_string()]).await? {
    ///     match u.result {
    ///         Ok(creds) => {
    ///             for c in creds {
    ///                 println!("{}: {} x{}", u.user, c.mechanism.name(), c.iterations);
    ///             }
    ///         }
    ///         Err(e) => println!("{}: {e}", u.user),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn describe_user_scram_credentials(
        &self,
        users: &[String],
    ) -> Result<Vec<UserScramCredentials>, AdminError> {
        let mut req = DescribeUserScramCredentialsRequest::default();
        req.users = (!users.is_empty()).then(|| {
            users
                .iter()
                .map(|u| {
                    let mut n = UserName::default();
                    n.name = StrBytes::from_string(u.clone());
                    n
                })
                .collect()
        });
        let resp = self
            .cluster()
            .send(Target::Any, req)
            .await
            .map_err(|e| map_net(e, ApiKey::DescribeUserScramCredentials))?;
        let body = resp.body;
        if body.error_code != 0 {
            return Err(AdminError::Broker {
                api: ApiKey::DescribeUserScramCredentials,
                broker_id: resp.broker_id,
                error: BrokerError::from_code(
                    body.error_code,
                    body.error_message.as_ref().map(|m| m.as_str()),
                ),
            });
        }
        Ok(body
            .results
            .into_iter()
            .map(|r| UserScramCredentials {
                user: r.user.as_str().to_string(),
                result: if r.error_code == 0 {
                    Ok(r.credential_infos
                        .iter()
                        .map(|c| ScramCredentialInfo {
                            mechanism: ScramMechanism::from_type(c.mechanism),
                            iterations: c.iterations,
                        })
                        .collect())
                } else {
                    Err(BrokerError::from_code(
                        r.error_code,
                        r.error_message.as_ref().map(|m| m.as_str()),
                    ))
                },
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mechanism_names() {
        assert_eq!(ScramMechanism::from_type(1).name(), "SCRAM-SHA-256");
        assert_eq!(ScramMechanism::from_type(2).name(), "SCRAM-SHA-512");
        assert_eq!(ScramMechanism::from_type(9), ScramMechanism::Unknown(9));
        assert_eq!(ScramMechanism::Unknown(9).name(), "UNKNOWN");
    }
}
