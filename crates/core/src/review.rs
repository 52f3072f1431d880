//! What a privacy reviewer looks through: the records each rule excluded, listed with why,
//! searchable and paged.

use crate::ingest::Landing;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The lists a reviewer can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewList {
    /// Customers whose current record has no consent to research.
    ExcludedCustomers,
    /// Per customer, phone readings taken before their consent.
    ReadingsBeforeConsent,
    /// Emails with several records, and which one was taken as current.
    DuplicateEmails,
    /// Serial numbers owned by several current customers.
    SharedSerials,
    /// Records that could not be accepted.
    Quarantine,
}

impl ReviewList {
    /// All lists, in the order the review shows them.
    pub const ALL: [ReviewList; 5] = [
        ReviewList::ExcludedCustomers,
        ReviewList::ReadingsBeforeConsent,
        ReviewList::DuplicateEmails,
        ReviewList::SharedSerials,
        ReviewList::Quarantine,
    ];

    /// A title for people.
    pub fn title(self) -> &'static str {
        match self {
            ReviewList::ExcludedCustomers => "Customers excluded for lack of consent",
            ReviewList::ReadingsBeforeConsent => "Readings taken before consent, per customer",
            ReviewList::DuplicateEmails => "Emails with several records",
            ReviewList::SharedSerials => "Serial numbers with several owners",
            ReviewList::Quarantine => "Quarantined records",
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// Column names.
    pub columns: Vec<String>,
    /// The rows of this page, as text.
    pub rows: Vec<Vec<String>>,
    /// Rows matching the search, on all pages.
    pub total: usize,
    /// This page's number, from 0.
    pub page: usize,
}

/// Rows per page.
pub const PAGE_ROWS: usize = 50;

fn opt(v: Option<i64>) -> String {
    v.map_or_else(|| "none".to_string(), |v| v.to_string())
}

/// The whole list, unpaged: columns and rows.
pub fn rows(landing: &Landing, list: ReviewList) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let s = &landing.strings;
    let customers = &landing.customers;
    // One pass: each email's records in order, and (current record, record count); the
    // current one is the last with the greatest lastUpdateDate.
    let mut records: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    let mut current: BTreeMap<u32, (usize, usize)> = BTreeMap::new();
    for (i, c) in customers.iter().enumerate() {
        records.entry(c.email).or_default().push(i);
        let slot = current.entry(c.email).or_insert((i, 0));
        slot.1 += 1;
        if c.last_update >= customers[slot.0].last_update {
            slot.0 = i;
        }
    }
    match list {
        ReviewList::ExcludedCustomers => {
            let mut rows: Vec<(usize, Vec<String>)> = current
                .values()
                .filter(|(i, _)| customers[*i].research_consent.is_none())
                .map(|(i, n)| {
                    let c = &customers[*i];
                    let earlier = records[&c.email]
                        .iter()
                        .any(|o| customers[*o].research_consent.is_some());
                    let why = if earlier {
                        "consent revoked: an earlier record had consent, the current one has none"
                    } else {
                        "no shareWithResearchAsOfDate in the current record"
                    };
                    let row = vec![
                        s.get(c.email).to_string(),
                        c.name.as_deref().unwrap_or("").to_string(),
                        s.get(c.serial).to_string(),
                        n.to_string(),
                        why.to_string(),
                    ];
                    (*i, row)
                })
                .collect();
            rows.sort_by_key(|r| r.0);
            (
                vec!["email", "customerName", "serialNumber", "records", "why"],
                rows.into_iter().map(|r| r.1).collect(),
            )
        }
        ReviewList::ReadingsBeforeConsent => {
            let mut per_user: BTreeMap<u32, (u64, i64, i64)> = BTreeMap::new();
            let a = &landing.accelerometer;
            for i in 0..a.len() {
                let Some((ci, _)) = current.get(&a.user[i]) else {
                    continue;
                };
                let Some(consent) = customers[*ci].research_consent else {
                    continue;
                };
                let t = a.timestamp[i];
                if t < consent {
                    let e = per_user.entry(a.user[i]).or_insert((0, t, t));
                    e.0 += 1;
                    e.1 = e.1.min(t);
                    e.2 = e.2.max(t);
                }
            }
            let rows = per_user
                .into_iter()
                .map(|(user, (n, first, last))| {
                    let consent = customers[current[&user].0].research_consent;
                    vec![
                        s.get(user).to_string(),
                        opt(consent),
                        n.to_string(),
                        first.to_string(),
                        last.to_string(),
                    ]
                })
                .collect();
            (
                vec![
                    "user",
                    "consent (ms)",
                    "readings before consent",
                    "first (ms)",
                    "last (ms)",
                ],
                rows,
            )
        }
        ReviewList::DuplicateEmails => {
            let mut rows = Vec::new();
            for (email, (cur, n)) in current.iter().filter(|(_, (_, n))| *n > 1) {
                for &i in &records[email] {
                    let c = &customers[i];
                    rows.push(vec![
                        s.get(*email).to_string(),
                        n.to_string(),
                        opt(c.last_update),
                        opt(c.research_consent),
                        if i == *cur { "current" } else { "superseded" }.to_string(),
                    ]);
                }
            }
            (
                vec![
                    "email",
                    "records",
                    "lastUpdateDate",
                    "consent (ms)",
                    "taken as",
                ],
                rows,
            )
        }
        ReviewList::SharedSerials => {
            let mut owners: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
            for (i, _) in current.values() {
                owners.entry(customers[*i].serial).or_default().push(*i);
            }
            let rows = owners
                .into_iter()
                .filter(|(_, o)| o.len() > 1)
                .flat_map(|(serial, o)| {
                    o.into_iter().map(move |i| {
                        let c = &customers[i];
                        vec![
                            s.get(serial).to_string(),
                            s.get(c.email).to_string(),
                            opt(c.research_consent),
                        ]
                    })
                })
                .collect();
            (vec!["serialNumber", "owner email", "consent (ms)"], rows)
        }
        ReviewList::Quarantine => (
            vec!["file", "line", "source", "reason", "record"],
            landing
                .quarantine
                .iter()
                .map(|q| {
                    vec![
                        q.file.clone(),
                        q.line.to_string(),
                        q.source.map_or("unknown", |s| s.as_str()).to_string(),
                        q.reason.clone(),
                        q.raw.clone(),
                    ]
                })
                .collect(),
        ),
    }
}

