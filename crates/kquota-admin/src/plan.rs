//! Declarative quota files (YAML or JSON) and the plan/apply/export diff.
//!
//! File format (YAML shown; JSON is the same structure):
//!
//! ```yaml
//! quotas:
//!   - entity: { user: "arn:aws:sts::111111111111:assumed-role/R/s", client-id: app-1 }
//!     values: { producer_byte_rate: 1024 }
//!   - entity: { user: null }          # null = the default user (wire null)
//!     values: { consumer_byte_rate: 1048576 }
//!   - entity: { user: "<default>" }   # a user literally named <default>
//!     values: { request_percentage: 12.5 }
//! ```
//!
//! Every entry is validated while parsing, so errors carry the file's line and column. An entity
//! listed in the file is managed whole: keys it does not list are removed on apply. Entities not
//! in the file are left alone unless `prune` is set.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::{Alteration, Entity, EntityName, EntityQuotas, Op, QuotaKey, QuotaValues};
use crate::validate::{validate_entity, validate_value};

/// A parsed, validated quota file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaFile {
    /// Desired entities and their complete values.
    pub quotas: Vec<FileEntry>,
}

/// One entity and its desired values.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(into = "RawEntry")]
pub struct FileEntry(pub EntityQuotas);

/// Validation runs inside the entry's map visitor, so the YAML/JSON error carries the entry's
/// own line (a `try_from` would only get the enclosing list's position).
impl<'de> Deserialize<'de> for FileEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = FileEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quota entry {entity: {...}, values: {...}}")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<FileEntry, A::Error> {
                use serde::de::Error;
                let (mut entity, mut values) = (None, None);
                while let Some(k) = m.next_key::<String>()? {
                    match k.as_str() {
                        "entity" if entity.is_none() => entity = Some(m.next_value::<RawEntity>()?),
                        "values" if values.is_none() => {
                            values = Some(m.next_value::<UniqueValues>()?.0)
                        }
                        "entity" | "values" => {
                            return Err(A::Error::custom(format!("duplicate field `{k}`")))
                        }
                        other => return Err(A::Error::unknown_field(other, &["entity", "values"])),
                    }
                }
                let raw = RawEntry {
                    entity: entity.ok_or_else(|| A::Error::missing_field("entity"))?,
                    values: values.ok_or_else(|| A::Error::missing_field("values"))?,
                };
                FileEntry::try_from(raw).map_err(A::Error::custom)
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Serialize)]
struct RawEntry {
    entity: RawEntity,
    values: BTreeMap<String, Number>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawEntity {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    user: Option<Option<String>>,
    #[serde(
        rename = "client-id",
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    client_id: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    ip: Option<Option<String>>,
}

/// Distinguishes a present `null` (default entity) from an absent field.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// An entry's `values` map, refusing a key given twice (a plain map would keep the last one
/// silently, so a typo'd edit could win unseen).
struct UniqueValues(BTreeMap<String, Number>);

impl<'de> Deserialize<'de> for UniqueValues {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = UniqueValues;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of quota keys to numbers")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<UniqueValues, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(k) = m.next_key::<String>()? {
                    if out.contains_key(&k) {
                        return Err(serde::de::Error::custom(format!(
                            "key `{k}` is given twice in these values"
                        )));
                    }
                    let v = m.next_value::<Number>()?;
                    out.insert(k, v);
                }
                Ok(UniqueValues(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A value that serializes whole numbers as integers (readable files) and reads either. An
/// integer literal outside the `i64` range keeps its exact text (as `f64` it would round, e.g.
/// `9223372036854775808` to 2^63, which passes the broker's LONG range check) so that it is
/// checked, and refused, as written.
#[derive(Clone)]
struct Number(f64, Option<String>);

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if is_small_whole(v) {
            s.serialize_i64(v as i64)
        } else {
            s.serialize_f64(v)
        }
    }
}

/// Whole and exactly representable as an integer in every reader (|v| < 2^53).
fn is_small_whole(v: f64) -> bool {
    v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v, None))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64, None))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(
                    v as f64,
                    (v > i64::MAX as u64).then(|| v.to_string()),
                ))
            }
            // The YAML reader hands integers beyond 64 bits over as 128-bit ones.
            fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Number, E> {
                Ok(Number(
                    v as f64,
                    (v > i64::MAX as u128).then(|| v.to_string()),
                ))
            }
            fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Number, E> {
                let outside = v > i64::MAX as i128 || v < i64::MIN as i128;
                Ok(Number(v as f64, outside.then(|| v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

impl TryFrom<RawEntry> for FileEntry {
    type Error = String;
    fn try_from(raw: RawEntry) -> Result<Self, String> {
        let conv = |o: Option<Option<String>>| o.map(EntityName::from_wire_owned);
        let entity = Entity {
            user: conv(raw.entity.user),
            client_id: conv(raw.entity.client_id),
            ip: conv(raw.entity.ip),
        };
        let shape = validate_entity(&entity).map_err(|e| e.to_string())?;
        if raw.values.is_empty() {
            return Err(format!(
                "entity {entity}: no values; an entity without values does not exist (omit it, or use --prune to remove it)"
            ));
        }
        let mut values = QuotaValues::new();
        for (k, Number(v, exact)) in raw.values {
            let key = QuotaKey::from_name(&k);
            if let Some(exact) = &exact {
                // The exact text goes through the same range check as a typed value.
                crate::validate::parse_value(Some(&entity), &k, exact)
                    .map_err(|e| e.to_string())?;
            }
            validate_value(&entity, shape, &key, v).map_err(|e| {
                // Name the value as written, not its rounded double.
                let m = e.to_string();
                match &exact {
                    Some(x) => m.replacen(&format!("value {v}"), &format!("value {x}"), 1),
                    None => m,
                }
            })?;
            values.insert(key, v);
        }
        Ok(FileEntry(EntityQuotas { entity, values }))
    }
}

impl From<FileEntry> for RawEntry {
    fn from(e: FileEntry) -> RawEntry {
        let conv = |n: Option<EntityName>| n.map(|n| n.as_wire().map(str::to_string));
        RawEntry {
            entity: RawEntity {
                user: conv(e.0.entity.user),
                client_id: conv(e.0.entity.client_id),
                ip: conv(e.0.entity.ip),
            },
            values: e
                .0
                .values
                .into_iter()
                .map(|(k, v)| (k.name().to_string(), Number(v, None)))
                .collect(),
        }
    }
}

impl EntityName {
    fn from_wire_owned(name: Option<String>) -> EntityName {
        match name {
            None => EntityName::Default,
            Some(s) => EntityName::Named(s),
        }
    }
}

/// The on-disk format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML (also reads JSON, which is YAML).
    Yaml,
    /// JSON.
    Json,
}

impl Format {
    /// Picks the format from a file name: `.json` is JSON, anything else YAML.
    pub fn from_path(path: &str) -> Format {
        if path.to_ascii_lowercase().ends_with(".json") {
            Format::Json
        } else {
            Format::Yaml
        }
    }
}

/// A plan file error, with the position when known.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct FileError {
    /// One-line message, including `line L column C` when known.
    pub message: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
}

impl QuotaFile {
    /// Parses and validates a quota file.
    ///
    /// ```
    /// use kquota_admin::{QuotaFile, Format};
    /// let f = QuotaFile::parse("quotas:\n  - entity: {client-id: null}\n    values: {producer_byte_rate: 1024}\n", Format::Yaml).unwrap();
    /// assert_eq!(f.quotas.len(), 1);
    /// assert!(QuotaFile::parse("quotas:\n  - entity: {user: ''}\n    values: {producer_byte_rate: 1}\n", Format::Yaml).is_err());
    /// ```
    pub fn parse(text: &str, format: Format) -> Result<QuotaFile, FileError> {
        let file: QuotaFile = match format {
            Format::Json => serde_json::from_str(text).map_err(|e| FileError {
                line: Some(e.line()),
                message: e.to_string(),
            })?,
            Format::Yaml => serde_yaml_ng::from_str(text).map_err(|e| {
                let mut message = e.to_string().replace('\n', " ");
                // libyaml leaves the position out of its message at line 1 column 1 (a file
                // starting with a tab, say); add it so every error names where.
                if let Some(l) = e.location() {
                    if !message.contains(" at line ") {
                        message = format!("{message} at line {} column {}", l.line(), l.column());
                    }
                }
                FileError {
                    line: e.location().map(|l| l.line()),
                    message,
                }
            })?,
        };
        let mut seen = BTreeMap::new();
        for (i, FileEntry(eq)) in file.quotas.iter().enumerate() {
            if let Some(first) = seen.insert(&eq.entity, i) {
                let (l1, l2) = (entry_line(text, format, first), entry_line(text, format, i));
                let at = |n: usize, l: Option<usize>| match l {
                    Some(l) => format!("line {l} (entry {})", n + 1),
                    None => format!("entry {}", n + 1),
                };
                return Err(FileError {
                    line: l2,
                    message: format!(
                        "entity {} is listed twice, at {} and at {}; merge them",
                        eq.entity,
                        at(first, l1),
                        at(i, l2)
                    ),
                });
            }
        }
        Ok(file)
    }

    /// Serializes in the given format (stable order: entities sorted, keys sorted).
    pub fn to_string(&self, format: Format) -> String {
        match format {
            Format::Json => {
                let mut s = serde_json::to_string_pretty(self).expect("quota file serializes");
                s.push('\n');
                s
            }
            Format::Yaml => self.to_yaml(),
        }
    }

    /// The YAML text. Written here rather than by serde_yaml_ng, which leaves strings such as
    /// `yes`, `off` or `12:30` unquoted (they are strings in YAML 1.2) although YAML 1.1
    /// readers (PyYAML, many CI tools) take them for booleans and numbers: every name is
    /// double-quoted, and numbers that are not small integers are written in a form both
    /// versions read as a float (`1.0e+51`, not `1e51`, which YAML 1.1 reads as a string).
    fn to_yaml(&self) -> String {
        use std::fmt::Write as _;
        if self.quotas.is_empty() {
            return "quotas: []\n".to_string();
        }
        let mut out = String::from("quotas:\n");
        for FileEntry(eq) in &self.quotas {
            out.push_str("- entity:\n");
            let e = &eq.entity;
            for (field, name) in [
                ("user", &e.user),
                ("client-id", &e.client_id),
                ("ip", &e.ip),
            ] {
                let Some(name) = name else { continue };
                let value = match name.as_wire() {
                    Some(n) => yaml_quoted(n),
                    None => "null".to_string(),
                };
                let _ = writeln!(out, "    {field}: {value}");
            }
            out.push_str("  values:\n");
            let values: BTreeMap<&str, f64> =
                eq.values.iter().map(|(k, v)| (k.name(), *v)).collect();
            for (key, v) in values {
                let _ = writeln!(out, "    {}: {}", yaml_key(key), yaml_number(v));
            }
        }
        out
    }

    /// Builds a file from a described state (what `export` writes). Entities without values
    /// are skipped; entities are sorted.
    pub fn from_state(state: &[EntityQuotas]) -> QuotaFile {
        let mut quotas: Vec<FileEntry> = state
            .iter()
            .filter(|e| !e.values.is_empty())
            .cloned()
            .map(FileEntry)
            .collect();
        quotas.sort_by(|a, b| a.0.entity.cmp(&b.0.entity));
        QuotaFile { quotas }
    }

    /// The desired state.
    pub fn entities(&self) -> Vec<EntityQuotas> {
        self.quotas.iter().map(|e| e.0.clone()).collect()
    }

    /// The desired entities, consuming the file (no copy).
    pub fn into_entities(self) -> Vec<EntityQuotas> {
        self.quotas.into_iter().map(|e| e.0).collect()
    }
}

/// What happens to one entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// The entity does not exist yet.
    Create,
    /// Some keys change.
    Update,
    /// Every key is removed (prune).
    Delete,
}

/// One key's change.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyChange {
    /// The key.
    pub key: QuotaKey,
    /// Current value, if set.
    pub old: Option<f64>,
    /// Desired value; `None` removes the key.
    pub new: Option<f64>,
}

