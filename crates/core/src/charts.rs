//! Chart data: what the app draws, computed from a run and reduced to screen size, so the
//! page only receives a few thousand values whatever the size of the zones.

use crate::ingest::Landing;
use crate::policy::Policy;
use crate::preview::{customer_rows, find_record, status_of_rows, CustomerStatus};
use crate::zones::Zones;
use serde::{Deserialize, Serialize};

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The lowest and highest value of a series within one pixel column.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// The pixel column, from 0.
    pub column: u32,
    /// Lowest value in the column.
    pub min: f64,
    /// Highest value in the column.
    pub max: f64,
}

/// Reduces `(time, value)` points to one [`Band`] per pixel column over `[t0, t1]`, in
/// column order, leaving out empty columns and points outside the range.
///
/// Drawing a line through each band's min and max shows every spike a full drawing would
/// show at that width, while the cost of drawing no longer depends on the number of points.
pub fn min_max(
    points: impl IntoIterator<Item = (i64, f64)>,
    t0: i64,
    t1: i64,
    columns: u32,
) -> Vec<Band> {
    let columns = columns.max(1);
    // Lowest and highest value per column; a column with no point keeps lo > hi.
    let mut lo = vec![f64::INFINITY; columns as usize];
    let mut hi = vec![f64::NEG_INFINITY; columns as usize];
    // i128: the span of two i64 times can overflow i64. A multiplication per point, not a
    // division: this loop runs over every reading.
    let span = (i128::from(t1) - i128::from(t0)).max(0) + 1;
    let scale = f64::from(columns) / span as f64;
    let last = columns as usize - 1;
    for (t, v) in points {
        if t < t0 || t > t1 || v.is_nan() {
            continue;
        }
        // t >= t0, so the difference fits in u64 even when it overflows i64.
        let offset = t.wrapping_sub(t0) as u64 as f64;
        let column = ((offset * scale) as usize).min(last);
        // Plain comparisons (NaN is already out): cheaper than f64::min in WebAssembly.
        if v < lo[column] {
            lo[column] = v;
        }
        if v > hi[column] {
            hi[column] = v;
        }
    }
    lo.into_iter()
        .zip(hi)
        .enumerate()
        .filter(|(_, (min, max))| min <= max)
        .map(|(column, (min, max))| Band {
            column: column as u32,
            min,
            max,
        })
        .collect()
}

/// The buckets of a count over time: the smallest of a minute, an hour and a day that
/// keeps the count within [`MAX_BUCKETS`] steps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// Per minute.
    Minute,
    /// Per hour.
    Hour,
    /// Per day.
    #[default]
    Day,
}

/// Buckets a count over time is spread over at most (unless a day is too fine).
pub const MAX_BUCKETS: i64 = 400;

impl Bucket {
    /// The bucket's length in milliseconds.
    pub fn millis(self) -> i64 {
        match self {
            Bucket::Minute => 60_000,
            Bucket::Hour => 3_600_000,
            Bucket::Day => DAY_MS,
        }
    }

    /// The word for it: `minute`, `hour`, `day`.
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Minute => "minute",
            Bucket::Hour => "hour",
            Bucket::Day => "day",
        }
    }

    /// The finest bucket that spreads `first..=last` over at most [`MAX_BUCKETS`] steps.
    pub fn for_span(first: i64, last: i64) -> Bucket {
        let span = i128::from(last) - i128::from(first);
        [Bucket::Minute, Bucket::Hour]
            .into_iter()
            .find(|b| span / i128::from(b.millis()) < i128::from(MAX_BUCKETS))
            .unwrap_or(Bucket::Day)
    }
}

/// Customers registered and customers consenting to research over time (current records),
/// as running totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConsentOverTime {
    /// The bucket size.
    pub bucket: Bucket,
    /// Start (ms since the epoch) of each bucket in which anything happened, ascending.
    pub starts: Vec<i64>,
    /// Customers registered by the end of each bucket.
    pub registered: Vec<u64>,
    /// Customers whose consent to research dates from before the end of each bucket.
    pub consenting: Vec<u64>,
    /// Current records without a registrationDate (not drawn).
    pub undated: u64,
}

