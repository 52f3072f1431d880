//! Drawing the charts with plotters on a `<canvas>`, sharp on high-DPI screens: the canvas
//! backing store is its CSS size times `devicePixelRatio`, and every length is scaled to
//! match. The data arrives already reduced to pixel columns by stedi-core.

use super::canvas::Canvas;
use crate::state::thousands;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use stedi_core::audit::Audit;
use stedi_core::charts::{Band, Bucket, ConsentOverTime, CustomerSeries, Histogram, DAY_MS};
use stedi_core::Zone;
use web_sys::HtmlCanvasElement;

/// Colours that stay apart for colour-blind readers (Okabe and Ito).
const BLUE: RGBColor = RGBColor(0, 114, 178);
const ORANGE: RGBColor = RGBColor(230, 159, 0);
const GREEN: RGBColor = RGBColor(0, 158, 115);
const PURPLE: RGBColor = RGBColor(204, 121, 167);
const VERMILION: RGBColor = RGBColor(213, 94, 0);
const GREY: RGBColor = RGBColor(170, 170, 170);
const INK: RGBColor = RGBColor(34, 34, 34);

type Area = DrawingArea<Canvas, Shift>;
type Drawn = Result<(), String>;

/// Sizes a canvas's backing store to its CSS size times the pixel ratio; returns the
/// drawing area and that ratio.
fn area(canvas: &HtmlCanvasElement) -> Result<(Area, f64), String> {
    let ratio = web_sys::window()
        .map_or(1.0, |w| w.device_pixel_ratio())
        .max(1.0);
    // A canvas not laid out yet (0 wide) still gets a sensible size.
    let css_width = f64::from(canvas.client_width().max(320));
    let css_height = f64::from(canvas.client_height().max(200));
    canvas.set_width((css_width * ratio).round() as u32);
    canvas.set_height((css_height * ratio).round() as u32);
    let backend = Canvas::new(canvas).ok_or("this browser cannot draw on a canvas")?;
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(fail)?;
    Ok((root, ratio))
}

fn fail(e: impl std::fmt::Debug) -> String {
    format!("the chart could not be drawn: {e:?}")
}

fn font(size: f64, ratio: f64) -> TextStyle<'static> {
    ("sans-serif", size * ratio).into_font().color(&INK)
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01).
pub fn date(day: i64) -> String {
    // Civil-from-days (proleptic Gregorian), after Howard Hinnant's algorithm.
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of a time in ms since the epoch.
pub fn date_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}:{:02}",
        date(ms.div_euclid(DAY_MS)),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The zone funnel: rows per zone, by source, with what each rule removed (log scale, so
/// a thousand customers and a hundred thousand readings both show).
pub fn funnel(canvas: &HtmlCanvasElement, audit: &Audit) -> Drawn {
    let (root, r) = area(canvas)?;
    let rows = |z: Zone| audit.rows(z);
    // (zone, colour, the zone it was filtered from)
    let bars: [(Zone, RGBColor, Option<Zone>); 8] = [
        (Zone::CustomerLanding, BLUE, None),
        (Zone::CustomerTrusted, BLUE, Some(Zone::CustomerLanding)),
        (Zone::CustomerCurated, BLUE, Some(Zone::CustomerTrusted)),
        (Zone::AccelerometerLanding, ORANGE, None),
        (
            Zone::AccelerometerTrusted,
            ORANGE,
            Some(Zone::AccelerometerLanding),
        ),
        (Zone::StepTrainerLanding, GREEN, None),
        (
            Zone::StepTrainerTrusted,
            GREEN,
            Some(Zone::StepTrainerLanding),
        ),
        (
            Zone::MachineLearningCurated,
            PURPLE,
            Some(Zone::StepTrainerTrusted),
        ),
    ];
    let most = bars.iter().map(|b| rows(b.0)).max().unwrap_or(1).max(1) as f64;
    let n = bars.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .margin((12.0 * r) as i32)
        .caption("Rows per zone, and what each rule removed", font(16.0, r))
        .x_label_area_size((34.0 * r) as i32)
        .build_cartesian_2d((1f64..most * 60.0).log_scale(), 0f64..n)
        .map_err(fail)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc("rows (log scale)")
        .x_label_formatter(&|v| thousands(v.round() as u64))
        .label_style(font(12.0, r))
        .axis_desc_style(font(12.0, r))
        .draw()
        .map_err(fail)?;
    for (i, (zone, colour, from)) in bars.iter().enumerate() {
        let top = n - i as f64;
        let count = rows(*zone);
        let removed = match from.map(rows) {
            Some(before) if count > before => {
                format!("  (+{} by the join)", thousands(count - before))
            }
            Some(before) if before > count => format!("  (−{})", thousands(before - count)),
            _ => String::new(),
        };
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(1.0, top - 0.85), ((count.max(1)) as f64, top - 0.5)],
                colour.filled(),
            )))
            .map_err(fail)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("{}: {}{removed}", zone.as_str(), thousands(count)),
                (1.0, top - 0.12),
                font(12.0, r),
            )))
            .map_err(fail)?;
    }
    root.present().map_err(fail)
}

