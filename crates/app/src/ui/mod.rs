//! The page's components, one module per section.

pub mod load;
pub mod notice;
pub mod policy;
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
