//! The Java client's default partitioner: murmur2 for keyed records, sticky for unkeyed ones.
//!
//! Keyed records must land on the same partition as they would from a Java producer, so that
//! applications mixing kquota and Java clients keep per-key ordering. Unkeyed records stick to
//! one partition until a new batch is started, then move to another (KIP-480), which keeps
//! batches full without skewing load.

use std::collections::HashMap;

use rand::Rng;

/// Kafka's 32-bit murmur2 hash (`org.apache.kafka.common.utils.Utils.murmur2`, seed `0x9747b28c`).
///
/// ```
/// assert_eq!(kquota_client::partitioner::murmur2(b"foobar"), -790332482);
/// ```
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let length = data.len() as u32;
    let mut h: u32 = SEED ^ length;
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for chunk in chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    // Java's switch falls through from 3 to 1; mirror it.
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// `Utils.toPositive`: clears the sign bit (not `abs`, so `i32::MIN` maps to 0).
pub fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// Partition of a keyed record, as the Java `BuiltInPartitioner.partitionForKey` computes it.
///
/// ```
/// let p = kquota_client::partitioner::partition_for_key(b"order-1", 3);
/// assert!(p < 3);
/// ```
pub fn partition_for_key(key: &[u8], num_partitions: usize) -> usize {
    if num_partitions == 0 {
        return 0;
    }
    (to_positive(murmur2(key)) as usize) % num_partitions
}

/// Default partitioner: murmur2 for keyed records, sticky (KIP-480) for unkeyed ones.
///
/// ```
/// use kquota_client::partitioner::DefaultPartitioner;
/// let mut p = DefaultPartitioner::default();
/// let first = p.partition("t", None, 3);
/// assert_eq!(p.partition("t", None, 3), first); // sticks until a new batch starts
/// p.on_new_batch("t", first, 3);
/// assert_ne!(p.partition("t", None, 3), first);
/// ```
#[derive(Debug, Default)]
pub struct DefaultPartitioner {
    sticky: HashMap<String, usize>,
}

impl DefaultPartitioner {
    /// Chooses the partition for a record of `topic` with `num_partitions` partitions.
    pub fn partition(&mut self, topic: &str, key: Option<&[u8]>, num_partitions: usize) -> usize {
        if num_partitions == 0 {
            return 0;
        }
        if let Some(key) = key {
            return partition_for_key(key, num_partitions);
        }
        if let Some(&p) = self.sticky.get(topic) {
            if p < num_partitions {
                return p;
            }
        }
        let p = rand::thread_rng().gen_range(0..num_partitions);
        self.sticky.insert(topic.to_owned(), p);
        p
    }

    /// Moves the sticky partition of `topic` away from partitions for which `avoid` is true
    /// (their leader is throttling us), when there is another; KIP-794's adaptive partitioning
    /// in spirit: unkeyed records flow to brokers that take them now. Returns the partition.
    pub fn avoid(
        &mut self,
        topic: &str,
        num_partitions: usize,
        avoid: &dyn Fn(usize) -> bool,
    ) -> usize {
        let current = self.partition(topic, None, num_partitions);
        if !avoid(current) {
            return current;
        }
        let ok: Vec<usize> = (0..num_partitions).filter(|p| !avoid(*p)).collect();
        if ok.is_empty() {
            return current;
        }
        let p = ok[rand::thread_rng().gen_range(0..ok.len())];
        self.sticky.insert(topic.to_owned(), p);
        p
    }

    /// Tells the partitioner that unkeyed records of `topic` just started a new batch on
    /// `previous`: the next unkeyed record goes to a different partition (when there are several).
    pub fn on_new_batch(&mut self, topic: &str, previous: usize, num_partitions: usize) {
        if num_partitions <= 1 {
            self.sticky.insert(topic.to_owned(), 0);
            return;
        }
        match self.sticky.get(topic) {
            Some(&p) if p != previous => return,
            _ => {}
        }
        let mut next = rand::thread_rng().gen_range(0..num_partitions - 1);
        if next >= previous {
            next += 1;
        }
        self.sticky.insert(topic.to_owned(), next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values from apache/kafka
    /// `clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java` (`testMurmur2`).
    #[test]
    fn murmur2_matches_java_utils_test() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            (b"abc", 479_470_107),
        ];
        for (input, want) in cases {
            assert_eq!(murmur2(input), want, "{}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn to_positive_clears_sign_bit_like_java() {
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(-1), i32::MAX);
        assert_eq!(to_positive(5), 5);
    }

    #[test]
    fn keyed_partition_is_stable_and_in_range() {
        // "foobar": toPositive(-790332482) = 1357151166; 1357151166 % 3 = 0.
        assert_eq!(partition_for_key(b"foobar", 3), 1_357_151_166 % 3);
        let mut p = DefaultPartitioner::default();
        for i in 0..100 {
            let k = format!("k{i}");
            let a = p.partition("t", Some(k.as_bytes()), 7);
            assert_eq!(a, p.partition("t", Some(k.as_bytes()), 7));
            assert!(a < 7);
        }
    }

    #[test]
    fn sticky_moves_only_on_new_batch_and_spreads() {
        let mut p = DefaultPartitioner::default();
        let mut seen = [0usize; 3];
        let mut cur = p.partition("t", None, 3);
        for _ in 0..300 {
            assert_eq!(p.partition("t", None, 3), cur);
            p.on_new_batch("t", cur, 3);
            let next = p.partition("t", None, 3);
            assert_ne!(next, cur);
            seen[next] += 1;
            cur = next;
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
        // Avoiding throttled partitions: moves off them when another is free.
        let cur = p.partition("t", None, 3);
        let moved = p.avoid("t", 3, &|x| x == cur);
        assert_ne!(moved, cur);
        assert_eq!(p.partition("t", None, 3), moved);
        assert_eq!(p.avoid("t", 3, &|_| true), moved, "all throttled: stay");
        // A single partition topic always gets 0.
        p.on_new_batch("one", 0, 1);
        assert_eq!(p.partition("one", None, 1), 0);
    }
}
