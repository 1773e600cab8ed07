//! The typed quota model: entity types, entity names (named or default), entities and quota keys.
//!
//! An [`Entity`] is a set of `(type, name-or-default)` pairs with at most one name per type. The
//! default entity of a type is `null` on the wire ([`EntityName::Default`]); the literal string
//! `"<default>"` is an ordinary name (KAFKA-18808), and `""` is never a valid name.

use std::fmt;
use std::str::FromStr;

/// One of the three entity types Kafka knows for client quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntityType {
    /// `user`: the authenticated principal name, without the `User:` prefix.
    User,
    /// `client-id`: the `client.id` the client presents.
    ClientId,
    /// `ip`: the client's IP address (connection-rate quotas only).
    Ip,
}

impl EntityType {
    /// All types, in the order Kafka prints them.
    pub const ALL: [EntityType; 3] = [EntityType::User, EntityType::ClientId, EntityType::Ip];

    /// The wire name (`user`, `client-id`, `ip`).
    pub fn wire_name(self) -> &'static str {
        match self {
            EntityType::User => "user",
            EntityType::ClientId => "client-id",
            EntityType::Ip => "ip",
        }
    }

    /// Parses a wire name; also accepts kafka-configs' plural spellings (`users`, `clients`, `ips`).
    ///
    /// ```
    /// use kquota_admin::EntityType;
    /// assert_eq!(EntityType::parse("clients"), Some(EntityType::ClientId));
    /// assert_eq!(EntityType::parse("group"), None);
    /// ```
    pub fn parse(s: &str) -> Option<EntityType> {
        match s {
            "user" | "users" => Some(EntityType::User),
            "client-id" | "clients" | "client" => Some(EntityType::ClientId),
            "ip" | "ips" => Some(EntityType::Ip),
            _ => None,
        }
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire_name())
    }
}

/// The name part of an entity component: a specific name, or the default entity (`null` on the wire).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntityName {
    /// The default entity for the type (wire `null`, shown as `<default>` with no quotes).
    Default,
    /// A specific name, sent verbatim (it may be the literal text `<default>`).
    Named(String),
}

impl EntityName {
    /// Builds a named entity name.
    pub fn named(s: impl Into<String>) -> Self {
        EntityName::Named(s.into())
    }

    /// The wire value: `None` for the default.
    pub fn as_wire(&self) -> Option<&str> {
        match self {
            EntityName::Default => None,
            EntityName::Named(s) => Some(s),
        }
    }

    /// From the wire value: `None` is the default.
    pub fn from_wire(name: Option<&str>) -> Self {
        match name {
            None => EntityName::Default,
            Some(s) => EntityName::Named(s.to_string()),
        }
    }
}

impl fmt::Display for EntityName {
    /// Default prints as `<default>`; names print quoted so that a literal `"<default>"` stays
    /// distinguishable: `'<default>'`. Control characters are escaped ([`escape_controls`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntityName::Default => f.write_str("<default>"),
            EntityName::Named(s) => write!(f, "'{}'", escape_controls(s)),
        }
    }
}

/// A name made safe to print for people: control characters become visible escapes, so a name
/// cannot move the cursor, recolour or clear a terminal, or break a line-oriented output.
///
/// * `\t`, `\n`, `\r` for tab, line feed and carriage return;
/// * `\xNN` (two hex digits) for the other C0 controls (U+0000–U+001F, e.g. ESC `\x1b`) and DEL;
/// * `\u{NNNN}` for the C1 controls (U+0080–U+009F) and the bidirectional-text controls
///   (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), which reorder what is shown.
///
/// Everything else, backslashes included, is unchanged (names with backslashes, such as
/// `DOMAIN\user`, keep their usual look), so an escape is ambiguous only with a name that
/// literally contains such a sequence; machine output (JSON) carries names exactly.
///
/// ```
/// use kquota_admin::model::escape_controls;
/// assert_eq!(escape_controls("a\nb\u{1b}[31m\u{7f}"), "a\\nb\\x1b[31m\\x7f");
/// assert_eq!(escape_controls("arn:aws:iam::1:role/x"), "arn:aws:iam::1:role/x");
/// ```
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    fn needs(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    }
    if !s.chars().any(needs) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if needs(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A client-quota entity: at most one name per [`EntityType`]. Ordered and hashable independently
/// of the order its components were given in, so it can key maps.
///
/// ```
/// use kquota_admin::{Entity, EntityName};
/// let e = Entity::new().with_user(EntityName::Default).with_client_id(EntityName::named("app"));
/// assert_eq!(e.to_string(), "user=<default>, client-id='app'");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entity {
    /// The `user` component, if any.
    pub user: Option<EntityName>,
    /// The `client-id` component, if any.
    pub client_id: Option<EntityName>,
    /// The `ip` component, if any.
    pub ip: Option<EntityName>,
}

