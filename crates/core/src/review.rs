//! What a privacy reviewer looks through: the records each rule excluded, listed with why,
//! searchable and paged.

use crate::ingest::Landing;
use serde::{Deserialize, Serialize};

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

/// A row of a list before it is written as text: which records it tells of.
enum Item {
    /// A current customer record without consent (`revoked`: an earlier one had it).
    Excluded {
        record: usize,
        records: usize,
        revoked: bool,
    },
    /// A user's readings before their consent.
    Before {
        user: u32,
        consent: Option<i64>,
        count: u64,
        first: i64,
        last: i64,
    },
    /// One of an email's several records.
    Duplicate {
        record: usize,
        records: usize,
        current: bool,
    },
    /// One of a serial number's several current owners.
    Shared { record: usize },
    /// A quarantined record.
    Quarantined(usize),
}

/// A list's columns and its rows, not yet written as text (a page writes only its own).
fn items(landing: &Landing, list: ReviewList) -> (Vec<&'static str>, Vec<Item>) {
    let customers = &landing.customers;
    // One pass: per email (by string id), its current record and how many it has, and
    // whether any had consent; the current one is the last with the greatest
    // lastUpdateDate.
    let mut current: Vec<(usize, usize)> = vec![(0, 0); landing.strings.len()];
    let mut consented = vec![false; landing.strings.len()];
    for (i, c) in customers.iter().enumerate() {
        let slot = &mut current[c.email as usize];
        if slot.1 == 0 || c.last_update >= customers[slot.0].last_update {
            slot.0 = i;
        }
        slot.1 += 1;
        consented[c.email as usize] |= c.research_consent.is_some();
    }
    // (email, current record, records) in email order.
    let emails = || {
        current
            .iter()
            .enumerate()
            .filter(|(_, (_, n))| *n > 0)
            .map(|(email, (record, n))| (email, *record, *n))
    };
    match list {
        ReviewList::ExcludedCustomers => {
            // The current records without consent, in file order.
            let rows = customers
                .iter()
                .enumerate()
                .filter(|(i, c)| current[c.email as usize].0 == *i && c.research_consent.is_none())
                .map(|(record, c)| Item::Excluded {
                    record,
                    records: current[c.email as usize].1,
                    revoked: consented[c.email as usize],
                })
                .collect();
            (
                vec!["email", "customerName", "serialNumber", "records", "why"],
                rows,
            )
        }
        ReviewList::ReadingsBeforeConsent => {
            let mut per_user: Vec<Option<(u64, i64, i64)>> = vec![None; landing.strings.len()];
            let a = &landing.accelerometer;
            for (user, t) in a.user.iter().zip(&a.timestamp) {
                let (record, n) = current[*user as usize];
                // A user with no customer record has no consent.
                let consent = (n > 0).then(|| customers[record].research_consent);
                let Some(consent) = consent.flatten() else {
                    continue;
                };
                if *t < consent {
                    let e = per_user[*user as usize].get_or_insert((0, *t, *t));
                    e.0 += 1;
                    e.1 = e.1.min(*t);
                    e.2 = e.2.max(*t);
                }
            }
            let rows = per_user
                .into_iter()
                .enumerate()
                .filter_map(|(user, seen)| {
                    let (count, first, last) = seen?;
                    Some(Item::Before {
                        user: user as u32,
                        consent: customers[current[user].0].research_consent,
                        count,
                        first,
                        last,
                    })
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
            // Each email's records together, in email order, each email's in file order.
            let mut rows: Vec<(u32, usize)> = customers
                .iter()
                .enumerate()
                .filter(|(_, c)| current[c.email as usize].1 > 1)
                .map(|(i, c)| (c.email, i))
                .collect();
            rows.sort_unstable();
            let rows = rows
                .into_iter()
                .map(|(email, record)| {
                    let (cur, records) = current[email as usize];
                    Item::Duplicate {
                        record,
                        records,
                        current: record == cur,
                    }
                })
                .collect();
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
            let mut owners = vec![0u32; landing.strings.len()];
            for (_, record, _) in emails() {
                owners[customers[record].serial as usize] += 1;
            }
            // Each serial's owners together, in serial order, each's in email order.
            let mut rows: Vec<(u32, usize, usize)> = emails()
                .filter(|(_, record, _)| owners[customers[*record].serial as usize] > 1)
                .map(|(email, record, _)| (customers[record].serial, email, record))
                .collect();
            rows.sort_unstable();
            let rows = rows
                .into_iter()
                .map(|(_, _, record)| Item::Shared { record })
                .collect();
            (vec!["serialNumber", "owner email", "consent (ms)"], rows)
        }
        ReviewList::Quarantine => (
            vec!["file", "line", "source", "reason", "record"],
            (0..landing.quarantine.len())
                .map(Item::Quarantined)
                .collect(),
        ),
    }
}

/// A row as text.
fn text(landing: &Landing, item: &Item) -> Vec<String> {
    let s = &landing.strings;
    let customers = &landing.customers;
    match *item {
        Item::Excluded {
            record,
            records,
            revoked,
        } => {
            let c = &customers[record];
            let why = if revoked {
                "consent revoked: an earlier record had consent, the current one has none"
            } else {
                "no shareWithResearchAsOfDate in the current record"
            };
            vec![
                s.get(c.email).to_string(),
                c.name.as_deref().unwrap_or("").to_string(),
                s.get(c.serial).to_string(),
                records.to_string(),
                why.to_string(),
            ]
        }
        Item::Before {
            user,
            consent,
            count,
            first,
            last,
        } => vec![
            s.get(user).to_string(),
            opt(consent),
            count.to_string(),
            first.to_string(),
            last.to_string(),
        ],
        Item::Duplicate {
            record,
            records,
            current,
        } => {
            let c = &customers[record];
            vec![
                s.get(c.email).to_string(),
                records.to_string(),
                opt(c.last_update),
                opt(c.research_consent),
                if current { "current" } else { "superseded" }.to_string(),
            ]
        }
        Item::Shared { record } => {
            let c = &customers[record];
            vec![
                s.get(c.serial).to_string(),
                s.get(c.email).to_string(),
                opt(c.research_consent),
            ]
        }
        Item::Quarantined(i) => {
            let q = &landing.quarantine[i];
            vec![
                q.file.clone(),
                q.line.to_string(),
                q.source.map_or("unknown", |s| s.as_str()).to_string(),
                q.reason.clone(),
                q.raw.clone(),
            ]
        }
    }
}

/// One page of a list, keeping the rows where any cell contains `query`
/// (case-insensitively; an empty query keeps all). Only the rows shown are written as
/// text, unless a search needs them all.
pub fn page(landing: &Landing, list: ReviewList, query: &str, page: usize) -> Page {
    let (columns, all) = items(landing, list);
    let needle = query.trim().to_lowercase();
    let matching: Vec<&Item> = all
        .iter()
        .filter(|i| {
            needle.is_empty()
                || text(landing, i)
                    .iter()
                    .any(|c| c.to_lowercase().contains(&needle))
        })
        .collect();
    let total = matching.len();
    let (page, skip) = page_start(total, page, PAGE_ROWS);
    Page {
        columns: columns.into_iter().map(str::to_string).collect(),
        rows: matching
            .into_iter()
            .skip(skip)
            .take(PAGE_ROWS)
            .map(|i| text(landing, i))
            .collect(),
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

    /// The whole list, unpaged: columns and rows.
    fn rows(landing: &Landing, list: ReviewList) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let (columns, items) = items(landing, list);
        (columns, items.iter().map(|i| text(landing, i)).collect())
    }

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
    fn a_page_is_the_rows_of_the_whole_list_it_shows() {
        let mut phones = String::new();
        for i in 0..200 {
            let line = format!(
                r#"{{"user":"b@x","timestamp":{},"x":0,"y":0,"z":0}}"#,
                i % 9
            );
            phones.push_str(&line);
            phones.push_str(if i % 3 == 0 { "\nnot json\n" } else { "\n" });
        }
        let mut l = landing();
        l.add(read_bytes(
            "b.json",
            Some(Source::Accelerometer),
            phones.as_bytes(),
        ));
        l.settle();
        for list in ReviewList::ALL {
            for query in ["", "B.JSON", "x", "superseded", "nothing like it"] {
                let needle = query.to_lowercase();
                let (columns, all) = rows(&l, list);
                let matching: Vec<Vec<String>> = all
                    .into_iter()
                    .filter(|r| r.iter().any(|c| c.to_lowercase().contains(&needle)))
                    .collect();
                for number in 0..4 {
                    let p = page(&l, list, query, number);
                    let (shown, skip) = page_start(matching.len(), number, PAGE_ROWS);
                    let want: Vec<Vec<String>> = matching
                        .iter()
                        .skip(skip)
                        .take(PAGE_ROWS)
                        .cloned()
                        .collect();
                    assert_eq!((p.total, p.page), (matching.len(), shown));
                    assert_eq!(p.rows, want, "{list:?} {query:?} page {number}");
                    assert_eq!(p.columns, columns);
                }
            }
        }
    }

    #[test]
    fn readings_of_users_without_a_customer_record_are_no_ones_before_consent() {
        let phones = r#"{"user":"u@x","timestamp":1,"x":0,"y":0,"z":0}"#;
        let l = Landing::from_batches(vec![read_bytes("a.json", None, phones.as_bytes())]);
        for list in ReviewList::ALL {
            assert_eq!(page(&l, list, "", 0).total, 0, "{list:?}");
        }
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
