//! Test identities: SASL users (PLAIN, SCRAM) and MSK-IAM-style access keys with their ARNs.
//!
//! All of them are fixed, public test values (they only ever exist inside a throw-away local
//! cluster); `Debug` output still redacts every password, secret key and session token so the
//! habit holds.

use std::fmt;
use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, TestkitError};
use crate::fetch::FileLock;

/// The AWS account id used in every test ARN.
pub const TEST_ACCOUNT: &str = "111111111111";

/// A SASL user name and password (PLAIN, or SCRAM with [`Credentials::scram_users`]).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPassword {
    /// User name; the principal is `User:<user>`.
    pub user: String,
    /// Password.
    pub password: String,
}

impl fmt::Debug for UserPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserPassword")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl UserPassword {
    fn new(user: &str, password: &str) -> Self {
        UserPassword {
            user: user.into(),
            password: password.into(),
        }
    }
}

/// An MSK-IAM-style identity: AWS credentials and the principal ARN the broker's validator gives
/// a token signed with them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamIdentity {
    /// Short name for tests (`producerapp-1`, `consumerapp-1`, ...).
    pub name: String,
    /// AWS access key id (`AKIA...` long-term, `ASIA...` temporary).
    pub access_key_id: String,
    /// AWS secret access key.
    pub secret_access_key: String,
    /// STS session token for temporary credentials; the signed token must then carry it.
    pub session_token: Option<String>,
    /// The principal the broker authenticates the token as (`User:<arn>` in ACLs and quotas).
    pub principal_arn: String,
}

impl fmt::Debug for IamIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamIdentity")
            .field("name", &self.name)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("principal_arn", &self.principal_arn)
            .finish()
    }
}

/// Every credential a testkit cluster accepts.
///
/// | principal | how to authenticate |
/// |---|---|
/// | `User:admin` (super user) | PLAIN, SCRAM-SHA-256/512 `admin` / `admin-secret` |
/// | `User:alice`, `User:bob` | PLAIN and SCRAM `alice`/`alice-secret`, `bob`/`bob-secret` |
/// | `User:arn:aws:sts::111111111111:assumed-role/Topic-B-Write-Role/producerapp-1-role-session` | OAUTHBEARER, token signed with [`Credentials::iam`] `producerapp-1` |
/// | `User:arn:...:assumed-role/Topic-B-Read-Role/consumerapp-1-role-session` / `consumerapp-2-role-session` | OAUTHBEARER, `consumerapp-1` / `consumerapp-2` |
/// | `User:arn:aws:iam::111111111111:user/kquota-admin` | OAUTHBEARER, `iam-user` (long-term key, no session token) |
///
/// ```
/// let creds = kquota_testkit::Credentials::default_test_set();
/// assert_eq!(creds.admin.user, "admin");
/// let producer = creds.iam_by_name("producerapp-1").unwrap();
/// assert!(producer.principal_arn.ends_with("/producerapp-1-role-session"));
/// assert!(!format!("{creds:?}").contains(&producer.secret_access_key));
/// ```
#[derive(Clone, Serialize, Deserialize)]
pub struct Credentials {
    /// The super user (PLAIN and SCRAM).
    pub admin: UserPassword,
    /// Users accepted by SASL/PLAIN (admin included).
    pub plain_users: Vec<UserPassword>,
    /// Users with SCRAM-SHA-256 and SCRAM-SHA-512 credentials (admin included).
    pub scram_users: Vec<UserPassword>,
    /// MSK-IAM identities accepted by the OAUTHBEARER validator.
    pub iam: Vec<IamIdentity>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("admin", &self.admin)
            .field("plain_users", &self.plain_users)
            .field("scram_users", &self.scram_users)
            .field("iam", &self.iam)
            .finish()
    }
}

/// The shipped default IAM identities file.
const DEFAULT_IAM_FILE: &str = include_str!("../../../testdata/broker-plugin/iam-credentials.json");

fn default_iam_identities() -> Vec<IamIdentity> {
    let file: IamFile = serde_json::from_str(DEFAULT_IAM_FILE)
        .expect("testdata/broker-plugin/iam-credentials.json is valid (checked by a unit test)");
    file.identities.into_iter().map(IamIdentity::from).collect()
}

impl From<IamFileEntry> for IamIdentity {
    fn from(e: IamFileEntry) -> Self {
        IamIdentity {
            name: if e.name.is_empty() {
                e.access_key_id.clone()
            } else {
                e.name
            },
            access_key_id: e.access_key_id,
            secret_access_key: e.secret_access_key,
            session_token: e.session_token.filter(|t| !t.is_empty()),
            principal_arn: e.principal_arn,
        }
    }
}

