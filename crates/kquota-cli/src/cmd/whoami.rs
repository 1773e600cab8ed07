//! `kquota whoami`: the principal the broker will see (STS GetCallerIdentity after any
//! assume-role), the client-id, and the exact quota entity flags for `kquota quotas alter`.

use std::path::PathBuf;

use clap::Args;
use kquota_iam::IamArgs;

#[cfg(not(feature = "aws-sdk"))]
use crate::exit;

/// Arguments of `kquota whoami`.
#[derive(Args, Debug)]
pub struct WhoamiArgs {
    #[command(flatten)]
    pub iam: IamArgs,

    /// Java client .properties file with sasl.jaas.config / client.id (flags win).
    #[arg(long = "command-config", value_name = "FILE")]
    pub command_config: Option<PathBuf>,

    /// The Kafka client-id the application uses (else client.id or the identity secret's).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `kquota whoami`.
#[cfg(feature = "aws-sdk")]
pub async fn run(args: WhoamiArgs) -> anyhow::Result<()> {
    use super::token::{classify, iam_config};
    let mut cfg = iam_config(&args.iam, args.command_config.as_ref())?;
    if let Some(c) = &args.client_id {
        cfg.client_id = Some(c.clone());
    }
    let iam = kquota_iam::aws::AwsIam::load(&cfg, None)
        .await
        .map_err(classify)?;
    let me = iam.whoami().await.map_err(classify)?;
    if args.json {
        let out = serde_json::json!({
            "principal": me.principal(),
            "account": me.account,
            "user_id": me.user_id,
            "client_id": me.client_id,
            "role_session_name": iam.role_session_name(),
            "region": iam.region(),
            "quota_entity": me.quota_entity_args(),
        });
        println!("{out}");
    } else {
        println!("principal:    {}", me.principal());
        println!("account:      {}", me.account);
        println!(
            "client-id:    {}",
            me.client_id
                .as_deref()
                .unwrap_or("(not set: pass --client-id)")
        );
        println!("quota entity: {}", me.quota_entity_args());
    }
    Ok(())
}

/// Runs `kquota whoami`.
#[cfg(not(feature = "aws-sdk"))]
pub async fn run(_args: WhoamiArgs) -> anyhow::Result<()> {
    Err(exit::usage(
        "this kquota was built without the aws-sdk feature; whoami needs STS",
    ))
}
