//! MP4 facts from hand-built box trees: a plain file (moov after mdat, as
//! ffmpeg writes without faststart), 64-bit box sizes, a fragmented file,
//! and the errors of cut, foreign and track-less data.

use super::*;

/// A box: size, type, body.
pub(crate) fn atom(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(body);
    v
}

fn full(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
    let mut b = (u32::from(version) << 24 | flags).to_be_bytes().to_vec();
    b.extend_from_slice(body);
    atom(kind, &b)
}

fn be32(vs: &[u32]) -> Vec<u8> {
    vs.iter().flat_map(|v| v.to_be_bytes()).collect()
}

fn visual_entry(fourcc: &[u8; 4], w: u16, h: u16) -> Vec<u8> {
    let mut e = vec![0u8; 6 + 2 + 2 + 2 + 12];
    e.extend_from_slice(&w.to_be_bytes());
    e.extend_from_slice(&h.to_be_bytes());
    e.extend_from_slice(&[0u8; 50]);
    atom(fourcc, &e)
}

/// The `trak` of a video track: `stts` runs and a sample count.
fn trak(
    w: u16,
    h: u16,
    timescale: u32,
    duration: u32,
    stts: &[(u32, u32)],
    samples: u32,
) -> Vec<u8> {
    let mut tkhd = be32(&[0, 0, 1, 0, duration]);
    tkhd.extend_from_slice(&[0u8; 8 + 8 + 36]);
    tkhd.extend_from_slice(&be32(&[u32::from(w) << 16, u32::from(h) << 16]));
    let mdhd = be32(&[0, 0, timescale, duration, 0]);
    let mut hdlr = be32(&[0]);
    hdlr.extend_from_slice(b"vide");
    hdlr.extend_from_slice(&[0u8; 13]);
    let mut stsd = be32(&[1]);
    stsd.extend_from_slice(&visual_entry(b"avc1", w, h));
    let mut stts_body = be32(&[stts.len() as u32]);
    for (c, d) in stts {
        stts_body.extend_from_slice(&be32(&[*c, *d]));
    }
    let stbl = [
        full(b"stsd", 0, 0, &stsd),
        full(b"stts", 0, 0, &stts_body),
        full(b"stsz", 0, 0, &be32(&[100, samples])),
    ]
    .concat();
    let minf = atom(b"minf", &atom(b"stbl", &stbl));
    let mdia = atom(
        b"mdia",
        &[full(b"mdhd", 0, 0, &mdhd), full(b"hdlr", 0, 0, &hdlr), minf].concat(),
    );
    atom(b"trak", &[full(b"tkhd", 0, 3, &tkhd), mdia].concat())
}

/// An MP4 of `frames` frames of `w`×`h` at `fps` (timescale 512 × fps, as ffmpeg).
pub(crate) fn mp4(w: u16, h: u16, frames: u32, fps: u32) -> Vec<u8> {
    let delta = 512;
    let ftyp = atom(b"ftyp", b"isom\0\0\x02\0isomiso2avc1mp41");
    let moov = atom(
        b"moov",
        &trak(w, h, 512 * fps, frames * delta, &[(frames, delta)], frames),
    );
    [ftyp, atom(b"mdat", &[0u8; 64]), moov].concat()
}

#[test]
fn reads_size_frames_rate_duration_and_codec() {
    let f = facts(&mp4(1280, 720, 96, 24)).unwrap();
    assert_eq!((f.width, f.height, f.frames), (1280, 720, 96));
    assert!(
        (f.fps - 24.0).abs() < 1e-9 && (f.duration_s - 4.0).abs() < 1e-9,
        "{f:?}"
    );
    assert_eq!((f.codec.as_str(), f.fourcc.as_str()), ("h264", "avc1"));
    assert_eq!(f.brand.as_deref(), Some("isom"));
    assert!(!f.fragmented);
    assert!(looks_like_mp4(&mp4(16, 16, 1, 24)));
}

#[test]
fn uneven_deltas_give_frames_over_duration_and_64_bit_sizes_read() {
    let ftyp = atom(b"ftyp", b"mp42\0\0\0\0");
    let moov = atom(
        b"moov",
        &trak(832, 480, 1000, 3875, &[(92, 42), (1, 11)], 93),
    );
    // `mdat` with a 64-bit size.
    let mut mdat = 1u32.to_be_bytes().to_vec();
    mdat.extend_from_slice(b"mdat");
    mdat.extend_from_slice(&24u64.to_be_bytes());
    mdat.extend_from_slice(&[7u8; 8]);
    let f = facts(&[ftyp, mdat, moov].concat()).unwrap();
    assert_eq!(f.frames, 93);
    assert!((f.duration_s - 3.875).abs() < 1e-9);
    assert!((f.fps - 93.0 / 3.875).abs() < 1e-9);
}

#[test]
fn fragmented_files_count_their_runs() {
    let ftyp = atom(b"ftyp", b"iso5\0\0\0\0");
    let mut moov_body = trak(640, 360, 15360, 0, &[], 0);
    let trex = full(b"trex", 0, 0, &be32(&[1, 1, 640, 0, 0]));
    moov_body.extend_from_slice(&atom(b"mvex", &trex));
    let moof = |n: u32| {
        let tfhd = full(b"tfhd", 0, 0x20000, &be32(&[1]));
        let trun = full(b"trun", 0, 0x1, &be32(&[n, 0]));
        atom(b"moof", &atom(b"traf", &[tfhd, trun].concat()))
    };
    let file = [
        ftyp,
        atom(b"moov", &moov_body),
        moof(48),
        atom(b"mdat", &[0; 4]),
        moof(48),
    ]
    .concat();
    let f = facts(&file).unwrap();
    assert!(f.fragmented);
    assert_eq!(f.frames, 96);
    assert!(
        (f.duration_s - 4.0).abs() < 1e-9 && (f.fps - 24.0).abs() < 1e-9,
        "{f:?}"
    );
}

#[test]
fn cut_foreign_and_audio_only_files_are_errors() {
    let whole = mp4(320, 240, 10, 24);
    assert!(matches!(
        facts(&whole[..whole.len() - 10]),
        Err(Mp4Error::Truncated(_))
    ));
    assert!(matches!(
        facts(b"\x89PNG\r\n\x1a\n...."),
        Err(Mp4Error::NotMp4(_))
    ));
    assert!(matches!(facts(&[]), Err(Mp4Error::NotMp4(_))));
    let ftyp = atom(b"ftyp", b"isom\0\0\0\0");
    assert!(matches!(facts(&ftyp), Err(Mp4Error::Truncated(_))));
    let sound = whole
        .windows(4)
        .position(|w| w == b"vide")
        .map(|i| {
            let mut v = whole.clone();
            v[i..i + 4].copy_from_slice(b"soun");
            v
        })
        .unwrap();
    assert_eq!(facts(&sound), Err(Mp4Error::NoVideoTrack));
    // A box claiming less than its own header.
    let mut bad = whole.clone();
    bad[32..36].copy_from_slice(&3u32.to_be_bytes()); // `mdat`, after the 32-byte `ftyp`
    assert!(facts(&bad).is_err());
}
