//! The mock's MP4s: real H.264 (Constrained Baseline) in a real MP4, of
//! any even size, frame count and frame rate, written by hand in a few
//! hundred lines. The first frame is an IDR picture whose macroblocks are
//! all `I_PCM` (the picture's samples stored as they are: no transform, no
//! entropy coding of residuals), every later frame a P picture whose
//! macroblocks are all `P_Skip` (one `mb_skip_run`: a copy of the previous
//! frame, a few bytes each). ffprobe, ffmpeg and browsers decode it; it
//! shows one picture, still, for the whole duration: the mock's sunset
//! scene, or an image-to-video job's reference.
//!
//! Why not a crate: `openh264` compiles a C++ encoder (minutes of build on
//! two cores, and a real encode of 96 720p frames per new video), and
//! `less-avc` writes every frame losslessly (about 130 MB for 4 s of 720p).
//! This writer makes a 4 s 1280x720 video of about 1.4 MB (a real Wan or
//! HunyuanVideo MP4 of that size weighs 1 to 5 MB) in milliseconds, and
//! the MP4 boxes it needs are the ones core's reader already knows.

use image::RgbImage;

/// A bit writer for RBSPs (exp-Golomb codes, aligned byte runs).
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u64, bits: u32) {
        for i in (0..bits).rev() {
            self.acc = (self.acc << 1) | ((value >> i) & 1);
            self.n += 1;
            if self.n == 8 {
                self.out.push(self.acc as u8);
                self.acc = 0;
                self.n = 0;
            }
        }
    }
    fn flag(&mut self, b: bool) {
        self.put(u64::from(b), 1);
    }
    /// Unsigned exp-Golomb `ue(v)`.
    fn ue(&mut self, v: u32) {
        let x = u64::from(v) + 1;
        let len = 64 - x.leading_zeros();
        self.put(0, len - 1);
        self.put(x, len);
    }
    /// Signed exp-Golomb `se(v)`.
    fn se(&mut self, v: i32) {
        let k = if v > 0 { 2 * v - 1 } else { -2 * v };
        self.ue(k as u32);
    }
    fn align_zero(&mut self) {
        while self.n != 0 {
            self.put(0, 1);
        }
    }
    /// Whole bytes (the writer must be aligned).
    fn bytes(&mut self, b: &[u8]) {
        debug_assert_eq!(self.n, 0);
        self.out.extend_from_slice(b);
    }
    /// `rbsp_trailing_bits`, and the bytes.
    fn finish(mut self) -> Vec<u8> {
        self.put(1, 1);
        self.align_zero();
        self.out
    }
}

/// A NAL unit: header byte, then the RBSP with emulation prevention bytes.
fn nal(ref_idc: u8, kind: u8, rbsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rbsp.len() + rbsp.len() / 64 + 1);
    out.push(ref_idc << 5 | kind);
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    out
}

const LOG2_MAX_FRAME_NUM: u32 = 16;

/// The level a picture of `mbs` macroblocks needs (MaxFS of Table A-1).
fn level(mbs: u32) -> u8 {
    match mbs {
        0..=396 => 21,
        397..=1620 => 30,
        1621..=3600 => 31,
        3601..=8192 => 40,
        8193..=22080 => 50,
        22081..=36864 => 51,
        _ => 62,
    }
}

/// Geometry of a stream.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    width: u32,
    height: u32,
    mbw: u32,
    mbh: u32,
}

