//! kms-client's `--query` (CLI feature): `Query::parse` (the size checks, the legacy
//! `` `literal` `` rewriting, the `jmespath` parser) and `Query::search`, the evaluation
//! as Python's JMESPath does it, on a `describe-custom-key-stores` output or, when the
//! input holds a `\0`, on the JSON before it.
//!
//! Checks: no panic, no stack overflow, and (through libFuzzer's `-timeout` and
//! `-rss_limit_mb`) no hang and no memory blow-up: what an expression builds is bounded.
#![no_main]

use std::sync::LazyLock;

use kms_client::query::Query;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

static OUTPUT: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../query_output.json")).expect("a JSON document")
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (document, expression) = match text.split_once('\0') {
        Some((document, expression)) => match serde_json::from_str::<Value>(document) {
            Ok(value) => (Some(value), expression),
            Err(_) => (None, expression),
        },
        None => (None, &*text),
    };
    let Ok(query) = Query::parse(expression) else {
        return;
    };
    let _ = query.search(document.as_ref().unwrap_or(&OUTPUT));
});