/// Steps of a running total: flat until each bucket, then up.
fn steps(starts: &[i64], values: &[u64]) -> Vec<(f64, f64)> {
    let mut points = Vec::with_capacity(starts.len() * 2);
    let mut last = 0.0;
    for (t, v) in starts.iter().zip(values) {
        points.push((*t as f64, last));
        last = *v as f64;
        points.push((*t as f64, last));
    }
    points
}

/// How a legend entry is drawn.
#[derive(Clone, Copy)]
enum Key {
    Line(RGBColor),
    Dot(RGBColor),
}

/// A legend box in the top corner of the plot (left or right), drawn element by element:
/// plotters' own legend measures text through the page's DOM, which the page's
/// Content-Security-Policy forbids.
fn legend(root: &Area, r: f64, entries: &[(&str, Key)], left: bool, inset: (f64, f64)) -> Drawn {
    if entries.is_empty() {
        return Ok(());
    }
    let style = font(12.0, r);
    let widths = entries
        .iter()
        .map(|(text, _)| root.estimate_text_size(text, &style).map(|s| s.0))
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    let px = |v: f64| (v * r).round() as i32;
    let line_height = px(18.0);
    let width = widths.iter().max().copied().unwrap_or(0) as i32 + px(40.0);
    let height = line_height * entries.len() as i32 + px(8.0);
    let (w, _) = root.dim_in_pixel();
    let x0 = if left {
        px(inset.0)
    } else {
        w as i32 - px(inset.0) - width
    };
    let y0 = px(inset.1);
    root.draw(&Rectangle::new(
        [(x0, y0), (x0 + width, y0 + height)],
        WHITE.mix(0.9).filled(),
    ))
    .map_err(fail)?;
    root.draw(&Rectangle::new([(x0, y0), (x0 + width, y0 + height)], GREY))
        .map_err(fail)?;
    for (i, (text, key)) in entries.iter().enumerate() {
        let y = y0 + px(4.0) + line_height * i as i32 + line_height / 2;
        let x = x0 + px(8.0);
        match key {
            Key::Line(c) => root.draw(&PathElement::new(
                vec![(x, y), (x + px(20.0), y)],
                c.stroke_width(px(2.0) as u32),
            )),
            Key::Dot(c) => root.draw(&Circle::new((x + px(10.0), y), px(4.0), c.filled())),
        }
        .map_err(fail)?;
        root.draw(&Text::new(
            text.to_string(),
            (x + px(28.0), y),
            style.pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(fail)?;
    }
    Ok(())
}

/// Customers registered and customers consenting to research, as running totals by day
/// (or by hour or minute when they all fall within a few days or hours).
pub fn consent(canvas: &HtmlCanvasElement, data: &ConsentOverTime) -> Drawn {
    let (root, r) = area(canvas)?;
    let (Some(first), Some(last)) = (data.starts.first(), data.starts.last()) else {
        return empty(&root, r, "No customer record has a registrationDate.");
    };
    let top = data.registered.last().copied().unwrap_or(0).max(1) as f64;
    let bucket = data.bucket;
    let label = move |t: &f64| match bucket {
        Bucket::Day => date((*t as i64).div_euclid(DAY_MS)),
        _ => date_time(*t as i64)[..16].to_string(),
    };
    let mut chart = ChartBuilder::on(&root)
        .margin((12.0 * r) as i32)
        .caption(
            format!(
                "Customers registered and consenting, by {}",
                bucket.as_str()
            ),
            font(16.0, r),
        )
        .x_label_area_size((34.0 * r) as i32)
        .y_label_area_size((56.0 * r) as i32)
        .build_cartesian_2d(
            *first as f64..(*last + bucket.millis()) as f64,
            0f64..top * 1.1,
        )
        .map_err(fail)?;
    chart
        .configure_mesh()
        .x_labels(6)
        .x_label_formatter(&label)
        .y_label_formatter(&|v| thousands(v.round() as u64))
        .x_desc("time (UTC)")
        .y_desc("customers (running total)")
        .label_style(font(12.0, r))
        .axis_desc_style(font(12.0, r))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(fail)?;
    let width = (2.0 * r) as u32;
    let mut entries = Vec::new();
    for (name, values, colour) in [
        ("registered", &data.registered, BLUE),
        ("consenting to research", &data.consenting, VERMILION),
    ] {
        chart
            .draw_series(LineSeries::new(
                steps(&data.starts, values),
                colour.stroke_width(width),
            ))
            .map_err(fail)?;
        entries.push((name, Key::Line(colour)));
    }
    legend(&root, r, &entries, true, (80.0, 48.0))?;
    root.present().map_err(fail)
}

fn empty(root: &Area, r: f64, message: &str) -> Drawn {
    root.draw(&Text::new(
        message.to_string(),
        ((20.0 * r) as i32, (30.0 * r) as i32),
        font(14.0, r),
    ))
    .map_err(fail)?;
    root.present().map_err(fail)
}

/// Polylines through each band's min and max, broken where more than `gap` columns have
/// no data (between two sessions, say).
fn runs(bands: &[Band], gap: u32) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut previous: Option<u32> = None;
    for b in bands {
        if previous.is_none_or(|p| b.column > p + gap) {
            runs.push(Vec::new());
        }
        let run = runs.last_mut().expect("a run was just started");
        let x = f64::from(b.column);
        run.push((x, b.min));
        if b.max != b.min {
            run.push((x, b.max));
        }
        previous = Some(b.column);
    }
    runs
}

fn extent<'a>(bands: impl Iterator<Item = &'a Band>) -> Option<(f64, f64)> {
    bands.fold(None, |acc, b| {
        Some(acc.map_or((b.min, b.max), |(lo, hi): (f64, f64)| {
            (lo.min(b.min), hi.max(b.max))
        }))
    })
}

