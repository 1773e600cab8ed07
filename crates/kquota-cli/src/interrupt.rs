//! Ctrl-C (SIGINT) and SIGTERM.
//!
//! [`install`] takes both signals over for the whole run (tokio's signal handling; nothing is
//! done in the signal handler itself). What a signal does then depends on the command:
//!
//! - A command that changes nothing, or for which an interruption changes nothing worth telling
//!   (describe, plan, export, list, token, ...), holds no [`Claim`]: the first signal ends the
//!   process at once with 130 (SIGINT) or 143 (SIGTERM), as the default action would.
//! - A command that changes something or that owes the user a summary (quota and topic
//!   changes, produce, consume) holds a [`Claim`] for its run. The first signal is then only
//!   recorded: the command sees it ([`Claim::first`], [`Claim::received`]), stops what it can
//!   stop, settles what is already under way (a request sent, records accepted), reports, and
//!   ends with [`crate::exit::interrupted`] (exit 130). A second signal ends the process at
//!   once with 130 and the line the command left with [`Claim::on_second`], which says what is
//!   left unknown and how to check it.
//!
//! SIGTERM is treated like Ctrl-C, so a supervisor's stop gets the same care.

use std::io::Write as _;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tokio::sync::watch;

/// Exit code after an interruption (128 + SIGINT), also for SIGTERM in a claimed command.
pub const INTERRUPTED: u8 = 130;

type Message = Arc<dyn Fn() -> String + Send + Sync>;

#[derive(Default)]
struct State {
    /// Signals received so far.
    signals: u32,
    /// The line for a second signal while a command holds a claim.
    claim: Option<Message>,
}

fn state() -> MutexGuard<'static, State> {
    static STATE: Mutex<State> = Mutex::new(State {
        signals: 0,
        claim: None,
    });
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Signals received so far, for [`Claim::first`] to wait on.
fn counter() -> &'static watch::Sender<u32> {
    static COUNTER: OnceLock<watch::Sender<u32>> = OnceLock::new();
    COUNTER.get_or_init(|| watch::channel(0).0)
}

/// Starts listening for SIGINT and SIGTERM on the current tokio runtime. Call once, inside
/// the runtime, before the command runs. If the signals cannot be taken over, they keep their
/// default action (the process ends at once).
pub fn install() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (int, term) = match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(i), Ok(t)) => (i, t),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "cannot handle SIGINT/SIGTERM; they end kquota at once");
                return;
            }
        };
        tokio::spawn(async move {
            let (mut int, mut term) = (int, term);
            loop {
                let code = tokio::select! {
                    Some(()) = int.recv() => INTERRUPTED,
                    Some(()) = term.recv() => 128 + 15,
                    else => return,
                };
                on_signal(code);
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async {
        while tokio::signal::ctrl_c().await.is_ok() {
            on_signal(INTERRUPTED);
        }
    });
}

fn on_signal(unclaimed_code: u8) {
    let mut st = state();
    st.signals += 1;
    match st.claim.clone() {
        None => {
            drop(st);
            exit_now(None, unclaimed_code)
        }
        Some(message) if st.signals >= 2 => {
            drop(st);
            exit_now(Some(message()), INTERRUPTED)
        }
        Some(_) => {
            counter().send_replace(st.signals);
        }
    }
}

/// Ends the process now: what is buffered on stdout goes out first, then the line.
fn exit_now(line: Option<String>, code: u8) -> ! {
    let _ = std::io::stdout().flush();
    if let Some(line) = line {
        let _ = writeln!(std::io::stderr(), "{line}");
    }
    std::process::exit(code.into())
}

/// A command's claim on the signals: while it lives, the first signal is the command's to
/// handle and a second one ends the process with the claim's line.
#[must_use = "the claim ends when dropped"]
pub struct Claim(());

/// Claims the signals for the running command; `second` is the line printed when a second
/// signal ends the process (see [`Claim::on_second`]).
pub fn claim(second: impl Fn() -> String + Send + Sync + 'static) -> Claim {
    state().claim = Some(Arc::new(second));
    Claim(())
}

impl Claim {
    /// Replaces the line printed when a second signal ends the process: what is unknown at
    /// this point of the command and how to check it.
    pub fn on_second(&self, second: impl Fn() -> String + Send + Sync + 'static) {
        state().claim = Some(Arc::new(second));
    }

    /// Whether a signal has been received.
    pub fn received(&self) -> bool {
        *counter().borrow() > 0
    }

    /// Resolves once a signal has been received (at once if one was).
    pub async fn first(&self) {
        let mut rx = counter().subscribe();
        // The sender lives in a static: `wait_for` cannot fail.
        let _ = rx.wait_for(|n| *n > 0).await;
    }

    /// Runs `fut` unless a signal comes first (or came already): then `Err(interrupted(line))`.
    /// For the steps before a command changes anything (connecting, reading the current
    /// state), whose futures can be dropped half-way.
    pub async fn unless_interrupted<T>(
        &self,
        fut: impl std::future::Future<Output = anyhow::Result<T>>,
        line: &str,
    ) -> anyhow::Result<T> {
        tokio::select! {
            biased;
            _ = self.first() => Err(crate::exit::interrupted(line)),
            r = fut => r,
        }
    }
}

/// The line of a first signal while a change request is outstanding.
pub const WAITING: &str = "interrupted: waiting for the broker's answer to the change already sent; press Ctrl-C again to stop without it";

impl Claim {
    /// Awaits the answer to a change request already sent: a first signal prints [`WAITING`]
    /// and keeps waiting (the request has its own timeout), so the outcome can be reported;
    /// a second one ends the process (set its line with [`Claim::on_second`] first).
    pub async fn answer_of<T>(&self, fut: impl std::future::Future<Output = T>) -> T {
        tokio::pin!(fut);
        tokio::select! {
            biased;
            r = &mut fut => r,
            _ = self.first() => {
                eprintln!("{WAITING}");
                fut.await
            }
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        state().claim = None;
    }
}
