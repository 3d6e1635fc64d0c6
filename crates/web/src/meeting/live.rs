//! The live check-in stream's in-process side (DESIGN.md "Live check-in", step 4): one
//! `tokio::sync::broadcast` channel per meeting with someone watching, created lazily and dropped
//! when nobody watches any more; and, on PostgreSQL, the node's LISTEN task that brings the
//! check-ins committed on other nodes into this node's channels.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use dangjian_store::Scope;
use dangjian_store::meeting::LiveCheckin;
use dangjian_store::meeting::writer::Committed;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::AppState;
use crate::meeting::api::CountsView;

/// Events a slow watcher may fall behind before its stream ends (it then reconnects with
/// `Last-Event-ID` and is replayed what it missed).
const CHANNEL_CAPACITY: usize = 1024;
/// Sequence numbers remembered per meeting, so an event published locally and announced again
/// through NOTIFY goes out once.
const RECENT: usize = 4096;

/// One committed check-in, ready to send: its sequence number and its `data:` JSON.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    pub seq: i64,
    pub data: String,
}

struct Channel {
    tx: broadcast::Sender<Arc<LiveEvent>>,
    seen: HashSet<i64>,
    order: VecDeque<i64>,
}

#[derive(Default)]
pub struct LiveHub {
    channels: Mutex<HashMap<i64, Channel>>,
    /// Open streams per user on this node (bounded: `WebConfig::max_streams_per_user`).
    streams: Arc<Mutex<HashMap<i64, usize>>>,
}

/// One open stream of a user; the count goes down when the stream is dropped.
pub struct StreamSlot {
    streams: Arc<Mutex<HashMap<i64, usize>>>,
    user_id: i64,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut m = self
            .streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = m.get_mut(&self.user_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&self.user_id);
            }
        }
    }
}

impl std::fmt::Debug for LiveHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveHub")
    }
}

impl LiveHub {
    /// A slot for one more stream of `user_id`, or None when they have `max` open already.
    pub fn open_stream(&self, user_id: i64, max: usize) -> Option<StreamSlot> {
        let mut m = self
            .streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = m.entry(user_id).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(StreamSlot {
            streams: self.streams.clone(),
            user_id,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Channel>> {
        self.channels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Watches a meeting's check-ins from now on.
    pub fn subscribe(&self, meeting_id: i64) -> broadcast::Receiver<Arc<LiveEvent>> {
        let mut map = self.lock();
        map.retain(|_, c| c.tx.receiver_count() > 0);
        map.entry(meeting_id)
            .or_insert_with(|| Channel {
                tx: broadcast::channel(CHANNEL_CAPACITY).0,
                seen: HashSet::new(),
                order: VecDeque::new(),
            })
            .tx
            .subscribe()
    }

    /// Whether anyone on this node watches the meeting (else there is nothing to load or send).
    pub fn watched(&self, meeting_id: i64) -> bool {
        self.lock()
            .get(&meeting_id)
            .is_some_and(|c| c.tx.receiver_count() > 0)
    }

    /// Sends a committed event to the meeting's watchers, once per sequence number.
    pub fn publish(&self, meeting_id: i64, ev: LiveEvent) {
        let mut map = self.lock();
        let Some(c) = map.get_mut(&meeting_id) else {
            return;
        };
        if c.tx.receiver_count() == 0 {
            map.remove(&meeting_id);
            return;
        }
        if !c.seen.insert(ev.seq) {
            return;
        }
        c.order.push_back(ev.seq);
        if c.order.len() > RECENT
            && let Some(old) = c.order.pop_front()
        {
            c.seen.remove(&old);
        }
        let _ = c.tx.send(Arc::new(ev));
    }
}

/// The `data:` of one check-in on the stream (`event: checkin`).
#[derive(Debug, Serialize)]
pub struct LiveEventView<'a> {
    pub event_id: &'a str,
    pub person_id: Option<i64>,
    pub name: &'a str,
    /// The person's state after it: `present`, `left_early`, …
    pub state: &'a str,
    pub late: bool,
    pub at: String,
    pub counts: CountsView,
}

/// The `data:` of one check-in on the stream.
pub fn event_data(
    e: &LiveCheckin,
    counts: &dangjian_rules::meeting::Counts,
    offset: time::UtcOffset,
) -> String {
    let at = crate::contract::rfc3339(e.at.to_offset(offset));
    let view = LiveEventView {
        event_id: &e.event_id,
        person_id: e.person_id,
        name: &e.name,
        state: &e.state,
        late: e.late,
        at,
        counts: (*counts).into(),
    };
    serde_json::to_string(&view).unwrap_or_default()
}

/// Publishes what this node's check-in writer committed (called by the writer, in sequence
/// order, right after the commit): no database read.
pub fn publish_batch(hub: &LiveHub, offset: time::UtcOffset, meeting_id: i64, events: &[Committed]) {
    if !hub.watched(meeting_id) {
        return;
    }
    for c in events {
        let data = event_data(&c.checkin, &c.counts, offset);
        hub.publish(
            meeting_id,
            LiveEvent {
                seq: c.checkin.seq,
                data,
            },
        );
    }
}

/// Loads check-ins another node committed (`first..=last`) and publishes them, if anyone on this
/// node watches the meeting.
pub async fn publish_committed(state: &AppState, meeting_id: i64, first: i64, last: i64) {
    if !state.live.watched(meeting_id) {
        return;
    }
    let loaded = state
        .store
        .meetings()
        .live_checkins(&Scope::system(), meeting_id, first - 1, Some(last))
        .await;
    match loaded {
        Ok((events, counts)) => {
            for e in events {
                let data = event_data(&e, &counts, state.store.local.offset);
                state.live.publish(meeting_id, LiveEvent { seq: e.seq, data });
            }
        }
        Err(err) => tracing::warn!(error = %err, "loading a committed check-in for the stream failed"),
    }
}

/// On PostgreSQL, the node's LISTEN task: check-ins committed on any node are announced on
/// `dangjian_checkin` as `<meeting_id>:<first seq>:<last seq>:<node>`; other nodes' are loaded
/// and sent to this node's watchers. On SQLite (one node) there is none.
pub fn spawn_listener(state: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    if state.store.db.engine() != dangjian_store::db::Engine::Postgres {
        return None;
    }
    let state = state.clone();
    Some(tokio::spawn(async move {
        loop {
            match state.store.meetings().checkin_listener().await {
                Some(Ok(mut listener)) => loop {
                    match listener.recv(state.store.checkins.node).await {
                        Ok((m, first, last)) => publish_committed(&state, m, first, last).await,
                        Err(e) => {
                            tracing::warn!(error = %e, "LISTEN dangjian_checkin lost");
                            break;
                        }
                    }
                },
                Some(Err(e)) => tracing::warn!(error = %e, "LISTEN dangjian_checkin failed"),
                None => return,
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }))
}
