//! The bounded offline queue of reports and events.
//!
//! Each message is encoded once, when it is accepted, into a fixed-size slot, and keeps its `clientToken` for
//! life: every resend carries the same token, so a receiver can drop repeats (protocol.md §4.2, §11.12). A
//! message leaves the queue only when its reply arrives (any code), when it was sent `max_retries + 1` times
//! without a reply, or when the queue is full and it is the oldest.

use heapless::Deque;
use iot_core::codec::{CodecError, Encode};

use crate::platform::MessageKind;

/// Where a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotState {
    /// Waiting to be published; `attempts` earlier sends got no reply.
    Pending {
        /// Sends so far.
        attempts: u8,
    },
    /// Published at `sent_at`; waiting for its reply.
    InFlight {
        /// When it was published.
        sent_at: u64,
        /// Sends so far, this one included.
        attempts: u8,
    },
}

/// One queued message.
#[derive(Debug, Clone)]
pub(crate) struct Entry<const SLOT: usize> {
    pub(crate) seq: u32,
    pub(crate) kind: MessageKind,
    pub(crate) state: SlotState,
    len: u16,
    bytes: [u8; SLOT],
}

impl<const SLOT: usize> Entry<SLOT> {
    /// The encoded message.
    pub(crate) fn payload(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// What [`OfflineQueue::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pushed {
    /// The oldest message was dropped to make room.
    pub(crate) dropped_oldest: bool,
}

/// `N` slots of `SLOT` bytes each.
#[derive(Debug)]
pub(crate) struct OfflineQueue<const N: usize, const SLOT: usize> {
    entries: Deque<Entry<SLOT>, N>,
}

impl<const N: usize, const SLOT: usize> OfflineQueue<N, SLOT> {
    pub(crate) const fn new() -> Self {
        Self {
            entries: Deque::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Entry<SLOT>> {
        self.entries.iter()
    }

    /// Encodes `message` into a new slot at the back. When the queue is full the oldest message is dropped
    /// first, so the newest data always gets in.
    ///
    /// # Errors
    /// [`CodecError::BufferTooSmall`] when the message needs more than `SLOT` bytes (nothing is dropped then), or
    /// the message's own encoding error.
    pub(crate) fn push<M: Encode>(
        &mut self,
        seq: u32,
        kind: MessageKind,
        message: &M,
    ) -> Result<Pushed, CodecError> {
        let needed = message.encoded_len()?;
        if needed > SLOT || N == 0 {
            return Err(CodecError::BufferTooSmall {
                needed,
                capacity: SLOT,
            });
        }
        let dropped_oldest = self.entries.is_full();
        if dropped_oldest {
            self.entries.pop_front();
        }
        let entry = Entry {
            seq,
            kind,
            state: SlotState::Pending { attempts: 0 },
            len: 0,
            bytes: [0; SLOT],
        };
        if self.entries.push_back(entry).is_err() {
            // Unreachable: a slot was freed above when the queue was full.
            return Err(CodecError::BufferTooSmall {
                needed,
                capacity: 0,
            });
        }
        let encoded = match self.entries.back_mut() {
            Some(slot) => message.encode(&mut slot.bytes).map(|len| {
                // `len <= SLOT`; a slot larger than 64 KiB would exceed the 16 KB payload limit anyway.
                slot.len = u16::try_from(len).unwrap_or(u16::MAX);
            }),
            None => Ok(()),
        };
        if let Err(e) = encoded {
            self.entries.pop_back();
            return Err(e);
        }
        Ok(Pushed { dropped_oldest })
    }

    /// The first message not yet in flight among the oldest `window` ones.
    pub(crate) fn next_to_send(&self, window: usize) -> Option<u32> {
        self.entries
            .iter()
            .take(window)
            .find(|e| matches!(e.state, SlotState::Pending { .. }))
            .map(|e| e.seq)
    }

    pub(crate) fn get(&self, seq: u32) -> Option<&Entry<SLOT>> {
        self.entries.iter().find(|e| e.seq == seq)
    }

    /// Marks a message published at `now`.
    pub(crate) fn mark_sent(&mut self, seq: u32, now: u64) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.seq == seq) {
            if let SlotState::Pending { attempts } = e.state {
                e.state = SlotState::InFlight {
                    sent_at: now,
                    attempts: attempts.saturating_add(1),
                };
            }
        }
    }

    /// Removes the message `seq` of `kind`, if it is queued. Returns whether it was.
    pub(crate) fn remove(&mut self, seq: u32, kind: MessageKind) -> bool {
        let matches = |e: &Entry<SLOT>| e.seq == seq && e.kind == kind;
        // The common case: replies come back in order, for the oldest message.
        if self.entries.front().is_some_and(matches) {
            self.entries.pop_front();
            return true;
        }
        let before = self.entries.len();
        self.entries.retain(|e| !matches(e));
        self.entries.len() != before
    }

