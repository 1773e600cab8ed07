//! The iteration order of a `java.util.HashMap`, so kafka-configs mode prints its lines in the
//! order Kafka's `ConfigCommand` does.
//!
//! ## What Java does (Kafka 4.1 client, OpenJDK `HashMap`)
//!
//! `DescribeClientQuotasResponse.complete` builds `new HashMap<>(entries.size())` of
//! `ClientQuotaEntity → new HashMap<>(values.size())` of key → value, putting entries in the order
//! of the response; `ConfigCommand.describeQuotaConfigs` iterates both maps. So the line order and
//! the key order within a line are hash orders:
//!
//! * `String.hashCode`: `h = 31·h + c` over the UTF-16 code units, wrapping `int`.
//! * `ClientQuotaEntity.hashCode` is `Objects.hash(entries)` = `31 + entries.hashCode()`;
//!   a `Map`'s hash is the sum of `key.hashCode() ^ value.hashCode()` (a `null` value — the
//!   default entity — hashes to 0).
//! * `new HashMap<>(n)` allocates `tableSizeFor(n)` buckets (the next power of two, at least 1)
//!   at the first put; after a put of a new key, `++size > threshold` doubles the table, where
//!   `threshold = (int)(capacity · 0.75f)` (doubled along with the table once it has ≥ 16
//!   buckets). Putting an existing key replaces its value in place.
//! * A key lives in bucket `(h ^ (h >>> 16)) & (capacity − 1)`; iteration walks the buckets in
//!   index order and each bucket's list in insertion order (resizes keep that order).
//!
//! Not reproduced: a bucket holding 8+ keys in a table of 64+ buckets becomes a red-black tree
//! whose iteration order differs; that needs deliberately colliding names.

/// Java's `String.hashCode` (over UTF-16 code units).
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// Java's `Objects.hashCode(String)`: 0 for `null`.
pub fn nullable_string_hash(s: Option<&str>) -> i32 {
    s.map(string_hash).unwrap_or(0)
}

/// `ClientQuotaEntity.hashCode()` of an entity given as (type, name) pairs, `None` = default.
pub fn client_quota_entity_hash<'a>(
    entries: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> i32 {
    let map_hash = entries.into_iter().fold(0i32, |acc, (t, n)| {
        acc.wrapping_add(string_hash(t) ^ nullable_string_hash(n))
    });
    // Objects.hash(x) = Arrays.hashCode(new Object[]{x}) = 31 * 1 + x.hashCode()
    31i32.wrapping_add(map_hash)
}

/// Java's `HashMap.tableSizeFor`: the smallest power of two ≥ `cap`, at least 1.
fn table_size_for(cap: usize) -> usize {
    cap.max(1).next_power_of_two().min(1 << 30)
}

/// A `new HashMap<>(initial_capacity)` filled by [`put`](JavaHashMap::put), iterated in Java's
/// order by [`into_ordered`](JavaHashMap::into_ordered).
///
/// For example, `new HashMap<>(2)` given `"b"` (hash 98) then `"a"` (97) grows to 4 buckets at
/// the second put and iterates `a` (bucket 1) before `b` (bucket 2).
#[derive(Debug, Clone)]
pub struct JavaHashMap<K, V> {
    /// Entries in first-insertion order with their hashes.
    entries: Vec<(K, i32, V)>,
    /// Bucket count (0 until the first put).
    capacity: usize,
    /// Resize threshold; before the first put, the initial capacity (as in Java).
    threshold: usize,
}

impl<K: PartialEq, V> JavaHashMap<K, V> {
    /// `new HashMap<>(initial_capacity)`.
    pub fn new(initial_capacity: usize) -> Self {
        JavaHashMap {
            entries: Vec::new(),
            capacity: 0,
            threshold: table_size_for(initial_capacity),
        }
    }

    /// `put(key, value)` where `hash` is `key.hashCode()`.
    pub fn put(&mut self, key: K, hash: i32, value: V) {
        if self.capacity == 0 {
            self.resize();
        }
        if let Some(e) = self.entries.iter_mut().find(|e| e.1 == hash && e.0 == key) {
            e.2 = value;
            return;
        }
        self.entries.push((key, hash, value));
        if self.entries.len() > self.threshold {
            self.resize();
        }
    }

