//! The borrowed pieces of a response body: a string that stays a slice of
//! the body unless JSON escapes force a copy, `data[]` items, and the
//! server-reported figures (`usage`, `inference_time_s`, `peak_memory_mb`).

use crate::output::ServerFigures;
use serde::de::{Deserializer, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// A JSON string borrowed from the body when it has no escapes. (serde's own
/// `Cow<str>` always copies unless it is a direct `#[serde(borrow)]` field.)
///
/// Read through serde_json's byte-string path: finding the end of a 3 MB
/// base64 string is then a `memchr` for `"` and `\` (SIMD) instead of the
/// string path's per-word control-character scan, which cost a third of
/// the client's CPU on large bodies. The bytes are then checked as UTF-8
/// (SIMD); control characters inside the string are tolerated (the image
/// check judges the base64 itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CowStr<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for CowStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        fn utf8<E: serde::de::Error>(v: &[u8]) -> Result<&str, E> {
            simdutf8::basic::from_utf8(v).map_err(|_| {
                let at = std::str::from_utf8(v).map_or_else(|e| e.valid_up_to(), str::len);
                E::custom(format_args!(
                    "string is not valid UTF-8 (bad byte at offset {at})"
                ))
            })
        }
        impl<'de> Visitor<'de> for V {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_bytes<E: serde::de::Error>(
                self,
                v: &'de [u8],
            ) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(utf8(v)?)))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(utf8(v)?.to_owned())))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        d.deserialize_bytes(V)
    }
}

/// One entry of a response's `data` array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageItem<'a> {
    /// `b64_json`: the image inline, base64.
    B64(Cow<'a, str>),
    /// `url`: where to fetch the image (absolute, relative, or `data:`).
    Url(Cow<'a, str>),
    /// Neither (or not an object).
    Missing,
}

impl ImageItem<'_> {
    /// The same item, owning its text.
    pub fn into_owned(self) -> ImageItem<'static> {
        match self {
            ImageItem::B64(s) => ImageItem::B64(Cow::Owned(s.into_owned())),
            ImageItem::Url(s) => ImageItem::Url(Cow::Owned(s.into_owned())),
            ImageItem::Missing => ImageItem::Missing,
        }
    }
}

/// A `data[]` entry as deserialised.
#[derive(Deserialize)]
pub(crate) struct RawItem<'a> {
    #[serde(borrow, default)]
    pub b64_json: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    pub url: Option<CowStr<'a>>,
}

impl<'a> RawItem<'a> {
    /// `b64_json` wins over `url` when a server sends both.
    pub fn into_item(self) -> ImageItem<'a> {
        match (self.b64_json, self.url) {
            (Some(b), _) if !b.0.is_empty() => ImageItem::B64(b.0),
            (_, Some(u)) if !u.0.is_empty() => ImageItem::Url(u.0),
            (Some(b), _) => ImageItem::B64(b.0),
            _ => ImageItem::Missing,
        }
    }
}

/// Items of a `data` array whose entries did not all parse as objects.
pub(crate) fn items_one_by_one<'a>(raw: &[&'a RawValue]) -> Vec<ImageItem<'a>> {
    raw.iter()
        .map(|r| {
            serde_json::from_str::<RawItem<'a>>(r.get())
                .map(RawItem::into_item)
                .unwrap_or(ImageItem::Missing)
        })
        .collect()
}

#[derive(Deserialize, Default)]
struct Usage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    total_tokens: Option<u64>,
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

/// A number, or a string holding one.
fn number(raw: Option<&RawValue>) -> Option<f64> {
    let raw = raw?.get();
    serde_json::from_str::<f64>(raw)
        .ok()
        .or_else(|| {
            serde_json::from_str::<String>(raw)
                .ok()
                .and_then(|s| s.trim().parse().ok())
        })
        .filter(|v: &f64| v.is_finite())
}

/// The figures a body reports about the server's own work.
pub(crate) fn server_figures(
    inference_time_s: Option<&RawValue>,
    peak_memory_mb: Option<&RawValue>,
    usage: Option<&RawValue>,
) -> ServerFigures {
    let usage: Usage = usage
        .and_then(|u| serde_json::from_str(u.get()).ok())
        .unwrap_or_default();
    ServerFigures {
        inference_time_s: number(inference_time_s),
        peak_memory_mb: number(peak_memory_mb),
        input_tokens: usage.input_tokens.or(usage.prompt_tokens),
        output_tokens: usage.output_tokens.or(usage.completion_tokens),
        total_tokens: usage.total_tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_borrow_unless_escaped() {
        let items: Vec<RawItem> =
            serde_json::from_str(r#"[{"b64_json":"iVBOR"},{"url":"a\/b"},{}]"#).unwrap();
        let items: Vec<ImageItem> = items.into_iter().map(RawItem::into_item).collect();
        assert!(matches!(&items[0], ImageItem::B64(Cow::Borrowed("iVBOR"))));
        assert!(matches!(&items[1], ImageItem::Url(Cow::Owned(u)) if u == "a/b"));
        assert_eq!(items[2], ImageItem::Missing);
    }

    #[test]
    fn figures_from_numbers_or_strings() {
        let raw = |s: &str| RawValue::from_string(s.to_owned()).unwrap();
        let (t, m, u) = (
            raw("1.25"),
            raw("\"2048.5\""),
            raw(r#"{"prompt_tokens":7,"total_tokens":9}"#),
        );
        let f = server_figures(Some(&t), Some(&m), Some(&u));
        assert_eq!(f.inference_time_s, Some(1.25));
        assert_eq!(f.peak_memory_mb, Some(2048.5));
        assert_eq!((f.input_tokens, f.total_tokens), (Some(7), Some(9)));
        assert_eq!(server_figures(None, None, None), ServerFigures::default());
    }
}