/// The value range with a margin below and room above for the legend.
fn padded((lo, hi): (f64, f64)) -> std::ops::Range<f64> {
    let pad = ((hi - lo) * 0.08).max(0.5);
    lo - pad..hi + (hi - lo).max(1.0) * 0.45
}

/// One customer: phone x, y, z over time, the step trainer's distance on a second axis,
/// the consent moment marked, and readings the policy excluded in grey.
pub fn customer(canvas: &HtmlCanvasElement, s: &CustomerSeries) -> Drawn {
    let (root, r) = area(canvas)?;
    let phone = s.kept.iter().chain(&s.excluded).flatten();
    let distance = s.distance_kept.iter().chain(&s.distance_excluded);
    let (Some(y), Some(y2)) = (extent(phone), extent(distance).or(Some((0.0, 1.0)))) else {
        return empty(
            &root,
            r,
            &format!(
                "{} has no phone readings in the files loaded.",
                s.status.email
            ),
        );
    };
    let y_range = padded(y);
    let columns = f64::from(s.columns.max(1));
    let span = (s.t1 - s.t0 + 1) as f64;
    let time_of = move |x: f64| s.t0 + (x / columns * span) as i64;
    let column_of = |t: i64| (t - s.t0) as f64 / span * columns;
    let mut chart = ChartBuilder::on(&root)
        .margin((12.0 * r) as i32)
        .caption(
            format!("{} (serial {})", s.status.email, s.status.serial),
            font(15.0, r),
        )
        .x_label_area_size((34.0 * r) as i32)
        .y_label_area_size((48.0 * r) as i32)
        .right_y_label_area_size((56.0 * r) as i32)
        .build_cartesian_2d(0f64..columns, y_range.clone())
        .map_err(fail)?
        .set_secondary_coord(0f64..columns, padded(y2));
    chart
        .configure_mesh()
        .x_labels(4)
        .x_label_formatter(&|x| date_time(time_of(*x)))
        .y_desc("acceleration x, y, z")
        .label_style(font(11.0, r))
        .axis_desc_style(font(12.0, r))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(fail)?;
    chart
        .configure_secondary_axes()
        .y_desc("distanceFromObject")
        .label_style(font(11.0, r))
        .axis_desc_style(font(12.0, r))
        .draw()
        .map_err(fail)?;
    let width = (1.5 * r).max(1.0) as u32;
    let dot = (2.0 * r) as i32;
    // Readings closer than a twentieth of the chart are drawn as one line.
    let gap = s.columns / 20;
    let mut entries = Vec::new();
    // Excluded readings first, so kept ones draw over them.
    for (bands, secondary) in s
        .excluded
        .iter()
        .map(|b| (b, false))
        .chain([(&s.distance_excluded, true)])
    {
        let dots = bands.iter().flat_map(|b| {
            [b.min, b.max].map(|v| Circle::new((f64::from(b.column), v), dot, GREY.filled()))
        });
        if secondary {
            chart.draw_secondary_series(dots).map_err(fail)?;
        } else {
            chart.draw_series(dots).map_err(fail)?;
        }
    }
    if s.excluded
        .iter()
        .chain([&s.distance_excluded])
        .any(|b| !b.is_empty())
    {
        entries.push(("excluded by the policy", Key::Dot(GREY)));
    }
    for ((bands, colour), label) in s
        .kept
        .iter()
        .zip([BLUE, ORANGE, GREEN])
        .zip(["x", "y", "z"])
    {
        for run in runs(bands, gap) {
            if run.len() == 1 {
                chart
                    .draw_series(run.iter().map(|p| Circle::new(*p, dot, colour.filled())))
                    .map_err(fail)?;
            } else {
                chart
                    .draw_series(LineSeries::new(run, colour.stroke_width(width)))
                    .map_err(fail)?;
            }
        }
        entries.push((label, Key::Line(colour)));
    }
    for run in runs(&s.distance_kept, gap) {
        chart
            .draw_secondary_series(run.iter().map(|p| Circle::new(*p, dot, PURPLE.filled())))
            .map_err(fail)?;
        chart
            .draw_secondary_series(LineSeries::new(run, PURPLE.stroke_width(width)))
            .map_err(fail)?;
    }
    if !s.distance_kept.is_empty() {
        entries.push(("distanceFromObject", Key::Line(PURPLE)));
    }
    if let Some(t) = s.status.consent.filter(|t| (s.t0..=s.t1).contains(t)) {
        let x = column_of(t);
        let (lo, hi) = (y_range.start, y_range.end);
        chart
            .draw_series(LineSeries::new(
                [(x, lo), (x, hi)],
                VERMILION.stroke_width((2.0 * r) as u32),
            ))
            .map_err(fail)?;
        entries.push(("consent", Key::Line(VERMILION)));
    }
    legend(&root, r, &entries, false, (76.0, 44.0))?;
    root.present().map_err(fail)
}

