//! Charts of a run: the zone funnel, consent over time, one customer's readings, and the
//! distribution of distanceFromObject. Each is a canvas drawn by [`super::draw`], with a
//! text alternative and a PNG download.

use super::draw;
use crate::state::RunResult;
use crate::Ctx;
use leptos::html;
use leptos::prelude::*;
use stedi_core::charts::CustomerSeries;
use web_sys::HtmlCanvasElement;

/// The charts section; empty until a run is done.
#[component]
pub fn Charts() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // A memo, so that other changes of state (a preview page arriving) do not redraw.
    let result = ctx.memo(|s| s.result.clone());
    let has_result = move || result.with(Option::is_some);
    view! {
        <section class="card" aria-labelledby="charts-title" data-testid="charts">
            <h2 id="charts-title">"4. Charts"</h2>
            <Show
                when=has_result
                fallback=|| view! { <p class="hint">"The charts appear once the zones are built."</p> }
            >
                <div class="charts">
                    {figure(
                        "funnel",
                        "Rows per zone, landing to trusted to curated, for each source, with the rows each rule removed",
                        Signal::derive(move || result.get()),
                        |c, r: &RunResult| draw::funnel(c, &r.audit),
                    )}
                    {figure(
                        "consent",
                        "Customers registered and customers consenting to research, as running totals by day",
                        Signal::derive(move || result.get()),
                        |c, r: &RunResult| draw::consent(c, &r.charts.consent),
                    )}
                    <CustomerChart />
                    {figure(
                        "distance",
                        "Histogram of distanceFromObject in machine_learning_curated",
                        Signal::derive(move || result.get()),
                        |c, r: &RunResult| draw::histogram(c, &r.charts.distance),
                    )}
                </div>
            </Show>
        </section>
    }
}

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// A canvas drawn with `paint` whenever `data` changes, once it has come near the screen
/// (results below the fold are shown without waiting for their charts), with its drawing
/// time and a PNG download.
fn figure<T: Clone + Send + Sync + 'static>(
    id: &'static str,
    label: &'static str,
    data: Signal<Option<T>>,
    paint: fn(&HtmlCanvasElement, &T) -> Result<(), String>,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let canvas = NodeRef::<html::Canvas>::new();
    let status = RwSignal::new(String::new());
    let near = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(el) = canvas.get() {
            when_near_screen(&el, move || near.set(true));
        }
    });
    Effect::new(move |_| {
        let (Some(el), Some(data), true) = (canvas.get(), data.get(), near.get()) else {
            return;
        };
        let started = now();
        status.set(match paint(&el, &data) {
            Ok(()) => format!("Drawn in {:.0} ms.", now() - started),
            Err(message) => message,
        });
    });
    let save = move |_| {
        if let Some(el) = canvas.get_untracked() {
            if let Err(message) = crate::bridge::save_canvas(&el, &format!("stedi-{id}.png")) {
                ctx.state.update(|s| s.notice = Some(message));
            }
        }
    };
    view! {
        <figure class="chart" data-testid=format!("chart-{id}")>
            <canvas node_ref=canvas role="img" aria-label=label data-testid=format!("canvas-{id}")></canvas>
            <figcaption class="actions">
                <span class="hint" data-testid=format!("drawn-{id}")>{move || status.get()}</span>
                <button
                    class="secondary small"
                    data-testid=format!("png-{id}")
                    aria-label=format!("Download the {id} chart as PNG")
                    on:click=save
                >
                    "Download PNG"
                </button>
            </figcaption>
        </figure>
    }
}

/// Calls `then` once `el` is within a screen's height of the visible part of the page
/// (at once where the browser cannot tell).
fn when_near_screen(el: &HtmlCanvasElement, then: impl Fn() + 'static) {
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    let then = std::rc::Rc::new(then);
    let call = then.clone();
    let callback = Closure::<dyn FnMut(js_sys::Array, web_sys::IntersectionObserver)>::new(
        move |entries: js_sys::Array, observer: web_sys::IntersectionObserver| {
            let near = entries.iter().any(|e| {
                e.dyn_into::<web_sys::IntersectionObserverEntry>()
                    .is_ok_and(|e| e.is_intersecting())
            });
            if near {
                observer.disconnect();
                call();
            }
        },
    );
    let options = web_sys::IntersectionObserverInit::new();
    options.set_root_margin("100% 0px");
    match web_sys::IntersectionObserver::new_with_options(
        callback.as_ref().unchecked_ref(),
        &options,
    ) {
        Ok(observer) => {
            observer.observe(el);
            // Lives as long as the page: the observer calls it until the chart is near.
            callback.forget();
        }
        Err(_) => then(),
    }
}

/// One customer at a time, found by email or serial number.
#[component]
fn CustomerChart() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let query = RwSignal::new(ctx.state.with_untracked(|s| s.customer_query.clone()));
    let answer = ctx.memo(|s| s.customer.clone());
    let series = Signal::derive(move || answer.get().and_then(Result::ok));
    let error = move || answer.get().and_then(Result::err);
    let summary = move || series.get().map(|s: CustomerSeries| s.status.summary());
    let show = move || ctx.show_customer(query.get_untracked());
    view! {
        <div class="customer-chart">
            <form
                class="review-controls"
                data-testid="customer-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    show();
                }
            >
                <label>
                    "Customer (email or serial number) "
                    <input
                        type="search"
                        data-testid="customer-search"
                        placeholder="e.g. an email from customer_curated"
                        prop:value=move || query.get()
                        on:input=move |ev| query.set(event_target_value(&ev))
                    />
                </label>
                <button type="submit" class="small" data-testid="customer-show">"Show"</button>
            </form>
            <p class="hint" data-testid="customer-status">
                {move || error().or_else(summary).unwrap_or_default()}
            </p>
            {figure(
                "customer",
                "One customer's phone accelerometer x, y and z over time, the step trainer's distanceFromObject on a second axis, the consent moment marked, and readings the policy excluded in grey",
                series,
                draw::customer,
            )}
        </div>
    }
}
