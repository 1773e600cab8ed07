//! `kquota demo`: the multi-tenant MSK quota walkthrough (design.md §1) on a local 3-broker
//! Kafka with the MSK-IAM-style OAUTHBEARER validator.
//!
//! Steps: start the cluster (kquota-testkit), create `Topic-B` and the ACLs of the write and
//! read roles, run ProducerApp-1 and ConsumerApp-1/-2 as their assumed-role principals (signed
//! MSK IAM tokens), set and describe the quotas, run them again, show the async producer
//! running into its buffer and delivery timeout, resolve which entity applies to a principal
//! (and how a client claiming another app's identity gets its quota: an impostor is run), read
//! an app's identity from a Secrets Manager secret (moto's server, when `moto_server` is on
//! `PATH`), remove the quotas, and print a before/after table. The cluster is stopped and its
//! files removed at the end. `--json FILE` writes every measurement for scripts and tests.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context as _};
use clap::Args;
use kquota_admin::ops::{self, Acl, Operation, ResourceType, TopicSpec};
use kquota_admin::{Alteration, Entity, EntityName, Filter, Op, QuotaAdmin, QuotaKey};
use kquota_client::consumer::{Consumer, ConsumerConfig};
use kquota_client::metrics::MetricsSnapshot;
use kquota_client::producer::{Producer, ProducerConfig};
use kquota_client::{ClientError, ProducerRecord};
use kquota_iam::{Credentials, MskSigner, StaticCredentials};
use kquota_net::{ClientConfig, Cluster, SaslConfig, Security};
use kquota_testkit::{ClusterSpec, KafkaCluster, Listener};
use serde_json::{json, Value};

const TOPIC: &str = "Topic-B";

/// `kquota demo` flags.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Seconds each app runs per phase (the throttled phase runs twice as long).
    #[arg(long, default_value_t = 15, value_name = "SECONDS")]
    pub phase_seconds: u64,
    /// Value size of the produced records in bytes.
    #[arg(long, default_value_t = 200, value_name = "BYTES")]
    pub message_size: usize,
    /// Also write every measurement (table rows, the async producer's accounting, the
    /// impersonation and identity-secret checks) to this file as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,
}

/// Everything the walkthrough measured, for `--json`.
#[derive(Default)]
struct Report {
    steps: serde_json::Map<String, Value>,
}

impl Report {
    fn set(&mut self, step: &str, v: Value) {
        self.steps.insert(step.to_string(), v);
    }
}

