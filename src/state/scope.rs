//! Scopes: the account, endpoint and job a run talks to, which rows are remembered under;
//! entering one for a run, finding it, listing them all and forgetting them
//! (`custimport state`).

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use super::{job_sql, sqlite_err, State, StateError};

/// The endpoint of the built-in emulator's scopes.
const SANDBOX: &str = "sandbox (built-in)";

/// The account and endpoint a run talks to. Two runs share remembered rows only when every
/// field is equal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ScopeSpec {
    pub provider: String,
    pub endpoint: String,
    /// nxlink access key / itnio api key: the public half of the credentials.
    pub account: String,
    pub tenant: Option<i64>,
    pub app: String,
    pub job: Option<u64>,
}

impl ScopeSpec {
    /// The canonical text that identifies the scope (`scopes.key`).
    fn key(&self) -> String {
        // A JSON array of strings, integers and nulls: serialising cannot fail.
        serde_json::to_string(&(
            &self.provider,
            &self.endpoint,
            &self.account,
            self.tenant,
            &self.app,
            self.job,
        ))
        .unwrap_or_default()
    }

    /// The scope of a run of `provider` with this account, sending to `base_url` (`None`:
    /// the built-in emulator). The emulator listens on a new port each run: it has one stable
    /// name, so that trying `--skip-unchanged` with `--sandbox` shows what a second run
    /// skips, and its scopes do not pile up.
    pub(crate) fn for_run(
        provider: &str,
        account: crate::provider::StateAccount,
        base_url: Option<&str>,
    ) -> ScopeSpec {
        ScopeSpec {
            provider: provider.to_owned(),
            endpoint: base_url.map_or_else(|| SANDBOX.to_owned(), ScopeSpec::canonical_endpoint),
            account: account.account,
            tenant: account.tenant,
            app: account.app,
            job: account.job,
        }
    }

    /// The endpoint in a canonical spelling (scheme and host lower case, no default port, no
    /// trailing `/`), so that equivalent spellings of a base URL share one scope.
    pub(crate) fn canonical_endpoint(base_url: &str) -> String {
        match url::Url::parse(base_url.trim()) {
            Ok(u) => u.as_str().trim_end_matches('/').to_owned(),
            Err(_) => base_url.trim().trim_end_matches('/').to_owned(),
        }
    }
}

/// What `custimport state` shows for a scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ScopeInfo {
    pub id: i64,
    #[serde(flatten)]
    pub spec: ScopeSpec,
    /// Customer keys remembered.
    pub rows: u64,
    pub created_at: i64,
    pub last_run_at: i64,
}

impl State {
    /// The scope's id, created when new; its `last_run_at` becomes `now`.
    pub(crate) fn enter_scope(&mut self, spec: &ScopeSpec, now: i64) -> Result<i64, StateError> {
        let key = spec.key();
        let err = sqlite_err(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let id: i64 = tx
            .query_row(
                "INSERT INTO scopes (key, provider, endpoint, account, tenant, app, job, created_at, last_run_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
                 ON CONFLICT (key) DO UPDATE SET last_run_at = excluded.last_run_at
                 RETURNING id",
                params![
                    key,
                    spec.provider,
                    spec.endpoint,
                    spec.account,
                    spec.tenant,
                    spec.app,
                    spec.job.map(job_sql),
                    now
                ],
                |r| r.get(0),
            )
            .and_then(|id| tx.commit().map(|()| id))
            .map_err(err)?;
        Ok(id)
    }

    /// The scope's id if it exists (nothing is written).
    pub(crate) fn find_scope(&self, spec: &ScopeSpec) -> Result<Option<i64>, StateError> {
        self.sql(|c| {
            c.query_row("SELECT id FROM scopes WHERE key = ?1", [spec.key()], |r| {
                r.get(0)
            })
            .optional()
        })
    }

    /// Every scope with the number of rows it remembers, by id.
    pub(crate) fn scopes(&self) -> Result<Vec<ScopeInfo>, StateError> {
        self.sql(|c| {
            let mut st = c.prepare(
                "SELECT s.id, s.provider, s.endpoint, s.account, s.tenant, s.app, s.job,
                        (SELECT count(*) FROM customers WHERE scope_id = s.id), s.created_at, s.last_run_at
                 FROM scopes s ORDER BY s.id",
            )?;
            let rows = st.query_map([], |r| {
                let job: Option<i64> = r.get(6)?;
                Ok(ScopeInfo {
                    id: r.get(0)?,
                    spec: ScopeSpec {
                        provider: r.get(1)?,
                        endpoint: r.get(2)?,
                        account: r.get(3)?,
                        tenant: r.get(4)?,
                        app: r.get(5)?,
                        job: job.and_then(|j| u64::try_from(j).ok()),
                    },
                    rows: r.get::<_, i64>(7).map(|n| u64::try_from(n).unwrap_or(0))?,
                    created_at: r.get(8)?,
                    last_run_at: r.get(9)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Forget these scopes and everything they remember, in one transaction. Returns the number
    /// of customer rows removed.
    pub(crate) fn forget(&mut self, ids: &[i64]) -> Result<u64, StateError> {
        let err = sqlite_err(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let mut removed = 0u64;
        for id in ids {
            let n = tx
                .execute("DELETE FROM customers WHERE scope_id = ?1", [id])
                .map_err(err)?;
            removed += n as u64;
            tx.execute("DELETE FROM outcomes WHERE scope_id = ?1", [id])
                .map_err(err)?;
            tx.execute("DELETE FROM scopes WHERE id = ?1", [id])
                .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(removed)
    }
}
