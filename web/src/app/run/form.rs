//! The run form: a server preset (the mock, SGLang, vLLM-Omni, OpenAI:
//! path, response format and typical sizes that each accepts), target,
//! model, endpoint type (images, edits, or video jobs), endpoint path, API
//! key (a password field held in a signal only), prompts (one per line, or
//! synthetic), an edit's reference images ([`super::edit_form`], also an
//! image-to-video job's when its box is ticked), size,
//! response format, quality (empty unless typed: servers
//! disagree on its values), extra JSON, concurrency, request count and
//! optional rate; with the browser's connection cap said next to the
//! concurrency.

use super::edit_form::{EditFields, EditFieldset};
use crate::protocol::{PromptSource, RunForm};
use imgperf_core::endpoint::EndpointKind;
use imgperf_core::presets::{Preset, PRESETS};
use leptos::prelude::*;

/// What the browser does to concurrency, said where it is chosen.
pub const CONNECTION_NOTE: &str = "Browsers open at most about 6 connections per host over \
HTTP/1.1: with a concurrency above 6, the extra requests queue inside the browser, and that \
wait counts in their latency. For higher concurrency use the imgperf CLI.";

fn text_input(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    kind: &'static str,
    placeholder: &'static str,
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input
            id=id
            type=kind
            placeholder=placeholder
            autocomplete="off"
            prop:value=move || value.get()
            on:input=move |ev| value.set(event_target_value(&ev))
        />
    }
}

fn num<T: std::str::FromStr>(name: &str, s: &str) -> Result<T, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{name}: {s:?} is not a valid number"))
}

