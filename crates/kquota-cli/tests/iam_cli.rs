//! `kquota token` and `kquota whoami` as processes: reproducible tokens equal the official
//! signer's vectors, AWS_MSK_IAM payloads, whoami against moto's STS and Secrets Manager, and one
//! clear line with a non-zero exit for every bad input. Secrets never reach stderr, even at -vvv.

#[path = "../../../testdata/iam/moto_server.rs"]
mod moto_server;

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

mod common;
use common::{kquota, put_secret, run_to_end as run};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const PRINCIPAL: &str =
    "arn:aws:sts::111111111111:assumed-role/Topic-B-Write-Role/producerapp-1-role-session";

fn vectors() -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/msk_iam_oauthbearer.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("vectors missing at {} ({e})", path.display()));
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn token_is_reproducible_and_equals_the_official_signer() {
    let home = tempfile::tempdir().unwrap();
    for v in vectors() {
        let i = &v["inputs"];
        let mut c = kquota(home.path());
        c.args(["token", "--region", i["region"].as_str().unwrap()])
            .args(["--access-key-id", i["access_key_id"].as_str().unwrap()])
            .env(
                "KQUOTA_AWS_SECRET_ACCESS_KEY",
                i["secret_access_key"].as_str().unwrap(),
            )
            .args([
                "--signing-time",
                i["signing_time_iso8601"].as_str().unwrap(),
            ])
            .args(["--user-agent", v["user_agent"].as_str().unwrap()]);
        if let Some(t) = i["session_token"].as_str() {
            c.env("KQUOTA_AWS_SESSION_TOKEN", t);
        }
        let (code, out, err) = run(&mut c);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            out,
            format!("{}\n", v["token"].as_str().unwrap()),
            "{}",
            v["id"]
        );
        assert!(err.is_empty(), "{err}");
    }
}

#[test]
fn token_json_and_aws_msk_iam_payload() {
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) = run(kquota(home.path()).args([
        "token",
        "--mechanism",
        "aws-msk-iam",
        "--broker-host",
        "b-4.mytest.30734t.c3.kafka.cn-north-1.amazonaws.com.cn:9098",
        "--access-key-id",
        "AKIDEXAMPLE",
        "--secret-access-key",
        SECRET,
        "--signing-time",
        "2024-01-15T12:34:56Z",
    ]));
    assert_eq!(code, 0, "{err}");
    let p: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(p["version"], "2020_10_22");
    assert_eq!(
        p["host"],
        "b-4.mytest.30734t.c3.kafka.cn-north-1.amazonaws.com.cn"
    );
    assert_eq!(
        p["x-amz-credential"],
        "AKIDEXAMPLE/20240115/cn-north-1/kafka-cluster/aws4_request"
    );
    assert_eq!(
        p["user-agent"],
        format!("kquota/{}", env!("CARGO_PKG_VERSION"))
    );

    let (code, out, err) = run(kquota(home.path()).args([
        "token",
        "--json",
        "--region",
        "eu-west-2",
        "--access-key-id",
        "AKIDEXAMPLE",
        "--secret-access-key",
        SECRET,
        "--signing-time",
        "1705322096",
    ]));
    assert_eq!(code, 0, "{err}");
    let j: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(j["expires_at_ms"], 1_705_322_996_000u64);
    assert_eq!(j["mechanism"], "OAUTHBEARER");
}

