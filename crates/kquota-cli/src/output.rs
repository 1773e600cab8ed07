//! Output: tables for people, JSON for scripts, and kafka-configs' exact describe lines.
//!
//! ## kafka-configs line format (Kafka 3.x/4.x `ConfigCommand`)
//!
//! `Quota configs for <entity> are <k>=<v>, <k>=<v>` where `<entity>` joins, in the order user,
//! client-id, ip, either `user-principal 'NAME'` / `client-id 'NAME'` / `ip 'NAME'` or
//! `the default user-principal` / `the default client-id` / `the default ip`, with `, `.
//! Names are printed with control characters escaped ([`escape_controls`]; Java prints them
//! raw). Values are Java `Double.toString` (`1024.0`, `1.0E7`, `0.5`). Key order and line order are
//! Java `HashMap` iteration order of the admin client's result maps; [`crate::javamap`]
//! reproduces it so the output is byte-identical to kafka-configs for the same broker answer.

use clap::ValueEnum;
use kquota_admin::{Entity, EntityName, EntityQuotas, EntityType, UserScramCredentials, WireEntry};

use kquota_admin::model::escape_controls;

use crate::javamap::{self, client_quota_entity_hash, JavaHashMap};
use serde_json::{json, Map, Value};

/// `--output` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// Aligned text table.
    #[default]
    Table,
    /// One JSON document (stable; see the README).
    Json,
}

/// `N noun` with the noun in the singular for 1: `plural(1, "partition")` is `1 partition`,
/// `plural(3, "entity")` is `3 entities`.
pub fn plural(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else if let Some(stem) = noun.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {noun}s")
    }
}

/// Java's `Double.toString`.
pub fn java_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Shortest round-trip digits and exponent from Rust's formatter: d.ddde±x.
    let sci = format!("{:e}", v.abs());
    let (mant, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("exponent is an integer");
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let sign = if v < 0.0 { "-" } else { "" };
    let a = v.abs();
    if (1e-3..1e7).contains(&a) {
        // Plain decimal with at least one fractional digit.
        let point = exp + 1; // digits before the decimal point
        let s = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if (point as usize) >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{s}")
    } else {
        let frac = if digits.len() > 1 { &digits[1..] } else { "0" };
        format!("{sign}{}.{}E{}", &digits[..1], frac, exp)
    }
}

