//! Sans-IO pieces of the round-trip bench: cutting a byte stream into size-prefixed frames
//! (the raw client and the echo server; deliberately not kquota-net's own `FrameDecoder`, so the
//! baseline contains none of kquota-net's code), reading a request header, and the echo table
//! that answers a request frame with a recorded response frame carrying the request's
//! correlation id.

use std::collections::HashMap;

/// Size of the big-endian length prefix of every Kafka frame.
pub const PREFIX: usize = 4;
/// Offset of the correlation id in a request frame *with* its prefix (size, key, version).
pub const REQUEST_CORRELATION_AT: usize = 8;

/// A read buffer that hands out complete frames. Fill it through [`FrameBuf::space`] and
/// [`FrameBuf::filled`]; take frames with [`FrameBuf::next_frame`].
#[derive(Debug)]
pub struct FrameBuf {
    data: Vec<u8>,
    start: usize,
    end: usize,
    max_frame: usize,
}

impl FrameBuf {
    /// A buffer of `capacity` bytes that accepts frames up to `max_frame` bytes (without the
    /// prefix); it grows when one frame is larger than the buffer.
    pub fn new(capacity: usize, max_frame: usize) -> Self {
        FrameBuf {
            data: vec![0; capacity.max(PREFIX * 2)],
            start: 0,
            end: 0,
            max_frame,
        }
    }

    /// The next complete frame's body range (without the prefix) in [`FrameBuf::bytes`];
    /// `Ok(None)` if more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<std::ops::Range<usize>>, String> {
        let avail = &self.data[self.start..self.end];
        if avail.len() < PREFIX {
            return Ok(None);
        }
        let size = i32::from_be_bytes([avail[0], avail[1], avail[2], avail[3]]);
        if size < 0 || size as usize > self.max_frame {
            return Err(format!("bad frame size {size}"));
        }
        let size = size as usize;
        if avail.len() < PREFIX + size {
            return Ok(None);
        }
        let body = self.start + PREFIX..self.start + PREFIX + size;
        self.start = body.end;
        Ok(Some(body))
    }

    /// The buffer the ranges of [`FrameBuf::next_frame`] point into (valid until the next
    /// [`FrameBuf::space`]).
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Free room to read into (compacting, or growing for a frame larger than the buffer).
    pub fn space(&mut self) -> &mut [u8] {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        // Move a partial frame to the front once less than half the buffer is free.
        if self.start > 0 && self.data.len() - self.end < self.data.len() / 2 {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.data.len() {
            // Full with one incomplete frame: make room for all of it.
            let need = self.pending_frame_len().unwrap_or(0);
            let new_len = need.max(self.data.len() * 2);
            self.data.resize(new_len, 0);
        }
        &mut self.data[self.end..]
    }

    /// Marks `n` bytes of [`FrameBuf::space`] as read.
    pub fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.data.len());
    }

    /// Bytes buffered and not yet handed out.
    #[cfg(test)]
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    fn pending_frame_len(&self) -> Option<usize> {
        let a = self.data.get(self.start..self.start + PREFIX)?;
        let size = i32::from_be_bytes([a[0], a[1], a[2], a[3]]);
        usize::try_from(size)
            .ok()
            .filter(|s| *s <= self.max_frame)
            .map(|s| s + PREFIX)
    }
}

/// Api key, api version and correlation id at the start of a request frame body (no prefix).
pub fn request_header(body: &[u8]) -> Option<(i16, i16, i32)> {
    let b = body.get(..8)?;
    Some((
        i16::from_be_bytes([b[0], b[1]]),
        i16::from_be_bytes([b[2], b[3]]),
        i32::from_be_bytes([b[4], b[5], b[6], b[7]]),
    ))
}

