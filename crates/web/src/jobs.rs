//! Background jobs of this node: work too long for one request (the logins of a whole
//! committee: an Argon2 hash each) runs in a task, and `GET /api/v1/jobs/{id}` reports its
//! progress and, once, its answer.
//!
//! Jobs live in this process's memory only: they end with it (a restart loses a running job and
//! the passwords of a finished one not yet fetched; the logins already stored stay, and their
//! passwords can be reset), and with several nodes a job is known only to the node that took the
//! POST. Their results never go to the database or the logs: the initial passwords are dropped
//! from memory once the creator has fetched them, and at the latest `KEEP_FINISHED` after the
//! job ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;

use crate::account::api::CreatedAccount;

/// How long a finished job (and a result nobody fetched) is kept.
pub const KEEP_FINISHED: time::Duration = time::Duration::hours(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Running,
    Done,
    Failed,
}

/// A bulk-accounts job: who started it, how far it is, and its answer until fetched.
pub struct Job {
    pub id: String,
    /// The login that started it: the only one who sees it.
    pub owner: i64,
    pub org_id: i64,
    pub org_name: String,
    pub total: usize,
    /// Passwords hashed so far.
    pub hashed: usize,
    /// Logins stored so far.
    pub created: usize,
    pub state: JobState,
    pub created_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    /// The logins made, with their initial passwords: taken (and so cleared) by the first read
    /// of the owner after the job ended.
    result: Option<Vec<CreatedAccount>>,
    /// The result was taken.
    pub result_taken: bool,
    /// Why it failed: (code, message in the starter's language).
    pub error: Option<(&'static str, String)>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the result: it holds passwords
        f.debug_struct("Job")
            .field("id", &self.id)
            .field("owner", &self.owner)
            .field("org_id", &self.org_id)
            .field("total", &self.total)
            .field("hashed", &self.hashed)
            .field("created", &self.created)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Job {
    /// Ends the job with what was made (and why it stopped short, if it did).
    pub fn finish(
        &mut self,
        now: OffsetDateTime,
        made: Vec<CreatedAccount>,
        error: Option<(&'static str, String)>,
    ) {
        self.created = made.len();
        self.state = if error.is_some() {
            JobState::Failed
        } else {
            JobState::Done
        };
        self.error = error;
        self.result = Some(made);
        self.finished_at = Some(now);
    }

    /// The result, once: later calls get None.
    pub fn take_result(&mut self) -> Option<Vec<CreatedAccount>> {
        if self.state == JobState::Running {
            return None;
        }
        let r = self.result.take();
        if r.is_some() {
            self.result_taken = true;
        }
        r
    }
}

pub type JobRef = Arc<Mutex<Job>>;

pub fn lock(job: &JobRef) -> MutexGuard<'_, Job> {
    job.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The jobs of this node by id.
#[derive(Default)]
pub struct Jobs {
    map: Mutex<HashMap<String, JobRef>>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jobs")
    }
}

impl Jobs {
    fn map(&self) -> MutexGuard<'_, HashMap<String, JobRef>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a new running job for `org_id`, unless one for that org is running already.
    pub fn start(
        &self,
        now: OffsetDateTime,
        owner: i64,
        org_id: i64,
        org_name: String,
        total: usize,
    ) -> Option<JobRef> {
        let mut map = self.map();
        map.retain(|_, j| {
            let j = lock(j);
            j.finished_at.is_none_or(|f| now - f < KEEP_FINISHED)
        });
        let running = map.values().any(|j| {
            let j = lock(j);
            j.org_id == org_id && j.state == JobState::Running
        });
        if running {
            return None;
        }
        // 128 random bits: not guessable, though only the owner is answered anyway
        let id = hex::encode(dangjian_store::keys::random_bytes::<16>());
        let job = Arc::new(Mutex::new(Job {
            id: id.clone(),
            owner,
            org_id,
            org_name,
            total,
            hashed: 0,
            created: 0,
            state: JobState::Running,
            created_at: now,
            finished_at: None,
            result: None,
            result_taken: false,
            error: None,
        }));
        map.insert(id, job.clone());
        Some(job)
    }

    /// The job `id` if `user_id` started it (anyone else's is not found).
    pub fn get(&self, id: &str, user_id: i64) -> Option<JobRef> {
        self.map().get(id).filter(|j| lock(j).owner == user_id).cloned()
    }
}
