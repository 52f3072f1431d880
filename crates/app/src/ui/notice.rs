//! A message about the whole page, with a way to dismiss it.

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
