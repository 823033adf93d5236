//! HTTP/1.1 for autoconfig and Autodiscover documents: URLs, redirects and the trace's
//! words, over the proxy's one HTTP client ([`crate::http_client`]: hyper over a connection
//! to an address [`EgressPolicy::check_web`] accepted, TLS verified against the host name,
//! the connect and the handshake each under `STEP_TIMEOUT` per address, head and body
//! bounded). At most two redirects are followed, each checked again (never from HTTPS down
//! to HTTP). hyper does the wire format (status line, headers, chunked and
//! length-delimited bodies) and refuses malformed heads (a bare CR or a control character
//! in a header cannot smuggle text into the next request).
//!
//! [`EgressPolicy::check_web`]: crate::policy::EgressPolicy::check_web

use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header;
use mailsetup_shared::api::Text;

use super::Discoverer;
use crate::http_client::{self, Bodies, Destination, HttpError, Limits};
use crate::i18n;

/// Redirects followed at most.
const MAX_REDIRECTS: usize = 2;
/// How long the TCP connect and the TLS handshake each may take, per address.
const STEP_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest response head accepted (hyper's read buffer; at least 8 KiB).
const MAX_HEADER: usize = 16 * 1024;

/// A fetched document.
#[derive(Debug)]
pub struct Fetched {
    /// The body.
    pub body: Vec<u8>,
    /// The URLs redirected to, in order.
    pub redirects: Vec<String>,
}

/// Why a fetch failed. [`FetchError::text`] is what the trace says.
#[derive(Debug, PartialEq, Eq)]
pub enum FetchError {
    /// The URL (or a redirect's `Location`) has spaces or control characters.
    UnsafeUrl,
    /// Not an `http://` or `https://` URL.
    NotHttp(String),
    /// User info or no host in the URL.
    BadAuthority(String),
    /// A port that is not a number.
    BadPort(String),
    /// The name did not resolve to an address the policy allows.
    Dns(Text),
    /// The host cannot be a TLS server name.
    BadName(Text),
    /// The connection, the TLS handshake or the exchange failed, or the body was too large
    /// (never [`HttpError::Resolve`]: that is [`FetchError::Dns`]).
    Net(HttpError),
    /// A status other than 200 or a redirect.
    Status(u16),
    /// A redirect without a `Location`.
    NoLocation(u16),
    /// More than [`MAX_REDIRECTS`] redirects.
    TooManyRedirects,
    /// A redirect from HTTPS to plain HTTP.
    Downgrade(String),
}

impl FetchError {
    /// The client's failure for `host`, as the trace says it.
    fn from_http(e: HttpError, host: &str) -> Self {
        match e {
            HttpError::Resolve(reason) => Self::Dns(i18n::prefixed(
                &i18n::verbatim(format!("{host}: ")),
                &i18n::dns_reason(&reason),
            )),
            e => Self::Net(e),
        }
    }

    /// The trace's words, in English and Russian.
    pub fn text(&self) -> Text {
        match self {
            Self::UnsafeUrl => Text::new(
                "a URL with spaces or control characters",
                "адрес (URL) с пробелами или управляющими символами",
            ),
            Self::NotHttp(url) => Text::new(
                format!("not an http(s) URL: {url}"),
                format!("это не адрес http(s): {url}"),
            ),
            Self::BadAuthority(url) => Text::new(
                format!("unsupported URL authority: {url}"),
                format!("неподдерживаемая часть адреса с именем сервера: {url}"),
            ),
            Self::BadPort(url) => Text::new(
                format!("bad port in {url}"),
                format!("неверный порт в {url}"),
            ),
            Self::Dns(text) | Self::BadName(text) => text.clone(),
            Self::Net(HttpError::Resolve(reason)) => i18n::dns_reason(reason),
            Self::Net(HttpError::Connect { addr, error }) => Text::new(
                format!("connect to {addr}: {error}"),
                format!("соединение с {addr} не установлено: {error}"),
            ),
            Self::Net(HttpError::Tls { addr, error }) => Text::new(
                format!("{addr}: TLS with {addr}: {error}"),
                format!("{addr}: TLS с {addr} не удался: {error}"),
            ),
            Self::Net(HttpError::Http { addr, error }) => {
                i18n::verbatim(format!("{addr}: HTTP: {error}"))
            }
            Self::Net(HttpError::TooLarge { kib }) => Text::new(
                format!("body larger than {kib} KiB"),
                format!("тело ответа больше {kib} КиБ"),
            ),
            Self::Status(status) => i18n::verbatim(format!("HTTP {status}")),
            Self::NoLocation(status) => Text::new(
                format!("HTTP {status} without Location"),
                format!("HTTP {status} без заголовка Location"),
            ),
            Self::TooManyRedirects => Text::new(
                format!("more than {MAX_REDIRECTS} redirects"),
                format!("больше {MAX_REDIRECTS} перенаправлений"),
            ),
            Self::Downgrade(location) => Text::new(
                format!("refused a redirect from HTTPS to {location}"),
                format!("перенаправление с HTTPS на {location} отклонено"),
            ),
        }
    }
}

/// A URL split into what a GET needs.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Url {
    https: bool,
    host: String,
    port: Option<u16>,
    path: String,
}

