//! The form's reference images for an edit run (or an image-to-video
//! run, one per job): files picked from the
//! computer (each prompt takes the next ones, in turn; they go to the run
//! worker as blobs) or synthetic pictures (width, height, format), and how
//! many go with each request. The upload time is not measured here: the
//! browser does not report it.

use crate::protocol::{reference_blob, ReferenceForm, SyntheticRefs};
use leptos::prelude::*;
use std::cell::RefCell;
use wasm_bindgen::JsCast;

thread_local! {
    /// The files picked for the next run (browser objects, kept off signals).
    static PICKED: RefCell<Vec<web_sys::File>> = const { RefCell::new(Vec::new()) };
}

/// What the page says about upload time.
pub const UPLOAD_NOTE: &str = "The CLI also reports Upload Time; a browser cannot tell when \
a request's body has been sent, so the page does not.";

/// The picked files as the blobs of a `Start` message (`ref0`, `ref1`, ...).
pub fn picked_blobs() -> Vec<(String, web_sys::Blob)> {
    PICKED.with(|p| {
        p.borrow()
            .iter()
            .enumerate()
            .map(|(i, f)| (reference_blob(i), f.clone().into()))
            .collect()
    })
}

/// The fields' signals.
#[derive(Debug, Clone, Copy)]
pub struct EditFields {
    synthetic: RwSignal<bool>,
    width: RwSignal<String>,
    height: RwSignal<String>,
    format: RwSignal<String>,
    per_request: RwSignal<String>,
    picked: RwSignal<Vec<String>>,
}

impl EditFields {
    /// Defaults: synthetic 512x512 PNG, one per request.
    pub fn new() -> Self {
        EditFields {
            synthetic: RwSignal::new(true),
            width: RwSignal::new("512".into()),
            height: RwSignal::new("512".into()),
            format: RwSignal::new("png".into()),
            per_request: RwSignal::new("1".into()),
            picked: RwSignal::new(Vec::new()),
        }
    }

    /// The choice, read (the worker checks it).
    pub fn read(&self) -> Result<ReferenceForm, String> {
        let num = |name: &str, s: String| -> Result<f64, String> {
            s.trim()
                .parse()
                .map_err(|_| format!("{name}: {s:?} is not a valid number"))
        };
        let per_request = num("Images per request", self.per_request.get_untracked())?;
        if !(per_request >= 1.0 && per_request.fract() == 0.0) {
            return Err("Images per request must be a whole number of at least 1.".into());
        }
        let synthetic = self
            .synthetic
            .get_untracked()
            .then(|| -> Result<SyntheticRefs, String> {
                Ok(SyntheticRefs {
                    width: num("Width", self.width.get_untracked())?,
                    height: num("Height", self.height.get_untracked())?,
                    format: self.format.get_untracked(),
                })
            })
            .transpose()?;
        let files = if synthetic.is_some() {
            Vec::new()
        } else {
            self.picked.get_untracked()
        };
        Ok(ReferenceForm {
            synthetic,
            files,
            per_request: per_request as usize,
        })
    }
}

impl Default for EditFields {
    fn default() -> Self {
        Self::new()
    }
}

fn field(id: &'static str, label: &'static str, value: RwSignal<String>) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input id=id type="number" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
    }
}

/// The reference images fieldset.
#[component]
pub fn EditFieldset(fields: EditFields) -> impl IntoView {
    let f = fields;
    let on_files = move |ev: leptos::ev::Event| {
        let files = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .map(|input| crate::app::platform::files::file_list(input.files()))
            .unwrap_or_default();
        f.picked.set(files.iter().map(|f| f.name()).collect());
        PICKED.with(|p| *p.borrow_mut() = files);
    };
    view! {
        <fieldset id="edit-references">
            <legend>"Reference images (image edits, image-to-video)"</legend>
            <div class="choice">
                <label><input type="radio" name="ref-mode" id="refs-synthetic" prop:checked=move || f.synthetic.get() on:change=move |_| f.synthetic.set(true)/>" synthetic"</label>
                <label><input type="radio" name="ref-mode" id="refs-files" prop:checked=move || !f.synthetic.get() on:change=move |_| f.synthetic.set(false)/>" from files"</label>
            </div>
            <Show
                when=move || f.synthetic.get()
                fallback=move || view! {
                    <label for="ref-files">"PNG, JPEG or WebP files (each prompt takes the next, in turn)"</label>
                    <input id="ref-files" type="file" multiple accept="image/png,image/jpeg,image/webp" on:change=on_files/>
                    <p class="note">{move || match f.picked.with(Vec::len) {
                        0 => "No file picked yet.".to_owned(),
                        n => format!("{n} picked: {}", f.picked.get().join(", ")),
                    }}</p>
                }
            >
                {field("ref-width", "Width", f.width)}
                {field("ref-height", "Height", f.height)}
                <label for="ref-format">"Format"</label>
                <select id="ref-format" on:change=move |ev| f.format.set(event_target_value(&ev))>
                    <option value="png" selected>"png"</option>
                    <option value="jpeg">"jpeg"</option>
                    <option value="random">"random"</option>
                </select>
            </Show>
            {field("ref-per-request", "Images per request", f.per_request)}
            <p class="note">{UPLOAD_NOTE}</p>
        </fieldset>
    }
}
