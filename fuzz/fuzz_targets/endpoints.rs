//! kms-client's reading of the URLs a user configures: the endpoint (`--endpoint-url`,
//! `AWS_ENDPOINT_URL`, a profile's `endpoint_url`) and the proxies (`HTTPS_PROXY`,
//! `HTTP_PROXY`, `NO_PROXY`), with which proxy an endpoint goes through.
//!
//! Input: `\0`-separated endpoint, proxy URL, NO_PROXY list. Checks: no panic; an
//! endpoint accepted is normalized once and for all (checking it again changes
//! nothing) and is http(s) without a trailing `/`; no message, `Debug` or proxy
//! description depends on a URL's user info (each is the same with the user info's
//! letters and digits changed); a NO_PROXY list naming the endpoint's host exempts it.
#![no_main]

use kms_client::__fuzz::check_endpoint;
use kms_client::ProxyConfig;
use libfuzzer_sys::fuzz_target;

/// `url` with the letters and digits of what may be its user info (between `://` and
/// the last `@`) changed to others of the same kind; `None` when there are none.
fn other_user_info(url: &str) -> Option<String> {
    let at = url.rfind('@')?;
    let start = url[..at].find("://").map_or(0, |i| i + 3);
    let info = &url[start..at];
    let other: String = info
        .chars()
        .map(|c| match c {
            'a'..='y' | 'A'..='Y' | '0'..='8' => char::from(c as u8 + 1),
            'z' => 'a',
            'Z' => 'A',
            '9' => '0',
            c => c,
        })
        .collect();
    (other != info).then(|| format!("{}{other}{}", &url[..start], &url[at..]))
}

/// What a user sees of `proxy`: the error, or the `Debug` of the configuration and the
/// route to `endpoint`.
fn proxy_texts(proxy: &str, no_proxy: Option<&str>, endpoint: Option<&http::Uri>) -> String {
    let mut config = ProxyConfig::default();
    let mut texts = String::new();
    for https in [false, true] {
        let with = if https {
            config.clone().with_https_proxy(proxy)
        } else {
            config.clone().with_http_proxy(proxy)
        };
        match with {
            Ok(c) => config = c,
            Err(e) => texts.push_str(&format!("{e}\n")),
        }
    }
    if let Some(list) = no_proxy {
        config = config.with_no_proxy(list);
    }
    texts.push_str(&format!("{config:?}\n"));
    if let Some(uri) = endpoint {
        texts.push_str(&format!("{:?}", config.for_endpoint(uri)));
    }
    texts
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
        Err(message) => {
            if let Some(other) = other_user_info(endpoint) {
                assert_eq!(check_endpoint(&other).as_ref(), Err(message), "{other:?}");
            }
        }
    }
    let uri = checked.ok().and_then(|e| e.parse::<http::Uri>().ok());

    let texts = proxy_texts(proxy, no_proxy, uri.as_ref());
    if let Some(other) = other_user_info(proxy) {
        assert_eq!(
            proxy_texts(&other, no_proxy, uri.as_ref()),
            texts,
            "{other:?}"
        );
    }
    let mut config = ProxyConfig::default().with_no_proxy(no_proxy.unwrap_or_default());
    if let Ok(c) = config.clone().with_https_proxy(proxy) {
        config = c;
    }
    if let Ok(c) = config.clone().with_http_proxy(proxy) {
        config = c;
    }
    if let (Some(uri), Some(list)) = (&uri, no_proxy) {
        let host = uri.host().unwrap_or_default();
        let listed = list.split(',').any(|e| e.trim().eq_ignore_ascii_case(host));
        if let (true, Some(via)) = (listed, config.for_endpoint(uri)) {
            panic!("{host} is in NO_PROXY {list:?}, yet goes {via}");
        }
    }
});