/// The entity part of a kafka-configs line.
pub fn kafka_configs_entity(e: &Entity) -> String {
    e.components()
        .map(|(t, n)| {
            let word = match t {
                EntityType::User => "user-principal",
                EntityType::ClientId => "client-id",
                EntityType::Ip => "ip",
            };
            match n {
                EntityName::Default => format!("the default {word}"),
                EntityName::Named(s) => format!("{word} '{}'", escape_controls(s)),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// kafka-configs describe lines for a describe result (in the broker's order, as received),
/// in kafka-configs' order: that of the Java `HashMap`s the admin client builds (see
/// [`crate::javamap`]).
pub fn kafka_configs_lines(result: &[WireEntry]) -> Vec<String> {
    let mut entities = JavaHashMap::new(result.len());
    for eq in result {
        let hash = client_quota_entity_hash(
            eq.entity
                .components()
                .map(|(t, n)| (t.wire_name(), n.as_wire())),
        );
        let mut values = JavaHashMap::new(eq.values.len());
        for (k, v) in &eq.values {
            values.put(k.name(), javamap::string_hash(k.name()), *v);
        }
        entities.put(&eq.entity, hash, values);
    }
    entities
        .into_ordered()
        .into_iter()
        .map(|(entity, values)| {
            let vals = values
                .into_ordered()
                .into_iter()
                .map(|(k, v)| format!("{k}={}", java_double(v)))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "Quota configs for {} are {}",
                kafka_configs_entity(entity),
                vals
            )
        })
        .collect()
}

/// kafka-configs' SCRAM lines, printed after the quota lines of a users-only describe:
/// `SCRAM credential configs for user-principal 'NAME' are SCRAM-SHA-256=iterations=4096, ...`
/// for each user of the answer in the broker's order. Users the broker reports as
/// `RESOURCE_NOT_FOUND` (no credentials) are skipped, as the admin client's
/// `DescribeUserScramCredentialsResult.users()` does, and a user listed twice prints its first
/// result each time (`description(user)` finds the first). Any other per-user error prints
/// `Error retrieving SCRAM credential configs for user-principal 'NAME': ` and the broker error
/// (Java prints the exception class there; kafka-configs' one-user requests never get one).
pub fn kafka_configs_scram_lines(users: &[UserScramCredentials]) -> Vec<String> {
    users
        .iter()
        .filter(
            |u| !matches!(&u.result, Err(e) if e.code == kquota_admin::scram::RESOURCE_NOT_FOUND),
        )
        .map(|listed| {
            let u = users
                .iter()
                .find(|first| first.user == listed.user)
                .unwrap_or(listed);
            match &u.result {
                Ok(creds) => format!(
                    "SCRAM credential configs for user-principal '{}' are {}",
                    escape_controls(&u.user),
                    creds
                        .iter()
                        .map(|c| format!("{}=iterations={}", c.mechanism.name(), c.iterations))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Err(e) => format!(
                    "Error retrieving SCRAM credential configs for user-principal '{}': {e}",
                    escape_controls(&u.user)
                ),
            }
        })
        .collect()
}

/// JSON of the SCRAM credential lines ([`kafka_configs_scram_lines`]) for `kquota configs
/// --describe --output json`: the same users in the same order, each once,
/// `{"user":"alice","credentials":[{"mechanism":"SCRAM-SHA-256","iterations":4096}],"error":null,"message":null}`;
/// users without credentials are left out, as in the text; any other per-user error has
/// `credentials` null and the Kafka error name and the broker's message.
pub fn scram_credentials_json(users: &[UserScramCredentials]) -> Value {
    let mut seen = std::collections::BTreeSet::new();
    let list: Vec<Value> = users
        .iter()
        .filter(
            |u| !matches!(&u.result, Err(e) if e.code == kquota_admin::scram::RESOURCE_NOT_FOUND),
        )
        .filter(|u| seen.insert(u.user.as_str()))
        .map(|u| match &u.result {
            Ok(creds) => json!({
                "user": u.user,
                "credentials": creds
                    .iter()
                    .map(|c| json!({"mechanism": c.mechanism.name(), "iterations": c.iterations}))
                    .collect::<Vec<_>>(),
                "error": null,
                "message": null,
            }),
            Err(e) => json!({
                "user": u.user,
                "credentials": null,
                "error": e.code_name,
                "message": e.message,
            }),
        })
        .collect();
    Value::Array(list)
}

/// JSON for an entity: `{"user": "name" | null, "client-id": ..., "ip": ...}` (absent types omitted).
pub fn entity_json(e: &Entity) -> Value {
    let mut m = Map::new();
    for (t, n) in e.components() {
        m.insert(
            t.wire_name().into(),
            n.as_wire()
                .map(|s| Value::String(s.into()))
                .unwrap_or(Value::Null),
        );
    }
    Value::Object(m)
}

/// JSON for describe results: the same shape as a quota file (`{"quotas": [...]}`).
pub fn quotas_json(result: &[EntityQuotas]) -> Value {
    let list: Vec<Value> = result
        .iter()
        .map(|eq| {
            let values: Map<String, Value> = eq
                .values
                .iter()
                .map(|(k, v)| (k.name().to_string(), json!(v)))
                .collect();
            json!({ "entity": entity_json(&eq.entity), "values": values })
        })
        .collect();
    json!({ "quotas": list })
}

/// A simple aligned table.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(w[i] - c.chars().count() + 2));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(headers.to_vec());
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

/// Table rows for describe results: ENTITY, KEY, VALUE (one row per key).
pub fn quotas_table(result: &[EntityQuotas]) -> String {
    let mut rows = Vec::new();
    for eq in result {
        for (k, v) in &eq.values {
            rows.push(vec![
                eq.entity.to_string(),
                k.name().to_string(),
                kquota_admin::fmt_num(*v),
            ]);
        }
    }
    if rows.is_empty() {
        return "No quotas found.\n".into();
    }
    table(&["ENTITY", "KEY", "VALUE"], &rows)
}

#[cfg(test)]
mod tests {
    #[test]
    fn plural_forms() {
        use super::plural;
        assert_eq!(plural(1u64, "partition"), "1 partition");
        assert_eq!(plural(0u64, "partition"), "0 partitions");
        assert_eq!(plural(3u64, "entity"), "3 entities");
        assert_eq!(plural(1u64, "entity"), "1 entity");
    }

    use super::*;
    use kquota_admin::QuotaKey;

    #[test]
    fn java_double_to_string() {
        // Expected strings are what Java 17's Double.toString prints.
        for (v, s) in [
            (1024.0, "1024.0"),
            (0.5, "0.5"),
            (12.5, "12.5"),
            (1e7, "1.0E7"),
            (9999999.0, "9999999.0"),
            (1.5e10, "1.5E10"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1048576.0, "1048576.0"),
            (1e9, "1.0E9"),
            (123456789.0, "1.23456789E8"),
            (9.223372036854776e18, "9.223372036854776E18"),
            (100.0, "100.0"),
            (0.0, "0.0"),
        ] {
            assert_eq!(java_double(v), s, "{v}");
        }
    }

    #[test]
    fn kafka_configs_line_format() {
        let eq = WireEntry {
            entity: Entity::new()
                .with_user(EntityName::named("alice"))
                .with_client_id(EntityName::Default),
            values: vec![(QuotaKey::ProducerByteRate, 1024.0)],
        };
        assert_eq!(
            kafka_configs_lines(&[eq]),
            vec!["Quota configs for user-principal 'alice', the default client-id are producer_byte_rate=1024.0"]
        );
        let ip = WireEntry {
            entity: Entity::new().with_ip(EntityName::Default),
            values: vec![(QuotaKey::ConnectionCreationRate, 10.0)],
        };
        // Same bucket (3 of 4) for producer_byte_rate and request_percentage: insertion order
        // decides, as observed from kafka-configs against Kafka 4.1.
        let three = WireEntry {
            entity: Entity::new().with_client_id(EntityName::named("c")),
            values: vec![
                (QuotaKey::ConsumerByteRate, 2048.0),
                (QuotaKey::RequestPercentage, 12.5),
                (QuotaKey::ProducerByteRate, 1e7),
            ],
        };
        assert_eq!(
            kafka_configs_lines(&[three]),
            vec!["Quota configs for client-id 'c' are consumer_byte_rate=2048.0, request_percentage=12.5, producer_byte_rate=1.0E7"]
        );
        assert_eq!(
            kafka_configs_lines(&[ip]),
            vec!["Quota configs for the default ip are connection_creation_rate=10.0"]
        );
    }

    #[test]
    fn scram_lines() {
        use kquota_admin::{BrokerError, ScramCredentialInfo, ScramMechanism};
        let creds = |user: &str| UserScramCredentials {
            user: user.into(),
            result: Ok(vec![
                ScramCredentialInfo {
                    mechanism: ScramMechanism::Sha256,
                    iterations: 4096,
                },
                ScramCredentialInfo {
                    mechanism: ScramMechanism::Sha512,
                    iterations: 8192,
                },
            ]),
        };
        let missing = UserScramCredentials {
            user: "nobody".into(),
            result: Err(BrokerError::from_code(91, Some("no such user"))),
        };
        assert_eq!(
            kafka_configs_scram_lines(&[missing.clone(), creds("u")]),
            vec!["SCRAM credential configs for user-principal 'u' are SCRAM-SHA-256=iterations=4096, SCRAM-SHA-512=iterations=8192"]
        );
        let refused = UserScramCredentials {
            user: "v".into(),
            result: Err(BrokerError::from_code(29, Some("denied"))),
        };
        assert_eq!(
            scram_credentials_json(&[missing, creds("u"), refused, creds("u")]).to_string(),
            r#"[{"credentials":[{"iterations":4096,"mechanism":"SCRAM-SHA-256"},{"iterations":8192,"mechanism":"SCRAM-SHA-512"}],"error":null,"message":null,"user":"u"},{"credentials":null,"error":"TOPIC_AUTHORIZATION_FAILED","message":"denied","user":"v"}]"#
        );
    }

    #[test]
    fn json_shape_marks_defaults_null() {
        let eq = EntityQuotas {
            entity: Entity::new()
                .with_user(EntityName::Default)
                .with_client_id(EntityName::named("<default>")),
            values: [(QuotaKey::ConsumerByteRate, 5120.0)].into_iter().collect(),
        };
        let v = quotas_json(&[eq]);
        assert_eq!(
            v.to_string(),
            r#"{"quotas":[{"entity":{"client-id":"<default>","user":null},"values":{"consumer_byte_rate":5120.0}}]}"#
        );
    }
}
