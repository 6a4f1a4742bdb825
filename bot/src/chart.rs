//! The scores-over-time chart: overall and per-dimension scores by drill, drawn with
//! plotters into a PNG. `spar stats --chart` writes it; chat adapters attach the same file.
//! The x axis numbers the drills and gives each one's date; the legend sits beside the plot, never over it; and
//! dimensions with the same score are drawn a little apart, so no line hides another.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use spar_core::store::ScorePoint;
use std::path::Path;
use std::sync::Once;

/// Embedded so charts render the same everywhere, with no system font lookup.
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The font is part of the binary; a failure here is a build mistake a test catches.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// The Okabe-Ito palette: seven colours told apart with any common colour-vision deficiency.
const DIMENSION_COLOURS: [RGBColor; 7] = [
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(120, 120, 120),
];

const SIZE: (u32, u32) = (960, 720);
/// The height of the overall chart; the dimensions get the rest.
const OVERALL_HEIGHT: u32 = 300;
/// The width of the legend beside the dimension chart.
const LEGEND_WIDTH: u32 = 210;
/// How far apart (in score points) dimensions with the same score are drawn.
const SPREAD: f64 = 0.1;
const MARKER: u32 = 3;

/// Draws overall scores (top) and each dimension's 0–4 score (bottom), one drill after
/// another, labelled with the drill's date. Both axes span the whole scale, so one chart can
/// be compared with the next. There must be at least one point.
pub fn draw_scores(points: &[ScorePoint], path: &Path) -> anyhow::Result<()> {
    register_font();
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    draw(points, &root, &|ms| date_label(ms, &chrono::Local))
        .and_then(|_| root.present().map_err(Into::into))
        .map_err(|e| anyhow::anyhow!("cannot draw the chart to {}: {e}", path.display()))
}

/// The same chart as PNG bytes, for a chat reply to attach. plotters encodes only to a
/// file, so it is drawn to a temporary one that is removed again.
pub fn png(points: &[ScorePoint]) -> anyhow::Result<Vec<u8>> {
    let file = tempfile::Builder::new()
        .prefix("spar-chart-")
        .suffix(".png")
        .tempfile()
        .map_err(|e| anyhow::anyhow!("cannot create a temporary file for the chart: {e}"))?;
    draw_scores(points, file.path())?;
    std::fs::read(file.path())
        .map_err(|e| anyhow::anyhow!("cannot read back the chart {}: {e}", file.path().display()))
}

/// A drill's date as the x axis shows it, e.g. "3 Mar".
fn date_label<Tz: chrono::TimeZone>(ms: i64, zone: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(zone).format("%-d %b").to_string())
        .unwrap_or_default()
}

