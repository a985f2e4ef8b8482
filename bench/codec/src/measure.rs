//! Timing: contenders run in turn, medians over rounds.

use std::time::Instant;

/// One case measured for both contenders.
pub struct CaseResult {
    pub name: String,
    /// Unit of `ours` and `rml` (work per second, e.g. GB/s).
    pub unit: &'static str,
    /// Median over rounds of node-rtmpapi's rate.
    pub ours: f64,
    /// Median over rounds of rml_rtmp's rate.
    pub rml: f64,
    /// Median of the per-round ratios rml ÷ ours (below 1: node-rtmpapi is faster).
    pub ratio: f64,
    pub runs: usize,
}

impl CaseResult {
    pub fn text(&self) -> String {
        format!(
            "{:<36} node-rtmpapi {:>8.3} {u}  rml_rtmp {:>8.3} {u}  rml/ours {:.3} (median of {} rounds)",
            self.name,
            self.ours,
            self.rml,
            self.ratio,
            self.runs,
            u = self.unit
        )
    }

    /// One JSON object (no serde: names and numbers only).
    pub fn json(&self) -> String {
        format!(
            r#"{{"case":"{}","unit":"{}","ours":{},"rml":{},"ratio":{},"runs":{}}}"#,
            self.name, self.unit, self.ours, self.rml, self.ratio, self.runs
        )
    }
}

/// Median of a non-empty list.
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let m = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[m]
    } else {
        (xs[m - 1] + xs[m]) / 2.0
    }
}

/// Seconds one call of `f` takes.
fn time(f: &mut impl FnMut()) -> f64 {
    let t0 = Instant::now();
    f();
    t0.elapsed().as_secs_f64()
}

/// Runs `ours` and `rml` in turn `runs` times (after one warm-up call of each); `work` is
/// the amount of work one call does, in `unit`'s numerator (e.g. GB).
pub fn interleave(
    name: &str,
    unit: &'static str,
    work: f64,
    runs: usize,
    mut ours: impl FnMut(),
    mut rml: impl FnMut(),
) -> CaseResult {
    ours();
    rml();
    let (mut a, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let ta = time(&mut ours);
        let tb = time(&mut rml);
        a.push(work / ta);
        b.push(work / tb);
        ratios.push(ta / tb);
    }
    CaseResult {
        name: name.to_owned(),
        unit,
        ours: median(a),
        rml: median(b),
        ratio: median(ratios),
        runs,
    }
}
