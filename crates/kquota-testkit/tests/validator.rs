//! The MSK IAM validator against the official AWS signer's vectors
//! (../shared/vectors/msk_iam_oauthbearer.json, made by aws-msk-iam-sasl-signer-python 1.0.2 with
//! a frozen clock; see ../shared/reference/msk-iam.md section 7).

use std::path::PathBuf;

use serde_json::Value;

fn vectors() -> Vec<Value> {
    let path = std::env::var_os("KQUOTA_MSK_IAM_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            kquota_testkit::repo_root().join("../shared/vectors/msk_iam_oauthbearer.json")
        });
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading vectors {}: {e}", path.display()));
    let v: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(v.len() >= 8, "expected the official vectors");
    v
}

/// Writes a credentials file with the vector's key; returns its path.
fn creds_file(dir: &std::path::Path, v: &Value, arn: &str) -> PathBuf {
    let i = &v["inputs"];
    let body = serde_json::json!({"identities": [{
        "access_key_id": i["access_key_id"],
        "secret_access_key": i["secret_access_key"],
        "session_token": i["session_token"],
        "principal_arn": arn,
    }]});
    let p = dir.join(format!("creds-{}.json", rand::random::<u32>()));
    std::fs::write(&p, body.to_string()).unwrap();
    p
}

fn validate(tokens: &[String], now_ms: i64, creds: &std::path::Path) -> (bool, Vec<String>) {
    let out = kquota_testkit::validator_command()
        .unwrap()
        .arg("validate")
        .args(tokens)
        .args(["--now", &now_ms.to_string()])
        .arg("--creds")
        .arg(creds)
        .output()
        .unwrap();
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    (out.status.success(), lines)
}

/// Changes one hex digit of the X-Amz-Signature inside the token's URL.
fn tamper_signature(v: &Value) -> String {
    use base64::Engine;
    let url = v["presigned_url"].as_str().unwrap();
    let sig = v["signature"].as_str().unwrap();
    let first = sig.as_bytes()[0];
    let changed = if first == b'0' { '1' } else { '0' };
    let bad = url.replace(
        &format!("X-Amz-Signature={sig}"),
        &format!("X-Amz-Signature={changed}{}", &sig[1..]),
    );
    assert_ne!(bad, url);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bad)
}

