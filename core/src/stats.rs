//! Descriptive statistics over a set of values, computed the way the reference
//! tool (AIPerf, through numpy) computes them, so that the numbers match to the
//! last printed digit: numpy's pairwise summation for `sum`/`avg`/`std`,
//! population standard deviation (ddof = 0), and numpy's default `linear`
//! percentile interpolation.

use serde::Serialize;

/// Summary statistics of a non-empty set of values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    /// Number of values.
    pub count: usize,
    /// Arithmetic mean.
    pub avg: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Sum of the values.
    pub sum: f64,
    /// 1st percentile.
    pub p1: f64,
    /// 5th percentile.
    pub p5: f64,
    /// 10th percentile.
    pub p10: f64,
    /// 25th percentile.
    pub p25: f64,
    /// 50th percentile (median).
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Population standard deviation (ddof = 0).
    pub std: f64,
}

impl Stats {
    /// Statistics of `values` (in any order); `None` when `values` is empty.
    ///
    /// NaN values are ignored (they would poison every statistic); if only NaN
    /// values are given the result is `None`.
    pub fn from_values(values: &[f64]) -> Option<Stats> {
        // numpy sums in the array's own order: keep the caller's order for
        // sum/avg/std so the rounding matches `np.mean(values)`.
        let ordered: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        if ordered.is_empty() {
            return None;
        }
        let mut sorted = ordered.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len() as f64;
        let sum = numpy_sum(&ordered);
        let avg = sum / n;
        let squares: Vec<f64> = ordered.iter().map(|v| (v - avg) * (v - avg)).collect();
        let std = (numpy_sum(&squares) / n).sqrt();
        let p = |q| percentile(&sorted, q);
        Some(Stats {
            count: sorted.len(),
            avg,
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            sum,
            p1: p(1.0),
            p5: p(5.0),
            p10: p(10.0),
            p25: p(25.0),
            p50: p(50.0),
            p75: p(75.0),
            p90: p(90.0),
            p95: p(95.0),
            p99: p(99.0),
            std,
        })
    }
}

/// The `p`-th percentile (`p` in `0..=100`, clamped) of ascending `sorted`
/// values, with numpy's default linear interpolation between closest ranks.
///
/// Returns NaN for an empty slice.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let virtual_index = (n - 1) as f64 * (p.clamp(0.0, 100.0) / 100.0);
    if virtual_index >= (n - 1) as f64 {
        return sorted[n - 1];
    }
    let below = virtual_index.floor();
    let i = below as usize;
    lerp(sorted[i], sorted[i + 1], virtual_index - below)
}

/// numpy's `_lerp`: interpolates from the nearer end for better accuracy.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// numpy's pairwise summation (`np.add.reduce` on a contiguous float64 array),
/// bit-for-bit, so that `avg` and `std` round like the reference tool's.
fn numpy_sum(values: &[f64]) -> f64 {
    0.0 + pairwise_sum(values)
}

