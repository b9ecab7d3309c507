//! Recall-versus-throughput plots (PNG, via `plotters`), the ann-benchmarks
//! picture: one line per library through its `ef` sweep, up and to the right
//! is better.

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, bail, Result};
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::report::LibReport;

/// TrueType fonts tried in order (Debian's DejaVu is on this machine's kind);
/// `CAIRN_PLOT_FONT` names another.
const FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

fn register_font() -> Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        let candidates = std::env::var("CAIRN_PLOT_FONT")
            .into_iter()
            .chain(FONTS.iter().map(|s| s.to_string()));
        result = match candidates.filter_map(|p| std::fs::read(p).ok()).next() {
            // plotters keeps the font for the life of the process.
            Some(bytes) => plotters::style::register_font(
                "sans-serif",
                FontStyle::Normal,
                Box::leak(bytes.into_boxed_slice()),
            )
            .map_err(|_| anyhow!("the plot font is not a TrueType font")),
            None => Err(anyhow!(
                "no TrueType font found for the plot; set CAIRN_PLOT_FONT to a .ttf file"
            )),
        };
    });
    result
}

/// Draws recall@k (x) against queries/s (y, log scale) for every library.
pub fn recall_vs_qps(path: &Path, title: &str, k: usize, libs: &[LibReport]) -> Result<()> {
    register_font()?;
    let points = libs.iter().flat_map(|l| &l.runs);
    let (mut lo_r, mut lo_q, mut hi_q) = (1.0f64, f64::MAX, 0.0f64);
    for r in points {
        lo_r = lo_r.min(r.recall);
        lo_q = lo_q.min(r.qps);
        hi_q = hi_q.max(r.qps);
    }
    if hi_q <= 0.0 {
        bail!("nothing to plot: no runs measured");
    }
    let x_lo = (lo_r - 0.02).clamp(0.0, 0.98);
    let root = BitMapBackend::new(path, (960, 640)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(x_lo..1.0f64, (lo_q * 0.8..hi_q * 1.25).log_scale())?;
    chart
        .configure_mesh()
        .x_desc(format!("recall@{k}"))
        .y_desc("queries/s, 1 thread (log)")
        .y_label_formatter(&|q| format!("{q:.0}"))
        .draw()?;
    for (i, lib) in libs.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let line: Vec<(f64, f64)> = lib.runs.iter().map(|r| (r.recall, r.qps)).collect();
        chart
            .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))?
            .label(format!("{} {}", lib.lib, lib.version))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2)));
        chart.draw_series(line.into_iter().map(|p| Circle::new(p, 3, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
