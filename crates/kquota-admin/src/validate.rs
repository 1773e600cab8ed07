//! Local validation that gives the broker's answers before anything is sent.
//!
//! The rules follow Apache Kafka's KRaft controller (`ClientQuotaControlManager`, KAFKA-14943 in 3.6)
//! and `QuotaConfig`: allowed entity shapes, no empty names, keys allowed per shape, values > 0,
//! whole numbers for `LONG`/`INT` keys (tolerance 1e-6) within range. On top of the broker, kquota
//! also rejects non-finite values (`NaN` passes the broker's checks) and duplicate entities in one
//! request (the broker half-applies those).

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use crate::model::{
    escape_controls, Alteration, Entity, EntityName, EntityType, Op, QuotaKey, Shape, ValueKind,
};

/// The longest name a Kafka protocol string carries (an `i16` length; the broker refuses
/// longer ones as an invalid request).
pub const MAX_NAME_BYTES: usize = i16::MAX as usize;

/// The rule a value or entity broke.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// The entity has no component.
    EmptyEntity,
    /// `ip` combined with `user` or `client-id`.
    IpCombined,
    /// A name is the empty string (use the default entity instead).
    EmptyName(EntityType),
    /// A name longer than a Kafka protocol string can carry (32 767 bytes).
    NameTooLong(EntityType),
    /// An `ip` name is neither an IP address nor a resolvable host.
    InvalidIp,
    /// The key is not a client quota key at all.
    UnknownKey,
    /// The key exists but not for this entity shape.
    KeyNotAllowed,
    /// The value is NaN or infinite.
    NotFinite,
    /// The value is zero or negative (remove the key instead of setting 0).
    NotPositive,
    /// The key takes whole numbers.
    Fractional,
    /// The value exceeds the key's integer type.
    TooLarge,
    /// The same key twice in one entity's changes.
    DuplicateKey,
    /// The same entity twice in one request.
    DuplicateEntity,
    /// A value that is not a number.
    NotANumber,
}

