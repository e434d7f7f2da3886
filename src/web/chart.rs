//! Bar charts drawn on the server as SVG: no JavaScript, crisp at any size, and the
//! figures are also in a table for screen readers.

/// One bar: its label ("Mar"), its value, and the value as shown ("€1,250.00").
pub struct Point {
    pub label: String,
    pub value: f64,
    pub shown: String,
}

pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub label_x: f64,
    pub point: Point,
}

pub struct GridLine {
    pub y: f64,
    pub label: String,
}

pub struct BarChart {
    pub title: String,
    pub bars: Vec<Bar>,
    pub grid: Vec<GridLine>,
    pub width: f64,
    pub height: f64,
    /// Where the bars stand (the x axis).
    pub base: f64,
    pub empty: bool,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 56.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// Gridlines on round numbers: a step of 1, 2, 2.5 or 5 × 10ⁿ (at least 1) and how many
/// steps reach `max`, about four.
fn scale(max: f64) -> (f64, u32) {
    let raw = (max / 4.0).max(1.0);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude);
    let steps = ((max / step).ceil() as u32).max(1);
    (step, steps)
}

/// "12k" for gridline labels.
fn short(n: f64) -> String {
    if n >= 1_000_000.0 {
        format!("{}M", (n / 100_000.0).round() / 10.0)
    } else if n >= 1_000.0 {
        format!("{}k", (n / 100.0).round() / 10.0)
    } else {
        format!("{}", n.round())
    }
}

pub fn bar_chart(title: impl Into<String>, points: Vec<Point>) -> BarChart {
    let (step, steps) = scale(points.iter().map(|p| p.value).fold(0.0, f64::max));
    let max = step * f64::from(steps);
    let plot_height = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT) / points.len().max(1) as f64;
    let empty = points.iter().all(|p| p.value <= 0.0);
    let bars = points
        .into_iter()
        .enumerate()
        .map(|(i, point)| {
            let height = (point.value.max(0.0) / max * plot_height).max(if point.value > 0.0 { 1.0 } else { 0.0 });
            let x = LEFT + i as f64 * slot + slot * 0.18;
            Bar { x, y: TOP + plot_height - height, width: slot * 0.64, height, label_x: x + slot * 0.32, point }
        })
        .collect();
    let grid = (0..=steps)
        .map(|i| {
            let share = f64::from(i) / f64::from(steps);
            GridLine { y: TOP + plot_height - plot_height * share, label: short(step * f64::from(i)) }
        })
        .collect();
    BarChart { title: title.into(), bars, grid, width: WIDTH, height: HEIGHT, base: TOP + plot_height, empty }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gridlines_fall_on_round_numbers() {
        assert_eq!(scale(0.0), (1.0, 1));
        assert_eq!(scale(2.0), (1.0, 2));
        assert_eq!(scale(7.0), (2.0, 4));
        assert_eq!(scale(4528.0), (2000.0, 3));
        assert_eq!(scale(10_000.0), (2500.0, 4));
        assert_eq!(short(12500.0), "12.5k");
    }

    #[test]
    fn bars_stand_on_a_round_scale_and_zero_draws_nothing() {
        let chart = bar_chart(
            "t",
            vec![
                Point { label: "a".into(), value: 0.0, shown: "0".into() },
                Point { label: "b".into(), value: 50.0, shown: "50".into() },
            ],
        );
        assert_eq!(chart.bars[0].height, 0.0);
        // 50 on a scale of 0, 20, 40, 60.
        assert!((chart.bars[1].height - (HEIGHT - TOP - BOTTOM) * 50.0 / 60.0).abs() < 1e-9);
        assert_eq!(chart.grid.iter().map(|g| g.label.as_str()).collect::<Vec<_>>(), ["0", "20", "40", "60"]);
        assert!(!chart.empty);
    }
}
