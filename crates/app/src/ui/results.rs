//! The result: the machine-learning dataset first, then the pipeline with each rule's
//! effect, the findings, the quarantine, and every zone for download.

use crate::protocol::Download;
use crate::state::{human_bytes, thousands, AppState, RunResult};
use crate::Ctx;
use leptos::prelude::*;
use stedi_core::audit::Audit;
use stedi_core::export::Format;
use stedi_core::{ConsentTime, MlJoin, Zone};

/// The results section; empty until a run is done.
#[component]
pub fn Results() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // A memo: other changes of state (a review page arriving) must not rebuild the section.
    let result = ctx.memo(|s| s.result.clone());
    view! {
        <section class="card" aria-labelledby="results-title" data-testid="results">
            <h2 id="results-title">"3. Zones and downloads"</h2>
            {move || match result.get() {
                None => view! {
                    <p class="hint">"Load files (or the demo data) to build the zones."</p>
                }
                .into_any(),
                Some(r) => view! { <RunView result=r /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn RunView(result: RunResult) -> impl IntoView {
    let audit = result.audit;
    let rows = |z: Zone| audit.rows(z);
    let enforce = audit.policy.knobs.consent_time == ConsentTime::Enforce;
    view! {
        <Featured rows=rows(Zone::MachineLearningCurated) />
        <Throughput
            millis=result.millis
            wasm_bytes=result.wasm_bytes
            batch_bytes=result.batch_bytes
            readers=result.readers
        />
        <h3>"The pipeline"</h3>
        <div class="pipeline" data-testid="pipeline">
            <Lane
                title="Customers"
                steps=vec![
                    (Zone::CustomerLanding, String::new()),
                    (Zone::CustomerTrusted, "current record (latest update) has consent to research".to_string()),
                    (Zone::CustomerCurated, "has at least one trusted phone reading".to_string()),
                ]
                audit=audit.clone()
            />
            <Lane
                title="Phone accelerometer"
                steps=vec![
                    (Zone::AccelerometerLanding, String::new()),
                    (
                        Zone::AccelerometerTrusted,
                        if enforce {
                            "owner is a trusted customer, reading taken at or after consent"
                        } else {
                            "owner is a trusted customer"
                        }
                        .to_string(),
                    ),
                ]
                audit=audit.clone()
            />
            <Lane
                title="Step Trainer"
                steps=vec![
                    (Zone::StepTrainerLanding, String::new()),
                    (
                        Zone::StepTrainerTrusted,
                        if enforce {
                            "device of a curated customer, reading at or after consent"
                        } else {
                            "device of a curated customer"
                        }
                        .to_string(),
                    ),
                ]
                audit=audit.clone()
            />
            <div class="lane ml">
                <h4>"Machine learning"</h4>
                <p class="rule">
                    {match audit.policy.knobs.ml_join {
                        MlJoin::Device => "step_trainer_trusted joined to its owner's accelerometer_trusted readings at the same millisecond",
                        MlJoin::Timestamp => "step_trainer_trusted joined to every accelerometer_trusted reading at the same millisecond, whoever's phone",
                    }}
                </p>
                <ZoneBox zone=Zone::MachineLearningCurated rows=rows(Zone::MachineLearningCurated) />
            </div>
        </div>
        <Findings audit=audit.clone() />
        <Quarantine audit=audit.clone() />
        <ZoneTable audit=audit />
        // Last: a download listed here moves nothing the user may click next.
        <SavedDownloads />
    }
}

fn format_buttons(zone: Zone) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    Format::ALL
        .into_iter()
        .map(|f| {
            let label = super::format_label(f);
            view! {
                <button
                    class="secondary small"
                    data-testid=format!("download-{}-{}", zone.as_str(), f.extension())
                    aria-label=format!("Download {} as {label}", zone.as_str())
                    on:click=move |_| ctx.download(Download::Zone(zone, f))
                >
                    {label}
                </button>
            }
        })
        .collect_view()
}

/// How fast the files were read and the zones built, and the memory it took.
#[component]
fn Throughput(millis: f64, wasm_bytes: u64, batch_bytes: u64, readers: u32) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let (bytes, records) = ctx.state.with_untracked(AppState::read_totals);
    let read_ms = ctx.state.with_untracked(|s| s.load.millis);
    let read = read_ms.map(|ms| {
        let seconds = (ms / 1000.0).max(1e-3);
        format!(
            "Read {} ({} records) in {:.2} s: {}/s, {} records/s. ",
            human_bytes(bytes),
            thousands(records),
            seconds,
            human_bytes((bytes as f64 / seconds) as u64),
            thousands((records as f64 / seconds) as u64),
        )
    });
    view! {
        <p
            class="timing"
            data-testid="throughput"
            data-bytes=bytes.to_string()
            data-rows=records.to_string()
            data-read-ms=read_ms.map(|ms| format!("{ms:.1}")).unwrap_or_default()
            data-run-ms=format!("{millis:.1}")
            data-wasm-bytes=wasm_bytes.to_string()
            data-batch-bytes=batch_bytes.to_string()
            data-readers=readers.to_string()
        >
            {read}
            {match readers {
                0 => String::new(),
                n => format!("Files parsed by {n} workers in parallel. "),
            }}
            {format!(
                "Zones built in {:.0} ms. Worker memory (WebAssembly): {}.",
                millis,
                human_bytes(wasm_bytes)
            )}
            {(batch_bytes > 0)
                .then(|| {
                    format!(
                        " Parsed files waited to join the landing as at most {} of bytes at once outside it.",
                        human_bytes(batch_bytes),
                    )
                })}
        </p>
    }
}

/// The downloads handed to the browser since the run, with their size, time, speed, and
/// the workers that wrote them.
#[component]
fn SavedDownloads() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // A memo: the list is drawn again when a download is made, not at every change of
    // state (reading progress, a review page arriving).
    let saved = ctx.memo(|s| s.saved.clone());
    view! {
        <Show when=move || saved.with(|s| !s.is_empty())>
            <div class="saved" data-testid="saved">
                <h3 id="saved-title">"Downloads made"</h3>
                <ul aria-labelledby="saved-title">
                    {move || {
                        saved
                            .get()
                            .into_iter()
                            .map(|d| {
                                view! {
                                    <li
                                        data-testid="saved-download"
                                        data-name=d.name.clone()
                                        data-bytes=d.made.bytes.to_string()
                                        data-parts=d.made.parts.to_string()
                                        data-workers=d.made.workers.to_string()
                                    >
                                        {d.describe()}
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </div>
        </Show>
    }
}

#[component]
fn Featured(rows: u64) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let zip_format = RwSignal::new(Format::Jsonl);
    view! {
        <div class="featured" data-testid="featured">
            <div>
                <h3>"machine_learning_curated"</h3>
                <p>
                    <strong data-testid="featured-rows">{thousands(rows)}</strong>
                    " rows ready for data scientists."
                </p>
            </div>
            <div class="actions">
                {format_buttons(Zone::MachineLearningCurated)}
            </div>
            <div class="actions everything">
                <label>
                    "Zones as "
                    {super::format_select(zip_format, "zip-format")}
                </label>
                <button
                    data-testid="download-everything"
                    on:click=move |_| ctx.download(Download::Everything(zip_format.get_untracked()))
                >
                    "Download everything (.zip)"
                </button>
                <button class="secondary" data-testid="download-audit" on:click=move |_| ctx.download(Download::Audit)>
                    "audit.json"
                </button>
            </div>
        </div>
    }
}

#[component]
fn ZoneBox(zone: Zone, rows: u64) -> impl IntoView {
    view! {
        <div class="zone" data-testid=format!("zone-{}", zone.as_str()) data-rows=rows.to_string()>
            <span class="zone-name">{zone.as_str()}</span>
            <span class="zone-rows" data-testid=format!("count-{}", zone.as_str())>{thousands(rows)}</span>
        </div>
    }
}

#[component]
fn Lane(title: &'static str, steps: Vec<(Zone, String)>, audit: Audit) -> impl IntoView {
    let mut previous: Option<u64> = None;
    let items = steps
        .into_iter()
        .map(|(zone, rule)| {
            let rows = audit.rows(zone);
            let step = previous.map(|before| {
                let removed = before.saturating_sub(rows);
                view! {
                    <div class="rule" data-testid=format!("rule-{}", zone.as_str())>
                        <span class="arrow" aria-hidden="true">"↓"</span>
                        <span>{rule}</span>
                        <span class="removed">{format!("{} removed", thousands(removed))}</span>
                    </div>
                }
            });
            previous = Some(rows);
            view! {
                {step}
                <ZoneBox zone=zone rows=rows />
            }
        })
        .collect_view();
    view! {
        <div class="lane">
            <h4>{title}</h4>
            {items}
        </div>
    }
}

#[component]
fn Findings(audit: Audit) -> impl IntoView {
    let f = audit.findings;
    let items = vec![
        ("customers_without_consent", f.customers_without_consent, "customers have not consented to research (their current record has no shareWithResearchAsOfDate): none of their data passes."),
        ("readings_before_consent", f.readings_before_consent, "phone readings of consenting customers were taken before they consented."),
        ("cross_customer_matches", f.cross_customer_matches, "step readings would be joined to another customer's phone by the course's timestamp-only join."),
        ("duplicate_emails", f.duplicate_emails, "emails have more than one customer record; the one with the latest lastUpdateDate is taken as current."),
        ("shared_serials", f.shared_serials, "serial numbers belong to more than one customer."),
    ];
    view! {
        <h3>"Findings"</h3>
        <ul class="findings" data-testid="findings">
            {items
                .into_iter()
                .map(|(key, n, text)| {
                    view! {
                        <li data-testid=format!("finding-{key}") data-value=n.to_string()>
                            <strong>{thousands(n)}</strong>
                            " "
                            {text}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
fn Quarantine(audit: Audit) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let q = audit.quarantine;
    let total = q.total;
    let mut reasons: Vec<(String, u64)> = q.by_reason.into_iter().collect();
    reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
    view! {
        <h3>"Quarantine"</h3>
        <div class="quarantine" data-testid="quarantine" data-total=total.to_string()>
            <p>
                {if total == 0 {
                    "No record was quarantined: every record of every file was accepted.".to_string()
                } else {
                    format!(
                        "{} record(s) could not be accepted. None were dropped silently: each is in quarantine.jsonl with its file, line and reason.",
                        thousands(total),
                    )
                }}
            </p>
            <ul>
                {reasons
                    .into_iter()
                    .map(|(reason, n)| view! { <li><strong>{thousands(n)}</strong>" "{reason}</li> })
                    .collect_view()}
            </ul>
            <button
                class="secondary small"
                data-testid="download-quarantine"
                on:click=move |_| ctx.download(Download::Quarantine)
            >
                "quarantine.jsonl"
            </button>
        </div>
    }
}

#[component]
fn ZoneTable(audit: Audit) -> impl IntoView {
    view! {
        <h3>"Every zone"</h3>
        <table class="zones" data-testid="zones">
            <thead>
                <tr>
                    <th scope="col">"Zone"</th>
                    <th scope="col" class="num">"Rows"</th>
                    <th scope="col">"Download"</th>
                </tr>
            </thead>
            <tbody>
                {Zone::ALL
                    .into_iter()
                    .map(|zone| {
                        view! {
                            <tr>
                                <th scope="row">{zone.as_str()}</th>
                                <td class="num">{thousands(audit.rows(zone))}</td>
                                <td>
                                    <div class="actions">{format_buttons(zone)}</div>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