/// The changes to one entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The entity.
    pub entity: Entity,
    /// Create, update or delete.
    pub kind: ChangeKind,
    /// Key changes, sorted by key.
    pub keys: Vec<KeyChange>,
}

/// The difference between the cluster and a quota file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// Changes, sorted by entity. Empty when the cluster already matches.
    pub changes: Vec<Change>,
}

impl Plan {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// One alteration per changed entity (never the same entity twice in a request).
    pub fn alterations(&self) -> Vec<Alteration> {
        self.changes
            .iter()
            .map(|c| Alteration {
                entity: c.entity.clone(),
                ops: c
                    .keys
                    .iter()
                    .map(|k| match k.new {
                        Some(v) => Op::Set(k.key.clone(), v),
                        None => Op::Remove(k.key.clone()),
                    })
                    .collect(),
            })
            .collect()
    }
}

impl fmt::Display for Plan {
    /// Terraform-like text: `+` create, `~` update, `-` delete, one key per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            return writeln!(f, "No changes. The cluster matches the file.");
        }
        let (mut c, mut u, mut d) = (0, 0, 0);
        for ch in &self.changes {
            let sym = match ch.kind {
                ChangeKind::Create => {
                    c += 1;
                    '+'
                }
                ChangeKind::Update => {
                    u += 1;
                    '~'
                }
                ChangeKind::Delete => {
                    d += 1;
                    '-'
                }
            };
            writeln!(f, "{sym} {}", ch.entity)?;
            for k in &ch.keys {
                match (k.old, k.new) {
                    (None, Some(n)) => writeln!(f, "    + {} = {}", k.key, fmt_num(n))?,
                    (Some(o), None) => writeln!(f, "    - {} = {}", k.key, fmt_num(o))?,
                    (Some(o), Some(n)) => {
                        writeln!(f, "    ~ {} = {} -> {}", k.key, fmt_num(o), fmt_num(n))?
                    }
                    (None, None) => {}
                }
            }
        }
        writeln!(f, "Plan: {c} to create, {u} to update, {d} to delete.")
    }
}

