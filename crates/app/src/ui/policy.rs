//! Choosing the policy: a preset, or the three knobs one by one, and the salt.

use crate::state::PresetChoice;
use crate::Ctx;
use leptos::prelude::*;
use stedi_core::{ConsentTime, MlJoin, Pii, Policy, Preset};

/// The policy section. Any change builds the zones again without reading the files again.
#[component]
pub fn PolicyPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // Memos, here and for the knobs and the salt: each control is set only when its value
    // changed (see [`Ctx::memo`]).
    let preset = ctx.memo(|s| s.preset);
    let choose = move |choice: PresetChoice| {
        ctx.state.update(|s| s.choose_preset(choice));
        ctx.rerun();
    };
    let radio = move |choice: PresetChoice,
                      label: &'static str,
                      hint: &'static str,
                      testid: &'static str| {
        view! {
            <label class="choice">
                <input
                    type="radio"
                    name="preset"
                    data-testid=testid
                    prop:checked=move || preset.get() == choice
                    on:change=move |_| choose(choice)
                />
                <span>
                    <strong>{label}</strong>
                    " "
                    <span class="hint">{hint}</span>
                </span>
            </label>
        }
    };
    let salt = ctx.memo(|s| s.salt.clone());
    view! {
        <section class="card" aria-labelledby="policy-title">
            <h2 id="policy-title">"2. Choose the policy"</h2>
            <fieldset class="presets">
                <legend>"Preset"</legend>
                {radio(
                    PresetChoice::Preset(Preset::Strict),
                    "Strict (recommended)",
                    "Only readings taken after consent, each step reading joined to its owner's phone, emails and serials pseudonymized.",
                    "preset-strict",
                )}
                {radio(
                    PresetChoice::Preset(Preset::Rubric),
                    "Course rubric",
                    "The original course's rules: consent time ignored, join on time alone, PII kept.",
                    "preset-rubric",
                )}
                {radio(
                    PresetChoice::Custom,
                    "Custom",
                    "Set each knob below.",
                    "preset-custom",
                )}
            </fieldset>
            <div class="knobs">
                <Knob
                    label="Consent time"
                    testid="knob-consent-time"
                    options=vec![
                        ("enforce", "Enforce: drop readings taken before the customer consented"),
                        ("ignore", "Ignore: keep every reading of a consenting customer"),
                    ]
                    value=ctx.memo(|s| s.policy.consent_time.as_str()).into()
                    set=move |v: String| set_knob(ctx, |p| p.consent_time = v.parse().unwrap_or(ConsentTime::Enforce))
                />
                <Knob
                    label="Machine-learning join"
                    testid="knob-ml-join"
                    options=vec![
                        ("device", "Device: a step reading joins only its owner's phone readings"),
                        ("timestamp", "Timestamp: it joins any phone reading at the same millisecond"),
                    ]
                    value=ctx.memo(|s| s.policy.ml_join.as_str()).into()
                    set=move |v: String| set_knob(ctx, |p| p.ml_join = v.parse().unwrap_or(MlJoin::Device))
                />
                <Knob
                    label="Emails and serial numbers in the curated data"
                    testid="knob-pii"
                    options=vec![
                        ("pseudonymize", "Pseudonymize: replace them with a keyed hash (joinable, not readable)"),
                        ("keep", "Keep: write them as they are (anyone with the file can identify people)"),
                        ("drop", "Drop: remove both columns (rows can no longer be tied to a person or device)"),
                    ]
                    value=ctx.memo(|s| s.policy.pii.as_str()).into()
                    set=move |v: String| set_knob(ctx, |p| p.pii = v.parse().unwrap_or(Pii::Pseudonymize))
                />
            </div>
            <div class="salt">
                <label for="salt">"Salt for pseudonyms (optional)"</label>
                <input
                    id="salt"
                    type="password"
                    autocomplete="off"
                    data-testid="salt"
                    prop:value=move || salt.get()
                    on:change=move |ev| {
                        let salt = event_target_value(&ev);
                        ctx.state.update(|s| s.salt = salt);
                        ctx.rerun();
                    }
                />
                <p class="hint">
                    "Left empty, a new random salt is used for every run, so pseudonyms cannot be \
                     linked across runs. Type one to reproduce a run byte for byte (the same salt \
                     gives the same pseudonyms as "<code>"stedi run --salt"</code>"). The salt is \
                     never written to any file."
                </p>
            </div>
        </section>
    }
}

fn set_knob(ctx: Ctx, change: impl FnOnce(&mut Policy)) {
    ctx.state.update(|s| s.set_policy(change));
    ctx.rerun();
}

/// One knob: a labelled select with a sentence for each value.
#[component]
fn Knob(
    label: &'static str,
    testid: &'static str,
    options: Vec<(&'static str, &'static str)>,
    value: Signal<&'static str>,
    set: impl Fn(String) + 'static,
) -> impl IntoView {
    view! {
        <label class="knob">
            <span class="knob-label">{label}</span>
            <select data-testid=testid prop:value=move || value.get() on:change=move |ev| set(event_target_value(&ev))>
                {options
                    .into_iter()
                    .map(|(v, text)| view! { <option value=v>{text}</option> })
                    .collect_view()}
            </select>
        </label>
    }
}
