//! The incremental-import state (`--skip-unchanged`): an embedded SQLite database that
//! remembers, per provider account ("scope"), the fingerprint of what was last sent and
//! confirmed for each customer key, so that the next run sends only new and changed rows.
//!
//! Schema (`PRAGMA user_version` = [`SCHEMA_VERSION`]; inspect it with `sqlite3 state.db .schema`):
//!
//! ```sql
//! CREATE TABLE scopes (            -- one per provider account and endpoint
//!   id          INTEGER PRIMARY KEY,
//!   key         TEXT NOT NULL UNIQUE, -- canonical JSON of the six columns below
//!   provider    TEXT NOT NULL,        -- 'nxlink' or 'itnio'
//!   endpoint    TEXT NOT NULL,        -- the base URL requests went to
//!   account     TEXT NOT NULL,        -- nxlink access key / itnio api key (never a secret)
//!   tenant      INTEGER,              -- nxlink tenant id (NULL for itnio)
//!   app         TEXT NOT NULL,        -- nxlink app key / itnio app id
//!   job         INTEGER,              -- itnio job id (NULL for nxlink)
//!   created_at  INTEGER NOT NULL,     -- unix seconds
//!   last_run_at INTEGER NOT NULL      -- unix seconds: start of the last run in this scope
//! );
//! CREATE TABLE customers (         -- what a scope holds: one row per customer key
//!   scope_id     INTEGER NOT NULL REFERENCES scopes(id) ON DELETE CASCADE,
//!   key          TEXT NOT NULL,       -- nxlink contact key; itnio phone number
//!   fingerprint  BLOB NOT NULL,       -- BLAKE3 of what was sent for the row, 16 bytes
//!   succeeded_at INTEGER NOT NULL,    -- unix seconds: start of the run that sent it
//!   PRIMARY KEY (scope_id, key)
//! ) WITHOUT ROWID;
//! CREATE TABLE outcomes (          -- outcomes runs recorded, not yet merged into customers
//!   seq          INTEGER PRIMARY KEY,
//!   scope_id     INTEGER NOT NULL,
//!   key          TEXT NOT NULL,
//!   fingerprint  BLOB,                -- NULL: forget the key (sent without a definite answer)
//!   at           INTEGER NOT NULL
//! );
//! ```
//!
//! Why two tables: a run's outcomes arrive in input order, which is random in key order, and
//! committing each group of them into the key-ordered `customers` B-tree would rewrite a
//! 4 KiB page per row (measured: ~50 µs a row on a 1M-row state). They are appended to
//! `outcomes` instead (cheap, in small crash-safe transactions, by the writer thread of
//! `writer.rs`) and merged into `customers` in key order, in one transaction, when a run ends
//! (a killed run's by the next run) and before `custimport state` reads or forgets; until
//! then [`State::remembered`] reads them beside `customers`, so that a run's start only reads.
//!
//! Lookups: when a run starts, the scope's remembered rows are loaded into a compact
//! in-memory [`Index`] (16 bytes a row: 64-bit key hash and fingerprint prefix, sorted, with a
//! bucket directory), which answers in about a tenth of a batched `SELECT … IN` (measured:
//! 2–6 µs a row on a 1M-row state). Above [`MAX_INDEX_ROWS`] rows the index is not built and
//! each batch is looked up with one prepared `SELECT … WHERE key IN (…)`, so memory stays
//! bounded whatever the state's size.
//!
//! Invariants: a key's fingerprint is written only for a row the provider confirmed
//! (`succeeded`), after the run's journal recorded that outcome; a row sent without a definite
//! answer (`unknown`) erases its key's record, since the provider may now hold something no
//! record describes; so does a row answered "already exists" (`already_present`). Writes are
//! short `BEGIN IMMEDIATE` transactions; the database runs in WAL mode, so concurrent runs and
//! readers (`sqlite3`) never corrupt it, and a run waits for them at most 30 s in all, off the
//! send path (`writer.rs`). Secrets are never stored. The file is checked like `--out`
//! (`file.rs`: no link, no other owner or writer), created 0600 in a 0700 directory, and marked
//! with [`APPLICATION_ID`]: another program's SQLite file is refused, never altered.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, TransactionBehavior};

