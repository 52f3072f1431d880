//! stedi-app: the STEDI lakehouse as a static web page. Files are read in the browser and
//! every zone is built by stedi-core compiled to WebAssembly; nothing leaves the machine.

use leptos::prelude::*;

/// The page.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <header class="masthead">
            <h1 data-testid="app-name">"Stedi Lakehouse"</h1>
            <p class="tagline">
                "Landing, trusted and curated zones for STEDI sensor data, built in your browser."
            </p>
        </header>
        <main>
            <p data-testid="privacy">
                "Your files never leave this machine: the page makes no network requests."
            </p>
            <p class="version" data-testid="core-version">
                "stedi-core " {stedi_core::version()}
            </p>
        </main>
    }
}
