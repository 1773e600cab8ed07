//! The iteration order of a `java.util.HashMap`, so kafka-configs mode prints its lines in the
//! order Kafka's `ConfigCommand` does.
//!
//! ## What Java does (Kafka 4.1 client, OpenJDK 17 `HashMap`)
//!
//! `DescribeClientQuotasResponse.complete` builds `new HashMap<>(entries.size())` of
//! `ClientQuotaEntity → new HashMap<>(values.size())` of key → value, putting entries in the order
//! of the response; `ConfigCommand.describeQuotaConfigs` iterates both maps. So the line order and
//! the key order within a line are hash orders:
//!
//! * `String.hashCode`: `h = 31·h + c` over the UTF-16 code units, wrapping `int`.
//! * `ClientQuotaEntity.hashCode` is `Objects.hash(entries)` = `31 + entries.hashCode()`;
//!   a `Map`'s hash is the sum of `key.hashCode() ^ value.hashCode()` (a `null` value — the
//!   default entity — hashes to 0). Structured names collide a lot under this sum of xors: the
//!   entities `{user=bench-user-N, client-id=bench-client-N}` for N < 1000 have only 212
//!   distinct hashes.
//! * A node keeps the spread hash `h ^ (h >>> 16)`; it lives in bucket `spread & (capacity − 1)`.
//! * `new HashMap<>(n)` allocates `tableSizeFor(n)` buckets (the next power of two, at least 1)
//!   at the first put; after a put of a new key, `++size > threshold` doubles the table, where
//!   `threshold = (int)(capacity · 0.75f)` (doubled along with the table once it has ≥ 16
//!   buckets). Putting an existing key replaces its value in place.
//! * A bucket is a singly linked `next` list; iteration walks the buckets in index order and
//!   each bucket's `next` list. A new key is appended to its list. When the list it was appended
//!   to had 8 nodes already (the 9th node, `TREEIFY_THRESHOLD`), the bucket becomes a red-black
//!   tree (`treeifyBin`) — unless the table has fewer than 64 buckets
//!   (`MIN_TREEIFY_CAPACITY`): then the table doubles instead.
//! * A tree bin keeps its `next` list, which is still what iteration follows, and rearranges it
//!   in two ways: the tree's root is moved to the head of the list after every treeify and
//!   insert (`moveRootToFront`), and a key inserted into a tree is linked right after its tree
//!   parent (`putTreeVal`), not at the end. The tree is ordered by spread hash (signed); equal
//!   hashes by `compareTo` when the key's class is `Comparable` to itself (`String`), and when
//!   that does not decide, by `tieBreakOrder`: class name, then `System.identityHashCode`.
//!   Insertions rebalance with the textbook red-black rotations (`balanceInsertion`).
//! * Doubling the table splits every bucket into the keys that stay (hash bit `capacity` clear)
//!   and those that move up by `capacity`, each half keeping its `next` order. A tree bin's half
//!   of at most 6 nodes (`UNTREEIFY_THRESHOLD`) becomes a plain list; a larger half is treeified
//!   afresh (moving its new root to the front) when the other half is not empty, and stays the
//!   same tree when it is (`TreeNode.split`).
//!
//! All of this is reproduced, with one exception that Java cannot reproduce either:
//! `ClientQuotaEntity` is not `Comparable`, so two entities of exactly equal hashes that meet in
//! a tree are ordered by their identity hashes, which differ from one JVM to the next (thread
//! and processor counts, earlier identity hashes: the same `kafka-configs.sh` can print such
//! lines in different orders on different machines). We order them as the JVM does when both
//! identity hashes are equal: the key being inserted goes left (what `java
//! -XX:+UnlockExperimentalVMOptions -XX:hashCode=2`, every identity hash 1, prints). Entities
//! whose hashes differ, and `String` keys, are ordered exactly.
//!
//! The unit tests replay sequences of puts recorded from OpenJDK 17 by
//! `testdata/javamap/HashMapOrder.java` (`testdata/javamap/hashmap-order.txt`).

use std::cmp::Ordering;

use kquota_admin::Entity;

