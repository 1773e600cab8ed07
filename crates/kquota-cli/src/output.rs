//! Output: tables for people, JSON for scripts, and kafka-configs' exact describe lines.
//!
//! ## kafka-configs line format (Kafka 3.x/4.x `ConfigCommand`)
//!
//! `Quota configs for <entity> are <k>=<v>, <k>=<v>` where `<entity>` joins, in the order user,
//! client-id, ip, either `user-principal 'NAME'` / `client-id 'NAME'` / `ip 'NAME'` or
//! `the default user-principal` / `the default client-id` / `the default ip`, with `, `.
//! Values are Java `Double.toString` (`1024.0`, `1.0E7`, `0.5`). Key order and line order are
//! Java `HashMap` iteration order of the admin client's result maps; [`java_hash_order`]
//! reproduces it so the output is byte-identical to kafka-configs for the same broker answer.

use clap::ValueEnum;
use kquota_admin::{Entity, EntityName, EntityQuotas, EntityType, WireEntry};
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

/// Java `String.hashCode` (over UTF-16 code units).
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
}

/// The iteration order of a `java.util.HashMap` created with `new HashMap<>(capacity)` and
/// filled with items of these hashes in this order. Returns indexes into `hashes`.
pub fn java_hash_order(hashes: &[i32], capacity: usize) -> Vec<usize> {
    // tableSizeFor(capacity), at least 1; the first put allocates it; resize doubles when
    // size exceeds 0.75 * table length.
    let mut table = capacity.max(1).next_power_of_two();
    let mut size = 0usize;
    for _ in hashes {
        size += 1;
        if size as f64 > table as f64 * 0.75 {
            table *= 2;
        }
    }
    let bucket = |h: i32| {
        let h = h as u32;
        ((h ^ (h >> 16)) as usize) & (table - 1)
    };
    let mut idx: Vec<usize> = (0..hashes.len()).collect();
    // Stable sort keeps insertion order inside a bucket, as HashMap's linked bins do.
    idx.sort_by_key(|&i| bucket(hashes[i]));
    idx
}

fn entity_java_hash(e: &Entity) -> i32 {
    // ClientQuotaEntity.hashCode = Map.hashCode = sum of (key.hashCode ^ value.hashCode).
    e.components().fold(0i32, |acc, (t, n)| {
        let vh = n.as_wire().map(java_string_hash).unwrap_or(0);
        acc.wrapping_add(java_string_hash(t.wire_name()) ^ vh)
    })
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
                EntityName::Named(s) => format!("{word} '{s}'"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// kafka-configs describe lines for a describe result (in the broker's order, as received),
/// in kafka-configs' order.
pub fn kafka_configs_lines(result: &[WireEntry]) -> Vec<String> {
    let hashes: Vec<i32> = result
        .iter()
        .map(|eq| entity_java_hash(&eq.entity))
        .collect();
    java_hash_order(&hashes, result.len())
        .into_iter()
        .map(|i| {
            let eq = &result[i];
            let keys: Vec<(&str, f64)> = eq.values.iter().map(|(k, v)| (k.name(), *v)).collect();
            // (wire order is the HashMap insertion order)
            let kh: Vec<i32> = keys.iter().map(|(k, _)| java_string_hash(k)).collect();
            let vals = java_hash_order(&kh, keys.len())
                .into_iter()
                .map(|j| format!("{}={}", keys[j].0, java_double(keys[j].1)))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "Quota configs for {} are {}",
                kafka_configs_entity(&eq.entity),
                vals
            )
        })
        .collect()
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
    fn java_hashes() {
        // "producer_byte_rate".hashCode() etc. computed by the Java formula s[0]*31^(n-1)+...
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("user"), 3599307);
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
    fn json_shape_marks_defaults_null() {
        let eq = EntityQuotas {
            entity: Entity::new()
                .with_user(EntityName::Default)
                .with_client_id(EntityName::named("<default>")),
            values: [(QuotaKey::ConsumerByteRate, 5120.0)].into(),
        };
        let v = quotas_json(&[eq]);
        assert_eq!(
            v.to_string(),
            r#"{"quotas":[{"entity":{"client-id":"<default>","user":null},"values":{"consumer_byte_rate":5120.0}}]}"#
        );
    }
}
