//! HTTP proxies, read from the environment as the AWS CLI reads them:
//! `https_proxy` / `HTTPS_PROXY` for https endpoints, `http_proxy` / `HTTP_PROXY` for
//! http ones, `no_proxy` / `NO_PROXY` for hosts to reach directly. `ALL_PROXY`, which
//! curl reads, is not read: botocore takes the proxy of the endpoint's scheme alone, so
//! the AWS CLI ignores it (often a `socks5://` proxy, which kms could not use). https goes through a `CONNECT` tunnel (TLS stays end to end); http is
//! forwarded in absolute form.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Uri;
use http::header::HeaderValue;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

use crate::config::{ConfigError, mask_user_info};

/// One proxy URL and where it was configured.
#[derive(Clone, PartialEq, Eq)]
struct ProxyUrl {
    url: String,
    origin: String,
}

impl ProxyUrl {
    /// The URL with its user info (user name and password, or a lone token) replaced by
    /// `****`, for messages and `Debug`, as botocore masks both.
    fn display(&self) -> String {
        mask_user_info(&self.url)
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {})", self.display(), self.origin)
    }
}

/// Which proxies the client uses. The default is none; [`ProxyConfig::from_env`] reads
/// the environment. `Debug` never prints a proxy password.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    http: Option<ProxyUrl>,
    https: Option<ProxyUrl>,
    no_proxy: Option<String>,
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyConfig")
            .field("http", &self.http)
            .field("https", &self.https)
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

impl ProxyConfig {
    /// The proxies of the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_with(&|k| std::env::var(k).ok())
    }

    /// The proxies of `env`: for each scheme the lower-case variable, else the upper-case
    /// one. `all_proxy` / `ALL_PROXY` is not read, as the AWS CLI does not read it.
    pub fn from_env_with(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let read = |names: &[&str]| {
            names.iter().find_map(|name| {
                env(name)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (v, (*name).to_owned()))
            })
        };
        let pick = |names: &[&str]| -> Result<Option<ProxyUrl>, ConfigError> {
            match read(names) {
                Some((url, origin)) => Ok(Some(checked(&url, &origin)?)),
                None => Ok(None),
            }
        };
        Ok(Self {
            http: pick(&["http_proxy", "HTTP_PROXY"])?,
            https: pick(&["https_proxy", "HTTPS_PROXY"])?,
            no_proxy: read(&["no_proxy", "NO_PROXY"]).map(|(v, _)| v),
        })
    }

    /// Sends https requests through the proxy at `url` (`http://[user:password@]host:port`).
    pub fn with_https_proxy(mut self, url: &str) -> Result<Self, ConfigError> {
        self.https = Some(checked(url, "ProxyConfig::with_https_proxy")?);
        Ok(self)
    }

    /// Sends http requests through the proxy at `url`.
    pub fn with_http_proxy(mut self, url: &str) -> Result<Self, ConfigError> {
        self.http = Some(checked(url, "ProxyConfig::with_http_proxy")?);
        Ok(self)
    }

    /// Hosts reached directly, as in `NO_PROXY`: comma-separated names (a name also
    /// covers its subdomains), IP addresses, CIDR blocks (beyond Python), or `*` — as
    /// the whole list — for all. An entry with a port (`127.0.0.1:4599`,
    /// `kms.example:8443`, `[::1]:4599`) covers that host on that port only, and only in
    /// a URL that writes the port (`https://kms.example` is not covered by
    /// `kms.example:443`), as the AWS CLI's Python (`proxy_bypass_environment`) reads
    /// it.
    pub fn with_no_proxy(mut self, list: &str) -> Self {
        self.no_proxy = Some(list.to_owned());
        self
    }

    /// The proxy `endpoint` goes through, when one does: its URL (password masked) and
    /// where it was configured.
    pub fn for_endpoint(&self, endpoint: &Uri) -> Option<String> {
        self.via(endpoint).map(|via| via.description)
    }

    /// How requests to `endpoint` go through a proxy, when they do.
    pub(crate) fn via(&self, endpoint: &Uri) -> Option<Via> {
        let intercept = self.matcher()?.intercept(endpoint)?;
        let https = endpoint.scheme_str() == Some("https");
        let proxy = if https { &self.https } else { &self.http }.as_ref()?;
        Some(Via {
            description: format!("proxy {} (from {})", proxy.display(), proxy.origin),
            // A tunnel carries the credentials in its CONNECT; forwarded requests carry them.
            forward_authorization: if https {
                None
            } else {
                intercept.basic_auth().cloned()
            },
        })
    }

    fn matcher(&self) -> Option<Proxies> {
        if self.http.is_none() && self.https.is_none() {
            return None;
        }
        let mut builder = Matcher::builder();
        if let Some(p) = &self.http {
            builder = builder.http(p.url.clone());
        }
        if let Some(p) = &self.https {
            builder = builder.https(p.url.clone());
        }
        let mut all = false;
        let mut with_port = Vec::new();
        if let Some(list) = &self.no_proxy {
            // As Python's `proxy_bypass_environment`: `*` is "every host" only as the
            // whole value; in a list it is a name no host has.
            all = list.trim() == "*";
            let mut rest = Vec::new();
            for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                if entry == "*" {
                    continue;
                } else if let Some((host, port)) = split_port(entry) {
                    with_port.push((host.to_ascii_lowercase(), port));
                } else {
                    rest.push(entry);
                }
            }
            builder = builder.no(rest.join(","));
        }
        Some(Proxies {
            matcher: builder.build(),
            all,
            with_port,
        })
    }
}

