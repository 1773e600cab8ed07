//! Running a JVM so that it can never outlive the test process.
//!
//! The JVM is started by a tiny `sh` watchdog whose standard input is a pipe held by this process.
//! When the pipe reaches end-of-file — because the cluster was dropped, or because this process
//! exited or was killed, even with SIGKILL (the kernel closes the write end) — the watchdog sends
//! the JVM SIGTERM and, if it is still alive 5 s later, SIGKILL. Unlike `PR_SET_PDEATHSIG`, this
//! does not depend on which thread spawned the child. The watchdog and the JVM run in their own
//! process group so a terminal's Ctrl-C reaches only the testkit, which then stops them in order.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Result, TestkitError};

/// The watchdog. `$@` is the JVM command line. fd 3 keeps the pipe because a non-interactive
/// shell gives background jobs /dev/null as standard input.
const WATCHDOG: &str = r#"exec 3<&0
"$@" </dev/null 3<&- &
jvm=$!
{
  read -r _ <&3
  kill -TERM "$jvm" 2>/dev/null
  n=0
  while kill -0 "$jvm" 2>/dev/null && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n+1)); done
  kill -KILL "$jvm" 2>/dev/null
} &
guard=$!
exec 3<&-
wait "$jvm"
rc=$?
kill "$guard" 2>/dev/null
exit $rc
"#;

/// A JVM under the watchdog.
pub(crate) struct Jvm {
    child: Child,
    /// Write end of the watchdog's pipe; dropping it stops the JVM.
    lifeline: Option<ChildStdin>,
    pub(crate) log: PathBuf,
}

impl std::fmt::Debug for Jvm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jvm")
            .field("watchdog_pid", &self.child.id())
            .field("log", &self.log)
            .finish()
    }
}

impl Jvm {
    /// Starts `java args...` with stdout and stderr appended to `log`.
    pub(crate) fn spawn(java: &Path, args: &[OsString], log: &Path, cwd: &Path) -> Result<Jvm> {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| TestkitError::io(format!("opening log {}", log.display()), e))?;
        let err = out
            .try_clone()
            .map_err(|e| TestkitError::io("duplicating log handle", e))?;
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(WATCHDOG)
            .arg("kquota-testkit-watchdog")
            .arg(java)
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd
            .spawn()
            .map_err(|e| TestkitError::io("starting /bin/sh for the JVM watchdog", e))?;
        let lifeline = child.stdin.take();
        Ok(Jvm {
            child,
            lifeline,
            log: log.to_path_buf(),
        })
    }

    /// `Some(exit description)` once the JVM (and its watchdog) has exited.
    pub(crate) fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(st)) => Some(st.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("cannot wait for it: {e}")),
        }
    }

    /// Asks the JVM to stop (SIGTERM, SIGKILL after 5 s) without waiting.
    pub(crate) fn begin_stop(&mut self) {
        self.lifeline.take();
    }

    /// Stops the JVM and waits for it; after `timeout` the whole process group is SIGKILLed.
    /// Returns the watchdog's exit code when the JVM ended on its own terms (not SIGKILLed).
    pub(crate) fn stop(&mut self, timeout: Duration) -> Option<i32> {
        self.begin_stop();
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(st)) => return st.code().filter(|c| *c != 128 + libc::SIGKILL),
                Err(_) => return None,
                Ok(None) if Instant::now() >= deadline => {
                    self.kill_now();
                    return None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// SIGKILLs the watchdog's process group (the JVM included) and reaps the watchdog.
    pub(crate) fn kill_now(&mut self) {
        self.lifeline.take();
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        let pgid = self.child.id() as libc::pid_t;
        // SAFETY: sends a signal to the process group we created for this watchdog.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

impl Drop for Jvm {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.stop(Duration::from_secs(8));
        }
    }
}