fn sps(g: Geometry, fps_num: u32, fps_den: u32) -> Vec<u8> {
    let mut b = Bits::default();
    b.put(66, 8); // profile_idc: Baseline
    b.put(0xC0, 8); // constraint_set0 and set1: Constrained Baseline
    b.put(u64::from(level(g.mbw * g.mbh)), 8);
    b.ue(0); // seq_parameter_set_id
    b.ue(LOG2_MAX_FRAME_NUM - 4);
    b.ue(2); // pic_order_cnt_type 2: output order = decoding order
    b.ue(1); // max_num_ref_frames
    b.flag(false); // gaps_in_frame_num_value_allowed_flag
    b.ue(g.mbw - 1);
    b.ue(g.mbh - 1);
    b.flag(true); // frame_mbs_only_flag
    b.flag(true); // direct_8x8_inference_flag
    let (crop_r, crop_b) = ((g.mbw * 16 - g.width) / 2, (g.mbh * 16 - g.height) / 2);
    b.flag(crop_r > 0 || crop_b > 0);
    if crop_r > 0 || crop_b > 0 {
        b.ue(0);
        b.ue(crop_r);
        b.ue(0);
        b.ue(crop_b);
    }
    b.flag(true); // vui_parameters_present_flag
    b.put(0, 4); // aspect ratio, overscan, video signal type, chroma location: absent
    b.flag(true); // timing_info_present_flag
    b.put(u64::from(fps_den), 32); // num_units_in_tick
    b.put(2 * u64::from(fps_num), 32); // time_scale (two ticks a frame)
    b.flag(true); // fixed_frame_rate_flag
    b.put(0, 4); // nal/vcl HRD, pic_struct, bitstream_restriction: absent
    nal(3, 7, &b.finish())
}

fn pps() -> Vec<u8> {
    let mut b = Bits::default();
    b.ue(0); // pic_parameter_set_id
    b.ue(0); // seq_parameter_set_id
    b.flag(false); // entropy_coding_mode_flag: CAVLC
    b.flag(false); // bottom_field_pic_order_in_frame_present_flag
    b.ue(0); // num_slice_groups_minus1
    b.ue(0); // num_ref_idx_l0_default_active_minus1
    b.ue(0); // num_ref_idx_l1_default_active_minus1
    b.flag(false); // weighted_pred_flag
    b.put(0, 2); // weighted_bipred_idc
    b.se(0); // pic_init_qp_minus26
    b.se(0); // pic_init_qs_minus26
    b.se(0); // chroma_qp_index_offset
    b.flag(true); // deblocking_filter_control_present_flag
    b.flag(false); // constrained_intra_pred_flag
    b.flag(false); // redundant_pic_cnt_present_flag
    nal(3, 8, &b.finish())
}

/// 4:2:0 planes of the picture, padded to whole macroblocks; samples in 1..=255.
fn planes(g: Geometry, img: &RgbImage) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let (pw, ph) = (g.mbw * 16, g.mbh * 16);
    let px = |x: u32, y: u32| img.get_pixel(x.min(g.width - 1), y.min(g.height - 1)).0;
    let clip = |v: i32| v.clamp(1, 255) as u8;
    let mut y_plane = Vec::with_capacity((pw * ph) as usize);
    for y in 0..ph {
        for x in 0..pw {
            let [r, g_, b] = px(x, y).map(i32::from);
            y_plane.push(clip(((66 * r + 129 * g_ + 25 * b + 128) >> 8) + 16));
        }
    }
    let (mut u, mut v) = (Vec::new(), Vec::new());
    for y in (0..ph).step_by(2) {
        for x in (0..pw).step_by(2) {
            let [r, g_, b] = px(x, y).map(i32::from);
            u.push(clip(((-38 * r - 74 * g_ + 112 * b + 128) >> 8) + 128));
            v.push(clip(((112 * r - 94 * g_ - 18 * b + 128) >> 8) + 128));
        }
    }
    (y_plane, u, v)
}

/// The IDR picture: every macroblock `I_PCM`.
fn idr(g: Geometry, picture: &RgbImage) -> Vec<u8> {
    let (yp, up, vp) = planes(g, picture);
    let (pw, cw) = ((g.mbw * 16) as usize, (g.mbw * 8) as usize);
    let mut b = Bits::default();
    b.ue(0); // first_mb_in_slice
    b.ue(7); // slice_type: I (every slice)
    b.ue(0); // pic_parameter_set_id
    b.put(0, LOG2_MAX_FRAME_NUM); // frame_num
    b.ue(0); // idr_pic_id
    b.flag(false); // no_output_of_prior_pics_flag
    b.flag(false); // long_term_reference_flag
    b.se(0); // slice_qp_delta
    b.ue(1); // disable_deblocking_filter_idc
    let mut mb = [0u8; 384];
    for my in 0..g.mbh as usize {
        for mx in 0..g.mbw as usize {
            b.ue(25); // mb_type I_PCM
            b.align_zero(); // pcm_alignment_zero_bit
            for row in 0..16 {
                let at = (my * 16 + row) * pw + mx * 16;
                mb[row * 16..row * 16 + 16].copy_from_slice(&yp[at..at + 16]);
            }
            for (k, plane) in [&up, &vp].into_iter().enumerate() {
                for row in 0..8 {
                    let at = (my * 8 + row) * cw + mx * 8;
                    let to = 256 + k * 64 + row * 8;
                    mb[to..to + 8].copy_from_slice(&plane[at..at + 8]);
                }
            }
            b.bytes(&mb);
        }
    }
    nal(3, 5, &b.finish())
}

