//! The GPT-2 tokenizer, loaded only when something needs it (synthetic
//! prompts, input token counts): the tokenizer module
//! (`imgperf-tokenizer.js`, built from web/tokenizer) is imported and given
//! `gpt2/tokenizer.json`, both fetched from the app's root on first use,
//! in the page or in the run worker alike. The app's main module carries
//! no tokenizer engine.

use super::dom::fetch_asset;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The tokenizer module's JS, at the app's root.
pub const MODULE: &str = "imgperf-tokenizer.js";
/// Its wasm.
pub const MODULE_WASM: &str = "imgperf-tokenizer_bg.wasm";
/// The tokenizer, at the app's root.
pub const TOKENIZER_PATH: &str = "gpt2/tokenizer.json";

#[wasm_bindgen(inline_js = "export function import_module(url) { return import(url); }")]
extern "C" {
    fn import_module(url: &str) -> js_sys::Promise;
}

thread_local! {
    static MODULE_NS: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

fn message(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| js_sys::Reflect::get(e, &"message".into()).ok()?.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

/// `path` at the app's root, absolute (a worker's location is its script,
/// also at the root).
fn app_url(path: &str) -> Result<String, String> {
    let location =
        js_sys::Reflect::get(&js_sys::global(), &"location".into()).map_err(|e| message(&e))?;
    let base = js_sys::Reflect::get(&location, &"href".into())
        .ok()
        .and_then(|h| h.as_string())
        .ok_or("no location")?;
    web_sys::Url::new_with_base(path, &base)
        .map(|u| u.href())
        .map_err(|e| message(&e))
}

/// The module, imported and given the tokenizer on first use.
async fn module() -> Result<JsValue, String> {
    if let Some(m) = MODULE_NS.with(|m| m.borrow().clone()) {
        return Ok(m);
    }
    let fail = |e: JsValue| format!("cannot load the tokenizer module {MODULE}: {}", message(&e));
    let ns = JsFuture::from(import_module(&app_url(MODULE)?))
        .await
        .map_err(fail)?;
    let init: js_sys::Function = js_sys::Reflect::get(&ns, &"default".into())
        .map_err(fail)?
        .unchecked_into();
    let opts = js_sys::Object::new();
    js_sys::Reflect::set(
        &opts,
        &"module_or_path".into(),
        &app_url(MODULE_WASM)?.into(),
    )
    .map_err(fail)?;
    let started = init.call1(&JsValue::NULL, &opts).map_err(fail)?;
    JsFuture::from(js_sys::Promise::from(started))
        .await
        .map_err(fail)?;
    let json = fetch_asset(TOKENIZER_PATH).await?;
    call(
        &ns,
        "load_tokenizer",
        &[js_sys::Uint8Array::from(&json[..]).into()],
    )?;
    MODULE_NS.with(|m| *m.borrow_mut() = Some(ns.clone()));
    Ok(ns)
}

fn call(ns: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let f: js_sys::Function = js_sys::Reflect::get(ns, &name.into())
        .map_err(|e| message(&e))?
        .dyn_into()
        .map_err(|_| format!("the tokenizer module has no {name}"))?;
    f.apply(&JsValue::NULL, &args.iter().collect::<js_sys::Array>())
        .map_err(|e| format!("tokenizer: {}", message(&e)))
}

/// GPT-2 token counts of `texts` (no special tokens).
pub async fn count_tokens(texts: &[String]) -> Result<Vec<u32>, String> {
    let ns = module().await?;
    let arr: js_sys::Array = texts.iter().map(|t| JsValue::from_str(t)).collect();
    let out = call(&ns, "count_tokens", &[arr.into()])?;
    Ok(js_sys::Uint32Array::new(&out).to_vec())
}

/// Synthetic prompts (core's generator, with the GPT-2 tokenizer).
pub async fn synthetic_prompts(
    mean: f64,
    stddev: f64,
    entries: usize,
    seed: u64,
) -> Result<Vec<String>, String> {
    let ns = module().await?;
    let args = [
        mean.into(),
        stddev.into(),
        (entries as f64).into(),
        seed.to_string().into(),
    ];
    let out: js_sys::Array = call(&ns, "synthetic_prompts", &args)?.unchecked_into();
    Ok(out.iter().filter_map(|v| v.as_string()).collect())
}
