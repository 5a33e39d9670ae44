//! The itnio person store: the persons held by the sandbox, per job, as the import endpoint
//! accepted them.
//!
//! Invariant: a job never holds the same phone twice, and keeps its persons in import order.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

/// The persons held in one job, as compact JSON text (a benchmark holds millions).
#[derive(Debug, Default)]
pub(crate) struct Job {
    phones: HashSet<Box<str>>,
    persons: Vec<Box<str>>,
}

/// The persons held by the sandbox, per job.
#[derive(Debug, Default)]
pub(crate) struct Store {
    jobs: HashMap<i64, Job>,
}

impl Store {
    /// The job `job`, created empty on first use.
    pub(crate) fn job(&mut self, job: i64) -> &mut Job {
        self.jobs.entry(job).or_default()
    }

    /// The persons held in `job`, as received, in import order.
    pub(crate) fn persons(&self, job: i64) -> Vec<Value> {
        self.jobs
            .get(&job)
            .map(|j| {
                j.persons
                    .iter()
                    .map(|p| serde_json::from_str(p).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Job {
    /// Keeps `person` (its JSON text) unless the job already holds `phone`; true when kept.
    pub(crate) fn keep(&mut self, phone: &str, person: Box<str>) -> bool {
        let new = self.phones.insert(phone.into());
        if new {
            self.persons.push(person);
        }
        new
    }
}
