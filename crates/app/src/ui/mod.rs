//! The page's components, one module per section.

mod canvas;
pub mod charts;
mod draw;
pub mod load;
pub mod notice;
pub mod policy;
pub mod preview;
pub mod results;
pub mod review;

use leptos::prelude::*;
use stedi_core::export::Format;

/// A format's name for people.
pub fn format_label(format: Format) -> &'static str {
    match format {
        Format::Jsonl => "JSON Lines",
        Format::Csv => "CSV",
        Format::Parquet => "Parquet",
    }
}

/// A select of output formats, kept in `format`.
pub fn format_select(format: RwSignal<Format>, testid: &'static str) -> impl IntoView {
    view! {
        <select
            data-testid=testid
            on:change=move |ev| format.set(event_target_value(&ev).parse().unwrap_or(Format::Jsonl))
        >
            {Format::ALL
                .into_iter()
                .map(|f| view! { <option value=f.extension()>{format_label(f)}</option> })
                .collect_view()}
        </select>
    }
}

/// Table body rows of text cells.
pub fn body_rows(rows: Vec<Vec<String>>) -> impl IntoView {
    rows.into_iter()
        .map(|row| view! { <tr>{row.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr> })
        .collect_view()
}

/// Previous / next page buttons; `at` is the page shown (from 0), `go` opens a page.
pub fn pager(
    prefix: &'static str,
    at: impl Fn() -> usize + Copy + Send + Sync + 'static,
    pages: impl Fn() -> usize + Copy + Send + Sync + 'static,
    go: impl Fn(usize) + Copy + 'static,
) -> impl IntoView {
    view! {
        <div class="actions">
            <button
                class="secondary small"
                data-testid=format!("{prefix}-prev")
                prop:disabled=move || at() == 0
                on:click=move |_| go(at().saturating_sub(1))
            >
                "Previous page"
            </button>
            <button
                class="secondary small"
                data-testid=format!("{prefix}-next")
                prop:disabled=move || { at() + 1 >= pages() }
                on:click=move |_| go(at() + 1)
            >
                "Next page"
            </button>
        </div>
    }
}