impl Entity {
    /// An empty entity (invalid until a component is added).
    pub fn new() -> Self {
        Entity::default()
    }

    /// Sets the `user` component.
    pub fn with_user(mut self, name: EntityName) -> Self {
        self.user = Some(name);
        self
    }

    /// Sets the `client-id` component.
    pub fn with_client_id(mut self, name: EntityName) -> Self {
        self.client_id = Some(name);
        self
    }

    /// Sets the `ip` component.
    pub fn with_ip(mut self, name: EntityName) -> Self {
        self.ip = Some(name);
        self
    }

    /// The component of one type.
    pub fn get(&self, t: EntityType) -> Option<&EntityName> {
        match t {
            EntityType::User => self.user.as_ref(),
            EntityType::ClientId => self.client_id.as_ref(),
            EntityType::Ip => self.ip.as_ref(),
        }
    }

    /// Sets the component of one type, returning the previous one.
    pub fn set(&mut self, t: EntityType, name: EntityName) -> Option<EntityName> {
        let slot = match t {
            EntityType::User => &mut self.user,
            EntityType::ClientId => &mut self.client_id,
            EntityType::Ip => &mut self.ip,
        };
        slot.replace(name)
    }

    /// The components in Kafka's print order (user, client-id, ip).
    pub fn components(&self) -> impl Iterator<Item = (EntityType, &EntityName)> {
        EntityType::ALL
            .into_iter()
            .filter_map(move |t| self.get(t).map(|n| (t, n)))
    }

    /// True when no component is set.
    pub fn is_empty(&self) -> bool {
        self.user.is_none() && self.client_id.is_none() && self.ip.is_none()
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("(empty entity)");
        }
        let mut first = true;
        for (t, n) in self.components() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{t}={n}")?;
        }
        Ok(())
    }
}

/// How a quota key's value is typed in Kafka's `QuotaConfig` (`ConfigDef` type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// `LONG`: whole number up to `i64::MAX`.
    Long,
    /// `INT`: whole number up to `i32::MAX`.
    Int,
    /// `DOUBLE`: any positive finite value.
    Double,
}

/// A client quota key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum QuotaKey {
    /// `producer_byte_rate`: bytes/s produced, per broker.
    ProducerByteRate,
    /// `consumer_byte_rate`: bytes/s fetched, per broker.
    ConsumerByteRate,
    /// `request_percentage`: % of one network+I/O thread per quota window.
    RequestPercentage,
    /// `controller_mutation_rate`: partitions created/deleted per second.
    ControllerMutationRate,
    /// `connection_creation_rate`: new connections per second for an IP, per broker.
    ConnectionCreationRate,
    /// A key this version does not know, as returned by a broker. Never valid in an alteration.
    Other(String),
}

impl QuotaKey {
    /// The known keys.
    pub const KNOWN: [QuotaKey; 5] = [
        QuotaKey::ProducerByteRate,
        QuotaKey::ConsumerByteRate,
        QuotaKey::RequestPercentage,
        QuotaKey::ControllerMutationRate,
        QuotaKey::ConnectionCreationRate,
    ];

    /// The wire name.
    pub fn name(&self) -> &str {
        match self {
            QuotaKey::ProducerByteRate => "producer_byte_rate",
            QuotaKey::ConsumerByteRate => "consumer_byte_rate",
            QuotaKey::RequestPercentage => "request_percentage",
            QuotaKey::ControllerMutationRate => "controller_mutation_rate",
            QuotaKey::ConnectionCreationRate => "connection_creation_rate",
            QuotaKey::Other(s) => s,
        }
    }

    /// Parses any key; unknown names become [`QuotaKey::Other`].
    ///
    /// ```
    /// use kquota_admin::QuotaKey;
    /// assert_eq!(QuotaKey::from_name("producer_byte_rate"), QuotaKey::ProducerByteRate);
    /// assert!(matches!(QuotaKey::from_name("x"), QuotaKey::Other(_)));
    /// ```
    pub fn from_name(s: &str) -> QuotaKey {
        Self::KNOWN
            .iter()
            .find(|k| k.name() == s)
            .cloned()
            .unwrap_or_else(|| QuotaKey::Other(s.to_string()))
    }