/// The 1-based line where entry `index` of the `quotas` list starts, from the parser's own
/// position: the text is read again up to that entry, which is refused on purpose there.
fn entry_line(text: &str, format: Format, index: usize) -> Option<usize> {
    use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
    const STOP: &str = "kquota: entry position probe";
    struct Entry;
    impl<'de> Visitor<'de> for Entry {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an entry")
        }
        fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
            Err(A::Error::custom(STOP))
        }
    }
    struct Entries(usize);
    impl<'de> Visitor<'de> for Entries {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            for _ in 0..self.0 {
                seq.next_element::<IgnoredAny>()?;
            }
            seq.next_element_seed(self)?;
            Ok(())
        }
    }
    impl<'de> DeserializeSeed<'de> for Entries {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_map(Entry)
        }
    }
    struct Top(usize);
    impl<'de> Visitor<'de> for Top {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a quota file")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
            while let Some(k) = m.next_key::<String>()? {
                if k == "quotas" {
                    return m.next_value_seed(TopSeq(self.0));
                }
                m.next_value::<IgnoredAny>()?;
            }
            Ok(())
        }
    }
    struct TopSeq(usize);
    impl<'de> DeserializeSeed<'de> for TopSeq {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(Entries(self.0))
        }
    }
    match format {
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            match serde::Deserializer::deserialize_map(&mut de, Top(index)) {
                Err(e) if e.to_string().starts_with(STOP) => Some(e.line()),
                _ => None,
            }
        }
        Format::Yaml => {
            let de = serde_yaml_ng::Deserializer::from_str(text);
            match serde::Deserializer::deserialize_map(de, Top(index)) {
                Err(e) if e.to_string().contains(STOP) => e.location().map(|l| l.line()),
                _ => None,
            }
        }
    }
}

