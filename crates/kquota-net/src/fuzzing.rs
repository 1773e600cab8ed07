//! Entry points for the cargo-fuzz targets in `fuzz/` (each target is a one-line shim into
//! here, so the fuzzed code is exactly the library's). Not a stable API.

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::ApiKey;

use crate::frame::FrameDecoder;
use crate::sasl::scram::ScramClient;
use crate::sasl::SaslSession;
use crate::ScramMechanism;

/// All response decoders, in a fixed order.
fn decoders() -> Vec<(ApiKey, crate::request::ResponseDecoder)> {
    let mut v = Vec::new();
    crate::for_each_response_decoder(|api, f| v.push((api, f)));
    v
}

/// `data[0]` picks the response type, `data[1]` the version; the rest is a response frame
/// (correlation id, header, body) decoded exactly as the connection does.
pub fn response(data: &[u8]) {
    let [which, version, rest @ ..] = data else {
        return;
    };
    let all = decoders();
    let (api, decode) = all[*which as usize % all.len()];
    let range = api.valid_versions();
    let span = (range.max - range.min + 1) as u8;
    let v = range.min + (version % span) as i16;
    let _ = decode(Bytes::copy_from_slice(rest), v);
}

/// A byte stream from a broker, delivered in chunks whose sizes come from `data[0]`: frames are
/// cut with a 1 MiB cap and each decoded as the response `data[1]` selects.
pub fn frame_stream(data: &[u8]) {
    let [chunk, which, version, rest @ ..] = data else {
        return;
    };
    let chunk = (*chunk as usize).max(1);
    let decoder = FrameDecoder::new(1 << 20);
    let mut buf = BytesMut::new();
    for piece in rest.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => {
                    let mut input = vec![*which, *version];
                    input.extend_from_slice(&frame);
                    response(&input);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        let _ = decoder.reserve_hint(&buf);
    }
}

/// Record batches as found in a Fetch response's `records` field.
pub fn records(data: &[u8]) {
    let _ = crate::records::decode_batches(Bytes::copy_from_slice(data));
}

/// One batch's compressed records section: `data[0]` picks the codec (none, gzip, snappy, lz4,
/// zstd), the rest is decompressed with a 1 MiB cap, as the Fetch path does after the batch CRC
/// check (which random bytes rarely pass, so the `records` target seldom reaches the codecs).
pub fn decompress(data: &[u8]) {
    use kafka_protocol::records::Compression;
    let [which, rest @ ..] = data else {
        return;
    };
    let codec = match which % 5 {
        0 => Compression::None,
        1 => Compression::Gzip,
        2 => Compression::Snappy,
        3 => Compression::Lz4,
        _ => Compression::Zstd,
    };
    let _ = crate::records::decompress_bounded(&mut Bytes::copy_from_slice(rest), codec, 1 << 20);
}

/// Server messages of a SCRAM exchange, split at the first `0xff`.
pub fn scram(data: &[u8]) {
    let (first, last) = match data.iter().position(|b| *b == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let mech = if data.len().is_multiple_of(2) {
        ScramMechanism::Sha256
    } else {
        ScramMechanism::Sha512
    };
    let mut c = ScramClient::with_nonce(mech, "user", "pencil".into(), "fuzznonce".into());
    let _ = c.initial_response();
    // Keep iteration counts small under fuzzing: only messages the parser accepts run PBKDF2,
    // and MAX_ITERATIONS bounds that.
    if c.step(first).is_ok() {
        let _ = c.step(last);
    }
}
