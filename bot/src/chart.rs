//! The scores-over-time chart: overall and per-dimension scores by drill, drawn with
//! plotters into a PNG. `spar stats --chart` writes it; chat adapters attach the same file.

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

/// Draws overall scores (top) and each dimension's 0–4 score (bottom) by drill number.
/// Both axes span the whole scale, so one chart can be compared with the next.
pub fn draw_scores(points: &[ScorePoint], path: &Path) -> anyhow::Result<()> {
    register_font();
    draw(points, path)
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

fn draw(points: &[ScorePoint], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, (960, 720)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(300);
    let drills = points.len().max(1) as u32;
    let x_range = 1u32..drills.max(2);

    let mut overall = ChartBuilder::on(&top)
        .caption("Overall score by drill", (FAMILY, 22))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(x_range.clone(), 0u32..100u32)?;
    overall
        .configure_mesh()
        .x_desc("drill")
        .label_style((FAMILY, 14))
        .draw()?;
    overall.draw_series(LineSeries::new(
        points
            .iter()
            .enumerate()
            .map(|(i, p)| (i as u32 + 1, u32::from(p.overall))),
        BLACK.stroke_width(2),
    ))?;
    overall.draw_series(
        points
            .iter()
            .enumerate()
            .map(|(i, p)| Circle::new((i as u32 + 1, u32::from(p.overall)), 4, BLACK.filled())),
    )?;

    let mut names: Vec<&str> = Vec::new();
    for point in points {
        for (name, _) in &point.dimensions {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    let mut dims = ChartBuilder::on(&bottom)
        .caption("Dimensions (0–4) by drill", (FAMILY, 22))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(x_range, 0u32..4u32)?;
    dims.configure_mesh()
        .x_desc("drill")
        .label_style((FAMILY, 14))
        .draw()?;
    for (n, name) in names.iter().enumerate() {
        let colour = DIMENSION_COLOURS[n % DIMENSION_COLOURS.len()];
        let series: Vec<(u32, u32)> = points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                p.dimensions
                    .iter()
                    .find(|(d, _)| d == name)
                    .map(|(_, s)| (i as u32 + 1, u32::from(*s)))
            })
            .collect();
        dims.draw_series(LineSeries::new(series, colour.stroke_width(2)))?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(3))
            });
    }
    if !names.is_empty() {
        dims.configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font((FAMILY, 13))
            .draw()?;
    }
    root.present()?;
    Ok(())
}
