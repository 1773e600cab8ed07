//! The async producer's bounded buffer, counted in bytes (Java `buffer.memory` / `max.block.ms`).
//!
//! A record reserves its size before it is accepted; the reservation is released when the
//! record's fate is decided (acknowledged or reported failed). When the buffer is full, a send
//! waits up to `max_block` and then fails with [`ClientError::BufferFull`].

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ClientError;

/// A byte-counted buffer shared by all sends of one producer.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use kquota_client::buffer::BufferPool;
/// let pool = BufferPool::new(100);
/// let r = pool.reserve(60, Duration::from_millis(10)).await.unwrap();
/// assert!(pool.reserve(60, Duration::from_millis(10)).await.is_err()); // full: times out
/// assert!(pool.try_reserve(60).is_none()); // full: no waiting
/// drop(r);
/// assert_eq!(pool.available(), 100);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct BufferPool {
    sem: Arc<Semaphore>,
    total: usize,
}

/// Bytes held in a [`BufferPool`] until dropped.
#[derive(Debug)]
pub struct Reservation {
    permit: Option<OwnedSemaphorePermit>,
    bytes: usize,
}

impl Reservation {
    /// Bytes reserved.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// A reservation that holds nothing.
    pub fn none() -> Self {
        Reservation {
            permit: None,
            bytes: 0,
        }
    }

    /// Takes `other`'s bytes into this reservation: both are freed together when it is
    /// dropped (a batch holds its records' bytes as one reservation, one release per batch).
    /// Both must come from the same [`BufferPool`].
    ///
    /// ```
    /// use kquota_client::buffer::{BufferPool, Reservation};
    /// let pool = BufferPool::new(100);
    /// let mut held = Reservation::none();
    /// held.merge(pool.try_reserve(30).unwrap());
    /// held.merge(pool.try_reserve(20).unwrap());
    /// assert_eq!((held.bytes(), pool.available()), (50, 50));
    /// drop(held);
    /// assert_eq!(pool.available(), 100);
    /// ```
    pub fn merge(&mut self, other: Reservation) {
        self.bytes += other.bytes;
        match (&mut self.permit, other.permit) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
    }
}

impl BufferPool {
    /// A buffer of `total` bytes.
    pub fn new(total: usize) -> Self {
        let total = total.clamp(1, u32::MAX as usize);
        BufferPool {
            sem: Arc::new(Semaphore::new(total)),
            total,
        }
    }

    /// Total size in bytes.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Bytes free now.
    pub fn available(&self) -> usize {
        self.sem.available_permits()
    }

    /// Reserves `bytes`, waiting up to `max_block` for space.
    pub async fn reserve(
        &self,
        bytes: usize,
        max_block: Duration,
    ) -> Result<Reservation, ClientError> {
        if bytes > self.total {
            return Err(ClientError::RecordTooLarge {
                size: bytes,
                max: self.total,
                what: "producer buffer memory",
            });
        }
        let n = bytes.max(1) as u32;
        let sem = Arc::clone(&self.sem);
        match tokio::time::timeout(max_block, sem.acquire_many_owned(n)).await {
            Ok(Ok(permit)) => Ok(Reservation {
                permit: Some(permit),
                bytes,
            }),
            Ok(Err(_)) => Err(ClientError::Closed("producer")),
            Err(_) => Err(ClientError::BufferFull {
                requested: bytes,
                buffer_memory: self.total,
                max_block,
            }),
        }
    }

    /// Reserves `bytes` if they are free now (no waiting); `None` when [`BufferPool::reserve`]
    /// would wait or fail.
    pub fn try_reserve(&self, bytes: usize) -> Option<Reservation> {
        if bytes > self.total {
            return None;
        }
        let permit = Arc::clone(&self.sem)
            .try_acquire_many_owned(bytes.max(1) as u32)
            .ok()?;
        Some(Reservation {
            permit: Some(permit),
            bytes,
        })
    }

    /// Closes the buffer: pending and future reservations fail with [`ClientError::Closed`].
    pub fn close(&self) {
        self.sem.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blocks_then_succeeds_when_space_frees() {
        let pool = BufferPool::new(100);
        let r = pool.reserve(80, Duration::from_millis(10)).await.unwrap();
        let p2 = pool.clone();
        let waiter = tokio::spawn(async move { p2.reserve(50, Duration::from_secs(5)).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        drop(r);
        let r2 = waiter.await.unwrap().unwrap();
        assert_eq!(r2.bytes(), 50);
        assert_eq!(pool.available(), 50);
    }

    #[tokio::test]
    async fn full_buffer_times_out_with_clear_error() {
        let pool = BufferPool::new(100);
        let _r = pool.reserve(100, Duration::from_millis(10)).await.unwrap();
        let err = pool
            .reserve(1, Duration::from_millis(30))
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(
            err,
            ClientError::BufferFull {
                requested: 1,
                buffer_memory: 100,
                ..
            }
        ));
        assert!(msg.contains("within max block time of 30 ms"), "{msg}");
    }

    #[tokio::test]
    async fn oversized_record_and_close() {
        let pool = BufferPool::new(10);
        assert!(matches!(
            pool.reserve(11, Duration::ZERO).await,
            Err(ClientError::RecordTooLarge {
                size: 11,
                max: 10,
                ..
            })
        ));
        pool.close();
        assert!(matches!(
            pool.reserve(1, Duration::from_secs(1)).await,
            Err(ClientError::Closed(_))
        ));
    }
}