/// The form; `on_run` gets the values when the user starts a run.
#[component]
pub fn RunFormView(
    #[prop(into)] on_run: Callback<RunForm>,
    running: Signal<bool>,
) -> impl IntoView {
    let url = RwSignal::new("http://127.0.0.1:8000".to_owned());
    let model = RwSignal::new(String::new());
    let endpoint = RwSignal::new("/v1/images/generations".to_owned());
    let api_key = RwSignal::new(String::new());
    let kind = RwSignal::new("image_generation".to_owned());
    let edit_fields = EditFields::new();
    // A video run with a reference image per job (image-to-video).
    let i2v = RwSignal::new(false);
    let uploads = move || {
        let k = kind.get();
        k == EndpointKind::ImageEdit.name()
            || (k == EndpointKind::VideoGeneration.name() && i2v.get())
    };
    let synthetic = RwSignal::new(false);
    let prompts = RwSignal::new(
        "A serene mountain landscape at sunset\nA futuristic city with flying cars\nA cute robot playing with a kitten".to_owned(),
    );
    let mean = RwSignal::new("40".to_owned());
    let stddev = RwSignal::new("0".to_owned());
    let entries = RwSignal::new("10".to_owned());
    let size = RwSignal::new("512x512".to_owned());
    let response_format = RwSignal::new("b64_json".to_owned());
    let quality = RwSignal::new(String::new());
    let count_tokens = RwSignal::new(true);
    let preset = RwSignal::new(None::<&'static Preset>);
    let apply = move |name: String| {
        let p = PRESETS.iter().find(|p| p.id == name);
        preset.set(p);
        if let Some(p) = p {
            url.set(p.url.to_owned());
            model.set(p.model.to_owned());
            endpoint.set(p.path.to_owned());
            kind.set("image_generation".to_owned());
            response_format.set(p.response_format.to_owned());
            size.set(p.sizes[0].to_owned());
            quality.set(String::new());
        }
    };
    let extra = RwSignal::new(String::new());
    let concurrency = RwSignal::new("1".to_owned());
    let count = RwSignal::new("3".to_owned());
    let rate = RwSignal::new(String::new());
    let rate_mode = RwSignal::new("poisson".to_owned());
    let timeout = RwSignal::new("600".to_owned());
    let error = RwSignal::new(String::new());
    let read = move || -> Result<RunForm, String> {
        let prompt_source = if synthetic.get_untracked() {
            PromptSource::Synthetic {
                mean: num("Mean tokens", &mean.get_untracked())?,
                stddev: num("Stddev", &stddev.get_untracked())?,
                entries: num("Entries", &entries.get_untracked())?,
            }
        } else {
            PromptSource::Lines {
                text: prompts.get_untracked(),
            }
        };
        let rate_text = rate.get_untracked();
        let references = untrack(uploads).then(|| edit_fields.read()).transpose()?;
        Ok(RunForm {
            references,
            url: url.get_untracked(),
            model: model.get_untracked(),
            endpoint: endpoint.get_untracked(),
            endpoint_type: kind.get_untracked(),
            api_key: api_key.get_untracked(),
            prompts: prompt_source,
            size: size.get_untracked(),
            response_format: response_format.get_untracked(),
            quality: quality.get_untracked(),
            extra_json: extra.get_untracked(),
            concurrency: num("Concurrency", &concurrency.get_untracked())?,
            request_count: num("Requests", &count.get_untracked())?,
            rate: if rate_text.trim().is_empty() {
                None
            } else {
                Some(num("Rate", &rate_text)?)
            },
            rate_mode: rate_mode.get_untracked(),
            timeout_s: num("Timeout", &timeout.get_untracked())?,
            count_tokens: count_tokens.get_untracked(),
            seed: None,
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match read() {
            Ok(f) => {
                error.set(String::new());
                on_run.run(f);
            }
            Err(e) => error.set(e),
        }
    };
    let many = move || {
        concurrency
            .get()
            .trim()
            .parse::<usize>()
            .is_ok_and(|c| c > 6)
    };
    view! {
        <form class="run-form" on:submit=submit>
            <fieldset>
                <legend>"Server"</legend>
                <label for="preset">"Preset"</label>
                <select id="preset" on:change=move |ev| apply(event_target_value(&ev))>
                    <option value="" selected>"(your own settings)"</option>
                    {PRESETS.iter().map(|p| view! { <option value=p.id>{p.name}</option> }).collect_view()}
                </select>
                <p class="note preset-note">{move || preset.get().map(|p| p.note).unwrap_or(
                    "Pick a preset to fill in the path, response format and a size the server accepts."
                )}</p>
                {text_input("url", "Target URL", url, "text", "http://127.0.0.1:8000")}
                {text_input("model", "Model", model, "text", "e.g. black-forest-labs/FLUX.1-dev")}
                <label for="endpoint-type">"Endpoint type"</label>
                <select id="endpoint-type" prop:value=move || kind.get() on:change=move |ev| {
                    // The type's own path; video jobs: no image-only quality.
                    let v = event_target_value(&ev);
                    let video = v == "video_generation";
                    if let Ok(k) = EndpointKind::parse(&v) {
                        endpoint.set(k.default_path().to_owned());
                    }
                    if video && quality.get_untracked() == "standard" {
                        quality.set(String::new());
                    }
                    kind.set(v);
                }>
                    <option value="image_generation" selected>"image_generation (Images API)"</option>
                    <option value="image_edit">"image_edit (Images API edits: reference images + text)"</option>
                    <option value="video_generation">"video_generation (Videos API: submit, poll, MP4)"</option>
                </select>
                {text_input("endpoint", "Endpoint path", endpoint, "text", "/v1/images/generations")}
                {text_input("api-key", "API key (kept in this page's memory only)", api_key, "password", "optional")}
            </fieldset>
            <fieldset>
                <legend>"Prompts"</legend>
                <div class="choice">
                    <label><input type="radio" name="prompt-mode" id="mode-lines" prop:checked=move || !synthetic.get() on:change=move |_| synthetic.set(false)/>" one per line"</label>
                    <label><input type="radio" name="prompt-mode" id="mode-synthetic" prop:checked=move || synthetic.get() on:change=move |_| synthetic.set(true)/>" synthetic"</label>
                </div>
                <Show
                    when=move || synthetic.get()
                    fallback=move || view! {
                        <textarea id="prompts" rows="5" prop:value=move || prompts.get() on:input=move |ev| prompts.set(event_target_value(&ev))></textarea>
                    }
                >
                    {text_input("synth-mean", "Mean tokens", mean, "number", "40")}
                    {text_input("synth-std", "Stddev", stddev, "number", "0")}
                    {text_input("synth-entries", "Entries", entries, "number", "10")}
                </Show>
                <label class="choice">
                    <input type="checkbox" id="count-tokens" prop:checked=move || count_tokens.get()
                        on:change=move |ev| count_tokens.set(event_target_checked(&ev))/>
                    " count input tokens (GPT-2 tokenizer, 1.3 MB fetched on first use; synthetic prompts need it too)"
                </label>
            </fieldset>
            <Show when=move || kind.get() == EndpointKind::VideoGeneration.name()>
                <fieldset>
                    <legend>"Video"</legend>
                    <label class="choice">
                        <input type="checkbox" id="i2v" prop:checked=move || i2v.get()
                            on:change=move |ev| i2v.set(event_target_checked(&ev))/>
                        " image-to-video: each job uploads one reference image (input_reference)"
                    </label>
                </fieldset>
            </Show>
            <Show when=uploads>
                <EditFieldset fields=edit_fields/>
            </Show>
            <fieldset>
                <legend>"Request"</legend>
                <label for="size">"Size"</label>
                <input id="size" type="text" list="sizes" placeholder="512x512" autocomplete="off"
                    prop:value=move || size.get() on:input=move |ev| size.set(event_target_value(&ev))/>
                <datalist id="sizes">
                    {move || preset.get().map_or(&["256x256", "512x512", "1024x1024"][..], |p| p.sizes)
                        .iter().map(|s| view! { <option value=*s></option> }).collect_view()}
                </datalist>
                <label for="response-format">"Response format"</label>
                <select id="response-format" on:change=move |ev| response_format.set(event_target_value(&ev))>
                    {[("b64_json", "b64_json (images in the JSON body)"), ("url", "url (images fetched afterwards)"), ("", "(leave out: the server's default)")]
                        .into_iter()
                        .map(|(v, label)| view! { <option value=v selected=move || response_format.get() == v>{label}</option> })
                        .collect_view()}
                </select>
                {text_input("quality", "Quality (empty: not sent)", quality, "text", "not sent")}
                <label for="extra">"Extra JSON (merged into each request body)"</label>
                <Show when=move || kind.get() == "video_generation">
                    <p class="note">"Video jobs are polled every 0.1 s and their MP4 downloaded (counted in the latency), checked and shown. Add \"seconds\", \"fps\" or \"num_frames\" in the extra JSON."</p>
                </Show>
                <textarea id="extra" rows="2" placeholder="{\"num_inference_steps\": 28}" prop:value=move || extra.get() on:input=move |ev| extra.set(event_target_value(&ev))></textarea>
            </fieldset>
            <fieldset>
                <legend>"Load"</legend>
                {text_input("concurrency", "Concurrency", concurrency, "number", "1")}
                {text_input("request-count", "Requests", count, "number", "3")}
                {text_input("rate", "Rate (requests/s; empty: closed loop)", rate, "number", "")}
                <label for="rate-mode">"Arrivals"</label>
                <select id="rate-mode" on:change=move |ev| rate_mode.set(event_target_value(&ev))>
                    <option value="poisson" selected>"poisson"</option>
                    <option value="constant">"constant"</option>
                </select>
                {text_input("timeout", "Request timeout (s)", timeout, "number", "600")}
                <p class="note" class:warn=many>{CONNECTION_NOTE}</p>
            </fieldset>
            <button id="run" type="submit" disabled=move || running.get()>"Run"</button>
            <p class="error">{move || error.get()}</p>
        </form>
    }
}
