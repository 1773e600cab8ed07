//! [`IamArgs`]: the MSK IAM command-line flags, shared by every `kquota` command that connects.

use crate::{IamConfig, IamMechanism};

/// MSK IAM flags. Flatten into a clap command with `#[command(flatten)]`, then call
/// [`IamArgs::to_config`] (or [`IamArgs::apply_to`] to override a config read from a properties
/// file).
///
/// ```
/// use clap::Parser;
/// use kquota_iam::IamArgs;
/// #[derive(Parser)]
/// struct Cli {
///     #[command(flatten)]
///     iam: IamArgs,
/// }
/// let cli = Cli::parse_from(["kquota", "--region", "us-east-1",
///     "--assume-role-arn", "arn:aws:iam::111111111111:role/Topic-B-Write-Role",
///     "--role-session-name", "producerapp-1-role-session"]);
/// let cfg = cli.iam.to_config();
/// assert_eq!(cfg.role_session_name.as_deref(), Some("producerapp-1-role-session"));
/// ```
#[derive(Debug, Clone, Default, clap::Args)]
pub struct IamArgs {
    /// AWS region for signing, STS and Secrets Manager [default: AWS_REGION / profile region]
    #[arg(long, visible_alias = "aws-region", value_name = "REGION")]
    pub region: Option<String>,
    /// Named AWS profile from ~/.aws/config and ~/.aws/credentials
    #[arg(long, visible_alias = "aws-profile", value_name = "NAME")]
    pub profile: Option<String>,
    /// Role to assume with STS before signing (the broker sees the assumed-role ARN)
    #[arg(long, visible_alias = "aws-role-arn", value_name = "ARN")]
    pub assume_role_arn: Option<String>,
    /// Role session name; part of the principal, keep it stable [default: kquota]
    #[arg(long, visible_alias = "aws-role-session-name", value_name = "NAME")]
    pub role_session_name: Option<String>,
    /// External id for AssumeRole
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// Region of the STS endpoint [default: --region]
    #[arg(long, value_name = "REGION")]
    pub sts_region: Option<String>,
    /// Secrets Manager secret (name or ARN) whose JSON holds client_id and role_session_name
    #[arg(long, value_name = "SECRET")]
    pub identity_secret: Option<String>,
    /// SASL mechanism carrying the IAM signature
    #[arg(long = "iam-mechanism", value_enum, value_name = "MECHANISM")]
    pub iam_mechanism: Option<MechanismArg>,
    /// Host to sign OAUTHBEARER tokens for [default: kafka.<region>.amazonaws.com]
    #[arg(long, value_name = "HOST")]
    pub token_host: Option<String>,
    /// Endpoint URL for STS and Secrets Manager calls (VPC endpoint, local emulator)
    #[arg(long, value_name = "URL")]
    pub aws_endpoint_url: Option<String>,
}

/// `--iam-mechanism` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MechanismArg {
    /// OAUTHBEARER with the AWS signer token
    Oauthbearer,
    /// AWS_MSK_IAM (older Java mechanism)
    AwsMskIam,
}

impl From<MechanismArg> for IamMechanism {
    fn from(m: MechanismArg) -> Self {
        match m {
            MechanismArg::Oauthbearer => IamMechanism::OAuthBearer,
            MechanismArg::AwsMskIam => IamMechanism::AwsMskIam,
        }
    }
}

impl IamArgs {
    /// A config from the flags alone.
    pub fn to_config(&self) -> IamConfig {
        let mut cfg = IamConfig::default();
        self.apply_to(&mut cfg);
        cfg
    }

    /// Overrides `cfg` (e.g. read from a properties file) with every flag that was given.
    pub fn apply_to(&self, cfg: &mut IamConfig) {
        fn set(dst: &mut Option<String>, src: &Option<String>) {
            if src.is_some() {
                dst.clone_from(src);
            }
        }
        set(&mut cfg.region, &self.region);
        set(&mut cfg.profile, &self.profile);
        set(&mut cfg.assume_role_arn, &self.assume_role_arn);
        set(&mut cfg.role_session_name, &self.role_session_name);
        set(&mut cfg.external_id, &self.external_id);
        set(&mut cfg.sts_region, &self.sts_region);
        set(&mut cfg.identity_secret, &self.identity_secret);
        set(&mut cfg.token_host, &self.token_host);
        set(&mut cfg.endpoint_url, &self.aws_endpoint_url);
        if let Some(m) = self.iam_mechanism {
            cfg.mechanism = m.into();
        }
    }
}
