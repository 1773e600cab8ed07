//! Error paths of the AWS calls against wiremock (scripted STS and Secrets Manager answers):
//! expired credentials, access denied, throttling, clock skew, a malformed secret, a missing
//! secret field, an unreachable endpoint. Each is one line naming the source and the fix, and
//! never contains a secret.

use std::time::{Duration, SystemTime};

use kquota_iam::aws::AwsIam;
use kquota_iam::{Credentials, IamConfig, IamError};
use wiremock::matchers::{body_string_contains, header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SESSION: &str = "IQoJb3JpZ2luX2VjEXAMPLESESSION/+=";
const ROLE: &str = "arn:aws:iam::111111111111:role/Topic-B-Write-Role";

fn base() -> Credentials {
    Credentials::new("ASIAEXAMPLEBASE00001", SECRET, Some(SESSION.into()), None)
        .unwrap()
        .with_source("test keys")
}

fn config(url: &str) -> IamConfig {
    let mut cfg = IamConfig::default();
    cfg.region = Some("eu-west-1".into());
    cfg.endpoint_url = Some(url.into());
    cfg.assume_role_arn = Some(ROLE.into());
    cfg.role_session_name = Some("producerapp-1-role-session".into());
    cfg
}

fn sts_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "text/xml")
        .set_body_string(format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"
        ))
}

fn check_line(err: &IamError, wants: &[&str]) {
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "{msg}");
    for w in wants {
        assert!(msg.contains(w), "missing {w:?} in: {msg}");
    }
    for s in [SECRET, SESSION] {
        assert!(!msg.contains(s), "secret leaked: {msg}");
        assert!(
            !format!("{err:?}").contains(s),
            "secret leaked in Debug: {err:?}"
        );
    }
}

async fn assume_role_error(status: u16, code: &str, message: &str) -> (IamError, usize) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=AssumeRole"))
        .respond_with(sts_error(status, code, message))
        .mount(&server)
        .await;
    let err = AwsIam::load(&config(&server.uri()), Some(base()))
        .await
        .unwrap_err();
    let calls = server.received_requests().await.unwrap().len();
    (err, calls)
}

#[tokio::test]
async fn assume_role_access_denied() {
    let (err, _) = assume_role_error(
        403,
        "AccessDenied",
        "User: arn:aws:iam::111111111111:user/dev is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/Topic-B-Write-Role",
    )
    .await;
    check_line(
        &err,
        &[
            "AWS STS AssumeRole for arn:aws:iam::111111111111:role/Topic-B-Write-Role failed",
            "not authorized to perform: sts:AssumeRole",
            "allow the caller sts:AssumeRole on the role",
        ],
    );
    assert!(matches!(&err, IamError::Aws { code: Some(c), .. } if c == "AccessDenied"));
}

#[tokio::test]
async fn assume_role_with_expired_caller_credentials() {
    let (err, _) = assume_role_error(
        400,
        "ExpiredToken",
        "The security token included in the request is expired",
    )
    .await;
    check_line(
        &err,
        &[
            "AssumeRole",
            "is expired",
            "session token has expired: refresh the credentials",
        ],
    );
}

#[tokio::test]
async fn assume_role_clock_skew() {
    let (err, _) = assume_role_error(
        400,
        "SignatureDoesNotMatch",
        "Signature expired: 20240115T123456Z is now earlier than 20240115T124456Z (20240115T125456Z - 15 min.)",
    )
    .await;
    check_line(&err, &["Signature expired", "sync the clock"]);
}

#[tokio::test]
async fn assume_role_throttled_after_retries() {
    let (err, calls) = assume_role_error(400, "Throttling", "Rate exceeded").await;
    check_line(&err, &["AssumeRole", "Rate exceeded", "throttled"]);
    assert!(calls >= 2, "the SDK retries throttling ({calls} calls)");
}