/// Consent over time, from each email's current record.
pub fn consent_over_time(landing: &Landing, zones: &Zones) -> ConsentOverTime {
    let mut events: Vec<(i64, bool)> = Vec::new();
    let mut undated = 0;
    for i in zones.current_records(landing) {
        let c = &landing.customers[i as usize];
        match c.registration {
            Some(t) => events.push((t, false)),
            None => undated += 1,
        }
        if let Some(t) = c.research_consent {
            events.push((t, true));
        }
    }
    events.sort_unstable();
    let bucket = match (events.first(), events.last()) {
        (Some(first), Some(last)) => Bucket::for_span(first.0, last.0),
        _ => Bucket::Day,
    };
    let mut out = ConsentOverTime {
        bucket,
        undated,
        ..ConsentOverTime::default()
    };
    let (mut registered, mut consenting) = (0, 0);
    for (t, consent) in events {
        let start = t.div_euclid(bucket.millis()) * bucket.millis();
        if consent {
            consenting += 1;
        } else {
            registered += 1;
        }
        if out.starts.last() == Some(&start) {
            *out.registered.last_mut().expect("same length as starts") = registered;
            *out.consenting.last_mut().expect("same length as starts") = consenting;
        } else {
            out.starts.push(start);
            out.registered.push(registered);
            out.consenting.push(consenting);
        }
    }
    out
}

/// One customer's readings over time, reduced to pixel columns: kept by the policy, or
/// excluded (drawn greyed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerSeries {
    /// Who, and what the rules did with them.
    pub status: CustomerStatus,
    /// First and last time drawn (ms since the epoch).
    pub t0: i64,
    /// See `t0`.
    pub t1: i64,
    /// Pixel columns the series were reduced to.
    pub columns: u32,
    /// Accelerometer x, y, z kept in accelerometer_trusted.
    pub kept: [Vec<Band>; 3],
    /// Accelerometer x, y, z excluded by the policy.
    pub excluded: [Vec<Band>; 3],
    /// distanceFromObject of the device's readings kept in step_trainer_trusted.
    pub distance_kept: Vec<Band>,
    /// distanceFromObject of the device's readings excluded.
    pub distance_excluded: Vec<Band>,
}

/// The series of the customer found by `query` (an email or a serial number), reduced to
/// `columns` pixel columns; `Err` says why no customer was found.
pub fn customer_series(
    landing: &Landing,
    zones: &Zones,
    policy: &Policy,
    query: &str,
    columns: u32,
) -> Result<CustomerSeries, String> {
    // The customer's rows are found once, for their status and for the series.
    let record = find_record(landing, zones, query)?;
    let (readings, step_rows) = customer_rows(landing, record);
    let status = status_of_rows(landing, zones, policy, record, &readings, &step_rows);
    let acc = &landing.accelerometer;
    let steps = &landing.step_trainer;
    let times = readings
        .iter()
        .map(|i| acc.timestamp[*i])
        .chain(step_rows.iter().map(|i| steps.time[*i]));
    let (t0, t1) = times.fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    let (t0, t1) = if t0 > t1 { (0, 0) } else { (t0, t1) };
    // The zones list rows in ascending order, so membership is a binary search.
    let kept_reading = |i: &usize| {
        zones
            .accelerometer_trusted
            .binary_search(&(*i as u32))
            .is_ok()
    };
    let kept_step = |i: &usize| {
        zones
            .step_trainer_trusted
            .binary_search(&(*i as u32))
            .is_ok()
    };
    let axes: [&Vec<f64>; 3] = [&acc.x, &acc.y, &acc.z];
    let reduce_axes = |keep: bool| {
        axes.map(|axis| {
            let points = readings
                .iter()
                .filter(|i| kept_reading(i) == keep)
                .map(|i| (acc.timestamp[*i], axis[*i]));
            min_max(points, t0, t1, columns)
        })
    };
    let reduce_steps = |keep: bool| {
        let points = step_rows
            .iter()
            .filter(|i| kept_step(i) == keep)
            .map(|i| (steps.time[*i], steps.distance[*i] as f64));
        min_max(points, t0, t1, columns)
    };
    Ok(CustomerSeries {
        t0,
        t1,
        columns,
        kept: reduce_axes(true),
        excluded: reduce_axes(false),
        distance_kept: reduce_steps(true),
        distance_excluded: reduce_steps(false),
        status,
    })
}

