//! [`IamConfig`]: how a client authenticates with MSK IAM, from Java client properties or flags.

use crate::IamError;

/// Java class names that select MSK IAM in Kafka client properties.
const IAM_CALLBACK_HANDLER: &str =
    "software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler";
const IAM_LOGIN_MODULE: &str = "software.amazon.msk.auth.iam.IAMLoginModule";
/// Kafka's own OAUTHBEARER login module (the IAM callback handler pairs with it).
const OAUTH_LOGIN_MODULE: &str =
    "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule";

/// The SASL mechanism carrying the IAM signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IamMechanism {
    /// `OAUTHBEARER` with the official signer libraries' token (MSK Kafka ≥ 2.7.1).
    #[default]
    OAuthBearer,
    /// `AWS_MSK_IAM`, the older Java-only mechanism (JSON payload signed for the broker host).
    AwsMskIam,
}

impl IamMechanism {
    /// The SASL mechanism name sent in `SaslHandshake`.
    pub fn sasl_name(self) -> &'static str {
        match self {
            IamMechanism::OAuthBearer => "OAUTHBEARER",
            IamMechanism::AwsMskIam => "AWS_MSK_IAM",
        }
    }
}

/// How to find credentials and sign for MSK IAM.
///
/// Built from Java client properties ([`IamConfig::from_client_properties`]) or field by field
/// from flags; with the `aws-sdk` feature `IamConfig::load` turns it into live credentials.
///
/// ```
/// use kquota_iam::{IamConfig, IamMechanism};
/// let mut cfg = IamConfig::default();
/// cfg.region = Some("us-east-1".into());
/// cfg.assume_role_arn = Some("arn:aws:iam::111111111111:role/Topic-B-Write-Role".into());
/// cfg.role_session_name = Some("producerapp-1-role-session".into());
/// assert_eq!(cfg.mechanism, IamMechanism::OAuthBearer);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IamConfig {
    /// OAUTHBEARER (default) or AWS_MSK_IAM.
    pub mechanism: IamMechanism,
    /// Signing region (OAUTHBEARER scope; AWS_MSK_IAM fallback when the broker host has none)
    /// and default STS / Secrets Manager region. Else `AWS_REGION` / the profile's region.
    pub region: Option<String>,
    /// Named profile in ~/.aws/config and ~/.aws/credentials (`awsProfileName`).
    pub profile: Option<String>,
    /// Role to assume with STS before signing (`awsRoleArn`).
    pub assume_role_arn: Option<String>,
    /// Role session name; part of the principal, so keep it stable (`awsRoleSessionName`).
    pub role_session_name: Option<String>,
    /// External id for AssumeRole (`awsRoleExternalId`).
    pub external_id: Option<String>,
    /// Region of the STS endpoint (`awsStsRegion`); default: [`IamConfig::region`].
    pub sts_region: Option<String>,
    /// Secrets Manager secret (name or ARN) holding `{"client_id", "role_session_name"}`.
    pub identity_secret: Option<String>,
    /// The Kafka client-id (`client.id`), used by `whoami` to print the quota entity.
    pub client_id: Option<String>,
    /// User-Agent sent with the token (not signed); default `kquota/<version>`.
    pub user_agent: Option<String>,
    /// OAUTHBEARER host to sign instead of `kafka.<region>.amazonaws.com`.
    pub token_host: Option<String>,
    /// Endpoint override for every AWS API call (STS, Secrets Manager), e.g. a local emulator
    /// or a VPC endpoint; the `AWS_ENDPOINT_URL*` variables work as well.
    pub endpoint_url: Option<String>,
    /// Refresh cached credentials when less than this is left of their life. Default and
    /// minimum: 15 minutes (MSK answers "Session too short" for credentials close to expiry).
    pub refresh_margin: Option<std::time::Duration>,
}

