//! `kquota whoami`: the principal the broker will see, the client-id, and the exact quota
//! entity flags for `kquota quotas alter` / `kquota configs`.
//!
//! It takes the connection flags of every other command (and the app identity flags of
//! produce/consume) and resolves them the same way, so it shows who those commands
//! authenticate as: MSK IAM asks STS (GetCallerIdentity after any assume-role), SASL PLAIN and
//! SCRAM are the configured user name (no AWS call, no credentials needed), no SASL is
//! `ANONYMOUS`. With no security settings at all (flags or `--command-config`) it assumes MSK
//! IAM, its main use. It does not connect to Kafka.

use clap::Args;

use crate::connect::{
    AppIdentityArgs, ConnectArgs, SaslMechanismArg, SaslSettings, SecurityProtocol,
};
use crate::exit;

/// Arguments of `kquota whoami`.
#[derive(Args, Debug)]
pub struct WhoamiArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,

    #[command(flatten)]
    pub identity: AppIdentityArgs,

    /// External id for the AssumeRole of MSK IAM.
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,

    /// Region of the STS endpoint (MSK IAM) [default: the signing region].
    #[arg(long, value_name = "REGION")]
    pub sts_region: Option<String>,

    /// Endpoint URL for the STS and Secrets Manager calls of MSK IAM (VPC endpoint, emulator).
    #[arg(long, value_name = "URL")]
    pub aws_endpoint_url: Option<String>,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Who the broker sees.
struct Identity {
    principal: String,
    /// How: `SASL PLAIN`, `MSK IAM (OAUTHBEARER)`, ...
    via: String,
    mechanism: Option<&'static str>,
    client_id: Option<String>,
    /// MSK IAM only: account, user id, role session name, region.
    aws: Option<[Option<String>; 4]>,
}

