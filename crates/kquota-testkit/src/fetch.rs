//! Fetching Apache Kafka with Maven and compiling the validator plugin, once per cache.
//!
//! Both steps run under an exclusive file lock in the cache directory, so test binaries that start
//! in parallel wait for one another instead of racing; a stamp file written last marks a finished
//! step, so an interrupted fetch is simply redone.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::error::{Result, TestkitError};

/// The Apache Kafka version the testkit fetches and runs (see `testdata/kafka/pom.xml`).
pub const KAFKA_VERSION: &str = "4.1.1";

/// Java main class of the validator plugin (also its command-line entry point).
pub const VALIDATOR_CLASS: &str = "dev.kquota.testkit.MskIamValidatorCallbackHandler";

/// How long a fetch or compile may take before the testkit gives up (never hang).
const STEP_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The kquota repository root: env `KQUOTA_TESTKIT_REPO`, else found from this crate's
/// `CARGO_MANIFEST_DIR` at compile time.
///
/// ```
/// assert!(kquota_testkit::repo_root().join("testdata/kafka/pom.xml").exists());
/// ```
pub fn repo_root() -> PathBuf {
    if let Some(p) = std::env::var_os("KQUOTA_TESTKIT_REPO") {
        return PathBuf::from(p);
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = here.join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The cache directory: env `KQUOTA_TESTKIT_CACHE`, else `<repo>/.cache/kafka` (git-ignored), else
/// (read-only checkout) `$XDG_CACHE_HOME/kquota-testkit` or `~/.cache/kquota-testkit`.
///
/// ```
/// let cache = kquota_testkit::cache_dir();
/// assert!(cache.is_absolute() || std::env::var_os("KQUOTA_TESTKIT_CACHE").is_some());
/// ```
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("KQUOTA_TESTKIT_CACHE") {
        return PathBuf::from(p);
    }
    let in_repo = repo_root().join(".cache/kafka");
    if fs::create_dir_all(&in_repo).is_ok() {
        return in_repo;
    }
    // A read-only checkout (e.g. a git dependency in a shared cargo home): use the user's cache.
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("kquota-testkit")
}

/// Fetches Apache Kafka (broker, tools, log4j2 backend) into the cache if it is not there yet and
/// returns its home directory, whose `libs/` holds the jars.
///
/// Runs `mvn -q -B dependency:copy-dependencies -f testdata/kafka/pom.xml` once; later calls (from
/// any process) return at once. Fails with [`TestkitError::MissingTool`] when `mvn`/`java` is not on
/// `PATH`, and with [`TestkitError::Fetch`] naming Maven's log when Maven fails.
///
/// ```no_run
/// let home = kquota_testkit::kafka_home()?;
/// assert!(home.join("libs").is_dir());
/// # Ok::<(), kquota_testkit::TestkitError>(())
/// ```
pub fn kafka_home() -> Result<PathBuf> {
    let cache = cache_dir();
    let home = cache.join(format!("kafka-{KAFKA_VERSION}"));
    let pom = repo_root().join("testdata/kafka/pom.xml");
    let pom_bytes =
        fs::read(&pom).map_err(|e| TestkitError::io(format!("reading {}", pom.display()), e))?;
    let want = hex(&Sha256::digest(&pom_bytes));
    let stamp = home.join(".fetched");
    if fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str()) {
        return Ok(home);
    }
    fs::create_dir_all(&cache)
        .map_err(|e| TestkitError::io(format!("creating cache {}", cache.display()), e))?;
    let _lock = FileLock::acquire(&cache.join("fetch.lock"))?;
    if fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str()) {
        return Ok(home);
    }
    find_tool("java")?;
    let mvn = find_tool("mvn")?;
    let libs = home.join("libs");
    let tmp = home.join("libs.partial");
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&home)
        .map_err(|e| TestkitError::io(format!("creating {}", home.display()), e))?;
    let log = cache.join("mvn-fetch.log");
    let out = File::create(&log)
        .map_err(|e| TestkitError::io(format!("creating {}", log.display()), e))?;
    let err = out
        .try_clone()
        .map_err(|e| TestkitError::io("duplicating log handle", e))?;
    eprintln!(
        "kquota-testkit: fetching Apache Kafka {KAFKA_VERSION} with Maven into {} (log: {})",
        libs.display(),
        log.display()
    );
    let mut cmd = Command::new(mvn);
    cmd.args(["-q", "-B", "dependency:copy-dependencies", "-f"])
        .arg(&pom)
        .arg(format!("-DoutputDirectory={}", tmp.display()))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    let status = run_bounded(&mut cmd, STEP_TIMEOUT).map_err(|status| TestkitError::Fetch {
        version: KAFKA_VERSION,
        status,
        log: log.clone(),
    })?;
    let has_kafka = tmp.join(format!("kafka_2.13-{KAFKA_VERSION}.jar")).exists();
    if !status.success() || !has_kafka {
        return Err(TestkitError::Fetch {
            version: KAFKA_VERSION,
            status: if status.success() {
                "Maven succeeded but kafka_2.13 jar is missing".into()
            } else {
                match first_maven_error(&log) {
                    Some(e) => format!("mvn exited with {status}: {e}"),
                    None => format!("mvn exited with {status}"),
                }
            },
            log,
        });
    }
    let _ = fs::remove_dir_all(&libs);
    fs::rename(&tmp, &libs).map_err(|e| {
        TestkitError::io(
            format!("renaming {} to {}", tmp.display(), libs.display()),
            e,
        )
    })?;
    write_log4j_configs(&home)?;
    fs::write(&stamp, &want)
        .map_err(|e| TestkitError::io(format!("writing {}", stamp.display()), e))?;
    Ok(home)
}

