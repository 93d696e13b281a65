//! Photo-like pictures from a number: a sunset over two mountain ranges (sky
//! gradient, a sun with a soft glow, sine-shaped ridges, film grain) whose
//! palette, sun and ridges follow a `variant`. Pure arithmetic on RGB8
//! pixels, no encoder: the mock server encodes them as its outputs, and
//! synthetic reference images ([`crate::reference::synthetic`]) are encoded
//! by each platform (the `image` crate natively, a canvas in the browser),
//! so the web build carries no PNG or JPEG encoder.
//!
//! The grain keeps encoded sizes close to real generations (a 512x512 JPEG
//! is ~45-85 KiB, a 1024x1024 PNG ~1.7 MiB), so uploads and downloads of
//! these pictures weigh what real ones do.

use crate::images::ImageFormat;

/// A 64-bit mixer (splitmix64's finaliser): spreads any input over all bits.
pub fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Amplitude of the film grain, in 8-bit levels either side of zero, for the
/// format the picture will be encoded in: calibrated so that 512x512 and
/// 1024x1024 pictures weigh what real generations do (JPEG at quality 85
/// ~60 and ~215 KiB of base64, PNG ~0.44 and ~1.7 MiB).
pub fn grain_amplitude(format: ImageFormat) -> u64 {
    match format {
        ImageFormat::Jpeg => 7,
        ImageFormat::Png | ImageFormat::Webp => 2,
    }
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    let t = t.clamp(0.0, 1.0);
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Deterministic per-pixel noise in `-amp..=amp`.
fn grain(x: u32, y: u32, salt: u64, amp: u64) -> f32 {
    let z = mix64((u64::from(x) << 32 | u64::from(y)) ^ salt);
    (z % (2 * amp + 1)) as f32 - amp as f32
}

/// Palettes: sky top, sky middle, horizon, far ridge, near ridge.
const PALETTES: [[[f32; 3]; 5]; 4] = [
    [
        [26.0, 30.0, 84.0],
        [150.0, 72.0, 120.0],
        [250.0, 170.0, 105.0],
        [92.0, 70.0, 112.0],
        [40.0, 70.0, 72.0],
    ],
    [
        [12.0, 40.0, 96.0],
        [70.0, 130.0, 190.0],
        [240.0, 200.0, 150.0],
        [70.0, 90.0, 120.0],
        [30.0, 60.0, 40.0],
    ],
    [
        [40.0, 16.0, 60.0],
        [190.0, 60.0, 80.0],
        [255.0, 150.0, 60.0],
        [110.0, 50.0, 80.0],
        [50.0, 30.0, 40.0],
    ],
    [
        [20.0, 60.0, 70.0],
        [90.0, 160.0, 150.0],
        [230.0, 230.0, 180.0],
        [60.0, 100.0, 90.0],
        [25.0, 50.0, 45.0],
    ],
];

/// The picture of `variant` at `width` x `height`, as RGB8 pixels row by row
/// (`3 * width * height` bytes), with grain of amplitude `amp`. Same
/// arguments, same pixels.
pub fn render_rgb(width: u32, height: u32, variant: u32, amp: u64) -> Vec<u8> {
    let r = |i: u64| (mix64(u64::from(variant) * 31 + i) >> 11) as f32 / (1u64 << 53) as f32;
    let pal = PALETTES[variant as usize % PALETTES.len()];
    let salt = mix64(u64::from(variant));
    let (wf, hf) = (width as f32, height as f32);
    let ridge = |u: f32, base: f32, a: f32, f: f32, phase: f32| {
        hf * (base + a * (u * f + phase).sin() + a * 0.45 * (u * f * 2.7 + phase * 1.9).sin())
    };
    let (f1, p1, f2, p2) = (5.0 + 4.0 * r(1), 6.0 * r(2), 3.0 + 3.0 * r(3), 6.0 * r(4));
    let far: Vec<f32> = (0..width)
        .map(|x| ridge(x as f32 / wf, 0.62, 0.07, f1, p1))
        .collect();
    let near: Vec<f32> = (0..width)
        .map(|x| ridge(x as f32 / wf, 0.80, 0.045, f2, p2))
        .collect();
    let (sun_x, sun_y) = ((0.2 + 0.6 * r(5)) * wf, (0.3 + 0.15 * r(6)) * hf);
    let sun_r = (0.08 + 0.06 * r(7)) * wf.min(hf);

    let row_len = 3 * width as usize;
    let mut out = vec![0u8; row_len * height as usize];
    for (y, row) in out.chunks_exact_mut(row_len).enumerate() {
        let y = y as u32;
        let fy = y as f32 + 0.5;
        let v = fy / hf;
        let sky = if v < 0.35 {
            mix(pal[0], pal[1], v / 0.35)
        } else {
            mix(pal[1], pal[2], (v - 0.35) / 0.3)
        };
        let dy2 = (fy - sun_y).powi(2);
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let fx = x as f32 + 0.5;
            let d = ((fx - sun_x).powi(2) + dy2).sqrt() / sun_r;
            let mut c = if d < 1.0 {
                mix([255.0, 236.0, 160.0], [255.0, 205.0, 120.0], d * d)
            } else {
                mix(sky, [255.0, 210.0, 140.0], 0.45 * (-(d - 1.0) * 1.6).exp())
            };
            let (far_y, near_y) = (far[x], near[x]);
            if fy > near_y {
                let t = (fy - near_y) / (hf - near_y + 1.0);
                c = mix(pal[4], pal[4].map(|ch| ch * 0.35), t);
            } else if fy > far_y {
                let t = (fy - far_y) / (hf * 0.25);
                c = mix(pal[3], pal[3].map(|ch| ch * 0.6), t);
            }
            let n = grain(x as u32, y, salt, amp);
            px[0] = (c[0] + n).round().clamp(0.0, 255.0) as u8;
            px[1] = (c[1] + n).round().clamp(0.0, 255.0) as u8;
            px[2] = (c[2] + n).round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_variant_same_pixels_and_variants_differ() {
        let a = render_rgb(40, 30, 3, 2);
        assert_eq!(a.len(), 40 * 30 * 3);
        assert_eq!(a, render_rgb(40, 30, 3, 2));
        assert_ne!(a, render_rgb(40, 30, 4, 2));
    }

    #[test]
    fn looks_like_a_photo_not_flat_colour() {
        let px = render_rgb(64, 64, 1, 2);
        let mut distinct: Vec<[u8; 3]> = px.chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() > 500, "{} colours", distinct.len());
        // Sky above, dark ridges below: the top row is brighter than the bottom one.
        let luma = |row: usize| -> u32 {
            px[row * 64 * 3..(row + 1) * 64 * 3]
                .iter()
                .map(|&b| u32::from(b))
                .sum()
        };
        assert!(luma(20) > luma(63), "sky {} ridge {}", luma(20), luma(63));
    }
}
