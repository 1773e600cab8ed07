//! `kquota` as a process against a real Kafka (kquota-testkit), cross-checked with Kafka's own
//! `kafka-configs` (kafka.admin.ConfigCommand) on the same broker.
//!
//! Tests share one broker and are serialized with a lock: several of them describe or change
//! everything (plan/apply/--prune, resolve over default entities).

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

use kquota_testkit::{shared, shared_three, Listener};
use serde_json::Value;

static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

fn bootstrap() -> String {
    shared().bootstrap(Listener::Plaintext)
}

fn kquota(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kquota"))
        .args(args)
        .env_remove("KQUOTA_BOOTSTRAP_SERVERS")
        .output()
        .expect("run kquota")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs kquota and requires success.
fn ok(args: &[&str]) -> String {
    let o = kquota(args);
    assert!(
        o.status.success(),
        "kquota {args:?} failed: {}{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// Runs kquota and requires the given exit code and a one-line `error:` message.
fn fails(args: &[&str], code: i32) -> String {
    let o = kquota(args);
    let err = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(code),
        "kquota {args:?}: stdout {} stderr {err}",
        stdout(&o)
    );
    let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("warning:")).collect();
    assert_eq!(lines.len(), 1, "one-line error expected, got {err:?}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    lines[0].to_string()
}

fn describe_json(filter: &[&str]) -> Value {
    let b = bootstrap();
    let mut args = vec!["quotas", "describe", "-b", &b, "-o", "json"];
    args.extend_from_slice(filter);
    serde_json::from_str(&ok(&args)).expect("describe json")
}

fn entries(v: &Value) -> Vec<Value> {
    v["quotas"].as_array().cloned().unwrap_or_default()
}

fn alter(entity: &[&str], extra: &[&str]) -> String {
    let b = bootstrap();
    let mut args = vec!["quotas", "alter", "-b", &b];
    args.extend_from_slice(entity);
    args.extend_from_slice(extra);
    ok(&args)
}

fn kafka_configs(args: &[&str]) -> Output {
    shared()
        .kafka_tool("kafka.admin.ConfigCommand")
        .args(["--bootstrap-server", &bootstrap()])
        .args(args)
        .output()
        .expect("run kafka-configs")
}

/// `kquota configs ARGS` prints exactly what `kafka-configs.sh ARGS` prints (run with
/// `JAVA_TOOL_OPTIONS=java_options` when given) on the shared broker; returns that text.
/// Describe-all forms also list other tests' entities, which may change meanwhile: the two are
/// compared once both saw the same set of lines (then their order must agree).
fn same_as_kafka_configs(args: &[&str], java_options: Option<&str>) -> String {
    let b = bootstrap();
    let mut ours_args = vec!["configs", "--bootstrap-server", &b];
    ours_args.extend_from_slice(args);
    let sorted = |s: &str| {
        let mut v: Vec<&str> = s.lines().collect();
        v.sort();
        v.join("\n")
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let ours = ok(&ours_args);
        let mut cmd = shared().kafka_tool("kafka.admin.ConfigCommand");
        cmd.args(["--bootstrap-server", &b]).args(args);
        if let Some(o) = java_options {
            cmd.env("JAVA_TOOL_OPTIONS", o);
        }
        let theirs = cmd.output().expect("run kafka-configs");
        assert!(theirs.status.success(), "{args:?}: {}", stderr(&theirs));
        let theirs = stdout(&theirs);
        if sorted(&ours) != sorted(&theirs) && attempt < 5 {
            continue;
        }
        assert!(
            ours == theirs,
            "{args:?}\nours:\n{ours}\nkafka-configs:\n{theirs}"
        );
        return ours;
    }
}

/// Every shape × every allowed key: set, describe (exact, strict), remove; the entity is gone.
#[test]
fn every_shape_and_key_set_describe_remove() {
    let _g = lock();
    let shapes: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--user", "shape-user"], "user"),
        (vec!["--default", "user"], "user"),
        (vec!["--client-id", "shape-client"], "client"),
        (vec!["--default", "client-id"], "client"),
        (
            vec!["--user", "shape-user", "--client-id", "shape-client"],
            "user",
        ),
        (
            vec!["--user", "shape-user", "--default", "client-id"],
            "user",
        ),
        (
            vec!["--default", "user", "--client-id", "shape-client"],
            "user",
        ),
        (vec!["--default", "user", "--default", "client-id"], "user"),
        (vec!["--ip", "10.11.12.13"], "ip"),
        (vec!["--default", "ip"], "ip"),
    ];
    for (entity, kind) in shapes {
        // Huge limits so that default entities never throttle anything else meanwhile.
        let set = if kind == "ip" {
            "connection_creation_rate=100000".to_string()
        } else {
            "producer_byte_rate=1000000000000,consumer_byte_rate=1000000000001,request_percentage=1000.5,controller_mutation_rate=10000.25".to_string()
        };
        alter(&entity, &["--set", &set]);
        let mut filter = entity.clone();
        filter.push("--strict");
        let d = describe_json(&filter);
        let es = entries(&d);
        assert_eq!(es.len(), 1, "{entity:?}: {d}");
        let values = &es[0]["values"];
        if kind == "ip" {
            assert_eq!(values["connection_creation_rate"], 100000.0, "{d}");
        } else {
            assert_eq!(values["producer_byte_rate"], 1e12, "{d}");
            assert_eq!(values["consumer_byte_rate"], 1000000000001.0, "{d}");
            assert_eq!(values["request_percentage"], 1000.5, "{d}");
            assert_eq!(values["controller_mutation_rate"], 10000.25, "{d}");
        }
        // Defaults are null on the wire and in JSON.
        for (flag, ty) in [("user", "user"), ("client-id", "client-id"), ("ip", "ip")] {
            let is_default = entity
                .windows(2)
                .any(|w| w[0] == "--default" && w[1] == flag);
            if is_default {
                assert!(es[0]["entity"][ty].is_null(), "{d}");
            }
        }
        let b = bootstrap();
        let mut del = vec!["quotas", "delete", "-b", &b];
        del.extend_from_slice(&entity);
        ok(&del);
        assert!(
            entries(&describe_json(&filter)).is_empty(),
            "{entity:?} still exists after removing every key"
        );
    }
}

/// A user literally named `<default>` is not the default user (KAFKA-18808), both ways, and
/// kafka-configs agrees.
#[test]
fn literal_default_name_is_not_the_default_entity() {
    let _g = lock();
    alter(
        &["--user", "<default>"],
        &["--set", "producer_byte_rate=10000"],
    );
    assert!(entries(&describe_json(&["--default", "user", "--strict"])).is_empty());
    let es = entries(&describe_json(&["--user", "<default>", "--strict"]));
    assert_eq!(es.len(), 1);
    assert_eq!(es[0]["entity"]["user"], "<default>");
    let o = kafka_configs(&["--describe", "--entity-type", "users", "--entity-default"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !stdout(&o).contains("producer_byte_rate=10000.0"),
        "{}",
        stdout(&o)
    );
    let o = kafka_configs(&[
        "--describe",
        "--entity-type",
        "users",
        "--entity-name",
        "<default>",
    ]);
    assert!(
        stdout(&o).contains(
            "Quota configs for user-principal '<default>' are producer_byte_rate=10000.0"
        ),
        "{}",
        stdout(&o)
    );
    let b = bootstrap();
    ok(&["quotas", "delete", "-b", &b, "--user", "<default>"]);
}

const ARN: &str =
    "arn:aws:sts::111111111111:assumed-role/Topic-B-Write-Role/producerapp-1-role-session";

/// ARNs with ':' and '/' round-trip byte-exact through alter -> describe -> resolve.
#[test]
fn arn_round_trips_byte_exact() {
    let _g = lock();
    alter(
        &["--user", ARN, "--client-id", "producerapp-1-client-id"],
        &["--set", "producer_byte_rate=1024"],
    );
    let es = entries(&describe_json(&[
        "--user",
        ARN,
        "--strict",
        "--any",
        "client-id",
    ]));
    assert_eq!(es.len(), 1);
    assert_eq!(es[0]["entity"]["user"].as_str(), Some(ARN));
    let b = bootstrap();
    let r: Value = serde_json::from_str(&ok(&[
        "quotas",
        "resolve",
        "-b",
        &b,
        "-o",
        "json",
        "--user",
        ARN,
        "--client-id",
        "producerapp-1-client-id",
    ]))
    .unwrap();
    let p = &r["keys"][0];
    assert_eq!(p["key"], "producer_byte_rate");
    assert_eq!(p["value"], 1024.0);
    assert_eq!(p["level"], 1);
    assert_eq!(p["entity"]["user"].as_str(), Some(ARN));
    // Impersonation: another role session presenting the same client-id is not covered by level 1.
    let r: Value = serde_json::from_str(&ok(&[
        "quotas",
        "resolve",
        "-b",
        &b,
        "-o",
        "json",
        "--user",
        "arn:aws:sts::111111111111:assumed-role/Other/x",
        "--client-id",
        "producerapp-1-client-id",
    ]))
    .unwrap();
    assert_ne!(r["keys"][0]["level"], 1);
    ok(&[
        "quotas",
        "delete",
        "-b",
        &b,
        "--user",
        ARN,
        "--client-id",
        "producerapp-1-client-id",
    ]);
}

/// --validate-only (and the compat --dry-run) change nothing, and still reject bad input.
#[test]
fn validate_only_changes_nothing() {
    let _g = lock();
    let out = alter(
        &["--client-id", "validate-only-client"],
        &["--set", "producer_byte_rate=2048", "--validate-only"],
    );
    assert!(out.contains("validated only"), "{out}");
    assert!(entries(&describe_json(&["--client-id", "validate-only-client"])).is_empty());
    let b = bootstrap();
    let out = ok(&[
        "configs",
        "--bootstrap-server",
        &b,
        "--alter",
        "--entity-type",
        "clients",
        "--entity-name",
        "validate-only-client",
        "--add-config",
        "producer_byte_rate=2048",
        "--dry-run",
    ]);
    assert!(out.contains("nothing changed"), "{out}");
    assert!(entries(&describe_json(&["--client-id", "validate-only-client"])).is_empty());
}

/// What kquota sets, kafka-configs describes identically (byte for byte), and the other way round.
#[test]
fn cross_check_with_kafka_configs() {
    let _g = lock();
    let b = bootstrap();
    // kquota -> kafka-configs
    alter(
        &["--user", "xcheck-user", "--client-id", "xcheck-client"],
        &[
            "--set",
            "producer_byte_rate=10000000,consumer_byte_rate=2048,request_percentage=12.5",
        ],
    );
    alter(
        &["--user", "xcheck-user"],
        &["--set", "consumer_byte_rate=4096"],
    );
    alter(
        &["--user", "xcheck-user", "--default", "client-id"],
        &["--set", "controller_mutation_rate=0.5"],
    );
    for args in [
        vec![
            "--describe",
            "--entity-type",
            "users",
            "--entity-name",
            "xcheck-user",
            "--entity-type",
            "clients",
            "--entity-name",
            "xcheck-client",
        ],
        vec![
            "--describe",
            "--entity-type",
            "users",
            "--entity-name",
            "xcheck-user",
            "--entity-type",
            "clients",
        ],
        vec![
            "--describe",
            "--entity-type",
            "users",
            "--entity-name",
            "xcheck-user",
        ],
        vec![
            "--describe",
            "--entity-type",
            "users",
            "--entity-name",
            "xcheck-user",
            "--entity-type",
            "clients",
            "--entity-default",
        ],
    ] {
        let theirs = kafka_configs(&args);
        assert!(theirs.status.success(), "{}", stderr(&theirs));
        let mut ours_args = vec!["configs", "--bootstrap-server", &b];
        ours_args.extend_from_slice(&args);
        let ours = ok(&ours_args);
        assert!(stdout(&theirs).contains("Quota configs"), "{args:?}");
        assert_eq!(ours, stdout(&theirs), "{args:?}");
    }
    // kafka-configs -> kquota
    let o = kafka_configs(&[
        "--alter",
        "--entity-type",
        "clients",
        "--entity-name",
        "xcheck-from-java",
        "--add-config",
        "producer_byte_rate=5120,request_percentage=33.3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let es = entries(&describe_json(&[
        "--client-id",
        "xcheck-from-java",
        "--strict",
    ]));
    assert_eq!(es.len(), 1);
    assert_eq!(es[0]["values"]["producer_byte_rate"], 5120.0);
    assert_eq!(es[0]["values"]["request_percentage"], 33.3);
    // Same alter through kquota's compatible mode prints kafka-configs' completion line.
    let out = ok(&[
        "configs",
        "--bootstrap-server",
        &b,
        "--alter",
        "--entity-type",
        "clients",
        "--entity-name",
        "xcheck-from-java",
        "--delete-config",
        "request_percentage",
    ]);
    assert_eq!(
        out,
        "Completed updating config for client xcheck-from-java.\n"
    );
    // Deleting a key that is not set fails like kafka-configs.
    let e = fails(
        &[
            "configs",
            "--bootstrap-server",
            &b,
            "--alter",
            "--entity-type",
            "clients",
            "--entity-name",
            "xcheck-from-java",
            "--delete-config",
            "request_percentage",
        ],
        2,
    );
    assert!(e.contains("Invalid config(s): request_percentage"), "{e}");
    for e in [
        vec!["--user", "xcheck-user", "--client-id", "xcheck-client"],
        vec!["--user", "xcheck-user"],
        vec!["--user", "xcheck-user", "--default", "client-id"],
        vec!["--client-id", "xcheck-from-java"],
    ] {
        let mut del = vec!["quotas", "delete", "-b", &b];
        del.extend_from_slice(&e);
        ok(&del);
    }
}

/// `kquota configs --describe` prints exactly what kafka-configs prints, line order (Java
/// `HashMap` order of entities and keys) and SCRAM credential lines included, for several
/// entities at once: users, clients, pairs, defaults, ARNs with ':' and '/', SCRAM users with and
/// without quotas, and quota users without SCRAM credentials.
#[test]
fn describe_output_and_scram_lines_identical_to_kafka_configs() {
    let _g = lock();
    let b = bootstrap();
    let arn = "arn:aws:sts::123456789012:assumed-role/xorder-Role/xorder-session";
    let users = ["xorder-u1", "xorder-u2", "xorder-u3", "xorder u4", arn];
    let clients = ["xorder-c1", "xorder-c2", "arn:aws:iam::1:role/xorder/c"];
    let mut entities: Vec<Vec<&str>> = Vec::new();
    for u in users {
        entities.push(vec!["--user", u]);
        entities.push(vec!["--user", u, "--client-id", "xorder-c1"]);
    }
    for c in clients {
        entities.push(vec!["--client-id", c]);
        entities.push(vec!["--default", "user", "--client-id", c]);
    }
    entities.push(vec!["--user", "xorder-u1", "--default", "client-id"]);
    for (i, e) in entities.iter().enumerate() {
        // Three keys on some entities, so that key order within a line is checked too; huge
        // values so that default entities throttle nobody.
        let set = if i % 2 == 0 {
            format!(
                "producer_byte_rate={},consumer_byte_rate=2000000000000,request_percentage=1000.5",
                1_000_000_000_000u64 + i as u64
            )
        } else {
            "controller_mutation_rate=12345.5".to_string()
        };
        alter(e, &["--set", &set]);
    }
    // SCRAM credentials: one user with quotas, one without any.
    for (user, mech) in [
        ("xorder-u2", "SCRAM-SHA-256=[iterations=4096,password=x]"),
        ("xorder-u2", "SCRAM-SHA-512=[iterations=5000,password=y]"),
        (
            "xorder-scram-only",
            "SCRAM-SHA-256=[iterations=4096,password=z]",
        ),
    ] {
        let o = kafka_configs(&[
            "--alter",
            "--add-config",
            mech,
            "--entity-type",
            "users",
            "--entity-name",
            user,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let forms: Vec<Vec<&str>> = vec![
        vec!["--entity-type", "users"],
        vec!["--entity-type", "clients"],
        vec!["--entity-type", "users", "--entity-type", "clients"],
        vec!["--entity-type", "users", "--entity-name", "xorder-u2"],
        vec![
            "--entity-type",
            "users",
            "--entity-name",
            "xorder-scram-only",
        ],
        vec!["--entity-type", "users", "--entity-name", "xorder-u3"],
        vec!["--entity-type", "users", "--entity-name", arn],
        vec!["--user", "xorder-u1"],
        vec![
            "--entity-type",
            "users",
            "--entity-name",
            "xorder-u1",
            "--entity-type",
            "clients",
        ],
        vec![
            "--entity-type",
            "users",
            "--entity-default",
            "--entity-type",
            "clients",
        ],
        vec!["--user-defaults"],
        vec!["--entity-type", "users", "--entity-name", "xorder-nobody"],
    ];
    for form in &forms {
        let mut args = vec!["--describe"];
        args.extend_from_slice(form);
        same_as_kafka_configs(&args, None);
    }
    // What the forms must have shown (so that an empty answer on both sides cannot pass).
    let one_user = ok(&[
        "configs",
        "--bootstrap-server",
        &b,
        "--describe",
        "--entity-type",
        "users",
        "--entity-name",
        "xorder-u2",
    ]);
    // The broker's order of one user's mechanisms follows a hash map in the controller, which
    // differs between broker starts (kafka-configs prints the same order: compared above).
    let scram_line = |mechanisms: &str| {
        format!("SCRAM credential configs for user-principal 'xorder-u2' are {mechanisms}\n")
    };
    let quota_line = "Quota configs for user-principal 'xorder-u2' are consumer_byte_rate=2.0E12, request_percentage=1000.5, producer_byte_rate=1.000000000002E12\n";
    assert!(
        [
            "SCRAM-SHA-256=iterations=4096, SCRAM-SHA-512=iterations=5000",
            "SCRAM-SHA-512=iterations=5000, SCRAM-SHA-256=iterations=4096"
        ]
        .iter()
        .any(|m| one_user == format!("{quota_line}{}", scram_line(m))),
        "{one_user}"
    );
    let scram_only = ok(&[
        "configs",
        "--bootstrap-server",
        &b,
        "--describe",
        "--user",
        "xorder-scram-only",
    ]);
    assert_eq!(
        scram_only,
        "SCRAM credential configs for user-principal 'xorder-scram-only' are SCRAM-SHA-256=iterations=4096\n"
    );
    let all_pairs = ok(&[
        "configs",
        "--bootstrap-server",
        &b,
        "--describe",
        "--entity-type",
        "users",
        "--entity-type",
        "clients",
    ]);
    assert!(
        all_pairs.contains(&format!("user-principal '{arn}', client-id 'xorder-c1'")),
        "{all_pairs}"
    );
    assert!(!all_pairs.contains("SCRAM"), "{all_pairs}");

    // --output json carries the SCRAM lines' data for the same describes, and only for them.
    let json_describe = |form: &[&str]| -> Value {
        let mut args = vec!["configs", "--bootstrap-server", &b, "--describe"];
        args.extend_from_slice(form);
        args.extend_from_slice(&["--output", "json"]);
        serde_json::from_str(&ok(&args)).expect("configs --output json")
    };
    let one = json_describe(&["--entity-type", "users", "--entity-name", "xorder-u2"]);
    // (The mechanisms in the broker's order, which differs between broker starts: sorted.)
    let mut sorted = one["scram_credentials"].clone();
    if let Some(creds) = sorted[0]["credentials"].as_array_mut() {
        creds.sort_by_key(|c| c["mechanism"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(
        sorted,
        serde_json::json!([{"user": "xorder-u2", "credentials": [
            {"mechanism": "SCRAM-SHA-256", "iterations": 4096},
            {"mechanism": "SCRAM-SHA-512", "iterations": 5000}], "error": null, "message": null}]),
        "{one}"
    );
    assert_eq!(entries(&one).len(), 1, "{one}");
    let only = json_describe(&["--user", "xorder-scram-only"]);
    assert_eq!(entries(&only).len(), 0, "{only}");
    assert_eq!(
        only["scram_credentials"][0]["credentials"],
        serde_json::json!([{"mechanism": "SCRAM-SHA-256", "iterations": 4096}]),
        "{only}"
    );
    let none = json_describe(&["--entity-type", "users", "--entity-name", "xorder-u3"]);
    assert_eq!(none["scram_credentials"], serde_json::json!([]), "{none}");
    let all = json_describe(&["--entity-type", "users"]);
    let users: Vec<&str> = all["scram_credentials"]
        .as_array()
        .expect("scram_credentials")
        .iter()
        .filter_map(|u| u["user"].as_str())
        .collect();
    assert!(
        users.contains(&"xorder-u2") && users.contains(&"xorder-scram-only"),
        "{all}"
    );
    for form in [
        &["--entity-type", "clients"][..],
        &["--entity-type", "users", "--entity-type", "clients"],
        &["--user-defaults"],
    ] {
        let v = json_describe(form);
        assert!(v.get("scram_credentials").is_none(), "{form:?}: {v}");
    }

    for (user, mech) in [
        ("xorder-u2", "SCRAM-SHA-256"),
        ("xorder-u2", "SCRAM-SHA-512"),
        ("xorder-scram-only", "SCRAM-SHA-256"),
    ] {
        let o = kafka_configs(&[
            "--alter",
            "--delete-config",
            mech,
            "--entity-type",
            "users",
            "--entity-name",
            user,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for e in &entities {
        let mut del = vec!["quotas", "delete", "-b", &b];
        del.extend_from_slice(e);
        ok(&del);
    }
}

/// Java's `String.hashCode`.
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// `ClientQuotaEntity.hashCode()` of `{user=USER, client-id=CLIENT}`: `31 + Σ type ^ name`.
fn java_pair_hash(user: &str, client: &str) -> i32 {
    31i32
        .wrapping_add(java_string_hash("user") ^ java_string_hash(user))
        .wrapping_add(java_string_hash("client-id") ^ java_string_hash(client))
}

/// Removes (user, client-id) entities in one AlterClientQuotas request when dropped, so a
/// failing test does not leave a thousand entities to the next ones.
struct RemovePairs(Vec<(String, String)>);

impl Drop for RemovePairs {
    fn drop(&mut self) {
        use kquota_admin::{Alteration, Entity, EntityName, Op, QuotaAdmin, QuotaKey};
        let alterations: Vec<Alteration> = self
            .0
            .iter()
            .map(|(u, c)| Alteration {
                entity: Entity::new()
                    .with_user(EntityName::named(u.as_str()))
                    .with_client_id(EntityName::named(c.as_str())),
                ops: vec![Op::Remove(QuotaKey::ProducerByteRate)],
            })
            .collect();
        let removed = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let cluster =
                    kquota_net::Cluster::connect(kquota_net::ClientConfig::new([bootstrap()]))
                        .await?;
                let admin = QuotaAdmin::new(cluster);
                admin.alter(&alterations, false).await?;
                admin
                    .wait_applied(&alterations, std::time::Duration::from_secs(30))
                    .await
                    .map_err(anyhow::Error::from)
            });
        if !std::thread::panicking() {
            let lagging = removed.expect("remove the entities");
            assert!(lagging.is_empty(), "brokers {lagging:?} still show them");
        }
    }
}

/// Creates `{user=USER_PREFIX-N, client-id=CLIENT_PREFIX-N}` for each N (producer_byte_rate
/// 1000 + N) with one `quotas apply`, then requires `configs --describe --entity-type users
/// --entity-type clients` to print what kafka-configs prints, byte for byte (kafka-configs run
/// with `JAVA_TOOL_OPTIONS` = `java_options` when given). Removes the entities at the end.
fn many_pairs_identical_to_kafka_configs(
    user_prefix: &str,
    client_prefix: &str,
    ns: &[u32],
    java_options: Option<&str>,
) {
    let b = bootstrap();
    let pairs: Vec<(String, String)> = ns
        .iter()
        .map(|n| (format!("{user_prefix}-{n}"), format!("{client_prefix}-{n}")))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::from("quotas:\n");
    for (n, (u, c)) in ns.iter().zip(&pairs) {
        yaml += &format!(
            "  - entity: {{ user: {u}, client-id: {c} }}\n    values: {{ producer_byte_rate: {} }}\n",
            1000 + n
        );
    }
    let f = write(&dir, "many-pairs.yaml", &yaml);
    let _remove = RemovePairs(pairs.clone());
    ok(&["quotas", "apply", "-b", &b, "-f", f.to_str().unwrap()]);

    let ours = same_as_kafka_configs(
        &[
            "--describe",
            "--entity-type",
            "users",
            "--entity-type",
            "clients",
        ],
        java_options,
    );
    // Every entity was there, and the describe result had the long bins this is about: the
    // admin client's new HashMap<>(size) ends with at least 4/3·size buckets, and a bin of 9 or
    // more keys in a table of 64 or more buckets is a red-black tree.
    let lines: Vec<&str> = ours.lines().collect();
    for (u, c) in &pairs {
        let line = format!("Quota configs for user-principal '{u}', client-id '{c}' are ");
        assert!(lines.iter().any(|l| l.starts_with(&line)), "{line}");
    }
    let mut capacity = lines.len().next_power_of_two();
    while lines.len() > capacity / 4 * 3 {
        capacity *= 2;
    }
    let mut bins = std::collections::HashMap::new();
    for (u, c) in &pairs {
        let h = java_pair_hash(u, c) as u32;
        *bins
            .entry((h ^ (h >> 16)) as usize & (capacity - 1))
            .or_insert(0) += 1;
    }
    let longest = bins.values().copied().max().unwrap_or(0);
    assert!(longest >= 9, "longest bin {longest} of {capacity}");
}

/// kafka-configs mode, ~1000 (user, client-id) pairs with structured names: these collide into
/// bins of dozens of entities, which Java's HashMap turns into red-black trees (and splits,
/// untreeifies and re-treeifies as the map grows). The line order must still be kafka-configs'
/// exactly. Only names of pairwise different hashes are used: entities of exactly equal hashes
/// in one tree are ordered by JVM identity hashes, which nothing can reproduce (see the next
/// test for those).
#[test]
fn many_colliding_entities_print_in_kafka_configs_order() {
    let _g = lock();
    let mut seen = std::collections::HashSet::new();
    let ns: Vec<u32> = (0..)
        .filter(|n| {
            seen.insert(java_pair_hash(
                &format!("xjm-user-{n}"),
                &format!("xjm-client-{n}"),
            ))
        })
        .take(960)
        .collect();
    many_pairs_identical_to_kafka_configs("xjm-user", "xjm-client", &ns, None);
}

/// The same with 1000 pairs that also share exact hashes (only 212 distinct ones): Java breaks
/// those ties by identity hash; kquota orders them as the JVM does when identity hashes are
/// equal, which `-XX:hashCode=2` makes them all (see crates/kquota-cli/src/javamap.rs).
#[test]
fn entities_of_equal_hashes_print_as_kafka_configs_with_equal_identity_hashes() {
    let _g = lock();
    let ns: Vec<u32> = (0..1000).collect();
    many_pairs_identical_to_kafka_configs(
        "xjmtie-user",
        "xjmtie-client",
        &ns,
        Some("-XX:+UnlockExperimentalVMOptions -XX:hashCode=2"),
    );
}

/// Names with control characters (newline, ESC, DEL, C1, bidi) print escaped in human output
/// (tables, kafka-configs lines, messages) and exactly in JSON.
#[test]
fn control_characters_in_names_are_escaped_for_people_and_exact_in_json() {
    let _g = lock();
    let b = bootstrap();
    let client = "xctl-c\nQuota configs for client-id 'forged' are x\u{1b}[2J\u{7f}\u{9b}\u{202e}";
    let shown = r"xctl-c\nQuota configs for client-id 'forged' are x\x1b[2J\x7f\u{009b}\u{202e}";
    let user = "xctl-u\t\r";
    let user_shown = r"xctl-u\t\r";
    let out = alter(
        &["--user", user, "--client-id", client],
        &["--set", "producer_byte_rate=1000000000000"],
    );
    let raw = |s: &str| {
        s.chars()
            .any(|c| c.is_control() && c != '\n' || c == '\u{202e}')
    };
    assert!(!raw(&out), "{out:?}");
    assert!(out.contains(shown) && out.contains(user_shown), "{out}");
    // Table: one line per row, escaped.
    let table = ok(&["quotas", "describe", "-b", &b, "--client-id", client]);
    assert!(!raw(&table), "{table:?}");
    assert_eq!(table.lines().count(), 2, "{table}");
    assert!(
        table.contains(&format!("user='{user_shown}', client-id='{shown}'")),
        "{table}"
    );
    // JSON: exact.
    let es = entries(&describe_json(&["--client-id", client]));
    assert_eq!(es.len(), 1);
    assert_eq!(es[0]["entity"]["client-id"], client);
    assert_eq!(es[0]["entity"]["user"], user);
    // kafka-configs mode: one line, escaped (kafka-configs itself prints the raw bytes).
    let lines = ok(&[
        "configs",
        "--bootstrap-server",
        &b,
        "--describe",
        "--entity-type",
        "users",
        "--entity-name",
        user,
        "--entity-type",
        "clients",
        "--entity-name",
        client,
    ]);
    assert_eq!(
        lines,
        format!("Quota configs for user-principal '{user_shown}', client-id '{shown}' are producer_byte_rate=1.0E12\n")
    );
    let done = ok(&[
        "configs",
        "--bootstrap-server",
        &b,
        "--alter",
        "--entity-type",
        "clients",
        "--entity-name",
        client,
        "--add-config",
        "consumer_byte_rate=1000000000000",
    ]);
    assert_eq!(
        done,
        format!("Completed updating config for client {shown}.\n")
    );
    // Errors name the entity escaped too, on one line.
    let e = fails(
        &[
            "quotas",
            "alter",
            "-b",
            &b,
            "--client-id",
            client,
            "--set",
            "producer_byte_rate=1.5",
        ],
        2,
    );
    assert!(e.contains(shown), "{e}");
    for e in [
        vec!["--user", user, "--client-id", client],
        vec!["--client-id", client],
    ] {
        let mut del = vec!["quotas", "delete", "-b", &b];
        del.extend_from_slice(&e);
        ok(&del);
    }
}

/// Resolve over all eight levels on the live broker: set every level, then remove the most
/// specific one at a time and check the next level wins.
#[test]
fn resolve_all_eight_levels_live() {
    let _g = lock();
    let b = bootstrap();
    let (u, c) = ("resolve-user", "resolve-client");
    let levels: Vec<Vec<&str>> = vec![
        vec!["--user", u, "--client-id", c],
        vec!["--user", u, "--default", "client-id"],
        vec!["--user", u],
        vec!["--default", "user", "--client-id", c],
        vec!["--default", "user", "--default", "client-id"],
        vec!["--default", "user"],
        vec!["--client-id", c],
        vec!["--default", "client-id"],
    ];
    for (i, e) in levels.iter().enumerate() {
        alter(
            e,
            &[
                "--set",
                &format!("producer_byte_rate={}", (i + 1) * 1_000_000_000),
            ],
        );
    }
    for (i, e) in levels.iter().enumerate() {
        let r: Value = serde_json::from_str(&ok(&[
            "quotas",
            "resolve",
            "-b",
            &b,
            "-o",
            "json",
            "--user",
            u,
            "--client-id",
            c,
        ]))
        .unwrap();
        let p = &r["keys"][0];
        assert_eq!(p["level"], i + 1, "{r}");
        assert_eq!(p["value"], ((i + 1) * 1_000_000_000) as f64, "{r}");
        assert!(r["note"].as_str().unwrap().contains("per broker"));
        let mut del = vec!["quotas", "delete", "-b", &b];
        del.extend_from_slice(e);
        ok(&del);
    }
    let r: Value = serde_json::from_str(&ok(&[
        "quotas",
        "resolve",
        "-b",
        &b,
        "-o",
        "json",
        "--user",
        u,
        "--client-id",
        c,
    ]))
    .unwrap();
    assert_eq!(r["keys"][0]["unlimited"], true, "{r}");
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `.properties` files are ISO-8859-1, as `Properties.load(InputStream)` reads them in Kafka's
/// tools: a Latin-1 password works (for kafka-configs and kquota alike), the same file saved as
/// UTF-8 is read byte by byte (as Java does: authentication fails) with a warning.
#[test]
fn properties_files_are_read_as_latin1_like_java() {
    let _g = lock();
    let c = shared();
    let sasl = c.bootstrap(Listener::SaslPlaintext);
    let dir = tempfile::tempdir().unwrap();
    let write_bytes = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    // "pässwörd" in ISO-8859-1; kafka-configs reads --add-config-file as Latin-1 as well.
    let password: &[u8] = b"p\xe4ssw\xf6rd";
    let scram = write_bytes(
        "scram.properties",
        &[
            b"SCRAM-SHA-256=iterations=4096,password=".as_slice(),
            password,
            b"\n",
        ]
        .concat(),
    );
    let o = kafka_configs(&[
        "--alter",
        "--entity-type",
        "users",
        "--entity-name",
        "xlatin-user",
        "--add-config-file",
        scram.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let client = |pw: &[u8]| {
        [
            format!("bootstrap.servers={sasl}\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"xlatin-user\" password=\"").as_bytes(),
            pw,
            b"\";\n",
        ]
        .concat()
    };
    let latin = write_bytes("latin1.properties", &client(password));
    // Authenticated: the user is just not allowed to describe quotas (exit 4, authorization).
    let e = fails(
        &[
            "quotas",
            "describe",
            "--command-config",
            latin.to_str().unwrap(),
        ],
        4,
    );
    assert!(e.contains("CLUSTER_AUTHORIZATION_FAILED"), "{e}");
    let java = c
        .kafka_tool("kafka.admin.ConfigCommand")
        .args([
            "--bootstrap-server",
            &sasl,
            "--command-config",
            latin.to_str().unwrap(),
        ])
        .args(["--describe", "--entity-type", "clients"])
        .output()
        .unwrap();
    assert!(
        stderr(&java).contains("ClusterAuthorizationException"),
        "{}",
        stderr(&java)
    );
    // The same text saved as UTF-8: "pÃ¤sswÃ¶rd" for Java and kquota; kquota says why.
    let utf8 = write_bytes("utf8.properties", &client("pässwörd".as_bytes()));
    let o = kquota(&[
        "quotas",
        "describe",
        "--command-config",
        utf8.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("authentication") && err.contains("failed"),
        "{err}"
    );
    assert!(
        err.contains("utf8.properties:4: non-ASCII UTF-8 text is read as ISO-8859-1"),
        "{err}"
    );
    let o = kafka_configs(&[
        "--alter",
        "--entity-type",
        "users",
        "--entity-name",
        "xlatin-user",
        "--delete-config",
        "SCRAM-SHA-256",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// PLAINTEXT to a SASL listener: the broker answers ApiVersions, then closes at the next request.
/// The one-line error says to check security.protocol; exit 4 (connection/authentication).
#[test]
fn plaintext_to_a_sasl_listener_says_to_check_security_protocol() {
    let sasl = shared().bootstrap(Listener::SaslPlaintext);
    for args in [
        vec!["quotas", "describe", "-b", &sasl],
        vec![
            "configs",
            "--bootstrap-server",
            &sasl,
            "--describe",
            "--entity-type",
            "users",
        ],
    ] {
        let e = fails(&args, 4);
        assert!(
            e.contains("probably requires SASL") && e.contains("check security.protocol"),
            "{e}"
        );
        assert!(!e.contains("may have been processed"), "{e}");
    }
}

/// plan/apply/export round trips; a second apply is a no-op; --prune removes unlisted entities.
#[test]
fn plan_apply_export_round_trip_and_prune() {
    let _g = lock();
    let b = bootstrap();
    let dir = tempfile::tempdir().unwrap();
    // Start from a known state: apply an empty file with --prune.
    let empty = write(&dir, "empty.yaml", "quotas: []\n");
    ok(&[
        "quotas",
        "apply",
        "-b",
        &b,
        "-f",
        empty.to_str().unwrap(),
        "--prune",
    ]);
    assert!(entries(&describe_json(&[])).is_empty());

    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/quotas/scenario.yaml"
    );
    let plan = ok(&["quotas", "plan", "-b", &b, "-f", scenario]);
    assert!(
        plan.contains("Plan: 3 to create, 0 to update, 0 to delete."),
        "{plan}"
    );
    ok(&["quotas", "apply", "-b", &b, "-f", scenario]);
    let plan = ok(&["quotas", "plan", "-b", &b, "-f", scenario]);
    assert!(plan.contains("No changes"), "{plan}");
    // Second apply is a no-op.
    let again = ok(&["quotas", "apply", "-b", &b, "-f", scenario, "-o", "json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&again).unwrap()["changes"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "{again}"
    );

    // Export (YAML and JSON) -> apply is a no-op.
    for name in ["export.yaml", "export.json"] {
        let f = dir.path().join(name);
        ok(&["quotas", "export", "-b", &b, "-f", f.to_str().unwrap()]);
        let plan = ok(&[
            "quotas",
            "plan",
            "-b",
            &b,
            "-f",
            f.to_str().unwrap(),
            "--prune",
        ]);
        assert!(plan.contains("No changes"), "{name}: {plan}");
    }

    // An extra entity: left alone without --prune, removed with it.
    alter(
        &["--client-id", "unlisted"],
        &["--set", "producer_byte_rate=1"],
    );
    let plan = ok(&["quotas", "plan", "-b", &b, "-f", scenario]);
    assert!(plan.contains("No changes"), "{plan}");
    let plan = ok(&["quotas", "plan", "-b", &b, "-f", scenario, "--prune"]);
    assert!(
        plan.contains("- client-id='unlisted'") && plan.contains("1 to delete"),
        "{plan}"
    );
    ok(&["quotas", "apply", "-b", &b, "-f", scenario, "--prune"]);
    assert!(entries(&describe_json(&["--client-id", "unlisted"])).is_empty());

    // An update of one key.
    let changed = std::fs::read_to_string(scenario)
        .unwrap()
        .replace("producer_byte_rate: 1024", "producer_byte_rate: 2048");
    let changed = write(&dir, "changed.yaml", &changed);
    let plan = ok(&["quotas", "plan", "-b", &b, "-f", changed.to_str().unwrap()]);
    assert!(
        plan.contains("~ producer_byte_rate = 1024 -> 2048")
            && plan.contains("0 to create, 1 to update"),
        "{plan}"
    );

    ok(&[
        "quotas",
        "apply",
        "-b",
        &b,
        "-f",
        empty.to_str().unwrap(),
        "--prune",
    ]);
    assert!(entries(&describe_json(&[])).is_empty());
}

/// Removing keys that are not set. Compatible mode: kafka-configs 4.1.1's text, in its key
/// order, for an entity with other keys and for one with no quota at all (kafka-configs exits 1,
/// its only failure status; kquota exits 2, validation, nothing changed). Native mode: `alter
/// --remove` warns and succeeds; `delete` fails unless `--if-exists`, and changes nothing.
#[test]
fn removing_keys_that_are_not_set() {
    let _g = lock();
    let b = bootstrap();
    alter(
        &["--client-id", "unset-keys"],
        &["--set", "consumer_byte_rate=2048"],
    );
    for (name, delete) in [
        ("unset-keys", "request_percentage,producer_byte_rate"),
        ("unset-keys", "producer_byte_rate,consumer_byte_rate"),
        ("no-quota-at-all", "producer_byte_rate"),
    ] {
        let args = [
            "--alter",
            "--entity-type",
            "clients",
            "--entity-name",
            name,
            "--delete-config",
            delete,
        ];
        let java = kafka_configs(&args);
        assert_eq!(java.status.code(), Some(1), "{}", stderr(&java));
        assert_eq!(stdout(&java), "");
        let mut ours = vec!["configs", "--bootstrap-server", &b];
        ours.extend_from_slice(&args);
        let e = fails(&ours, 2);
        assert_eq!(format!("{e}\n"), format!("error: {}", stderr(&java)));
    }
    assert_eq!(
        entries(&describe_json(&["--client-id", "unset-keys"]))[0]["values"],
        serde_json::json!({"consumer_byte_rate": 2048.0})
    );

    // alter --remove: a warning naming entity and key, exit 0, nothing else changes.
    let o = kquota(&[
        "quotas",
        "alter",
        "-b",
        &b,
        "--client-id",
        "unset-keys",
        "--remove",
        "producer_byte_rate",
        "--set",
        "request_percentage=5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "warning: entity client-id='unset-keys' has no quota for producer_byte_rate; removing it changes nothing\n"
    );
    assert_eq!(
        entries(&describe_json(&["--client-id", "unset-keys"]))[0]["values"],
        serde_json::json!({"consumer_byte_rate": 2048.0, "request_percentage": 5.0})
    );

    // delete: an error, and the keys that are set stay set.
    let del = |extra: &[&'static str]| -> Vec<String> {
        let mut a: Vec<String> = ["quotas", "delete", "-b", &b, "--client-id"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let args = del(&[
        "unset-keys",
        "--key",
        "consumer_byte_rate",
        "--key",
        "producer_byte_rate",
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let e = fails(&args, 2);
    assert_eq!(e, "error: entity client-id='unset-keys' has no quota for producer_byte_rate (it has consumer_byte_rate,request_percentage); nothing was changed; add --if-exists to accept that");
    let args = del(&["no-quota-at-all", "--key", "producer_byte_rate"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let e = fails(&args, 2);
    assert!(
        e.contains("has no quota for producer_byte_rate (it has no quota at all)"),
        "{e}"
    );
    let args = del(&["no-quota-at-all"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let e = fails(&args, 2);
    assert!(
        e.contains("client-id='no-quota-at-all' has no quotas to delete"),
        "{e}"
    );
    assert_eq!(
        entries(&describe_json(&["--client-id", "unset-keys"]))[0]["values"],
        serde_json::json!({"consumer_byte_rate": 2048.0, "request_percentage": 5.0})
    );

    // --if-exists: a warning, the keys that are set are deleted.
    let args = del(&[
        "unset-keys",
        "--key",
        "consumer_byte_rate",
        "--key",
        "producer_byte_rate",
        "--if-exists",
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = kquota(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "warning: entity client-id='unset-keys' has no quota for producer_byte_rate; nothing to delete there\n"
    );
    assert_eq!(
        entries(&describe_json(&["--client-id", "unset-keys"]))[0]["values"],
        serde_json::json!({"request_percentage": 5.0})
    );
    let args = del(&["no-quota-at-all", "--if-exists"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = kquota(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "warning: entity client-id='no-quota-at-all' has no quotas to delete\n"
    );
    ok(&["quotas", "delete", "-b", &b, "--client-id", "unset-keys"]);
}

/// The double 2^63, which the broker stores for `producer_byte_rate=9223372036854775808` set by
/// kafka-configs (kquota refuses to set it): the native table prints it exactly, the compatible
/// mode exactly as kafka-configs (`9.223372036854776E18`).
#[test]
fn whole_values_beyond_2_pow_53_print_exactly() {
    let _g = lock();
    let b = bootstrap();
    let set = kafka_configs(&[
        "--alter",
        "--entity-type",
        "clients",
        "--entity-name",
        "two-pow-63",
        "--add-config",
        "producer_byte_rate=9223372036854775808,request_percentage=1e20",
    ]);
    assert!(set.status.success(), "{}", stderr(&set));
    let table = ok(&["quotas", "describe", "-b", &b, "--client-id", "two-pow-63"]);
    assert!(
        table.contains("producer_byte_rate  9223372036854775808\n"),
        "{table}"
    );
    assert!(
        table.contains("request_percentage  100000000000000000000\n"),
        "{table}"
    );
    let describe = [
        "--describe",
        "--entity-type",
        "clients",
        "--entity-name",
        "two-pow-63",
    ];
    let java = kafka_configs(&describe);
    let mut args = vec!["configs", "--bootstrap-server", &b];
    args.extend_from_slice(&describe);
    let ours = ok(&args);
    assert_eq!(ours, stdout(&java));
    assert!(
        ours.contains("producer_byte_rate=9.223372036854776E18"),
        "{ours}"
    );
    ok(&["quotas", "delete", "-b", &b, "--client-id", "two-pow-63"]);
}

/// `quotas export -o json` writes the JSON quota file (as `--format json` does), to stdout or to
/// `-f FILE` whatever its name; `-o table` and `-o json --format yaml` are usage errors.
#[test]
fn export_output_json_writes_the_json_quota_file() {
    let _g = lock();
    let b = bootstrap();
    alter(
        &["--client-id", "export-o-json"],
        &["--set", "producer_byte_rate=4096"],
    );
    let by_format = ok(&["quotas", "export", "-b", &b, "--format", "json"]);
    let doc: Value = serde_json::from_str(&by_format).expect("--format json is JSON");
    assert!(
        entries(&doc)
            .iter()
            .any(|e| e["entity"]["client-id"] == "export-o-json"
                && e["values"]["producer_byte_rate"] == 4096.0),
        "{by_format}"
    );
    assert_eq!(ok(&["quotas", "export", "-b", &b, "-o", "json"]), by_format);
    assert_eq!(ok(&["quotas", "-o", "json", "export", "-b", &b]), by_format);
    assert_eq!(
        ok(&["quotas", "export", "-b", &b, "--output", "json", "--format", "json"]),
        by_format
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("out.yaml");
    assert_eq!(
        ok(&[
            "quotas",
            "export",
            "-b",
            &b,
            "-o",
            "json",
            "-f",
            f.to_str().unwrap()
        ]),
        ""
    );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), by_format);
    // Without -o the default stays YAML.
    assert!(ok(&["quotas", "export", "-b", &b]).starts_with("quotas:"));
    let e = fails(&["quotas", "export", "-b", &b, "-o", "table"], 2);
    assert!(e.contains("'--output table' is not a file format"), "{e}");
    let e = fails(
        &[
            "quotas", "export", "-b", &b, "-o", "json", "--format", "yaml",
        ],
        2,
    );
    assert!(
        e.contains("--output json conflicts with --format yaml"),
        "{e}"
    );
    ok(&["quotas", "delete", "-b", &b, "--client-id", "export-o-json"]);
}

/// Every bad input from issue 5: non-zero exit, one-line error, nothing applied.
#[test]
fn bad_input_fails_cleanly() {
    let _g = lock();
    let b = bootstrap();
    fn with<'a>(b: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut a = vec!["quotas", "alter", "-b", b];
        a.extend_from_slice(extra);
        a
    }
    let alter = |extra: &[&'static str]| with(&b, extra);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            alter(&["--client-id", "bad", "--set", "bogus_key=1"]),
            "unknown quota key",
        ),
        (
            alter(&["--ip", "10.0.0.1", "--set", "producer_byte_rate=1"]),
            "not allowed for ip",
        ),
        (
            alter(&["--client-id", "bad", "--set", "connection_creation_rate=1"]),
            "not allowed for client-id",
        ),
        (
            alter(&[
                "--ip",
                "10.0.0.1",
                "--user",
                "u",
                "--set",
                "connection_creation_rate=1",
            ]),
            "cannot be combined",
        ),
        (
            alter(&["--client-id", "bad", "--set", "producer_byte_rate=0"]),
            "greater than 0",
        ),
        (
            alter(&["--client-id", "bad", "--set", "producer_byte_rate=-5"]),
            "greater than 0",
        ),
        (
            alter(&["--client-id", "bad", "--set", "producer_byte_rate=1.5"]),
            "whole number",
        ),
        (
            alter(&["--client-id", "bad", "--set", "producer_byte_rate=fast"]),
            "not a number",
        ),
        // Above i64::MAX: the f64 would be 2^63, which the broker accepts; refused as typed.
        (
            alter(&[
                "--client-id",
                "bad",
                "--set",
                "producer_byte_rate=9223372036854775808",
            ]),
            "value '9223372036854775808' is too large (maximum 9223372036854775807)",
        ),
        (
            alter(&[
                "--client-id",
                "bad",
                "--set",
                "consumer_byte_rate=9223372036854776832",
            ]),
            "value '9223372036854776832' is too large",
        ),
        (
            alter(&[
                "--client-id",
                "bad",
                "--set",
                "producer_byte_rate=9223372036854777857",
            ]),
            "value '9223372036854777857' is too large",
        ),
        (
            vec![
                "configs",
                "--bootstrap-server",
                &b,
                "--alter",
                "--entity-type",
                "clients",
                "--entity-name",
                "bad",
                "--add-config",
                "producer_byte_rate=9223372036854775808",
            ],
            "value '9223372036854775808' is too large",
        ),
        (
            alter(&["--client-id", "bad", "--set", "producer_byte_rate=NaN"]),
            "finite",
        ),
        (
            alter(&["--client-id", "", "--set", "producer_byte_rate=1"]),
            "empty client-id",
        ),
        (
            alter(&["--user", "", "--set", "producer_byte_rate=1"]),
            "empty user",
        ),
        (
            vec![
                "quotas",
                "apply",
                "-b",
                &b,
                "-f",
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../testdata/quotas/bad-fractional.yaml"
                ),
            ],
            "line 4",
        ),
        (
            vec![
                "quotas",
                "apply",
                "-b",
                &b,
                "-f",
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../testdata/quotas/bad-syntax.yaml"
                ),
            ],
            "line",
        ),
        (
            vec![
                "quotas",
                "apply",
                "-b",
                &b,
                "-f",
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../testdata/quotas/bad-tab.yaml"
                ),
            ],
            "at line 1 column 1",
        ),
        (
            vec![
                "quotas",
                "describe",
                "--command-config",
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../testdata/quotas/bad.properties"
                ),
            ],
            "bad.properties:3: security.protocol",
        ),
        (
            vec![
                "configs",
                "--bootstrap-server",
                &b,
                "--alter",
                "--entity-type",
                "ips",
                "--entity-type",
                "users",
                "--entity-name",
                "1.2.3.4",
                "--entity-name",
                "u",
                "--add-config",
                "connection_creation_rate=1",
            ],
            "Only 'users' and 'clients'",
        ),
    ];
    for (args, needle) in cases {
        let e = fails(&args, 2);
        assert!(e.contains(needle), "{args:?}: {e}");
    }
    // Nothing half-applied: the valid entry of the bad file was not applied.
    assert!(entries(&describe_json(&["--client-id", "ok-client"])).is_empty());
    assert!(entries(&describe_json(&["--client-id", "bad"])).is_empty());
    // Unreachable broker: connection error (4).
    let e = fails(&["quotas", "describe", "-b", "127.0.0.1:1"], 4);
    assert!(e.contains("127.0.0.1:1"), "{e}");
}

/// An authenticated user without ALTER_CONFIGS/DESCRIBE_CONFIGS on the cluster: exit 4.
#[test]
fn authorization_failure_is_an_access_error() {
    let _g = lock();
    let c = shared();
    let b = c.bootstrap(Listener::SaslPlaintext);
    let dir = tempfile::tempdir().unwrap();
    let props = write(
        &dir,
        "alice.properties",
        &format!("bootstrap.servers={b}\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"alice-secret\";\n"),
    );
    let p = props.to_str().unwrap();
    let e = fails(&["quotas", "describe", "--command-config", p], 4);
    assert!(e.contains("CLUSTER_AUTHORIZATION_FAILED"), "{e}");
    assert!(!e.contains("alice-secret"));
    let e = fails(
        &[
            "quotas",
            "alter",
            "--command-config",
            p,
            "--client-id",
            "x",
            "--set",
            "producer_byte_rate=1",
        ],
        4,
    );
    assert!(e.contains("CLUSTER_AUTHORIZATION_FAILED"), "{e}");
    // The admin's properties file from the testkit (SASL/PLAIN) works.
    let admin = c.admin_properties(Listener::SaslPlaintext).unwrap();
    ok(&[
        "quotas",
        "describe",
        "--command-config",
        admin.to_str().unwrap(),
    ]);
    // Wrong password: authentication failure, exit 4, secret not echoed.
    let bad = write(
        &dir,
        "bad.properties",
        &std::fs::read_to_string(&props)
            .unwrap()
            .replace("alice-secret", "wrong-pw"),
    );
    let e = fails(
        &[
            "quotas",
            "describe",
            "--command-config",
            bad.to_str().unwrap(),
        ],
        4,
    );
    assert!(!e.contains("wrong-pw"), "{e}");
}

/// 3 brokers: alter through one broker, describe through each (eventually consistent metadata).
#[test]
fn three_brokers_alter_via_one_describe_via_each() {
    let c = shared_three();
    let brokers: Vec<(i32, String)> = c
        .brokers()
        .iter()
        .map(|b| (b.id, b.addr(Listener::Plaintext).to_string()))
        .collect();
    let first = &brokers[0].1;
    ok(&[
        "quotas",
        "alter",
        "-b",
        first,
        "--client-id",
        "three-broker-client",
        "--set",
        "consumer_byte_rate=4096",
    ]);
    for (id, addr) in &brokers {
        let id_s = id.to_string();
        let mut found = false;
        for _ in 0..50 {
            let v: Value = serde_json::from_str(&ok(&[
                "quotas",
                "describe",
                "-b",
                addr,
                "--broker",
                &id_s,
                "-o",
                "json",
                "--client-id",
                "three-broker-client",
            ]))
            .unwrap();
            if entries(&v).len() == 1 {
                assert_eq!(entries(&v)[0]["values"]["consumer_byte_rate"], 4096.0);
                found = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(found, "broker {id} never showed the quota");
    }
    ok(&[
        "quotas",
        "delete",
        "-b",
        first,
        "--client-id",
        "three-broker-client",
    ]);
}

/// Completions and man page come from the clap definitions.
#[test]
fn completions_and_man() {
    let bash = ok(&["completions", "bash"]);
    assert!(
        bash.contains("kquota") && bash.contains("resolve"),
        "bash completions"
    );
    let man = ok(&["man"]);
    assert!(man.contains(".TH kquota"), "{}", &man[..man.len().min(200)]);
    let help = ok(&["--help"]);
    assert!(help.contains("Exit codes: 0 success"), "{help}");
}

/// The same SASL_SSL .properties file (PEM trust store) that kafka-configs uses works with
/// `kquota configs`, and both print the same lines.
#[test]
fn command_config_sasl_ssl_shared_with_kafka_configs() {
    let _g = lock();
    let c = shared();
    let b = c.bootstrap(Listener::SaslSsl);
    let props = c.admin_properties(Listener::SaslSsl).unwrap();
    let p = props.to_str().unwrap();
    ok(&[
        "configs",
        "--bootstrap-server",
        &b,
        "--command-config",
        p,
        "--alter",
        "--entity-type",
        "clients",
        "--entity-default",
        "--add-config",
        "request_percentage=500",
    ]);
    let ours = ok(&[
        "configs",
        "--bootstrap-server",
        &b,
        "--command-config",
        p,
        "--describe",
        "--entity-type",
        "clients",
        "--entity-default",
    ]);
    assert_eq!(
        ours,
        "Quota configs for the default client-id are request_percentage=500.0\n"
    );
    let theirs = c
        .kafka_tool("kafka.admin.ConfigCommand")
        .args([
            "--bootstrap-server",
            &b,
            "--command-config",
            p,
            "--describe",
            "--entity-type",
            "clients",
            "--entity-default",
        ])
        .output()
        .unwrap();
    assert_eq!(stdout(&theirs), ours, "{}", stderr(&theirs));
    let out = ok(&[
        "configs",
        "--bootstrap-server",
        &b,
        "--command-config",
        p,
        "--alter",
        "--entity-type",
        "clients",
        "--entity-default",
        "--delete-config",
        "request_percentage",
    ]);
    assert_eq!(
        out,
        "Completed updating default config for clients in the cluster.\n"
    );
}

/// MSK IAM from a Java properties file (IAMLoginModule + OAUTHBEARER callback handler), with
/// AWS credentials from the environment: SASL succeeds as the assumed-role ARN, and the
/// authorizer (no ACL for that ARN) refuses DESCRIBE_CONFIGS on the cluster: exit 4.
#[test]
fn msk_iam_properties_authenticate_as_the_role_arn() {
    let _g = lock();
    let c = shared();
    let creds = c.credentials();
    let id = creds
        .iam
        .iter()
        .find(|i| i.principal_arn == ARN)
        .expect("producerapp-1 identity");
    let dir = tempfile::tempdir().unwrap();
    let props = write(
        &dir,
        "msk-iam.properties",
        &format!(
            "bootstrap.servers={}\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=OAUTHBEARER\nsasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required;\nsasl.login.callback.handler.class=software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler\nsasl.client.callback.handler.class=software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler\nclient.id=producerapp-1-client-id\n",
            c.bootstrap(Listener::SaslPlaintext)
        ),
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kquota"));
    cmd.args([
        "configs",
        "--command-config",
        props.to_str().unwrap(),
        "--describe",
        "--entity-type",
        "users",
    ])
    .env_remove("AWS_PROFILE")
    .env("AWS_ACCESS_KEY_ID", &id.access_key_id)
    .env("AWS_SECRET_ACCESS_KEY", &id.secret_access_key)
    .env("AWS_REGION", "us-east-1")
    .env("AWS_CONFIG_FILE", dir.path().join("none"))
    .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
    .env("AWS_EC2_METADATA_DISABLED", "true");
    match &id.session_token {
        Some(t) => cmd.env("AWS_SESSION_TOKEN", t),
        None => cmd.env_remove("AWS_SESSION_TOKEN"),
    };
    let o = cmd.output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{}{err}", stdout(&o));
    assert!(err.contains("CLUSTER_AUTHORIZATION_FAILED"), "{err}");
    assert!(!err.contains(&id.secret_access_key));
}

/// kquota-admin's topic/ACL/broker-config helpers against the broker.
#[test]
fn admin_ops_topics_acls_and_broker_configs() {
    use kquota_admin::ops::{self, Acl, Operation, TopicSpec};
    let _g = lock();
    // Unique per run: the shared broker outlives test runs started by hand.
    let topic = format!("kquota-ops-topic-{}", std::process::id());
    let c = shared();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cluster = kquota_net::Cluster::connect(kquota_net::ClientConfig::new([bootstrap()]))
            .await
            .unwrap();
        let r = ops::create_topics(&cluster, &[TopicSpec::new(topic.as_str(), 3)])
            .await
            .unwrap();
        assert!(r[0].error.is_none(), "{r:?}");
        let again = ops::create_topics(&cluster, &[TopicSpec::new(topic.as_str(), 3)])
            .await
            .unwrap();
        assert_eq!(
            again[0].error.as_ref().map(|e| e.code_name.as_str()),
            Some("TOPIC_ALREADY_EXISTS")
        );
        let mut listed = false;
        for _ in 0..50 {
            if ops::list_topics(&cluster)
                .await
                .unwrap()
                .contains(&topic.as_str().to_string())
            {
                listed = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(listed);
        let principal = format!("User:{ARN}");
        let acl = Acl::allow_topic(topic.as_str(), &principal, Operation::Write);
        let r = ops::create_acls(&cluster, std::slice::from_ref(&acl))
            .await
            .unwrap();
        assert!(r[0].error.is_none(), "{r:?}");
        let mut found = false;
        for _ in 0..50 {
            if ops::list_acls(&cluster).await.unwrap().contains(&acl) {
                found = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(found, "ACL for the ARN principal not listed byte-exact");
        let id = c.brokers()[0].id;
        let cfg = ops::describe_broker_configs(&cluster, id, Some(ops::QUOTA_BROKER_CONFIGS))
            .await
            .unwrap();
        let window = cfg
            .iter()
            .find(|e| e.name == "quota.window.size.seconds")
            .expect("quota.window.size.seconds");
        assert!(
            window
                .value
                .as_deref()
                .is_some_and(|v| v.parse::<u32>().is_ok()),
            "{window:?}"
        );
        let r = ops::delete_topics(&cluster, &[topic.as_str().to_string()])
            .await
            .unwrap();
        assert!(r[0].error.is_none(), "{r:?}");
    });
}

#[test]
fn an_apply_of_many_entities_returns_once_the_broker_shows_them_all() {
    let _g = lock();
    let b = bootstrap();
    let dir = tempfile::tempdir().unwrap();
    // More entities than wait_applied checks one by one: it checks them with one describe.
    let n = 30;
    let mut yaml = String::from("quotas:\n");
    for i in 0..n {
        yaml += &format!(
            "  - entity: {{ client-id: many-{i} }}\n    values: {{ producer_byte_rate: {} }}\n",
            1000 + i
        );
    }
    let f = write(&dir, "many.yaml", &yaml);
    let o = kquota(&["quotas", "apply", "-b", &b, "-f", f.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(!stderr.contains("did not show it"), "{stderr}");
    for i in 0..n {
        let id = format!("many-{i}");
        let d = describe_json(&["--client-id", &id]);
        let es = entries(&d);
        assert_eq!(es.len(), 1, "{d}");
        assert_eq!(
            es[0]["values"]["producer_byte_rate"],
            f64::from(1000 + i),
            "{d}"
        );
    }
    for i in 0..n {
        alter(
            &["--client-id", &format!("many-{i}")],
            &["--remove", "producer_byte_rate"],
        );
    }
}

/// Names that YAML 1.1 readers (PyYAML, many CI tools) take for booleans, numbers or null when
/// unquoted are exported quoted: PyYAML reads every one back as the same string, and so does
/// kquota (plan of the export: no changes).
#[test]
fn yaml_export_is_read_back_exactly_by_pyyaml_and_by_kquota() {
    let _g = lock();
    let b = bootstrap();
    let names = [
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "True",
        "NULL",
        "~",
        "1e3",
        "0x10",
        "0o17",
        "017",
        "1_000",
        "12:30",
        ".inf",
        "+.5",
        "=",
        "<<",
        "a: b",
        "x #y",
        " lead",
        "\"q\"",
        "back\\slash",
        "nel\u{85}",
        "esc\u{1b}[31m",
        "é✓",
    ];
    for n in names {
        alter(&["--client-id", n], &["--set", "producer_byte_rate=1024"]);
    }
    alter(
        &["--client-id", "off", "--default", "user"],
        &[
            "--set",
            "request_percentage=1e51,consumer_byte_rate=100000000000000000",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("export.yaml");
    ok(&["quotas", "export", "-b", &b, "-f", f.to_str().unwrap()]);
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains("client-id: \"yes\"\n"), "{text}");
    // PyYAML (YAML 1.1) as JSON: names are strings, equal to what was set; numbers are numbers.
    let out = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8'))))",
            f.to_str().unwrap(),
        ])
        .output()
        .expect("python3 with PyYAML");
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let quotas = entries(&doc);
    for n in names {
        assert!(
            quotas
                .iter()
                .any(|e| e["entity"]["client-id"] == n && e["values"]["producer_byte_rate"] == 1024),
            "PyYAML did not read {n:?} back: {text}"
        );
    }
    let pair = quotas
        .iter()
        .find(|e| {
            e["entity"]["client-id"] == "off" && e["entity"].get("user") == Some(&Value::Null)
        })
        .unwrap_or_else(|| panic!("no (default user, off): {text}"));
    assert_eq!(pair["values"]["request_percentage"], 1e51, "{text}");
    assert_eq!(pair["values"]["consumer_byte_rate"], 1e17, "{text}");
    // kquota reads its own export back as the cluster's state.
    let plan = ok(&["quotas", "plan", "-b", &b, "-f", f.to_str().unwrap()]);
    assert_eq!(plan, "No changes. The cluster matches the file.\n");
    for n in names {
        ok(&["quotas", "delete", "-b", &b, "--client-id", n]);
    }
    ok(&[
        "quotas",
        "delete",
        "-b",
        &b,
        "--client-id",
        "off",
        "--default",
        "user",
    ]);
}

/// SASL from the client on a listener without SASL: the error says the listener probably does
/// not use SASL (the mirror of the hint for a client without SASL on a SASL listener); exit 4.
#[test]
fn sasl_to_a_plaintext_listener_says_the_listener_has_no_sasl() {
    let b = bootstrap();
    for mechanism in ["PLAIN", "SCRAM-SHA-256"] {
        let e = fails(
            &[
                "quotas",
                "describe",
                "-b",
                &b,
                "--security-protocol",
                "SASL_PLAINTEXT",
                "--sasl-mechanism",
                mechanism,
                "--sasl-username",
                "alice",
                "--sasl-password",
                "alice-secret",
            ],
            4,
        );
        assert!(
            e.contains("the listener probably does not use SASL")
                && e.contains("check security.protocol"),
            "{e}"
        );
        assert!(!e.contains("alice-secret"), "{e}");
    }
}

/// TLS from the client on a listener without TLS: the broker hangs up during the handshake and
/// the error says the listener may not speak TLS (the mirror of the TLS-answer hint); exit 4.
#[test]
fn tls_to_a_plaintext_listener_says_the_listener_may_not_speak_tls() {
    let b = bootstrap();
    let ca = shared().ca_pem_path().display().to_string();
    let e = fails(
        &[
            "quotas",
            "describe",
            "-b",
            &b,
            "--security-protocol",
            "SSL",
            "--tls-ca-file",
            &ca,
        ],
        4,
    );
    assert!(
        e.contains("may not speak TLS") && e.contains("PLAINTEXT"),
        "{e}"
    );
}

/// Exit classes: a broker id the cluster does not have is "not found" (3, naming the brokers
/// there are), an export file that cannot be written is output that cannot be written (1).
#[test]
fn missing_broker_id_and_unwritable_export_file_have_their_exit_classes() {
    let b = bootstrap();
    let e = fails(&["quotas", "describe", "-b", &b, "--broker", "99"], 3);
    assert_eq!(
        e,
        "error: --broker 99: the cluster has no broker with id 99 (its brokers: 1)"
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("no-such-dir").join("quotas.yaml");
    let e = fails(
        &["quotas", "export", "-b", &b, "-f", f.to_str().unwrap()],
        1,
    );
    assert!(
        e.starts_with(&format!("error: cannot write {}: ", f.display())),
        "{e}"
    );
}

/// kafka-configs compatibility details: a trailing comma in --add-config and Java's `d` suffix
/// are accepted (Double.parseDouble reads 1024d), and --bootstrap-controller pointed at a KRaft
/// controller says quotas are served by brokers instead of asking for a newer Kafka.
#[test]
fn configs_accepts_java_value_forms_and_explains_controllers() {
    let _g = lock();
    let b = bootstrap();
    let out = ok(&[
        "configs",
        "--bootstrap-server",
        &b,
        "--alter",
        "--entity-type",
        "clients",
        "--entity-name",
        "java-forms",
        "--add-config",
        "producer_byte_rate=1024d,consumer_byte_rate = 2048,",
    ]);
    assert_eq!(out, "Completed updating config for client java-forms.\n");
    let out = ok(&[
        "configs",
        "--bootstrap-server",
        &b,
        "--describe",
        "--entity-type",
        "clients",
        "--entity-name",
        "java-forms",
    ]);
    assert!(out.contains("producer_byte_rate=1024.0"), "{out}");
    assert!(out.contains("consumer_byte_rate=2048.0"), "{out}");
    ok(&["quotas", "delete", "-b", &b, "--client-id", "java-forms"]);
    let e = fails(
        &[
            "configs",
            "--bootstrap-server",
            &b,
            "--alter",
            "--entity-type",
            "clients",
            "--entity-name",
            "java-forms",
            "--add-config",
            "producer_byte_rate=1024,,consumer_byte_rate=1",
        ],
        2,
    );
    assert!(e.contains("Invalid entity config"), "{e}");

    // The 3-broker cluster's controller listener, from its server.properties.
    let props = shared_three()
        .controller_log()
        .and_then(|l| l.parent())
        .map(|d| d.join("server.properties"))
        .expect("the 3-broker cluster has a separate controller");
    let text = std::fs::read_to_string(&props).unwrap();
    let controller = text
        .lines()
        .find_map(|l| l.strip_prefix("listeners=CONTROLLER://"))
        .unwrap_or_else(|| panic!("no controller listener in {}", props.display()));
    let e = fails(
        &[
            "configs",
            "--bootstrap-controller",
            controller,
            "--describe",
            "--entity-type",
            "users",
        ],
        4,
    );
    assert!(
        e.contains("client quotas are served by brokers, not by KRaft controllers")
            && e.contains("--bootstrap-server")
            && !e.contains("newer Kafka"),
        "{e}"
    );
}

/// Counts in human output use the singular for one.
#[test]
fn one_partition_is_singular() {
    let b = bootstrap();
    let out = ok(&[
        "topics",
        "create",
        "-b",
        &b,
        "singular-partition",
        "--partitions",
        "1",
    ]);
    assert!(
        out.contains("created (1 partition, replication factor 1)"),
        "{out}"
    );
    let e = fails(
        &[
            "topics",
            "delete",
            "-b",
            &b,
            "singular-partition",
            "no-such-topic-singular",
        ],
        3,
    );
    assert!(e.contains("1 of 2 topics failed"), "{e}");
    assert!(!ok(&["topics", "list", "-b", &b]).contains("singular-partition"));
}
