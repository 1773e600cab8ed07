//! `kquota token`: prints a fresh MSK IAM OAUTHBEARER token (or the AWS_MSK_IAM JSON payload)
//! to stdout, for debugging and for comparing with other signers. With explicit credentials,
//! `--region`, `--signing-time` and `--user-agent` the output is reproducible. The token is never
//! logged.

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use clap::{Args, ValueEnum};
use kquota_iam::{
    msk_iam_payload, oauth_token, parse_signing_time, region_from_broker_host, Credentials,
    IamArgs, IamConfig, IamError, SignOptions,
};

use crate::exit;

/// Arguments of `kquota token`.
#[derive(Args, Debug)]
pub struct TokenArgs {
    #[command(flatten)]
    pub iam: IamArgs,

    /// Java client .properties file with sasl.mechanism / sasl.jaas.config (flags win).
    #[arg(long = "command-config", value_name = "FILE")]
    pub command_config: Option<PathBuf>,

    /// What to print: the OAUTHBEARER token or the AWS_MSK_IAM JSON payload.
    #[arg(long, value_enum, default_value = "oauthbearer")]
    pub mechanism: TokenMechanism,

    /// Broker host the AWS_MSK_IAM payload is signed for (port ignored; its region is used).
    #[arg(long, value_name = "HOST")]
    pub broker_host: Option<String>,

    /// Access key id to sign with instead of the AWS credential chain.
    #[arg(long, value_name = "AKID", requires = "secret_access_key")]
    pub access_key_id: Option<String>,

    /// Secret access key for --access-key-id (prefer the environment variable).
    #[arg(
        long,
        env = "KQUOTA_AWS_SECRET_ACCESS_KEY",
        hide_env_values = true,
        value_name = "SECRET",
        requires = "access_key_id"
    )]
    pub secret_access_key: Option<String>,

    /// Session token for --access-key-id (temporary credentials).
    #[arg(
        long,
        env = "KQUOTA_AWS_SESSION_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        requires = "access_key_id"
    )]
    pub session_token: Option<String>,

    /// Sign at this time instead of now: 2024-01-15T12:34:56Z, 20240115T123456Z or epoch seconds.
    #[arg(long, value_name = "TIME")]
    pub signing_time: Option<String>,

    /// User-Agent to put in the token (not signed) [default: kquota/<version>].
    #[arg(long, value_name = "UA")]
    pub user_agent: Option<String>,

    /// X-Amz-Expires in seconds (at most 900; the credentials' expiry lowers it).
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub expires_in: u64,

    /// Print a JSON object with the token and its expiry instead of the bare value.
    #[arg(long)]
    pub json: bool,
}

/// `--mechanism` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenMechanism {
    /// OAUTHBEARER token (base64url of the presigned URL).
    Oauthbearer,
    /// AWS_MSK_IAM JSON payload for --broker-host.
    AwsMskIam,
}

/// Reads the IAM part of a Java client properties file, if one is given, then applies flags.
pub(crate) fn iam_config(iam: &IamArgs, file: Option<&PathBuf>) -> anyhow::Result<IamConfig> {
    let mut cfg = IamConfig::default();
    if let Some(path) = file {
        let file = crate::properties::read_file(path)
            .map_err(|e| exit::usage(format!("cannot read {}: {e}", path.display())))?;
        if let Some(w) = &file.warning {
            eprintln!("warning: {w}");
        }
        let props = crate::properties::parse(&file.text)
            .map_err(|e| exit::usage(format!("{}: {e}", path.display())))?;
        if let Some(c) = IamConfig::from_client_properties(
            props.iter().map(|p| (p.key.as_str(), p.value.as_str())),
        )
        .map_err(|e| exit::usage(format!("{}: {e}", path.display())))?
        {
            cfg = c;
        }
    }
    iam.apply_to(&mut cfg);
    Ok(cfg)
}

/// Maps library errors to exit codes: bad input is a usage error (2), credentials and AWS
/// calls are connection/authentication failures (4).
pub(crate) fn classify(e: IamError) -> anyhow::Error {
    match e {
        IamError::InvalidArgument { .. }
        | IamError::InvalidRegion { .. }
        | IamError::NoRegion { .. }
        | IamError::Config { .. }
        | IamError::InvalidCredentials { .. } => exit::usage(e),
        _ => exit::connection(e),
    }
}

