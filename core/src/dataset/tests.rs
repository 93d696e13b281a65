//! Dataset tests: every JSONL row shape, and clear errors for bad rows.

use super::*;

fn parse(content: &str) -> Result<Vec<DatasetEntry>, DatasetError> {
    parse_single_turn("image_prompts.jsonl", content)
}

fn err(content: &str) -> String {
    parse(content).unwrap_err().to_string()
}

#[test]
fn tutorial_file() {
    let file = "{\"text\": \"A serene mountain landscape at sunset\"}\n\
                {\"text\": \"A futuristic city with flying cars\"}\n\
                {\"text\": \"A cute robot playing with a kitten\"}\n";
    let rows = parse(file).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1].prompt(), "A futuristic city with flying cars");
    assert_eq!(rows[0].extra, None);
    assert_eq!((rows[2].timestamp_ms, rows[2].delay_ms), (None, None));
}

#[test]
fn texts_extra_timing_bom_blank_lines_crlf() {
    let file = "\u{feff}{\"texts\": [\"a red fox\", \"in snow\"], \"extra\": {\"size\": \"1024x1024\", \"seed\": 7}, \"timestamp\": 1500}\r\n\
                \r\n   \n\
                {\"text\": \"b\", \"delay\": 2.5, \"role\": \"user\", \"type\": \"single_turn\"}";
    let rows = parse(file).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].prompt(), "a red fox in snow");
    assert_eq!(rows[0].texts, vec!["a red fox", "in snow"]);
    let extra = rows[0].extra.as_ref().unwrap();
    assert_eq!(extra["size"], "1024x1024");
    assert_eq!(extra["seed"], 7);
    assert_eq!(rows[0].timestamp_ms, Some(1500.0));
    assert_eq!(rows[1].delay_ms, Some(2.5));
    assert_eq!(rows[1].prompt(), "b");
}

#[test]
fn invalid_json_names_line_and_column() {
    let e = err("{\"text\": \"a\"}\n\n{\"text\" \"b\"}\n");
    assert_eq!(
        e,
        "image_prompts.jsonl:3: invalid JSON (expected `:` at column 9); \
         each line must be a JSON object like {\"text\": \"a red fox\"}"
    );
    assert!(err("{\"text\": \"a\" \"b\"}").contains("expected `,` or `}` at column 14"));
}

#[test]
fn non_objects_rejected() {
    assert!(err("[\"a red fox\"]").starts_with("image_prompts.jsonl:1: found an array"));
    assert!(
        err("{\"text\":\"a\"}\n\"a red fox\"").starts_with("image_prompts.jsonl:2: found a string")
    );
    assert!(err("42").contains("found a number, not an object"));
}

#[test]
fn text_field_rules() {
    assert!(err("{\"prompt\": \"a\"}").contains(":1: has no \"text\""));
    assert!(err("{\"text\": \"a\", \"texts\": [\"b\"]}").contains("both \"text\" and \"texts\""));
    assert!(err("{\"text\": 5}").contains("\"text\" must be a string, found a number"));
    assert!(err("{\"text\": \"\"}").contains("\"text\" is empty"));
    assert!(err("{\"text\": \"   \"}").contains("\"text\" is empty"));
    assert!(err("{\"texts\": \"a\"}").contains("must be an array of strings, found a string"));
    assert!(err("{\"texts\": [\"a\", 1]}").contains("found a number in it"));
    assert!(err("{\"texts\": []}").contains("empty array"));
    assert!(err("{\"texts\": [\"a\", \"\"]}").contains("\"texts\" is empty"));
    // null counts as absent
    assert_eq!(
        parse("{\"text\": null, \"texts\": [\"x\"]}").unwrap()[0].prompt(),
        "x"
    );
}

#[test]
fn extra_size_is_checked() {
    assert!(err("{\"text\": \"a\", \"extra\": {\"size\": \"abc\"}}").contains("invalid size"));
}

