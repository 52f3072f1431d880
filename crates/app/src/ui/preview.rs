//! The zone preview: any zone as a table, 100 rows a page, sorted by any column, searched by
//! email or serial number; customers found but missing from the zone are explained.

use crate::state::thousands;
use crate::Ctx;
use leptos::prelude::*;
use stedi_core::preview::{Selection, Sort, PREVIEW_ROWS};
use stedi_core::Zone;

/// The preview section; empty until a run is done.
#[component]
pub fn ZonePreview() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let has_result = move || ctx.state.with(|s| s.result.is_some());
    view! {
        <section class="card below" aria-labelledby="preview-title" data-testid="preview">
            <h2 id="preview-title">"5. Zone preview"</h2>
            <Show
                when=has_result
                fallback=|| view! { <p class="hint">"The zones can be looked through once they are built."</p> }
            >
                <Table />
            </Show>
        </section>
    }
}

#[component]
fn Table() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let selection = move || ctx.state.with(|s| s.preview_selection.clone());
    // Memos: the zone's select and the search box are set only when they changed.
    let zone = ctx.memo(|s| s.preview_selection.zone);
    let query = ctx.memo(|s| s.preview_selection.query.clone());
    let preview = ctx.memo(|s| s.preview.clone());
    let at = move || preview.with(|p| p.as_ref().map_or(0, |p| p.page));
    let pages = move || {
        preview.with(|p| {
            p.as_ref()
                .map_or(1, |p| p.matching.div_ceil(PREVIEW_ROWS).max(1))
        })
    };
    let open = move |change: &dyn Fn(&mut Selection), page: usize| {
        let mut s = selection();
        change(&mut s);
        ctx.preview(s, page);
    };
    let sort_by = move |column: usize| {
        open(
            &|s: &mut Selection| {
                s.sort = match s.sort {
                    Some(Sort {
                        column: c,
                        descending: false,
                    }) if c == column => Some(Sort {
                        column,
                        descending: true,
                    }),
                    Some(Sort {
                        column: c,
                        descending: true,
                    }) if c == column => None,
                    _ => Some(Sort {
                        column,
                        descending: false,
                    }),
                }
            },
            0,
        )
    };
    view! {
        <div class="review-controls">
            <label>
                "Zone "
                <select
                    data-testid="preview-zone"
                    on:change=move |ev| {
                        let zone = event_target_value(&ev).parse().unwrap_or(Zone::MachineLearningCurated);
                        open(&|s: &mut Selection| {
                            s.zone = zone;
                            s.sort = None;
                        }, 0);
                    }
                >
                    {Zone::ALL
                        .into_iter()
                        .map(|z| {
                            view! {
                                <option value=z.as_str() selected=move || zone.get() == z>
                                    {z.as_str()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Find a customer "
                <input
                    type="search"
                    data-testid="preview-search"
                    placeholder="email or serial number"
                    prop:value=move || query.get()
                    on:input=move |ev| {
                        let query = event_target_value(&ev);
                        open(&|s: &mut Selection| s.query = query.clone(), 0);
                    }
                />
            </label>
        </div>
        <p class="hint" data-testid="preview-total" aria-live="polite">
            {move || {
                preview.with(|p| p.as_ref().map(|p| {
                    format!(
                        "{} of {} rows, page {} of {}",
                        thousands(p.matching as u64),
                        thousands(p.zone_rows as u64),
                        p.page + 1,
                        pages()
                    )
                }))
                .unwrap_or_default()
            }}
        </p>
        <ul class="notes" data-testid="preview-notes">
            {move || {
                preview
                    .with(|p| p.as_ref().map(|p| p.notes.clone()).unwrap_or_default())
                    .into_iter()
                    .map(|n| view! { <li>{n}</li> })
                    .collect_view()
            }}
        </ul>
        <div class="scroll">
            <table class="review-table preview-table" data-testid="preview-table">
                <thead>
                    <tr>
                        {move || {
                            let sort = selection().sort;
                            preview
                                .with(|p| p.as_ref().map(|p| p.columns.clone()).unwrap_or_default())
                                .into_iter()
                                .enumerate()
                                .map(|(i, name)| {
                                    let (aria, arrow) = match sort {
                                        Some(s) if s.column == i && s.descending => ("descending", " ▼"),
                                        Some(s) if s.column == i => ("ascending", " ▲"),
                                        _ => ("none", ""),
                                    };
                                    view! {
                                        <th scope="col" aria-sort=aria>
                                            <button
                                                class="link"
                                                data-testid=format!("preview-sort-{name}")
                                                title="Sort by this column"
                                                on:click=move |_| sort_by(i)
                                            >
                                                {format!("{name}{arrow}")}
                                            </button>
                                        </th>
                                    }
                                })
                                .collect_view()
                        }}
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        super::body_rows(
                            preview.with(|p| p.as_ref().map(|p| p.rows.clone()).unwrap_or_default()),
                        )
                    }}
                </tbody>
            </table>
        </div>
        {super::pager("preview", at, pages, move |page| open(&|_: &mut Selection| {}, page))}
    }
}