/// The correlation id at the start of a response frame body (no prefix).
pub fn response_correlation(body: &[u8]) -> Option<i32> {
    let b = body.get(..4)?;
    Some(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Writes `id` into a request frame that still has its size prefix.
pub fn set_request_correlation(frame: &mut [u8], id: i32) {
    frame[REQUEST_CORRELATION_AT..REQUEST_CORRELATION_AT + 4].copy_from_slice(&id.to_be_bytes());
}

/// Recorded response frames (with their size prefix) by (api key, api version).
#[derive(Debug, Default, Clone)]
pub struct EchoTable {
    responses: HashMap<(i16, i16), Vec<u8>>,
}

impl EchoTable {
    /// Records the broker's response frame (with prefix) for `api_key` at `version`.
    pub fn insert(&mut self, api_key: i16, version: i16, response_frame: Vec<u8>) {
        self.responses.insert((api_key, version), response_frame);
    }

    /// Appends the answer to one request frame body (no prefix) to `out`: the recorded
    /// response with the request's correlation id.
    pub fn answer(&self, request: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let (key, version, id) =
            request_header(request).ok_or_else(|| "request frame too short".to_string())?;
        let resp = self
            .responses
            .get(&(key, version))
            .ok_or_else(|| format!("no recorded response for api key {key} v{version}"))?;
        if resp.len() < PREFIX + 4 {
            return Err(format!("recorded response for api key {key} is too short"));
        }
        let at = out.len();
        out.extend_from_slice(resp);
        out[at + PREFIX..at + PREFIX + 4].copy_from_slice(&id.to_be_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut f = (body.len() as i32).to_be_bytes().to_vec();
        f.extend_from_slice(body);
        f
    }

    fn feed(fb: &mut FrameBuf, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let space = fb.space();
            let n = space.len().min(rest.len());
            space[..n].copy_from_slice(&rest[..n]);
            fb.filled(n);
            rest = &rest[n..];
        }
    }

    #[test]
    fn cuts_frames_across_partial_reads() {
        let mut fb = FrameBuf::new(16, 1 << 20);
        let mut stream = frame(b"hello");
        stream.extend(frame(b""));
        stream.extend(frame(b"world!"));
        // One byte at a time: a frame appears exactly when its last byte arrives.
        let mut got = Vec::new();
        for b in &stream {
            feed(&mut fb, std::slice::from_ref(b));
            while let Some(r) = fb.next_frame().unwrap() {
                got.push(fb.bytes()[r].to_vec());
            }
        }
        assert_eq!(
            got,
            vec![b"hello".to_vec(), b"".to_vec(), b"world!".to_vec()]
        );
        assert_eq!(fb.buffered(), 0);
        assert_eq!(fb.next_frame().unwrap(), None);
    }

    #[test]
    fn grows_for_a_frame_larger_than_the_buffer_and_compacts() {
        let mut fb = FrameBuf::new(8, 1 << 20);
        let big = vec![7u8; 100];
        let mut stream = frame(b"ab");
        stream.extend(frame(&big));
        feed(&mut fb, &stream);
        let r = fb.next_frame().unwrap().unwrap();
        assert_eq!(&fb.bytes()[r], b"ab");
        let r = fb.next_frame().unwrap().unwrap();
        assert_eq!(&fb.bytes()[r], &big[..]);
        assert_eq!(fb.next_frame().unwrap(), None);
    }

    #[test]
    fn rejects_negative_and_oversized_frames() {
        let mut fb = FrameBuf::new(16, 10);
        feed(&mut fb, &(-1i32).to_be_bytes());
        assert!(fb.next_frame().is_err());
        let mut fb = FrameBuf::new(16, 10);
        feed(&mut fb, &11i32.to_be_bytes());
        assert!(fb.next_frame().is_err());
    }

    #[test]
    fn echo_answers_with_the_request_correlation_id() {
        let mut t = EchoTable::default();
        // Recorded Metadata (key 3) v12 response: correlation 0, then a body.
        t.insert(3, 12, frame(&[0, 0, 0, 0, 0xAA, 0xBB]));
        // Request body: key 3, version 12, correlation 0x01020304, then a client id.
        let req = [0, 3, 0, 12, 1, 2, 3, 4, 0, 1, b'c'];
        assert_eq!(request_header(&req), Some((3, 12, 0x0102_0304)));
        let mut out = vec![9];
        t.answer(&req, &mut out).unwrap();
        assert_eq!(out, vec![9, 0, 0, 0, 6, 1, 2, 3, 4, 0xAA, 0xBB]);
        assert_eq!(response_correlation(&out[5..]), Some(0x0102_0304));
        // Unknown version, short frame.
        assert!(t.answer(&[0, 3, 0, 11, 0, 0, 0, 1], &mut out).is_err());
        assert!(t.answer(&[0, 3], &mut out).is_err());
    }

    #[test]
    fn sets_the_request_correlation_id() {
        let mut f = frame(&[0, 3, 0, 12, 0, 0, 0, 0, 0xFF]);
        set_request_correlation(&mut f, 258);
        assert_eq!(request_header(&f[PREFIX..]), Some((3, 12, 258)));
        assert_eq!(f[f.len() - 1], 0xFF);
    }
}
