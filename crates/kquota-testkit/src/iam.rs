//! The validator plugin's command line: an independent (Java) MSK IAM token signer and checker,
//! for tests that must not trust the Rust signer under test.

use std::process::{Command, Stdio};

use crate::cluster::java_command;
use crate::credentials::IamIdentity;
use crate::error::{Result, TestkitError};
use crate::fetch;

/// A `java` command running the validator's `main` (`validate ...` or `sign ...` follow).
///
/// ```no_run
/// let out = kquota_testkit::validator_command()?
///     .args(["validate", "<token>", "--now", "1705322096000", "--creds", "creds.json"])
///     .output()
///     .unwrap();
/// # let _ = out;
/// # Ok::<(), kquota_testkit::TestkitError>(())
/// ```
pub fn validator_command() -> Result<Command> {
    let java = fetch::find_tool("java")?;
    let home = fetch::kafka_home()?;
    let cp = fetch::classpath()?;
    let mut cmd = java_command(
        &java,
        &cp,
        &home.join("log4j2-tools.properties"),
        64,
        fetch::VALIDATOR_CLASS,
    );
    cmd.stdin(Stdio::null());
    Ok(cmd)
}

/// Makes an MSK IAM OAUTHBEARER token for `identity` with the Java signer, in the Python signer's
/// layout. `date` is `yyyyMMddTHHmmssZ`, epoch milliseconds, or `None` for now.
///
/// ```no_run
/// let creds = kquota_testkit::shared().credentials();
/// let token = kquota_testkit::sign_iam_token(creds.iam_by_name("producerapp-1").unwrap(), "us-east-1", None)?;
/// assert!(!token.contains('='));
/// # Ok::<(), kquota_testkit::TestkitError>(())
/// ```
pub fn sign_iam_token(identity: &IamIdentity, region: &str, date: Option<&str>) -> Result<String> {
    let mut cmd = validator_command()?;
    cmd.args(["sign", "--access-key", &identity.access_key_id])
        .args(["--secret", &identity.secret_access_key])
        .args(["--region", region])
        .args(["--date", date.unwrap_or("now")]);
    if let Some(t) = &identity.session_token {
        cmd.args(["--session-token", t]);
    }
    let out = cmd
        .output()
        .map_err(|e| TestkitError::io("running the Java MSK IAM signer", e))?;
    if !out.status.success() {
        return Err(TestkitError::Tool {
            what: "Java MSK IAM signer",
            detail: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if token.is_empty() {
        return Err(TestkitError::Tool {
            what: "Java MSK IAM signer",
            detail: "printed no token".into(),
        });
    }
    Ok(token)
}