/// The schema this code writes (`PRAGMA user_version`).
pub(crate) const SCHEMA_VERSION: i32 = 1;

/// custimport's mark in the database header (`PRAGMA application_id`): "CIMP". Set when the
/// database is created; a database without it is another program's and is never altered.
pub(crate) const APPLICATION_ID: i32 = 0x4349_4d50;

/// What a state database written before [`APPLICATION_ID`] existed holds, exactly
/// (`type name` of `sqlite_master`, sorted): such a file is adopted.
const EARLIER_OBJECTS: [&str; 4] = [
    "index scopes_job",
    "table customers",
    "table outcomes",
    "table scopes",
];

/// How long a statement waits for another process's write transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS scopes (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    provider    TEXT NOT NULL,
    endpoint    TEXT NOT NULL,
    account     TEXT NOT NULL,
    tenant      INTEGER,
    app         TEXT NOT NULL,
    job         INTEGER,
    created_at  INTEGER NOT NULL,
    last_run_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS scopes_job ON scopes (job) WHERE job IS NOT NULL;
CREATE TABLE IF NOT EXISTS customers (
    scope_id     INTEGER NOT NULL REFERENCES scopes(id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    fingerprint  BLOB NOT NULL,
    succeeded_at INTEGER NOT NULL,
    PRIMARY KEY (scope_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outcomes (
    seq          INTEGER PRIMARY KEY,
    scope_id     INTEGER NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  BLOB,
    at           INTEGER NOT NULL
);
";

/// Scopes with more remembered rows than this are looked up batch by batch in SQLite
/// instead of through an in-memory [`Index`] (which takes 16 bytes a row: 32 MiB here).
pub(crate) const MAX_INDEX_ROWS: usize = 2_000_000;

/// A failure of the state database, with the path it concerns.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StateError {
    #[error("state database {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("state database {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("--state {path}: {why}")]
    Refused { path: String, why: String },
    #[error("state database {path} has schema version {found}, newer than this custimport understands ({SCHEMA_VERSION}): upgrade custimport or use another --state")]
    TooNew { path: String, found: i32 },
}

impl StateError {
    /// Whether another process holding the database is all that went wrong.
    pub(crate) fn is_busy(&self) -> bool {
        matches!(self, StateError::Sqlite {
            source: rusqlite::Error::SqliteFailure(e, _),
            ..
        } if matches!(
            e.code,
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
        ))
    }
}

/// The 128-bit fingerprint of what was sent for a row.
pub(crate) type Fingerprint = [u8; 16];

/// The fingerprint of a row: BLAKE3 over the request options that change what the provider
/// does with the row (`salt`, e.g. nxlink's `type`; never holding a NUL), a NUL, and the row's
/// bytes as sent, cut to its first 128 bits.
///
/// A cryptographic hash, as for the resume identity: an edit of a row must never pass for
/// unchanged, even one crafted by whoever writes some of the input's cells (2^-128 by chance,
/// and no known way to aim at it). It costs about 0.2 µs for a row of a few hundred bytes,
/// paid only for rows whose key the state remembers (and for rows that succeed).
pub(crate) fn fingerprint(salt: &[u8], sent: &[u8]) -> Fingerprint {
    let mut h = blake3::Hasher::new();
    h.update(salt);
    h.update(&[0]);
    h.update(sent);
    let mut fp = [0u8; 16];
    fp.copy_from_slice(&h.finalize().as_bytes()[..16]);
    fp
}

/// An open state database.
pub(crate) struct State {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").field("path", &self.path).finish()
    }
}

/// What a file at `--state` holds, as [`State::identify`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// Nothing yet (a new or empty file): custimport's to fill.
    Empty,
    /// custimport's (its `application_id`).
    Ours,
    /// custimport's, written before the `application_id` was set: no id, but exactly
    /// custimport's tables at schema version 1. Adopted: the id is set.
    Earlier,
}

