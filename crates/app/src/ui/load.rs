//! Loading data: the drop zone, the file and folder pickers, the demo button, the list of
//! files with their counts, and the progress bar.

use crate::bridge::{dropped_files, input_files, take_drop};
use crate::state::{human_bytes, thousands, FileStatus, LoadedFile};
use crate::Ctx;
use leptos::html;
use leptos::prelude::*;
use std::collections::BTreeMap;
use stedi_core::ingest::Source;
use wasm_bindgen::JsCast;

/// The loading section.
#[component]
pub fn Load() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let files_input: NodeRef<html::Input> = NodeRef::new();
    let folder_input: NodeRef<html::Input> = NodeRef::new();
    let dragging = RwSignal::new(false);

    // The folder picker attribute is not in the HTML standard, so it is set here.
    Effect::new(move |_| {
        if let Some(input) = folder_input.get() {
            let _ = input.set_attribute("webkitdirectory", "");
        }
    });

    let picked = move |folder: bool| {
        move |ev: leptos::ev::Event| {
            let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            ctx.add_files(input_files(&input, folder));
            // Lets the same file be picked again later.
            input.set_value("");
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        let Some(data) = ev.data_transfer() else {
            return;
        };
        let dropped = take_drop(&data);
        wasm_bindgen_futures::spawn_local(async move {
            ctx.add_files(dropped_files(dropped).await);
        });
    };

    view! {
        <section class="card" aria-labelledby="load-title">
            <h2 id="load-title">"1. Load data"</h2>
            <div
                class="dropzone"
                class:dragging=move || dragging.get()
                data-testid="dropzone"
                on:dragover=move |ev: leptos::ev::DragEvent| {
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                <p>
                    "Drop customer, accelerometer and step-trainer JSON files or whole folders here \
                     (JSON Lines or JSON arrays, .gz too). Each file's source is told from its keys."
                </p>
                <div class="actions">
                    <button on:click=move |_| {
                        if let Some(i) = files_input.get() {
                            i.click();
                        }
                    }>"Choose files"</button>
                    <button on:click=move |_| {
                        if let Some(i) = folder_input.get() {
                            i.click();
                        }
                    }>"Choose a folder"</button>
                    <button class="secondary" data-testid="demo" on:click=move |_| ctx.demo()>
                        "Try demo data"
                    </button>
                </div>
                <input
                    type="file"
                    multiple
                    class="visually-hidden"
                    aria-label="Choose JSON files"
                    data-testid="file-input"
                    node_ref=files_input
                    on:change=picked(false)
                />
                <input
                    type="file"
                    multiple
                    class="visually-hidden"
                    aria-label="Choose a folder of JSON files"
                    data-testid="folder-input"
                    node_ref=folder_input
                    on:change=picked(true)
                />
            </div>
            <Progress />
            <FileList />
        </section>
    }
}

/// Bytes read of the load in progress, with Cancel.
#[component]
fn Progress() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let busy = move || ctx.state.with(|s| s.is_reading() || s.running);
    let progress = move || ctx.state.with(|s| s.progress());
    view! {
        <Show when=busy>
            <div class="progress" data-testid="progress">
                <label for="load-progress">
                    {move || {
                        let (done, total) = progress();
                        if ctx.state.with(|s| s.is_reading()) {
                            format!("Reading: {} of {}", human_bytes(done), human_bytes(total))
                        } else {
                            "Building the zones…".to_string()
                        }
                    }}
                </label>
                <progress
                    id="load-progress"
                    max=move || progress().1.max(1).to_string()
                    value=move || progress().0.to_string()
                ></progress>
                <button class="secondary" data-testid="cancel" on:click=move |_| ctx.cancel()>
                    "Cancel"
                </button>
            </div>
        </Show>
    }
}

/// The files loaded, with their counts, source and problems.
///
/// A file's row is made once and its cells change in place: a row made again puts a new
/// `<select>` in the page, and the browser's form-filling code then looks at every form
/// control of the page again (with a hundred files being read, that took a quarter of the
/// page's time).
///
/// Of many files, the first [`FIRST_ROWS`] are listed, and those that need attention (one
/// that could not be read, has a problem, or whose source is not known); a button lists
/// them all. A
/// thousand rows made and laid out took the page longer than reading a gigabyte took it.
#[component]
fn FileList() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let all = RwSignal::new(false);
    // Memos: other changes of state (the progress of the run, say) leave the list alone,
    // and a row is told of a change only when what it shows changed.
    let ids = Memo::new(move |_| {
        let all = all.get();
        ctx.state.with(|s| {
            s.files
                .iter()
                .enumerate()
                .filter(|(i, f)| all || *i < FIRST_ROWS || needs_attention(f))
                .map(|(_, f)| f.id)
                .collect::<Vec<_>>()
        })
    });
    let count = ctx.memo(|s| s.files.len());
    let more = move || {
        let (shown, count) = (ids.with(Vec::len), count.get());
        if all.get() && count > FIRST_ROWS {
            Some(format!("List the first {FIRST_ROWS} only"))
        } else if shown < count {
            Some(format!(
                "List all {} files ({} not listed)",
                thousands(count as u64),
                thousands((count - shown) as u64)
            ))
        } else {
            None
        }
    };
    let rows = Memo::new(move |_| {
        ctx.state.with(|s| {
            s.files
                .iter()
                .map(|f| (f.id, RowView::of(f)))
                .collect::<BTreeMap<_, _>>()
        })
    });
    view! {
        <Show when=move || ids.with(|f| !f.is_empty())>
            <table class="files" data-testid="files">
                <caption class="visually-hidden">"Loaded files"</caption>
                <thead>
                    <tr>
                        <th scope="col">"File"</th>
                        <th scope="col">"Size"</th>
                        <th scope="col">"Source"</th>
                        <th scope="col" class="num">"Accepted"</th>
                        <th scope="col" class="num">"Quarantined"</th>
                        <th scope="col"><span class="visually-hidden">"Remove"</span></th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || ids.get() key=|id| *id let:id>
                        <FileRow
                            id=id
                            view=Memo::new(move |_| rows.with(|r| r.get(&id).cloned()))
                        />
                    </For>
                </tbody>
            </table>
            {move || {
                more()
                    .map(|label| {
                        view! {
                            <button
                                class="link"
                                data-testid="list-all-files"
                                aria-expanded=move || all.get().to_string()
                                on:click=move |_| all.update(|a| *a = !*a)
                            >
                                {label}
                            </button>
                        }
                    })
            }}
        </Show>
    }
}

