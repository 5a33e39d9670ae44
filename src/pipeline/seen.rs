//! The memory of the in-file duplicate check: which keys were seen (by a 64-bit hash of the
//! key) and at which row first. It holds one entry per distinct key for the whole input, so it
//! is built to be small: 12 bytes an entry (the hash as two `u32`, the row as a `u32`), sharded
//! by hash bits into 256 tables so that growing copies one small table at a time instead of
//! doubling the whole set at once. Sized from the input's line count when it is a file, so
//! that the tables do not grow at all: about 27 MB per million distinct keys.
//!
//! Invariant: a key is reported as seen only when a key with the same 64-bit hash was
//! inserted before (for a million keys, the chance that two different keys share a hash is
//! below 1 in 30 million).

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hasher};

/// A 64-bit key hash, stored at 4-byte alignment (so an entry is 12 bytes, not 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key([u32; 2]);

impl std::hash::Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(u64::from(self.0[0]) << 32 | u64::from(self.0[1]));
    }
}

/// The keys are already uniform hashes: the table uses them as they are.
#[derive(Debug, Default, Clone, Copy)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

const SHARDS: usize = 256;

/// First rows of the keys seen so far.
#[derive(Debug)]
pub(crate) struct Seen {
    shards: Vec<HashMap<Key, u32, BuildHasherDefault<PassThrough>>>,
    hasher: BuildHasherDefault<DefaultHasher>,
}

impl Default for Seen {
    fn default() -> Seen {
        Seen {
            shards: (0..SHARDS).map(|_| HashMap::default()).collect(),
            hasher: BuildHasherDefault::default(),
        }
    }
}

/// What [`Seen::first`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum First {
    /// Not seen before: now remembered with this row.
    New,
    /// Seen first at this row (`None`: a row beyond 4,294,967,294).
    At(Option<u64>),
}

impl Seen {
    /// Room for about `keys` keys from the start, so that the tables never grow in step (a
    /// growth holds the old and the new tables at once: half as much again at the peak).
    pub(crate) fn with_capacity(keys: u64) -> Seen {
        let per_shard = usize::try_from(keys / SHARDS as u64 + keys / (SHARDS as u64 * 16) + 16)
            .unwrap_or(usize::MAX);
        Seen {
            shards: (0..SHARDS)
                .map(|_| HashMap::with_capacity_and_hasher(per_shard, Default::default()))
                .collect(),
            hasher: BuildHasherDefault::default(),
        }
    }

    /// Remember `key` at `row` unless it was seen before; say which.
    pub(crate) fn first(&mut self, key: &str, row: u64) -> First {
        let h = self.hasher.hash_one(key);
        // The shard comes from middle bits: the table itself uses the low bits for the bucket
        // and the top bits for its tags.
        let shard = usize::from((h >> 32) as u8);
        let k = Key([(h >> 32) as u32, h as u32]);
        let Some(table) = self.shards.get_mut(shard) else {
            return First::New;
        };
        match table.get(&k) {
            Some(&at) => First::At((at != u32::MAX).then_some(u64::from(at))),
            None => {
                table.insert(k, u32::try_from(row).unwrap_or(u32::MAX));
                First::New
            }
        }
    }
}

#[cfg(test)]
mod tests;
