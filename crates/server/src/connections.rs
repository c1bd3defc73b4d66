//! The connections a server holds at once: at most its cap, and, at the cap, room made
//! for a new one by closing the connection that has been idle longest.
//!
//! SDK clients keep their connections open between calls, and a test suite that makes a
//! client per test leaves many of them idle. Without eviction, once the cap is reached a
//! new client would wait until an idle connection's header read timeout closed it (10 s
//! by default). Busy connections are never interrupted: a connection asked to close ends
//! once its request in flight, if any, has been answered (hyper's graceful shutdown).
//! A connection that has not yet sent a request is left [`FIRST_REQUEST_GRACE`] to send
//! one before it counts as idle: closed at once, the connections opened together at the
//! cap closed one another before their first request, and their clients saw them end
//! without an answer. An idle connection asked to close ends at once, unless it is still
//! writing an answer its client is slow to take (or never takes, until the write
//! timeout): one that has not ended within [`SLOW_TO_CLOSE`] no longer holds up the new
//! connection, and the next idlest is asked too.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// How long a new connection has to send its first request (or, over TLS, to complete its
/// handshake) before it may be closed to make room for another.
pub(crate) const FIRST_REQUEST_GRACE: Duration = Duration::from_secs(1);

/// How long a new connection waits for the idle one asked to make room before the next
/// idlest is asked too: an idle connection ends at once, but one still writing an answer
/// to a client that does not read it ends only at the write timeout (10 s by default).
pub(crate) const SLOW_TO_CLOSE: Duration = Duration::from_millis(250);

/// The connections of one server.
#[derive(Debug)]
pub(crate) struct Connections {
    permits: Arc<Semaphore>,
    shared: Arc<Shared>,
    open: Mutex<HashMap<u64, Arc<Tracked>>>,
    next_id: AtomicU64,
    /// Signalled when the last open connection ends.
    none_open: Notify,
}

/// What every connection's [`Tracked`] refers back to.
#[derive(Debug)]
struct Shared {
    epoch: Instant,
    /// Whether a new connection waits for room: only then does a connection that becomes
    /// idle say so (a load of this flag is all a request costs otherwise).
    waiting: AtomicBool,
    /// Signalled when a connection becomes idle while [`Self::waiting`].
    became_idle: Notify,
}

impl Shared {
    /// Nanoseconds since the server's epoch.
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }
}

/// One connection's activity. Aligned to a cache-line pair so that connections served on
/// different threads never write to the same line.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct Tracked {
    shared: Arc<Shared>,
    /// Requests being answered.
    in_flight: AtomicUsize,
    /// When it last became idle (or was admitted), in nanoseconds since the server's epoch.
    idle_since: AtomicU64,
    /// Set once it has been asked to close.
    closing: AtomicBool,
    /// Set once a request has started on it.
    served: AtomicBool,
    close: Notify,
}

impl Tracked {
    /// Counts a request in flight until the returned guard is dropped.
    pub(crate) fn start(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.served.store(true, Ordering::Relaxed);
        InFlight(self)
    }

    /// Whether a request has started on it: until then, closing it cuts nothing off (a
    /// request head partly received is no request to answer). Exact when asked from the
    /// task serving the connection, which is where requests start.
    pub(crate) fn served(&self) -> bool {
        self.served.load(Ordering::Relaxed)
    }

    /// Resolves once the connection has been asked to close to make room.
    pub(crate) async fn close_requested(&self) {
        self.close.notified().await;
    }
}

/// A request in flight on a connection (see [`Tracked::start`]).
#[derive(Debug)]
pub(crate) struct InFlight<'a>(&'a Tracked);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let tracked = self.0;
        tracked
            .idle_since
            .store(tracked.shared.now(), Ordering::Relaxed);
        // SeqCst with `make_room`'s store and load: either it sees this connection idle, or
        // this sees it waiting.
        if tracked.in_flight.fetch_sub(1, Ordering::SeqCst) == 1
            && tracked.shared.waiting.load(Ordering::SeqCst)
        {
            tracked.shared.became_idle.notify_waiters();
        }
    }
}

/// A connection's place among the open ones; dropping it makes room for another.
#[derive(Debug)]
pub(crate) struct Slot {
    connections: Arc<Connections>,
    id: u64,
    tracked: Arc<Tracked>,
    _permit: OwnedSemaphorePermit,
}