impl IamConfig {
    /// Reads MSK IAM settings from Kafka client properties (`key`, `value` pairs as in a Java
    /// `.properties` file). Returns `Ok(None)` when the properties select no MSK IAM
    /// mechanism (e.g. PLAIN or SCRAM), an error when they select it incompletely or
    /// malformed.
    ///
    /// Recognised: `sasl.mechanism=OAUTHBEARER` with
    /// `sasl.login.callback.handler.class=software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler`,
    /// or `sasl.mechanism=AWS_MSK_IAM`; `sasl.jaas.config` options `awsRoleArn`,
    /// `awsRoleSessionName`, `awsProfileName`, `awsStsRegion`, `awsRoleExternalId`; `client.id`.
    ///
    /// ```
    /// use kquota_iam::{IamConfig, IamMechanism};
    /// let props = [
    ///     ("security.protocol", "SASL_SSL"),
    ///     ("sasl.mechanism", "AWS_MSK_IAM"),
    ///     ("sasl.jaas.config", r#"software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn="arn:aws:iam::111111111111:role/Topic-B-Write-Role" awsRoleSessionName="producerapp-1-role-session";"#),
    ///     ("client.id", "producerapp-1-client-id"),
    /// ];
    /// let cfg = IamConfig::from_client_properties(props)?.expect("IAM selected");
    /// assert_eq!(cfg.mechanism, IamMechanism::AwsMskIam);
    /// assert_eq!(cfg.role_session_name.as_deref(), Some("producerapp-1-role-session"));
    /// assert_eq!(cfg.client_id.as_deref(), Some("producerapp-1-client-id"));
    /// # Ok::<(), kquota_iam::IamError>(())
    /// ```
    pub fn from_client_properties<'a>(
        props: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Option<IamConfig>, IamError> {
        let mut mechanism = None;
        let mut handler = None;
        let mut jaas = None;
        let mut client_id = None;
        for (k, v) in props {
            match k.trim() {
                "sasl.mechanism" => mechanism = Some(v.trim().to_string()),
                "sasl.login.callback.handler.class" => handler = Some(v.trim().to_string()),
                "sasl.jaas.config" => jaas = Some(v.trim().to_string()),
                "client.id" => client_id = Some(v.trim().to_string()).filter(|s| !s.is_empty()),
                _ => {}
            }
        }
        let mech = match mechanism.as_deref() {
            Some("AWS_MSK_IAM") => IamMechanism::AwsMskIam,
            Some("OAUTHBEARER") => match handler.as_deref() {
                Some(IAM_CALLBACK_HANDLER) => IamMechanism::OAuthBearer,
                // OAUTHBEARER with another token source: not ours.
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        let mut cfg = IamConfig {
            mechanism: mech,
            client_id,
            ..IamConfig::default()
        };
        let jaas = match jaas {
            Some(j) => j,
            None if mech == IamMechanism::OAuthBearer => return Ok(Some(cfg)),
            None => {
                return Err(IamError::Config {
                    key: "sasl.jaas.config".into(),
                    reason: format!("missing; AWS_MSK_IAM needs `{IAM_LOGIN_MODULE} required;`"),
                })
            }
        };
        let (module, options) = parse_jaas(&jaas)?;
        let expected: &[&str] = match mech {
            IamMechanism::AwsMskIam => &[IAM_LOGIN_MODULE],
            _ => &[IAM_LOGIN_MODULE, OAUTH_LOGIN_MODULE],
        };
        if !expected.contains(&module.as_str()) {
            return Err(IamError::Config {
                key: "sasl.jaas.config".into(),
                reason: format!(
                    "login module {module} does not go with sasl.mechanism={}; use {IAM_LOGIN_MODULE}",
                    mech.sasl_name()
                ),
            });
        }
        for (k, v) in options {
            match k.as_str() {
                "awsRoleArn" => cfg.assume_role_arn = Some(v),
                "awsRoleSessionName" => cfg.role_session_name = Some(v),
                "awsProfileName" => cfg.profile = Some(v),
                "awsStsRegion" => cfg.sts_region = Some(v).filter(|r| r != "aws-global"),
                "awsRoleExternalId" => cfg.external_id = Some(v),
                "awsDebugCreds" | "awsMaxRetries" | "awsMaxBackOffTimeMs" | "awsShouldUseFips" => {
                    tracing::debug!(option = %k, "JAAS option has no effect in kquota");
                }
                "awsRoleAccessKeyId" | "awsRoleSecretAccessKey" | "awsRoleSessionToken" => {
                    return Err(IamError::Config {
                        key: "sasl.jaas.config".into(),
                        reason: format!(
                            "option {k} (credentials in a config file) is not supported; use a profile or the environment"
                        ),
                    })
                }
                other => tracing::warn!(option = %other, "unknown JAAS option ignored"),
            }
        }
        Ok(Some(cfg))
    }

    /// The refresh margin in force: [`IamConfig::refresh_margin`], at least 15 minutes.
    pub fn effective_refresh_margin(&self) -> std::time::Duration {
        self.refresh_margin
            .unwrap_or(crate::DEFAULT_REFRESH_MARGIN)
            .max(crate::DEFAULT_REFRESH_MARGIN)
    }

    /// The role session name to use: the configured one, else `kquota`. It is part of the MSK
    /// principal, so it never changes between refreshes.
    pub fn effective_role_session_name(&self) -> &str {
        self.role_session_name.as_deref().unwrap_or("kquota")
    }
}

/// Parses `<LoginModule> <flag> key="value" key=value ...;` (one JAAS entry) into the module
/// class and its options. Values may be double-quoted with `\"` and `\\` escapes.
fn parse_jaas(s: &str) -> Result<(String, Vec<(String, String)>), IamError> {
    let err = |reason: String| IamError::Config {
        key: "sasl.jaas.config".into(),
        reason,
    };
    let body = s.trim();
    let body = body
        .strip_suffix(';')
        .ok_or_else(|| err("must end with `;`".into()))?;
    let mut chars = body.chars().peekable();
    let mut word = || -> String {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut w = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            w.push(c);
            chars.next();
        }
        w
    };
    let module = word();
    let flag = word();
    if module.is_empty() {
        return Err(err("empty; expected `<LoginModule> required ...;`".into()));
    }
    if !["required", "requisite", "sufficient", "optional"].contains(&flag.as_str()) {
        return Err(err(format!(
            "expected a control flag (required) after {module}, found {flag:?}"
        )));
    }
    let mut options = Vec::new();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.next() != Some('=') || key.is_empty() {
            return Err(err(format!("expected key=value, found {key:?}")));
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some(e) => value.push(e),
                        None => break,
                    },
                    c => value.push(c),
                }
            }
            if !closed {
                return Err(err(format!("unterminated quote in the value of {key}")));
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        options.push((key, value));
    }
    Ok((module, options))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauthbearer_with_iam_handler() {
        let props = [
            ("sasl.mechanism", "OAUTHBEARER"),
            ("sasl.login.callback.handler.class", IAM_CALLBACK_HANDLER),
            (
                "sasl.jaas.config",
                "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required awsProfileName=dev awsStsRegion=\"eu-west-1\";",
            ),
        ];
        let cfg = IamConfig::from_client_properties(props).unwrap().unwrap();
        assert_eq!(cfg.mechanism, IamMechanism::OAuthBearer);
        assert_eq!(cfg.profile.as_deref(), Some("dev"));
        assert_eq!(cfg.sts_region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn full_jaas_options_and_escapes() {
        let jaas = r#"software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn="arn:aws:iam::111111111111:role/R" awsRoleSessionName="s \"q\"" awsProfileName="p" awsStsRegion="aws-global" awsRoleExternalId=x1;"#;
        let cfg = IamConfig::from_client_properties([
            ("sasl.mechanism", "AWS_MSK_IAM"),
            ("sasl.jaas.config", jaas),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            cfg.assume_role_arn.as_deref(),
            Some("arn:aws:iam::111111111111:role/R")
        );
        assert_eq!(cfg.role_session_name.as_deref(), Some("s \"q\""));
        assert_eq!(
            cfg.sts_region, None,
            "aws-global means: use the default region"
        );
        assert_eq!(cfg.external_id.as_deref(), Some("x1"));
    }

    #[test]
    fn other_mechanisms_are_not_iam() {
        assert_eq!(
            IamConfig::from_client_properties([("sasl.mechanism", "SCRAM-SHA-512")]).unwrap(),
            None
        );
        assert_eq!(
            IamConfig::from_client_properties([("sasl.mechanism", "OAUTHBEARER")]).unwrap(),
            None
        );
        assert_eq!(IamConfig::from_client_properties([]).unwrap(), None);
    }

    #[test]
    fn malformed_jaas_is_a_one_line_error() {
        let bad = [
            "software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn=\"x;",
            "software.amazon.msk.auth.iam.IAMLoginModule required",
            "software.amazon.msk.auth.iam.IAMLoginModule maybe;",
            "org.example.Other required;",
            "software.amazon.msk.auth.iam.IAMLoginModule required =x;",
            "software.amazon.msk.auth.iam.IAMLoginModule required awsRoleSecretAccessKey=\"s\";",
        ];
        for jaas in bad {
            let e = IamConfig::from_client_properties([
                ("sasl.mechanism", "AWS_MSK_IAM"),
                ("sasl.jaas.config", jaas),
            ])
            .unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.starts_with("invalid client property sasl.jaas.config"),
                "{msg}"
            );
            assert!(!msg.contains('\n'));
        }
        assert!(IamConfig::from_client_properties([("sasl.mechanism", "AWS_MSK_IAM")]).is_err());
    }
}
