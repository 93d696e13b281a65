//! What an MP4 file holds, read from its boxes alone (never decoding a
//! frame): the first video track's codec, coded width and height (its
//! sample entry), frame count (`stsz`, or the `trun`s of a fragmented
//! file), duration (`mdhd`) and frame rate (one `stts` delta: exact;
//! otherwise frames ÷ duration). Works on any byte slice, so both the CLI
//! and the browser check the same way; fuzzed (`fuzz/fuzz_targets/mp4_facts.rs`).

use serde::{Deserialize, Serialize};

/// Facts of an MP4's first video track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mp4Facts {
    /// `ftyp` major brand (`isom`, `mp42`, ...), when present.
    pub brand: Option<String>,
    /// Sample entry type: `avc1`, `hvc1`, `av01`, `vp09`, ...
    pub fourcc: String,
    /// Codec as ffprobe names it: `h264`, `hevc`, `av1`, `vp9`, `mpeg4`, or the fourcc.
    pub codec: String,
    /// Coded width in pixels (sample entry; `tkhd` when the entry says 0).
    pub width: u32,
    /// Coded height in pixels.
    pub height: u32,
    /// Frames (samples) in the track.
    pub frames: u64,
    /// Track duration in seconds.
    pub duration_s: f64,
    /// Frames per second.
    pub fps: f64,
    /// Fragmented MP4 (`moof` boxes): frames counted from the fragments.
    pub fragmented: bool,
}

/// Why no facts could be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mp4Error {
    /// Not an ISO-BMFF file at all.
    #[error("not an MP4 file: {0}")]
    NotMp4(String),
    /// A box runs past the end of the data.
    #[error("MP4 cut short: {0}")]
    Truncated(String),
    /// The file holds no video track.
    #[error("MP4 without a video track")]
    NoVideoTrack,
    /// A box is inconsistent.
    #[error("malformed MP4: {0}")]
    Malformed(String),
}

/// One box: its type and body.
#[derive(Clone, Copy)]
struct Atom<'a> {
    kind: [u8; 4],
    body: &'a [u8],
}

/// The boxes inside `data`, in order; an error once one overruns.
fn boxes(data: &[u8]) -> impl Iterator<Item = Result<Atom<'_>, Mp4Error>> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let parsed = (|| {
            if rest.len() < 8 {
                return Err(Mp4Error::Truncated(format!(
                    "{} stray bytes where a box header was due",
                    rest.len()
                )));
            }
            let size32 = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as u64;
            let kind = [rest[4], rest[5], rest[6], rest[7]];
            let (header, size) = match size32 {
                0 => (8u64, rest.len() as u64),
                1 => {
                    let large = rest
                        .get(8..16)
                        .ok_or_else(|| Mp4Error::Truncated("64-bit box size cut".into()))?;
                    (16, u64::from_be_bytes(large.try_into().expect("8 bytes")))
                }
                s => (8, s),
            };
            if size < header {
                return Err(Mp4Error::Malformed(format!(
                    "box '{}' declares {size} bytes, less than its header",
                    name(&kind)
                )));
            }
            if size > rest.len() as u64 {
                return Err(Mp4Error::Truncated(format!(
                    "box '{}' declares {size} bytes, {} remain",
                    name(&kind),
                    rest.len()
                )));
            }
            let body = &rest[header as usize..size as usize];
            rest = &rest[size as usize..];
            Ok(Atom { kind, body })
        })();
        if parsed.is_err() {
            rest = &[];
        }
        Some(parsed)
    })
}

fn name(kind: &[u8; 4]) -> String {
    kind.iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '?'
            }
        })
        .collect()
}

/// The first child of `data` of this type.
fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Result<Option<Atom<'a>>, Mp4Error> {
    for b in boxes(data) {
        let b = b?;
        if &b.kind == kind {
            return Ok(Some(b));
        }
    }
    Ok(None)
}

/// Big-endian reads that fail as "malformed" instead of panicking.
struct Reader<'a> {
    data: &'a [u8],
    at: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8], what: &'static str) -> Self {
        Reader { data, at: 0, what }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], Mp4Error> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.data.len());
        let end =
            end.ok_or_else(|| Mp4Error::Malformed(format!("'{}' box too short", self.what)))?;
        let s = &self.data[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u16(&mut self) -> Result<u16, Mp4Error> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().expect("2")))
    }
    fn u32(&mut self) -> Result<u32, Mp4Error> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().expect("4")))
    }
    fn u64(&mut self) -> Result<u64, Mp4Error> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().expect("8")))
    }
    /// A full box's version and flags.
    fn version_flags(&mut self) -> Result<(u8, u32), Mp4Error> {
        let v = self.u32()?;
        Ok(((v >> 24) as u8, v & 0x00FF_FFFF))
    }
}