/// A YAML double-quoted scalar that every YAML 1.1 and 1.2 reader reads back as exactly `s`:
/// `"` and `\\` escaped, and every character outside YAML's printable set, or one that YAML 1.1
/// reads as a line break (NEL, U+2028, U+2029), or a byte order mark, as an escape.
fn yaml_quoted(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        let printable = matches!(c, ' '..='~' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
            && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}');
        let _ = match c {
            '"' => out.write_str("\\\""),
            '\\' => out.write_str("\\\\"),
            '\t' => out.write_str("\\t"),
            '\n' => out.write_str("\\n"),
            '\r' => out.write_str("\\r"),
            c if printable => out.write_char(c),
            c if u32::from(c) <= 0xff => write!(out, "\\x{:02X}", u32::from(c)),
            c if u32::from(c) <= 0xffff => write!(out, "\\u{:04X}", u32::from(c)),
            c => write!(out, "\\U{:08X}", u32::from(c)),
        };
    }
    out.push('"');
    out
}

/// A mapping key: plain when it is a key name such as `producer_byte_rate` (lower-case letter
/// first, letters, digits and `_`, at least one `_`: never a boolean, number or null in any
/// YAML version), else quoted.
fn yaml_key(k: &str) -> String {
    let plain = k.starts_with(|c: char| c.is_ascii_lowercase())
        && k.contains('_')
        && k.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plain {
        k.to_string()
    } else {
        yaml_quoted(k)
    }
}

