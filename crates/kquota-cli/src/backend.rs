//! Builds the connection from [`Settings`] and wraps [`kquota_admin::QuotaAdmin`] with CLI
//! error classification (exit codes).

use std::time::Duration;

use kquota_admin::{
    AdminError, AlterOutcome, AlterStep, Alteration, EntityQuotas, Filter, QuotaAdmin,
};
use kquota_net::{
    ClientConfig, Cluster, SaslConfig, ScramMechanism, Secret, Security, Target, TlsConfig,
};

use crate::connect::{SaslSettings, SecurityProtocol, Settings, TlsSettings};
use crate::exit;

pub use kquota_admin::AlterResult;

/// A connected quota admin.
pub struct Admin {
    inner: QuotaAdmin,
}

/// Converts resolved settings into a kquota-net configuration.
pub fn client_config(s: &Settings) -> anyhow::Result<ClientConfig> {
    let tls = |t: &TlsSettings| -> TlsConfig {
        let mut c = TlsConfig::new();
        if let Some(f) = &t.ca_file {
            c = c.ca_file(f.clone());
        }
        if let Some(p) = &t.ca_pem {
            c = c.ca_pem(p.as_bytes().to_vec());
        }
        if let (Some(cert), Some(key)) = (&t.cert_file, &t.key_file) {
            c = c.client_cert(cert.clone(), key.clone());
        }
        c
    };
    let sasl = |s: &SaslSettings| -> anyhow::Result<SaslConfig> {
        Ok(match s {
            SaslSettings::Plain { username, password } => SaslConfig::Plain {
                username: username.clone(),
                password: Secret::new(password.0.clone()),
            },
            SaslSettings::Scram { sha512, username, password } => SaslConfig::Scram {
                mechanism: if *sha512 { ScramMechanism::Sha512 } else { ScramMechanism::Sha256 },
                username: username.clone(),
                password: Secret::new(password.0.clone()),
            },
            SaslSettings::MskIam { .. } => {
                return Err(exit::usage(
                    "MSK IAM needs credentials loaded asynchronously: call backend::resolve_config instead of client_config",
                ))
            }
            SaslSettings::OAuthBearerUnsupported { module } => {
                return Err(exit::usage(format!(
                    "OAUTHBEARER with login module '{module}' is not supported; kquota signs MSK IAM tokens (software.amazon.msk.auth.iam.IAMLoginModule)"
                )))
            }
        })
    };
    let tls_cfg = s.tls.as_ref().map(tls).unwrap_or_default();
    let security = match s.protocol {
        SecurityProtocol::Plaintext => Security::Plaintext,
        SecurityProtocol::Ssl => Security::Ssl(tls_cfg),
        SecurityProtocol::SaslPlaintext => {
            Security::SaslPlaintext(sasl(s.sasl.as_ref().expect("sasl resolved"))?)
        }
        SecurityProtocol::SaslSsl => {
            Security::SaslSsl(sasl(s.sasl.as_ref().expect("sasl resolved"))?, tls_cfg)
        }
    };
    let mut cfg = ClientConfig::new(s.bootstrap.clone())
        .client_id(s.client_id.clone())
        .security(security);
    if let Some(ms) = s.request_timeout_ms {
        cfg = cfg.request_timeout(Duration::from_millis(ms));
    }
    Ok(cfg)
}

/// Like [`client_config`], and for MSK IAM also loads AWS credentials (default chain, profile,
/// assume-role) through kquota-iam and plugs its signer in as OAUTHBEARER token provider or
/// `AWS_MSK_IAM` mechanism.
pub async fn resolve_config(s: &Settings) -> anyhow::Result<ClientConfig> {
    let Some(SaslSettings::MskIam {
        aws_msk_iam_mechanism,
        iam,
    }) = &s.sasl
    else {
        return client_config(s);
    };
    // The client id may come from the identity secret.
    let (sasl, client_id) = msk_iam_sasl(*aws_msk_iam_mechanism, iam, &s.client_id).await?;
    let tls_only = Settings {
        sasl: None,
        protocol: SecurityProtocol::Ssl,
        client_id,
        ..s.clone()
    };
    let base = client_config(&tls_only)?;
    let tls = base.get_security().tls().cloned().unwrap_or_default();
    let security = match s.protocol {
        SecurityProtocol::SaslSsl => Security::SaslSsl(sasl, tls),
        _ => Security::SaslPlaintext(sasl),
    };
    Ok(base.security(security))
}

/// The kquota-iam configuration of resolved MSK IAM settings (what every command signs with).
#[cfg(feature = "aws-sdk")]
pub fn iam_config(
    aws_msk_iam: bool,
    iam: &crate::connect::IamSettings,
    client_id: Option<&str>,
) -> kquota_iam::IamConfig {
    use kquota_iam::{IamConfig, IamMechanism};
    let mut cfg = IamConfig::default();
    cfg.mechanism = if aws_msk_iam {
        IamMechanism::AwsMskIam
    } else {
        IamMechanism::OAuthBearer
    };
    cfg.region = iam.region.clone();
    cfg.profile = iam.profile.clone();
    cfg.assume_role_arn = iam.role_arn.clone();
    cfg.role_session_name = iam.role_session_name.clone();
    cfg.client_id = client_id.map(str::to_string);
    cfg.identity_secret = iam.identity_secret.clone();
    cfg
}