/// One page of a list, keeping the rows where any cell contains `query`
/// (case-insensitively; an empty query keeps all).
pub fn page(landing: &Landing, list: ReviewList, query: &str, page: usize) -> Page {
    let (columns, all) = rows(landing, list);
    let needle = query.trim().to_lowercase();
    let matching: Vec<Vec<String>> = all
        .into_iter()
        .filter(|r| needle.is_empty() || r.iter().any(|c| c.to_lowercase().contains(&needle)))
        .collect();
    let total = matching.len();
    let (page, skip) = page_start(total, page, PAGE_ROWS);
    Page {
        columns: columns.into_iter().map(str::to_string).collect(),
        rows: matching.into_iter().skip(skip).take(PAGE_ROWS).collect(),
        total,
        page,
    }
}

/// The page shown when `page` is asked for (a page past the end shows the last) and the
/// rows before it.
pub(crate) fn page_start(rows: usize, page: usize, per_page: usize) -> (usize, usize) {
    let page = page.min(rows.saturating_sub(1) / per_page);
    (page, page * per_page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{read_bytes, Source};

    fn landing() -> Landing {
        let customers = [
            r#"{"email":"a@x","serialNumber":"s1","lastUpdateDate":1,"shareWithResearchAsOfDate":5}"#,
            r#"{"email":"a@x","serialNumber":"s1","lastUpdateDate":2}"#,
            r#"{"email":"b@x","serialNumber":"s1","lastUpdateDate":1,"shareWithResearchAsOfDate":10}"#,
            r#"{"email":"c@x","serialNumber":"s3","lastUpdateDate":1,"shareWithResearchAsOfDate":10}"#,
            r#"{"email":"d@x","serialNumber":"s4","lastUpdateDate":1}"#,
        ]
        .join("\n");
        let phones = (0..4)
            .map(|t| {
                format!(
                    r#"{{"user":"b@x","timestamp":{},"x":0,"y":0,"z":0}}"#,
                    8 + t
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        Landing::from_batches(vec![
            read_bytes("c.json", Some(Source::Customer), customers.as_bytes()),
            read_bytes(
                "a.json",
                Some(Source::Accelerometer),
                format!("{phones}\nnot json").as_bytes(),
            ),
        ])
    }

    #[test]
    fn excluded_customers_say_whether_consent_was_revoked() {
        let l = landing();
        let (_, rows) = rows(&l, ReviewList::ExcludedCustomers);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][0], "a@x");
        assert!(rows[0][4].starts_with("consent revoked"));
        assert_eq!(rows[1][0], "d@x");
        assert!(rows[1][4].starts_with("no shareWithResearchAsOfDate"));
    }

    #[test]
    fn readings_before_consent_are_counted_per_customer() {
        let l = landing();
        let (_, rows) = rows(&l, ReviewList::ReadingsBeforeConsent);
        assert_eq!(rows, vec![vec!["b@x", "10", "2", "8", "9"]]);
    }

    #[test]
    fn duplicates_shared_serials_and_quarantine_are_listed() {
        let l = landing();
        let (_, dup) = rows(&l, ReviewList::DuplicateEmails);
        assert_eq!(dup.len(), 2);
        assert_eq!(
            (dup[0][4].as_str(), dup[1][4].as_str()),
            ("superseded", "current")
        );
        let (_, shared) = rows(&l, ReviewList::SharedSerials);
        assert_eq!(shared.len(), 2);
        assert!(shared.iter().all(|r| r[0] == "s1"));
        let (_, q) = rows(&l, ReviewList::Quarantine);
        assert_eq!(
            q[0][..3],
            [
                "a.json".to_string(),
                "5".to_string(),
                "accelerometer".to_string()
            ]
        );
    }

    #[test]
    fn search_and_pages() {
        let l = landing();
        let p = page(&l, ReviewList::ExcludedCustomers, "D@X", 0);
        assert_eq!((p.total, p.rows.len()), (1, 1));
        let p = page(&l, ReviewList::ExcludedCustomers, "", 7);
        assert_eq!(
            (p.total, p.page),
            (2, 0),
            "a page past the end shows the last page"
        );
    }
}