fn pairwise_sum(a: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for v in a {
            res += v;
        }
        res
    } else if n <= BLOCK {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let whole = n - n % 8;
        for chunk in a[8..whole].chunks_exact(8) {
            for (acc, v) in r.iter_mut().zip(chunk) {
                *acc += v;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for v in &a[whole..] {
            res += v;
        }
        res
    } else {
        let mut half = n / 2;
        half -= half % 8;
        pairwise_sum(&a[..half]) + pairwise_sum(&a[half..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r2(v: f64) -> String {
        format!("{v:.2}")
    }

    #[test]
    fn tutorial_latencies() {
        let s = Stats::from_values(&[12251.41, 12647.29, 12954.04]).unwrap();
        assert_eq!(r2(s.p99), "12947.91");
        assert_eq!(r2(s.p90), "12892.69");
        assert_eq!(r2(s.p50), "12647.29");
        assert_eq!(r2(s.std), "287.62");
        assert_eq!(r2(s.avg), "12617.58");
        assert_eq!(r2(s.min), "12251.41");
        assert_eq!(r2(s.max), "12954.04");
        assert_eq!(s.count, 3);
    }

    #[test]
    fn tutorial_isl() {
        let s = Stats::from_values(&[7.0, 6.0, 7.0]).unwrap();
        let got = [s.avg, s.min, s.max, s.p99, s.p90, s.p50, s.std].map(r2);
        assert_eq!(
            got,
            ["6.67", "6.00", "7.00", "7.00", "7.00", "7.00", "0.47"]
        );
        assert_eq!(s.sum, 20.0);
    }

    #[test]
    fn tutorial_synthetic_run() {
        // Second table of the tutorial (synthetic prompts).
        let s = Stats::from_values(&[11918.37, 12097.79, 12503.38]).unwrap();
        let got = [s.avg, s.p99, s.p90, s.p50, s.std].map(r2);
        assert_eq!(
            got,
            ["12173.18", "12495.27", "12422.26", "12097.79", "244.71"]
        );
        let s = Stats::from_values(&[153.0, 107.0, 151.0]).unwrap();
        let got = [s.avg, s.p99, s.p90, s.p50, s.std].map(r2);
        assert_eq!(got, ["137.00", "152.96", "152.60", "151.00", "21.23"]);
    }

    #[test]
    fn empty_is_none() {
        assert_eq!(Stats::from_values(&[]), None);
        assert_eq!(Stats::from_values(&[f64::NAN]), None);
    }

    #[test]
    fn single_value() {
        let s = Stats::from_values(&[42.5]).unwrap();
        for v in [s.avg, s.min, s.max, s.sum, s.p1, s.p25, s.p50, s.p75, s.p99] {
            assert_eq!(v, 42.5);
        }
        assert_eq!(s.std, 0.0);
        assert_eq!(s.count, 1);
    }

    #[test]
    fn unsorted_input_same_as_sorted() {
        let a = Stats::from_values(&[5.0, 1.0, 4.0, 2.0, 3.0]).unwrap();
        let b = Stats::from_values(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.p50, 3.0);
        assert_eq!(a.p25, 2.0);
        assert_eq!(a.p10, 1.4);
        assert_eq!(r2(a.std), "1.41");
    }

    #[test]
    fn nan_values_ignored() {
        let s = Stats::from_values(&[1.0, f64::NAN, 3.0]).unwrap();
        assert_eq!(s.count, 2);
        assert_eq!(s.avg, 2.0);
        assert!(!s.std.is_nan() && !s.p99.is_nan());
    }

    #[test]
    fn percentile_edges() {
        let v = [10.0, 20.0, 30.0, 40.0];
        assert_eq!(percentile(&v, 0.0), 10.0);
        assert_eq!(percentile(&v, 100.0), 40.0);
        assert_eq!(percentile(&v, 150.0), 40.0);
        assert_eq!(percentile(&v, -5.0), 10.0);
        assert_eq!(percentile(&v, 50.0), 25.0);
        assert!(percentile(&[], 50.0).is_nan());
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
    }

    #[test]
    fn pairwise_sum_matches_exact_sum_of_integers() {
        for n in [0usize, 1, 7, 8, 9, 16, 127, 128, 129, 1000, 4099] {
            let v: Vec<f64> = (0..n).map(|i| i as f64).collect();
            assert_eq!(numpy_sum(&v), (n * n.saturating_sub(1) / 2) as f64, "n={n}");
        }
    }

    #[test]
    fn many_values() {
        let v: Vec<f64> = (1..=1000).rev().map(|i| i as f64).collect();
        let s = Stats::from_values(&v).unwrap();
        assert_eq!(s.avg, 500.5);
        assert_eq!(s.p50, 500.5);
        assert_eq!(r2(s.p99), "990.01");
        assert_eq!(r2(s.std), "288.67");
    }
}