/// A list this long (before the append) turns into a tree (`TREEIFY_THRESHOLD`).
const TREEIFY_THRESHOLD: usize = 8;
/// A split half this short turns back into a list (`UNTREEIFY_THRESHOLD`).
const UNTREEIFY_THRESHOLD: usize = 6;
/// Below this many buckets, a long list doubles the table instead (`MIN_TREEIFY_CAPACITY`).
const MIN_TREEIFY_CAPACITY: usize = 64;
/// `MAXIMUM_CAPACITY`.
const MAXIMUM_CAPACITY: usize = 1 << 30;

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
    cap.max(1).next_power_of_two().min(MAXIMUM_CAPACITY)
}

/// `HashMap.hash`: the key's hash with its high half folded into the low half.
fn spread(h: i32) -> i32 {
    h ^ ((h as u32) >> 16) as i32
}

/// A key as a tree bin sees it when two hashes are equal.
pub trait JavaKey: PartialEq {
    /// `compareTo` when the key's Java class implements `Comparable` of itself
    /// (`HashMap.comparableClassFor`), `None` when it does not.
    fn compare_to(&self, other: &Self) -> Option<Ordering>;
}

/// `String.compareTo`: UTF-16 code units, then length (not the UTF-8 order of `str`'s `Ord`).
impl JavaKey for str {
    fn compare_to(&self, other: &Self) -> Option<Ordering> {
        Some(self.encode_utf16().cmp(other.encode_utf16()))
    }
}

impl JavaKey for String {
    fn compare_to(&self, other: &Self) -> Option<Ordering> {
        self.as_str().compare_to(other.as_str())
    }
}

/// `Integer.compareTo`.
impl JavaKey for i32 {
    fn compare_to(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `ClientQuotaEntity` is not `Comparable`.
impl JavaKey for Entity {
    fn compare_to(&self, _: &Self) -> Option<Ordering> {
        None
    }
}

impl<T: JavaKey + ?Sized> JavaKey for &T {
    fn compare_to(&self, other: &Self) -> Option<Ordering> {
        (**self).compare_to(*other)
    }
}

/// A node index in [`JavaHashMap::nodes`] (u32 keeps a node small; a map never holds 2³² keys).
type Link = Option<u32>;

/// `HashMap.Node`, and `TreeNode` while `tree` is set.
#[derive(Debug, Clone)]
struct Node<K, V> {
    key: K,
    value: V,
    /// The spread hash.
    hash: i32,
    /// The bucket's list, which iteration follows.
    next: Link,
    /// A `TreeNode`: the fields below are in use.
    tree: bool,
    red: bool,
    /// The previous node of the list (kept so that a node can be unlinked from it).
    prev: Link,
    parent: Link,
    left: Link,
    right: Link,
}

/// Which child of a tree node a key being inserted goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Left,
    Right,
}

/// Where unequal keys of equal hashes that are not `Comparable` go: Java decides by identity
/// hashes, which no one can reproduce; `Left` is its choice when they are equal (see the module
/// doc).
const TIE_SIDE: Side = Side::Left;

/// A `new HashMap<>(initial_capacity)` filled by [`put`](JavaHashMap::put), iterated in Java's
/// order by [`into_ordered`](JavaHashMap::into_ordered).
///
/// For example, `new HashMap<>(2)` given `"b"` (hash 98) then `"a"` (97) grows to 4 buckets at
/// the second put and iterates `a` (bucket 1) before `b` (bucket 2).
#[derive(Debug, Clone)]
pub struct JavaHashMap<K, V> {
    /// Every node, in insertion order; the links between them are indices into this.
    nodes: Vec<Node<K, V>>,
    /// The head of each bucket's list (a tree bin's root); empty until the first put.
    table: Vec<Link>,
    /// Resize threshold; before the first put, the initial capacity (as in Java).
    threshold: usize,
}

impl<K: JavaKey, V> JavaHashMap<K, V> {
    /// `new HashMap<>(initial_capacity)`.
    pub fn new(initial_capacity: usize) -> Self {
        JavaHashMap {
            nodes: Vec::new(),
            table: Vec::new(),
            threshold: table_size_for(initial_capacity),
        }
    }

