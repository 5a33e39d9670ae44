//! Answer bodies of the sandbox: a whole buffer, or a generated stream (the `huge` and `endless`
//! faults) that is produced chunk by chunk as the client reads and never held in memory.
//!
//! Invariant: a generated body holds its head, one shared chunk of filler and its tail, whatever
//! its length; it yields the filler only as fast as the connection takes it, and stops being
//! polled when the client hangs up.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Bytes, Frame, SizeHint};

/// Filler of generated bodies: JSON whitespace, one 64 KiB chunk shared by every frame.
static FILLER: [u8; 64 << 10] = [b' '; 64 << 10];

/// An answer body.
#[derive(Debug)]
pub(crate) enum Body {
    /// The whole body at once (`None` once sent).
    Whole(Option<Bytes>),
    /// A generated body.
    Stream(Generated),
}

impl Body {
    pub(crate) fn whole(bytes: impl Into<Bytes>) -> Body {
        Body::Whole(Some(bytes.into()))
    }
}

/// `head`, then `filler` bytes of whitespace (`None`: without end), then `tail`.
#[derive(Debug)]
pub(crate) struct Generated {
    head: Option<Bytes>,
    filler: Option<u64>,
    tail: Option<Bytes>,
}

impl Generated {
    /// A body of exactly `total` bytes (or of head and tail, if they are longer): `head`,
    /// whitespace, `tail`.
    pub(crate) fn sized(head: Vec<u8>, total: u64, tail: Vec<u8>) -> Generated {
        let ends = u64::try_from(head.len() + tail.len()).unwrap_or(u64::MAX);
        Generated {
            head: Some(head.into()),
            filler: Some(total.saturating_sub(ends)),
            tail: Some(tail.into()),
        }
    }

    /// `head`, then whitespace without end.
    pub(crate) fn endless(head: Vec<u8>) -> Generated {
        Generated {
            head: Some(head.into()),
            filler: None,
            tail: None,
        }
    }

    fn next_chunk(&mut self) -> Option<Bytes> {
        if let Some(head) = self.head.take() {
            return Some(head);
        }
        let chunk = match &mut self.filler {
            None => FILLER.len(),
            Some(0) => return self.tail.take(),
            Some(left) => {
                let n = usize::try_from(*left).map_or(FILLER.len(), |l| l.min(FILLER.len()));
                *left -= n as u64;
                n
            }
        };
        Some(Bytes::from_static(&FILLER[..chunk]))
    }

    fn remaining(&self) -> Option<u64> {
        let len = |b: &Option<Bytes>| b.as_ref().map_or(0, |b| b.len() as u64);
        self.filler.map(|f| {
            len(&self.head)
                .saturating_add(f)
                .saturating_add(len(&self.tail))
        })
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let next = match self.get_mut() {
            Body::Whole(bytes) => bytes.take().filter(|b| !b.is_empty()),
            Body::Stream(s) => s.next_chunk(),
        };
        Poll::Ready(next.map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Whole(bytes) => bytes.as_ref().is_none_or(Bytes::is_empty),
            Body::Stream(s) => s.remaining() == Some(0),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Whole(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Body::Stream(s) => s
                .remaining()
                .map_or_else(SizeHint::new, SizeHint::with_exact),
        }
    }
}

#[cfg(test)]
mod tests;
