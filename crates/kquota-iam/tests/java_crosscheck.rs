//! AWS_MSK_IAM cross-check against the Java reference library
//! `software.amazon.msk:aws-msk-iam-auth` 2.3.6 (Maven Central).
//!
//! testdata/iam/java/MskIamPayload.java calls the library exactly as its `IAMSaslClient` does.
//! The library's presigner reads the real clock and takes no clock override, so instead of
//! freezing it we read `x-amz-date` and `x-amz-expires` back from the library's payload, sign the
//! same credentials, host and User-Agent at that time with that expiry, and require every key of
//! the two JSON objects to be equal (signature included), plus the same region derived from the
//! broker host. Needs `java`, `javac` and `mvn` (the jars are fetched into <repo>/.cache once);
//! anything missing fails the test.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, UNIX_EPOCH};

use kquota_iam::{msk_iam_payload, region_from_broker_host, Credentials, SignOptions};
use serde_json::Value;

const LIB_JAR: &str = "aws-msk-iam-auth-2.3.6.jar";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn jars() -> PathBuf {
    let dir = repo().join(".cache/iam-java-jars");
    if !dir.join(LIB_JAR).exists() {
        let st = Command::new("mvn")
            .args(["-q", "-B", "-f"])
            .arg(repo().join("testdata/iam/java/pom.xml"))
            .arg("dependency:copy-dependencies")
            .arg(format!("-DoutputDirectory={}", dir.display()))
            .status()
            .expect("mvn must be installed to fetch aws-msk-iam-auth from Maven Central");
        assert!(st.success(), "mvn dependency:copy-dependencies failed");
    }
    assert!(
        dir.join(LIB_JAR).exists(),
        "{LIB_JAR} missing in {}",
        dir.display()
    );
    dir
}

fn compile(jars: &Path) -> PathBuf {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("iam-java-harness");
    std::fs::create_dir_all(&out).unwrap();
    let st = Command::new("javac")
        .arg("-d")
        .arg(&out)
        .arg("-cp")
        .arg(format!("{}/*", jars.display()))
        .arg(repo().join("testdata/iam/java/MskIamPayload.java"))
        .status()
        .expect("javac must be installed");
    assert!(st.success(), "javac failed");
    out
}

/// `20240115T123456Z` → seconds since the epoch (civil-from-days, proleptic Gregorian).
fn amz_date_to_epoch(s: &str) -> u64 {
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(4..6), n(6..8));
    let (hh, mm, ss) = (n(9..11), n(11..13), n(13..15));
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (days * 86_400 + hh * 3600 + mm * 60 + ss) as u64
}

#[test]
fn amz_date_parser() {
    assert_eq!(amz_date_to_epoch("20240115T123456Z"), 1_705_322_096);
    assert_eq!(amz_date_to_epoch("19700101T000000Z"), 0);
}

#[test]
fn aws_msk_iam_payload_equals_the_java_reference_library() {
    let cases: &[(&str, &str, &str, Option<&str>, &str)] = &[
        (
            "b-1.demo.abc123.c2.kafka.us-east-1.amazonaws.com",
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            "kquota/0.1.0",
        ),
        (
            "b-2.demo.abc123.c2.kafka.eu-west-2.amazonaws.com",
            "ASIAEXAMPLE0000001",
            "sec+ret/with+plus/and/slash",
            Some("AQoDYXdzEPT//////////wEXAMPLE/+tc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI=="),
            "aws-msk-iam-auth/2.3.6/kquota cross-check",
        ),
        (
            "b-4.mytest.30734t.c3.kafka.cn-north-1.amazonaws.com.cn",
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            Some("FAKESESSIONTOKENEXAMPLE0123456789"),
            "kquota/0.1.0",
        ),
        (
            "b-3.prod.xyz789.c4.kafka.ap-southeast-2.amazonaws.com",
            "AKIAIOSFODNN7EXAMPLE",
            "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
            None,
            "ua with spaces; and (parens)",
        ),
        (
            "b-1.gov.abc.c1.kafka.us-gov-west-1.amazonaws.com",
            "AKIDEXAMPLE",
            "k/+k",
            Some("t"),
            "kquota/0.1.0",
        ),
        (
            "boot-abcd1234.c1.kafka-serverless.us-west-2.amazonaws.com",
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            "kquota/0.1.0",
        ),
    ];

    let jars = jars();
    let classes = compile(&jars);
    let mut child = Command::new("java")
        .arg("-cp")
        .arg(format!("{}:{}/*", classes.display(), jars.display()))
        .arg("MskIamPayload")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("java must be installed");
    let mut input = String::new();
    for (host, ak, sk, tok, ua) in cases {
        input.push_str(&format!(
            "{host}\t{ak}\t{sk}\t{}\t{ua}\n",
            tok.unwrap_or("-")
        ));
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "java harness failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), cases.len(), "java output: {stdout}");

    for ((host, ak, sk, tok, ua), line) in cases.iter().zip(lines) {
        let (java_region, java_json) = line.split_once('\t').unwrap();
        let java: Value = serde_json::from_str(java_json).unwrap();
        let region = region_from_broker_host(host).expect("region from host");
        assert_eq!(region, java_region, "{host}: region");

        let t = amz_date_to_epoch(java["x-amz-date"].as_str().unwrap());
        let expires: u64 = java["x-amz-expires"].as_str().unwrap().parse().unwrap();
        assert!((1..=900).contains(&expires));
        let creds = Credentials::new(*ak, *sk, tok.map(str::to_string), None).unwrap();
        let opts = SignOptions::new(region)
            .signing_time(UNIX_EPOCH + Duration::from_secs(t))
            .expires_in(Duration::from_secs(expires))
            .user_agent(*ua);
        let ours: Value =
            serde_json::from_slice(msk_iam_payload(&creds, host, &opts).unwrap().as_bytes())
                .unwrap();
        assert_eq!(ours, java, "{host}: payload differs from aws-msk-iam-auth");
        assert_eq!(
            ours.as_object().unwrap().len(),
            if tok.is_some() { 11 } else { 10 }
        );
    }
}