    /// `put(key, value)` where `hash` is `key.hashCode()` (`putVal`).
    pub fn put(&mut self, key: K, hash: i32, value: V) {
        let hash = spread(hash);
        if self.table.is_empty() {
            self.resize();
        }
        let i = self.bucket(hash);
        let Some(first) = self.table[i] else {
            let x = self.push_node(key, hash, value);
            self.table[i] = Some(x);
            self.count_new_key();
            return;
        };
        if self.n(first).tree {
            if let Some(e) = self.tree_find(Some(self.root_of(first)), hash, &key) {
                self.n_mut(e).value = value;
                return;
            }
            let x = self.push_node(key, hash, value);
            self.tree_insert(first, x);
        } else {
            // Walk to the tail, replacing the value if the key is there.
            let mut p = first;
            let mut bin_count = 0;
            loop {
                let node = self.n(p);
                if node.hash == hash && node.key == key {
                    self.n_mut(p).value = value;
                    return;
                }
                match node.next {
                    Some(e) => {
                        p = e;
                        bin_count += 1;
                    }
                    None => break,
                }
            }
            let x = self.push_node(key, hash, value);
            self.n_mut(p).next = Some(x);
            // `bin_count` + 1 nodes were there before this one.
            if bin_count + 1 >= TREEIFY_THRESHOLD {
                self.treeify_bin(hash);
            }
        }
        self.count_new_key();
    }

    /// The entries in the order Java's iterator returns them: bucket by bucket, each along its
    /// `next` list.
    pub fn into_ordered(self) -> Vec<(K, V)> {
        let mut order = Vec::with_capacity(self.nodes.len());
        for &head in &self.table {
            let mut e = head;
            while let Some(x) = e {
                order.push(x);
                e = self.n(x).next;
            }
        }
        let mut slots: Vec<Option<(K, V)>> = self
            .nodes
            .into_iter()
            .map(|n| Some((n.key, n.value)))
            .collect();
        order
            .into_iter()
            .filter_map(|x| slots[x as usize].take())
            .collect()
    }

    fn n(&self, x: u32) -> &Node<K, V> {
        &self.nodes[x as usize]
    }

    fn n_mut(&mut self, x: u32) -> &mut Node<K, V> {
        &mut self.nodes[x as usize]
    }

    fn bucket(&self, hash: i32) -> usize {
        (hash as u32 as usize) & (self.table.len() - 1)
    }

    /// A new plain node, linked to nothing yet.
    fn push_node(&mut self, key: K, hash: i32, value: V) -> u32 {
        let x = u32::try_from(self.nodes.len()).expect("fewer than 2^32 keys");
        self.nodes.push(Node {
            key,
            value,
            hash,
            next: None,
            tree: false,
            red: false,
            prev: None,
            parent: None,
            left: None,
            right: None,
        });
        x
    }

    /// `++size > threshold`: a new key may double the table.
    fn count_new_key(&mut self) {
        if self.nodes.len() > self.threshold {
            self.resize();
        }
    }

    /// Allocates the table at the first put, else doubles it, splitting every bucket into the
    /// keys that stay and those that move up by the old capacity (`resize`).
    fn resize(&mut self) {
        let old_cap = self.table.len();
        if old_cap >= MAXIMUM_CAPACITY {
            self.threshold = i32::MAX as usize;
            return;
        }
        let (new_cap, new_thr) = if old_cap == 0 {
            // The initial capacity was kept in `threshold`.
            (self.threshold, Self::load(self.threshold))
        } else if old_cap >= 16 && old_cap * 2 < MAXIMUM_CAPACITY {
            (old_cap * 2, self.threshold * 2)
        } else {
            (old_cap * 2, Self::load(old_cap * 2))
        };
        self.threshold = new_thr;
        let old = std::mem::replace(&mut self.table, vec![None; new_cap]);
        for (j, head) in old.into_iter().enumerate() {
            let Some(e) = head else { continue };
            if self.n(e).next.is_none() {
                let i = self.bucket(self.n(e).hash);
                self.table[i] = Some(e);
            } else if self.n(e).tree {
                self.split(e, j, old_cap);
            } else {
                let (lo, hi) = self.split_list(e, old_cap);
                self.table[j] = lo.head;
                self.table[j + old_cap] = hi.head;
            }
        }
    }

