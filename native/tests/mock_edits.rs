//! The mock's `POST /v1/images/edits` over real HTTP: the output is made
//! from the reference (resized to `size`, tinted by prompt and seed), the
//! latency model counts the input pixels, and each dialect keeps its quirks
//! (REFERENCE §10): SGLang's sizes, 422 and text/plain 500, OpenAI's mask
//! checks, and a text-to-image model's 400.

use base64::Engine as _;
use imgperf::mock::{Dialect, MockArgs, MockServer, Task};
use reqwest::multipart::{Form, Part};
use serde_json::Value;

async fn server(args: MockArgs) -> MockServer {
    MockServer::start(&MockArgs { port: 0, ..args })
        .await
        .expect("mock starts")
}

fn quick(dialect: Dialect) -> MockArgs {
    MockArgs {
        latency_ms: 0.0,
        dialect,
        ..MockArgs::default()
    }
}

/// A real PNG: left half `left`, right half `right`.
fn png(w: u32, h: u32, left: [u8; 3], right: [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, _| {
        image::Rgb(if x < w / 2 { left } else { right })
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn file(bytes: Vec<u8>) -> Part {
    Part::bytes(bytes)
        .file_name("in.png")
        .mime_str("image/png")
        .unwrap()
}

struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    /// The first output image, decoded.
    fn image(&self) -> image::RgbImage {
        let b64 = self.json()["data"][0]["b64_json"]
            .as_str()
            .expect("b64_json")
            .to_owned();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        image::load_from_memory(&bytes).unwrap().to_rgb8()
    }
}

async fn edit(s: &MockServer, form: Form) -> Answer {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/images/edits", s.base_url()))
        .multipart(form)
        .send()
        .await
        .expect("sent");
    Answer {
        status: resp.status().as_u16(),
        content_type: resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default(),
        body: resp.bytes().await.unwrap().to_vec(),
    }
}

fn form(prompt: &str, image: Vec<u8>) -> Form {
    Form::new()
        .text("prompt", prompt.to_owned())
        .text("response_format", "b64_json")
        .text("size", "64x32")
        .part("image", file(image))
}

#[tokio::test]
async fn the_output_is_the_reference_resized_and_tinted() {
    for dialect in [Dialect::Openai, Dialect::Sglang, Dialect::VllmOmni] {
        let s = server(quick(dialect)).await;
        let dark_left = png(40, 40, [0, 0, 0], [255, 255, 255]);
        let dark_right = png(40, 40, [255, 255, 255], [0, 0, 0]);
        let a = edit(
            &s,
            form("night", dark_left.clone()).text("output_format", "png"),
        )
        .await;
        assert_eq!(
            a.status,
            200,
            "{dialect:?}: {}",
            String::from_utf8_lossy(&a.body)
        );
        let img = a.image();
        assert_eq!(img.dimensions(), (64, 32), "{dialect:?}");
        let luma = |img: &image::RgbImage, x| {
            img.get_pixel(x, 16)
                .0
                .iter()
                .map(|&c| u32::from(c))
                .sum::<u32>()
        };
        assert!(
            luma(&img, 60) > luma(&img, 3) + 300,
            "{dialect:?}: follows the reference"
        );
        let b = edit(&s, form("night", dark_right).text("output_format", "png")).await;
        let flipped = b.image();
        assert!(luma(&flipped, 3) > luma(&flipped, 60) + 300, "{dialect:?}");
        let again = edit(
            &s,
            form("night", dark_left.clone()).text("output_format", "png"),
        )
        .await;
        assert_eq!(
            again.image(),
            img,
            "{dialect:?}: same reference and prompt, same image"
        );
        // The tint comes from prompt and seed (one of --image-variants).
        let mut tints = std::collections::HashSet::new();
        for prompt in ["night", "a sunset", "in snow", "autumn", "at dawn", "foggy"] {
            let f = form(prompt, dark_left.clone()).text("output_format", "png");
            tints.insert(edit(&s, f).await.image().into_raw());
        }
        assert!(tints.len() >= 3, "{dialect:?}: {} tints", tints.len());
        s.shutdown().await;
    }
}

#[tokio::test]
async fn sglang_keeps_its_quirks() {
    let s = server(quick(Dialect::Sglang)).await;
    // Without size: about 1024x1024 at the LAST input's aspect ratio.
    let f = Form::new()
        .text("prompt", "p")
        .text("response_format", "b64_json")
        .part("image[]", file(png(100, 100, [9, 9, 9], [9, 9, 9])))
        .part("image[]", file(png(640, 480, [9, 9, 9], [9, 9, 9])));
    let a = edit(&s, f).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.image().dimensions(), (1184, 896));
    // An explicit size is floored to multiples of 16; a mask is ignored.
    let f = Form::new()
        .text("prompt", "p")
        .text("size", "500x300")
        .text("response_format", "b64_json")
        .part("image", file(png(64, 64, [1, 2, 3], [4, 5, 6])))
        .part("mask", file(png(8, 8, [0, 0, 0], [0, 0, 0])));
    assert_eq!(edit(&s, f).await.image().dimensions(), (496, 288));
    // No image: 422 with a plain detail string.
    let a = edit(&s, Form::new().text("prompt", "p")).await;
    assert_eq!(a.status, 422);
    assert_eq!(
        a.json(),
        serde_json::json!({"detail": "Field 'image' or 'url' is required"})
    );
    // Not an image: an unhandled 500, text/plain.
    let a = edit(&s, form("p", b"hello".to_vec())).await;
    assert_eq!(a.status, 500);
    assert!(
        a.content_type.starts_with("text/plain"),
        "{}",
        a.content_type
    );
    assert_eq!(a.body, b"Internal Server Error");
    s.shutdown().await;
}

#[tokio::test]
async fn openai_checks_the_mask_and_the_image() {
    let s = server(quick(Dialect::Openai)).await;
    let image = png(32, 32, [1, 1, 1], [2, 2, 2]);
    let ok = form("p", image.clone()).part("mask", file(png(32, 32, [0, 0, 0], [0, 0, 0])));
    assert_eq!(edit(&s, ok).await.status, 200);
    let small = form("p", image.clone()).part("mask", file(png(16, 16, [0, 0, 0], [0, 0, 0])));
    let a = edit(&s, small).await;
    assert_eq!(a.status, 400);
    let msg = a.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("16x16") && msg.contains("32x32"), "{msg}");
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::RgbImage::new(32, 32)
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    let a = edit(&s, form("p", image).part("mask", file(jpeg.into_inner()))).await;
    assert_eq!(a.status, 400);
    assert!(a.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("must be a PNG"));
    let a = edit(&s, form("p", b"not an image at all".to_vec())).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["error"]["param"], "image");
    // Header says PNG, pixels are garbage: found when decoding, still a 400.
    let mut broken = png(16, 16, [0, 0, 0], [0, 0, 0]);
    let n = broken.len();
    broken[40..n - 20].iter_mut().for_each(|b| *b = 0x55);
    let a = edit(&s, form("p", broken)).await;
    assert_eq!(a.status, 400, "{}", String::from_utf8_lossy(&a.body));
    s.shutdown().await;
}

