//! The image gallery: a page of cards (image, or a video job's MP4 as a
//! `<video>`; prompt, latency, size, format); an edit's card shows its
//! input image beside the output. Images of a run in this page and of a
//! published site are thumbnails behind URLs, linked to the full image;
//! images of an opened raw export (and an edit's input, when the run
//! exported it) are read again from their line of the file only when their
//! card is shown, and released when it goes away, so a gallery of
//! thousands of images holds one page of them.

use crate::app::platform::dom::{bytes_url, revoke_url};
use crate::app::platform::files::{kept_file, read_range};
use crate::model::{body_images, GalleryImage, ImageSource, InputPreview, InputSource};
use imgperf_core::import::parse_line;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Cards per page.
pub const PAGE: usize = 24;

/// Read one image of a raw export line back from the file.
async fn load_from_file(
    file: u32,
    offset: u64,
    len: u64,
    index: usize,
    mime: &str,
) -> Result<String, String> {
    let file = kept_file(file).ok_or("the file is no longer open")?;
    let bytes = read_range(&file, offset, offset + len).await?;
    let text = String::from_utf8(bytes).map_err(|_| "the line is not UTF-8")?;
    let line = parse_line(&text).map_err(|e| e.to_string())?;
    let body = line.responses.last().ok_or("no response in this line")?;
    let img = body_images(&body.text, true)
        .into_iter()
        .find(|i| i.index == index)
        .and_then(|i| i.bytes)
        .ok_or("image not found in the response")?;
    Ok(bytes_url(&img, mime))
}

/// An image whose object URL `load` makes: `src` holds it once made (or
/// `failed` why not); it is released when the card goes away, or at once
/// when the card is gone before it was made.
fn load_into(
    src: RwSignal<Option<String>>,
    failed: RwSignal<Option<String>>,
    load: impl std::future::Future<Output = Result<String, String>> + 'static,
) {
    spawn_local(async move {
        match load.await {
            Ok(url) => {
                if src.try_set(Some(url.clone())).is_some() {
                    revoke_url(&url);
                }
            }
            Err(e) => {
                let _ = failed.try_set(Some(e));
            }
        }
    });
    on_cleanup(move || {
        if let Some(Some(u)) = src.try_get_untracked() {
            revoke_url(&u);
        }
    });
}

/// Read an edit's first input image back from its raw export line.
async fn input_from_file(file: u32, offset: u64, len: u64) -> Result<String, String> {
    let file = kept_file(file).ok_or("the file is no longer open")?;
    let bytes = read_range(&file, offset, offset + len).await?;
    let text = String::from_utf8(bytes).map_err(|_| "the line is not UTF-8")?;
    let line = parse_line(&text).map_err(|e| e.to_string())?;
    let files = line
        .payload
        .as_ref()
        .and_then(|p| p.get(imgperf_core::edit::FILES_KEY))
        .and_then(|f| f.as_array())
        .ok_or("no input files in this line")?;
    let first = files
        .iter()
        .find(|f| f["name"] != "mask")
        .ok_or("no input image in this line")?;
    let b64 = first["b64"]
        .as_str()
        .ok_or("the input's bytes were not exported")?;
    let bytes = imgperf_core::images::decode_base64(b64)?;
    let mime = first["content_type"].as_str().unwrap_or("image/png");
    Ok(bytes_url(&bytes, mime))
}

/// An edit's input image beside its output.
#[component]
fn InputThumb(input: InputPreview, output: ImageSource) -> impl IntoView {
    let src = RwSignal::new(None::<String>);
    let note = RwSignal::new(None::<String>);
    match (&input.source, output) {
        (InputSource::Url(u), _) => src.set(Some(u.clone())),
        (
            InputSource::InLine,
            ImageSource::File {
                file, offset, len, ..
            },
        ) => load_into(src, note, input_from_file(file, offset, len)),
        _ => note.set(Some(
            "input not in the export (--export-input-images keeps it)".into(),
        )),
    }
    let more = match input.count {
        0 | 1 => String::new(),
        n => format!(" (+{} more)", n - 1),
    };
    let caption = format!("input {}×{}{more}", input.width, input.height);
    view! {
        <div class="input-image">
            {move || match (src.get(), note.get()) {
                (Some(u), _) => view! { <img src=u alt="input image" loading="lazy"/> }.into_any(),
                (None, Some(n)) => view! { <div class="img-missing">{n}</div> }.into_any(),
                (None, None) => view! { <div class="img-loading">"loading…"</div> }.into_any(),
            }}
            <p class="facts">{caption}</p>
        </div>
    }
}