/// The dimension names in the order they first appear.
fn dimension_names(points: &[ScorePoint]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for point in points {
        for (name, _) in &point.dimensions {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    names
}

/// How far from its score a dimension is drawn at one drill: dimensions with the same score
/// there sit side by side around it, in the order they are listed; one alone sits on it.
fn spread(point: &ScorePoint, name: &str, score: u8) -> f64 {
    let same: Vec<&str> = point
        .dimensions
        .iter()
        .filter(|(_, s)| *s == score)
        .map(|(d, _)| d.as_str())
        .collect();
    let place = same.iter().position(|d| *d == name).unwrap_or_default();
    (place as f64 - (same.len() as f64 - 1.0) / 2.0) * SPREAD
}

/// Where each series' markers were drawn, in pixels: overall first, then each dimension.
type Drawn = Vec<(RGBColor, Vec<(i32, i32)>)>;

fn draw<DB: DrawingBackend>(
    points: &[ScorePoint],
    root: &DrawingArea<DB, Shift>,
    label: &dyn Fn(i64) -> String,
) -> Result<Drawn, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(OVERALL_HEIGHT);
    let drills = points.len().max(1);
    // Half a drill of room either side keeps the first and last markers inside the plot.
    let x_range = 0.5..drills as f64 + 0.5;
    let x_label = |x: &f64| {
        let n = x.round();
        if (x - n).abs() > 1e-6 || n < 1.0 {
            return String::new();
        }
        points
            .get(n as usize - 1)
            .map(|p| format!("#{n} · {}", label(p.at)))
            .unwrap_or_default()
    };
    let x_labels = drills.min(10);
    let mut drawn = Drawn::new();

    let mut overall = ChartBuilder::on(&top)
        .caption("Overall score by drill", (FAMILY, 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(40)
        .build_cartesian_2d(x_range.clone(), 0f64..100f64)?;
    overall
        .configure_mesh()
        .x_desc("drill and its date")
        .x_labels(x_labels)
        .x_label_formatter(&x_label)
        .y_label_formatter(&|y: &f64| format!("{y:.0}"))
        .label_style((FAMILY, 14))
        .draw()?;
    let series: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| (i as f64 + 1.0, f64::from(p.overall)))
        .collect();
    overall.draw_series(LineSeries::new(series.clone(), BLACK.stroke_width(2)))?;
    overall.draw_series(
        series
            .iter()
            .map(|&xy| Circle::new(xy, MARKER + 1, BLACK.filled())),
    )?;
    drawn.push((
        BLACK,
        series.iter().map(|xy| overall.backend_coord(xy)).collect(),
    ));

    let names = dimension_names(points);
    let (plot, legend) = bottom.split_horizontally(SIZE.0 - LEGEND_WIDTH);
    let mut dims = ChartBuilder::on(&plot)
        .caption("Dimensions (0–4) by drill", (FAMILY, 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(40)
        .build_cartesian_2d(x_range, -0.5f64..4.5f64)?;
    dims.configure_mesh()
        .x_desc("drill and its date")
        .x_labels(x_labels)
        .x_label_formatter(&x_label)
        .y_labels(11)
        .y_label_formatter(&|y: &f64| {
            let n = y.round();
            if (y - n).abs() < 1e-6 && (0.0..=4.0).contains(&n) {
                format!("{n}")
            } else {
                String::new()
            }
        })
        .label_style((FAMILY, 14))
        .draw()?;
    for (n, name) in names.iter().enumerate() {
        let colour = DIMENSION_COLOURS[n % DIMENSION_COLOURS.len()];
        let series: Vec<(f64, f64)> = points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let score = p.dimensions.iter().find(|(d, _)| d == name)?.1;
                Some((i as f64 + 1.0, f64::from(score) + spread(p, name, score)))
            })
            .collect();
        dims.draw_series(LineSeries::new(series.clone(), colour.stroke_width(2)))?;
        dims.draw_series(
            series
                .iter()
                .map(|&xy| Circle::new(xy, MARKER, colour.filled())),
        )?;
        drawn.push((
            colour,
            series.iter().map(|xy| dims.backend_coord(xy)).collect(),
        ));
    }

    // The legend has its own strip beside the plot.
    let font = (FAMILY, 14).into_font();
    for (n, name) in names.iter().enumerate() {
        let colour = DIMENSION_COLOURS[n % DIMENSION_COLOURS.len()];
        let y = 60 + 24 * n as i32;
        legend.draw(&PathElement::new(
            vec![(8, y), (30, y)],
            colour.stroke_width(3),
        ))?;
        legend.draw(&Circle::new((19, y), MARKER, colour.filled()))?;
        legend.draw(&Text::new(
            spar_core::scoring::render::dimension_name_label(name),
            (38, y - 8),
            font.clone(),
        ))?;
    }
    Ok(drawn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spar_core::store::DrillId;

    const DIMENSIONS: [&str; 7] = [
        "curiosity",
        "acknowledgement",
        "composure",
        "common_ground",
        "evidence",
        "process",
        "escalation_discipline",
    ];

    fn point(day: i64, overall: u8, score: u8) -> ScorePoint {
        ScorePoint {
            drill: DrillId(format!("d{day}")),
            at: day * 86_400_000,
            overall,
            dimensions: DIMENSIONS.iter().map(|d| (d.to_string(), score)).collect(),
        }
    }

    /// Draws into memory and returns the pixels with where each series' markers went.
    fn render(points: &[ScorePoint]) -> (Vec<u8>, Drawn) {
        register_font();
        let mut pixels = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
        let drawn = {
            let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
            let drawn = draw(points, &root, &|ms| date_label(ms, &chrono::Utc))
                .unwrap_or_else(|e| panic!("draws: {e}"));
            root.present().unwrap_or_else(|e| panic!("presents: {e}"));
            drawn
        };
        (pixels, drawn)
    }

    fn pixel(pixels: &[u8], (x, y): (i32, i32)) -> RGBColor {
        let i = ((y as u32 * SIZE.0 + x as u32) * 3) as usize;
        RGBColor(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    #[test]
    fn every_marker_stays_visible_when_all_dimensions_coincide_and_the_legend_hides_none() {
        // Every dimension has the same score at every drill, at the top and bottom of the
        // scale and at the chart's right edge, where a legend inside the plot would sit.
        let points: Vec<ScorePoint> = (0..8)
            .map(|d| point(d, 100 - d as u8 * 10, [4, 0, 2, 4, 4, 1, 3, 4][d as usize]))
            .collect();
        let (pixels, drawn) = render(&points);
        assert_eq!(drawn.len(), 1 + DIMENSIONS.len());
        let mut centres: Vec<(i32, i32)> = Vec::new();
        for (colour, markers) in &drawn {
            assert_eq!(markers.len(), points.len());
            for &centre in markers {
                assert_eq!(pixel(&pixels, centre), *colour, "marker at {centre:?}");
                assert!(!centres.contains(&centre), "two markers at {centre:?}");
                centres.push(centre);
            }
        }
    }

    #[test]
    fn drills_are_labelled_with_their_dates() {
        assert_eq!(date_label(0, &chrono::Utc), "1 Jan");
        assert_eq!(date_label(62 * 86_400_000, &chrono::Utc), "4 Mar");
        let points = [point(0, 50, 2)];
        let names = dimension_names(&points);
        assert_eq!(names, DIMENSIONS);
    }

    #[test]
    fn one_drill_draws_too() {
        let (_, drawn) = render(&[point(3, 70, 2)]);
        assert!(drawn.iter().all(|(_, m)| m.len() == 1));
    }
}