#[test]
fn bad_input_is_one_line_with_a_non_zero_exit_and_no_secret() {
    let home = tempfile::tempdir().unwrap();
    let creds = [
        "--access-key-id",
        "AKIDEXAMPLE",
        "--secret-access-key",
        SECRET,
    ];
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["token"], 2, "no AWS region"),
        (
            vec!["token", "--region", "us-east-1"],
            4,
            "could not load AWS credentials from the AWS default credential chain",
        ),
        (
            vec!["token", "--region", "us-east-1", "--profile", "nope"],
            4,
            "AWS profile \"nope\"",
        ),
        ([&["token"][..], &creds].concat(), 2, "no AWS region"),
        (
            [&["token", "--region", "Mars 1"][..], &creds].concat(),
            2,
            "invalid AWS region",
        ),
        (
            [
                &[
                    "token",
                    "--region",
                    "us-east-1",
                    "--signing-time",
                    "yesterday",
                ][..],
                &creds,
            ]
            .concat(),
            2,
            "invalid signing time",
        ),
        (
            [
                &[
                    "token",
                    "--region",
                    "us-east-1",
                    "--mechanism",
                    "aws-msk-iam",
                ][..],
                &creds,
            ]
            .concat(),
            2,
            "needs --broker-host",
        ),
        (
            [
                &["token", "--region", "us-east-1", "--expires-in", "901"][..],
                &creds,
            ]
            .concat(),
            2,
            "--expires-in 901",
        ),
        (
            vec!["whoami", "--region", "us-east-1"],
            4,
            "could not load AWS credentials",
        ),
    ];
    for (args, want_code, want) in cases {
        let (code, out, err) = run(kquota(home.path()).args(&args));
        assert_eq!(code, want_code, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: stdout {out}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains(SECRET), "secret leaked: {err}");
    }

    // A malformed properties file names the file and the property.
    let props = home.path().join("client.properties");
    std::fs::write(&props, "sasl.mechanism=AWS_MSK_IAM\nsasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn=\"x\n").unwrap();
    let (code, _, err) = run(kquota(home.path())
        .args(["token", "--command-config"])
        .arg(&props));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("client.properties") && err.contains("sasl.jaas.config"),
        "{err}"
    );
}

#[test]
fn no_secret_or_token_in_trace_logs() {
    let home = tempfile::tempdir().unwrap();
    let token = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN/+=";
    let (code, out, err) = run(kquota(home.path())
        .args([
            "-vvv",
            "token",
            "--region",
            "us-east-1",
            "--access-key-id",
            "ASIAEXAMPLE",
        ])
        .env("KQUOTA_AWS_SECRET_ACCESS_KEY", SECRET)
        .env("KQUOTA_AWS_SESSION_TOKEN", token)
        .env("KQUOTA_LOG", "trace"));
    assert_eq!(code, 0, "{err}");
    let printed = out.trim();
    assert!(
        err.contains("signed MSK IAM OAUTHBEARER token"),
        "trace logging was on: {err}"
    );
    let encoded = token
        .replace('/', "%2F")
        .replace('+', "%2B")
        .replace('=', "%3D");
    for s in [SECRET, token, encoded.as_str(), printed] {
        assert!(!err.contains(s), "secret in logs: {err}");
    }
}

#[test]
fn whoami_and_token_against_moto() {
    let moto = moto_server::MotoServer::start();
    let home = tempfile::tempdir().unwrap();
    let aws = |c: &mut Command| {
        c.env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", moto.url());
    };
    let role = [
        "--assume-role-arn",
        "arn:aws:iam::111111111111:role/Topic-B-Write-Role",
    ];

    // whoami after assume-role: principal, client-id and the exact quota entity.
    let mut c = kquota(home.path());
    aws(&mut c);
    c.arg("whoami")
        .args(role)
        .args(["--role-session-name", "producerapp-1-role-session"])
        .args(["--client-id", "producerapp-1-client-id"]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("principal:    {PRINCIPAL}\n")),
        "{out}"
    );
    assert!(
        out.contains("client-id:    producerapp-1-client-id\n"),
        "{out}"
    );
    assert!(out.contains(&format!(
        "quota entity: --entity-type users --entity-name {PRINCIPAL} --entity-type clients --entity-name producerapp-1-client-id\n"
    )), "{out}");

    // The identity from a Secrets Manager secret, JSON output.
    put_secret(
        moto.url(),
        "kquota/producerapp-1",
        r#"{"client_id":"producerapp-1-client-id","role_session_name":"producerapp-1-role-session"}"#,
    );
    put_secret(moto.url(), "kquota/broken", "client_id: x");
    let mut c = kquota(home.path());
    aws(&mut c);
    c.args([
        "whoami",
        "--json",
        "--identity-secret",
        "kquota/producerapp-1",
    ])
    .args(role);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{err}");
    let j: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(j["principal"], PRINCIPAL);
    assert_eq!(j["client_id"], "producerapp-1-client-id");

    // A token for the assumed role (temporary keys, session token inside the signed query).
    let mut c = kquota(home.path());
    aws(&mut c);
    c.args(["token", "--json"])
        .args(role)
        .args(["--role-session-name", "producerapp-1-role-session"]);
    let (code, out, err) = run(&mut c);
    assert_eq!(code, 0, "{err}");
    let j: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(j["region"], "us-east-1");
    assert!(
        j["token"].as_str().unwrap().len() > 600,
        "carries a session token"
    );

    // Bad secret and missing secret: one line, exit 4, the secret named, its content not shown.
    for (secret, want) in [
        (
            "kquota/broken",
            "identity secret kquota/broken: is not JSON",
        ),
        (
            "kquota/absent",
            "AWS Secrets Manager GetSecretValue for kquota/absent failed",
        ),
    ] {
        let mut c = kquota(home.path());
        aws(&mut c);
        c.args(["whoami", "--identity-secret", secret]).args(role);
        let (code, _, err) = run(&mut c);
        assert_eq!(code, 4, "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(want), "{err}");
        assert!(!err.contains("client_id: x"), "{err}");
    }
    drop(moto);
}

