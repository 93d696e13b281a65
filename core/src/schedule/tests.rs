//! Schedule tests: exact constant offsets, seeded random patterns, ramps,
//! conditioning on a count, and the fixed-schedule and ramp helpers.

use super::*;
use ArrivalPattern::{ConcurrencyBurst, Constant, Gamma as G, Poisson};
use ScheduleError as E;

const MS: u64 = 1_000_000;

fn spec(pattern: ArrivalPattern, rate: f64, ramp: Option<f64>) -> RateSpec {
    let ramp_duration_s = ramp;
    RateSpec {
        rate,
        pattern,
        ramp_duration_s,
    }
}

fn sched(pattern: ArrivalPattern, rate: f64, ramp: Option<f64>) -> Schedule {
    Schedule::new(&spec(pattern, rate, ramp), 3).unwrap()
}

fn first(pattern: ArrivalPattern, rate: f64, seed: u64, n: usize) -> Vec<u64> {
    let s = Schedule::new(&spec(pattern, rate, None), seed).unwrap();
    s.take(n).collect()
}

/// Mean and population variance of the gaps (s).
fn gap_stats(o: &[u64]) -> (f64, f64) {
    let gaps: Vec<f64> = o.windows(2).map(|w| (w[1] - w[0]) as f64 / 1e9).collect();
    let n = gaps.len() as f64;
    let mean = gaps.iter().sum::<f64>() / n;
    let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / n;
    (mean, var)
}

fn count(o: &[u64], from_s: f64, to_s: f64) -> usize {
    let range = from_s * 1e9..to_s * 1e9;
    o.iter().filter(|&&t| range.contains(&(t as f64))).count()
}

#[test]
fn constant_10_per_second_for_2_seconds_is_20_exact_arrivals() {
    let s = sched(Constant, 10.0, None);
    let got: Vec<u64> = s.take_while(|&o| o < 2_000 * MS).collect();
    assert_eq!(got, (0..20).map(|i| i * 100 * MS).collect::<Vec<_>>());
    // Computed from the index, never summed: no drift.
    let mut third = sched(Constant, 3.0, None);
    assert_eq!(third.nth(3_000_000), Some(1_000_000_000 * MS));
    assert_eq!(third.next(), Some(1_000_000_333_333_333));
}

// The statistical tests use fixed seeds, so they are deterministic; the
// tolerances are about 3 standard errors (mean) and 2 (gamma variance).
#[test]
fn seeded_poisson_is_reproducible_with_the_right_mean() {
    let a = first(Poisson, 50.0, 7, 10_001);
    assert_eq!(a, first(Poisson, 50.0, 7, 10_001));
    assert_ne!(a, first(Poisson, 50.0, 8, 10_001));
    let (mean, _) = gap_stats(&a);
    assert!((mean * 50.0 - 1.0).abs() < 0.03, "mean gap {mean}");
}

#[test]
fn a_count_bounded_schedule_hits_the_rate_exactly_and_keeps_its_shape() {
    for (pattern, seed) in [(Poisson, 1), (Poisson, 9), (G { shape: 0.5 }, 4)] {
        let plain = first(pattern, 50.0, seed, 1_000);
        let s = Schedule::new(&spec(pattern, 50.0, None), seed).unwrap();
        let cond: Vec<u64> = s.conditioned_on_count(1_000).take(1_000).collect();
        // The last of 1000 arrivals at 50/s is due at 999/50 s exactly.
        assert_eq!(cond[999], 19_980 * MS, "{pattern:?}");
        // Same draws, one common factor: the gaps keep their pattern.
        let factor = cond[999] as f64 / plain[999] as f64;
        for k in [1, 10, 500] {
            let ratio = cond[k] as f64 / plain[k] as f64;
            assert!((ratio / factor - 1.0).abs() < 1e-6, "{pattern:?} {k}");
        }
        assert!(
            (factor - 1.0).abs() > 1e-4,
            "seed {seed} drew the rate exactly?"
        );
    }
    // Unchanged: constant schedules and trivial counts.
    let c = sched(Constant, 10.0, None).conditioned_on_count(50);
    assert_eq!(c.take(3).collect::<Vec<_>>(), vec![0, 100 * MS, 200 * MS]);
    let one = Schedule::new(&spec(Poisson, 50.0, None), 1).unwrap();
    assert_eq!(
        one.conditioned_on_count(1).take(5).collect::<Vec<_>>(),
        first(Poisson, 50.0, 1, 5)
    );
    // With a ramp, the last arrival lands where the constant one would.
    let ramp = |p| {
        Schedule::new(&spec(p, 10.0, Some(10.0)), 5)
            .unwrap()
            .conditioned_on_count(300)
    };
    let want = ramp(Constant).nth(299).unwrap();
    let got = ramp(Poisson).nth(299).unwrap();
    assert!(got.abs_diff(want) < 1_000, "{got} vs {want}");
}

#[test]
fn gamma_gap_variance_matches_the_shape() {
    for shape in [0.5, 4.0] {
        let (mean, var) = gap_stats(&first(G { shape }, 20.0, 42, 20_001));
        let want = 1.0 / (20.0 * 20.0 * shape);
        assert!((mean * 20.0 - 1.0).abs() < 0.03, "{shape}: mean {mean}");
        assert!((var / want - 1.0).abs() < 0.05, "{shape}: var {var}");
    }
}