/// Runs `kquota whoami`.
pub async fn run(args: WhoamiArgs) -> anyhow::Result<()> {
    let mut connect = args.connect.clone();
    connect.bootstrap_optional = true;
    let mut settings = args.identity.settings_for(&connect, None)?;
    let in_file = |k: &str| settings.properties.iter().any(|p| p.key == k);
    let configured = connect.security_protocol.is_some()
        || connect.sasl_mechanism.is_some()
        || connect.sasl_username.is_some()
        || in_file("security.protocol")
        || in_file("sasl.mechanism");
    if !configured {
        // Nothing says how to authenticate: whoami is mostly asked about MSK IAM.
        connect.security_protocol = Some(SecurityProtocol::SaslSsl);
        connect.sasl_mechanism = Some(SaslMechanismArg::OAuthBearer);
        settings = args.identity.settings_for(&connect, None)?;
    }
    for w in &settings.warnings {
        eprintln!("warning: {w}");
    }
    // The client-id the app presents, if one was given (kquota's own default is not one).
    let client_id = (args.identity.client_id.is_some()
        || connect.connect_client_id.is_some()
        || settings.properties.iter().any(|p| p.key == "client.id"))
    .then(|| settings.client_id.clone());
    let me = match &settings.sasl {
        Some(SaslSettings::Plain { username, .. }) => Identity {
            principal: username.clone(),
            via: format!("SASL PLAIN (the broker sees User:{username})"),
            mechanism: Some("PLAIN"),
            client_id,
            aws: None,
        },
        Some(SaslSettings::Scram {
            sha512, username, ..
        }) => {
            let m = if *sha512 {
                "SCRAM-SHA-512"
            } else {
                "SCRAM-SHA-256"
            };
            Identity {
                principal: username.clone(),
                via: format!("SASL {m} (the broker sees User:{username})"),
                mechanism: Some(m),
                client_id,
                aws: None,
            }
        }
        Some(SaslSettings::MskIam {
            aws_msk_iam_mechanism,
            iam,
        }) => msk_iam(&args, *aws_msk_iam_mechanism, iam, client_id).await?,
        Some(SaslSettings::OAuthBearerUnsupported { module }) => {
            return Err(exit::usage(format!(
                "OAUTHBEARER with login module '{}' is not supported; kquota signs MSK IAM tokens (software.amazon.msk.auth.iam.IAMLoginModule)",
                kquota_admin::model::escape_controls(module)
            )))
        }
        None => {
            if settings.tls.as_ref().is_some_and(|t| t.cert_file.is_some()) {
                return Err(exit::usage(
                    "with a TLS client certificate the principal is the certificate's subject as the broker's ssl.principal.mapping.rules map it; kquota whoami does not read certificates",
                ));
            }
            Identity {
                principal: "ANONYMOUS".into(),
                via: format!(
                    "no authentication ({}): every unauthenticated client is User:ANONYMOUS",
                    match settings.protocol {
                        SecurityProtocol::Ssl => "SSL",
                        _ => "PLAINTEXT",
                    }
                ),
                mechanism: None,
                client_id,
                aws: None,
            }
        }
    };
    let entity = kquota_iam::quota_entity_args(&me.principal, me.client_id.as_deref());
    if args.json {
        let [account, user_id, session, region] = me.aws.clone().unwrap_or_default();
        let out = serde_json::json!({
            "principal": me.principal,
            "mechanism": me.mechanism,
            "account": account,
            "user_id": user_id,
            "client_id": me.client_id,
            "role_session_name": session,
            "region": region,
            "quota_entity": entity,
        });
        println!("{out}");
    } else {
        use kquota_admin::model::escape_controls;
        println!("principal:    {}", escape_controls(&me.principal));
        match &me.aws {
            Some([account, ..]) => {
                println!("account:      {}", account.as_deref().unwrap_or("?"))
            }
            None => println!("via:          {}", escape_controls(&me.via)),
        }
        println!(
            "client-id:    {}",
            me.client_id
                .as_deref()
                .map(escape_controls)
                .unwrap_or("(not set: pass --client-id)".into())
        );
        println!("quota entity: {}", escape_controls(&entity));
    }
    Ok(())
}

/// MSK IAM: the caller as STS sees it, with the credentials the other commands sign with.
#[cfg(feature = "aws-sdk")]
async fn msk_iam(
    args: &WhoamiArgs,
    aws_msk_iam: bool,
    iam: &crate::connect::IamSettings,
    client_id: Option<String>,
) -> anyhow::Result<Identity> {
    use super::token::classify;
    let mut cfg = crate::backend::iam_config(aws_msk_iam, iam, client_id.as_deref());
    cfg.external_id.clone_from(&args.external_id);
    cfg.sts_region.clone_from(&args.sts_region);
    cfg.endpoint_url.clone_from(&args.aws_endpoint_url);
    let aws = kquota_iam::aws::AwsIam::load(&cfg, None)
        .await
        .map_err(classify)?;
    let me = aws.whoami().await.map_err(classify)?;
    Ok(Identity {
        principal: me.principal().to_string(),
        via: String::new(),
        mechanism: Some(if aws_msk_iam {
            "AWS_MSK_IAM"
        } else {
            "OAUTHBEARER"
        }),
        client_id: me.client_id.clone(),
        aws: Some([
            Some(me.account.clone()),
            Some(me.user_id.clone()),
            aws.role_session_name().map(str::to_string),
            Some(aws.region().to_string()),
        ]),
    })
}

/// MSK IAM needs the AWS SDK.
#[cfg(not(feature = "aws-sdk"))]
async fn msk_iam(
    _args: &WhoamiArgs,
    _aws_msk_iam: bool,
    _iam: &crate::connect::IamSettings,
    _client_id: Option<String>,
) -> anyhow::Result<Identity> {
    Err(exit::usage(
        "this kquota was built without the aws-sdk feature; whoami for MSK IAM needs STS",
    ))
}
