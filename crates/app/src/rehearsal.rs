//! The page rehearses a run before the user's first one. The browser compiles each of the
//! module's functions when it is first called, so the page's first files and its first
//! results waited for the code that shows them to be compiled (in a W1 trace, 468
//! functions and 49 ms of the page's thread, in the middle of the run). Shortly after the
//! page is drawn, while the user picks files, a copy of its sections that is never put in
//! the document, and has no worker, is told of made-up files read and a made-up run done,
//! as the worker tells the page, and then dropped.

use crate::protocol::{decode, encode, FromWorker};
use crate::reader::{reason_counts, warm_up_batches};
use crate::worker::{made_up_run, run_charts};
use crate::{Ctx, Sections};
use leptos::prelude::*;
use std::cell::Cell;
use std::rc::Rc;
use stedi_core::audit::Audit;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::JsCast;

/// Rehearses once the page has done what it is doing.
pub fn soon() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let rehearse = Closure::once_into_js(rehearse);
    // Not rehearsed, the page works as well, only its first run waits for the compiler.
    let _ =
        window.set_timeout_with_callback_and_timeout_and_arguments_0(rehearse.unchecked_ref(), 0);
}

fn rehearse() {
    let stage = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("div").ok());
    let Some(stage) = stage else {
        return;
    };
    let made = Rc::new(Cell::new(None));
    let keep = made.clone();
    let handle = leptos::mount::mount_to(stage.unchecked_into(), move || {
        let ctx = Ctx::new();
        provide_context(ctx);
        keep.set(Some(ctx));
        view! { <Sections /> }
    });
    let Some(ctx) = made.get() else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        for msg in messages() {
            // As the page takes a worker's message: as text, read back, applied.
            if let Ok(received) = decode::<FromWorker>(&encode(&msg, None)) {
                ctx.on_message(received);
            }
            // The sections are drawn between messages, as they are between a worker's.
            next_task().await;
        }
        drop(handle);
    });
}

/// A worker's messages for three made-up files read and a run of them.
fn messages() -> Vec<FromWorker> {
    let batches = warm_up_batches();
    let ids = 1..;
    let mut messages: Vec<FromWorker> = ids
        .clone()
        .zip(&batches)
        .map(|(id, b)| FromWorker::FileAdded {
            id,
            name: b.summary.name.clone(),
            bytes: b.summary.bytes,
        })
        .collect();
    messages.extend(
        ids.clone()
            .zip(&batches)
            .map(|(id, b)| FromWorker::Progress {
                id,
                done: b.summary.bytes / 2,
            }),
    );
    messages.extend(ids.zip(&batches).map(|(id, b)| FromWorker::FileRead {
        id,
        summary: b.summary.clone(),
        reasons: reason_counts(b),
    }));
    let (landing, zones, policy) = made_up_run(batches);
    messages.push(FromWorker::RunDone {
        audit: Box::new(Audit::new(&landing, &zones, &policy, true)),
        millis: 0.0,
        charts: Box::new(run_charts(&landing, &zones)),
        wasm_bytes: 0,
        batch_bytes: 0,
        readers: 1,
    });
    messages
}

/// Resolves in a later task, after the pending updates of the page have run.
async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let later = web_sys::window().is_some_and(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0)
                .is_ok()
        });
        if !later {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use stedi_core::Zone;

    #[test]
    fn the_rehearsal_reads_three_files_and_runs_them_into_every_zone() {
        let messages = messages();
        let count = |f: fn(&FromWorker) -> bool| messages.iter().filter(|m| f(m)).count();
        assert_eq!(count(|m| matches!(m, FromWorker::FileAdded { .. })), 3);
        assert_eq!(count(|m| matches!(m, FromWorker::Progress { .. })), 3);
        assert_eq!(count(|m| matches!(m, FromWorker::FileRead { .. })), 3);
        let Some(FromWorker::RunDone { audit, .. }) = messages.last() else {
            panic!("the run comes last");
        };
        for zone in Zone::ALL {
            assert!(audit.rows(zone) > 0, "{zone:?} is empty");
        }
        // Every message goes as the worker's do: as text, and back.
        for msg in &messages {
            let text = serde_json::to_string(msg).unwrap();
            assert!(serde_json::from_str::<FromWorker>(&text).is_ok());
        }
    }
}
