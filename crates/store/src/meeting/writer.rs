//! The node's check-in writer (DESIGN.md "Live check-in", step 3): one task takes every check-in
//! of this node from a queue, decides each against the meeting's in-memory roster, and stores all
//! that queued up meanwhile in one transaction (group commit): one meeting-row lock, a few
//! multi-row INSERTs and one audit record per meeting and caller, then one commit. Callers are
//! answered after the commit — an acknowledged event is durable — and the committed events go to
//! the live stream in sequence order, then (PostgreSQL) one NOTIFY per meeting and batch.
//!
//! While one batch commits the next one fills, so the batch size follows the load by itself: one
//! event alone costs one commit; 256 in flight share one.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use dangjian_rules::meeting::{
    self, CheckinFacts, CheckinOutcome, CheckinPolicy, CheckinWho, Counts, Event, MeetingStatus,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use super::roster::{Roster, Stored};
use super::{CHECKIN_CHANNEL, CheckinAnswer, LiveCheckin, MEETING_COLS, MeetingRow, NewCheckin, Who};
use crate::Meetings;
use crate::Store;
use crate::audit::Actor;
use crate::db::{Db, Tx};
use crate::error::{StoreError, StoreResult};
use crate::scope::Scope;

/// Most events stored in one transaction; more queued wait for the next one.
const MAX_BATCH: usize = 1024;
/// Rows per INSERT statement (sqlx's SQLite driver binds slowly past a few hundred parameters).
const ROWS_PER_INSERT: usize = 32;
const QUEUE: usize = 8192;

/// One committed check-in with the meeting's counts right after it, as the stream sends it.
#[derive(Debug, Clone)]
pub struct Committed {
    pub checkin: LiveCheckin,
    pub counts: Counts,
}

/// Called after each commit with the meeting and its committed events in sequence order.
pub type CommitHook = Arc<dyn Fn(i64, &[Committed]) + Send + Sync>;

struct Job {
    scope: Scope,
    actor: Actor,
    meeting_id: i64,
    ev: NewCheckin,
    reply: oneshot::Sender<StoreResult<CheckinAnswer>>,
}

/// The node's writer: started explicitly ([`Store::start_checkin_writer`]), once at a time.
pub struct CheckinWriter {
    /// The running writer's queue; None while none runs (check-ins are then refused).
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    /// Bumped when seats are assigned: the writer reloads the seats of its rosters.
    seats: std::sync::atomic::AtomicU64,
    /// Tells this node's own NOTIFYs apart from the other nodes'.
    pub node: u64,
}

/// A second [`Store::start_checkin_writer`] while one runs: the node has one writer (its
/// rosters are the node's view of each meeting).
#[derive(Debug, thiserror::Error)]
#[error("the check-in writer of this store is running already")]
pub struct AlreadyStarted;

/// The running writer. Dropping it (or [`WriterHandle::stop`]) closes the queue: events queued
/// already are still stored, later check-ins are refused until a writer is started again.
pub struct WriterHandle {
    writer: Arc<CheckinWriter>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl WriterHandle {
    /// Closes the queue and waits until the events in it are stored.
    pub async fn stop(mut self) {
        self.writer.close();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for WriterHandle {
    fn drop(&mut self) {
        self.writer.close();
    }
}

impl std::fmt::Debug for WriterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriterHandle")
    }
}

impl Default for CheckinWriter {
    fn default() -> Self {
        let mut b = [0u8; 8];
        // a collision only makes a node publish its own events twice (deduplicated by seq)
        let _ = getrandom::fill(&mut b);
        Self {
            queue: Mutex::new(None),
            seats: std::sync::atomic::AtomicU64::new(0),
            node: u64::from_le_bytes(b),
        }
    }
}

impl std::fmt::Debug for CheckinWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CheckinWriter")
    }
}

impl CheckinWriter {
    fn queue(&self) -> std::sync::MutexGuard<'_, Option<mpsc::Sender<Job>>> {
        // the guarded value is a channel handle: a panic elsewhere cannot leave it half-set
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn close(&self) {
        self.queue().take();
    }

    /// Whether a writer runs for this store.
    pub fn running(&self) -> bool {
        self.queue().is_some()
    }

