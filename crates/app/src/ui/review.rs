//! The privacy review: each rule in plain words with what it removed, the findings
//! explained, searchable lists of what was excluded, the report, and the check of an
//! audit.json against the loaded files.

use crate::protocol::Download;
use crate::state::thousands;
use crate::Ctx;
use leptos::prelude::*;
use stedi_core::audit::Audit;
use stedi_core::export::Format;
use stedi_core::review::{ReviewList, PAGE_ROWS};
use stedi_core::{ConsentTime, MlJoin, Pii, Zone};

/// The review section; empty until a run is done.
#[component]
pub fn Review() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // A memo: a review page arriving must not rebuild the whole section.
    let audit = Memo::new(move |_| {
        ctx.state
            .with(|s| s.result.as_ref().map(|r| r.audit.clone()))
    });
    view! {
        <section class="card below" aria-labelledby="review-title" data-testid="review">
            <h2 id="review-title">"6. Privacy review"</h2>
            {move || match audit.get() {
                None => view! {
                    <p class="hint">"The review appears once the zones are built."</p>
                }
                .into_any(),
                Some(audit) => view! {
                    <Rules audit=audit.clone() />
                    <PiiMeaning pii=audit.policy.knobs.pii />
                    <Lists />
                    <Verification />
                }
                .into_any(),
            }}
        </section>
    }
}

/// (rule in plain words, rows in, rows out, why rows were removed)
fn rules(audit: &Audit) -> Vec<(String, u64, u64, String)> {
    let r = |z: Zone| audit.rows(z);
    let f = &audit.findings;
    let enforce = audit.policy.knobs.consent_time == ConsentTime::Enforce;
    let before = if enforce {
        format!(
            "{} accelerometer readings were taken before their owner consented: removed.",
            thousands(f.readings_before_consent)
        )
    } else {
        format!(
            "{} accelerometer readings were taken before their owner consented: kept, because consent time is ignored.",
            thousands(f.readings_before_consent)
        )
    };
    let cross = match audit.policy.knobs.ml_join {
        MlJoin::Device => format!(
            "{} step readings would be joined to another customer's phone by the course's timestamp-only join: the device join leaves them out.",
            thousands(f.cross_customer_matches)
        ),
        MlJoin::Timestamp => format!(
            "{} step readings are joined to another customer's phone by the timestamp-only join: they are in the dataset.",
            thousands(f.cross_customer_matches)
        ),
    };
    vec![
        (
            "A customer is trusted when the current record of their email (the latest lastUpdateDate) has consent to research.".into(),
            r(Zone::CustomerLanding),
            r(Zone::CustomerTrusted),
            format!(
                "{} customers have no consent in their current record; {} email(s) had several records, of which only the current one counts.",
                thousands(f.customers_without_consent),
                thousands(f.duplicate_emails)
            ),
        ),
        (
            "A phone reading is trusted when its user is a trusted customer.".into(),
            r(Zone::AccelerometerLanding),
            r(Zone::AccelerometerTrusted),
            before,
        ),
        (
            "A trusted customer is curated when they have at least one trusted phone reading.".into(),
            r(Zone::CustomerTrusted),
            r(Zone::CustomerCurated),
            "Customers with no trusted reading add nothing to the dataset.".into(),
        ),
        (
            "A step reading is trusted when its device belongs to a curated customer.".into(),
            r(Zone::StepTrainerLanding),
            r(Zone::StepTrainerTrusted),
            if enforce {
                "Readings of other devices, and readings taken before any owner consented, are removed.".into()
            } else {
                "Readings of devices of customers who are not curated are removed.".into()
            },
        ),
        (
            "Each trusted step reading is joined to the trusted phone readings taken at the same millisecond.".into(),
            r(Zone::StepTrainerTrusted),
            r(Zone::MachineLearningCurated),
            cross,
        ),
    ]
}

