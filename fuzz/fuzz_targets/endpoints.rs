//! kms-client's reading of the URLs a user configures: the endpoint (`--endpoint-url`,
//! `AWS_ENDPOINT_URL`, a profile's `endpoint_url`) and the proxies (`HTTPS_PROXY`,
//! `HTTP_PROXY`, `NO_PROXY`), with which proxy an endpoint goes through.
//!
//! Input: `\0`-separated endpoint, proxy URL, NO_PROXY list. Checks: no panic; an
//! endpoint accepted is normalized once and for all (checking it again changes
//! nothing) and is http(s) without a trailing `/`; no message and no proxy description
//! quotes a URL's user info; a NO_PROXY list naming the endpoint's host exempts it.
#![no_main]

use kms_client::__fuzz::check_endpoint;
use kms_client::ProxyConfig;
use libfuzzer_sys::fuzz_target;

/// The user info of `url` (between `://` and the last `@`), when it is long enough to
/// be told apart from the rest of a message and does not occur in the rest of `url`.
fn user_info(url: &str) -> Option<&str> {
    let at = url.rfind('@')?;
    let start = url[..at].find("://").map_or(0, |i| i + 3);
    let info = &url[start..at];
    let rest = format!("{}{}", &url[..start], &url[at..]);
    (info.len() >= 8 && !rest.contains(info) && !"proxies are not supported".contains(info))
        .then_some(info)
}

fn assert_hidden(text: &str, url: &str) {
    if let Some(info) = user_info(url.trim()) {
        assert!(
            !text.contains(info),
            "{text:?} quotes the user info of {url:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let endpoint = parts.next().unwrap_or_default();
    let proxy = parts.next().unwrap_or_default();
    let no_proxy = parts.next();

    let checked = check_endpoint(endpoint);
    match &checked {
        Ok(e) => {
            assert_eq!(check_endpoint(e).as_ref(), Ok(e));
            assert!(e.starts_with("http://") || e.starts_with("https://"), "{e}");
            assert!(!e.ends_with('/'), "{e}");
        }
        Err(message) => assert_hidden(message, endpoint),
    }

    let mut config = ProxyConfig::default();
    for https in [false, true] {
        let with = if https {
            config.clone().with_https_proxy(proxy)
        } else {
            config.clone().with_http_proxy(proxy)
        };
        match with {
            Ok(c) => config = c,
            Err(e) => assert_hidden(&e.to_string(), proxy),
        }
    }
    assert_hidden(&format!("{config:?}"), proxy);
    if let Some(list) = no_proxy {
        config = config.with_no_proxy(list);
    }
    let Ok(endpoint) = checked else {
        return;
    };
    let Ok(uri) = endpoint.parse::<http::Uri>() else {
        return;
    };
    if let Some(via) = config.for_endpoint(&uri) {
        assert_hidden(&via, proxy);
        let host = uri.host().unwrap_or_default();
        let listed =
            no_proxy.is_some_and(|l| l.split(',').any(|e| e.trim().eq_ignore_ascii_case(host)));
        assert!(
            !listed,
            "{host} is in NO_PROXY {no_proxy:?}, yet goes {via}"
        );
    }
});
