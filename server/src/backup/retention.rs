//! Grandfather-father-son retention: which backups `prune` keeps.
//!
//! Walking the good backups newest first, the newest one in each of the
//! last `keep_hourly` distinct hours is kept, and likewise for days and ISO
//! weeks (UTC); a backup kept by any rule stays. The newest backup is always
//! kept, whatever the settings.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Timelike, Utc};

#[derive(Clone, Copy, Debug)]
pub struct Retention {
    pub hourly: usize,
    pub daily: usize,
    pub weekly: usize,
}

/// The calendar bucket (hour, day or ISO week) a time falls in.
type BucketOf = fn(&DateTime<Utc>) -> (i32, u32, u32);

/// The ids to keep among `backups` (id, creation time), in any order.
pub fn keep(backups: &[(String, DateTime<Utc>)], rules: Retention) -> HashSet<String> {
    let mut sorted: Vec<&(String, DateTime<Utc>)> = backups.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    let mut kept = HashSet::new();
    if let Some(newest) = sorted.first() {
        kept.insert(newest.0.clone());
    }
    let buckets: [(usize, BucketOf); 3] = [
        (rules.hourly, |t| (t.year(), t.ordinal(), t.hour())),
        (rules.daily, |t| (t.year(), t.ordinal(), 0)),
        (rules.weekly, |t| {
            let w = t.iso_week();
            (w.year(), w.week(), 0)
        }),
    ];
    for (limit, bucket_of) in buckets {
        let mut seen = HashSet::new();
        for (id, at) in &sorted {
            if seen.len() >= limit {
                break;
            }
            if seen.insert(bucket_of(at)) {
                kept.insert(id.clone());
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn every(step: Duration, count: i64) -> Vec<(String, DateTime<Utc>)> {
        // 2026-11-23 is a Monday.
        let start = Utc
            .with_ymd_and_hms(2026, 11, 23, 12, 30, 0)
            .single()
            .expect("time");
        (0..count)
            .map(|i| (format!("b{i:04}"), start - step * i as i32))
            .collect()
    }

    #[test]
    fn keeps_the_newest_per_hour_day_and_week() {
        // Every 20 minutes for 100 days.
        let backups = every(Duration::minutes(20), 3 * 24 * 100);
        let kept = keep(
            &backups,
            Retention {
                hourly: 24,
                daily: 30,
                weekly: 12,
            },
        );
        let hourly: Vec<_> = backups.iter().filter(|b| kept.contains(&b.0)).collect();
        assert!(kept.contains("b0000"), "the newest stays");
        // The newest 24 distinct hours are covered by the first 72 backups.
        let in_first_day = hourly.iter().filter(|b| b.0.as_str() < "b0072").count();
        assert!((24..=25).contains(&in_first_day), "{in_first_day}");
        // One backup per day for 30 days, one per week for 12 weeks, and
        // nothing older than 12 weeks.
        let oldest = hourly.iter().map(|b| b.1).min().expect("some kept");
        let age = backups[0].1 - oldest;
        assert!(age <= Duration::weeks(12), "kept one {age} old");
        // The 12th week bucket is 11 weeks back; its newest backup is at the
        // end of that week, 10 weeks and half a day before the newest.
        assert!(age >= Duration::weeks(10), "weekly reaches back: {age}");
        // 24 hours; 30 days, of which today and yesterday are already kept
        // by the hourly rule; 12 weeks, of which this one and the 5 whose
        // last backup (Sunday 23:40) lies within those 30 days are too.
        assert_eq!(kept.len(), 24 + 28 + 6);
    }

    #[test]
    fn zero_rules_keep_only_the_newest() {
        let backups = every(Duration::hours(1), 10);
        let kept = keep(
            &backups,
            Retention {
                hourly: 0,
                daily: 0,
                weekly: 0,
            },
        );
        assert_eq!(kept.into_iter().collect::<Vec<_>>(), ["b0000"]);
        assert!(keep(
            &[],
            Retention {
                hourly: 1,
                daily: 1,
                weekly: 1
            }
        )
        .is_empty());
    }

    #[test]
    fn two_backups_in_one_hour_keep_the_later() {
        let backups = every(Duration::minutes(10), 2);
        let kept = keep(
            &backups,
            Retention {
                hourly: 5,
                daily: 0,
                weekly: 0,
            },
        );
        assert_eq!(kept.len(), 1);
        assert!(kept.contains("b0000"));
    }
}