/// The distribution of distanceFromObject in machine_learning_curated.
pub fn histogram(canvas: &HtmlCanvasElement, h: &Histogram) -> Drawn {
    let (root, r) = area(canvas)?;
    if h.total == 0 {
        return empty(&root, r, "machine_learning_curated has no rows.");
    }
    let end = h.start + h.width * h.counts.len() as i64;
    let top = h.counts.iter().copied().max().unwrap_or(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .margin((12.0 * r) as i32)
        .caption(
            format!(
                "distanceFromObject in machine_learning_curated ({} rows)",
                thousands(h.total)
            ),
            font(16.0, r),
        )
        .x_label_area_size((34.0 * r) as i32)
        .y_label_area_size((56.0 * r) as i32)
        .build_cartesian_2d(h.start as f64..end as f64, 0f64..top * 1.1)
        .map_err(fail)?;
    chart
        .configure_mesh()
        .x_desc("distanceFromObject")
        .y_desc("rows")
        .y_label_formatter(&|v| thousands(v.round() as u64))
        .label_style(font(12.0, r))
        .axis_desc_style(font(12.0, r))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(fail)?;
    chart
        .draw_series(h.counts.iter().enumerate().map(|(i, c)| {
            let x0 = (h.start + h.width * i as i64) as f64;
            let x1 = x0 + h.width as f64;
            Rectangle::new([(x0, 0.0), (x1, *c as f64)], PURPLE.filled())
        }))
        .map_err(fail)?;
    root.present().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_calendar_days() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(19_723), "2024-01-01");
        assert_eq!(date(-1), "1969-12-31");
        assert_eq!(date_time(1_655_564_444_000), "2022-06-18 15:00:44");
    }

    #[test]
    fn runs_break_at_gaps_and_keep_each_band_extremes() {
        let band = |column, min, max| Band { column, min, max };
        let r = runs(
            &[band(0, 1.0, 2.0), band(1, 3.0, 3.0), band(9, 0.0, 5.0)],
            2,
        );
        assert_eq!(
            r,
            vec![
                vec![(0.0, 1.0), (0.0, 2.0), (1.0, 3.0)],
                vec![(9.0, 0.0), (9.0, 5.0)]
            ]
        );
    }

    #[test]
    fn cumulative_counts_step_up_on_their_day() {
        assert_eq!(
            steps(&[3, 5], &[2, 7]),
            vec![(3.0, 0.0), (3.0, 2.0), (5.0, 2.0), (5.0, 7.0)]
        );
    }
}