/// A quota value in YAML: an integer when whole and below 2^53, else a float with a point and
/// a signed exponent where one is needed (`12.5`, `9.223372036854776e+18`), the shortest text
/// that reads back as the same double.
fn yaml_number(v: f64) -> String {
    if is_small_whole(v) {
        return format!("{}", v as i64);
    }
    if v.fract() != 0.0 && v.abs() >= 1e-4 {
        // Display never uses an exponent; a non-whole value always shows its point.
        return format!("{v}");
    }
    let e = format!("{v:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let point = if mantissa.contains('.') { "" } else { ".0" };
    let sign = if exp.starts_with('-') { "" } else { "+" };
    format!("{mantissa}{point}e{sign}{exp}")
}

/// Formats a quota value for people: a whole number as its exact decimal value, without a
/// fraction (the double 2^63, which the broker stores for `9223372036854775808`, is
/// `9223372036854775808`, not the shortest round-trip `9223372036854776000`); other values as
/// their shortest round-trip decimal (`12.5`).
///
/// ```
/// use kquota_admin::fmt_num;
/// assert_eq!(fmt_num(1024.0), "1024");
/// assert_eq!(fmt_num(9.223372036854776e18), "9223372036854775808");
/// assert_eq!(fmt_num(12.5), "12.5");
/// ```
pub fn fmt_num(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 {
        // Fixed precision prints the exact decimal value of the double.
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// Computes the plan that makes `current` equal `desired`. Entities in `desired` are managed
/// whole; with `prune`, entities only in `current` are deleted.
///
/// ```
/// use kquota_admin::{diff, Entity, EntityName, EntityQuotas, QuotaKey};
/// let e = EntityQuotas { entity: Entity::new().with_client_id(EntityName::named("c")),
///                        values: [(QuotaKey::ProducerByteRate, 1024.0)].into_iter().collect() };
/// assert!(diff(&[e.clone()], &[e.clone()], true).is_empty());
/// assert_eq!(diff(&[], &[e], false).changes.len(), 1);
/// ```
pub fn diff(current: &[EntityQuotas], desired: &[EntityQuotas], prune: bool) -> Plan {
    let cur: BTreeMap<&Entity, &QuotaValues> = current
        .iter()
        .filter(|e| !e.values.is_empty())
        .map(|e| (&e.entity, &e.values))
        .collect();
    let want: BTreeMap<&Entity, &QuotaValues> =
        desired.iter().map(|e| (&e.entity, &e.values)).collect();
    let mut changes = Vec::new();
    let entities: BTreeSet<&Entity> = cur.keys().chain(want.keys()).copied().collect();
    let empty = QuotaValues::new();
    for entity in entities {
        let (old, new) = match (cur.get(entity), want.get(entity)) {
            (_, Some(w)) => (cur.get(entity).copied().unwrap_or(&empty), *w),
            (Some(c), None) if prune => (*c, &empty),
            _ => continue,
        };
        let keys: BTreeSet<&QuotaKey> = old.keys().chain(new.keys()).collect();
        let key_changes: Vec<KeyChange> = keys
            .into_iter()
            .filter_map(|k| {
                let (o, n) = (old.get(k).copied(), new.get(k).copied());
                (o != n).then(|| KeyChange {
                    key: k.clone(),
                    old: o,
                    new: n,
                })
            })
            .collect();
        if key_changes.is_empty() {
            continue;
        }
        let kind = if old.is_empty() {
            ChangeKind::Create
        } else if new.is_empty() {
            ChangeKind::Delete
        } else {
            ChangeKind::Update
        };
        changes.push(Change {
            entity: entity.clone(),
            kind,
            keys: key_changes,
        });
    }
    Plan { changes }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fmt_num_prints_whole_doubles_exactly() {
        use super::fmt_num;
        for (v, s) in [
            (1.0, "1"),
            (1024.0, "1024"),
            (1e15, "1000000000000000"),
            (9.223372036854776e18, "9223372036854775808"),
            (1.2345678901234568e17, "123456789012345680"),
            (1e20, "100000000000000000000"),
            (2f64.powi(127), "170141183460469231731687303715884105728"),
            (2f64.powi(130), "1361129467683753853853498429727072845824"),
            (-3.0, "-3"),
            (12.5, "12.5"),
            (0.001, "0.001"),
        ] {
            assert_eq!(fmt_num(v), s, "{v:e}");
        }
    }

    use super::*;

    const SAMPLE: &str = r#"quotas:
  - entity: { user: "arn:aws:sts::111111111111:assumed-role/Topic-B-Write-Role/producerapp-1-role-session", client-id: producerapp-1-client-id }
    values: { producer_byte_rate: 1024 }
  - entity: { user: null }
    values: { consumer_byte_rate: 1048576, request_percentage: 12.5 }
  - entity: { user: "<default>" }
    values: { controller_mutation_rate: 0.5 }
  - entity: { ip: null }
    values: { connection_creation_rate: 10 }
"#;

    #[test]
    fn parse_yaml_defaults_vs_literal() {
        let f = QuotaFile::parse(SAMPLE, Format::Yaml).unwrap();
        let es = f.entities();
        assert_eq!(es.len(), 4);
        assert_eq!(
            es[0].entity.user,
            Some(EntityName::named(
                "arn:aws:sts::111111111111:assumed-role/Topic-B-Write-Role/producerapp-1-role-session"
            ))
        );
        assert_eq!(es[1].entity.user, Some(EntityName::Default));
        assert_eq!(es[2].entity.user, Some(EntityName::named("<default>")));
        assert_eq!(es[3].entity.ip, Some(EntityName::Default));
    }

    #[test]
    fn round_trip_yaml_and_json() {
        let f = QuotaFile::parse(SAMPLE, Format::Yaml).unwrap();
        let sorted = QuotaFile::from_state(&f.entities());
        for fmt in [Format::Yaml, Format::Json] {
            let text = sorted.to_string(fmt);
            let back = QuotaFile::parse(&text, fmt).unwrap();
            assert_eq!(back, sorted, "{text}");
        }
        let json = sorted.to_string(Format::Json);
        assert!(json.contains("\"user\": null"), "{json}");
        assert!(json.contains("\"producer_byte_rate\": 1024"), "{json}");
    }

    #[test]
    fn a_key_given_twice_in_one_entry_is_an_error_with_its_line() {
        let yaml = "quotas:\n  - entity: { user: alice }\n    values:\n      producer_byte_rate: 1\n      producer_byte_rate: 2\n";
        let e = QuotaFile::parse(yaml, Format::Yaml).unwrap_err();
        assert!(
            e.message.contains("`producer_byte_rate` is given twice"),
            "{}",
            e.message
        );
        assert!(e.line.is_some_and(|l| l >= 3), "{e:?}");
        let json = "{\"quotas\": [{\"entity\": {\"user\": \"alice\"},\n \"values\": {\"producer_byte_rate\": 1, \"producer_byte_rate\": 2}}]}";
        let e = QuotaFile::parse(json, Format::Json).unwrap_err();
        assert!(e.message.contains("given twice"), "{}", e.message);
        assert_eq!(e.line, Some(2), "{e:?}");
    }

    #[test]
    fn errors_have_line_numbers() {
        let bad = "quotas:\n  - entity: { user: alice }\n    values: { producer_byte_rate: 1024 }\n  - entity: { user: bob }\n    values: { producer_byte_rate: 1.5 }\n";
        let e = QuotaFile::parse(bad, Format::Yaml).unwrap_err();
        assert_eq!(e.line, Some(4), "{}", e.message);
        assert!(
            e.message.contains("whole number") && e.message.contains("bob"),
            "{}",
            e.message
        );

        let bad = "quotas:\n  - entity: { group: x }\n    values: {}\n";
        let e = QuotaFile::parse(bad, Format::Yaml).unwrap_err();
        assert_eq!(e.line, Some(2), "{}", e.message);

        let bad = "quotas:\n  - entity: { user: a, ip: 10.0.0.1 }\n    values: { producer_byte_rate: 1 }\n";
        assert!(QuotaFile::parse(bad, Format::Yaml)
            .unwrap_err()
            .message
            .contains("ip"));

        let bad = "{\"quotas\": [{\"entity\": {\"client-id\": \"\"}, \"values\": {\"producer_byte_rate\": 1}}]}";
        let e = QuotaFile::parse(bad, Format::Json).unwrap_err();
        assert!(e.message.contains("empty"), "{}", e.message);

        let bad = "quotas:\n  - entity: { user: a }\n    values: { producer_byte_rate: lots }\n";
        assert_eq!(
            QuotaFile::parse(bad, Format::Yaml).unwrap_err().line,
            Some(3)
        );

        let dup = "quotas:\n  - entity: { user: a }\n    values: { producer_byte_rate: 1 }\n  - entity: { user: a }\n    values: { consumer_byte_rate: 1 }\n";
        assert!(QuotaFile::parse(dup, Format::Yaml)
            .unwrap_err()
            .message
            .contains("twice"));
    }

    #[test]
    fn a_tab_at_the_start_is_an_error_with_line_and_column() {
        let e = QuotaFile::parse(
            "\tquotas:\n  - entity: { user: a }\n    values: { producer_byte_rate: 1 }\n",
            Format::Yaml,
        )
        .unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.message.ends_with("at line 1 column 1"), "{}", e.message);
        // Elsewhere libyaml names the place itself: not twice.
        let e = QuotaFile::parse("quotas:\n\t- x\n", Format::Yaml).unwrap_err();
        assert_eq!(e.message.matches(" at line ").count(), 1, "{}", e.message);
    }

    #[test]
    fn integers_above_i64_are_refused_as_written() {
        for fmt in [Format::Yaml, Format::Json] {
            for (v, ok) in [
                ("9223372036854775807", true),
                ("9223372036854775808", false),
                ("9223372036854776832", false),
            ] {
                let text = match fmt {
                    Format::Yaml => format!(
                        "quotas:\n  - entity: {{ user: a }}\n    values: {{ producer_byte_rate: {v} }}\n"
                    ),
                    Format::Json => format!(
                        "{{\"quotas\": [{{\"entity\": {{\"user\": \"a\"}}, \"values\": {{\"producer_byte_rate\": {v}}}}}]}}"
                    ),
                };
                let r = QuotaFile::parse(&text, fmt);
                if ok {
                    assert!(r.is_ok(), "{v}");
                } else {
                    let e = r.unwrap_err();
                    assert!(
                        e.message.contains(&format!("'{v}' is too large")),
                        "{}",
                        e.message
                    );
                    assert!(e.line.is_some(), "{e:?}");
                }
            }
        }
        // request_percentage is a DOUBLE: no such limit.
        let big = "quotas:\n  - entity: { user: a }\n    values: { request_percentage: 9223372036854775808 }\n";
        assert!(QuotaFile::parse(big, Format::Yaml).is_ok());
    }

    /// Names that YAML 1.1 or 1.2 readers take for booleans, numbers or null when unquoted,
    /// and names with characters YAML must escape.
    pub(crate) const TRICKY_NAMES: &[&str] = &[
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "Yes",
        "NO",
        "On",
        "OFF",
        "true",
        "False",
        "null",
        "Null",
        "~",
        "1e3",
        "0x10",
        "0o17",
        "017",
        "1_000",
        "12:30",
        "+1",
        "-1",
        ".5",
        ".inf",
        "-.Inf",
        ".NaN",
        "=",
        "<<",
        "- x",
        "a: b",
        "x #y",
        " lead",
        "trail ",
        "'q'",
        "\"dq\"",
        "back\\slash",
        "tab\there",
        "nl\nhere",
        "esc\u{1b}[31m",
        "del\u{7f}",
        "nel\u{85}",
        "ls\u{2028}ps\u{2029}",
        "bom\u{feff}",
        "rtl\u{202e}",
        "é✓",
        "emoji\u{1f600}",
        "@at",
        "`tick",
        "%pct",
        "!bang",
        "&amp",
        "*star",
        "|bar",
        ">gt",
        "?q",
        "[x]",
        "{y}",
    ];

    fn tricky_file() -> QuotaFile {
        let state: Vec<EntityQuotas> = TRICKY_NAMES
            .iter()
            .map(|n| EntityQuotas {
                entity: Entity::new().with_client_id(EntityName::named(*n)),
                values: [(QuotaKey::ProducerByteRate, 1024.0)].into_iter().collect(),
            })
            .chain([EntityQuotas {
                entity: Entity::new()
                    .with_user(EntityName::Default)
                    .with_client_id(EntityName::named("off")),
                values: [
                    (QuotaKey::ProducerByteRate, 9.223372036854776e18),
                    (QuotaKey::RequestPercentage, 1e51),
                    (QuotaKey::ConsumerByteRate, 1e17),
                    (QuotaKey::ControllerMutationRate, 0.00001),
                ]
                .into_iter()
                .collect(),
            }])
            .collect();
        QuotaFile::from_state(&state)
    }

    #[test]
    fn yaml_export_quotes_every_name_and_round_trips() {
        let file = tricky_file();
        let yaml = file.to_string(Format::Yaml);
        for n in [
            "yes", "no", "on", "off", "null", "~", "1e3", "0x10", "12:30",
        ] {
            assert!(
                yaml.contains(&format!("client-id: \"{n}\"\n")),
                "{n} unquoted:\n{yaml}"
            );
        }
        assert!(yaml.contains("client-id: \"esc\\x1B[31m\"\n"), "{yaml}");
        assert!(yaml.contains("client-id: \"nel\\x85\"\n"), "{yaml}");
        assert!(yaml.contains("request_percentage: 1.0e+51\n"), "{yaml}");
        assert!(
            yaml.contains("producer_byte_rate: 9.223372036854776e+18\n"),
            "{yaml}"
        );
        assert!(
            yaml.contains("controller_mutation_rate: 1.0e-5\n"),
            "{yaml}"
        );
        assert!(yaml.contains("    user: null\n"), "{yaml}");
        assert_eq!(QuotaFile::parse(&yaml, Format::Yaml).unwrap(), file);
        let json = file.to_string(Format::Json);
        assert_eq!(QuotaFile::parse(&json, Format::Json).unwrap(), file);
        assert_eq!(
            QuotaFile { quotas: vec![] }.to_string(Format::Yaml),
            "quotas: []\n"
        );
    }

    #[test]
    fn yaml_numbers_read_back_as_the_same_double() {
        for v in [
            1.0,
            1024.0,
            12.5,
            0.001,
            1e-7,
            9007199254740992.0,
            1e17,
            1e51,
            1.5e300,
            3.25e-300,
        ] {
            let t = yaml_number(v);
            assert_eq!(t.parse::<f64>().unwrap(), v, "{t}");
            if !is_small_whole(v) {
                assert!(t.contains('.'), "{t}");
            }
        }
    }

    #[test]
    fn a_duplicate_entity_names_the_lines_of_both_entries() {
        let yaml = "quotas:\n  - entity: { client-id: a }\n    values: { producer_byte_rate: 1 }\n  - entity: { client-id: b }\n    values: { producer_byte_rate: 1 }\n  - entity:\n      client-id: a\n    values: { producer_byte_rate: 2 }\n";
        let e = QuotaFile::parse(yaml, Format::Yaml).unwrap_err();
        assert_eq!(
            e.message,
            "entity client-id='a' is listed twice, at line 2 (entry 1) and at line 6 (entry 3); merge them"
        );
        assert_eq!(e.line, Some(6));
        let json = "{\"quotas\": [\n {\"entity\": {\"client-id\": \"a\"}, \"values\": {\"producer_byte_rate\": 1}},\n\n {\"entity\": {\"client-id\": \"a\"}, \"values\": {\"producer_byte_rate\": 2}}]}";
        let e = QuotaFile::parse(json, Format::Json).unwrap_err();
        assert_eq!(
            e.message,
            "entity client-id='a' is listed twice, at line 2 (entry 1) and at line 4 (entry 2); merge them"
        );
        assert_eq!(e.line, Some(4));
    }

    #[test]
    fn integers_beyond_64_bits_are_refused_with_the_range_not_a_type_name() {
        for (v, want) in [
            (
                "18446744073709551616",
                "value '18446744073709551616' is too large (maximum 9223372036854775807)",
            ),
            (
                "340282366920938463463374607431768211455",
                "is too large (maximum 9223372036854775807)",
            ),
            (
                "-9223372036854775809",
                "value -9223372036854775809 must be greater than 0",
            ),
            (
                "-170141183460469231731687303715884105728",
                "must be greater than 0",
            ),
        ] {
            let yaml = format!(
                "quotas:\n  - entity: {{ user: a }}\n    values: {{ producer_byte_rate: {v} }}\n"
            );
            let e = QuotaFile::parse(&yaml, Format::Yaml).unwrap_err();
            assert!(e.message.contains(want), "{v}: {}", e.message);
            assert!(!e.message.contains("128"), "{v}: {}", e.message);
            assert_eq!(e.line, Some(2), "{v}: {e:?}");
        }
    }

    #[test]
    fn diff_create_update_delete_prune() {
        let a = Entity::new().with_user(EntityName::named("a"));
        let b = Entity::new().with_client_id(EntityName::Default);
        let c = Entity::new().with_user(EntityName::Default);
        let current = vec![
            EntityQuotas {
                entity: a.clone(),
                values: [
                    (QuotaKey::ProducerByteRate, 1.0),
                    (QuotaKey::ConsumerByteRate, 2.0),
                ]
                .into_iter()
                .collect(),
            },
            EntityQuotas {
                entity: c.clone(),
                values: [(QuotaKey::ProducerByteRate, 5.0)].into_iter().collect(),
            },
        ];
        let desired = vec![
            EntityQuotas {
                entity: a.clone(),
                values: [(QuotaKey::ProducerByteRate, 10.0)].into_iter().collect(),
            },
            EntityQuotas {
                entity: b.clone(),
                values: [(QuotaKey::RequestPercentage, 3.5)].into_iter().collect(),
            },
        ];
        let p = diff(&current, &desired, false);
        assert_eq!(p.changes.len(), 2);
        let pa = p.changes.iter().find(|c| c.entity == a).unwrap();
        assert_eq!(pa.kind, ChangeKind::Update);
        assert_eq!(pa.keys.len(), 2);
        let pb = p.changes.iter().find(|c| c.entity == b).unwrap();
        assert_eq!(pb.kind, ChangeKind::Create);

        let p = diff(&current, &desired, true);
        assert_eq!(p.changes.len(), 3);
        let pc = p.changes.iter().find(|ch| ch.entity == c).unwrap();
        assert_eq!(pc.kind, ChangeKind::Delete);
        let alts = p.alterations();
        assert_eq!(alts.len(), 3);
        crate::validate::validate_alterations(&alts).unwrap();
        let text = p.to_string();
        assert!(
            text.contains("Plan: 1 to create, 1 to update, 1 to delete."),
            "{text}"
        );
        assert!(text.contains("~ producer_byte_rate = 1 -> 10"), "{text}");

        // Applying the plan yields the desired state: the second diff is empty.
        assert!(diff(&desired, &desired, true).is_empty());
    }
}