/// The proxies and the hosts reached directly: hyper-util's matcher, plus what it does
/// not read of `NO_PROXY` — `*` for IP addresses too, and entries with a port.
struct Proxies {
    matcher: Matcher,
    /// `*`: no host goes through a proxy.
    all: bool,
    /// `host:port` entries: the host (lower case, no brackets) and the port.
    with_port: Vec<(String, u16)>,
}

impl Proxies {
    /// The proxy for `dst`, unless `NO_PROXY` covers it.
    fn intercept(&self, dst: &Uri) -> Option<hyper_util::client::proxy::matcher::Intercept> {
        if self.all {
            return None;
        }
        let host = dst.host()?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        // As Python's `proxy_bypass_environment` on botocore's `netloc`: a `host:port`
        // entry is compared with the URL's own port only; `https://kms.example` (no port
        // written) is not covered by `kms.example:443`.
        let covered = dst.port_u16().is_some_and(|port| {
            self.with_port
                .iter()
                .any(|(entry, p)| *p == port && host_covered(host, entry))
        });
        if covered {
            return None;
        }
        self.matcher.intercept(dst)
    }
}

/// `entry` as `host:port` (`[v6]:port` for IPv6), when it names a port.
fn split_port(entry: &str) -> Option<(&str, u16)> {
    if let Some(rest) = entry.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host, port.parse().ok()?));
    }
    let (host, port) = entry.split_once(':')?;
    // `::1` and other bare IPv6 addresses have more than one colon and no port.
    if host.is_empty() || port.contains(':') {
        return None;
    }
    Some((host, port.parse().ok()?))
}

/// Whether a `NO_PROXY` host covers `host`: the same IP address, or the same name or a
/// subdomain of it (a leading dot changes nothing), case aside.
fn host_covered(host: &str, entry: &str) -> bool {
    if let (Ok(a), Ok(b)) = (
        host.parse::<std::net::IpAddr>(),
        entry.parse::<std::net::IpAddr>(),
    ) {
        return a == b;
    }
    let entry = entry.strip_prefix('.').unwrap_or(entry);
    let host = host.to_ascii_lowercase();
    host == entry
        || host
            .strip_suffix(entry)
            .is_some_and(|prefix| prefix.ends_with('.'))
}

/// How requests to an endpoint go through a proxy.
pub(crate) struct Via {
    /// `proxy http://host:port (from HTTPS_PROXY)`, password masked.
    pub(crate) description: String,
    /// The `Proxy-Authorization` each request carries to a forwarding proxy (http
    /// endpoints) with credentials.
    pub(crate) forward_authorization: Option<HeaderValue>,
}

/// `url` as a proxy URL: `http://` is assumed when no scheme is given, as curl does.
fn checked(url: &str, origin: &str) -> Result<ProxyUrl, ConfigError> {
    let url = url.trim();
    let invalid = |reason: &str| ConfigError::InvalidProxy {
        value: ProxyUrl {
            url: url.to_owned(),
            origin: origin.to_owned(),
        }
        .display(),
        origin: origin.to_owned(),
        reason: reason.to_owned(),
    };
    let full = if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    };
    let uri: Uri = full
        .parse()
        .map_err(|_| invalid("it is not a URL such as http://proxy.example:3128"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(other) => {
            return Err(invalid(&format!(
                "{other}:// proxies are not supported; use an http:// proxy (https endpoints \
                 are still encrypted end to end through it)"
            )));
        }
        None => return Err(invalid("it has no scheme")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("it names no host"));
    }
    Ok(ProxyUrl {
        url: full,
        origin: origin.to_owned(),
    })
}

