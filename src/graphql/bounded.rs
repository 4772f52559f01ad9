//! A least-recently-used cache of texts, bounded twice: by how many entries it holds
//! and by the bytes of text they hold together (each entry's size is what `size`
//! says). The admitted-document cache (`documents`) and APQ's store (`persisted`) are
//! two of them. A leaf: it imports nothing of the crate.

use std::borrow::Borrow;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::{Mutex, MutexGuard};

use lru::LruCache;

pub(crate) struct Bounded<K: Hash + Eq, V> {
    held: Mutex<Held<K, V>>,
    max_bytes: usize,
    size: fn(&K, &V) -> usize,
}

struct Held<K: Hash + Eq, V> {
    entries: LruCache<K, V>,
    /// The sum of `size` over `entries`.
    bytes: usize,
}

impl<K: Hash + Eq, V: Clone> Bounded<K, V> {
    /// At most `max_entries` entries and `max_bytes` of their sizes.
    pub(crate) fn new(max_entries: usize, max_bytes: usize, size: fn(&K, &V) -> usize) -> Self {
        let entries = LruCache::new(NonZeroUsize::new(max_entries).unwrap_or(NonZeroUsize::MIN));
        Bounded { held: Mutex::new(Held { entries, bytes: 0 }), max_bytes, size }
    }

    fn lock(&self) -> MutexGuard<'_, Held<K, V>> {
        // The cache holds no invariant a panic could break halfway: use it as it is.
        self.held.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value under `key`, now the most recently used.
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lock().entries.get(key).cloned()
    }

    /// Keeps `value` under `key`, putting out the least recently used beyond either
    /// bound.
    pub(crate) fn put(&self, key: K, value: V) {
        let size = self.size;
        let mut held = self.lock();
        held.bytes += size(&key, &value);
        // What `push` puts out (the same key's value, or the least recently used when
        // full) no longer counts.
        if let Some((key, value)) = held.entries.push(key, value) {
            held.bytes -= size(&key, &value);
        }
        while held.bytes > self.max_bytes {
            match held.entries.pop_lru() {
                Some((key, value)) => held.bytes -= size(&key, &value),
                None => break,
            }
        }
    }

    /// How many entries it holds, the bytes it counts, and the bytes they hold.
    #[cfg(test)]
    pub(crate) fn measure(&self) -> (usize, usize, usize) {
        let held = self.lock();
        let actual = held.entries.iter().map(|(key, value)| (self.size)(key, value)).sum();
        (held.entries.len(), held.bytes, actual)
    }

    #[cfg(test)]
    pub(crate) fn contains<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lock().entries.contains(key)
    }
}
