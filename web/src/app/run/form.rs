//! The run form: target, model, endpoint path, API key (a password field
//! held in a signal only), prompts (one per line, or synthetic), size,
//! quality, extra JSON, concurrency, request count and optional rate, and
//! the endpoint type (images, or video jobs); with
//! the browser's connection cap said next to the concurrency.

use super::session::{PromptSource, RunForm};
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
    let synthetic = RwSignal::new(false);
    let prompts = RwSignal::new(
        "A serene mountain landscape at sunset\nA futuristic city with flying cars\nA cute robot playing with a kitten".to_owned(),
    );
    let mean = RwSignal::new("40".to_owned());
    let stddev = RwSignal::new("0".to_owned());
    let entries = RwSignal::new("10".to_owned());
    let size = RwSignal::new("512x512".to_owned());
    let quality = RwSignal::new("standard".to_owned());
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
            PromptSource::Lines(prompts.get_untracked())
        };
        let rate_text = rate.get_untracked();
        Ok(RunForm {
            url: url.get_untracked(),
            model: model.get_untracked(),
            endpoint: endpoint.get_untracked(),
            endpoint_type: kind.get_untracked(),
            api_key: api_key.get_untracked(),
            prompts: prompt_source,
            size: size.get_untracked(),
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
                {text_input("url", "Target URL", url, "text", "http://127.0.0.1:8000")}
                {text_input("model", "Model", model, "text", "e.g. black-forest-labs/FLUX.1-dev")}
                <label for="endpoint-type">"Endpoint type"</label>
                <select id="endpoint-type" on:change=move |ev| {
                    // Video jobs: the Videos API path, and no image-only quality.
                    let v = event_target_value(&ev);
                    let video = v == "video_generation";
                    endpoint.set(if video { "/v1/videos" } else { "/v1/images/generations" }.to_owned());
                    if video && quality.get_untracked() == "standard" {
                        quality.set(String::new());
                    }
                    kind.set(v);
                }>
                    <option value="image_generation" selected>"image_generation (Images API)"</option>
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
            </fieldset>
            <fieldset>
                <legend>"Request"</legend>
                {text_input("size", "Size", size, "text", "512x512")}
                {text_input("quality", "Quality", quality, "text", "standard")}
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