    /// `(int)(capacity * 0.75f)`; exact for powers of two.
    fn load(capacity: usize) -> usize {
        if capacity >= MAXIMUM_CAPACITY {
            i32::MAX as usize
        } else {
            capacity * 3 / 4
        }
    }

    /// Splits the list from `head` by hash bit `bit` into two lists keeping their order; `prev`
    /// is relinked too, for tree bins.
    fn split_list(&mut self, head: u32, bit: usize) -> (Half, Half) {
        let (mut lo, mut hi) = (Half::default(), Half::default());
        let mut e = Some(head);
        while let Some(x) = e {
            e = self.n(x).next;
            self.n_mut(x).next = None;
            let half = if (self.n(x).hash as u32 as usize) & bit == 0 {
                &mut lo
            } else {
                &mut hi
            };
            let tail = half.tail;
            match tail {
                None => half.head = Some(x),
                Some(t) => self.nodes[t as usize].next = Some(x),
            }
            half.tail = Some(x);
            half.len += 1;
            self.n_mut(x).prev = tail;
        }
        (lo, hi)
    }

    /// A tree bin at old index `index` split by a resize (`TreeNode.split`): each half of at
    /// most [`UNTREEIFY_THRESHOLD`] nodes becomes a list; a larger one is treeified afresh if
    /// the other half is not empty, else it is the same tree (same nodes, same links).
    fn split(&mut self, head: u32, index: usize, bit: usize) {
        let (lo, hi) = self.split_list(head, bit);
        for (half, other, at) in [(&lo, &hi, index), (&hi, &lo, index + bit)] {
            let Some(h) = half.head else { continue };
            // Set first: treeify moves the root to the front of this bucket.
            self.table[at] = Some(h);
            if half.len <= UNTREEIFY_THRESHOLD {
                self.untreeify(h);
            } else if other.head.is_some() {
                self.treeify(h);
            }
        }
    }

    /// The list from `head` as plain nodes (`untreeify`); its order does not change.
    fn untreeify(&mut self, head: u32) {
        let mut e = Some(head);
        while let Some(x) = e {
            let n = self.n_mut(x);
            n.tree = false;
            n.red = false;
            n.prev = None;
            n.parent = None;
            n.left = None;
            n.right = None;
            e = n.next;
        }
    }

    /// The list of `hash`'s bucket, just grown to 9+ nodes, becomes a tree; in a table of fewer
    /// than [`MIN_TREEIFY_CAPACITY`] buckets the table doubles instead (`treeifyBin`).
    fn treeify_bin(&mut self, hash: i32) {
        if self.table.len() < MIN_TREEIFY_CAPACITY {
            self.resize();
            return;
        }
        let Some(head) = self.table[self.bucket(hash)] else {
            return;
        };
        let mut prev = None;
        let mut e = Some(head);
        while let Some(x) = e {
            let n = self.n_mut(x);
            n.tree = true;
            n.prev = prev;
            prev = Some(x);
            e = n.next;
        }
        self.treeify(head);
    }

    /// Builds a red-black tree of the tree nodes listed from `head`, inserting them in list
    /// order, then moves its root to the front of the list (`TreeNode.treeify`).
    fn treeify(&mut self, head: u32) {
        let mut root: Option<u32> = None;
        let mut e = Some(head);
        while let Some(x) = e {
            e = self.n(x).next;
            let n = self.n_mut(x);
            n.left = None;
            n.right = None;
            let Some(r) = root else {
                n.parent = None;
                n.red = false;
                root = Some(x);
                continue;
            };
            let p = self.descend(r, x);
            self.attach(p.0, p.1, x);
            root = Some(self.balance_insertion(r, x));
        }
        if let Some(r) = root {
            self.move_root_to_front(r);
        }
    }

