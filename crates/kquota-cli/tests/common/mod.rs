//! Helpers shared by the CLI test binaries (each uses a subset).
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// `kquota` with a clean environment: no AWS variables but the ones a test sets, an empty
/// HOME, IMDS off.
pub fn kquota(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kquota"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
    c
}

/// Runs to completion: exit code (-1 when killed by a signal), stdout, stderr.
pub fn run_to_end(c: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().expect("run kquota");
    (
        status.code().unwrap_or(-1),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

/// Creates a secret in moto with boto3 (installed with moto).
pub fn put_secret(url: &str, name: &str, value: &str) {
    let st = Command::new("python3")
        .args([
            "-c",
            "import sys, boto3; boto3.client('secretsmanager', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='y').create_secret(Name=sys.argv[2], SecretString=sys.argv[3])",
            url,
            name,
            value,
        ])
        .status()
        .expect("python3 with boto3");
    assert!(st.success());
}