/// The first `[ERROR]` line of Maven's log, without colour codes, clipped.
fn first_maven_error(log: &Path) -> Option<String> {
    let text = fs::read_to_string(log).ok()?;
    let line = text
        .lines()
        .find(|l| l.contains("[ERROR]") && l.len() > 12)?;
    let clean: String = line
        .replace("\u{1b}[1;31m", "")
        .replace("\u{1b}[m", "")
        .replace("\u{1b}[0m", "")
        .replace("\u{1b}[1m", "")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let clean = clean
        .trim()
        .trim_start_matches("[ERROR]")
        .trim()
        .to_string();
    Some(if clean.chars().count() > 300 {
        format!("{}...", clean.chars().take(300).collect::<String>())
    } else {
        clean
    })
}

/// log4j2 configurations: brokers log INFO to stdout (redirected to the node log), tools log WARN
/// to stderr so their stdout stays parseable.
fn write_log4j_configs(home: &Path) -> Result<()> {
    let broker = "status = warn\n\
appender.out.type = Console\n\
appender.out.name = OUT\n\
appender.out.layout.type = PatternLayout\n\
appender.out.layout.pattern = [%d] %p %m (%c)%n\n\
rootLogger.level = INFO\n\
rootLogger.appenderRef.out.ref = OUT\n";
    let tools = "status = warn\n\
appender.err.type = Console\n\
appender.err.name = ERR\n\
appender.err.target = SYSTEM_ERR\n\
appender.err.layout.type = PatternLayout\n\
appender.err.layout.pattern = [%d] %p %m (%c)%n\n\
rootLogger.level = WARN\n\
rootLogger.appenderRef.err.ref = ERR\n";
    for (name, text) in [
        ("log4j2-broker.properties", broker),
        ("log4j2-tools.properties", tools),
    ] {
        let p = home.join(name);
        fs::write(&p, text).map_err(|e| TestkitError::io(format!("writing {}", p.display()), e))?;
    }
    Ok(())
}

/// Compiles the Java sources in `testdata/broker-plugin/` (the MSK IAM validator and the storage
/// formatter) with `javac` against the Kafka jars, packs them into a jar in the cache, and returns
/// its path. Rebuilt whenever a source changes.
///
/// ```no_run
/// let jar = kquota_testkit::plugin_jar()?;
/// assert!(jar.exists());
/// # Ok::<(), kquota_testkit::TestkitError>(())
/// ```
pub fn plugin_jar() -> Result<PathBuf> {
    let home = kafka_home()?;
    let src_dir = repo_root().join("testdata/broker-plugin");
    let mut sources: Vec<PathBuf> = fs::read_dir(&src_dir)
        .map_err(|e| TestkitError::io(format!("listing {}", src_dir.display()), e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "java"))
        .collect();
    sources.sort();
    let mut hasher = Sha256::new();
    for src in &sources {
        let text =
            fs::read(src).map_err(|e| TestkitError::io(format!("reading {}", src.display()), e))?;
        hasher.update(
            src.file_name()
                .map(|n| n.as_encoded_bytes())
                .unwrap_or_default(),
        );
        hasher.update((text.len() as u64).to_le_bytes());
        hasher.update(&text);
    }
    let digest = hex(&hasher.finalize());
    let out = cache_dir().join("plugin").join(&digest[..16]);
    let jar = out.join("kquota-testkit-plugin.jar");
    let stamp = out.join(".built");
    if stamp.exists() {
        return Ok(jar);
    }
    fs::create_dir_all(&out)
        .map_err(|e| TestkitError::io(format!("creating {}", out.display()), e))?;
    let _lock = FileLock::acquire(&cache_dir().join("plugin.lock"))?;
    if stamp.exists() {
        return Ok(jar);
    }
    let javac = find_tool("javac")?;
    let jar_tool = find_tool("jar")?;
    let classes = out.join("classes");
    let _ = fs::remove_dir_all(&classes);
    let log = out.join("javac.log");
    let source_file = sources.first().cloned().unwrap_or_else(|| src_dir.clone());
    let compile_err = |status: String| TestkitError::Compile {
        source_file: source_file.clone(),
        status,
        log: log.clone(),
    };
    let logf = File::create(&log)
        .map_err(|e| TestkitError::io(format!("creating {}", log.display()), e))?;
    let mut cmd = Command::new(javac);
    cmd.arg("-nowarn")
        .arg("-d")
        .arg(&classes)
        .arg("-cp")
        .arg(home.join("libs/*"))
        .args(&sources);
    run_logged(&mut cmd, &logf).map_err(compile_err)?;
    let mut cmd = Command::new(jar_tool);
    cmd.arg("cf").arg(&jar).arg("-C").arg(&classes).arg(".");
    run_logged(&mut cmd, &logf).map_err(compile_err)?;
    fs::write(&stamp, &digest)
        .map_err(|e| TestkitError::io(format!("writing {}", stamp.display()), e))?;
    Ok(jar)
}

