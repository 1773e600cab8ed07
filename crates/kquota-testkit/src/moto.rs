//! A local AWS emulator: moto's server (PyPI `moto[server]`) on a free 127.0.0.1 port.
//!
//! kquota's AWS calls (STS AssumeRole / GetCallerIdentity, Secrets Manager, CloudWatch) are
//! tested against it, never against the live cloud. The account id is [`TEST_ACCOUNT`], so the
//! ARNs moto returns look like the ones the testkit's MSK-IAM validator maps keys to.
//!
//! The server runs under the same watchdog as the Kafka JVMs: it stops when the value is
//! dropped and when this process exits or is killed.
//!
//! ```no_run
//! let moto = kquota_testkit::MotoServer::try_start()?;
//! std::env::set_var("AWS_ENDPOINT_URL", moto.url());
//! # Ok::<(), kquota_testkit::TestkitError>(())
//! ```

use std::ffi::OsString;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::credentials::TEST_ACCOUNT;
use crate::error::{Result, TestkitError};
use crate::process::Jvm;

/// How long moto may take to listen (its first start imports a lot of Python).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running moto server.
#[derive(Debug)]
pub struct MotoServer {
    process: Jvm,
    url: String,
    dir: PathBuf,
}

impl MotoServer {
    /// Starts `moto_server` on a free port and waits until it accepts connections.
    ///
    /// Errors ([`TestkitError::Tool`]): `moto_server` not on `PATH`, or it exited or did
    /// not listen within 60 s (its log is named in the error).
    pub fn try_start() -> Result<MotoServer> {
        let program = find_on_path("moto_server").ok_or(TestkitError::Tool {
            what: "moto_server",
            detail: "not found on PATH (pip install 'moto[server]')".into(),
        })?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| TestkitError::io("finding a free port for moto_server", e))?
            .port();
        let dir = std::env::temp_dir().join(format!("kquota-moto-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| TestkitError::io(format!("creating {}", dir.display()), e))?;
        let log = dir.join("moto.log");
        // `env` sets the account id for the server only, not for this process.
        let args: Vec<OsString> = vec![
            format!("MOTO_ACCOUNT_ID={TEST_ACCOUNT}").into(),
            program.into_os_string(),
            "-H".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string().into(),
        ];
        let mut process = Jvm::spawn(Path::new("/usr/bin/env"), &args, &log, &dir)?;
        let deadline = Instant::now() + START_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = process.exited() {
                return Err(TestkitError::Tool {
                    what: "moto_server",
                    detail: format!("exited early ({status}); see {}", log.display()),
                });
            }
            if Instant::now() >= deadline {
                return Err(TestkitError::Tool {
                    what: "moto_server",
                    detail: format!(
                        "not listening on 127.0.0.1:{port} after {} s; see {}",
                        START_TIMEOUT.as_secs(),
                        log.display()
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(MotoServer {
            process,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        })
    }

    /// [`MotoServer::try_start`] for tests: panics with the error's one line.
    pub fn start() -> MotoServer {
        match Self::try_start() {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        }
    }

    /// The endpoint URL, e.g. `http://127.0.0.1:40123` (for `AWS_ENDPOINT_URL`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether `moto_server` is on `PATH`.
    ///
    /// ```
    /// let _ = kquota_testkit::MotoServer::available();
    /// ```
    pub fn available() -> bool {
        find_on_path("moto_server").is_some()
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        self.process.stop(Duration::from_secs(5));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}