    /// Seats were assigned on this node (on another, the roster's seats are as loaded).
    pub fn seats_changed(&self) {
        self.seats.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// A decided event waiting for the batch's INSERT.
struct Pending {
    job: usize,
    person_id: i64,
    card_uid: Option<String>,
    hash: String,
    /// The clock the poster sent (or the receipt time), kept as sent.
    device_at: OffsetDateTime,
    /// The time the event is judged by (`rules::meeting::counted_time`).
    counted_at: OffsetDateTime,
    answer: String,
    live: Committed,
}

enum Outcome {
    Stored(usize),
    Replay(serde_json::Value),
    Failed(StoreError),
}

impl Meetings<'_> {
    /// One check-in or presence event (API.md): handed to the node's writer and answered after
    /// the transaction holding it commits. A replay (same `event_id`, same body) gets the stored
    /// answer and changes nothing; the same `event_id` with another body → 409
    /// `event_id_conflict`; an unknown card is kept on the meeting's unresolved list (committed)
    /// and refused with 422 `unknown_card`.
    /// Judged by the store's check-in settings (`Settings::checkin`).
    pub async fn checkin(
        &self,
        scope: &Scope,
        actor: &Actor,
        meeting_id: i64,
        ev: NewCheckin,
    ) -> StoreResult<CheckinAnswer> {
        let queue = self
            .checkins
            .queue()
            .clone()
            .ok_or_else(|| StoreError::Internal(anyhow::anyhow!("the check-in writer is not running")))?;
        let (reply, answer) = oneshot::channel();
        let job = Job {
            scope: scope.clone(),
            actor: actor.clone(),
            meeting_id,
            ev,
            reply,
        };
        queue
            .send(job)
            .await
            .map_err(|_| StoreError::Internal(anyhow::anyhow!("the check-in writer stopped")))?;
        answer
            .await
            .map_err(|_| StoreError::Internal(anyhow::anyhow!("the check-in writer dropped an event")))?
    }
}

impl Store {
    /// Starts this store's check-in writer (one task; the node's web layer starts it with its
    /// live hub as `hook`, called after each commit with the committed events in sequence
    /// order). Refused while one runs. Dropping the handle stops it.
    pub fn start_checkin_writer(&self, hook: Option<CommitHook>) -> Result<WriterHandle, AlreadyStarted> {
        let mut slot = self.checkins.queue();
        if slot.is_some() {
            return Err(AlreadyStarted);
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        *slot = Some(tx);
        drop(slot);
        let task = tokio::spawn(run(self.clone(), rx, hook));
        Ok(WriterHandle {
            writer: self.checkins.clone(),
            task: Some(task),
        })
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>, hook: Option<CommitHook>) {
    let mut rosters: HashMap<i64, Roster> = HashMap::new();
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let batch = std::mem::take(&mut jobs);
        store
            .meetings()
            .write_batch(&mut rosters, batch, hook.as_ref())
            .await;
        // rosters of meetings nobody checks in to any more are dropped with the meeting's close
        rosters.retain(|_, r| r.meeting.stored_status() != MeetingStatus::Closed);
    }
}

impl Meetings<'_> {
    async fn write_batch(
        &self,
        rosters: &mut HashMap<i64, Roster>,
        jobs: Vec<Job>,
        hook: Option<&CommitHook>,
    ) {
        let now = self.now();
        let mut outcomes: Vec<Option<Outcome>> = (0..jobs.len()).map(|_| None).collect();
        let mut pending: Vec<Pending> = Vec::new();
        let result = self
            .decide_and_store(rosters, &jobs, &mut outcomes, &mut pending, now)
            .await;
        let mut published: BTreeMap<i64, Vec<Committed>> = BTreeMap::new();
        match result {
            Ok(()) => {
                for p in &pending {
                    published
                        .entry(jobs[p.job].meeting_id)
                        .or_default()
                        .push(p.live.clone());
                }
            }
            Err(e) => {
                // the rosters were changed for events that are not stored: load them afresh
                for j in &jobs {
                    rosters.remove(&j.meeting_id);
                }
                tracing::warn!(error = %e, events = jobs.len(), "a check-in batch failed");
                outcomes = (0..jobs.len())
                    .map(|_| {
                        Some(Outcome::Failed(StoreError::Internal(anyhow::anyhow!(
                            "storing the check-in failed: {e}"
                        ))))
                    })
                    .collect();
            }
        }
        // publish before answering: a client that sees its answer finds the event on the stream
        for (meeting_id, events) in &mut published {
            events.sort_by_key(|c| c.checkin.seq);
            if let Some(hook) = hook {
                hook(*meeting_id, events);
            }
        }
        for (job, outcome) in jobs.into_iter().zip(outcomes) {
            let answer = match outcome {
                Some(Outcome::Stored(i)) => {
                    let p = &pending[i];
                    serde_json::from_str(&p.answer)
                        .map(|body| CheckinAnswer {
                            created: true,
                            body,
                            seq: Some(p.live.checkin.seq),
                        })
                        .map_err(|e| StoreError::Internal(e.into()))
                }
                Some(Outcome::Replay(body)) => Ok(CheckinAnswer {
                    created: false,
                    body,
                    seq: None,
                }),
                Some(Outcome::Failed(e)) => Err(e),
                None => Err(StoreError::Internal(anyhow::anyhow!("check-in not decided"))),
            };
            // the caller may have gone away (client timeout): the event is stored all the same
            let _ = job.reply.send(answer);
        }
        for (meeting_id, events) in &published {
            self.announce_batch(*meeting_id, events).await;
        }
    }