/// A connection, direct or through a proxy: to the endpoint itself, through a
/// `CONNECT` tunnel, or to a forwarding proxy (which hyper then sends absolute-form
/// request targets to).
#[derive(Debug)]
pub(crate) struct ProxyStream {
    io: TokioIo<TcpStream>,
    forwarding: bool,
}

impl Connection for ProxyStream {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.forwarding)
    }
}

impl Read for ProxyStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for ProxyStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The TCP connector with proxies applied.
#[derive(Clone)]
pub(crate) struct ProxyConnector {
    http: HttpConnector,
    matcher: Option<std::sync::Arc<Proxies>>,
}

impl ProxyConnector {
    pub(crate) fn new(http: HttpConnector, proxies: &ProxyConfig) -> Self {
        Self {
            http,
            matcher: proxies.matcher().map(std::sync::Arc::new),
        }
    }
}

impl Service<Uri> for ProxyConnector {
    type Response = ProxyStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<ProxyStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let mut http = self.http.clone();
        let proxy = self.matcher.as_ref().and_then(|m| m.intercept(&dst));
        Box::pin(async move {
            let Some(proxy) = proxy else {
                let io = http.call(dst).await?;
                return Ok(ProxyStream {
                    io,
                    forwarding: false,
                });
            };
            if dst.scheme_str() == Some("https") {
                let mut tunnel = Tunnel::new(proxy.uri().clone(), http);
                if let Some(auth) = proxy.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                std::future::poll_fn(|cx| tunnel.poll_ready(cx)).await?;
                let io = tunnel.call(dst).await?;
                Ok(ProxyStream {
                    io,
                    forwarding: false,
                })
            } else {
                let io = http.call(proxy.uri().clone()).await?;
                Ok(ProxyStream {
                    io,
                    forwarding: true,
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<ProxyConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ProxyConfig::from_env_with(&move |k| vars.get(k).cloned())
    }

    fn uri(text: &str) -> Uri {
        text.parse().unwrap()
    }

    /// A proxy for http and https, and `no_proxy` (`(variable, list)`).
    fn proxied_but(no_proxy: (&str, &str)) -> ProxyConfig {
        config(&[
            ("http_proxy", "http://proxy.example:3128"),
            ("https_proxy", "http://proxy.example:3128"),
            no_proxy,
        ])
        .unwrap()
    }

    /// An IPv4, an IPv6 and a named endpoint.
    const EVERY_KIND_OF_HOST: [&str; 3] = [
        "http://127.0.0.1:4599",
        "http://[::1]:4599",
        "https://kms.us-east-1.amazonaws.com",
    ];

    #[test]
    fn each_scheme_has_its_variable_lower_case_first_and_all_proxy_is_not_read() {
        let c = config(&[
            ("HTTPS_PROXY", "http://upper.example:3128"),
            ("https_proxy", "lower.example:3128"),
            ("ALL_PROXY", "http://all.example:8080"),
        ])
        .unwrap();
        let https = c
            .for_endpoint(&uri("https://kms.us-east-1.amazonaws.com"))
            .unwrap();
        assert_eq!(https, "proxy http://lower.example:3128 (from https_proxy)");
        // as botocore: the proxy of the endpoint's scheme, or none
        assert_eq!(c.for_endpoint(&uri("http://127.0.0.1:4599")), None);
        for all in ["ALL_PROXY", "all_proxy"] {
            assert_eq!(
                config(&[(all, "socks5://127.0.0.1:1080")]).unwrap(),
                ProxyConfig::default()
            );
        }
        assert_eq!(config(&[]).unwrap(), ProxyConfig::default());
        assert_eq!(
            ProxyConfig::default().for_endpoint(&uri("https://x.example")),
            None
        );
    }

    #[test]
    fn no_proxy_names_hosts_reached_directly() {
        let c = config(&[
            ("HTTPS_PROXY", "http://proxy.example:3128"),
            ("HTTP_PROXY", "http://proxy.example:3128"),
            ("NO_PROXY", "127.0.0.1,.internal.example"),
        ])
        .unwrap();
        assert_eq!(c.for_endpoint(&uri("http://127.0.0.1:4599")), None);
        assert_eq!(c.for_endpoint(&uri("https://kms.internal.example")), None);
        assert!(
            c.for_endpoint(&uri("https://kms.us-east-1.amazonaws.com"))
                .is_some()
        );
    }

    #[test]
    fn no_proxy_star_covers_every_host_names_and_addresses_alike() {
        for star in ["*", " * "] {
            let c = proxied_but(("NO_PROXY", star));
            for endpoint in EVERY_KIND_OF_HOST {
                assert_eq!(c.for_endpoint(&uri(endpoint)), None, "{star:?} {endpoint}");
            }
        }
        // As in Python: in a list, `*` is a name no host has.
        let c = proxied_but(("NO_PROXY", "example.com,*"));
        assert_eq!(c.for_endpoint(&uri("https://kms.example.com")), None);
        for endpoint in EVERY_KIND_OF_HOST {
            assert!(c.for_endpoint(&uri(endpoint)).is_some(), "{endpoint}");
        }
    }

    #[test]
    fn no_proxy_entries_with_a_port_cover_that_host_on_that_port() {
        let c = proxied_but((
            "no_proxy",
            "127.0.0.1:4599, .Internal.Example:8443,[::1]:4599,kms.example:443,::2",
        ));
        for direct in [
            "http://127.0.0.1:4599",
            "https://kms.internal.example:8443",
            "https://internal.example:8443",
            "http://[::1]:4599",
            "https://KMS.example:443",
            "http://[::2]:80",
            "http://[::2]",
        ] {
            assert_eq!(c.for_endpoint(&uri(direct)), None, "{direct}");
        }
        for proxied in [
            "http://127.0.0.1:4600",
            "http://127.0.0.2:4599",
            "https://kms.internal.example",
            "https://notinternal.example:8443",
            "http://[::1]:4600",
            "http://kms.example",
            // As in Python: the port is compared only when the URL writes one.
            "https://kms.example",
            "http://127.0.0.1",
        ] {
            assert!(c.for_endpoint(&uri(proxied)).is_some(), "{proxied}");
        }
    }

    #[test]
    fn unusable_proxy_urls_are_refused_without_their_password() {
        let e = config(&[("HTTPS_PROXY", "socks5://user:secret@proxy.example:1080")]).unwrap_err();
        let message = e.to_string();
        assert!(message.contains("HTTPS_PROXY"), "{message}");
        assert!(
            message.contains("socks5:// proxies are not supported"),
            "{message}"
        );
        assert!(!message.contains("secret"), "{message}");
        let e = config(&[("http_proxy", "http://")]).unwrap_err();
        assert!(e.to_string().contains("http_proxy"), "{e}");
        assert!(
            ProxyConfig::default()
                .with_https_proxy("http://a b")
                .is_err()
        );
    }

    /// A proxy written without a scheme and refused is named with its user info masked.
    #[test]
    fn an_invalid_proxy_without_a_scheme_masks_its_user_info() {
        let err = ProxyConfig::default()
            .with_https_proxy("alice:s3cret@bad host")
            .unwrap_err()
            .to_string();
        assert!(err.contains("****@bad host"), "{err}");
        assert!(!err.contains("s3cret") && !err.contains("alice"), "{err}");
    }

    /// User name and password are masked, and so is a token given as the whole user
    /// part (`http://TOKEN@proxy`), as botocore's `mask_proxy_url` does.
    #[test]
    fn debug_masks_the_user_info() {
        for (url, secrets) in [
            (
                "http://alice:s3cret@proxy.example:3128",
                &["alice", "s3cret"][..],
            ),
            (
                "http://alice:s3@cr@t@proxy.example:3128",
                &["alice", "cr@t"][..],
            ),
            (
                "http://PROXYTOKEN123@proxy.example:3128",
                &["PROXYTOKEN123"][..],
            ),
        ] {
            let c = ProxyConfig::default().with_https_proxy(url).unwrap();
            let debug = format!("{c:?}");
            assert!(debug.contains("http://****@proxy.example:3128"), "{debug}");
            for secret in secrets {
                assert!(!debug.contains(secret), "{debug}");
            }
        }
    }
}
