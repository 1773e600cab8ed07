//! Every vector in ../shared/vectors/msk_iam_oauthbearer.json (made by the official Python signer
//! aws-msk-iam-sasl-signer-python 1.0.2 with a frozen clock; see ../shared/reference/msk-iam.md
//! §7) must be reproduced byte for byte with the vector's User-Agent.

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use kquota_iam::{oauth_token, Credentials, SignOptions};
use serde_json::Value;

fn vectors() -> Vec<Value> {
    // CI keeps shared/ beside the clone: <repo>/../shared/vectors/.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/msk_iam_oauthbearer.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "MSK IAM vectors missing at {} ({e}); they must exist beside the repo as ../shared",
            path.display()
        )
    });
    let v: Value = serde_json::from_str(&text).expect("vectors file is JSON");
    let list = v.as_array().expect("vectors file is a JSON array").clone();
    assert!(!list.is_empty(), "no vectors in {}", path.display());
    list
}

#[test]
fn every_oauthbearer_vector_matches_byte_for_byte() {
    let mut checked = 0;
    for v in vectors() {
        let id = v["id"].as_str().unwrap();
        assert_eq!(v["mechanism"], "OAUTHBEARER", "{id}: unknown mechanism");
        let i = &v["inputs"];
        let creds = Credentials::new(
            i["access_key_id"].as_str().unwrap(),
            i["secret_access_key"].as_str().unwrap(),
            i["session_token"].as_str().map(str::to_string),
            None,
        )
        .unwrap();
        let t = UNIX_EPOCH + Duration::from_millis(i["signing_time_epoch_ms"].as_u64().unwrap());
        let opts = SignOptions::new(i["region"].as_str().unwrap())
            .signing_time(t)
            .user_agent(v["user_agent"].as_str().unwrap());
        let tok = oauth_token(&creds, &opts).unwrap();

        let url = String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(tok.token())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(url, v["presigned_url"].as_str().unwrap(), "{id}: URL");
        assert_eq!(tok.token(), v["token"].as_str().unwrap(), "{id}: token");
        assert_eq!(
            tok.token().len() as u64,
            v["token_length"].as_u64().unwrap()
        );
        assert_eq!(
            tok.expires_at_epoch_ms() as u64,
            v["expiry_ms_reported_by_library"].as_u64().unwrap(),
            "{id}: expiry"
        );
        let first = base64::engine::general_purpose::STANDARD
            .decode(
                v["sasl_oauthbearer_client_first_message_b64"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(
            tok.client_first_message(),
            first,
            "{id}: client-first message"
        );
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} vectors checked");
}

#[test]
fn aws_msk_iam_payload_signature_matches_the_vector_signature_for_the_same_host() {
    // AWS_MSK_IAM signs the same canonical request shape; for host kafka.<region>.amazonaws.com
    // the signature must equal the OAUTHBEARER vector's (the canonical request only depends on the
    // host, the query and the time).
    for v in vectors() {
        let i = &v["inputs"];
        let creds = Credentials::new(
            i["access_key_id"].as_str().unwrap(),
            i["secret_access_key"].as_str().unwrap(),
            i["session_token"].as_str().map(str::to_string),
            None,
        )
        .unwrap();
        let t = UNIX_EPOCH + Duration::from_millis(i["signing_time_epoch_ms"].as_u64().unwrap());
        let region = i["region"].as_str().unwrap();
        let host = v["presigned_url_host"].as_str().unwrap();
        let p =
            kquota_iam::msk_iam_payload(&creds, host, &SignOptions::new(region).signing_time(t))
                .unwrap();
        let json: Value = serde_json::from_slice(p.as_bytes()).unwrap();
        assert_eq!(json["x-amz-signature"], v["signature"], "{}", v["id"]);
        assert_eq!(json["host"], host);
        assert_eq!(json["x-amz-expires"], "900");
        let keys = json.as_object().unwrap().len();
        assert_eq!(keys, if i["session_token"].is_null() { 10 } else { 11 });
    }
}