fn parse_url(url: &str) -> Result<Url, FetchError> {
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(FetchError::UnsafeUrl);
    }
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(FetchError::NotHttp(url.to_owned()));
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.contains('@') || authority.is_empty() {
        return Err(FetchError::BadAuthority(url.to_owned()));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') && (!h.starts_with('[') || h.ends_with(']')) => {
            let port = p
                .parse::<u16>()
                .map_err(|_| FetchError::BadPort(url.to_owned()))?;
            (h, Some(port))
        }
        _ => (authority, None),
    };
    let path = path.split('#').next().unwrap_or("");
    let path = if path.is_empty() || path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    Ok(Url {
        https,
        host: host.to_ascii_lowercase(),
        port,
        path,
    })
}

/// GETs `url` with a body of at most `max_body` bytes. `port` overrides the URL's port
/// (discovery's configured web ports); redirects use their own URL's port.
pub async fn get(
    d: &Discoverer,
    url: &str,
    port: Option<u16>,
    max_body: usize,
) -> Result<Fetched, FetchError> {
    fetch(d, url, port, max_body, None).await
}

/// POSTs the XML `body` to `url` (redirects are followed with the same POST), like
/// [`get`] otherwise.
pub async fn post_xml(
    d: &Discoverer,
    url: &str,
    port: Option<u16>,
    max_body: usize,
    body: &str,
) -> Result<Fetched, FetchError> {
    fetch(d, url, port, max_body, Some(body)).await
}

async fn fetch(
    d: &Discoverer,
    url: &str,
    port: Option<u16>,
    max_body: usize,
    post: Option<&str>,
) -> Result<Fetched, FetchError> {
    let mut current = parse_url(url)?;
    let mut port_override = port;
    let mut redirects = Vec::new();
    loop {
        let port = port_override
            .or(current.port)
            .unwrap_or(if current.https { 443 } else { 80 });
        let response = once(d, &current, port, max_body, post).await?;
        match response.status {
            200 => {
                return Ok(Fetched {
                    body: response.body,
                    redirects,
                });
            }
            301 | 302 | 303 | 307 | 308 => {
                let location = response
                    .location
                    .ok_or(FetchError::NoLocation(response.status))?;
                if redirects.len() >= MAX_REDIRECTS {
                    return Err(FetchError::TooManyRedirects);
                }
                let next = if location.starts_with('/') {
                    if location
                        .chars()
                        .any(|c| c.is_control() || c.is_whitespace())
                    {
                        return Err(FetchError::UnsafeUrl);
                    }
                    Url {
                        path: location.clone(),
                        ..current.clone()
                    }
                } else {
                    parse_url(&location)?
                };
                if current.https && !next.https {
                    return Err(FetchError::Downgrade(location));
                }
                let shown = format!(
                    "{}://{}{}{}",
                    if next.https { "https" } else { "http" },
                    next.host,
                    next.port.map(|p| format!(":{p}")).unwrap_or_default(),
                    next.path
                );
                redirects.push(shown);
                // A redirect to the same host keeps the configured port.
                if next.host != current.host || next.port.is_some() {
                    port_override = None;
                }
                current = next;
            }
            s => return Err(FetchError::Status(s)),
        }
    }
}

/// A response as discovery needs it: the body only for 200.
#[derive(Debug)]
struct Response {
    status: u16,
    location: Option<String>,
    body: Vec<u8>,
}

async fn once(
    d: &Discoverer,
    url: &Url,
    port: u16,
    max_body: usize,
    post: Option<&str>,
) -> Result<Response, FetchError> {
    let tls = if url.https {
        let name = super::tls::server_name(&url.host).map_err(FetchError::BadName)?;
        Some((d.tls.strict.clone(), name))
    } else {
        None
    };
    let to = Destination {
        host: url.host.clone(),
        port,
        tls,
    };
    let policy = d.policy;
    let answer = http_client::send(
        &d.resolver,
        |a| policy.check_web(a),
        &to,
        request(url, post),
        &limits(max_body),
    )
    .await
    .map_err(|e| FetchError::from_http(e, &url.host))?;
    response(answer)
}

/// The client's bounds for a document of at most `max_body` bytes.
fn limits(max_body: usize) -> Limits {
    Limits {
        connect: STEP_TIMEOUT,
        handshake: STEP_TIMEOUT,
        max_head: MAX_HEADER,
        max_body,
        bodies: Bodies::OnlyOk,
    }
}

/// What discovery keeps of a response: a `Location` that is not text is an unsafe URL.
fn response(answer: http_client::Response) -> Result<Response, FetchError> {
    let location = match answer.headers.get(header::LOCATION) {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| FetchError::UnsafeUrl)?.to_owned()),
    };
    Ok(Response {
        status: answer.status,
        location,
        body: answer.body.to_vec(),
    })
}

/// The GET (or the XML POST) for `url`.
fn request(url: &Url, post: Option<&str>) -> hyper::Request<Full<Bytes>> {
    let host = match url.port {
        Some(p) => format!("{}:{p}", url.host),
        None => url.host.clone(),
    };
    let builder = hyper::Request::builder()
        .uri(url.path.as_str())
        .header(header::HOST, host)
        .header(header::USER_AGENT, "mailsetup-discover")
        .header(header::ACCEPT, "application/xml, text/xml, */*")
        .header(header::CONNECTION, "close");
    let built = match post {
        Some(body) => builder
            .method(hyper::Method::POST)
            .header(header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .body(Full::new(Bytes::from(body.to_owned()))),
        None => builder.body(Full::new(Bytes::new())),
    };
    // The path passed parse_url's checks (no spaces, no control characters), which are
    // stricter than a request target's; an unexpected refusal sends "/" instead.
    built.unwrap_or_else(|_| hyper::Request::new(Full::new(Bytes::new())))
}

#[cfg(test)]
mod tests;
