//! Correlation ids, sans-IO: which request each response answers.

use std::collections::HashMap;

/// Requests in flight on one connection, keyed by correlation id.
///
/// Ids increase and wrap from `i32::MAX` to 0; an id still in use is skipped, so two pending
/// requests never share one.
///
/// ```
/// use kquota_net::correlation::InFlight;
/// let mut f = InFlight::new();
/// let a = f.register("metadata");
/// let b = f.register("produce");
/// assert_ne!(a, b);
/// assert_eq!(f.take(b), Some("produce"));
/// assert_eq!(f.take(b), None); // a second response with the same id is a protocol error
/// assert_eq!(f.len(), 1);
/// ```
#[derive(Debug)]
pub struct InFlight<T> {
    next: i32,
    pending: HashMap<i32, T>,
}

impl<T> Default for InFlight<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> InFlight<T> {
    /// No requests in flight; the first id is 0.
    pub fn new() -> Self {
        InFlight {
            next: 0,
            pending: HashMap::new(),
        }
    }

    /// An id for a request that gets no response (nothing is stored).
    pub fn next_id(&mut self) -> i32 {
        loop {
            let id = self.next;
            self.next = if self.next == i32::MAX {
                0
            } else {
                self.next + 1
            };
            if !self.pending.contains_key(&id) {
                return id;
            }
        }
    }

    /// Stores `entry` under a fresh id and returns the id.
    pub fn register(&mut self, entry: T) -> i32 {
        let id = self.next_id();
        self.pending.insert(id, entry);
        id
    }

    /// Removes and returns the request answered by a response with this id.
    pub fn take(&mut self, id: i32) -> Option<T> {
        self.pending.remove(&id)
    }

    /// Removes every pending request (the connection failed), oldest id first.
    pub fn drain(&mut self) -> Vec<T> {
        let mut all: Vec<(i32, T)> = self.pending.drain().collect();
        all.sort_by_key(|(id, _)| *id);
        all.into_iter().map(|(_, t)| t).collect()
    }

    /// Number of requests in flight.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_wrap_and_skip_ids_in_use() {
        let mut f = InFlight {
            next: i32::MAX,
            pending: HashMap::new(),
        };
        f.pending.insert(0, "old");
        assert_eq!(f.register("a"), i32::MAX);
        assert_eq!(f.register("b"), 1); // 0 is still pending
        assert_eq!(f.drain(), vec!["old", "b", "a"]);
        assert!(f.is_empty());
    }
}