    /// The value type, or `None` for an unknown key.
    pub fn kind(&self) -> Option<ValueKind> {
        match self {
            QuotaKey::ProducerByteRate | QuotaKey::ConsumerByteRate => Some(ValueKind::Long),
            QuotaKey::RequestPercentage | QuotaKey::ControllerMutationRate => {
                Some(ValueKind::Double)
            }
            QuotaKey::ConnectionCreationRate => Some(ValueKind::Int),
            QuotaKey::Other(_) => None,
        }
    }

    /// Whether this key is allowed on entities of the given shape.
    pub fn allowed_for(&self, shape: Shape) -> bool {
        match shape {
            Shape::Ip => matches!(self, QuotaKey::ConnectionCreationRate),
            Shape::User | Shape::ClientId | Shape::UserClientId => matches!(
                self,
                QuotaKey::ProducerByteRate
                    | QuotaKey::ConsumerByteRate
                    | QuotaKey::RequestPercentage
                    | QuotaKey::ControllerMutationRate
            ),
        }
    }
}

impl fmt::Display for QuotaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for QuotaKey {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(QuotaKey::from_name(s))
    }
}

/// The valid entity shapes (which types an entity has).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{user}`
    User,
    /// `{client-id}`
    ClientId,
    /// `{user, client-id}`
    UserClientId,
    /// `{ip}`
    Ip,
}

impl Shape {
    /// The keys allowed for this shape.
    pub fn allowed_keys(self) -> Vec<QuotaKey> {
        QuotaKey::KNOWN
            .iter()
            .filter(|k| k.allowed_for(self))
            .cloned()
            .collect()
    }
}

/// Quota values of one entity, ordered by key: a map stored as a sorted `Vec` (an entity has
/// one to five keys; a `BTreeMap` node would cost ~370 bytes per entity).
///
/// ```
/// use kquota_admin::{QuotaKey, QuotaValues};
/// let mut v = QuotaValues::new();
/// v.insert(QuotaKey::ProducerByteRate, 1024.0);
/// assert_eq!(v.get(&QuotaKey::ProducerByteRate), Some(&1024.0));
/// ```
pub type QuotaValues = litemap::LiteMap<QuotaKey, f64>;

/// One change to one key.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Set `key` to `value`.
    Set(QuotaKey, f64),
    /// Remove `key` (wire `Remove=true`).
    Remove(QuotaKey),
}

impl Op {
    /// The key this op changes.
    pub fn key(&self) -> &QuotaKey {
        match self {
            Op::Set(k, _) | Op::Remove(k) => k,
        }
    }
}

/// The changes to make to one entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Alteration {
    /// The entity to change.
    pub entity: Entity,
    /// The key changes, applied together.
    pub ops: Vec<Op>,
}

/// An entity and its current quota values (one describe result).
#[derive(Debug, Clone, PartialEq)]
pub struct EntityQuotas {
    /// The entity.
    pub entity: Entity,
    /// Its values. An entity with no values does not exist (KAFKA-14285).
    pub values: QuotaValues,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_is_order_independent_and_default_differs_from_literal() {
        let a = Entity::new()
            .with_client_id(EntityName::named("c"))
            .with_user(EntityName::Default);
        let b = Entity::new()
            .with_user(EntityName::Default)
            .with_client_id(EntityName::named("c"));
        assert_eq!(a, b);
        let literal = Entity::new().with_user(EntityName::named("<default>"));
        let default = Entity::new().with_user(EntityName::Default);
        assert_ne!(literal, default);
        assert_eq!(literal.to_string(), "user='<default>'");
        assert_eq!(default.to_string(), "user=<default>");
    }

    #[test]
    fn keys_per_shape() {
        assert_eq!(
            Shape::Ip.allowed_keys(),
            vec![QuotaKey::ConnectionCreationRate]
        );
        assert_eq!(Shape::UserClientId.allowed_keys().len(), 4);
        assert!(!QuotaKey::ConnectionCreationRate.allowed_for(Shape::User));
        assert_eq!(QuotaKey::from_name("nope").kind(), None);
    }
}