    /// Inserts the new node `x` into the tree bin whose list starts at `head` (`putTreeVal`,
    /// the key known to be absent): as a leaf, linked into the list right after its parent.
    fn tree_insert(&mut self, head: u32, x: u32) {
        let root = self.root_of(head);
        let (p, side) = self.descend(root, x);
        self.attach(p, side, x);
        let after = self.n(p).next;
        self.n_mut(p).next = Some(x);
        let n = self.n_mut(x);
        n.tree = true;
        n.prev = Some(p);
        n.next = after;
        if let Some(a) = after {
            self.n_mut(a).prev = Some(x);
        }
        let root = self.balance_insertion(root, x);
        self.move_root_to_front(root);
    }

    /// The leaf position for node `x` in the tree from `root`: its parent and side.
    fn descend(&self, root: u32, x: u32) -> (u32, Side) {
        let mut p = root;
        loop {
            let side = self.side_of(x, p);
            let child = match side {
                Side::Left => self.n(p).left,
                Side::Right => self.n(p).right,
            };
            match child {
                Some(c) => p = c,
                None => return (p, side),
            }
        }
    }

    /// Which side of `p` node `x` goes: by spread hash (signed, as Java compares `int`s), then
    /// `compareTo` of `Comparable` keys, then [`TIE_SIDE`].
    fn side_of(&self, x: u32, p: u32) -> Side {
        let (xn, pn) = (self.n(x), self.n(p));
        let order = match xn.hash.cmp(&pn.hash) {
            Ordering::Equal => xn.key.compare_to(&pn.key).unwrap_or(Ordering::Equal),
            o => o,
        };
        match order {
            Ordering::Less => Side::Left,
            Ordering::Greater => Side::Right,
            Ordering::Equal => TIE_SIDE,
        }
    }

    /// Makes `x` the `side` child of `p`.
    fn attach(&mut self, p: u32, side: Side, x: u32) {
        self.n_mut(x).parent = Some(p);
        match side {
            Side::Left => self.n_mut(p).left = Some(x),
            Side::Right => self.n_mut(p).right = Some(x),
        }
    }

    fn root_of(&self, mut x: u32) -> u32 {
        while let Some(p) = self.n(x).parent {
            x = p;
        }
        x
    }

    /// The node of `key` in the subtree at `p` (`TreeNode.find`). Hashes order the tree, but
    /// equal hashes can sit on either side of each other, so both subtrees of an equal-hash node
    /// are searched.
    fn tree_find(&self, mut p: Link, hash: i32, key: &K) -> Link {
        while let Some(x) = p {
            let n = self.n(x);
            match n.hash.cmp(&hash) {
                Ordering::Greater => p = n.left,
                Ordering::Less => p = n.right,
                Ordering::Equal => {
                    if n.key == *key {
                        return Some(x);
                    }
                    if let Some(found) = self.tree_find(n.right, hash, key) {
                        return Some(found);
                    }
                    p = n.left;
                }
            }
        }
        None
    }

    fn red(&self, x: Link) -> bool {
        x.is_some_and(|x| self.n(x).red)
    }

    /// Restores the red-black properties after inserting the leaf `x` (`balanceInsertion`):
    /// `x` starts red; while its parent is red too, either recolour (red uncle) and continue
    /// from the grandparent, or rotate (black uncle). Returns the root.
    fn balance_insertion(&mut self, mut root: u32, mut x: u32) -> u32 {
        self.n_mut(x).red = true;
        loop {
            let Some(xp) = self.n(x).parent else {
                self.n_mut(x).red = false;
                return x;
            };
            if !self.n(xp).red {
                return root;
            }
            let Some(xpp) = self.n(xp).parent else {
                return root;
            };
            // The parent's side of the grandparent, and the uncle on the other side.
            let parent_side = if self.n(xpp).left == Some(xp) {
                Side::Left
            } else {
                Side::Right
            };
            let uncle = match parent_side {
                Side::Left => self.n(xpp).right,
                Side::Right => self.n(xpp).left,
            };
            if let Some(u) = uncle.filter(|&u| self.red(Some(u))) {
                self.n_mut(u).red = false;
                self.n_mut(xp).red = false;
                self.n_mut(xpp).red = true;
                x = xpp;
                continue;
            }
            // Black uncle. If x is an inner grandchild, rotate it outward first (x becomes
            // the old parent).
            let inner = match parent_side {
                Side::Left => self.n(xp).right == Some(x),
                Side::Right => self.n(xp).left == Some(x),
            };
            let parent = xp;
            let (mut xp, mut xpp) = (Some(xp), Some(xpp));
            if inner {
                x = parent;
                root = match parent_side {
                    Side::Left => self.rotate_left(root, x),
                    Side::Right => self.rotate_right(root, x),
                };
                xp = self.n(x).parent;
                xpp = xp.and_then(|p| self.n(p).parent);
            }
            // Then rotate the grandparent the other way, the parent taking its place.
            if let Some(xp) = xp {
                self.n_mut(xp).red = false;
                if let Some(xpp) = xpp {
                    self.n_mut(xpp).red = true;
                    root = match parent_side {
                        Side::Left => self.rotate_right(root, xpp),
                        Side::Right => self.rotate_left(root, xpp),
                    };
                }
            }
        }
    }