    async fn decide_and_store(
        &self,
        rosters: &mut HashMap<i64, Roster>,
        jobs: &[Job],
        outcomes: &mut [Option<Outcome>],
        pending: &mut Vec<Pending>,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        // lock and refresh each meeting of the batch once, in id order (no deadlock between nodes)
        let mut meeting_ids: Vec<i64> = jobs.iter().map(|j| j.meeting_id).collect();
        meeting_ids.sort_unstable();
        meeting_ids.dedup();
        let mut opened = Vec::new();
        let mut unknown_cards: Vec<(usize, String)> = Vec::new();
        for &mid in &meeting_ids {
            let sql = format!("UPDATE meeting SET status = status WHERE id = $1 RETURNING {MEETING_COLS}");
            let row: Option<MeetingRow> = with_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(mid).fetch_optional(c).await)?;
            let Some(row) = row else {
                rosters.remove(&mid);
                continue;
            };
            let seats_now = self.checkins.seats.load(std::sync::atomic::Ordering::Acquire);
            match rosters.get_mut(&mid) {
                Some(r) => {
                    r.meeting = row;
                    r.refresh(&mut tx).await?;
                    if r.grace_is_stale() {
                        r.set_grace(self.settings_at(&r.meeting.org_path).await?.grace());
                    }
                    if r.seats_version != seats_now {
                        r.set_seats(self.seat_labels(mid).await?, seats_now);
                    }
                }
                None => {
                    let grace = self.settings_at(&row.org_path).await?.grace();
                    let mut r = Roster::load(&mut tx, row, grace).await?;
                    r.set_seats(self.seat_labels(mid).await?, seats_now);
                    rosters.insert(mid, r);
                }
            }
        }
        for (i, job) in jobs.iter().enumerate() {
            let Some(roster) = rosters.get_mut(&job.meeting_id) else {
                outcomes[i] = Some(Outcome::Failed(StoreError::NotFound));
                continue;
            };
            let outcome = decide(
                &mut tx,
                &self.settings().checkin,
                roster,
                job,
                i,
                now,
                pending,
                &mut unknown_cards,
            )
            .await?;
            if let Outcome::Stored(_) = outcome
                && roster.meeting.stored_status() == MeetingStatus::Planned
            {
                opened.push(job.meeting_id);
                roster.meeting.status = MeetingStatus::Open;
            }
            outcomes[i] = Some(outcome);
        }

        self.insert_events(&mut tx, jobs, pending, now).await?;
        for p in pending.iter() {
            if let Some(r) = rosters.get_mut(&jobs[p.job].meeting_id) {
                r.advance(p.live.checkin.seq);
            }
        }
        for mid in opened {
            with_tx!(&mut tx, c => sqlx::query("UPDATE meeting SET status = 'open' WHERE id = $1 AND status = 'planned'")
                .bind(mid).execute(c).await.map(|r| r.rows_affected()))?;
        }
        for (i, card) in &unknown_cards {
            let job = &jobs[*i];
            let device_at = crate::clock::truncate_micros(job.ev.at.unwrap_or(now));
            with_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO unresolved_card (meeting_id, event_id, card_uid, device_at, received_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (meeting_id, event_id) DO NOTHING")
                .bind(job.meeting_id).bind(&job.ev.event_id).bind(card).bind(device_at).bind(now)
                .execute(c).await.map(|r| r.rows_affected()))?;
        }
        self.audit_batch(&mut tx, rosters, jobs, pending, &unknown_cards, now)
            .await?;
        // a batch of replays and refusals stored nothing, so it has no audit row to commit
        if tx.appended() == 0 {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        Ok(())
    }