/// A P picture: every macroblock skipped (a copy of the previous frame).
fn p_skip(g: Geometry, frame_num: u32) -> Vec<u8> {
    let mut b = Bits::default();
    b.ue(0); // first_mb_in_slice
    b.ue(5); // slice_type: P (every slice)
    b.ue(0); // pic_parameter_set_id
    b.put(
        u64::from(frame_num % (1 << LOG2_MAX_FRAME_NUM)),
        LOG2_MAX_FRAME_NUM,
    );
    b.flag(false); // num_ref_idx_active_override_flag
    b.flag(false); // ref_pic_list_modification_flag_l0
    b.flag(false); // adaptive_ref_pic_marking_mode_flag
    b.se(0); // slice_qp_delta
    b.ue(1); // disable_deblocking_filter_idc
    b.ue(g.mbw * g.mbh); // mb_skip_run: the whole picture
    nal(2, 1, &b.finish())
}

/// One MP4 box.
fn atom(kind: &[u8; 4], parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = 8 + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(&(len as u32).to_be_bytes());
    v.extend_from_slice(kind);
    for p in parts {
        v.extend_from_slice(p);
    }
    v
}

fn be(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

const MATRIX: [u32; 9] = [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x4000_0000];

/// `moov` for `frames` samples of `sizes`, data starting at `offset`.
fn moov(
    g: Geometry,
    sps: &[u8],
    pps: &[u8],
    sizes: &[u32],
    timescale: u32,
    delta: u32,
    offset: u32,
) -> Vec<u8> {
    let frames = sizes.len() as u32;
    let media_duration = frames * delta;
    let movie_duration = (u64::from(media_duration) * 1000 / u64::from(timescale)) as u32;
    let mvhd = [
        be(&[0, 0, 0, 1000, movie_duration, 0x10000]),
        vec![1, 0, 0, 0],
        vec![0; 8],
        be(&MATRIX),
        vec![0; 24],
        be(&[2]),
    ]
    .concat();
    let tkhd = [
        be(&[3, 0, 0, 1, 0, movie_duration, 0, 0, 0, 0]),
        be(&MATRIX),
        be(&[g.width << 16, g.height << 16]),
    ]
    .concat();
    let mdhd = be(&[0, 0, 0, timescale, media_duration, 0x55C4_0000]);
    let hdlr = [
        be(&[0, 0]),
        b"vide".to_vec(),
        vec![0; 12],
        b"VideoHandler\0".to_vec(),
    ]
    .concat();
    let avcc = [
        vec![1, 66, 0xC0, level(g.mbw * g.mbh), 0xFF, 0xE1],
        (sps.len() as u16).to_be_bytes().to_vec(),
        sps.to_vec(),
        vec![1],
        (pps.len() as u16).to_be_bytes().to_vec(),
        pps.to_vec(),
    ]
    .concat();
    let mut name = [0u8; 32];
    let label = b"imgperf mock";
    name[0] = label.len() as u8;
    name[1..=label.len()].copy_from_slice(label);
    let avc1 = atom(
        b"avc1",
        &[
            &[0, 0, 0, 0, 0, 0, 0, 1],
            &[0; 16],
            &(g.width as u16).to_be_bytes(),
            &(g.height as u16).to_be_bytes(),
            &be(&[0x0048_0000, 0x0048_0000, 0]),
            &1u16.to_be_bytes(),
            &name,
            &[0, 0x18, 0xFF, 0xFF],
            &atom(b"avcC", &[&avcc]),
        ],
    );
    let stsd = atom(b"stsd", &[&be(&[0, 1]), &avc1]);
    let stts = atom(b"stts", &[&be(&[0, 1, frames, delta])]);
    let stss = atom(b"stss", &[&be(&[0, 1, 1])]);
    let stsc = atom(b"stsc", &[&be(&[0, 1, 1, frames, 1])]);
    let stsz = atom(b"stsz", &[&be(&[0, 0, frames]), &be(sizes)]);
    let stco = atom(b"stco", &[&be(&[0, 1, offset])]);
    let stbl = atom(b"stbl", &[&stsd, &stts, &stss, &stsc, &stsz, &stco]);
    let url = atom(b"url ", &[&be(&[1])]);
    let dinf = atom(b"dinf", &[&atom(b"dref", &[&be(&[0, 1]), &url])]);
    let vmhd = atom(b"vmhd", &[&be(&[1, 0, 0])]);
    let minf = atom(b"minf", &[&vmhd, &dinf, &stbl]);
    let mdia = atom(
        b"mdia",
        &[&atom(b"mdhd", &[&mdhd]), &atom(b"hdlr", &[&hdlr]), &minf],
    );
    let trak = atom(b"trak", &[&atom(b"tkhd", &[&tkhd]), &mdia]);
    atom(b"moov", &[&atom(b"mvhd", &[&mvhd]), &trak])
}

/// An MP4 (`moov` first, so it plays while downloading) of `frames` frames
/// of `width`×`height` (even numbers) at `fps`, showing `picture` (of
/// that size) for its whole duration.
pub(crate) fn mp4(width: u32, height: u32, frames: u32, fps: f64, picture: &RgbImage) -> Vec<u8> {
    let g = Geometry {
        width,
        height,
        mbw: width.div_ceil(16),
        mbh: height.div_ceil(16),
    };
    // Frame rate as timescale / delta, exact to 1/1000 fps.
    let (timescale, delta) = ((fps * 1000.0).round().max(1.0) as u32, 1000);
    let (sps, pps) = (sps(g, timescale, delta), pps());
    let samples: Vec<Vec<u8>> = std::iter::once(idr(g, picture))
        .chain((1..frames).map(|n| p_skip(g, n)))
        .collect();
    let sizes: Vec<u32> = samples.iter().map(|s| s.len() as u32 + 4).collect();
    let ftyp = atom(b"ftyp", &[b"isom", &be(&[512]), b"isomiso2avc1mp41"]);
    let head = moov(g, &sps, &pps, &sizes, timescale, delta, 0).len() + ftyp.len() + 8;
    let moov = moov(g, &sps, &pps, &sizes, timescale, delta, head as u32);
    let data: usize = sizes.iter().map(|s| *s as usize).sum();
    let mut out = Vec::with_capacity(head + data);
    out.extend_from_slice(&ftyp);
    out.extend_from_slice(&moov);
    out.extend_from_slice(&((data + 8) as u32).to_be_bytes());
    out.extend_from_slice(b"mdat");
    for s in &samples {
        out.extend_from_slice(&(s.len() as u32).to_be_bytes());
        out.extend_from_slice(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb_and_emulation_prevention() {
        let mut b = Bits::default();
        b.ue(0);
        b.ue(1);
        b.ue(2);
        b.ue(25);
        b.se(-1);
        // 1 010 011 000011010 011 + stop bit and padding
        assert_eq!(b.finish(), vec![0b1010_0110, 0b0001_1010, 0b0111_0000]);
        assert_eq!(
            nal(3, 5, &[0, 0, 1, 0, 0, 0, 7]),
            vec![0x65, 0, 0, 3, 1, 0, 0, 3, 0, 7]
        );
    }

    #[test]
    fn core_reads_what_the_writer_wrote() {
        let file = mp4(
            330,
            190,
            93,
            24.0,
            &super::super::super::picture::render(330, 190, 1, 0),
        );
        let f = imgperf_core::video::mp4::facts(&file).unwrap();
        assert_eq!(
            (f.width, f.height, f.frames, f.codec.as_str()),
            (330, 190, 93, "h264")
        );
        assert!((f.fps - 24.0).abs() < 1e-9 && (f.duration_s - 3.875).abs() < 1e-9);
        // One I_PCM picture (~1.5 bytes a pixel) and 92 skipped ones.
        let px = 336 * 192;
        assert!(
            file.len() > px * 3 / 2 && file.len() < px * 3 / 2 + 4000,
            "{}",
            file.len()
        );
    }
}