/// whoami takes the connection flags of the other commands and resolves them the same way:
/// SASL PLAIN / SCRAM (flags or --command-config) is the user name, with no AWS credentials in
/// sight; no SASL is ANONYMOUS; only MSK IAM asks AWS (and fails here, with none).
#[test]
fn whoami_follows_the_connection_settings_and_needs_aws_only_for_iam() {
    let home = tempfile::tempdir().unwrap();
    let props = home.path().join("admin.properties");
    std::fs::write(
        &props,
        "bootstrap.servers=b-1.example:9096\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"platform admin\" password=\"s3cret-pw\";\nclient.id=ops-tool\n",
    )
    .unwrap();
    let (code, out, err) = run(kquota(home.path())
        .args(["whoami", "--command-config"])
        .arg(&props));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "principal:    platform admin\n\
         via:          SASL SCRAM-SHA-512 (the broker sees User:platform admin)\n\
         client-id:    ops-tool\n\
         quota entity: --entity-type users --entity-name 'platform admin' --entity-type clients --entity-name ops-tool\n"
    );
    assert!(!out.contains("s3cret-pw") && !err.contains("s3cret-pw"));

    let (code, out, err) = run(kquota(home.path()).args([
        "whoami",
        "--json",
        "-b",
        "localhost:9092",
        "--security-protocol",
        "SASL_PLAINTEXT",
        "--sasl-mechanism",
        "PLAIN",
        "--sasl-username",
        "alice",
        "--sasl-password",
        "pw",
        "--client-id",
        "app-1",
    ]));
    assert_eq!(code, 0, "{err}");
    let j: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(j["principal"], "alice");
    assert_eq!(j["mechanism"], "PLAIN");
    assert_eq!(j["client_id"], "app-1");
    assert_eq!(j["account"], Value::Null);
    assert_eq!(
        j["quota_entity"],
        "--entity-type users --entity-name alice --entity-type clients --entity-name app-1"
    );

    let (code, out, err) =
        run(kquota(home.path()).args(["whoami", "--security-protocol", "PLAINTEXT"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("principal:    ANONYMOUS\n"), "{out}");

    // MSK IAM (explicit, or nothing configured at all) needs AWS credentials: none here.
    for args in [
        vec![
            "whoami",
            "--security-protocol",
            "SASL_SSL",
            "--sasl-mechanism",
            "AWS_MSK_IAM",
            "--region",
            "us-east-1",
        ],
        vec!["whoami", "--aws-region", "us-east-1"],
    ] {
        let (code, out, err) = run(kquota(home.path()).args(&args));
        assert_eq!(code, 4, "{args:?}: {err}");
        assert_eq!(out, "");
        assert!(err.contains("could not load AWS credentials"), "{err}");
    }
}