/// Files listed before the rest are asked for.
const FIRST_ROWS: usize = 25;

/// A file listed however many there are: it could not be read, it has a problem (cut
/// short, of another encoding...), or its source is not known.
fn needs_attention(file: &LoadedFile) -> bool {
    match &file.status {
        FileStatus::Failed(_) => true,
        FileStatus::Read { summary, .. } => {
            !summary.problems.is_empty() || (summary.source.is_none() && file.chosen.is_none())
        }
        FileStatus::Reading(_) => false,
    }
}

/// What a file's row shows.
#[derive(Clone, PartialEq)]
struct RowView {
    name: String,
    size: String,
    /// The select's value: "auto" or a source.
    chosen: &'static str,
    /// The label of the select's "auto" option.
    auto_label: String,
    accepted: String,
    quarantined: String,
    problems: Vec<String>,
}

impl RowView {
    fn of(file: &LoadedFile) -> Self {
        let (detected, accepted, quarantined) = match &file.status {
            FileStatus::Read { summary, .. } => (
                summary.source,
                thousands(summary.accepted),
                thousands(summary.quarantined),
            ),
            FileStatus::Reading(done) => (
                None,
                format!("{}%", done * 100 / file.size.max(1)),
                String::new(),
            ),
            FileStatus::Failed(_) => (None, "-".into(), "-".into()),
        };
        let auto_label = match (&file.status, detected) {
            (FileStatus::Read { .. }, Some(s)) if file.chosen.is_none() => {
                format!("{} (detected)", s.as_str())
            }
            (FileStatus::Read { .. }, None) if file.chosen.is_none() => {
                "unknown: choose one".to_string()
            }
            _ => "detect from keys".to_string(),
        };
        let problems = match &file.status {
            FileStatus::Read { summary, reasons } => {
                let mut lines: Vec<String> = summary.problems.clone();
                lines.extend(reasons.iter().map(|r| {
                    format!(
                        "{} record(s): {} (first at line {})",
                        thousands(r.count),
                        r.reason,
                        r.first_line
                    )
                }));
                lines
            }
            FileStatus::Failed(message) => vec![message.clone()],
            FileStatus::Reading(_) => Vec::new(),
        };
        RowView {
            name: file.name.clone(),
            size: human_bytes(file.size),
            chosen: file.chosen.map_or("auto", Source::as_str),
            auto_label,
            accepted,
            quarantined,
            problems,
        }
    }
}

#[component]
fn FileRow(id: u32, view: Memo<Option<RowView>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let cell = move |f: fn(&RowView) -> String| {
        move || view.with(|v| v.as_ref().map(f).unwrap_or_default())
    };
    // A memo: the select is touched only when the choice changes (setting it, even to the
    // same value, sets the browser's form-filling code going again).
    let chosen = Memo::new(move |_| view.with(|v| v.as_ref().map_or("auto", |v| v.chosen)));
    // The name never changes for an id.
    let name = view.with_untracked(|v| v.as_ref().map(|v| v.name.clone()).unwrap_or_default());
    let problems =
        move || view.with(|v| v.as_ref().map(|v| v.problems.clone()).unwrap_or_default());
    view! {
        <tr data-testid="file-row" data-name=name.clone()>
            <th scope="row" class="name">{name.clone()}</th>
            <td data-testid="file-size">{cell(|v| v.size.clone())}</td>
            <td>
                <select
                    aria-label=format!("Source of {name}")
                    data-testid="source-select"
                    prop:value=move || chosen.get()
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        ctx.set_source(id, v.parse::<Source>().ok());
                    }
                >
                    <option value="auto" selected=move || chosen.get() == "auto">
                        {cell(|v| v.auto_label.clone())}
                    </option>
                    {Source::ALL
                        .into_iter()
                        .map(|s| {
                            view! {
                                <option value=s.as_str() selected=move || chosen.get() == s.as_str()>
                                    {s.as_str()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </td>
            <td class="num" data-testid="accepted">{cell(|v| v.accepted.clone())}</td>
            <td class="num" data-testid="quarantined">{cell(|v| v.quarantined.clone())}</td>
            <td>
                <button
                    class="link"
                    aria-label=format!("Remove {name}")
                    on:click=move |_| ctx.remove(id)
                >
                    "Remove"
                </button>
            </td>
        </tr>
        {move || {
            let problems = problems();
            (!problems.is_empty())
                .then(|| {
                    view! {
                        <tr class="problems">
                            <td colspan="6">
                                <ul data-testid="file-problems">
                                    {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                                </ul>
                            </td>
                        </tr>
                    }
                })
        }}
    }
}
