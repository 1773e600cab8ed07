//! STS AssumeRole, GetCallerIdentity and Secrets Manager against moto's server (PyPI
//! `moto[server]`), started here on a free 127.0.0.1 port with MOTO_ACCOUNT_ID=111111111111 and
//! killed at the end. One server for the whole binary, so the scenarios run in one test.

#[path = "../../../testdata/iam/moto_server.rs"]
mod moto_server;

use std::time::Duration;

use base64::Engine as _;
use kquota_iam::aws::AwsIam;
use kquota_iam::{Credentials, IamConfig, IamError};

const WRITE_ROLE: &str = "arn:aws:iam::111111111111:role/Topic-B-Write-Role";
const PRINCIPAL: &str =
    "arn:aws:sts::111111111111:assumed-role/Topic-B-Write-Role/producerapp-1-role-session";

fn base() -> Credentials {
    Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        None,
        None,
    )
    .unwrap()
    .with_source("test keys")
}

fn config(url: &str) -> IamConfig {
    let mut cfg = IamConfig::default();
    cfg.region = Some("us-east-1".into());
    cfg.endpoint_url = Some(url.to_string());
    cfg
}

async fn put_secret(url: &str, name: &str, value: &str) {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(kquota_iam::aws::http_client())
        .region(aws_types::region::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(aws_credential_types::Credentials::for_tests())
        .load()
        .await;
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("create secret in moto");
}

fn token_url(token: &str) -> String {
    String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sts_and_secrets_manager_against_moto() {
    let moto = moto_server::MotoServer::start();
    let url = moto.url().to_string();

    // 1. Base credentials alone: whoami is the calling IAM user, no client-id.
    let iam = AwsIam::load(&config(&url), Some(base())).await.unwrap();
    let me = iam.whoami().await.unwrap();
    assert_eq!(me.account, "111111111111");
    assert!(me.arn.starts_with("arn:aws:"), "{me:?}");
    assert_eq!(me.client_id, None);

    // 2. Assume-role: the principal is the assumed-role ARN with the session name, and the token
    //    is signed with the assumed role's temporary keys and session token.
    let mut cfg = config(&url);
    cfg.assume_role_arn = Some(WRITE_ROLE.into());
    cfg.role_session_name = Some("producerapp-1-role-session".into());
    cfg.client_id = Some("producerapp-1-client-id".into());
    let iam = AwsIam::load(&cfg, Some(base())).await.unwrap();
    let me = iam.whoami().await.unwrap();
    assert_eq!(me.principal(), PRINCIPAL);
    assert_eq!(
        me.quota_entity_args(),
        format!("--entity-type users --entity-name {PRINCIPAL} --entity-type clients --entity-name producerapp-1-client-id")
    );
    let token = iam.signer().oauth_token().await.unwrap();
    let u = token_url(token.token());
    assert!(u.starts_with("https://kafka.us-east-1.amazonaws.com/?Action=kafka-cluster%3AConnect&"));
    assert!(
        u.contains("&X-Amz-Security-Token="),
        "assumed credentials carry a session token"
    );
    assert!(
        !u.contains("AKIAIOSFODNN7EXAMPLE"),
        "signed with the assumed keys, not the base keys"
    );
    assert!(u.ends_with(&format!(
        "&User-Agent=kquota%2F{}",
        env!("CARGO_PKG_VERSION")
    )));

    // 3. Cached: within the 15-minute margin the same assumed keys are reused.
    let p = iam.credentials_provider();
    let a = p.credentials().await.unwrap();
    let b = p.credentials().await.unwrap();
    assert_eq!(a.access_key_id(), b.access_key_id());
    let exp = a.expires_at().expect("assumed credentials expire");
    assert!(exp > std::time::SystemTime::now() + Duration::from_secs(15 * 60));

    // 4. Refresh (margin longer than the 1-hour session): new keys on every call, and the
    //    principal stays the same because the session name is kept.
    let mut cfg2 = cfg.clone();
    cfg2.refresh_margin = Some(Duration::from_secs(2 * 3600));
    let iam2 = AwsIam::load(&cfg2, Some(base())).await.unwrap();
    let p2 = iam2.credentials_provider();
    let k1 = p2.credentials().await.unwrap();
    let k2 = p2.credentials().await.unwrap();
    assert_ne!(k1.access_key_id(), k2.access_key_id(), "refreshed");
    assert_eq!(iam2.whoami().await.unwrap().principal(), PRINCIPAL);
    assert_eq!(iam2.whoami().await.unwrap().principal(), PRINCIPAL);

    // 5. Identity secret: client-id and role session name come from Secrets Manager.
    put_secret(
        &url,
        "kquota/producerapp-1",
        r#"{"client_id":"producerapp-1-client-id","role_session_name":"producerapp-1-role-session"}"#,
    )
    .await;
    let mut cfg3 = config(&url);
    cfg3.assume_role_arn = Some(WRITE_ROLE.into());
    cfg3.identity_secret = Some("kquota/producerapp-1".into());
    let iam3 = AwsIam::load(&cfg3, Some(base())).await.unwrap();
    assert_eq!(iam3.client_id(), Some("producerapp-1-client-id"));
    assert_eq!(iam3.role_session_name(), Some("producerapp-1-role-session"));
    let me3 = iam3.whoami().await.unwrap();
    assert_eq!(me3.principal(), PRINCIPAL);
    assert_eq!(me3.client_id.as_deref(), Some("producerapp-1-client-id"));

    // 6. Bad secrets: not JSON, a missing field, no such secret. One line each, naming the secret.
    put_secret(&url, "kquota/not-json", "client_id=x").await;
    put_secret(&url, "kquota/no-session", r#"{"client_id":"c"}"#).await;
    for (secret, want) in [
        (
            "kquota/not-json",
            "identity secret kquota/not-json: is not JSON",
        ),
        (
            "kquota/no-session",
            "identity secret kquota/no-session: has no \"role_session_name\" field",
        ),
        (
            "kquota/absent",
            "AWS Secrets Manager GetSecretValue for kquota/absent failed",
        ),
    ] {
        let mut c = cfg3.clone();
        c.identity_secret = Some(secret.into());
        let err = AwsIam::load(&c, Some(base())).await.unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with(want), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
        assert!(!msg.contains("client_id=x"), "secret content leaked: {msg}");
    }
    let mut c = cfg3.clone();
    c.identity_secret = Some("kquota/absent".into());
    let err = AwsIam::load(&c, Some(base())).await.unwrap_err();
    assert!(
        matches!(&err, IamError::Aws { code: Some(code), .. } if code == "ResourceNotFoundException"),
        "{err:?}"
    );

    drop(moto);
}