    /// Every message in flight goes back to pending (the connection was lost before its reply).
    pub(crate) fn requeue_in_flight(&mut self) {
        for e in self.entries.iter_mut() {
            if let SlotState::InFlight { attempts, .. } = e.state {
                e.state = SlotState::Pending { attempts };
            }
        }
    }

    /// Handles reply timeouts at `now`: a message in flight for `timeout_ms` or more goes back to pending, or, when
    /// it was already sent `max_attempts` times, is removed and handed to `gave_up`. Returns how many went back.
    pub(crate) fn expire(
        &mut self,
        now: u64,
        timeout_ms: u64,
        max_attempts: u8,
        mut gave_up: impl FnMut(&Entry<SLOT>),
    ) -> u32 {
        let mut retried = 0;
        for e in self.entries.iter_mut() {
            if let SlotState::InFlight { sent_at, attempts } = e.state {
                if now.saturating_sub(sent_at) >= timeout_ms && attempts < max_attempts {
                    e.state = SlotState::Pending { attempts };
                    retried += 1;
                }
            }
        }
        let expired = |e: &Entry<SLOT>| {
            matches!(e.state, SlotState::InFlight { sent_at, attempts }
                if now.saturating_sub(sent_at) >= timeout_ms && attempts >= max_attempts)
        };
        if self.entries.iter().any(expired) {
            for e in self.entries.iter().filter(|e| expired(e)) {
                gave_up(e);
            }
            self.entries.retain(|e| !expired(e));
        }
        retried
    }

    /// The earliest reply deadline of a message in flight.
    pub(crate) fn next_timeout(&self, timeout_ms: u64) -> Option<u64> {
        self.entries
            .iter()
            .filter_map(|e| match e.state {
                SlotState::InFlight { sent_at, .. } => Some(sent_at.saturating_add(timeout_ms)),
                SlotState::Pending { .. } => None,
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iot_core::codec::{ParamValue, Report};

    fn report(
        token: &str,
        v: i64,
    ) -> (
        [(&'static str, ParamValue<'static>); 1],
        heapless::String<16>,
    ) {
        let mut t = heapless::String::new();
        let _ = t.push_str(token);
        ([("MQ2", ParamValue::Int(v))], t)
    }

    fn push<const N: usize, const S: usize>(q: &mut OfflineQueue<N, S>, seq: u32) -> Pushed {
        let (params, token) = report("t", i64::from(seq));
        let r = Report {
            client_token: token.as_str().into(),
            timestamp_ms: None,
            params: &params,
        };
        q.push(seq, MessageKind::Report, &r).unwrap()
    }

    #[test]
    fn full_queue_drops_the_oldest() {
        let mut q: OfflineQueue<3, 96> = OfflineQueue::new();
        for seq in 0..3 {
            assert!(!push(&mut q, seq).dropped_oldest);
        }
        assert!(push(&mut q, 3).dropped_oldest);
        let seqs: heapless::Vec<u32, 4> = q.iter().map(|e| e.seq).collect();
        assert_eq!(seqs.as_slice(), &[1, 2, 3]);
    }

    #[test]
    fn oversized_message_is_refused_without_dropping() {
        let mut q: OfflineQueue<1, 64> = OfflineQueue::new();
        push(&mut q, 0);
        let params = [("MQ2", ParamValue::Int(123_456_789))];
        let r = Report {
            client_token: "long-token-0123456789".into(),
            timestamp_ms: Some(1_700_000_000_000),
            params: &params,
        };
        assert!(matches!(
            q.push(1, MessageKind::Report, &r),
            Err(CodecError::BufferTooSmall { capacity: 64, .. })
        ));
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn window_timeouts_and_give_up() {
        let mut q: OfflineQueue<4, 96> = OfflineQueue::new();
        for seq in 0..3 {
            push(&mut q, seq);
        }
        assert_eq!(q.next_to_send(2), Some(0));
        q.mark_sent(0, 100);
        assert_eq!(q.next_to_send(2), Some(1));
        q.mark_sent(1, 150);
        assert_eq!(q.next_to_send(2), None, "window of two is full");
        assert_eq!(q.next_timeout(1000), Some(1100));
        // Seq 0 times out once and goes back; with max_attempts 1 it is given up instead.
        let mut given_up = 0;
        assert_eq!(q.expire(1100, 1000, 2, |_| given_up += 1), 1);
        assert_eq!(given_up, 0);
        assert_eq!(q.next_to_send(2), Some(0));
        q.mark_sent(0, 1200);
        assert_eq!(q.expire(2200, 1000, 2, |e| given_up += e.seq + 1), 1);
        assert_eq!(given_up, 1, "seq 0 after two sends");
        assert!(q.get(0).is_none());
        assert!(q.remove(2, MessageKind::Report));
        assert!(!q.remove(1, MessageKind::Event), "kind must match");
        q.requeue_in_flight();
        assert_eq!(q.next_to_send(4), Some(1));
    }
}
