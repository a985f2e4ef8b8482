//! Messages packed for delivery to the app: one byte buffer holding every payload and
//! one u32 array describing them, so a whole batch crosses into JS as two values.

use tokio::sync::OwnedSemaphorePermit;

use crate::proto::chunk::Message;

/// u32 fields per message in [`Batch::meta`]:
/// type id, timestamp, message stream id, chunk stream id, header format, offset, length.
pub const META_FIELDS: usize = 7;

/// A packed batch of messages.
#[derive(Debug, Default)]
pub struct Batch {
    pub data: Vec<u8>,
    pub meta: Vec<u32>,
    /// Held while the batch is in flight; `None` for batches not flow-controlled.
    pub permit: Option<OwnedSemaphorePermit>,
}

/// Packs messages into a [`Batch`].
#[derive(Debug, Default)]
pub struct BatchBuilder {
    data: Vec<u8>,
    meta: Vec<u32>,
}

impl BatchBuilder {
    pub fn push(&mut self, msg: &Message) {
        let offset = self.data.len() as u32;
        for part in msg.payload.parts() {
            self.data.extend_from_slice(part);
        }
        self.meta.extend_from_slice(&[
            u32::from(msg.type_id),
            msg.timestamp,
            msg.stream_id,
            msg.csid,
            u32::from(msg.fmt),
            offset,
            msg.payload.len() as u32,
        ]);
    }

    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    pub fn data_len(&self) -> usize {
        self.data.len()
    }

    /// Takes the packed messages, leaving the builder empty.
    pub fn take(&mut self, permit: Option<OwnedSemaphorePermit>) -> Batch {
        Batch {
            data: std::mem::take(&mut self.data),
            meta: std::mem::take(&mut self.meta),
            permit,
        }
    }
}
