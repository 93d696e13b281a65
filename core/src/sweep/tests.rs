//! Unit tests of sweep axes, the grid and the sweep summary.

use super::*;
use crate::metrics::tests::tutorial;
use crate::metrics::SummaryBuilder;

fn axes() -> Vec<Axis> {
    parse_axes(&["concurrency=1,2".into(), "size=512x512, 1024x1024".into()]).unwrap()
}

#[test]
fn parses_axes_and_rejects_bad_ones() {
    let a = axes();
    assert_eq!(
        (a[0].kind.clone(), a[1].kind.clone()),
        (AxisKind::Concurrency, AxisKind::Extra)
    );
    assert_eq!(a[1].values, ["512x512", "1024x1024"]);
    let a = Axis::parse("request-rate:0.5,2").unwrap();
    assert_eq!(
        (a.key.as_str(), a.kind),
        ("request_rate", AxisKind::RequestRate)
    );
    for bad in [
        "concurrency",
        "concurrency=",
        "concurrency=0",
        "request_rate=-1",
        "=1",
        "concurrency=x",
    ] {
        assert!(Axis::parse(bad).is_err(), "{bad}");
    }
    assert!(parse_axes(&["n=1".into(), "n=2".into()])
        .unwrap_err()
        .contains("twice"));
}

#[test]
fn grid_is_the_cartesian_product_first_axis_outermost() {
    let a = axes();
    let g = grid(&a);
    let names: Vec<String> = g.iter().map(|p| point_name(&a, p)).collect();
    assert_eq!(
        names,
        [
            "concurrency1-size512x512",
            "concurrency1-size1024x1024",
            "concurrency2-size512x512",
            "concurrency2-size1024x1024"
        ]
    );
    assert_eq!(grid(&[]), vec![Vec::<(usize, String)>::new()]);
}

#[test]
fn summary_rows_repeat_each_points_metrics() {
    let a = axes();
    let g = grid(&a);
    let mut b = SummaryBuilder::new();
    tutorial().iter().for_each(|r| b.add(r));
    let s = b.finish();
    let results: Vec<PointResult> = g
        .iter()
        .map(|p| PointResult {
            point: p,
            dir: point_name(&a, p),
            summary: &s,
            was_cancelled: false,
        })
        .collect();
    let v = sweep_json(&a, &results);
    assert_eq!(
        v["points"][3]["parameters"],
        json!({"concurrency": 2, "size": "1024x1024"})
    );
    assert_eq!(
        v["points"][0]["metrics"],
        Value::Object(summary_metrics_json(&s))
    );
    let csv = sweep_csv(&a, &results);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5);
    assert!(lines[0].starts_with("concurrency,size,request_count,error_request_count,error_rate,"));
    assert!(lines[0].contains("request_latency_p99") && !lines[0].contains("goodput"));
    assert!(
        lines[1].starts_with("1,512x512,3.00,0.00,0.00,0.08,"),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains(",12947.91,"), "{}", lines[1]);
    let (head, rows) = sweep_table(&a, &results);
    assert_eq!(head[..3], ["concurrency", "size", "ok"]);
    assert_eq!(rows[2][..3], ["2", "512x512", "3"]);
}
