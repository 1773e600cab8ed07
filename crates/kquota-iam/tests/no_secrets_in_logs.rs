//! Captures every tracing event at TRACE level (ours, aws-sigv4's and the AWS SDK's) while
//! loading credentials, assuming a role on moto, reading an identity secret, asking STS who we
//! are and signing tokens and payloads, then greps the log and every Debug output for the
//! secret keys, the session token, the tokens and the signatures.

#[path = "../../../testdata/iam/moto_server.rs"]
mod moto_server;

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use kquota_iam::aws::AwsIam;
use kquota_iam::{Credentials, IamConfig};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

const BASE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_trace_logs_or_debug_output() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let moto = moto_server::MotoServer::start();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(kquota_iam::aws::http_client())
        .region(aws_types::region::Region::new("us-east-1"))
        .endpoint_url(moto.url())
        .credentials_provider(aws_credential_types::Credentials::for_tests())
        .load()
        .await;
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name("kquota/app")
        .secret_string(r#"{"client_id":"app-client","role_session_name":"app-session"}"#)
        .send()
        .await
        .unwrap();

    let mut cfg = IamConfig::default();
    cfg.region = Some("us-east-1".into());
    cfg.endpoint_url = Some(moto.url().to_string());
    cfg.assume_role_arn = Some("arn:aws:iam::111111111111:role/Topic-B-Write-Role".into());
    cfg.identity_secret = Some("kquota/app".into());
    let base = Credentials::new("AKIAIOSFODNN7EXAMPLE", BASE_SECRET, None, None).unwrap();
    let iam = AwsIam::load(&cfg, Some(base.clone())).await.unwrap();
    let me = iam.whoami().await.unwrap();
    assert!(me.arn.ends_with("/app-session"), "{me:?}");
    let assumed = iam.credentials_provider().credentials().await.unwrap();
    let token = iam.signer().oauth_token().await.unwrap();
    let payload = iam
        .signer()
        .msk_iam_payload("b-1.demo.abc123.c2.kafka.us-east-1.amazonaws.com:9098")
        .await
        .unwrap();
    let url = String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.token())
            .unwrap(),
    )
    .unwrap();
    let token_sig = url
        .split('&')
        .find_map(|kv| kv.strip_prefix("X-Amz-Signature="))
        .unwrap()
        .to_string();
    let payload_json: serde_json::Value = serde_json::from_slice(payload.as_bytes()).unwrap();
    let payload_sig = payload_json["x-amz-signature"]
        .as_str()
        .unwrap()
        .to_string();
    drop(moto);

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("TRACE"), "trace events were captured");
    assert!(
        log.contains("assumed role"),
        "our debug events were captured"
    );
    let session_token = assumed.session_token().unwrap().to_string();
    let secrets = [
        ("base secret key", BASE_SECRET.to_string()),
        (
            "assumed secret key",
            assumed.secret_access_key().to_string(),
        ),
        ("session token", session_token.clone()),
        (
            "session token (url-encoded)",
            session_token
                .replace('/', "%2F")
                .replace('+', "%2B")
                .replace('=', "%3D"),
        ),
        ("token", token.token().to_string()),
        ("token signature", token_sig),
        ("payload signature", payload_sig),
    ];
    let debug = format!(
        "{base:?} {assumed:?} {token:?} {payload:?} {iam:?} {cfg:?} {me:?} {:?}",
        iam.credentials_provider()
    );
    for (what, s) in &secrets {
        assert!(s.len() >= 16, "{what} too short to grep");
        if let Some(line) = log.lines().find(|l| l.contains(s.as_str())) {
            let shown: String = line
                .replace(s.as_str(), "<SECRET>")
                .chars()
                .take(600)
                .collect();
            panic!("{what} appears in the trace log: {shown}");
        }
        assert!(
            !debug.contains(s.as_str()),
            "{what} appears in Debug output: {debug}"
        );
    }
}