#[test]
fn extra_and_timing_rules() {
    assert!(err("{\"text\": \"a\", \"extra\": [1]}").contains("\"extra\" must be an object"));
    assert!(err("{\"text\": \"a\", \"extra\": \"size:512x512\"}").contains("found a string"));
    assert!(
        err("{\"text\": \"a\", \"timestamp\": \"5\"}").contains("\"timestamp\" must be a number")
    );
    assert!(err("{\"text\": \"a\", \"delay\": -1}").contains(">= 0"));
    assert!(err("{\"text\": \"a\", \"delay\": 1, \"timestamp\": 2}")
        .contains("both \"timestamp\" and \"delay\""));
    let row = &parse("{\"text\": \"a\", \"extra\": {}, \"timestamp\": 0}").unwrap()[0];
    assert_eq!(
        (row.extra.as_ref().map(|m| m.len()), row.timestamp_ms),
        (Some(0), Some(0.0))
    );
}

#[test]
fn empty_files() {
    let expected = "image_prompts.jsonl contains no prompts; add one JSON object per line, \
                    like {\"text\": \"a red fox\"}";
    assert_eq!(err(""), expected);
    assert_eq!(err("\u{feff}\n  \n\r\n"), expected);
}

#[test]
fn dataset_types() {
    assert_eq!(
        parse_dataset_type("single_turn"),
        Ok(DatasetType::SingleTurn)
    );
    assert_eq!(
        parse_dataset_type("Single-Turn"),
        Ok(DatasetType::SingleTurn)
    );
    for t in ["multi_turn", "random_pool", "mooncake_trace"] {
        let e = parse_dataset_type(t).unwrap_err();
        assert!(matches!(e, DatasetError::UnsupportedType(_)));
        let msg = e.to_string();
        assert!(
            msg.contains(t) && msg.contains("not supported yet"),
            "{msg}"
        );
    }
    let msg = parse_dataset_type("jsonl").unwrap_err().to_string();
    assert!(msg.contains("\"jsonl\""), "{msg}");
    for t in DatasetType::ALL {
        assert!(msg.contains(t.as_str()), "{msg}");
    }
}

#[test]
fn reference_images_and_masks() {
    let file = "{\"text\": \"a\", \"image\": \" ref1.png \"}\n\
                \n\
                {\"text\": \"b\", \"images\": [\"https://x/1.png\", \"data:image/png;base64,AAAA\"], \"mask\": \"m.png\"}\n\
                {\"text\": \"c\"}";
    let rows = parse(file).unwrap();
    assert_eq!(rows[0].images, vec!["ref1.png"]);
    assert_eq!(rows[0].line, 1);
    assert_eq!(rows[1].line, 3, "blank lines still count");
    assert_eq!(rows[1].images.len(), 2);
    assert_eq!(rows[1].mask.as_deref(), Some("m.png"));
    assert!(rows[2].images.is_empty() && rows[2].mask.is_none());
}

#[test]
fn bad_reference_fields_name_the_line() {
    let cases = [
        (
            r#"{"text": "a", "image": 3}"#,
            r#""image" must be a string"#,
        ),
        (r#"{"text": "a", "image": " "}"#, r#""image" is empty"#),
        (
            r#"{"text": "a", "images": []}"#,
            r#""images" is an empty array"#,
        ),
        (
            r#"{"text": "a", "images": "x.png"}"#,
            r#""images" must be an array"#,
        ),
        (
            r#"{"text": "a", "image": "x", "images": ["y"]}"#,
            "both \"image\" and \"images\"",
        ),
        (
            r#"{"text": "a", "mask": "m.png"}"#,
            "a mask goes with an image",
        ),
        (
            r#"{"text": "a", "image": "x", "mask": 1}"#,
            r#""mask" must be a non-empty string"#,
        ),
    ];
    for (row, want) in cases {
        let msg = err(&format!("{{\"text\": \"ok\"}}\n{row}"));
        assert!(msg.starts_with("image_prompts.jsonl:2: "), "{msg}");
        assert!(msg.contains(want), "{row}: {msg}");
    }
}
