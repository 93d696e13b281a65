//! A map that forgets its oldest entries past a capacity, shared by the
//! mock's stores (answers kept for `url` downloads, video jobs) and caches
//! (encoded pictures, decoded references, MP4s), so a long run against the
//! mock holds bounded memory.

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;

/// Entries by key, and the keys in the order they were added.
type Entries<K, V> = (HashMap<K, V>, VecDeque<K>);

/// At most `cap` entries; adding one more forgets the oldest.
pub(crate) struct Bounded<K, V> {
    cap: usize,
    inner: Mutex<Entries<K, V>>,
}

impl<K: Clone + Eq + Hash, V: Clone> Bounded<K, V> {
    pub(crate) fn new(cap: usize) -> Self {
        Bounded {
            cap: cap.max(1),
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        // A panic elsewhere leaves the map consistent: every change below
        // is one map operation after the order is updated.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds or replaces `key`'s value (a replaced key keeps its age).
    pub(crate) fn insert(&self, key: K, value: V) {
        let mut guard = self.lock();
        let (map, order) = &mut *guard;
        if let Some(slot) = map.get_mut(&key) {
            *slot = value;
            return;
        }
        if order.len() >= self.cap {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
        order.push_back(key.clone());
        map.insert(key, value);
    }

    /// `key`'s value, if it is still known.
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lock().0.get(key).cloned()
    }

    /// `key`'s value, made by `make` (under the lock) when it is not known.
    pub(crate) fn get_or_insert_with(&self, key: K, make: impl FnOnce() -> V) -> V {
        if let Some(v) = self.get(&key) {
            return v;
        }
        let mut guard = self.lock();
        let (map, order) = &mut *guard;
        if let Some(v) = map.get(&key) {
            return v.clone();
        }
        if order.len() >= self.cap {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
        let value = make();
        order.push_back(key.clone());
        map.insert(key, value.clone());
        value
    }
}

#[cfg(test)]
mod tests {
    use super::Bounded;

    #[test]
    fn the_oldest_key_is_forgotten_past_the_capacity() {
        let b = Bounded::new(2);
        b.insert("a".to_string(), 1);
        b.insert("b".to_string(), 2);
        b.insert("a".to_string(), 10); // replaced, still the oldest
        assert_eq!(b.get("a"), Some(10));
        b.insert("c".to_string(), 3);
        assert_eq!(b.get("a"), None);
        assert_eq!(b.get("b"), Some(2));
        assert_eq!(b.get_or_insert_with("d".to_string(), || 4), 4);
        assert_eq!(b.get_or_insert_with("d".to_string(), || 5), 4);
        assert_eq!(b.get("b"), None);
        assert_eq!((b.get("c"), b.get("d")), (Some(3), Some(4)));
    }
}