#[tokio::test]
async fn get_caller_identity_with_an_invalid_key() {
    let server = MockServer::start().await;
    let mut cfg = config(&server.uri());
    cfg.assume_role_arn = None;
    cfg.role_session_name = None;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=GetCallerIdentity"))
        .respond_with(sts_error(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ))
        .mount(&server)
        .await;
    let iam = AwsIam::load(&cfg, Some(base())).await.unwrap();
    let err = iam.whoami().await.unwrap_err();
    check_line(
        &err,
        &[
            "AWS STS GetCallerIdentity failed",
            "is invalid",
            "access key id is not valid",
        ],
    );
}

async fn secret_answer(body: &str) -> IamError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("x-amz-target", "secretsmanager.GetSecretValue"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/x-amz-json-1.1")
                .set_body_string(body),
        )
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    cfg.identity_secret = Some("kquota/producerapp-1".into());
    AwsIam::load(&cfg, Some(base())).await.unwrap_err()
}

fn secret_value(value: &str) -> String {
    serde_json::json!({
        "ARN": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:kquota/producerapp-1-AbCdEf",
        "Name": "kquota/producerapp-1",
        "SecretString": value,
        "VersionId": "v1",
    })
    .to_string()
}

#[tokio::test]
async fn malformed_identity_secret() {
    let err = secret_answer(&secret_value("client_id=app;role_session_name=s")).await;
    check_line(
        &err,
        &[
            "identity secret kquota/producerapp-1: is not JSON",
            "store a JSON object like",
        ],
    );
    assert!(
        !err.to_string().contains("client_id=app"),
        "secret content leaked"
    );
}

#[tokio::test]
async fn identity_secret_missing_a_field() {
    let err = secret_answer(&secret_value(
        r#"{"role_session_name":"producerapp-1-role-session"}"#,
    ))
    .await;
    check_line(
        &err,
        &["identity secret kquota/producerapp-1: has no \"client_id\" field"],
    );
    let err = secret_answer(&secret_value(r#"{"client_id":"c","role_session_name":7}"#)).await;
    check_line(&err, &["field \"role_session_name\" is not a string"]);
}

#[tokio::test]
async fn identity_secret_access_denied() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("x-amz-target", "secretsmanager.GetSecretValue"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("content-type", "application/x-amz-json-1.1")
                .set_body_string(r#"{"__type":"AccessDeniedException","message":"User is not authorized to perform: secretsmanager:GetSecretValue"}"#),
        )
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    cfg.identity_secret = Some("kquota/producerapp-1".into());
    let err = AwsIam::load(&cfg, Some(base())).await.unwrap_err();
    check_line(
        &err,
        &[
            "AWS Secrets Manager GetSecretValue for kquota/producerapp-1 failed",
            "allow the caller secretsmanager:GetSecretValue",
        ],
    );
}

#[tokio::test]
async fn unreachable_sts_endpoint() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = AwsIam::load(&config(&format!("http://127.0.0.1:{port}")), Some(base()))
        .await
        .unwrap_err();
    check_line(
        &err,
        &[
            "AssumeRole",
            "cannot reach the endpoint",
            "check the network",
        ],
    );
}

#[tokio::test]
async fn expired_static_credentials_cannot_sign() {
    let past = SystemTime::now() - Duration::from_secs(60);
    let creds = Credentials::new("ASIAEXAMPLE", SECRET, Some(SESSION.into()), Some(past))
        .unwrap()
        .with_source("the environment");
    let signer = kquota_iam::MskSigner::new(std::sync::Arc::new(
        kquota_iam::StaticCredentials::new(creds),
    ))
    .with_region("us-east-1");
    let err = signer.oauth_token().await.unwrap_err();
    check_line(
        &err,
        &[
            "AWS credentials from the environment expired at",
            "refresh them",
        ],
    );
}

#[tokio::test]
async fn bad_region_flags() {
    let mut cfg = IamConfig::default();
    cfg.region = Some("us_east_1".into());
    let err = AwsIam::load(&cfg, Some(base())).await.unwrap_err();
    check_line(&err, &["invalid --region", "us_east_1"]);
}