#[component]
fn Rules(audit: Audit) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let format = RwSignal::new(Format::Jsonl);
    view! {
        <h3>"Each rule, and what it let through"</h3>
        <table class="rules" data-testid="review-rules">
            <thead>
                <tr>
                    <th scope="col">"Rule"</th>
                    <th scope="col" class="num">"In"</th>
                    <th scope="col" class="num">"Out"</th>
                    <th scope="col" class="num">"Removed"</th>
                    <th scope="col">"Why"</th>
                </tr>
            </thead>
            <tbody>
                {rules(&audit)
                    .into_iter()
                    .map(|(rule, rows_in, rows_out, why)| {
                        let removed = if rows_out > rows_in {
                            format!("+{} (join)", thousands(rows_out - rows_in))
                        } else {
                            thousands(rows_in - rows_out)
                        };
                        view! {
                            <tr>
                                <td>{rule}</td>
                                <td class="num">{thousands(rows_in)}</td>
                                <td class="num">{thousands(rows_out)}</td>
                                <td class="num">{removed}</td>
                                <td>{why}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <p>
            {format!(
                "{} serial number(s) belong to more than one customer; such a device's readings count for each of its consenting owners.",
                thousands(audit.findings.shared_serials)
            )}
        </p>
        <div class="actions">
            <label>
                "Report for outputs in "
                {super::format_select(format, "report-format")}
            </label>
            <button
                data-testid="download-report"
                on:click=move |_| ctx.download(Download::Report(format.get_untracked()))
            >
                "Download report.html"
            </button>
            <span class="hint">"A printable page with the policy, input and output hashes, counts and findings."</span>
        </div>
    }
}

#[component]
fn PiiMeaning(pii: Pii) -> impl IntoView {
    let text = match pii {
        Pii::Keep => "Emails and serial numbers are written as they are: anyone holding the curated file can tell whose readings they are.",
        Pii::Pseudonymize => "Emails and serial numbers are replaced by a keyed hash. Rows of one person stay linked, but the names cannot be read back without the salt; with a random salt, not even by whoever ran this. Movement data can still identify a person to someone who knows their habits.",
        Pii::Drop => "Emails and serial numbers are removed: rows can no longer be tied to a person or device, nor to each other by owner.",
    };
    view! {
        <h3>"What the PII choice means"</h3>
        <p data-testid="pii-meaning">{text}</p>
    }
}

#[component]
fn Lists() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // Memos: the list, the search box and the pager's buttons are set only when they
    // changed.
    let list = ctx.memo(|s| s.review_list);
    let page = ctx.memo(|s| s.review.clone());
    let open = move |list: ReviewList, query: String, page: usize| ctx.review(list, query, page);
    let query = ctx.memo(|s| s.review_query.clone());
    let pages = move || page.with(|p| p.as_ref().map_or(1, |p| p.total.div_ceil(PAGE_ROWS).max(1)));
    let at = move || page.with(|p| p.as_ref().map_or(0, |p| p.page));
    view! {
        <h3>"Look through what was excluded"</h3>
        <div class="review-controls">
            <label>
                "List "
                <select
                    data-testid="review-list"
                    on:change=move |ev| {
                        let chosen = ReviewList::ALL
                            .into_iter()
                            .find(|l| format!("{l:?}") == event_target_value(&ev))
                            .unwrap_or(ReviewList::ExcludedCustomers);
                        open(chosen, query.get_untracked(), 0);
                    }
                >
                    {ReviewList::ALL
                        .into_iter()
                        .map(|l| {
                            view! {
                                <option value=format!("{l:?}") selected=move || list.get() == l>
                                    {l.title()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Search "
                <input
                    type="search"
                    data-testid="review-search"
                    placeholder="email, serial, file, reason"
                    prop:value=query
                    on:input=move |ev| open(list.get_untracked(), event_target_value(&ev), 0)
                />
            </label>
        </div>
        <p class="hint" data-testid="review-total">
            {move || {
                page.with(|p| p.as_ref().map(|p| p.total))
                    .map(|total| format!("{} row(s), page {} of {}", thousands(total as u64), at() + 1, pages()))
                    .unwrap_or_default()
            }}
        </p>
        <div class="scroll">
            <table class="review-table" data-testid="review-table">
                <thead>
                    <tr>
                        {move || {
                            page.with(|p| p.as_ref().map(|p| p.columns.clone()).unwrap_or_default())
                                .into_iter()
                                .map(|c| view! { <th scope="col">{c}</th> })
                                .collect_view()
                        }}
                    </tr>
                </thead>
                <tbody>
                    {move || super::body_rows(page.get().map(|p| p.rows).unwrap_or_default())}
                </tbody>
            </table>
        </div>
        {super::pager("review", at, pages, move |n| open(list.get_untracked(), query.get_untracked(), n))}
    }
}

#[component]
fn Verification() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let name = move || ctx.state.with(|s| s.audit_name.clone());
    let checks = move || ctx.state.with(|s| s.verification.clone());
    view! {
        <h3>"Check an audit.json"</h3>
        {move || match (name(), checks()) {
            (None, _) => view! {
                <p class="hint">
                    "Add an audit.json (from stedi run or this page) with the input files it names: \
                     every input hash, count, finding and output hash is recomputed and compared. \
                     For pseudonymized outputs, type the run's salt above."
                </p>
            }
            .into_any(),
            (Some(name), None) => view! { <p>{format!("Checking {name}…")}</p> }.into_any(),
            (Some(name), Some(checks)) => {
                let bad: Vec<_> = checks.iter().filter(|c| !c.ok).cloned().collect();
                let (mismatches, all_ok) = (bad.len().to_string(), bad.is_empty());
                let summary = if bad.is_empty() {
                    format!("All {} items of {name} match: it describes a run of these files under its policy.", checks.len())
                } else {
                    format!("{} of {} items of {name} do not match:", bad.len(), checks.len())
                };
                view! {
                    <div class="verification" data-testid="verification" data-mismatches=mismatches>
                        <p class:ok=all_ok class:bad=!all_ok>{summary}</p>
                        <ul>
                            {bad
                                .into_iter()
                                .map(|c| view! {
                                    <li>
                                        <code>{c.item}</code>
                                        {format!(": the audit says {}, recomputed {}", c.claimed, c.found)}
                                    </li>
                                })
                                .collect_view()}
                        </ul>
                        <button class="link" on:click=move |_| ctx.drop_audit()>"Remove the audit"</button>
                    </div>
                }
                .into_any()
            }
        }}
    }
}