impl Slot {
    /// The connection's activity, for its requests to report to.
    pub(crate) fn tracked(&self) -> &Arc<Tracked> {
        &self.tracked
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.connections.open();
        open.remove(&self.id);
        if open.is_empty() {
            self.connections.none_open.notify_waiters();
        }
    }
}

impl Connections {
    /// At most `max` connections at once (at least 1, at most [`Semaphore::MAX_PERMITS`]).
    pub(crate) fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            permits: Arc::new(Semaphore::new(max.clamp(1, Semaphore::MAX_PERMITS))),
            shared: Arc::new(Shared {
                epoch: Instant::now(),
                waiting: AtomicBool::new(false),
                became_idle: Notify::new(),
            }),
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            none_open: Notify::new(),
        })
    }

    fn open(&self) -> MutexGuard<'_, HashMap<u64, Arc<Tracked>>> {
        // A panic while holding the lock leaves the map consistent (one insert or remove).
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Room for one more connection: at once below the cap; at the cap, once the
    /// connection idle longest has been asked to close and has closed (or any other has
    /// ended). While every connection is busy it waits, and tries again whenever one
    /// becomes idle.
    pub(crate) async fn admit(self: &Arc<Self>) -> Slot {
        let permit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => self.make_room().await,
        };
        let tracked = Arc::new(Tracked {
            shared: Arc::clone(&self.shared),
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(self.shared.now()),
            closing: AtomicBool::new(false),
            served: AtomicBool::new(false),
            close: Notify::new(),
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.open().insert(id, Arc::clone(&tracked));
        Slot {
            connections: Arc::clone(self),
            id,
            tracked,
            _permit: permit,
        }
    }

    async fn make_room(&self) -> OwnedSemaphorePermit {
        self.shared.waiting.store(true, Ordering::SeqCst);
        let permit = loop {
            let became_idle = self.shared.became_idle.notified();
            tokio::pin!(became_idle);
            // Registered before looking, so that a connection going idle meanwhile is seen.
            became_idle.as_mut().enable();
            let grace_over = match self.close_idlest() {
                // One closes for one admitted: it is idle, so it ends at once (or after the
                // request that raced this in, if one did) — unless it is still writing an
                // answer its client does not take: then the next idlest is asked too.
                Idlest::Asked => {
                    let permit = Arc::clone(&self.permits).acquire_owned();
                    match tokio::time::timeout(SLOW_TO_CLOSE, permit).await {
                        Ok(permit) => break permit,
                        Err(_) => continue,
                    }
                }
                Idlest::NewUntil(at) => Some(at),
                Idlest::None => None,
            };
            let grace_over = async {
                match grace_over {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                permit = Arc::clone(&self.permits).acquire_owned() => break permit,
                () = &mut became_idle => {}
                () = grace_over => {}
            }
        };
        self.shared.waiting.store(false, Ordering::Relaxed);
        permit.expect("the semaphore is never closed")
    }

    /// Asks the connection idle longest (no request in flight, not already asked, and
    /// either served or past its [`FIRST_REQUEST_GRACE`]) to close.
    fn close_idlest(&self) -> Idlest {
        let open = self.open();
        let grace = FIRST_REQUEST_GRACE.as_nanos() as u64;
        let now = self.shared.now();
        let mut idlest: Option<(u64, &Arc<Tracked>)> = None;
        let mut new_until: Option<u64> = None;
        for tracked in open.values() {
            if tracked.in_flight.load(Ordering::SeqCst) != 0
                || tracked.closing.load(Ordering::Relaxed)
            {
                continue;
            }
            let since = tracked.idle_since.load(Ordering::Relaxed);
            if !tracked.served() && now < since + grace {
                new_until = Some(new_until.map_or(since + grace, |at| at.min(since + grace)));
            } else if idlest.is_none_or(|(idlest, _)| since < idlest) {
                idlest = Some((since, tracked));
            }
        }
        match (idlest, new_until) {
            (Some((_, tracked)), _) => {
                tracked.closing.store(true, Ordering::Relaxed);
                // Kept until the connection's task looks, if it is not looking yet.
                tracked.close.notify_one();
                Idlest::Asked
            }
            (None, Some(at)) => Idlest::NewUntil(self.shared.epoch + Duration::from_nanos(at)),
            (None, None) => Idlest::None,
        }
    }

    /// Resolves once no connection is open.
    pub(crate) async fn none_open(&self) {
        loop {
            let ended = self.none_open.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if self.open().is_empty() {
                return;
            }
            ended.await;
        }
    }
}

/// What [`Connections::close_idlest`] did.
enum Idlest {
    /// It asked one to close.
    Asked,
    /// None to ask: those idle are new, the first of them until this instant.
    NewUntil(Instant),
    /// None to ask: every connection is busy or already closing.
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `connections.admit()`, in a task of its own.
    fn admit_later(connections: &Arc<Connections>) -> tokio::task::JoinHandle<Slot> {
        let connections = Arc::clone(connections);
        tokio::spawn(async move { connections.admit().await })
    }

    #[tokio::test]
    async fn below_the_cap_a_connection_is_admitted_at_once() {
        let connections = Connections::new(2);
        let _a = connections.admit().await;
        let _b = connections.admit().await;
        assert_eq!(connections.open().len(), 2);
    }

    #[tokio::test]
    async fn at_the_cap_the_connection_idle_longest_is_asked_to_close() {
        let connections = Connections::new(3);
        let busy = connections.admit().await;
        let idle_first = connections.admit().await;
        let idle_then = connections.admit().await;
        // The busy one was admitted first, but has a request in flight.
        let _request = busy.tracked().start();
        drop(idle_first.tracked().start());
        drop(idle_then.tracked().start());

        let waiting = admit_later(&connections);
        idle_first.tracked().close_requested().await;
        assert!(idle_first.tracked().closing.load(Ordering::Relaxed));
        assert!(!idle_then.tracked().closing.load(Ordering::Relaxed));
        assert!(!busy.tracked().closing.load(Ordering::Relaxed));
        drop(idle_first);
        waiting.await.unwrap();
    }

    #[tokio::test]
    async fn when_all_are_busy_the_first_to_become_idle_is_asked_to_close() {
        let connections = Connections::new(2);
        let a = connections.admit().await;
        let b = connections.admit().await;
        let request_a = a.tracked().start();
        let request_b = b.tracked().start();

        let waiting = admit_later(&connections);
        while !connections.shared.waiting.load(Ordering::Relaxed) {
            tokio::task::yield_now().await;
        }
        assert!(!a.tracked().closing.load(Ordering::Relaxed));
        drop(request_b);
        b.tracked().close_requested().await;
        assert!(!a.tracked().closing.load(Ordering::Relaxed));
        drop(b);
        let _c = waiting.await.unwrap();
        assert!(!connections.shared.waiting.load(Ordering::Relaxed));
        drop(request_a);
    }

    #[tokio::test]
    async fn a_new_connection_is_left_its_grace_and_then_asked_to_close() {
        let connections = Connections::new(2);
        let new = connections.admit().await;
        let served = connections.admit().await;
        drop(served.tracked().start());

        // The new one was admitted first, but has not had its grace to send a request.
        let waiting = admit_later(&connections);
        served.tracked().close_requested().await;
        assert!(!new.tracked().closing.load(Ordering::Relaxed));
        drop(served);
        let _admitted = waiting.await.unwrap();

        // Past its grace, it makes room as an idle one does.
        let waiting = admit_later(&connections);
        new.tracked().close_requested().await;
        drop(new);
        waiting.await.unwrap();
    }

    /// One asked to close that does not end soon (it is writing an answer its client does
    /// not read) does not hold up the new connection: the next idlest is asked too.
    #[tokio::test]
    async fn one_asked_that_does_not_end_soon_does_not_hold_up_a_new_one() {
        let connections = Connections::new(2);
        let stuck = connections.admit().await;
        let idle = connections.admit().await;
        drop(stuck.tracked().start());
        drop(idle.tracked().start());

        let waiting = admit_later(&connections);
        stuck.tracked().close_requested().await;
        // It does not end; the other is asked once it has not.
        let asked = tokio::time::timeout(Duration::from_secs(20), idle.tracked().close_requested());
        asked.await.expect("the next idlest was never asked");
        drop(idle);
        waiting.await.unwrap();
        drop(stuck);
    }

    #[tokio::test]
    async fn none_open_waits_for_the_last_connection() {
        let connections = Connections::new(2);
        connections.none_open().await;
        let a = connections.admit().await;
        let waiting = tokio::spawn({
            let connections = Arc::clone(&connections);
            async move { connections.none_open().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(a);
        waiting.await.unwrap();
    }
}
