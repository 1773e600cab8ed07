//! Running one tool invocation: wall time, peak RSS (`ru_maxrss` from `wait4(2)`, the counter
//! GNU time prints as "Maximum resident set size"), exit status, output; and time to first byte.

use std::fs::File;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// What one run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// From just before `spawn` to the return of `wait4`.
    pub wall: Duration,
    /// Peak resident set size of the process, KiB.
    pub max_rss_kib: u64,
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// The run was killed at its time-out.
    pub timed_out: bool,
    /// Captured standard output (empty when discarded).
    pub stdout: String,
    /// Captured standard error.
    pub stderr: String,
}

impl Outcome {
    /// Ok if the process exited 0, else an error with the last meaningful stderr line.
    pub fn check(&self, what: &str) -> Result<()> {
        if self.timed_out {
            bail!("{what}: timed out after {:.0?}", self.wall);
        }
        if self.code != Some(0) {
            let last = last_line(&self.stderr)
                .or_else(|| last_line(&self.stdout))
                .unwrap_or("(no output)");
            // The first error line usually says why; the last one how it ended.
            let first = self
                .stderr
                .lines()
                .map(str::trim)
                .find(|l| l.to_ascii_lowercase().contains("error"))
                .filter(|l| *l != last);
            match (self.code, first) {
                (Some(c), Some(f)) => bail!("{what}: exit {c}: {} … {last}", clip(f)),
                (Some(c), None) => bail!("{what}: exit {c}: {last}"),
                (None, _) => bail!("{what}: killed by a signal: {last}"),
            }
        }
        Ok(())
    }
}

/// The last non-empty line of `s`, trimmed to 200 characters.
pub fn last_line(s: &str) -> Option<&str> {
    s.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(clip)
}

fn clip(l: &str) -> &str {
    match l.char_indices().nth(200) {
        Some((i, _)) => &l[..i],
        None => l,
    }
}

/// Where a run's output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Captured in files under the work directory and returned.
    Capture,
    /// Standard output to /dev/null (bulk consumers), stderr still captured.
    DiscardStdout,
}

/// Runs `cmd` to completion (killed after `timeout`), measuring wall time and peak RSS.
pub fn run(cmd: &mut Command, work: &Path, output: Output, timeout: Duration) -> Result<Outcome> {
    let out_path = scratch(work, "stdout");
    let err_path = scratch(work, "stderr");
    let stdout = match output {
        Output::Capture => Stdio::from(File::create(&out_path)?),
        Output::DiscardStdout => Stdio::null(),
    };
    cmd.stdin(Stdio::null())
        .stdout(stdout)
        .stderr(File::create(&err_path)?);
    let start = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {:?}", cmd.get_program()))?;
    let pid = child.id() as libc::pid_t;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = wait_rusage(pid);
        let _ = tx.send((r, Instant::now()));
    });
    // The waiting thread owns reaping: until wait4 returns the pid cannot be reused, so killing
    // it on time-out is safe.
    let (waited, timed_out) = match rx.recv_timeout(timeout) {
        Ok(v) => (v, false),
        Err(_) => {
            kill(pid);
            (rx.recv().context("wait thread vanished")?, true)
        }
    };
    drop(child);
    let ((status, max_rss_kib), end) = (waited.0?, waited.1);
    let code = if libc::WIFEXITED(status) {
        Some(libc::WEXITSTATUS(status))
    } else {
        None
    };
    let read = |p: &PathBuf| std::fs::read_to_string(p).unwrap_or_default();
    let o = Outcome {
        wall: end - start,
        max_rss_kib,
        code,
        timed_out,
        stdout: if output == Output::Capture {
            read(&out_path)
        } else {
            String::new()
        },
        stderr: read(&err_path),
    };
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&err_path);
    Ok(o)
}

/// Time from spawning `cmd` (pointed at `addr` by `make`) until its first byte reaches a
/// listener of ours; the process is killed as soon as that byte arrives.
pub fn time_to_first_byte(
    make: impl FnOnce(&str) -> Command,
    work: &Path,
    timeout: Duration,
) -> Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = (|| -> std::io::Result<Instant> {
            let (mut s, _) = listener.accept()?;
            let mut b = [0u8; 1];
            s.read_exact(&mut b)?;
            Ok(Instant::now())
        })();
        let _ = tx.send(r);
    });
    let mut cmd = make(&addr.to_string());
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(scratch(work, "ttfb-stderr"))?);
    let start = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {:?}", cmd.get_program()))?;
    let pid = child.id() as libc::pid_t;
    let got = rx.recv_timeout(timeout);
    kill(pid);
    let _ = wait_rusage(pid);
    drop(child);
    match got {
        Ok(Ok(t)) => Ok(t - start),
        Ok(Err(e)) => bail!("no first byte: {e}"),
        Err(_) => {
            // Unblock the accept thread so it does not outlive the measurement.
            let _ = TcpStream::connect(addr);
            bail!("no connection within {timeout:?}")
        }
    }
}

fn scratch(work: &Path, what: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    work.join(format!("run-{}-{what}", N.fetch_add(1, Ordering::Relaxed)))
}

/// `wait4` on `pid`, retried on EINTR: (status, ru_maxrss in KiB).
fn wait_rusage(pid: libc::pid_t) -> Result<(i32, u64)> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `status` and `ru` are valid out-pointers for the duration of the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            return Ok((status, ru.ru_maxrss.max(0) as u64));
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            bail!("wait4({pid}): {err}");
        }
    }
}

/// SIGKILL to a child we have not reaped yet.
pub fn kill(pid: libc::pid_t) {
    // SAFETY: sending a signal has no memory-safety preconditions; `pid` is our unreaped child.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}