#[component]
fn Card(image: GalleryImage) -> impl IntoView {
    let src = RwSignal::new(None::<String>);
    let failed = RwSignal::new(None::<String>);
    let mut full = None;
    match image.source.clone() {
        ImageSource::Url { src: u, full: f } => {
            src.set(Some(u));
            full = f;
        }
        ImageSource::File {
            file,
            offset,
            len,
            index,
        } => {
            let mime = image.mime();
            load_into(src, failed, load_from_file(file, offset, len, index, mime));
        }
    }
    let facts = format!(
        "{:.0} ms · {}×{} · {} · {:.0} KB",
        image.latency_ms,
        image.width,
        image.height,
        image.format,
        image.bytes as f64 / 1024.0
    );
    let prompt = image.prompt.clone();
    let video = image.format == "mp4";
    let input = image
        .input
        .clone()
        .map(|i| view! { <InputThumb input=i output=image.source.clone()/> });
    view! {
        <figure class="gallery-item" class:edit=image.input.is_some()>
            {input}
            {move || match (src.get(), failed.get()) {
                (Some(u), _) if video => view! {
                    <video src=full.clone().unwrap_or(u) title=prompt.clone() controls=true muted=true loop=true playsinline=true preload="auto"></video>
                }.into_any(),
                (Some(u), _) => match full.clone() {
                    // A thumbnail: the full image opens on click.
                    Some(f) => view! {
                        <a href=f target="_blank" rel="noopener" title="open the full image">
                            <img class="output-image" src=u alt=prompt.clone() loading="lazy"/>
                        </a>
                    }.into_any(),
                    None => view! { <img class="output-image" src=u alt=prompt.clone() loading="lazy"/> }.into_any(),
                },
                (None, Some(e)) => view! { <div class="img-missing">{e}</div> }.into_any(),
                (None, None) => view! { <div class="img-loading">"loading…"</div> }.into_any(),
            }}
            <figcaption>
                <p class="prompt" title=image.prompt.clone()>{image.prompt.clone()}</p>
                <p class="facts">{facts}</p>
            </figcaption>
        </figure>
    }
}

/// A paged gallery of `images`.
#[component]
pub fn Gallery(#[prop(into)] images: Signal<Vec<GalleryImage>>) -> impl IntoView {
    let page = RwSignal::new(0usize);
    let count = move || images.with(Vec::len);
    let pages = move || count().div_ceil(PAGE).max(1);
    view! {
        <section class="gallery">
            <h3>{move || {
                let videos = images.with(|v| v.iter().filter(|i| i.format == "mp4").count());
                let what = if videos > 0 && videos == count() { "videos" } else { "images" };
                format!("Gallery ({} {what})", count())
            }}</h3>
            <Show when=move || { pages() > 1 }>
                <div class="pager">
                    <button on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"‹ previous"</button>
                    <span>{move || format!("page {} of {}", page.get().min(pages() - 1) + 1, pages())}</span>
                    <button on:click=move |_| page.update(|p| *p = (*p + 1).min(pages() - 1))>"next ›"</button>
                </div>
            </Show>
            <div class="cards">
                // Keyed by position: images added during a run leave the
                // cards already shown in place.
                <For
                    each=move || {
                        let p = page.get().min(pages() - 1);
                        images.with(|all| {
                            all.iter().enumerate().skip(p * PAGE).take(PAGE).map(|(i, g)| (i, g.clone())).collect::<Vec<_>>()
                        })
                    }
                    key=|(i, g)| (*i, g.source.clone())
                    children=|(_, image)| view! { <Card image=image/> }
                />
            </div>
        </section>
    }
}