    /// Rotates `p` down to the left, its right child taking its place; a new root is black.
    fn rotate_left(&mut self, mut root: u32, p: u32) -> u32 {
        let Some(r) = self.n(p).right else {
            return root;
        };
        let rl = self.n(r).left;
        self.n_mut(p).right = rl;
        if let Some(rl) = rl {
            self.n_mut(rl).parent = Some(p);
        }
        let pp = self.n(p).parent;
        self.n_mut(r).parent = pp;
        match pp {
            None => {
                root = r;
                self.n_mut(r).red = false;
            }
            Some(pp) if self.n(pp).left == Some(p) => self.n_mut(pp).left = Some(r),
            Some(pp) => self.n_mut(pp).right = Some(r),
        }
        self.n_mut(r).left = Some(p);
        self.n_mut(p).parent = Some(r);
        root
    }

    /// Rotates `p` down to the right, its left child taking its place; a new root is black.
    fn rotate_right(&mut self, mut root: u32, p: u32) -> u32 {
        let Some(l) = self.n(p).left else {
            return root;
        };
        let lr = self.n(l).right;
        self.n_mut(p).left = lr;
        if let Some(lr) = lr {
            self.n_mut(lr).parent = Some(p);
        }
        let pp = self.n(p).parent;
        self.n_mut(l).parent = pp;
        match pp {
            None => {
                root = l;
                self.n_mut(l).red = false;
            }
            Some(pp) if self.n(pp).right == Some(p) => self.n_mut(pp).right = Some(l),
            Some(pp) => self.n_mut(pp).left = Some(l),
        }
        self.n_mut(l).right = Some(p);
        self.n_mut(p).parent = Some(l);
        root
    }

    /// Makes the tree's root the head of its bucket's list, unlinking it from where it was
    /// (`moveRootToFront`). This is what reorders a tree bin's iteration most.
    fn move_root_to_front(&mut self, root: u32) {
        let i = self.bucket(self.n(root).hash);
        let first = self.table[i];
        if first == Some(root) {
            return;
        }
        self.table[i] = Some(root);
        let (rp, rn) = (self.n(root).prev, self.n(root).next);
        if let Some(rn) = rn {
            self.n_mut(rn).prev = rp;
        }
        if let Some(rp) = rp {
            self.n_mut(rp).next = rn;
        }
        if let Some(f) = first {
            self.n_mut(f).prev = Some(root);
        }
        let n = self.n_mut(root);
        n.next = first;
        n.prev = None;
    }
}

/// One half of a split bucket.
#[derive(Debug, Default)]
struct Half {
    head: Link,
    tail: Link,
    len: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    impl<K: JavaKey, V> JavaHashMap<K, V> {
        fn capacity(&self) -> usize {
            self.table.len()
        }

        /// The buckets that are trees (whose head is a tree node).
        fn tree_bins(&self) -> Vec<usize> {
            (0..self.table.len())
                .filter(|&i| self.table[i].is_some_and(|x| self.n(x).tree))
                .collect()
        }
    }