    /// Multi-row INSERTs of the batch's events; each pending event gets its sequence number.
    /// `now` is the batch's receipt time: the same on every event of the batch and its audit row.
    async fn insert_events(
        &self,
        tx: &mut Tx,
        jobs: &[Job],
        pending: &mut [Pending],
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        for chunk in pending.chunks_mut(ROWS_PER_INSERT) {
            let mut sql = String::from(
                "INSERT INTO checkin_event (meeting_id, event_id, body_hash, person_id, card_uid, method, direction, \
                 device_at, received_at, reason, recorded_by, answer_json, counted_at) VALUES ",
            );
            let rows: Vec<String> = (0..chunk.len())
                .map(|k| format!("({})", crate::db::placeholders(1 + k * 13, 13)))
                .collect();
            sql.push_str(&rows.join(", "));
            sql.push_str(" RETURNING id, meeting_id, event_id");
            let rows: Vec<(i64, i64, String)> = with_tx!(tx, c => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
                for p in chunk.iter() {
                    let job = &jobs[p.job];
                    q = q
                        .bind(job.meeting_id)
                        .bind(&job.ev.event_id)
                        .bind(&p.hash)
                        .bind(p.person_id)
                        .bind(&p.card_uid)
                        .bind(job.ev.method.as_str())
                        .bind(job.ev.direction.as_str())
                        .bind(p.device_at)
                        .bind(now)
                        .bind(&job.ev.reason)
                        .bind(job.actor.user_id)
                        .bind(&p.answer)
                        .bind(p.counted_at);
                }
                q.fetch_all(c).await
            })?;
            for (id, meeting_id, event_id) in rows {
                if let Some(p) = chunk
                    .iter_mut()
                    .find(|p| jobs[p.job].meeting_id == meeting_id && jobs[p.job].ev.event_id == event_id)
                {
                    p.live.checkin.seq = id;
                }
            }
        }
        Ok(())
    }

    /// One audit record per meeting and caller in the batch: the count and a digest of the
    /// stored events (event id and body hash each), so the events table can be checked against
    /// the chain; unknown cards likewise.
    async fn audit_batch(
        &self,
        tx: &mut Tx,
        rosters: &HashMap<i64, Roster>,
        jobs: &[Job],
        pending: &[Pending],
        unknown_cards: &[(usize, String)],
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut groups: BTreeMap<(i64, Option<i64>, String), Vec<usize>> = BTreeMap::new();
        for (i, p) in pending.iter().enumerate() {
            let j = &jobs[p.job];
            groups
                .entry((j.meeting_id, j.actor.user_id, j.actor.name.clone()))
                .or_default()
                .push(i);
        }
        // meetings of several top-level orgs: their audit chains' heads in chain order first
        let paths = groups
            .keys()
            .map(|(mid, ..)| *mid)
            .chain(unknown_cards.iter().map(|(i, _)| jobs[*i].meeting_id))
            .filter_map(|mid| rosters.get(&mid).map(|r| Some(r.meeting.org_path.as_str())));
        tx.lock_audit_chains(paths).await?;
        for ((mid, user_id, name), idx) in groups {
            let mut h = Sha256::new();
            let mut first = i64::MAX;
            let mut last = 0;
            for &i in &idx {
                let p = &pending[i];
                h.update(jobs[p.job].ev.event_id.as_bytes());
                h.update([0x1f]);
                h.update(p.hash.as_bytes());
                h.update([0x1e]);
                first = first.min(p.live.checkin.seq);
                last = last.max(p.live.checkin.seq);
            }
            tx.audit(&Actor { user_id, name }, now)
                .act("checkin", "meeting")
                .id(mid)
                .org(rosters.get(&mid).map(|r| r.meeting.org_path.clone()))
                .after(json!({
                    "count": idx.len(), "first_seq": first, "last_seq": last,
                    "digest": hex::encode(h.finalize()),
                }))
                .append()
                .await?;
        }
        for (i, _) in unknown_cards {
            let j = &jobs[*i];
            tx.audit(&j.actor, now)
                .act("unknown_card", "meeting")
                .id(j.meeting_id)
                .org(rosters.get(&j.meeting_id).map(|r| r.meeting.org_path.clone()))
                .after(json!({"event_id": j.ev.event_id}))
                .append()
                .await?;
        }
        Ok(())
    }

    /// On PostgreSQL, one `NOTIFY dangjian_checkin` per meeting and batch,
    /// `<meeting>:<first seq>:<last seq>:<node>`, so the other nodes publish the events. The
    /// events are durable already: a failure is logged (the stream's replay by `Last-Event-ID`
    /// covers what a node missed).
    async fn announce_batch(&self, meeting_id: i64, events: &[Committed]) {
        let (Db::Postgres(pool), Some(first), Some(last)) = (&self.db, events.first(), events.last()) else {
            return;
        };
        let payload = format!(
            "{meeting_id}:{}:{}:{}",
            first.checkin.seq, last.checkin.seq, self.checkins.node
        );
        if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHECKIN_CHANNEL)
            .bind(&payload)
            .execute(pool)
            .await
        {
            tracing::warn!(error = %e, "notify of committed check-ins failed");
        }
    }
}