impl Credentials {
    /// The fixed identities every testkit cluster starts with (see the table above). The IAM
    /// identities come from `testdata/broker-plugin/iam-credentials.json`, compiled in.
    pub fn default_test_set() -> Credentials {
        let admin = UserPassword::new("admin", "admin-secret");
        let users = vec![
            admin.clone(),
            UserPassword::new("alice", "alice-secret"),
            UserPassword::new("bob", "bob-secret"),
        ];
        Credentials {
            admin,
            plain_users: users.clone(),
            scram_users: users,
            iam: default_iam_identities(),
        }
    }

    /// The IAM identity with this short name.
    ///
    /// ```
    /// let creds = kquota_testkit::Credentials::default_test_set();
    /// assert!(creds.iam_by_name("consumerapp-2").is_some());
    /// ```
    pub fn iam_by_name(&self, name: &str) -> Option<&IamIdentity> {
        self.iam.iter().find(|i| i.name == name)
    }

    /// A PLAIN user by name.
    ///
    /// ```
    /// let creds = kquota_testkit::Credentials::default_test_set();
    /// assert_eq!(creds.plain_user("alice").unwrap().password, "alice-secret");
    /// ```
    pub fn plain_user(&self, user: &str) -> Option<&UserPassword> {
        self.plain_users.iter().find(|u| u.user == user)
    }
}

#[derive(Serialize, Deserialize)]
struct IamFile {
    identities: Vec<IamFileEntry>,
}

#[derive(Serialize, Deserialize)]
struct IamFileEntry {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    principal_arn: String,
    #[serde(default)]
    name: String,
}

/// Writes the validator's credentials file (atomically: temp file + rename).
pub(crate) fn write_iam_file(path: &Path, ids: &[IamIdentity]) -> Result<()> {
    let file = IamFile {
        identities: ids
            .iter()
            .map(|i| IamFileEntry {
                access_key_id: i.access_key_id.clone(),
                secret_access_key: i.secret_access_key.clone(),
                session_token: i.session_token.clone(),
                principal_arn: i.principal_arn.clone(),
                name: i.name.clone(),
            })
            .collect(),
    };
    let text = serde_json::to_string_pretty(&file)
        .map_err(|e| TestkitError::io("encoding IAM credentials", std::io::Error::other(e)))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&tmp, text).map_err(|e| TestkitError::io(format!("writing {}", tmp.display()), e))?;
    fs::rename(&tmp, path).map_err(|e| TestkitError::io(format!("replacing {}", path.display()), e))
}

/// Adds (or replaces, by access key id) an identity in the credentials file, under a lock so
/// several test processes sharing one cluster do not lose each other's entries.
pub(crate) fn add_iam_identity(path: &Path, id: &IamIdentity) -> Result<()> {
    let _lock = FileLock::acquire(&path.with_extension("lock"))?;
    let text = fs::read_to_string(path)
        .map_err(|e| TestkitError::io(format!("reading {}", path.display()), e))?;
    let file: IamFile = serde_json::from_str(&text).map_err(|e| {
        TestkitError::io(
            format!("parsing {}", path.display()),
            std::io::Error::other(e),
        )
    })?;
    let mut ids: Vec<IamIdentity> = file
        .identities
        .into_iter()
        .filter(|e| e.access_key_id != id.access_key_id)
        .map(IamIdentity::from)
        .collect();
    ids.push(id.clone());
    write_iam_file(path, &ids)
}

/// Reads the identities of a credentials file.
pub(crate) fn read_iam_file(path: &Path) -> Result<Vec<IamIdentity>> {
    let text = fs::read_to_string(path)
        .map_err(|e| TestkitError::io(format!("reading {}", path.display()), e))?;
    let file: IamFile = serde_json::from_str(&text).map_err(|e| {
        TestkitError::io(
            format!("parsing {}", path.display()),
            std::io::Error::other(e),
        )
    })?;
    Ok(file.identities.into_iter().map(IamIdentity::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_default_identities_parse_and_are_distinct() {
        let ids = default_iam_identities();
        assert_eq!(ids.len(), 4);
        let mut keys: Vec<_> = ids.iter().map(|i| &i.access_key_id).collect();
        keys.dedup();
        assert_eq!(keys.len(), 4);
        assert!(ids.iter().any(|i| i
            .principal_arn
            .ends_with("Topic-B-Write-Role/producerapp-1-role-session")));
    }
}