struct App {
    name: &'static str,
    identity: &'static str,
    client_id: &'static str,
    group: Option<&'static str>,
    quota: (&'static str, f64),
}

const APPS: [App; 3] = [
    App {
        name: "ProducerApp-1",
        identity: "producerapp-1",
        client_id: "producerapp-1-client-id",
        group: None,
        quota: ("producer_byte_rate", 1024.0),
    },
    App {
        name: "ConsumerApp-1",
        identity: "consumerapp-1",
        client_id: "consumerapp-1-client-id",
        group: Some("ConsumerApp-1-group"),
        quota: ("consumer_byte_rate", 5120.0),
    },
    App {
        name: "ConsumerApp-2",
        identity: "consumerapp-2",
        client_id: "consumerapp-2-client-id",
        group: Some("ConsumerApp-2-group"),
        quota: ("consumer_byte_rate", 1024.0),
    },
];

struct Row {
    app: &'static str,
    phase: &'static str,
    quota: String,
    rates: BTreeMap<i32, f64>,
    avg: f64,
    max: f64,
    records: u64,
}

/// Runs `kquota demo`.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let phase = Duration::from_secs(args.phase_seconds.max(5));
    println!(
        "== 1. Starting a local Kafka: 3 brokers, KRaft, authorizer, MSK-IAM OAUTHBEARER validator"
    );
    let kafka = tokio::task::spawn_blocking(|| {
        KafkaCluster::start(
            ClusterSpec::three_brokers().broker_config("quota.window.size.seconds", "1"),
        )
    })
    .await
    .context("cluster start task")?
    .map_err(|e| anyhow!("cannot start the local Kafka: {e}"))?;
    let bootstrap = kafka.bootstrap(Listener::SaslPlaintext);
    println!("   bootstrap (SASL_PLAINTEXT): {bootstrap}");
    let mut report = Report::default();
    let result = walkthrough(&kafka, &bootstrap, phase, args.message_size, &mut report).await;
    println!("== Cleaning up: stopping the cluster and removing its files");
    drop(kafka);
    if let Some(path) = &args.json {
        report.set("ok", json!(result.is_ok()));
        let text = serde_json::to_string_pretty(&Value::Object(report.steps))?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    result
}

async fn connect_iam(
    kafka: &KafkaCluster,
    bootstrap: &str,
    identity: &str,
    client_id: &str,
) -> anyhow::Result<(Cluster, String)> {
    let creds = kafka.credentials();
    let id = creds
        .iam
        .iter()
        .find(|i| i.name == identity)
        .ok_or_else(|| anyhow!("the testkit has no IAM identity '{identity}'"))?;
    let c = Credentials::new(
        id.access_key_id.clone(),
        id.secret_access_key.clone(),
        id.session_token.clone(),
        None,
    )
    .map_err(|e| anyhow!("credentials of {identity}: {e}"))?;
    let sasl: SaslConfig = MskSigner::new(Arc::new(StaticCredentials::new(c)))
        .with_region("us-east-1")
        .sasl_config();
    let cfg = ClientConfig::new([bootstrap])
        .client_id(client_id)
        .security(Security::SaslPlaintext(sasl));
    let cluster = Cluster::connect(cfg)
        .await
        .map_err(|e| anyhow!("{identity} cannot connect: {e}"))?;
    Ok((cluster, id.principal_arn.clone()))
}

async fn walkthrough(
    kafka: &KafkaCluster,
    bootstrap: &str,
    phase: Duration,
    size: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    let admin_creds = kafka.credentials().admin;
    let admin = Cluster::connect(
        ClientConfig::new([bootstrap])
            .client_id("kquota-demo-admin")
            .security(Security::SaslPlaintext(SaslConfig::Plain {
                username: admin_creds.user.clone(),
                password: admin_creds.password.clone().into(),
            })),
    )
    .await
    .map_err(|e| anyhow!("admin cannot connect: {e}"))?;

    println!("== 2. Creating {TOPIC} (3 partitions) and the ACLs of the write and read roles");
    create_topic(&admin).await?;
    let mut principals = BTreeMap::new();
    for app in &APPS {
        let arn = kafka
            .credentials()
            .iam
            .iter()
            .find(|i| i.name == app.identity)
            .map(|i| i.principal_arn.clone())
            .ok_or_else(|| anyhow!("no IAM identity {}", app.identity))?;
        principals.insert(app.name, arn);
    }
    create_acls(&admin, &principals).await?;
    for (app, arn) in &principals {
        println!("   {app:<14} principal User:{arn}");
    }
    report.set("principals", json!(principals));

    // Data for the consumers to read.
    load_backlog(kafka, bootstrap, 600).await?;

    let mut rows = Vec::new();
    println!(
        "== 3. Running the apps without quotas ({}s)",
        phase.as_secs()
    );
    rows.extend(run_apps(kafka, bootstrap, "before", phase, size, Duration::ZERO).await?);
    print_rows(&rows);
    report.set("rows", rows_json(&rows));

    println!("== 4. Setting quotas on the (user principal, client-id) pairs, then describing them");
    // The brokers measure rates over 11 x 1 s windows: let them forget the unthrottled phase,
    // or the first throttle would pay for it.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let qa = QuotaAdmin::new(admin.clone());
    let alterations: Vec<Alteration> = APPS
        .iter()
        .map(|a| Alteration {
            entity: entity(&principals[a.name], a.client_id),
            ops: vec![Op::Set(QuotaKey::from_name(a.quota.0), a.quota.1)],
        })
        .collect();
    for r in qa
        .alter(&alterations, false)
        .await
        .map_err(|e| anyhow!("alter quotas: {e}"))?
    {
        if let Some(e) = r.error {
            return Err(anyhow!("alter quotas: {e}"));
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let state = qa
        .describe(&Filter::all())
        .await
        .map_err(|e| anyhow!("describe quotas: {e}"))?;
    for eq in &state {
        let ent: Vec<String> = eq
            .entity
            .components()
            .map(|(t, n)| format!("{}={}", t.wire_name(), n.as_wire().unwrap_or("<default>")))
            .collect();
        let vals: Vec<String> = eq
            .values
            .iter()
            .map(|(k, v)| format!("{}={v}", k.name()))
            .collect();
        println!("   {}: {}", ent.join(", "), vals.join(", "));
    }
    report.set(
        "described",
        json!(state
            .iter()
            .map(|eq| json!({
                "user": eq.entity.get(kquota_admin::EntityType::User).and_then(|n| n.as_wire()),
                "client_id": eq.entity.get(kquota_admin::EntityType::ClientId).and_then(|n| n.as_wire()),
                "values": eq.values.iter().map(|(k, v)| (k.name().to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            }))
            .collect::<Vec<_>>()),
    );

    println!(
        "== 5. Re-running the apps under their quotas ({}s; rates measured after a {}s warm-up)",
        2 * phase.as_secs(),
        phase.as_secs() / 2
    );
    // A backlog bigger than ConsumerApp-1's quota allows in the phase, so that the consumers
    // are limited by their quotas, not by what the (throttled) producer writes meanwhile.
    load_backlog(
        kafka,
        bootstrap,
        (5120 * 3 * 2 * phase.as_secs() / 1000) as u32 + 100,
    )
    .await?;
    rows.extend(run_apps(kafka, bootstrap, "quota", 2 * phase, size, phase / 2).await?);
    print_rows(&rows);
    report.set("rows", rows_json(&rows));

    println!("   The async producer, sending faster than its quota into a 32 KiB buffer:");
    report.set("async_overflow", async_overflow(kafka, bootstrap).await?);

    println!("== 6. Which quota applies to whom (resolution over the 8 precedence levels)");
    let prod_arn = &principals["ProducerApp-1"];
    let other_session = prod_arn.replace("producerapp-1-role-session", "someone-else-role-session");
    for (who, user, client) in [
        (
            "ProducerApp-1",
            prod_arn.as_str(),
            "producerapp-1-client-id",
        ),
        (
            "same role, other session",
            other_session.as_str(),
            "producerapp-1-client-id",
        ),
        (
            "ProducerApp-1, other client-id",
            prod_arn.as_str(),
            "other-client-id",
        ),
    ] {
        let res = kquota_admin::resolve(&state, user, client);
        let p = res
            .keys
            .iter()
            .find(|k| k.key == QuotaKey::ProducerByteRate);
        let txt = match p.and_then(|k| k.value.zip(k.source.as_ref())) {
            Some((v, src)) => format!("producer_byte_rate={v} from level {}", src.level),
            None => "producer_byte_rate unlimited".into(),
        };
        println!("   {who:<32} -> {txt}");
    }
    println!("   The principal includes the role session name, and the client-id is chosen by the client:");
    println!("   anyone who may assume Topic-B-Write-Role with session name 'producerapp-1-role-session'");
    println!(
        "   and sets client.id 'producerapp-1-client-id' is measured in ProducerApp-1's bucket."
    );
    report.set(
        "impersonation",
        impostor_run(kafka, bootstrap, prod_arn, &state, phase, size).await?,
    );
    report.set(
        "identity_secret",
        identity_from_secret(kafka, bootstrap, &state, phase).await?,
    );

    println!("== 7. Removing the quotas; throttling stops");
    let removals: Vec<Alteration> = APPS
        .iter()
        .map(|a| Alteration {
            entity: entity(&principals[a.name], a.client_id),
            ops: vec![Op::Remove(QuotaKey::from_name(a.quota.0))],
        })
        .collect();
    qa.alter(&removals, false)
        .await
        .map_err(|e| anyhow!("remove quotas: {e}"))?;
    // Brokers replay the removal a little after the controller commits it: count what is left
    // once every broker shows it (a describe right away could still see the quotas).
    let lagging = qa
        .wait_applied(&removals, Duration::from_secs(10))
        .await
        .map_err(|e| anyhow!("wait for the removal: {e}"))?;
    if !lagging.is_empty() {
        println!("   brokers {lagging:?} still show quotas after 10 s");
    }
    let left = qa
        .describe(&Filter::all())
        .await
        .map_err(|e| anyhow!("describe quotas: {e}"))?;
    println!("   quotas left: {}", left.len());
    // Let the brokers' 11 x 1 s rate windows forget the throttled period.
    tokio::time::sleep(Duration::from_secs(12)).await;
    rows.extend(run_apps(kafka, bootstrap, "after", phase, size, Duration::ZERO).await?);

    println!("== Before / after");
    print_rows(&rows);
    report.set("rows", rows_json(&rows));
    report.set("quotas_left_after_removal", json!(left.len()));
    admin.close().await;
    Ok(())
}

fn rows_json(rows: &[Row]) -> Value {
    json!(rows
        .iter()
        .map(|r| json!({
            "app": r.app,
            "phase": r.phase,
            "quota": r.quota,
            "bytes_per_sec_by_broker": r.rates.iter().map(|(b, v)| (b.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "throttle_time_avg": finite(r.avg),
            "throttle_time_max": finite(r.max),
            "records": r.records,
        }))
        .collect::<Vec<_>>())
}

/// JSON has no NaN (a metric before its first sample): `null`.
fn finite(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

/// Runs a producer that is *not* ProducerApp-1 (its own access keys) but that may assume the
/// write role and picks ProducerApp-1's role session name and client-id: the broker sees the
/// same principal, so it lands in ProducerApp-1's quota bucket.
async fn impostor_run(
    kafka: &KafkaCluster,
    bootstrap: &str,
    victim_arn: &str,
    state: &[kquota_admin::EntityQuotas],
    phase: Duration,
    size: usize,
) -> anyhow::Result<Value> {
    // Keys of a caller who is not ProducerApp-1, as STS would issue them after AssumeRole.
    let secret = "kquota-demo/impostor+SecretKey0000000000000";
    let id = kafka
        .register_iam_credentials("ASIAKQUOTAIMPOSTOR01", secret, None, victim_arn)
        .map_err(|e| anyhow!("register the impostor's keys: {e}"))?;
    let c = Credentials::new(id.access_key_id.clone(), secret.to_string(), None, None)
        .map_err(|e| anyhow!("impostor credentials: {e}"))?;
    let sasl = MskSigner::new(Arc::new(StaticCredentials::new(c)))
        .with_region("us-east-1")
        .sasl_config();
    let cluster = Cluster::connect(
        ClientConfig::new([bootstrap])
            .client_id("producerapp-1-client-id")
            .security(Security::SaslPlaintext(sasl)),
    )
    .await
    .map_err(|e| anyhow!("the impostor cannot connect: {e}"))?;
    let p = Producer::new(
        cluster.clone(),
        ProducerConfig {
            linger: Duration::ZERO,
            ..ProducerConfig::default()
        },
    )
    .await?;
    let m = p.metrics();
    let stop = Instant::now() + phase;
    let mut records = 0u64;
    while Instant::now() < stop {
        p.send_sync(ProducerRecord::new(TOPIC, vec![b'i'; size]))
            .await?;
        records += 1;
    }
    let s = m.snapshot();
    p.close().await;
    cluster.close().await;
    let res = kquota_admin::resolve(state, victim_arn, "producerapp-1-client-id");
    let level = res
        .keys
        .iter()
        .find(|k| k.key == QuotaKey::ProducerByteRate)
        .and_then(|k| k.source.as_ref())
        .map(|s| s.level);
    println!(
        "   An impostor with its own keys ({}) authenticated as User:{victim_arn}",
        id.access_key_id
    );
    println!(
        "   with client.id producerapp-1-client-id: {}, produce-throttle-time-avg {:.1} ms, max {:.1} ms",
        crate::output::plural(records, "record"), s.throttle_time_avg, s.throttle_time_max
    );
    println!("   -> it is throttled in ProducerApp-1's bucket (level {}). Hardening: deny sts:AssumeRole to", level.unwrap_or(0));
    println!("      other callers, or give each app its own role; keep client-id and session name in a secret.");
    Ok(json!({
        "access_key_id": id.access_key_id,
        "principal": victim_arn,
        "client_id": "producerapp-1-client-id",
        "records": records,
        "throttle_time_avg": finite(s.throttle_time_avg),
        "throttle_time_max": finite(s.throttle_time_max),
        "resolved_level": level,
    }))
}

/// Writes `n` records of 1000 bytes to Topic-B as the write role with a client-id that has no
/// quota, one record per batch: a fetch returns at least one whole batch, so small batches keep
/// the throttled consumers' rates smooth.
async fn load_backlog(kafka: &KafkaCluster, bootstrap: &str, n: u32) -> anyhow::Result<()> {
    let (pc, _) = connect_iam(kafka, bootstrap, "producerapp-1", "demo-loader").await?;
    let loader = Producer::new(
        pc.clone(),
        ProducerConfig {
            linger: Duration::ZERO,
            ..ProducerConfig::default()
        },
    )
    .await?;
    // Sync sends: each record is its own batch.
    for i in 0..n {
        loader
            .send_sync(ProducerRecord::new(TOPIC, vec![b'd'; 1000]).with_key(i.to_string()))
            .await?;
    }
    loader.close().await;
    pc.close().await;
    Ok(())
}

fn entity(principal: &str, client_id: &str) -> Entity {
    Entity::new()
        .with_user(EntityName::named(principal))
        .with_client_id(EntityName::named(client_id))
}

async fn create_topic(admin: &Cluster) -> anyhow::Result<()> {
    let mut spec = TopicSpec::new(TOPIC, 3);
    spec.replication_factor = 3;
    for r in ops::create_topics(admin, &[spec])
        .await
        .map_err(|e| anyhow!("create {TOPIC}: {e}"))?
    {
        match r.error {
            Some(e) if e.code_name != "TOPIC_ALREADY_EXISTS" => {
                return Err(anyhow!("create {TOPIC}: {e}"))
            }
            _ => {}
        }
    }
    let waiting = ops::wait_topics_ready(admin, &[TOPIC.to_owned()], Duration::from_secs(10))
        .await
        .map_err(|e| anyhow!("metadata of {TOPIC}: {e}"))?;
    if waiting.is_empty() {
        Ok(())
    } else {
        Err(anyhow!("{TOPIC} has no leaders"))
    }
}

/// The write role may describe and write Topic-B; each read role may describe and read it and
/// read its own consumer group.
async fn create_acls(admin: &Cluster, principals: &BTreeMap<&str, String>) -> anyhow::Result<()> {
    let mut acls = Vec::new();
    for app in &APPS {
        let p = format!("User:{}", principals[app.name]);
        acls.push(Acl::allow_topic(TOPIC, &p, Operation::Describe));
        match app.group {
            None => acls.push(Acl::allow_topic(TOPIC, &p, Operation::Write)),
            Some(g) => {
                acls.push(Acl::allow_topic(TOPIC, &p, Operation::Read));
                acls.push(Acl::allow(ResourceType::Group, g, &p, Operation::Read));
            }
        }
    }
    for r in ops::create_acls(admin, &acls)
        .await
        .map_err(|e| anyhow!("create ACLs: {e}"))?
    {
        if let Some(e) = r.error {
            return Err(anyhow!("create ACL {}: {e}", r.name));
        }
    }
    // ACLs reach every broker through the metadata log: wait until they are listed.
    for _ in 0..50 {
        let listed = ops::list_acls(admin)
            .await
            .map_err(|e| anyhow!("list ACLs: {e}"))?;
        if acls.iter().all(|a| listed.contains(a)) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(anyhow!("the new ACLs were not listed within 5 s"))
}

/// Runs ProducerApp-1 (sync) and both consumers for `dur`, measuring after `warmup`.
async fn run_apps(
    kafka: &KafkaCluster,
    bootstrap: &str,
    phase: &'static str,
    dur: Duration,
    size: usize,
    warmup: Duration,
) -> anyhow::Result<Vec<Row>> {
    let mut tasks = Vec::new();
    for app in &APPS {
        let (cluster, _) = connect_iam(kafka, bootstrap, app.identity, app.client_id).await?;
        let quota = if phase == "quota" {
            format!("{}={}", app.quota.0, app.quota.1)
        } else {
            "-".into()
        };
        let name = app.name;
        let group = app.group;
        let h: tokio::task::JoinHandle<anyhow::Result<Row>> = tokio::spawn(async move {
            let stop = Instant::now() + dur;
            let measure_from = Instant::now() + warmup;
            let mut first: Option<MetricsSnapshot> = None;
            let mut records = 0u64;
            let last = match group {
                None => {
                    let p = Producer::new(
                        cluster.clone(),
                        ProducerConfig {
                            linger: Duration::ZERO,
                            ..ProducerConfig::default()
                        },
                    )
                    .await?;
                    let m = p.metrics();
                    while Instant::now() < stop {
                        if first.is_none() && Instant::now() >= measure_from {
                            first = Some(m.snapshot());
                        }
                        p.send_sync(ProducerRecord::new(TOPIC, vec![b'p'; size]))
                            .await?;
                        records += 1;
                    }
                    let s = m.snapshot();
                    p.close().await;
                    s
                }
                Some(g) => {
                    let cfg = ConsumerConfig {
                        group_id: Some(g.to_owned()),
                        session_timeout: Duration::from_secs(10),
                        heartbeat_interval: Duration::from_secs(1),
                        rebalance_timeout: Duration::from_secs(20),
                        ..ConsumerConfig::default()
                    };
                    let mut c = Consumer::new(cluster.clone(), cfg);
                    c.subscribe(vec![TOPIC.to_owned()]).await?;
                    let m = c.metrics();
                    while Instant::now() < stop {
                        if first.is_none() && Instant::now() >= measure_from {
                            first = Some(m.snapshot());
                        }
                        records += c.poll(Duration::from_millis(200)).await?.len() as u64;
                    }
                    let s = m.snapshot();
                    c.close().await;
                    s
                }
            };
            cluster.close().await;
            let rates = match &first {
                Some(f) if warmup > Duration::ZERO => last.rates_since(f),
                _ => last
                    .brokers
                    .iter()
                    .map(|b| (b.broker_id, b.bytes_per_sec))
                    .collect(),
            };
            Ok(Row {
                app: name,
                phase,
                quota,
                rates,
                avg: last.throttle_time_avg,
                max: last.throttle_time_max,
                records,
            })
        });
        tasks.push(h);
    }
    let mut rows = Vec::new();
    for t in tasks {
        rows.push(t.await.context("app task")??);
    }
    Ok(rows)
}

async fn async_overflow(kafka: &KafkaCluster, bootstrap: &str) -> anyhow::Result<Value> {
    let (cluster, _) =
        connect_iam(kafka, bootstrap, "producerapp-1", "producerapp-1-client-id").await?;
    let cfg = ProducerConfig {
        buffer_memory: 32 * 1024,
        batch_size: 4096,
        max_block: Duration::from_millis(200),
        delivery_timeout: Duration::from_secs(6),
        request_timeout: Duration::from_secs(5),
        ..ProducerConfig::default()
    };
    let p = Producer::new(cluster.clone(), cfg).await?;
    let (mut acked, mut expired, mut refused) = (0, 0, 0);
    let mut first_expired = None;
    let mut first_refused = None;
    let mut futs = Vec::new();
    for _ in 0..200 {
        match p.send(ProducerRecord::new(TOPIC, vec![b'a'; 500])).await {
            Ok(f) => futs.push(f),
            Err(e @ ClientError::BufferFull { .. }) => {
                refused += 1;
                first_refused.get_or_insert(e.to_string());
            }
            Err(e) => return Err(e.into()),
        }
    }
    for f in futs {
        match f.await {
            Ok(_) => acked += 1,
            Err(e) => {
                expired += 1;
                first_expired.get_or_insert(e.to_string());
            }
        }
    }
    p.close().await;
    cluster.close().await;
    println!("   sent 200: {acked} acknowledged, {expired} expired, {refused} refused after blocking ({} accounted for)", acked + expired + refused);
    if let Some(e) = &first_refused {
        println!("   e.g. refused: {e}");
    }
    if let Some(e) = &first_expired {
        println!("   e.g. expired: {e}");
    }
    Ok(json!({
        "sent": 200,
        "acknowledged": acked,
        "expired": expired,
        "refused": refused,
        "first_expired": first_expired,
        "first_refused": first_refused,
    }))
}

fn print_rows(rows: &[Row]) {
    let fmt = |v: f64| {
        if v.is_nan() {
            "NaN".to_string()
        } else {
            format!("{v:.1}")
        }
    };
    println!(
        "   {:<14} {:<7} {:<26} {:>9} {:>9} {:>9} {:>10} {:>10} {:>8}",
        "app", "phase", "quota", "b1 B/s", "b2 B/s", "b3 B/s", "thr avg", "thr max", "records"
    );
    for r in rows {
        let rate = |id: i32| {
            r.rates
                .get(&id)
                .map_or("-".to_string(), |v| format!("{v:.0}"))
        };
        println!(
            "   {:<14} {:<7} {:<26} {:>9} {:>9} {:>9} {:>10} {:>10} {:>8}",
            r.app,
            r.phase,
            r.quota,
            rate(1),
            rate(2),
            rate(3),
            fmt(r.avg),
            fmt(r.max),
            r.records
        );
    }
}

/// ConsumerApp-2 without its identity in flags: a Secrets Manager secret (in a local moto
/// server) holds its client-id and role session name; kquota reads it with the caller's
/// credentials, assumes the read role with that session name (moto's STS), and the broker
/// puts the connection in ConsumerApp-2's quota bucket.
#[cfg(feature = "aws-sdk")]
async fn identity_from_secret(
    kafka: &KafkaCluster,
    bootstrap: &str,
    state: &[kquota_admin::EntityQuotas],
    phase: Duration,
) -> anyhow::Result<Value> {
    use kquota_iam::aws::AwsIam;
    use kquota_iam::IamConfig;
    const SECRET_ID: &str = "kquota-demo/consumerapp-2-identity";
    println!("   The hardened setup: ConsumerApp-2's client-id and role session name come from a");
    println!("   Secrets Manager secret ({SECRET_ID}, in a local moto server), not from flags:");
    let moto = match tokio::task::spawn_blocking(kquota_testkit::MotoServer::try_start)
        .await
        .context("moto start task")?
    {
        Ok(m) => m,
        Err(e) => {
            println!("   (not shown: {e})");
            return Ok(json!({ "skipped": e.to_string() }));
        }
    };
    // The caller's own keys: moto accepts any.
    let caller = || {
        Credentials::new(
            "AKIAKQUOTADEMOCALLER",
            "kquota-demo/caller+SecretKey000000000000000",
            None,
            None,
        )
    };
    let mut cfg = IamConfig::default();
    cfg.region = Some("us-east-1".into());
    cfg.endpoint_url = Some(moto.url().to_string());
    let base = AwsIam::load(&cfg, Some(caller()?))
        .await
        .map_err(|e| anyhow!("{e}"))?;
    aws_sdk_secretsmanager::Client::new(base.sdk_config())
        .create_secret()
        .name(SECRET_ID)
        .secret_string(
            json!({
                "client_id": "consumerapp-2-client-id",
                "role_session_name": "consumerapp-2-role-session",
            })
            .to_string(),
        )
        .send()
        .await
        .map_err(|e| anyhow!("create the identity secret in moto: {e}"))?;

    cfg.assume_role_arn = Some("arn:aws:iam::111111111111:role/Topic-B-Read-Role".into());
    cfg.identity_secret = Some(SECRET_ID.into());
    let iam = AwsIam::load(&cfg, Some(caller()?))
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let who = iam.whoami().await.map_err(|e| anyhow!("{e}"))?;
    let client_id = iam
        .client_id()
        .ok_or_else(|| anyhow!("the identity secret gave no client-id"))?
        .to_string();
    // MSK knows every STS session; the local validator learns this one.
    let assumed = iam
        .credentials_provider()
        .credentials()
        .await
        .map_err(|e| anyhow!("{e}"))?;
    kafka
        .register_iam_credentials(
            assumed.access_key_id(),
            assumed.secret_access_key(),
            assumed.session_token(),
            who.principal(),
        )
        .map_err(|e| anyhow!("register the assumed-role keys: {e}"))?;
    println!("   principal User:{}", who.principal());
    println!("   client-id {client_id}");

    let cluster = Cluster::connect(
        ClientConfig::new([bootstrap])
            .client_id(client_id.clone())
            .security(Security::SaslPlaintext(iam.signer().sasl_config())),
    )
    .await
    .map_err(|e| anyhow!("connect with the identity from the secret: {e}"))?;
    let mut c = Consumer::new(
        cluster.clone(),
        ConsumerConfig {
            group_id: Some("ConsumerApp-2-group".into()),
            session_timeout: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(1),
            rebalance_timeout: Duration::from_secs(20),
            ..ConsumerConfig::default()
        },
    );
    c.subscribe(vec![TOPIC.to_owned()]).await?;
    let m = c.metrics();
    let stop = Instant::now() + phase;
    let mut records = 0u64;
    while Instant::now() < stop {
        records += c.poll(Duration::from_millis(200)).await?.len() as u64;
    }
    let s = m.snapshot();
    c.close().await;
    cluster.close().await;
    drop(moto);
    let res = kquota_admin::resolve(state, who.principal(), &client_id);
    let quota = res
        .keys
        .iter()
        .find(|k| k.key == QuotaKey::ConsumerByteRate)
        .and_then(|k| k.value.zip(k.source.as_ref().map(|s| s.level)));
    println!(
        "   {}, fetch-throttle-time-avg {:.1} ms, max {:.1} ms; quota {}",
        crate::output::plural(records, "record"),
        s.throttle_time_avg,
        s.throttle_time_max,
        quota.map_or("none".to_string(), |(v, l)| format!(
            "consumer_byte_rate={v} (level {l})"
        ))
    );
    Ok(json!({
        "secret_id": SECRET_ID,
        "principal": who.principal(),
        "client_id": client_id,
        "records": records,
        "throttle_time_avg": finite(s.throttle_time_avg),
        "throttle_time_max": finite(s.throttle_time_max),
        "consumer_byte_rate": quota.map(|q| q.0),
        "resolved_level": quota.map(|q| q.1),
    }))
}

/// Without the AWS SDK there is no Secrets Manager client: say so.
#[cfg(not(feature = "aws-sdk"))]
async fn identity_from_secret(
    _kafka: &KafkaCluster,
    _bootstrap: &str,
    _state: &[kquota_admin::EntityQuotas],
    _phase: Duration,
) -> anyhow::Result<Value> {
    println!("   (identity secrets need the aws-sdk feature, which this build lacks)");
    Ok(json!({ "skipped": "built without the aws-sdk feature" }))
}
