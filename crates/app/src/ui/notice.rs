//! A message about the whole page, with a way to dismiss it, and the download being made.

use crate::state::Step;
use crate::Ctx;
use leptos::prelude::*;

/// Shows the current notice, if any.
#[component]
pub fn Notice() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let notice = move || ctx.state.with(|s| s.notice.clone());
    view! {
        <Show when=move || notice().is_some()>
            <div class="notice" role="status" data-testid="notice">
                <span>{move || notice().unwrap_or_default()}</span>
                <button
                    class="link"
                    on:click=move |_| ctx.state.update(|s| s.notice = None)
                    aria-label="Dismiss this message"
                >
                    "Dismiss"
                </button>
            </div>
        </Show>
    }
}

/// While downloads are being made: the first one's name and, for one that writes a whole
/// run, the file being written with a bar of the files done; and how many wait after it.
/// Kept in view at the foot of the window: downloads are asked for from all over the page.
#[component]
pub fn Preparing() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let preparing = move || {
        ctx.state
            .with(|s| (s.preparing.front().cloned(), s.preparing.len()))
    };
    view! {
        {move || {
            let (first, asked) = preparing();
            first
                .map(|p| {
                    let more = match asked {
                        1 => String::new(),
                        n => format!(" ({} more after it)", n - 1),
                    };
                    let (step, bar) = match p.writing {
                        Some(Step::File(file, done, total)) => (
                            format!(": writing {file} ({} of {total})", done + 1),
                            Some((done, total, "Files written")),
                        ),
                        Some(Step::Parts(done, total)) => (
                            format!(": {done} of {total} parts written"),
                            Some((done, total, "Parts written")),
                        ),
                        None => (String::new(), None),
                    };
                    let bar = bar
                        .map(|(done, total, label)| {
                            view! {
                                <progress
                                    data-testid="preparing-bar"
                                    max=total
                                    value=done
                                    aria-label=label
                                ></progress>
                            }
                        });
                    view! {
                        <div class="preparing" role="status" aria-live="polite" data-testid="preparing">
                            <span>"Preparing " {p.name} {step} "…" {more}</span>
                            {bar}
                        </div>
                    }
                })
        }}
    }
}