/// The error of a statement that failed on the database at `path` (borrowing the path only,
/// so that it serves while a transaction holds the connection).
fn sqlite_err(path: &Path) -> impl Fn(rusqlite::Error) -> StateError + Copy + '_ {
    move |source| StateError::Sqlite {
        path: path.display().to_string(),
        source,
    }
}

impl State {
    /// Open the database at `path` for reading and writing, creating it (0600, in a directory
    /// created 0700) and its schema when missing. The file is checked first (see `file.rs`);
    /// another program's database is refused and left as it was.
    pub(crate) fn open(path: &Path) -> Result<State, StateError> {
        file::prepare(path, true)?;
        State::retry_busy(|| {
            let mut state = State::connect(path)?;
            let identity = state.identify()?;
            state.setup()?;
            if identity == Owner::Earlier {
                // Taking it over is a write: another process holding the database only
                // postpones it to a later run, never waited for (a run waits for a locked
                // state once, in its writer: see `writer.rs`).
                state.set_busy_timeout(Duration::ZERO);
                let _ = state.sql(|c| c.pragma_update(None, "application_id", APPLICATION_ID));
                state.set_busy_timeout(BUSY_TIMEOUT);
            }
            state.migrate()?;
            Ok(state)
        })
    }

    /// Run a setup step again while another process holds a lock it needs. Switching a new
    /// database to WAL mode needs it alone for a moment, and SQLite does not wait (with the
    /// busy timeout) in that case; the steps are idempotent.
    fn retry_busy<T>(mut step: impl FnMut() -> Result<T, StateError>) -> Result<T, StateError> {
        let start = std::time::Instant::now();
        loop {
            match step() {
                Err(e) if e.is_busy() && start.elapsed() < BUSY_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                other => return other,
            }
        }
    }

    /// Open an existing database without creating anything; `None` when there is none (or it
    /// is empty). The file is checked as by [`State::open`]; another program's is refused.
    pub(crate) fn open_existing(path: &Path) -> Result<Option<State>, StateError> {
        if !file::prepare(path, false)? {
            return Ok(None);
        }
        let (state, identity, version) = State::retry_busy(|| {
            let state = State::connect(path)?;
            let identity = state.identify()?;
            let version = state.user_version()?;
            Ok((state, identity, version))
        })?;
        if identity == Owner::Empty {
            return Ok(None);
        }
        if version > SCHEMA_VERSION {
            return Err(StateError::TooNew {
                path: path.display().to_string(),
                found: version,
            });
        }
        State::retry_busy(|| state.setup())?;
        Ok(Some(state))
    }

