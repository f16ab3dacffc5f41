//! A fixed-size FIFO of received messages, so PUBLISH packets that arrive while a call waits for its SUBACK or
//! PUBACK are kept for `receive` in arrival order (the [`Transport`](crate::Transport) contract).
//!
//! Each frame is `topic length (u16 LE) | payload length (u16 LE) | topic | payload` in a byte ring; payloads are
//! at most 16 KB (protocol.md §3.5) and topics at most 255 bytes, so two bytes per length suffice.

use heapless::Deque;

/// Bytes of framing per message.
pub const FRAME_OVERHEAD: usize = 4;

/// Why a message could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushError {
    /// Not enough free space now.
    Full,
    /// Larger than the whole queue or than a length field.
    TooLarge,
}

/// Message FIFO over `N` bytes.
pub struct FrameQueue<const N: usize> {
    bytes: Deque<u8, N>,
}

impl<const N: usize> FrameQueue<N> {
    /// An empty queue.
    pub const fn new() -> Self {
        Self {
            bytes: Deque::new(),
        }
    }

    /// Whether no message is queued.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Drops every queued message.
    pub fn clear(&mut self) {
        self.bytes.clear();
    }

    /// Appends one message, or leaves the queue unchanged.
    pub fn push(&mut self, topic: &str, payload: &[u8]) -> Result<(), PushError> {
        let (Ok(topic_len), Ok(payload_len)) =
            (u16::try_from(topic.len()), u16::try_from(payload.len()))
        else {
            return Err(PushError::TooLarge);
        };
        let needed = FRAME_OVERHEAD + topic.len() + payload.len();
        if needed > N {
            return Err(PushError::TooLarge);
        }
        if needed > N - self.bytes.len() {
            return Err(PushError::Full);
        }
        let header = [topic_len.to_le_bytes(), payload_len.to_le_bytes()];
        for byte in header
            .iter()
            .flatten()
            .chain(topic.as_bytes())
            .chain(payload)
        {
            // Room was checked above, so this cannot fail; stay panic-free regardless.
            if self.bytes.push_back(*byte).is_err() {
                return Err(PushError::Full);
            }
        }
        Ok(())
    }

    /// Removes the oldest message, writing it into `topic` and `payload`. Returns false when the queue is empty.
    /// A message larger than the destination buffers is cut short (the caller sizes them to the queue's limits).
    pub fn pop_into<const T: usize, const P: usize>(
        &mut self,
        topic: &mut heapless::Vec<u8, T>,
        payload: &mut heapless::Vec<u8, P>,
    ) -> bool {
        if self.bytes.is_empty() {
            return false;
        }
        let mut header = [0u8; FRAME_OVERHEAD];
        for byte in &mut header {
            *byte = self.bytes.pop_front().unwrap_or(0);
        }
        let topic_len = usize::from(u16::from_le_bytes([header[0], header[1]]));
        let payload_len = usize::from(u16::from_le_bytes([header[2], header[3]]));
        topic.clear();
        payload.clear();
        for _ in 0..topic_len {
            if let Some(byte) = self.bytes.pop_front() {
                let _ = topic.push(byte);
            }
        }
        for _ in 0..payload_len {
            if let Some(byte) = self.bytes.pop_front() {
                let _ = payload.push(byte);
            }
        }
        true
    }
}

impl<const N: usize> Default for FrameQueue<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Topic = heapless::Vec<u8, 32>;
    type Payload = heapless::Vec<u8, 32>;

    fn pop<const N: usize>(queue: &mut FrameQueue<N>) -> Option<(Topic, Payload)> {
        let (mut topic, mut payload) = (Topic::new(), Payload::new());
        queue
            .pop_into(&mut topic, &mut payload)
            .then_some((topic, payload))
    }

    #[test]
    fn messages_come_out_in_order() {
        let mut queue = FrameQueue::<64>::new();
        queue.push("a/b", b"one").unwrap();
        queue.push("c", b"").unwrap();
        queue.push("d/e/f", b"three").unwrap();
        assert_eq!(
            pop(&mut queue).unwrap(),
            (
                Topic::from_slice(b"a/b").unwrap(),
                Payload::from_slice(b"one").unwrap()
            )
        );
        assert_eq!(
            pop(&mut queue).unwrap(),
            (Topic::from_slice(b"c").unwrap(), Payload::new())
        );
        assert_eq!(
            pop(&mut queue).unwrap().1,
            Payload::from_slice(b"three").unwrap()
        );
        assert!(pop(&mut queue).is_none());
        assert!(queue.is_empty());
    }

    #[test]
    fn a_full_queue_refuses_without_losing_what_it_holds() {
        let mut queue = FrameQueue::<16>::new();
        queue.push("t", b"12345678").unwrap(); // 4 + 1 + 8 = 13 bytes
        assert_eq!(queue.push("t", b"x"), Err(PushError::Full));
        assert_eq!(
            queue.push("topic", b"0123456789abc"),
            Err(PushError::TooLarge)
        );
        assert_eq!(
            pop(&mut queue).unwrap().1,
            Payload::from_slice(b"12345678").unwrap()
        );
        // Space is reused once freed, across the ring's wrap-around.
        for round in 0..10u8 {
            queue.push("t", &[round; 8]).unwrap();
            assert_eq!(pop(&mut queue).unwrap().1.as_slice(), &[round; 8]);
        }
    }
}
