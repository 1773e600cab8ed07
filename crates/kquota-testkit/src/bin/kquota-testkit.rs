//! `kquota-testkit`: start a local Kafka for trying kquota by hand or for sharing one cluster
//! between test binaries (`KQUOTA_TESTKIT_SHARED=<json>`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kquota_testkit::{ClusterSpec, KafkaCluster, Listener};

#[derive(Parser)]
#[command(
    name = "kquota-testkit",
    version,
    about = "A real local Apache Kafka (KRaft) for kquota's tests"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start a cluster, print its listeners and credentials, and keep it up until SIGINT/SIGTERM.
    Up {
        /// Number of brokers: 1 (one combined node) or 3 (three brokers and a controller).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=3))]
        brokers: u8,
        /// Also write the cluster description (for KQUOTA_TESTKIT_SHARED) to this file.
        #[arg(long)]
        json: Option<PathBuf>,
        /// A broker config, repeatable: --config quota.window.size.seconds=1
        #[arg(long = "config", value_name = "KEY=VALUE", value_parser = parse_kv)]
        configs: Vec<(String, String)>,
        /// Do not make User:ANONYMOUS (PLAINTEXT clients) a super user.
        #[arg(long)]
        no_anonymous_super_user: bool,
        /// Require client certificates on the SSL listener.
        #[arg(long)]
        ssl_client_auth: bool,
    },
    /// Only fetch Apache Kafka with Maven and compile the MSK IAM validator.
    Fetch,
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

/// Blocks SIGINT and SIGTERM in this thread (and the threads it spawns later) so that
/// `wait_for_signal` can take them synchronously.
fn block_signals() -> libc::sigset_t {
    // SAFETY: plain libc signal-set manipulation on a local, zero-initialised sigset_t.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

fn wait_for_signal(set: &libc::sigset_t) -> i32 {
    let mut sig: libc::c_int = 0;
    // SAFETY: `set` is a valid signal set and `sig` a valid out-pointer.
    unsafe {
        libc::sigwait(set, &mut sig);
    }
    sig
}

fn up(
    brokers: u8,
    json: Option<PathBuf>,
    configs: Vec<(String, String)>,
    no_anon: bool,
    client_auth: bool,
) -> Result<(), String> {
    let set = block_signals();
    let mut spec = if brokers == 1 {
        ClusterSpec::single()
    } else {
        ClusterSpec::brokers(brokers as usize)
    };
    for (k, v) in configs {
        spec = spec.broker_config(k, v);
    }
    spec = spec
        .anonymous_super_user(!no_anon)
        .ssl_client_auth(client_auth);
    let cluster = KafkaCluster::start(spec).map_err(|e| e.to_string())?;
    let text = cluster.to_json();
    if let Some(path) = &json {
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, &text)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    println!("kquota-testkit: cluster {} is up", cluster.cluster_id());
    for l in Listener::ALL {
        println!("  {:<15} {}", l.name(), cluster.bootstrap(l));
    }
    for b in cluster.brokers() {
        println!("  broker {} log: {}", b.id, b.log.display());
    }
    if let Some(log) = cluster.controller_log() {
        println!(
            "  controller {} log: {}",
            kquota_testkit::CONTROLLER_ID,
            log.display()
        );
    }
    let creds = cluster.credentials();
    println!("  TLS CA: {}", cluster.ca_pem_path().display());
    println!(
        "  TLS client cert/key: {} {}",
        cluster.client_cert_pem_path().display(),
        cluster.client_key_pem_path().display()
    );
    println!(
        "  super user (PLAIN, SCRAM-SHA-256/512): {} / {}",
        creds.admin.user, creds.admin.password
    );
    for u in creds
        .plain_users
        .iter()
        .filter(|u| u.user != creds.admin.user)
    {
        println!(
            "  user (PLAIN, SCRAM-SHA-256/512): {} / {}",
            u.user, u.password
        );
    }
    for i in &creds.iam {
        println!(
            "  IAM {}: access key {} secret {}{} -> {}",
            i.name,
            i.access_key_id,
            i.secret_access_key,
            i.session_token
                .as_deref()
                .map(|t| format!(" session token {t}"))
                .unwrap_or_default(),
            i.principal_arn
        );
    }
    for l in Listener::ALL {
        if let Ok(p) = cluster.admin_properties(l) {
            println!("  admin client config ({}): {}", l.name(), p.display());
        }
    }
    if let Some(path) = &json {
        println!(
            "  JSON: {} (export KQUOTA_TESTKIT_SHARED={})",
            path.display(),
            path.display()
        );
    }
    println!("Press Ctrl-C (or send SIGTERM) to stop.");
    let sig = wait_for_signal(&set);
    eprintln!("kquota-testkit: signal {sig}, stopping");
    if let Some(path) = &json {
        let _ = std::fs::remove_file(path);
    }
    drop(cluster);
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Up {
            brokers,
            json,
            configs,
            no_anonymous_super_user,
            ssl_client_auth,
        } => {
            if brokers == 2 {
                Err("--brokers must be 1 or 3".to_string())
            } else {
                up(
                    brokers,
                    json,
                    configs,
                    no_anonymous_super_user,
                    ssl_client_auth,
                )
            }
        }
        Cmd::Fetch => kquota_testkit::fetch()
            .map(|home| {
                println!(
                    "kquota-testkit: Apache Kafka {} in {}",
                    kquota_testkit::KAFKA_VERSION,
                    home.display()
                )
            })
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kquota-testkit: error: {e}");
            ExitCode::FAILURE
        }
    }
}