/// ffprobe's name for a sample entry type.
fn codec_name(fourcc: &str) -> String {
    match fourcc {
        "avc1" | "avc3" => "h264",
        "hvc1" | "hev1" => "hevc",
        "av01" => "av1",
        "vp09" => "vp9",
        "vp08" => "vp8",
        "mp4v" => "mpeg4",
        other => other,
    }
    .to_owned()
}

/// A video track's tables.
#[derive(Default)]
struct Track {
    id: u32,
    tkhd_size: (u32, u32),
    timescale: u32,
    duration: u64,
    fourcc: String,
    entry_size: (u32, u32),
    /// `stts`: (count, delta) runs.
    stts: Vec<(u32, u32)>,
    stsz_count: Option<u64>,
}

fn parse_track(trak: &[u8]) -> Result<Option<Track>, Mp4Error> {
    let mut t = Track::default();
    if let Some(tkhd) = child(trak, b"tkhd")? {
        let mut r = Reader::new(tkhd.body, "tkhd");
        let (v, _) = r.version_flags()?;
        if v == 1 {
            r.take(16)?;
        } else {
            r.take(8)?;
        }
        t.id = r.u32()?;
        r.take(4)?;
        r.take(if v == 1 { 8 } else { 4 })?;
        r.take(8 + 2 + 2 + 2 + 2 + 36)?;
        t.tkhd_size = (r.u32()? >> 16, r.u32()? >> 16);
    }
    let mdia =
        child(trak, b"mdia")?.ok_or_else(|| Mp4Error::Malformed("track without 'mdia'".into()))?;
    let is_video = match child(mdia.body, b"hdlr")? {
        Some(h) => h.body.get(8..12) == Some(b"vide"),
        None => false,
    };
    if !is_video {
        return Ok(None);
    }
    if let Some(mdhd) = child(mdia.body, b"mdhd")? {
        let mut r = Reader::new(mdhd.body, "mdhd");
        let (v, _) = r.version_flags()?;
        if v == 1 {
            r.take(16)?;
            t.timescale = r.u32()?;
            t.duration = r.u64()?;
        } else {
            r.take(8)?;
            t.timescale = r.u32()?;
            t.duration = u64::from(r.u32()?);
        }
    }
    let stbl = child(mdia.body, b"minf")?
        .map(|m| child(m.body, b"stbl"))
        .transpose()?
        .flatten()
        .ok_or_else(|| Mp4Error::Malformed("video track without 'minf/stbl'".into()))?;
    if let Some(stsd) = child(stbl.body, b"stsd")? {
        let mut r = Reader::new(stsd.body, "stsd");
        r.version_flags()?;
        if r.u32()? > 0 {
            if let Some(entry) = boxes(&stsd.body[8..]).next() {
                let entry = entry?;
                t.fourcc = name(&entry.kind);
                let mut e = Reader::new(entry.body, "visual sample entry");
                e.take(6 + 2 + 2 + 2 + 12)?;
                t.entry_size = (u32::from(e.u16()?), u32::from(e.u16()?));
            }
        }
    }
    if let Some(stts) = child(stbl.body, b"stts")? {
        let mut r = Reader::new(stts.body, "stts");
        r.version_flags()?;
        let n = r.u32()?;
        for _ in 0..n.min(1 << 20) {
            t.stts.push((r.u32()?, r.u32()?));
        }
    }
    if let Some(stsz) = child(stbl.body, b"stsz")? {
        let mut r = Reader::new(stsz.body, "stsz");
        r.version_flags()?;
        r.u32()?;
        t.stsz_count = Some(u64::from(r.u32()?));
    }
    Ok(Some(t))
}