#[tokio::test]
async fn a_text_to_image_model_rejects_edits_and_an_edit_model_generations() {
    let s = server(MockArgs {
        task: Task::T2i,
        ..quick(Dialect::Sglang)
    })
    .await;
    let a = edit(&s, form("p", png(16, 16, [0; 3], [0; 3]))).await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.json()["detail"],
        "input_reference is not supported for T2I models."
    );
    s.shutdown().await;

    let s = server(MockArgs {
        task: Task::I2i,
        ..quick(Dialect::Openai)
    })
    .await;
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/images/generations", s.base_url()))
        .header("content-type", "application/json")
        .body(r#"{"prompt": "p"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(
        v["error"]["message"],
        "Served model with task type 'I2I' requires an 'image_path' input, but none was provided"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn input_pixels_count_in_the_service_time() {
    // 1 step of 100 ms per 1024x1024, no overhead or jitter: a 256x256
    // output alone takes ~6 ms; a 2048x2048 input adds 400 ms.
    let s = server(MockArgs {
        dialect: Dialect::Sglang,
        steps: 1,
        step_ms: 100.0,
        overhead_ms: 0.0,
        jitter: 0.0,
        ..MockArgs::default()
    })
    .await;
    let time = |a: &Answer| a.json()["inference_time_s"].as_f64().unwrap();
    let small = form("p", png(16, 16, [0; 3], [0; 3])).text("size", "256x256");
    let big = form("p", png(2048, 2048, [0; 3], [0; 3])).text("size", "256x256");
    let (small, big) = (edit(&s, small).await, edit(&s, big).await);
    assert_eq!((small.status, big.status), (200, 200));
    assert!(time(&big) >= 0.40, "{}", time(&big));
    assert!(time(&small) < 0.30, "{}", time(&small));
    s.shutdown().await;
}