/// Runs `kquota token`.
pub async fn run(args: TokenArgs) -> anyhow::Result<()> {
    let mut cfg = iam_config(&args.iam, args.command_config.as_ref())?;
    if args.mechanism == TokenMechanism::AwsMskIam {
        cfg.mechanism = kquota_iam::IamMechanism::AwsMskIam;
    }
    if let Some(ua) = &args.user_agent {
        cfg.user_agent = Some(ua.clone());
    }
    let broker_host = match (args.mechanism, &args.broker_host) {
        (TokenMechanism::AwsMskIam, None) => {
            return Err(exit::usage(
                "--mechanism aws-msk-iam needs --broker-host (the payload is signed for the broker's own host)",
            ))
        }
        (_, h) => h.clone(),
    };
    let signing_time = args
        .signing_time
        .as_deref()
        .map(parse_signing_time)
        .transpose()
        .map_err(classify)?;
    if args.expires_in == 0 || args.expires_in > 900 {
        return Err(exit::usage(format!(
            "--expires-in {} is out of range: 1..=900 seconds",
            args.expires_in
        )));
    }
    let explicit = match (&args.access_key_id, &args.secret_access_key) {
        (Some(ak), Some(sk)) => Some(
            Credentials::new(ak.clone(), sk.clone(), args.session_token.clone(), None)
                .map_err(classify)?
                .with_source("--access-key-id/--secret-access-key"),
        ),
        _ => None,
    };

    let (creds, region) = load(&cfg, explicit).await?;
    let mut opts = SignOptions::new(match (&broker_host, args.mechanism) {
        (Some(h), TokenMechanism::AwsMskIam) => region_from_broker_host(h)
            .or(region)
            .ok_or_else(|| exit::usage(format!("no region in broker host {h}: pass --region")))?,
        _ => region.ok_or_else(|| {
            exit::usage("no AWS region for the token: pass --region or set AWS_REGION")
        })?,
    })
    .expires_in(Duration::from_secs(args.expires_in));
    if let Some(t) = signing_time {
        opts = opts.signing_time(t);
    }
    if let Some(ua) = &cfg.user_agent {
        opts = opts.user_agent(ua.clone());
    }
    if let Some(h) = &cfg.token_host {
        opts = opts.host(h.clone());
    }

    let (value, expires_at) = match args.mechanism {
        TokenMechanism::Oauthbearer => {
            let t = oauth_token(&creds, &opts).map_err(classify)?;
            (t.token().to_string(), t.expires_at())
        }
        TokenMechanism::AwsMskIam => {
            let host = broker_host.unwrap_or_default();
            let host = host.rsplit_once(':').map_or(host.as_str(), |(h, p)| {
                if p.bytes().all(|b| b.is_ascii_digit()) {
                    h
                } else {
                    host.as_str()
                }
            });
            let p = msk_iam_payload(&creds, host, &opts).map_err(classify)?;
            (p.as_str().to_string(), p.expires_at())
        }
    };
    let expires_ms = expires_at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    if args.json {
        let out = serde_json::json!({
            "mechanism": match args.mechanism {
                TokenMechanism::Oauthbearer => "OAUTHBEARER",
                TokenMechanism::AwsMskIam => "AWS_MSK_IAM",
            },
            "token": value,
            "expires_at_ms": expires_ms,
            "region": opts.region_name(),
        });
        println!("{out}");
    } else {
        println!("{value}");
    }
    Ok(())
}

#[cfg(feature = "aws-sdk")]
async fn load(
    cfg: &IamConfig,
    explicit: Option<Credentials>,
) -> anyhow::Result<(Credentials, Option<String>)> {
    // Explicit keys without a role to assume need no AWS call at all (reproducible, offline).
    if let (Some(c), None) = (&explicit, &cfg.assume_role_arn) {
        if cfg.identity_secret.is_none() {
            let region = cfg
                .region
                .clone()
                .or_else(|| std::env::var("AWS_REGION").ok())
                .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok());
            return Ok((c.clone(), region));
        }
    }
    let iam = kquota_iam::aws::AwsIam::load(cfg, explicit)
        .await
        .map_err(classify)?;
    let creds = iam
        .credentials_provider()
        .credentials()
        .await
        .map_err(classify)?;
    Ok((creds, Some(iam.region().to_string())))
}

#[cfg(not(feature = "aws-sdk"))]
async fn load(
    cfg: &IamConfig,
    explicit: Option<Credentials>,
) -> anyhow::Result<(Credentials, Option<String>)> {
    let c = explicit.ok_or_else(|| {
        exit::usage("this kquota was built without the aws-sdk feature: pass --access-key-id and --secret-access-key")
    })?;
    if cfg.assume_role_arn.is_some() || cfg.identity_secret.is_some() || cfg.profile.is_some() {
        return Err(exit::usage(
            "this kquota was built without the aws-sdk feature: --assume-role-arn, --identity-secret and --profile need it",
        ));
    }
    let region = cfg
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok());
    Ok((c, region))
}