/// Runs a build tool with its output appended to `log`; `Err(reason)` unless it succeeds.
fn run_logged(cmd: &mut Command, log: &File) -> Result<(), String> {
    let out = log.try_clone().map_err(|e| e.to_string())?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    let status = run_bounded(cmd, STEP_TIMEOUT)?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{:?} exited with {status}", cmd.get_program()))
    }
}

/// The Java classpath of the broker and tools: the plugin jar and all Kafka jars.
pub(crate) fn classpath() -> Result<String> {
    let home = kafka_home()?;
    let jar = plugin_jar()?;
    Ok(format!(
        "{}:{}",
        jar.display(),
        home.join("libs/*").display()
    ))
}

/// Finds `name` on `PATH` (the testkit never guesses other locations).
pub(crate) fn find_tool(name: &'static str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let cand = dir.join(name);
        if let Ok(meta) = fs::metadata(&cand) {
            use std::os::unix::fs::PermissionsExt;
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return Ok(cand);
            }
        }
    }
    Err(TestkitError::MissingTool { tool: name })
}

/// Runs a command with a deadline; on timeout kills it and reports why.
fn run_bounded(cmd: &mut Command, timeout: Duration) -> Result<std::process::ExitStatus, String> {
    let mut child = cmd.spawn().map_err(|e| format!("cannot run it: {e}"))?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return Ok(st),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {} s", timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(format!("waiting for it failed: {e}")),
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An exclusive `flock` on a file, released on drop (and by the kernel if the process dies).
pub(crate) struct FileLock {
    _file: File,
}

impl FileLock {
    /// Waits (bounded by the step timeout) for the lock.
    pub(crate) fn acquire(path: &Path) -> Result<Self> {
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| TestkitError::io(format!("opening lock {}", path.display()), e))?;
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            // SAFETY: flock on a file descriptor we own; no memory is involved.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                let _ = writeln!(file, "{}", std::process::id());
                return Ok(FileLock { _file: file });
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(TestkitError::io(format!("locking {}", path.display()), err));
            }
            if Instant::now() >= deadline {
                return Err(TestkitError::io(
                    format!("waiting for lock {}", path.display()),
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "another process holds it"),
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Where the dynamic class-data-sharing archive for this classpath and JVM lives. Loading Kafka's
/// classes from it saves about a second of CPU per JVM start; it is written once, by the first
/// broker that stops gracefully (`-XX:ArchiveClassesAtExit`).
pub(crate) fn cds_archive(java: &Path, classpath: &str) -> PathBuf {
    let mut h = Sha256::new();
    h.update(classpath.as_bytes());
    h.update(java.as_os_str().as_encoded_bytes());
    if let Ok(m) = fs::metadata(java.canonicalize().unwrap_or_else(|_| java.to_path_buf())) {
        h.update(format!("{:?}{}", m.modified().ok(), m.len()).as_bytes());
    }
    cache_dir()
        .join("cds")
        .join(format!("{}.jsa", &hex(&h.finalize())[..16]))
}

/// Takes an exclusive lock without waiting; `None` if another process holds it.
pub(crate) fn try_lock(path: &Path) -> Option<FileLock> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .ok()?;
    // SAFETY: flock on a file descriptor we own.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    (rc == 0).then_some(FileLock { _file: file })
}