/// Loads what `rules::meeting::decide_checkin` needs about one event from the roster (asking
/// the database only for a person or card the roster does not know yet), lets the rule decide,
/// and carries the outcome out: the stored answer for a replay, the unresolved list for an
/// unknown card, the roster and `pending` for an event to store.
#[expect(
    clippy::too_many_arguments,
    reason = "the batch's state, passed down from one caller"
)]
async fn decide(
    tx: &mut Tx,
    policy: &CheckinPolicy,
    roster: &mut Roster,
    job: &Job,
    index: usize,
    now: OffsetDateTime,
    pending: &mut Vec<Pending>,
    unknown_cards: &mut Vec<(usize, String)>,
) -> StoreResult<Outcome> {
    let ev = &job.ev;
    let hash = ev.body_hash();
    let who = match &ev.who {
        Who::Person(p) => CheckinWho::Person {
            id: *p,
            admitted: roster.admits(tx, *p).await?,
        },
        Who::Card(card) => CheckinWho::Card {
            holder: roster.card_holder(tx, card).await?,
        },
    };
    let facts = CheckinFacts {
        in_scope: job.scope.contains_path(&roster.meeting.org_path),
        poster: ev.poster,
        stored: roster.stored.get(&ev.event_id).map(|s| s.hash == hash),
        unresolved: roster
            .unresolved
            .get(&ev.event_id)
            .map(|card| matches!(&ev.who, Who::Card(c) if c == card)),
        closed: roster.meeting.stored_status() == MeetingStatus::Closed,
        starts_at: roster.meeting.starts_at,
        ends_at: roster.meeting.ends_at,
        received: now,
        sent: ev.at,
        confirmed: ev.confirmed,
        who,
        method: ev.method,
        has_reason: ev.reason.is_some(),
    };
    let (person_id, counted_at) = match meeting::decide_checkin(policy, &facts) {
        CheckinOutcome::Store {
            person_id,
            counted_at,
        } => (person_id, crate::clock::truncate_micros(counted_at)),
        CheckinOutcome::NotVisible => return Ok(Outcome::Failed(StoreError::NotFound)),
        CheckinOutcome::Replay => {
            let answer = roster.stored.get(&ev.event_id).map_or("", |s| s.answer.as_str());
            let body = serde_json::from_str(answer).map_err(|e| StoreError::Internal(e.into()))?;
            return Ok(Outcome::Replay(body));
        }
        CheckinOutcome::Conflict(v) => return Ok(Outcome::Failed(StoreError::Conflict(v))),
        CheckinOutcome::Refuse(v) => return Ok(Outcome::Failed(v.into())),
        CheckinOutcome::Confirm(w) => return Ok(Outcome::Failed(StoreError::ConfirmationRequired(vec![w]))),
        CheckinOutcome::UnknownCard(v) => {
            if let Who::Card(card) = &ev.who {
                roster.unresolved.insert(ev.event_id.clone(), card.clone());
                unknown_cards.push((index, card.clone()));
            }
            return Ok(Outcome::Failed(v.into()));
        }
    };
    // the person's state after this event
    let device_at = crate::clock::truncate_micros(ev.at.unwrap_or(now));
    let a = roster.apply(
        person_id,
        Event {
            direction: ev.direction,
            at: counted_at,
        },
    );
    let seat = roster.seat(person_id).map(str::to_owned);
    let answer = json!({
        "event_id": ev.event_id, "person_id": person_id, "state": a.state.as_str(), "late": a.late, "seat": seat,
    })
    .to_string();
    roster.stored.insert(
        ev.event_id.clone(),
        Stored {
            hash: hash.clone(),
            answer: answer.clone(),
        },
    );
    let live = Committed {
        checkin: LiveCheckin {
            seq: 0,
            event_id: ev.event_id.clone(),
            person_id: Some(person_id),
            name: roster.name(person_id).to_owned(),
            state: a.state.as_str().to_owned(),
            late: a.late,
            at: counted_at,
        },
        counts: roster.counts(),
    };
    pending.push(Pending {
        job: index,
        person_id,
        card_uid: match &ev.who {
            Who::Card(c) => Some(c.clone()),
            Who::Person(_) => None,
        },
        hash,
        device_at,
        counted_at,
        answer,
        live,
    });
    Ok(Outcome::Stored(pending.len() - 1))
}