    /// A connection to the file, which nothing has read or written yet. SQLite refuses to
    /// open it through a symbolic link too.
    fn connect(path: &Path) -> Result<State, StateError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let conn = Connection::open_with_flags(path, flags).map_err(sqlite_err(path))?;
        let state = State {
            conn,
            path: path.to_path_buf(),
        };
        state.sql(|c| c.busy_timeout(BUSY_TIMEOUT))?;
        Ok(state)
    }

    /// Whose database this is, read without writing anything. A file that is not SQLite at
    /// all, and another program's database, are refused.
    fn identify(&self) -> Result<Owner, StateError> {
        let foreign = |why: &str| {
            StateError::Refused {
            path: self.path.display().to_string(),
            why: format!("{why}; custimport does not touch it: give the path of a state database of its own (or of one to create)"),
        }
        };
        // One read transaction: the id, the objects and the version of one moment, never half
        // of another run's schema creation (which writes all three in one transaction).
        let read = self.sql(|c| {
            let tx = rusqlite::Transaction::new_unchecked(c, TransactionBehavior::Deferred)?;
            let id: i32 = tx.query_row("PRAGMA application_id", [], |r| r.get(0))?;
            let objects: Vec<String> = {
                let mut st = tx.prepare(
                    "SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1",
                )?;
                let rows = st.query_map([], |r| r.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            let version: i32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            tx.commit()?;
            Ok((id, objects, version))
        });
        let (id, objects, version) = match read {
            Err(StateError::Sqlite {
                source: rusqlite::Error::SqliteFailure(e, _),
                ..
            }) if e.code == rusqlite::ErrorCode::NotADatabase => {
                return Err(foreign("is not a SQLite database"))
            }
            other => other?,
        };
        Ok(match id {
            APPLICATION_ID => Owner::Ours,
            0 if objects.is_empty() && version == 0 => Owner::Empty,
            0 if version == 1 && objects == EARLIER_OBJECTS => Owner::Earlier,
            _ => return Err(foreign("is another program's SQLite database")),
        })
    }

    /// The connection's settings: WAL mode (written once into a new database), durability and
    /// foreign keys.
    fn setup(&self) -> Result<(), StateError> {
        self.sql(|c| {
            let mode: String = c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!("state database: journal mode {mode}, not WAL");
            }
            // In WAL mode, NORMAL keeps every commit across a crash of the process; a power
            // failure may lose the last commits, which only means their rows are sent again.
            c.pragma_update(None, "synchronous", "NORMAL")?;
            c.pragma_update(None, "foreign_keys", "ON")?;
            Ok(())
        })
    }

    /// How long a statement waits for another process's write transaction.
    pub(crate) fn set_busy_timeout(&mut self, wait: Duration) {
        let _ = self.conn.busy_timeout(wait);
    }

    fn sql<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StateError> {
        f(&self.conn).map_err(|source| self.err(source))
    }

    fn err(&self, source: rusqlite::Error) -> StateError {
        sqlite_err(&self.path)(source)
    }

    fn user_version(&self) -> Result<i32, StateError> {
        self.sql(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
    }

    /// Create the schema of an empty database; refuse one written by a newer version.
    fn migrate(&self) -> Result<(), StateError> {
        let version = self.user_version()?;
        if version > SCHEMA_VERSION {
            return Err(StateError::TooNew {
                path: self.path.display().to_string(),
                found: version,
            });
        }
        if version == SCHEMA_VERSION {
            return Ok(());
        }
        // IMMEDIATE: a second process creating the schema at the same moment waits for this
        // one (the busy timeout) instead of failing to upgrade a read lock; it then finds the
        // schema there (IF NOT EXISTS).
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        tx.execute_batch(SCHEMA).map_err(|e| self.err(e))?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(|e| self.err(e))?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Call `found(index, fingerprint)` for each of `keys` the scope remembers, with one
    /// prepared (and cached) `SELECT … WHERE key IN (…)`.
    pub(crate) fn lookup(
        &self,
        scope: i64,
        keys: &[&str],
        mut found: impl FnMut(usize, Fingerprint),
    ) -> Result<(), StateError> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut sql = String::with_capacity(96 + 4 * keys.len());
        sql.push_str("SELECT key, fingerprint FROM customers WHERE scope_id = ?1 AND key IN (");
        for i in 0..keys.len() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("?{}", i + 2));
        }
        sql.push(')');
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(keys.len());
        for (i, k) in keys.iter().enumerate() {
            index.entry(k).or_insert(i);
        }
        self.sql(|c| {
            let mut st = c.prepare_cached(&sql)?;
            st.raw_bind_parameter(1, scope)?;
            for (i, k) in keys.iter().enumerate() {
                st.raw_bind_parameter(i + 2, k)?;
            }
            let mut rows = st.raw_query();
            while let Some(r) = rows.next()? {
                let key = r.get_ref(0)?.as_str()?;
                let Ok(fp) = <Fingerprint>::try_from(r.get_ref(1)?.as_blob()?) else {
                    continue;
                };
                // A key listed twice (the same customer twice in one batch): every row of it.
                if let Some(&first) = index.get(key) {
                    for (i, k) in keys.iter().enumerate().skip(first) {
                        if *k == key {
                            found(i, fp);
                        }
                    }
                }
            }
            Ok(())
        })
    }

    /// Record, in one transaction, the keys that succeeded (with what was sent) and the keys
    /// to forget (sent without a definite answer). Appended to `outcomes`, merged into
    /// `customers` by [`State::merge`].
    pub(crate) fn record(
        &mut self,
        scope: i64,
        succeeded: &[(Cow<'_, str>, Fingerprint)],
        forget: &[Cow<'_, str>],
        at: i64,
    ) -> Result<(), StateError> {
        if succeeded.is_empty() && forget.is_empty() {
            return Ok(());
        }
        let err = sqlite_err(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        {
            let mut put = tx
                .prepare_cached(
                    "INSERT INTO outcomes (scope_id, key, fingerprint, at) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(err)?;
            for (key, fp) in succeeded {
                put.execute(params![scope, key.as_ref(), &fp[..], at])
                    .map_err(err)?;
            }
            for key in forget {
                put.execute(params![scope, key.as_ref(), None::<&[u8]>, at])
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// Merge the recorded outcomes (of every run, this one's and any killed one's) into
    /// `customers`, in key order, in one transaction: for each key its latest outcome wins.
    /// Returns the number of outcomes merged.
    pub(crate) fn merge(&mut self) -> Result<u64, StateError> {
        let err = sqlite_err(&self.path);
        let pending: bool = self
            .conn
            .query_row("SELECT EXISTS (SELECT 1 FROM outcomes)", [], |r| r.get(0))
            .map_err(err)?;
        if !pending {
            return Ok(0);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        // SQLite takes the bare columns of a max() aggregate from the row holding the maximum:
        // the latest outcome of each key. Outcomes of a scope forgotten meanwhile are dropped.
        tx.execute_batch(
            "CREATE TEMP TABLE latest AS
                 SELECT scope_id, key, fingerprint, at, max(seq) AS seq FROM outcomes
                 WHERE scope_id IN (SELECT id FROM scopes)
                 GROUP BY scope_id, key;
             INSERT INTO customers (scope_id, key, fingerprint, succeeded_at)
                 SELECT scope_id, key, fingerprint, at FROM latest
                 WHERE fingerprint IS NOT NULL ORDER BY scope_id, key
                 ON CONFLICT (scope_id, key) DO UPDATE
                 SET fingerprint = excluded.fingerprint, succeeded_at = excluded.succeeded_at;
             DELETE FROM customers WHERE (scope_id, key) IN
                 (SELECT scope_id, key FROM latest WHERE fingerprint IS NULL);
             DROP TABLE temp.latest;",
        )
        .map_err(err)?;
        let merged = tx.execute("DELETE FROM outcomes", []).map_err(err)?;
        tx.commit().map_err(err)?;
        // Give the merge's pages back to the database file and keep the WAL small; another
        // process reading the database may prevent it, which is harmless.
        let _ = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        Ok(merged as u64)
    }
}

/// itnio job ids go up to `i64::MAX` (the command line refuses more), SQLite's integer range.
fn job_sql(job: u64) -> i64 {
    i64::try_from(job).unwrap_or(i64::MAX)
}

/// The default state path: `$XDG_STATE_HOME/custimport/state.db` (an absolute
/// `XDG_STATE_HOME` only, as the XDG spec says), else `~/.local/state/custimport/state.db`.
pub(crate) fn default_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let base = env("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".local").join("state")))?;
    Some(base.join("custimport").join("state.db"))
}

pub(crate) mod command;
mod file;
mod index;
mod scope;
pub(crate) use index::Remembered;
pub(crate) use scope::{ScopeInfo, ScopeSpec};
pub(crate) mod writer;

#[cfg(test)]
mod tests;