#[test]
fn burst_is_all_due_at_once() {
    assert_eq!(first(ConcurrencyBurst, 0.0, 0, 100), vec![0; 100]);
}

#[test]
fn ramps_rise_then_hold_the_rate() {
    for pattern in [Constant, Poisson, G { shape: 2.0 }] {
        let s = sched(pattern, 10.0, Some(10.0));
        let o: Vec<u64> = s.take_while(|&o| o < 1_010_000 * MS).collect();
        assert_eq!(o[0], 0);
        assert!(o.windows(2).all(|w| w[0] <= w[1]));
        assert!(count(&o, 0.0, 5.0) < count(&o, 5.0, 10.0), "{pattern:?}");
        let after = count(&o, 10.0, 1010.0) as f64 / 10_000.0;
        assert!((after - 1.0).abs() < 0.03, "{pattern:?}: {after}");
    }
    let o: Vec<u64> = sched(Constant, 10.0, Some(10.0)).take(300).collect();
    assert_eq!(count(&o, 0.0, 10.0), 50, "R·D/2 arrivals in the ramp");
    assert!(o[50..].windows(2).all(|w| w[1] - w[0] == 100 * MS));
}

#[test]
fn modes_parse_and_gamma_takes_the_smoothness() {
    let p = ArrivalPattern::parse;
    assert_eq!(p("constant", None), Ok(Constant));
    assert_eq!(p("Poisson", Some(3.0)), Ok(Poisson));
    assert_eq!(p("concurrency-burst", None), Ok(ConcurrencyBurst));
    assert_eq!(p("gamma", None), Ok(G { shape: 1.0 }));
    assert_eq!(p("gamma", Some(0.25)), Ok(G { shape: 0.25 }));
}

#[test]
fn bad_settings_name_the_flag() {
    let err = ArrivalPattern::parse("uniform", None).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("--request-rate-mode"), "{msg}");
    assert!(msg.contains("concurrency_burst"), "{msg}");
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let err = ArrivalPattern::parse("gamma", Some(bad)).unwrap_err();
        assert!(err.to_string().contains("--arrival-smoothness"));
        let err = Schedule::new(&spec(Constant, bad, None), 0).unwrap_err();
        assert!(err.to_string().contains("--request-rate "), "{err}");
    }
    let err = Schedule::new(&spec(Poisson, 1.0, Some(-1.0)), 0).unwrap_err();
    assert!(err.to_string().contains("--request-rate-ramp-duration"));
}

#[test]
fn fixed_schedule_sorts_and_offsets() {
    let got = fixed_schedule(&[500.0, 0.0, 250.5, 0.0], false, None, None);
    let want = vec![(1, 0), (3, 0), (2, 250_500_000), (0, 500 * MS)];
    assert_eq!(got, Ok(want));
    let got = fixed_schedule(&[1200.0, 1000.0, 1100.0], true, None, None);
    assert_eq!(got, Ok(vec![(1, 0), (2, 100 * MS), (0, 200 * MS)]));
    let ts = [0.0, 100.0, 200.0, 300.0, 400.0];
    let got = fixed_schedule(&ts, false, Some(100.0), Some(300.0));
    assert_eq!(got, Ok(vec![(1, 0), (2, 100 * MS), (3, 200 * MS)]));
    let got = fixed_schedule(&ts, false, None, Some(150.0));
    assert_eq!(got, Ok(vec![(0, 0), (1, 100 * MS)]));
    let got = fixed_schedule(&ts, true, Some(150.0), None);
    assert_eq!(got, Ok(vec![(2, 0), (3, 100 * MS), (4, 200 * MS)]));
}

#[test]
fn fixed_schedule_refuses_bad_input() {
    let got = fixed_schedule(&[0.0, -5.0], false, None, None);
    assert_eq!(got, Err(E::BadTimestamp(1, -5.0)));
    assert!(fixed_schedule(&[f64::NAN], false, None, None).is_err());
    assert_eq!(fixed_schedule(&[], true, None, None), Err(E::Empty(0)));
    let got = fixed_schedule(&[1.0, 2.0], false, Some(5.0), None);
    assert_eq!(got, Err(E::Empty(2)));
    let err = fixed_schedule(&[1.0], false, Some(-1.0), None).unwrap_err();
    assert!(err.to_string().contains("--fixed-schedule-start-offset"));
    let got = fixed_schedule(&[1.0], false, Some(5.0), Some(1.0));
    assert_eq!(got, Err(E::ReversedOffsets(5.0, 1.0)));
}

#[test]
fn concurrency_ramp_steps_evenly_to_the_target() {
    let s = 1_000 * MS;
    let want = vec![(0, 1), (s, 2), (2 * s, 3), (3 * s, 4)];
    assert_eq!(concurrency_ramp(4, 3.0), want);
    assert_eq!(concurrency_ramp(1, 10.0), vec![(0, 1)]);
    assert_eq!(concurrency_ramp(8, 0.0), vec![(0, 8)]);
    assert_eq!(concurrency_ramp(8, f64::NAN), vec![(0, 8)]);
    assert!(concurrency_ramp(0, 5.0).is_empty());
}