/// A local validation failure naming the entity, the key and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// The entity concerned, if known.
    pub entity: Option<Box<Entity>>,
    /// The key concerned, if any.
    pub key: Option<String>,
    /// The rule broken.
    pub rule: Rule,
    /// Human-readable explanation (one line).
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key names as typed: control characters escaped (entities escape their names).
        let key = self.key.as_deref().map(escape_controls);
        match (&self.entity, &key) {
            (Some(e), Some(k)) => write!(f, "entity {e}, key {k}: {}", self.message),
            (Some(e), None) => write!(f, "entity {e}: {}", self.message),
            (None, Some(k)) => write!(f, "key {k}: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ValidationError {}

fn err(entity: &Entity, key: Option<&str>, rule: Rule, message: String) -> ValidationError {
    ValidationError {
        entity: Some(Box::new(entity.clone())),
        key: key.map(str::to_string),
        rule,
        message,
    }
}

/// Checks an entity's shape and names and returns its [`Shape`].
///
/// ```
/// use kquota_admin::{validate_entity, Entity, EntityName, Shape};
/// let e = Entity::new().with_user(EntityName::named("alice"));
/// assert_eq!(validate_entity(&e).unwrap(), Shape::User);
/// assert!(validate_entity(&Entity::new().with_user(EntityName::named(""))).is_err());
/// ```
pub fn validate_entity(entity: &Entity) -> Result<Shape, ValidationError> {
    for (t, n) in entity.components() {
        if let EntityName::Named(s) = n {
            if s.is_empty() {
                return Err(err(
                    entity,
                    None,
                    Rule::EmptyName(t),
                    format!(
                        "empty {t} name is not allowed (use the default entity for \"all {t}s\")"
                    ),
                ));
            }
            if s.len() > MAX_NAME_BYTES {
                return Err(err(
                    entity,
                    None,
                    Rule::NameTooLong(t),
                    format!(
                        "{t} name of {} bytes is longer than a Kafka string can be ({MAX_NAME_BYTES} bytes)",
                        s.len()
                    ),
                ));
            }
        }
    }
    let shape = match (&entity.user, &entity.client_id, &entity.ip) {
        (None, None, None) => {
            return Err(err(
                entity,
                None,
                Rule::EmptyEntity,
                "an entity needs at least one of user, client-id or ip".into(),
            ))
        }
        (Some(_), None, None) => Shape::User,
        (None, Some(_), None) => Shape::ClientId,
        (Some(_), Some(_), None) => Shape::UserClientId,
        (None, None, Some(ip)) => {
            if let EntityName::Named(name) = ip {
                if !is_valid_ip_entity(name) {
                    return Err(err(
                        entity,
                        None,
                        Rule::InvalidIp,
                        format!(
                            "'{}' is not a valid IP address or resolvable host",
                            escape_controls(name)
                        ),
                    ));
                }
            }
            Shape::Ip
        }
        _ => {
            return Err(err(
                entity,
                None,
                Rule::IpCombined,
                "an ip entity cannot be combined with user or client-id".into(),
            ))
        }
    };
    Ok(shape)
}

/// An IP literal, or (like the broker's `InetAddress.getByName`) a host name that resolves.
fn is_valid_ip_entity(name: &str) -> bool {
    if name.parse::<IpAddr>().is_ok() {
        return true;
    }
    // Host names are resolved by the controller; check locally the same way kafka-configs does.
    use std::net::ToSocketAddrs;
    (name, 0)
        .to_socket_addrs()
        .map(|mut a| a.next().is_some())
        .unwrap_or(false)
}

/// Checks one value for one key on an entity of `shape`.
pub fn validate_value(
    entity: &Entity,
    shape: Shape,
    key: &QuotaKey,
    value: f64,
) -> Result<(), ValidationError> {
    let name = key.name();
    let Some(kind) = key.kind() else {
        return Err(err(
            entity,
            Some(name),
            Rule::UnknownKey,
            format!(
                "unknown quota key (valid keys: {})",
                key_list(&QuotaKey::KNOWN)
            ),
        ));
    };
    if !key.allowed_for(shape) {
        return Err(err(
            entity,
            Some(name),
            Rule::KeyNotAllowed,
            format!(
                "not allowed for {} entities (allowed: {})",
                shape_name(shape),
                key_list(&shape.allowed_keys())
            ),
        ));
    }
    if !value.is_finite() {
        return Err(err(
            entity,
            Some(name),
            Rule::NotFinite,
            format!("value {value} is not a finite number"),
        ));
    }
    if value <= 0.0 {
        return Err(err(
            entity,
            Some(name),
            Rule::NotPositive,
            format!("value {value} must be greater than 0 (to clear a quota, remove the key)"),
        ));
    }
    let max = match kind {
        ValueKind::Double => return Ok(()),
        ValueKind::Long => i64::MAX as f64,
        ValueKind::Int => i32::MAX as f64,
    };
    if value > max {
        return Err(err(
            entity,
            Some(name),
            Rule::TooLarge,
            format!(
                "value {value} is too large (maximum {})",
                if kind == ValueKind::Long {
                    i64::MAX as i128
                } else {
                    i32::MAX as i128
                }
            ),
        ));
    }
    // Same tolerance as the broker: integral within 1e-6.
    if (value - value.round()).abs() > 1e-6 {
        return Err(err(
            entity,
            Some(name),
            Rule::Fractional,
            format!("value {value} must be a whole number"),
        ));
    }
    Ok(())
}

/// Validates a batch of alterations as one request: each entity, each op, no duplicate keys
/// per entity and no entity twice. Removal of a key that is not set is allowed (a no-op on the
/// broker), but the key must still be a known key for the shape.
pub fn validate_alterations(alterations: &[Alteration]) -> Result<(), ValidationError> {
    let mut seen = BTreeSet::new();
    for alt in alterations {
        let shape = validate_entity(&alt.entity)?;
        if !seen.insert(&alt.entity) {
            return Err(err(
                &alt.entity,
                None,
                Rule::DuplicateEntity,
                "entity listed more than once; merge its changes into one entry".into(),
            ));
        }
        let mut keys = BTreeSet::new();
        for op in &alt.ops {
            if !keys.insert(op.key()) {
                return Err(err(
                    &alt.entity,
                    Some(op.key().name()),
                    Rule::DuplicateKey,
                    "key changed more than once for the same entity".into(),
                ));
            }
            match op {
                Op::Set(k, v) => validate_value(&alt.entity, shape, k, *v)?,
                Op::Remove(k) => {
                    if k.kind().is_none() || !k.allowed_for(shape) {
                        return Err(err(
                            &alt.entity,
                            Some(k.name()),
                            if k.kind().is_none() {
                                Rule::UnknownKey
                            } else {
                                Rule::KeyNotAllowed
                            },
                            format!(
                                "cannot remove: not a quota key of {} entities (allowed: {})",
                                shape_name(shape),
                                key_list(&shape.allowed_keys())
                            ),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Parses a textual value strictly: a finite decimal number (`1024`, `1.5`, `1e6`).
pub fn parse_value(entity: Option<&Entity>, key: &str, text: &str) -> Result<f64, ValidationError> {
    let t = text.trim();
    // As typed, for the messages: control characters escaped.
    let shown = escape_controls(t);
    let bad = |msg: String| ValidationError {
        entity: entity.cloned().map(Box::new),
        key: Some(key.to_string()),
        rule: Rule::NotANumber,
        message: msg,
    };
    if t.is_empty() {
        return Err(bad("missing value".into()));
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => {
            // Range of LONG/INT keys on the text as typed: the f64 rounds 9223372036854775808
            // to 2^63, which the broker's `value > Long.MAX_VALUE` (as doubles) lets through.
            let max = match QuotaKey::from_name(key).kind() {
                Some(ValueKind::Long) => Some(i64::MAX as u64),
                Some(ValueKind::Int) => Some(i32::MAX as u64),
                _ => None,
            };
            if let Some(max) = max.filter(|m| decimal_exceeds(t, *m)) {
                return Err(ValidationError {
                    rule: Rule::TooLarge,
                    ..bad(format!("value '{shown}' is too large (maximum {max})"))
                });
            }
            Ok(v)
        }
        Ok(_) => Err(ValidationError {
            rule: Rule::NotFinite,
            ..bad(format!("value '{shown}' is not a finite number"))
        }),
        Err(_) => Err(bad(format!("value '{shown}' is not a number"))),
    }
}

/// Whether the decimal number `text` (as Rust's `f64` parser accepts it: sign, digits, point,
/// exponent) is exactly greater than `max`. Anything else (`inf`, `NaN`) is `false`.
fn decimal_exceeds(text: &str, max: u64) -> bool {
    let t = text.strip_prefix('+').unwrap_or(text);
    if t.starts_with('-') {
        return false;
    }
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => match t[i + 1..].parse::<i64>() {
            Ok(e) => (&t[..i], e),
            // An exponent beyond i64 overflows to ±inf/0 in the f64 parse as well.
            Err(_) => {
                return !t[i + 1..].starts_with('-')
                    && t[..i].bytes().any(|b| (b'1'..=b'9').contains(&b))
            }
        },
        None => (t, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if !(int.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit()) {
        return false;
    }
    // value = 0.DIGITS × 10^point, DIGITS without leading zeros.
    let all: String = format!("{int}{frac}");
    let lead = all.bytes().take_while(|b| *b == b'0').count();
    let digits = all[lead..].trim_end_matches('0');
    if digits.is_empty() {
        return false;
    }
    let point = int.len() as i128 - lead as i128 + i128::from(exp);
    let max_s = max.to_string();
    let max_len = max_s.len() as i128;
    if point != max_len {
        return point > max_len;
    }
    // Same number of integer digits: compare digit by digit, then any fraction beyond is more.
    let int_digits: String = digits
        .chars()
        .chain(std::iter::repeat('0'))
        .take(max_s.len())
        .collect();
    match int_digits.cmp(&max_s) {
        std::cmp::Ordering::Equal => digits.len() > max_s.len(),
        o => o == std::cmp::Ordering::Greater,
    }
}

/// Advice for names that are probably a mistake; not errors (they are valid principal names).
pub fn name_warnings(entity: &Entity) -> Vec<String> {
    let mut out = Vec::new();
    for (t, n) in entity.components() {
        if let EntityName::Named(s) = n {
            if t == EntityType::User && s.starts_with("User:") {
                out.push(format!(
                    "{t} name '{}' starts with 'User:'; quota user names are the principal name without the type prefix",
                    escape_controls(s)
                ));
            }
            if matches!(
                s.as_str(),
                "default" | "Default" | "DEFAULT" | "*" | "<DEFAULT>"
            ) {
                out.push(format!(
                    "{t} name '{s}' is an ordinary name; for the default entity use --default {t} (null on the wire)"
                ));
            }
            if s == "<default>" {
                out.push(format!(
                    "{t} name '<default>' is a literal name, not the default entity (KAFKA-18808); use --default {t} for the default"
                ));
            }
        }
    }
    out
}

fn key_list(keys: &[QuotaKey]) -> String {
    keys.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
}

fn shape_name(shape: Shape) -> &'static str {
    match shape {
        Shape::User => "user",
        Shape::ClientId => "client-id",
        Shape::UserClientId => "(user, client-id)",
        Shape::Ip => "ip",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(n: &str) -> Entity {
        Entity::new().with_user(EntityName::named(n))
    }

    #[test]
    fn integer_keys_are_range_checked_on_the_text() {
        let e = Entity::new().with_client_id(EntityName::named("c"));
        let pbr = |t: &str| parse_value(Some(&e), "producer_byte_rate", t);
        for ok in [
            "9223372036854775807",
            "9223372036854775806.5",
            "9.223372036854775807e18",
            "00009223372036854775807.000",
            "1e18",
            "1024",
            "-5",
        ] {
            assert!(pbr(ok).is_ok(), "{ok}");
        }
        for big in [
            "9223372036854775808",
            "9223372036854776832",
            "9223372036854775807.5",
            "9223372036854777857",
            "92233720368547758080e-1",
            "9.3e18",
            "1e19",
        ] {
            let err = pbr(big).unwrap_err();
            assert_eq!(err.rule, Rule::TooLarge, "{big}");
            assert!(
                err.message.contains(&format!("'{big}'"))
                    && err.message.contains("maximum 9223372036854775807"),
                "{err}"
            );
        }
        let ip = Entity::new().with_ip(EntityName::Default);
        assert!(parse_value(Some(&ip), "connection_creation_rate", "2147483647").is_ok());
        assert_eq!(
            parse_value(Some(&ip), "connection_creation_rate", "2147483647.01")
                .unwrap_err()
                .rule,
            Rule::TooLarge
        );
        // DOUBLE keys have no such limit.
        assert!(parse_value(Some(&e), "request_percentage", "1e300").is_ok());
    }

    #[test]
    fn shapes() {
        assert_eq!(validate_entity(&user("a")).unwrap(), Shape::User);
        let uc = user("a").with_client_id(EntityName::Default);
        assert_eq!(validate_entity(&uc).unwrap(), Shape::UserClientId);
        let ip = Entity::new().with_ip(EntityName::named("10.0.0.1"));
        assert_eq!(validate_entity(&ip).unwrap(), Shape::Ip);
        assert_eq!(
            validate_entity(&Entity::new().with_ip(EntityName::Default)).unwrap(),
            Shape::Ip
        );
        assert_eq!(
            validate_entity(&Entity::new()).unwrap_err().rule,
            Rule::EmptyEntity
        );
        let mixed = user("a").with_ip(EntityName::named("10.0.0.1"));
        assert_eq!(validate_entity(&mixed).unwrap_err().rule, Rule::IpCombined);
        let e = validate_entity(&Entity::new().with_client_id(EntityName::named(""))).unwrap_err();
        assert_eq!(e.rule, Rule::EmptyName(EntityType::ClientId));
        let long = "a".repeat(MAX_NAME_BYTES + 1);
        let e = validate_entity(&user(&long)).unwrap_err();
        assert_eq!(e.rule, Rule::NameTooLong(EntityType::User));
        assert!(e.to_string().contains("32768 bytes"), "{e}");
        assert!(validate_entity(&user(&long[1..])).is_ok());
        let bad_ip = Entity::new().with_ip(EntityName::named("not an ip!"));
        assert_eq!(validate_entity(&bad_ip).unwrap_err().rule, Rule::InvalidIp);
    }

    #[test]
    fn values() {
        let e = user("a");
        let s = Shape::User;
        let v = |k: QuotaKey, x: f64| validate_value(&e, s, &k, x).map_err(|e| e.rule);
        assert_eq!(v(QuotaKey::ProducerByteRate, 1024.0), Ok(()));
        assert_eq!(v(QuotaKey::ProducerByteRate, 0.0), Err(Rule::NotPositive));
        assert_eq!(v(QuotaKey::ProducerByteRate, -5.0), Err(Rule::NotPositive));
        assert_eq!(
            v(QuotaKey::ProducerByteRate, 1048576.5),
            Err(Rule::Fractional)
        );
        assert_eq!(v(QuotaKey::ProducerByteRate, 1024.0000001), Ok(()));
        assert_eq!(
            v(QuotaKey::ProducerByteRate, f64::NAN),
            Err(Rule::NotFinite)
        );
        assert_eq!(v(QuotaKey::ProducerByteRate, 1e30), Err(Rule::TooLarge));
        assert_eq!(v(QuotaKey::RequestPercentage, 0.5), Ok(()));
        assert_eq!(v(QuotaKey::RequestPercentage, 250.0), Ok(()));
        assert_eq!(
            v(QuotaKey::RequestPercentage, f64::INFINITY),
            Err(Rule::NotFinite)
        );
        assert_eq!(v(QuotaKey::ControllerMutationRate, 0.25), Ok(()));
        assert_eq!(
            v(QuotaKey::ConnectionCreationRate, 10.0),
            Err(Rule::KeyNotAllowed)
        );
        assert_eq!(
            v(QuotaKey::from_name("SCRAM-SHA-256"), 1.0),
            Err(Rule::UnknownKey)
        );
        let ip = Entity::new().with_ip(EntityName::Default);
        assert!(validate_value(&ip, Shape::Ip, &QuotaKey::ConnectionCreationRate, 5.0).is_ok());
        assert_eq!(
            validate_value(&ip, Shape::Ip, &QuotaKey::ConnectionCreationRate, 3e9)
                .unwrap_err()
                .rule,
            Rule::TooLarge
        );
        assert_eq!(
            validate_value(&ip, Shape::Ip, &QuotaKey::ProducerByteRate, 5.0)
                .unwrap_err()
                .rule,
            Rule::KeyNotAllowed
        );
    }

    #[test]
    fn error_names_entity_key_and_rule() {
        let e = validate_value(
            &user("alice"),
            Shape::User,
            &QuotaKey::ProducerByteRate,
            1.5,
        )
        .unwrap_err();
        let s = e.to_string();
        assert!(
            s.contains("user='alice'")
                && s.contains("producer_byte_rate")
                && s.contains("whole number"),
            "{s}"
        );
    }

    #[test]
    fn batches() {
        let a = Alteration {
            entity: user("a"),
            ops: vec![
                Op::Set(QuotaKey::ProducerByteRate, 1.0),
                Op::Remove(QuotaKey::ProducerByteRate),
            ],
        };
        assert_eq!(
            validate_alterations(&[a]).unwrap_err().rule,
            Rule::DuplicateKey
        );
        let b = Alteration {
            entity: user("a"),
            ops: vec![Op::Remove(QuotaKey::ConsumerByteRate)],
        };
        assert_eq!(
            validate_alterations(&[b.clone(), b.clone()])
                .unwrap_err()
                .rule,
            Rule::DuplicateEntity
        );
        assert!(validate_alterations(&[b]).is_ok());
        let c = Alteration {
            entity: user("a"),
            ops: vec![Op::Remove(QuotaKey::ConnectionCreationRate)],
        };
        assert_eq!(
            validate_alterations(&[c]).unwrap_err().rule,
            Rule::KeyNotAllowed
        );
    }

    #[test]
    fn parse_values() {
        assert_eq!(parse_value(None, "k", " 1024 ").unwrap(), 1024.0);
        assert_eq!(parse_value(None, "k", "1e6").unwrap(), 1e6);
        assert_eq!(
            parse_value(None, "k", "abc").unwrap_err().rule,
            Rule::NotANumber
        );
        assert_eq!(
            parse_value(None, "k", "NaN").unwrap_err().rule,
            Rule::NotFinite
        );
        assert_eq!(
            parse_value(None, "k", "").unwrap_err().rule,
            Rule::NotANumber
        );
    }

    #[test]
    fn warnings() {
        assert_eq!(name_warnings(&user("User:alice")).len(), 1);
        assert_eq!(name_warnings(&user("default")).len(), 1);
        assert!(name_warnings(&user("alice")).is_empty());
    }
}