#[cfg(feature = "aws-sdk")]
async fn msk_iam_sasl(
    aws_msk_iam: bool,
    iam: &crate::connect::IamSettings,
    client_id: &str,
) -> anyhow::Result<(SaslConfig, String)> {
    use kquota_iam::aws::AwsIam;
    let cfg = iam_config(aws_msk_iam, iam, Some(client_id));
    let aws = AwsIam::load(&cfg, None)
        .await
        .map_err(|e| exit::connection(format!("MSK IAM: {e}")))?;
    let client_id = aws.client_id().unwrap_or(client_id).to_string();
    Ok((aws.signer().sasl_config(), client_id))
}

#[cfg(not(feature = "aws-sdk"))]
async fn msk_iam_sasl(
    _aws_msk_iam: bool,
    _iam: &crate::connect::IamSettings,
    _client_id: &str,
) -> anyhow::Result<(SaslConfig, String)> {
    Err(exit::usage(
        "MSK IAM needs kquota built with the aws-sdk feature",
    ))
}

/// Connects to the cluster (for the admin operations of [`kquota_admin::ops`]).
pub async fn connect_cluster(s: &Settings) -> anyhow::Result<Cluster> {
    let cfg = resolve_config(s).await?;
    Cluster::connect(cfg)
        .await
        .map_err(|e| classify(AdminError::Net(e)))
}

/// Connects to the cluster.
pub async fn connect(s: &Settings) -> anyhow::Result<Admin> {
    Ok(Admin {
        inner: QuotaAdmin::new(connect_cluster(s).await?),
    })
}

/// Maps admin errors to exit classes.
pub fn classify(e: AdminError) -> anyhow::Error {
    let msg = e.to_string();
    classify_as(&e, msg)
}

/// The exit class of `e` with another message.
pub fn classify_as(e: &AdminError, msg: String) -> anyhow::Error {
    match e {
        AdminError::Incomplete(i) => classify_as(&i.source, msg),
        AdminError::Validation(_) | AdminError::InvalidTopic(_) => exit::usage(msg),
        AdminError::Net(n) => match n {
            kquota_net::Error::Broker { .. } => exit::broker(msg),
            kquota_net::Error::Config(_) => exit::usage(msg),
            _ => exit::connection(msg),
        },
        AdminError::Broker { error, .. } if error.is_authorization() => exit::connection(msg),
        AdminError::Unsupported { .. } | AdminError::Broker { .. } => exit::broker(msg),
        _ => exit::broker(msg),
    }
}

impl Admin {
    /// Describe through any broker, or the given broker id.
    pub async fn describe(
        &self,
        filter: &Filter,
        broker: Option<i32>,
    ) -> anyhow::Result<Vec<EntityQuotas>> {
        if let Some(id) = broker {
            // A broker id the cluster does not have is "not found" (exit 3), like a missing
            // topic; without this check it would look like a connection failure.
            let md = self
                .inner
                .cluster()
                .metadata()
                .await
                .map_err(|e| classify(AdminError::Net(e)))?;
            if !md.brokers.contains_key(&id) {
                let ids: Vec<String> = md.brokers.keys().map(i32::to_string).collect();
                return Err(exit::broker(format!(
                    "--broker {id}: the cluster has no broker with id {id} (its brokers: {})",
                    ids.join(", ")
                )));
            }
        }
        let target = broker.map(Target::Broker).unwrap_or(Target::Any);
        self.inner
            .describe_on(target, filter)
            .await
            .map_err(classify)
    }

    /// Describe keeping the broker's order (kafka-configs output emulation).
    pub async fn describe_wire(
        &self,
        filter: &Filter,
    ) -> anyhow::Result<Vec<kquota_admin::WireEntry>> {
        self.inner
            .describe_wire(Target::Any, filter)
            .await
            .map_err(classify)
    }

    /// DescribeUserScramCredentials for these users (empty: every user with credentials).
    pub async fn describe_user_scram_credentials(
        &self,
        users: &[String],
    ) -> anyhow::Result<Vec<kquota_admin::UserScramCredentials>> {
        self.inner
            .describe_user_scram_credentials(users)
            .await
            .map_err(classify)
    }

    /// AlterClientQuotas in requests of up to 1 000 entities, stoppable between requests (see
    /// [`QuotaAdmin::alter_until`]). The error is left unclassified: an
    /// [`AdminError::Incomplete`] carries what the requests answered before the failure applied.
    pub async fn alter_until(
        &self,
        alts: &[Alteration],
        validate_only: bool,
        stop: impl std::future::Future<Output = ()>,
        progress: impl FnMut(AlterStep),
    ) -> Result<AlterOutcome, AdminError> {
        self.inner
            .alter_until(alts, validate_only, stop, progress)
            .await
    }

    /// Waits until every broker shows `applied` (brokers replay the controller's change a few
    /// milliseconds after it is acknowledged), so that a describe (or a load test) right after
    /// `alter` sees it. Returns the ids of brokers that still did not after [`PROPAGATION_WITHIN`].
    pub async fn wait_applied(&self, applied: &[Alteration]) -> anyhow::Result<Vec<i32>> {
        self.inner
            .wait_applied(applied, PROPAGATION_WITHIN)
            .await
            .map_err(classify)
    }
}

/// How long a quota change waits until every broker shows it.
pub const PROPAGATION_WITHIN: Duration = Duration::from_secs(10);