/// Frames and total duration (track timescale) of one track's fragments.
fn fragments(data: &[u8], track_id: u32, default_duration: u32) -> Result<(u64, u64), Mp4Error> {
    let (mut frames, mut ticks) = (0u64, 0u64);
    for b in boxes(data) {
        let b = b?;
        if &b.kind != b"moof" {
            continue;
        }
        for traf in boxes(b.body) {
            let traf = traf?;
            if &traf.kind != b"traf" {
                continue;
            }
            let mut duration = default_duration;
            let mut mine = true;
            for part in boxes(traf.body) {
                let part = part?;
                match &part.kind {
                    b"tfhd" => {
                        let mut r = Reader::new(part.body, "tfhd");
                        let (_, flags) = r.version_flags()?;
                        mine = r.u32()? == track_id;
                        if flags & 0x1 != 0 {
                            r.u64()?;
                        }
                        if flags & 0x2 != 0 {
                            r.u32()?;
                        }
                        if flags & 0x8 != 0 {
                            duration = r.u32()?;
                        }
                    }
                    b"trun" if mine => {
                        let mut r = Reader::new(part.body, "trun");
                        let (_, flags) = r.version_flags()?;
                        let count = r.u32()?;
                        frames += u64::from(count);
                        if flags & 0x1 != 0 {
                            r.u32()?;
                        }
                        if flags & 0x4 != 0 {
                            r.u32()?;
                        }
                        if flags & 0x100 == 0 {
                            ticks = ticks.saturating_add(u64::from(count) * u64::from(duration));
                            continue;
                        }
                        let per = [0x100, 0x200, 0x400, 0x800]
                            .iter()
                            .filter(|f| flags & **f != 0)
                            .count();
                        for _ in 0..count {
                            ticks = ticks.saturating_add(u64::from(r.u32()?));
                            r.take(4 * (per - 1))?;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Ok((frames, ticks))
}

/// `trex` default sample duration of a track (fragmented files).
fn trex_duration(moov: &[u8], track_id: u32) -> Result<u32, Mp4Error> {
    let Some(mvex) = child(moov, b"mvex")? else {
        return Ok(0);
    };
    for b in boxes(mvex.body) {
        let b = b?;
        if &b.kind == b"trex" {
            let mut r = Reader::new(b.body, "trex");
            r.version_flags()?;
            if r.u32()? == track_id {
                r.u32()?;
                return r.u32();
            }
        }
    }
    Ok(0)
}

/// Read the facts of an MP4 file's first video track.
pub fn facts(data: &[u8]) -> Result<Mp4Facts, Mp4Error> {
    if data.get(4..8).is_none_or(|k| {
        !matches!(
            k,
            b"ftyp" | b"moov" | b"free" | b"mdat" | b"wide" | b"skip" | b"styp"
        )
    }) {
        let head: String = data.iter().take(8).map(|b| format!("{b:02x}")).collect();
        return Err(Mp4Error::NotMp4(format!(
            "no 'ftyp' box at the start (bytes {head})"
        )));
    }
    let mut brand = None;
    let mut moov = None;
    for b in boxes(data) {
        let b = b?;
        match &b.kind {
            b"ftyp" => brand = b.body.get(..4).map(|m| name(m.try_into().expect("4"))),
            b"moov" => moov = Some(b.body),
            _ => {}
        }
    }
    let moov = moov.ok_or_else(|| Mp4Error::Truncated("no 'moov' box (file cut short?)".into()))?;
    let mut track = None;
    for b in boxes(moov) {
        let b = b?;
        if &b.kind == b"trak" {
            if let Some(t) = parse_track(b.body)? {
                track = Some(t);
                break;
            }
        }
    }
    let t = track.ok_or(Mp4Error::NoVideoTrack)?;
    let mut frames = t
        .stsz_count
        .unwrap_or_else(|| t.stts.iter().map(|(c, _)| u64::from(*c)).sum());
    let mut ticks = t.duration;
    let mut fragmented = false;
    if frames == 0 {
        let default = trex_duration(moov, t.id)?;
        let (f, d) = fragments(data, t.id, default)?;
        if f > 0 {
            fragmented = true;
            frames = f;
            ticks = ticks.max(d);
        }
    }
    if t.timescale == 0 {
        return Err(Mp4Error::Malformed("video track with timescale 0".into()));
    }
    let duration_s = ticks as f64 / f64::from(t.timescale);
    let fps = match t.stts.as_slice() {
        [(_, delta)] if *delta > 0 && !fragmented => f64::from(t.timescale) / f64::from(*delta),
        _ if duration_s > 0.0 => frames as f64 / duration_s,
        _ => 0.0,
    };
    let (width, height) = if t.entry_size.0 > 0 && t.entry_size.1 > 0 {
        t.entry_size
    } else {
        t.tkhd_size
    };
    Ok(Mp4Facts {
        brand,
        codec: codec_name(&t.fourcc),
        fourcc: t.fourcc,
        width,
        height,
        frames,
        duration_s,
        fps,
        fragmented,
    })
}

/// Whether bytes start like an MP4 (`ftyp` box first).
pub fn looks_like_mp4(data: &[u8]) -> bool {
    data.get(4..8) == Some(b"ftyp")
}

#[cfg(test)]
pub(crate) mod tests;