/// Counts of values in equal-width bins.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Lower bound of the first bin.
    pub start: i64,
    /// Width of every bin; bin `i` holds `start + i*width ..= start + (i+1)*width - 1`.
    pub width: i64,
    /// Values per bin.
    pub counts: Vec<u64>,
    /// All values counted.
    pub total: u64,
}

/// The distribution of distanceFromObject in machine_learning_curated, in at most `bins` bins.
pub fn distance_histogram(landing: &Landing, zones: &Zones, bins: u32) -> Histogram {
    let distance = &landing.step_trainer.distance;
    let values = || {
        zones
            .machine_learning_curated
            .iter()
            .map(|(s, _)| distance[*s as usize])
    };
    histogram(values, bins)
}

fn histogram<I: Iterator<Item = i64>>(values: impl Fn() -> I, bins: u32) -> Histogram {
    let Some((lo, hi)) = values().fold(None, |acc: Option<(i64, i64)>, v| {
        Some(acc.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))))
    }) else {
        return Histogram::default();
    };
    let range = i128::from(hi) - i128::from(lo) + 1;
    let bins = i128::from(bins.max(1));
    let width = ((range + bins - 1) / bins).clamp(1, i128::from(i64::MAX)) as i64;
    let n = ((range + i128::from(width) - 1) / i128::from(width)) as usize;
    let mut counts = vec![0u64; n];
    let mut total = 0;
    for v in values() {
        counts[((i128::from(v) - i128::from(lo)) / i128::from(width)) as usize] += 1;
        total += 1;
    }
    Histogram {
        start: lo,
        width,
        counts,
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_keeps_every_extreme_of_each_column() {
        // Ten points a column over four columns, with a spike hidden in column 2.
        let mut points: Vec<(i64, f64)> = (0..40).map(|t| (t, (t % 10) as f64)).collect();
        points[23].1 = 1000.0;
        points[31].1 = -5.0;
        let bands = min_max(points, 0, 39, 4);
        assert_eq!(bands.len(), 4);
        assert_eq!(
            bands.iter().map(|b| b.column).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        assert_eq!((bands[0].min, bands[0].max), (0.0, 9.0));
        assert_eq!((bands[2].min, bands[2].max), (0.0, 1000.0));
        assert_eq!((bands[3].min, bands[3].max), (-5.0, 9.0));
    }

    #[test]
    fn min_max_skips_empty_columns_outside_points_and_nan() {
        let points = [(0, 1.0), (99, 2.0), (50, f64::NAN), (-1, 7.0), (100, 7.0)];
        let bands = min_max(points, 0, 99, 10);
        assert_eq!(
            bands,
            vec![
                Band {
                    column: 0,
                    min: 1.0,
                    max: 1.0
                },
                Band {
                    column: 9,
                    min: 2.0,
                    max: 2.0
                },
            ]
        );
        assert!(min_max(Vec::new(), 0, 10, 5).is_empty());
    }

    #[test]
    fn min_max_handles_one_instant_and_the_widest_range() {
        let bands = min_max([(5, 1.0), (5, 3.0)], 5, 5, 800);
        assert_eq!(bands.len(), 1);
        assert_eq!((bands[0].min, bands[0].max), (1.0, 3.0));
        let bands = min_max([(i64::MIN, 1.0), (i64::MAX, 2.0)], i64::MIN, i64::MAX, 3);
        assert_eq!(bands.iter().map(|b| b.column).collect::<Vec<_>>(), [0, 2]);
    }

    #[test]
    fn min_max_of_ten_million_points_has_at_most_one_band_a_column() {
        let n = 10_000_000i64;
        let points = (0..n).map(|t| (t, ((t * 7919) % 1000) as f64));
        let bands = min_max(points, 0, n - 1, 1600);
        assert_eq!(bands.len(), 1600);
        assert!(bands.iter().all(|b| b.min == 0.0 && b.max == 999.0));
    }

    proptest::proptest! {
        /// In any order, with repeats, NaN and points out of range: each column's band is
        /// the min and max of the points that fall in it, as one pass per column finds.
        #[test]
        fn min_max_equals_the_extremes_of_each_column(
            points in proptest::collection::vec(
                (-20i64..120, proptest::prop_oneof![-1e6f64..1e6, proptest::strategy::Just(f64::NAN)]),
                0..300,
            ),
            sorted in proptest::bool::ANY,
            columns in 1u32..40,
        ) {
            let mut points = points;
            if sorted {
                points.sort_by_key(|p| p.0);
            }
            let (t0, t1) = (0, 99);
            let expected: Vec<Band> = (0..columns)
                .filter_map(|column| {
                    let inside = points.iter().filter(|(t, v)| {
                        (t0..=t1).contains(t)
                            && !v.is_nan()
                            && ((((t - t0) as f64) * (f64::from(columns) / (t1 - t0 + 1) as f64)) as u32)
                                .min(columns - 1)
                                == column
                    });
                    let (min, max) = inside.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v)| {
                        (lo.min(*v), hi.max(*v))
                    });
                    (min <= max).then_some(Band { column, min, max })
                })
                .collect();
            proptest::prop_assert_eq!(min_max(points, t0, t1, columns), expected);
        }
    }

    #[test]
    fn consent_buckets_are_as_fine_as_the_span_allows() {
        assert_eq!(Bucket::for_span(0, 41 * 60_000), Bucket::Minute);
        assert_eq!(Bucket::for_span(0, 3 * DAY_MS), Bucket::Hour);
        assert_eq!(Bucket::for_span(0, 3 * 365 * DAY_MS), Bucket::Day);
        assert_eq!(Bucket::for_span(i64::MIN, i64::MAX), Bucket::Day);
    }

    #[test]
    fn consent_over_time_counts_current_records_as_running_totals() {
        use crate::ingest::{read_bytes, Source};
        let minute = 60_000;
        let lines = [
            format!(
                r#"{{"email":"a","serialNumber":"s","registrationDate":0,"lastUpdateDate":1,"shareWithResearchAsOfDate":{}}}"#,
                2 * minute
            ),
            // a's later record, without consent, is the current one.
            r#"{"email":"a","serialNumber":"s","registrationDate":0,"lastUpdateDate":2}"#
                .to_string(),
            format!(
                r#"{{"email":"b","serialNumber":"s","registrationDate":{},"lastUpdateDate":1,"shareWithResearchAsOfDate":{}}}"#,
                minute + 5,
                2 * minute + 7
            ),
            r#"{"email":"c","serialNumber":"s","lastUpdateDate":1}"#.to_string(),
        ];
        let landing = Landing::from_batches(vec![read_bytes(
            "c.json",
            Some(Source::Customer),
            lines.join("\n").as_bytes(),
        )]);
        let zones = Zones::build(&landing, &crate::Policy::default());
        let c = consent_over_time(&landing, &zones);
        assert_eq!(c.bucket, Bucket::Minute);
        assert_eq!(c.starts, [0, minute, 2 * minute]);
        assert_eq!(c.registered, [1, 2, 2]);
        assert_eq!(c.consenting, [0, 0, 1]);
        assert_eq!(c.undated, 1);
    }

    #[test]
    fn histogram_bins_cover_the_range_and_count_everything() {
        let values = [0i64, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9];
        let h = histogram(|| values.iter().copied(), 4);
        assert_eq!((h.start, h.width, h.total), (0, 3, 11));
        assert_eq!(h.counts, vec![3, 3, 3, 2]);
        let one = histogram(|| [42i64, 42].into_iter(), 40);
        assert_eq!((one.start, one.width, one.counts.clone()), (42, 1, vec![2]));
        assert_eq!(histogram(std::iter::empty, 10), Histogram::default());
    }
}