#[test]
fn official_vectors_are_accepted_at_their_date_and_refused_with_a_changed_signature() {
    let dir = std::env::temp_dir().join(format!("kquota-testkit-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let arn =
        "arn:aws:sts::111111111111:assumed-role/Topic-B-Write-Role/producerapp-1-role-session";
    for v in vectors() {
        let id = v["id"].as_str().unwrap();
        let now = v["inputs"]["signing_time_epoch_ms"].as_i64().unwrap();
        let creds = creds_file(&dir, &v, arn);
        let token = v["token"].as_str().unwrap().to_string();
        let bad = tamper_signature(&v);
        // Second token: expired (now = date + 900 s + skew + 1 s).
        let (ok, lines) = validate(&[token.clone(), bad, token], now, &creds);
        assert!(!ok, "{id}: a tampered token makes the run fail");
        let expiry = v["expiry_ms_reported_by_library"].as_i64().unwrap();
        assert_eq!(lines[0], format!("ACCEPTED {arn} {expiry}"), "{id}");
        assert!(
            lines[1].starts_with("REJECTED signature does not match"),
            "{id}: {}",
            lines[1]
        );
        assert_eq!(lines[2], lines[0]);

        let (ok, lines) = validate(
            &[v["token"].as_str().unwrap().to_string()],
            expiry + 301_000,
            &creds,
        );
        assert!(!ok);
        assert!(
            lines[0].starts_with("REJECTED token expired"),
            "{id}: {}",
            lines[0]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Java signer used by the live-broker tests reproduces the official tokens byte for byte.
#[test]
fn java_signer_reproduces_the_official_tokens() {
    for v in vectors() {
        let i = &v["inputs"];
        let mut cmd = kquota_testkit::validator_command().unwrap();
        cmd.arg("sign")
            .args(["--access-key", i["access_key_id"].as_str().unwrap()])
            .args(["--secret", i["secret_access_key"].as_str().unwrap()])
            .args(["--region", i["region"].as_str().unwrap()])
            .args([
                "--date",
                &i["signing_time_epoch_ms"].as_i64().unwrap().to_string(),
            ])
            .args(["--user-agent", v["user_agent"].as_str().unwrap()]);
        if let Some(t) = i["session_token"].as_str() {
            cmd.args(["--session-token", t]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            v["token"].as_str().unwrap(),
            "{}",
            v["id"]
        );
    }
}

/// Query order and User-Agent do not matter; a missing `/` path is fine; a wrong host, action,
/// service or an unknown key is refused with a reason.
#[test]
fn validator_ignores_order_and_user_agent_and_refuses_other_urls() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let v = &vectors()[0];
    let dir = std::env::temp_dir().join(format!("kquota-testkit-vectors2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let arn = "arn:aws:iam::111111111111:user/vector";
    let creds = creds_file(&dir, v, arn);
    let now = v["inputs"]["signing_time_epoch_ms"].as_i64().unwrap();
    let url = v["presigned_url"].as_str().unwrap();
    let (base, query) = url.split_once('?').unwrap();
    let mut params: Vec<&str> = query.split('&').collect();
    params.reverse();
    let reordered = format!("{base}?{}", params.join("&"))
        .replace("aws-msk-iam-sasl-signer-python%2F1.0.2", "kquota%2F9");
    let no_slash = url.replacen(".com/?", ".com?", 1);
    let good = [b64(&reordered), b64(&no_slash)];
    let (ok, lines) = validate(&good, now, &creds);
    assert!(ok, "{lines:?}");
    let bad = [
        (
            url.replace(
                "kafka.us-east-1.amazonaws.com",
                "kafka.us-east-1.example.com",
            ),
            "host",
        ),
        (
            url.replace("kafka-cluster%3AConnect", "kafka-cluster%3ADescribe"),
            "Action",
        ),
        (
            url.replace("AKIDEXAMPLE", "AKIDOTHER"),
            "unknown access key",
        ),
        (url.replace("https://", "http://"), "https"),
        (
            url.replace("X-Amz-Expires=900", "X-Amz-Expires=901"),
            "X-Amz-Expires",
        ),
    ];
    let tokens: Vec<String> = bad.iter().map(|(u, _)| b64(u)).collect();
    let (ok, lines) = validate(&tokens, now, &creds);
    assert!(!ok);
    for ((_, why), line) in bad.iter().zip(&lines) {
        assert!(
            line.starts_with("REJECTED") && line.contains(why),
            "{why}: {line}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The credentials file may also be a Java .properties file (`<akid>.secret_access_key`, ...).
#[test]
fn validator_reads_a_properties_credentials_file() {
    let v = vectors()
        .into_iter()
        .find(|v| v["inputs"]["session_token"].is_string())
        .unwrap();
    let i = &v["inputs"];
    let ak = i["access_key_id"].as_str().unwrap();
    let dir = std::env::temp_dir().join(format!("kquota-testkit-vectors3-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let creds = dir.join("creds.properties");
    // Properties escaping: ':' '=' and '\' in values need a backslash.
    let esc = |s: &str| {
        s.replace('\\', "\\\\")
            .replace(':', "\\:")
            .replace('=', "\\=")
    };
    std::fs::write(
        &creds,
        format!(
            "# test identity\n{ak}.secret_access_key={}\n{ak}.session_token={}\n{ak}.principal_arn={}\n",
            esc(i["secret_access_key"].as_str().unwrap()),
            esc(i["session_token"].as_str().unwrap()),
            esc("arn:aws:sts::111111111111:assumed-role/Props-Role/props-session"),
        ),
    )
    .unwrap();
    let now = i["signing_time_epoch_ms"].as_i64().unwrap();
    let (ok, lines) = validate(&[v["token"].as_str().unwrap().to_string()], now, &creds);
    assert!(ok, "{lines:?}");
    assert!(
        lines[0].starts_with(
            "ACCEPTED arn:aws:sts::111111111111:assumed-role/Props-Role/props-session"
        ),
        "{lines:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