    fn resize(&mut self) {
        let (new_cap, new_thr) = if self.capacity == 0 {
            (self.threshold, Self::load(self.threshold))
        } else if self.capacity >= 16 {
            (self.capacity * 2, self.threshold * 2)
        } else {
            (self.capacity * 2, Self::load(self.capacity * 2))
        };
        self.capacity = new_cap;
        self.threshold = new_thr;
    }

    /// `(int)(capacity * 0.75f)`; exact for powers of two.
    fn load(capacity: usize) -> usize {
        capacity * 3 / 4
    }

    /// The entries in the order Java's iterator returns them.
    pub fn into_ordered(self) -> Vec<(K, V)> {
        let mask = self.capacity.max(1) - 1;
        let bucket = |hash: i32| {
            let h = hash as u32;
            ((h ^ (h >> 16)) as usize) & mask
        };
        let mut entries = self.entries;
        // Stable: insertion order within a bucket, as HashMap's bins keep it.
        entries.sort_by_key(|e| bucket(e.1));
        entries.into_iter().map(|(k, _, v)| (k, v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hashes() {
        // Values of "…".hashCode() by the formula s[0]·31^(n−1) + … + s[n−1].
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("a"), 97);
        assert_eq!(string_hash("user"), 3599307);
        // Non-BMP characters count as two UTF-16 units: "😀" = U+D83D U+DE00.
        assert_eq!(string_hash("😀"), 0xD83D * 31 + 0xDE00);
    }

    #[test]
    fn entity_hash_includes_objects_hash_constant() {
        // {client-id=null}: 31 + ("client-id".hashCode() ^ 0)
        assert_eq!(
            client_quota_entity_hash([("client-id", None)]),
            31i32.wrapping_add(string_hash("client-id"))
        );
        // Order-independent like AbstractMap.hashCode.
        assert_eq!(
            client_quota_entity_hash([("user", Some("u")), ("client-id", Some("c"))]),
            client_quota_entity_hash([("client-id", Some("c")), ("user", Some("u"))])
        );
    }

    #[test]
    fn capacity_and_resizes() {
        // new HashMap<>(3): 4 buckets, threshold 3; the 4th put resizes to 8.
        let mut m = JavaHashMap::new(3);
        for h in [7, 3, 1] {
            m.put(h, h, ());
        }
        assert_eq!(m.capacity, 4);
        // 7 & 3 = 3, 3 & 3 = 3, 1 & 3 = 1: bucket 1 first, then bucket 3 in insertion order.
        assert_eq!(
            m.clone()
                .into_ordered()
                .iter()
                .map(|e| e.0)
                .collect::<Vec<_>>(),
            vec![1, 7, 3]
        );
        m.put(4, 4, ());
        assert_eq!(m.capacity, 8);
        // 7→7, 3→3, 1→1, 4→4
        assert_eq!(
            m.into_ordered().iter().map(|e| e.0).collect::<Vec<_>>(),
            vec![1, 3, 4, 7]
        );
        // new HashMap<>(0) and (1): one bucket, threshold 0 → 2 buckets after the first put.
        let mut m = JavaHashMap::new(0);
        m.put(1, 1, ());
        assert_eq!(m.capacity, 2);
        // 16 buckets: the threshold doubles with the table (12 → 24).
        let mut m = JavaHashMap::new(16);
        for h in 0..13 {
            m.put(h, h, ());
        }
        assert_eq!((m.capacity, m.threshold), (32, 24));
    }

    #[test]
    fn high_bits_are_spread_and_duplicates_keep_their_place() {
        // 4 buckets after the 2nd put. 0x10000 spreads to 0x10001: bucket 1, after "y" in
        // bucket 0 (unspread it would share bucket 0 and come first).
        let mut m = JavaHashMap::new(2);
        m.put("x", 0x10000, 1);
        m.put("y", 0, 2);
        m.put("x", 0x10000, 3);
        assert_eq!(m.into_ordered(), vec![("y", 2), ("x", 3)]);
    }
}