    fn keys<K: Clone + JavaKey, V: Clone>(m: &JavaHashMap<K, V>) -> Vec<K> {
        m.clone().into_ordered().into_iter().map(|e| e.0).collect()
    }

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
    fn string_compare_to_is_utf16_order() {
        // U+FF61 sorts after U+1F600 in UTF-8 (and code points) but before it in UTF-16, whose
        // surrogates are 0xD83D 0xDE00.
        assert_eq!("😀".compare_to("\u{ff61}"), Some(Ordering::Less));
        assert_eq!("ab".compare_to("abc"), Some(Ordering::Less));
        assert_eq!("b".compare_to("abc"), Some(Ordering::Greater));
    }

    #[test]
    fn capacity_and_resizes() {
        // new HashMap<>(3): 4 buckets, threshold 3; the 4th put resizes to 8.
        let mut m = JavaHashMap::new(3);
        for h in [7, 3, 1] {
            m.put(h, h, ());
        }
        assert_eq!(m.capacity(), 4);
        // 7 & 3 = 3, 3 & 3 = 3, 1 & 3 = 1: bucket 1 first, then bucket 3 in insertion order.
        assert_eq!(keys(&m), vec![1, 7, 3]);
        m.put(4, 4, ());
        assert_eq!(m.capacity(), 8);
        // 7→7, 3→3, 1→1, 4→4
        assert_eq!(keys(&m), vec![1, 3, 4, 7]);
        // new HashMap<>(0) and (1): one bucket, threshold 0 → 2 buckets after the first put.
        let mut m = JavaHashMap::new(0);
        m.put(1, 1, ());
        assert_eq!(m.capacity(), 2);
        // 16 buckets: the threshold doubles with the table (12 → 24).
        let mut m = JavaHashMap::new(16);
        for h in 0..13 {
            m.put(h, h, ());
        }
        assert_eq!((m.capacity(), m.threshold), (32, 24));
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

    #[test]
    fn a_key_put_again_into_a_tree_keeps_its_place_and_takes_the_new_value() {
        // Hashes (k << 16) | 5 spread to bucket 5 with high half k: one tree bin in 64 buckets.
        let hash = |k: i32| (k << 16) | (k ^ 5);
        let mut m = JavaHashMap::new(64);
        for k in 1..=20 {
            m.put(k, hash(k), k);
        }
        assert_eq!(m.tree_bins(), vec![5]);
        let before = keys(&m);
        m.put(7, hash(7), 700);
        assert_eq!(m.nodes.len(), 20);
        let after = m.into_ordered();
        assert_eq!(after.iter().map(|e| e.0).collect::<Vec<_>>(), before);
        assert!(after.contains(&(7, 700)));
    }

    /// A key of the recorded vectors.
    #[derive(Debug, Clone, PartialEq)]
    enum Key {
        /// An `Integer`.
        Int(i32),
        /// A `String`.
        Str(String),
        /// A key that is not `Comparable`: its token `ID/HASH`.
        Tie(String),
        /// `{user=bench-user-N, client-id=bench-client-N}`, not `Comparable`.
        Entity(u32),
    }

    impl JavaKey for Key {
        fn compare_to(&self, other: &Self) -> Option<Ordering> {
            match (self, other) {
                (Key::Int(a), Key::Int(b)) => a.compare_to(b),
                (Key::Str(a), Key::Str(b)) => a.compare_to(b),
                _ => None,
            }
        }
    }

    impl Key {
        fn parse(kind: &str, token: &str) -> (Key, i32) {
            match kind {
                "int" => {
                    let v: i32 = token.parse().unwrap();
                    (Key::Int(v), v)
                }
                "string" => (Key::Str(token.to_string()), string_hash(token)),
                "tie" => {
                    let (_, hash) = token.split_once('/').unwrap();
                    (Key::Tie(token.to_string()), hash.parse().unwrap())
                }
                "entity" => {
                    let n: u32 = token.parse().unwrap();
                    let (user, client) = (format!("bench-user-{n}"), format!("bench-client-{n}"));
                    let hash = client_quota_entity_hash([
                        ("user", Some(user.as_str())),
                        ("client-id", Some(client.as_str())),
                    ]);
                    (Key::Entity(n), hash)
                }
                other => panic!("key kind {other}"),
            }
        }

        fn token(&self) -> String {
            match self {
                Key::Int(v) => v.to_string(),
                Key::Str(s) | Key::Tie(s) => s.clone(),
                Key::Entity(n) => n.to_string(),
            }
        }
    }

    /// Replays testdata/javamap/hashmap-order.txt: puts recorded from OpenJDK 17's HashMap
    /// (testdata/javamap/HashMapOrder.java, whose header says how to regenerate it), checking
    /// capacity, tree bins and iteration order wherever Java printed them.
    #[test]
    fn replays_openjdk_17_hashmap_orders() {
        let text = include_str!("../../../testdata/javamap/hashmap-order.txt");
        let mut lines = text.lines();
        let (mut scenarios, mut checks) = (0, 0);
        while let Some(line) = lines.next() {
            let head: Vec<&str> = line.split(' ').collect();
            assert_eq!(head[0], "scenario", "{line}");
            let name = head[1];
            let initial: usize = head[2].strip_prefix("initial=").unwrap().parse().unwrap();
            let kind = head[3].strip_prefix("keys=").unwrap();
            let puts: Vec<(Key, i32)> = lines
                .next()
                .unwrap()
                .strip_prefix("put ")
                .unwrap()
                .split(' ')
                .map(|t| Key::parse(kind, t))
                .collect();
            let mut m = JavaHashMap::new(initial);
            let mut done = 0;
            for line in lines.by_ref() {
                if line == "end" {
                    break;
                }
                let f: Vec<&str> = line.split(' ').collect();
                assert_eq!(f[0], "check", "{line}");
                let upto: usize = f[1].parse().unwrap();
                for (i, (k, h)) in puts.iter().enumerate().take(upto).skip(done) {
                    m.put(k.clone(), *h, i);
                }
                done = upto;
                let cap: usize = f[2].strip_prefix("cap=").unwrap().parse().unwrap();
                let trees = f[3].strip_prefix("trees=").unwrap();
                let order = f[4].strip_prefix("order=").unwrap();
                assert_eq!(m.capacity(), cap, "{name} after {upto} puts: capacity");
                let ours_trees = m
                    .tree_bins()
                    .iter()
                    .map(|b| b.to_string())
                    .collect::<Vec<_>>()
                    .join(",");
                let ours_trees = if ours_trees.is_empty() {
                    "-".to_string()
                } else {
                    ours_trees
                };
                assert_eq!(ours_trees, trees, "{name} after {upto} puts: tree bins");
                let ours = keys(&m)
                    .iter()
                    .map(Key::token)
                    .collect::<Vec<_>>()
                    .join(",");
                assert_eq!(ours, order, "{name} after {upto} puts: order");
                checks += 1;
            }
            assert_eq!(done, puts.len(), "{name}: the last put is checked");
            scenarios += 1;
        }
        assert_eq!((scenarios, checks), (8, 190));
    }

    #[test]
    fn ten_thousand_colliding_entities() {
        // Structured names: long bins and exact hash ties everywhere; every key is kept once,
        // and a second put of each replaces in place.
        use kquota_admin::EntityName;
        let entities: Vec<Entity> = (0..10_000)
            .map(|n| {
                Entity::new()
                    .with_user(EntityName::named(format!("bench-user-{n}")))
                    .with_client_id(EntityName::named(format!("bench-client-{n}")))
            })
            .collect();
        let hash = |e: &Entity| {
            client_quota_entity_hash(e.components().map(|(t, n)| (t.wire_name(), n.as_wire())))
        };
        let mut m = JavaHashMap::new(entities.len());
        for (i, e) in entities.iter().enumerate() {
            m.put(e, hash(e), i);
        }
        assert!(!m.tree_bins().is_empty());
        let first = keys(&m);
        for (i, e) in entities.iter().enumerate() {
            m.put(e, hash(e), i + 1);
        }
        let ordered = m.into_ordered();
        assert_eq!(ordered.len(), entities.len());
        assert_eq!(ordered.iter().map(|e| e.0).collect::<Vec<_>>(), first);
        assert!(ordered.iter().all(|(e, v)| entities[*v - 1] == **e));
    }
}
