//! What a scope remembers, loaded for a run of `--skip-unchanged`: an in-memory index of the
//! remembered rows (key hash → fingerprint prefix and row id) when the scope is small enough,
//! SQLite lookups otherwise, and the outcomes not merged yet; [`State::unchanged`] answers
//! whether a row was sent before with this content.

use std::collections::HashMap;

use super::{Fingerprint, State, StateError};

impl State {
    /// What the scope remembers, ready for [`State::unchanged`]: an in-memory [`Index`] of up
    /// to `max_index_rows` rows, or, for a larger scope, nothing (lookups go to SQLite); and
    /// the outcomes runs recorded in the scope that are not merged yet (a killed run's, or
    /// those of a run that could not merge), which take precedence. Only reads: a state
    /// another process holds for writing does not delay it.
    pub(crate) fn remembered(
        &self,
        scope: i64,
        max_index_rows: usize,
    ) -> Result<Remembered, StateError> {
        let index = self.sql(|c| {
            // Counted first: a scope too large for the index is never loaded, and the index is
            // allocated once at its size (growing it would hold two copies for a moment).
            let n: i64 = c.query_row(
                "SELECT count(*) FROM customers WHERE scope_id = ?1",
                [scope],
                |r| r.get(0),
            )?;
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if n > max_index_rows {
                return Ok(None);
            }
            let mut st = c.prepare("SELECT key, fingerprint FROM customers WHERE scope_id = ?1")?;
            let mut rows = st.query([scope])?;
            let mut entries = Vec::with_capacity(n);
            while let Some(r) = rows.next()? {
                if entries.len() >= max_index_rows {
                    // Grown since it was counted (another run recorded meanwhile).
                    return Ok(None);
                }
                let key = r.get_ref(0)?.as_str()?;
                let Ok(fp) = <Fingerprint>::try_from(r.get_ref(1)?.as_blob()?) else {
                    continue;
                };
                entries.push((key_hash(key), fp_prefix(&fp)));
            }
            Ok(Some(Index::new(entries)))
        })?;
        let unmerged = self.sql(|c| {
            let mut st = c.prepare(
                "SELECT key, fingerprint FROM outcomes WHERE scope_id = ?1 ORDER BY seq",
            )?;
            let mut rows = st.query([scope])?;
            let mut latest = HashMap::new();
            while let Some(r) = rows.next()? {
                let key = r.get_ref(0)?.as_str()?;
                // A key forgotten, or (unreadable) taken as forgotten: its row is sent.
                let fp = r
                    .get_ref(1)?
                    .as_blob_or_null()?
                    .and_then(|b| <Fingerprint>::try_from(b).ok());
                latest.insert(key_hash(key), fp);
            }
            Ok(latest)
        })?;
        Ok(Remembered {
            scope,
            index,
            unmerged,
        })
    }

    /// For each row of a batch, given its key (`None`: it has none), whether the scope
    /// remembers the key with the row's fingerprint. `fingerprint_of(i)` is asked only for
    /// rows whose key is remembered.
    ///
    /// An unmerged outcome is found by the key's hash: a key sharing it with another key's
    /// outcome is compared with that outcome's fingerprint, and so is sent (never skipped).
    pub(crate) fn unchanged(
        &self,
        remembered: &Remembered,
        keys: &[Option<&str>],
        mut fingerprint_of: impl FnMut(usize) -> Fingerprint,
    ) -> Result<Vec<bool>, StateError> {
        let mut out = vec![false; keys.len()];
        let (mut slots, mut refs) = (Vec::new(), Vec::new());
        for (i, key) in keys.iter().enumerate() {
            let Some(key) = key else { continue };
            let hash = key_hash(key);
            if let Some(latest) = remembered.unmerged.get(&hash) {
                out[i] = latest.is_some_and(|fp| fingerprint_of(i) == fp);
                continue;
            }
            match &remembered.index {
                Some(index) => {
                    let recorded = index.get(hash);
                    if !recorded.is_empty() {
                        let fp = fp_prefix(&fingerprint_of(i));
                        out[i] = recorded.iter().any(|&(_, r)| r == fp);
                    }
                }
                None => {
                    slots.push(i);
                    refs.push(*key);
                }
            }
        }
        self.lookup(remembered.scope, &refs, |j, recorded| {
            let i = slots[j];
            out[i] = fingerprint_of(i) == recorded;
        })?;
        Ok(out)
    }
}

/// What a scope remembers, as [`State::remembered`] loaded it.
#[derive(Debug)]
pub(crate) struct Remembered {
    scope: i64,
    index: Option<Index>,
    /// Key hash → the latest unmerged outcome's fingerprint (`None`: forgotten).
    unmerged: HashMap<u64, Option<Fingerprint>>,
}

impl Remembered {
    /// Rows held in memory (`None`: the scope is looked up in SQLite).
    #[cfg(test)]
    pub(crate) fn indexed_rows(&self) -> Option<usize> {
        self.index.as_ref().map(|i| i.entries.len())
    }
}

/// A 64-bit hash of a customer key (SipHash with fixed keys, as the reader's duplicate check).
/// Two keys with the same hash are told apart by their fingerprints: a collision can only
/// make a row be sent, never skipped.
pub(super) fn key_hash(key: &str) -> u64 {
    use std::hash::BuildHasher;
    std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default().hash_one(key)
}

/// The first 64 bits of a fingerprint: what the in-memory index compares. Two different rows
/// of one key share them with probability 2^-64.
fn fp_prefix(fp: &Fingerprint) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&fp[..8]);
    u64::from_be_bytes(b)
}

/// Remembered rows in memory: (key hash, fingerprint prefix) sorted by key hash, with a
/// directory of where each value of the hash's top bits starts, so that a lookup reads one or
/// two cache lines instead of a binary search's twenty.
#[derive(Debug)]
pub(crate) struct Index {
    entries: Vec<(u64, u64)>,
    /// `dir[b]`: the first entry whose hash's top `bits` bits are `>= b`; one more at the end.
    dir: Vec<u32>,
    shift: u32,
}

impl Index {
    pub(super) fn new(mut entries: Vec<(u64, u64)>) -> Index {
        entries.sort_unstable();
        entries.shrink_to_fit();
        // About 8 entries per bucket.
        let bits = (usize::BITS - (entries.len() / 8).leading_zeros()).clamp(1, 24);
        let shift = 64 - bits;
        let buckets = 1usize << bits;
        let mut dir = Vec::with_capacity(buckets + 1);
        let mut at = 0usize;
        for b in 0..buckets as u64 {
            while at < entries.len() && (entries[at].0 >> shift) < b {
                at += 1;
            }
            dir.push(u32::try_from(at).unwrap_or(u32::MAX));
        }
        dir.push(u32::try_from(entries.len()).unwrap_or(u32::MAX));
        Index {
            entries,
            dir,
            shift,
        }
    }

    /// The entries of a key hash (usually none or one).
    pub(super) fn get(&self, hash: u64) -> &[(u64, u64)] {
        let b = usize::try_from(hash >> self.shift).unwrap_or(0);
        let (Some(&lo), Some(&hi)) = (self.dir.get(b), self.dir.get(b + 1)) else {
            return &[];
        };
        let bucket = self
            .entries
            .get(lo as usize..hi as usize)
            .unwrap_or_default();
        let start = bucket.partition_point(|e| e.0 < hash);
        let end = start + bucket[start..].partition_point(|e| e.0 == hash);
        &bucket[start..end]
    }
}
