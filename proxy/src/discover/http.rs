//! A small HTTP/1.1 GET client for autoconfig documents: resolves once through discovery's
//! resolver, checks each address with [`EgressPolicy::check_web`], connects to exactly that
//! address (TLS verified against the host name), bounds the body, decodes chunked bodies,
//! and follows at most two redirects, each checked again (never from HTTPS down to HTTP).
//!
//! [`EgressPolicy::check_web`]: crate::policy::EgressPolicy::check_web

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;

use mailsetup_shared::api::Text;

use super::Discoverer;
use crate::i18n;

/// Redirects followed at most.
const MAX_REDIRECTS: usize = 2;
/// The largest header block accepted.
const MAX_HEADER: usize = 16 * 1024;

/// A fetched document.
#[derive(Debug)]
pub struct Fetched {
    /// The body.
    pub body: Vec<u8>,
    /// The URLs redirected to, in order.
    pub redirects: Vec<String>,
}

/// A URL split into what a GET needs.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Url {
    https: bool,
    host: String,
    port: Option<u16>,
    path: String,
}

fn parse_url(url: &str) -> Result<Url, Text> {
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Text::new(
            "a URL with spaces or control characters",
            "адрес (URL) с пробелами или управляющими символами",
        ));
    }
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(Text::new(
            format!("not an http(s) URL: {url}"),
            format!("это не адрес http(s): {url}"),
        ));
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.contains('@') || authority.is_empty() {
        return Err(Text::new(
            format!("unsupported URL authority: {url}"),
            format!("неподдерживаемая часть адреса с именем сервера: {url}"),
        ));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') && (!h.starts_with('[') || h.ends_with(']')) => {
            let port = p.parse::<u16>().map_err(|_| {
                Text::new(
                    format!("bad port in {url}"),
                    format!("неверный порт в {url}"),
                )
            })?;
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
) -> Result<Fetched, Text> {
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
) -> Result<Fetched, Text> {
    fetch(d, url, port, max_body, Some(body)).await
}

async fn fetch(
    d: &Discoverer,
    url: &str,
    port: Option<u16>,
    max_body: usize,
    post: Option<&str>,
) -> Result<Fetched, Text> {
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
                let status = response.status;
                let location = response.location.ok_or_else(|| {
                    Text::new(
                        format!("HTTP {status} without Location"),
                        format!("HTTP {status} без заголовка Location"),
                    )
                })?;
                if redirects.len() >= MAX_REDIRECTS {
                    return Err(Text::new(
                        format!("more than {MAX_REDIRECTS} redirects"),
                        format!("больше {MAX_REDIRECTS} перенаправлений"),
                    ));
                }
                let next = if location.starts_with('/') {
                    Url {
                        path: location.clone(),
                        ..current.clone()
                    }
                } else {
                    parse_url(&location)?
                };
                if current.https && !next.https {
                    return Err(Text::new(
                        format!("refused a redirect from HTTPS to {location}"),
                        format!("перенаправление с HTTPS на {location} отклонено"),
                    ));
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
            s => return Err(i18n::verbatim(format!("HTTP {s}"))),
        }
    }
}

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
) -> Result<Response, Text> {
    let policy = d.policy;
    let addrs = d
        .resolver
        .resolve_checked(&url.host, port, |a| policy.check_web(a))
        .await
        .map_err(|e| {
            i18n::prefixed(
                &i18n::verbatim(format!("{}: ", url.host)),
                &i18n::dns_reason(&e),
            )
        })?;
    let mut last = Text::default();
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                let host_header = match url.port {
                    Some(p) => format!("{}:{p}", url.host),
                    None => url.host.clone(),
                };
                let (verb, extra, body) = match post {
                    Some(b) => (
                        "POST",
                        format!(
                            "Content-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n",
                            b.len()
                        ),
                        b,
                    ),
                    None => ("GET", String::new(), ""),
                };
                let request = format!(
                    "{verb} {} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: mailsetup-discover\r\n\
                     Accept: application/xml, text/xml, */*\r\n{extra}Connection: close\r\n\r\n{body}",
                    url.path
                );
                return if url.https {
                    let connector = tokio_rustls::TlsConnector::from(d.tls.strict.clone());
                    let name = super::tls::server_name(&url.host)?;
                    let tls = connector.connect(name, tcp).await.map_err(|e| {
                        Text::new(
                            format!("TLS with {addr}: {e}"),
                            format!("TLS с {addr} не удался: {e}"),
                        )
                    })?;
                    exchange(tls, &request, max_body).await
                } else {
                    exchange(tcp, &request, max_body).await
                }
                .map_err(|e| i18n::prefixed(&i18n::verbatim(format!("{addr}: ")), &e));
            }
            Err(e) => {
                last = Text::new(
                    format!("connect to {addr}: {e}"),
                    format!("соединение с {addr} не установлено: {e}"),
                );
            }
        }
    }
    Err(last)
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: &str,
    max_body: usize,
) -> Result<Response, Text> {
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| Text::new(format!("send: {e}"), format!("отправка: {e}")))?;
    let limit = MAX_HEADER + max_body + 64 * 1024;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(&buf[..n]);
                if raw.len() > limit {
                    return Err(too_large(max_body));
                }
                if complete(&raw) == Some(true) {
                    break;
                }
            }
            // A server that closes without TLS close_notify: judge what arrived.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(Text::new(format!("receive: {e}"), format!("приём: {e}"))),
        }
    }
    parse_response(&raw, max_body)
}

/// Whether the response in `raw` is complete (by Content-Length), if that can be told.
fn complete(raw: &[u8]) -> Option<bool> {
    let end = find(raw, b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let len = header(head, "content-length")?.parse::<usize>().ok()?;
    Some(raw.len() >= end + 4 + len)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// "body larger than N KiB".
fn too_large(max_body: usize) -> Text {
    let kib = max_body / 1024;
    Text::new(
        format!("body larger than {kib} KiB"),
        format!("тело ответа больше {kib} КиБ"),
    )
}

fn parse_response(raw: &[u8], max_body: usize) -> Result<Response, Text> {
    let end = find(raw, b"\r\n\r\n").ok_or_else(|| {
        if raw.is_empty() {
            Text::new("empty response", "пустой ответ")
        } else {
            Text::new("not an HTTP response", "это не ответ HTTP")
        }
    })?;
    if end > MAX_HEADER {
        return Err(Text::new(
            "HTTP header too large",
            "заголовок HTTP слишком велик",
        ));
    }
    let head = std::str::from_utf8(&raw[..end])
        .map_err(|_| Text::new("HTTP header not text", "заголовок HTTP — не текст"))?;
    // Lines end in CRLF (or LF); a CR or any other control character inside a line could
    // smuggle text into the next request line (a redirect's Location), so it ends here.
    if head.split('\n').any(|l| {
        l.trim_end_matches('\r')
            .chars()
            .any(|c| c.is_control() && c != '\t')
    }) {
        return Err(Text::new(
            "malformed HTTP header (control character in a line)",
            "испорченный заголовок HTTP (управляющий символ в строке)",
        ));
    }
    let status_line = head.lines().next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(Text::new(
            "not an HTTP/1.x response",
            "это не ответ HTTP/1.x",
        ));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| Text::new("bad HTTP status line", "неверная строка статуса HTTP"))?;
    let location = header(head, "location").map(str::to_owned);
    let mut body = raw[end + 4..].to_vec();
    if header(head, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body)?;
    } else if let Some(len) = header(head, "content-length").and_then(|v| v.parse::<usize>().ok()) {
        if body.len() < len {
            return Err(Text::new("response ended early", "ответ оборвался"));
        }
        body.truncate(len);
    }
    if body.len() > max_body {
        return Err(too_large(max_body));
    }
    Ok(Response {
        status,
        location,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, Text> {
    let bad = || Text::new("bad chunked body", "испорченное тело ответа (chunked)");
    let early = || {
        Text::new(
            "chunked body ended early",
            "тело ответа (chunked) оборвалось",
        )
    };
    let mut out = Vec::new();
    loop {
        let line_end = find(data, b"\r\n").ok_or_else(bad)?;
        let size_text = std::str::from_utf8(&data[..line_end]).map_err(|_| bad())?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| bad())?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size {
            return Err(early());
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).ok_or_else(early)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("https://Autoconfig.Example.com/mail/config-v1.1.xml?emailaddress=a%40b")
            .unwrap();
        assert_eq!(
            u,
            Url {
                https: true,
                host: "autoconfig.example.com".to_owned(),
                port: None,
                path: "/mail/config-v1.1.xml?emailaddress=a%40b".to_owned()
            }
        );
        let u = parse_url("http://127.0.0.1:8080?x").unwrap();
        assert_eq!((u.port, u.path.as_str()), (Some(8080), "/?x"));
        let u = parse_url("https://[::1]:8443/v1.1/").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("[::1]", Some(8443)));
        assert!(parse_url("ftp://x/").is_err());
        assert!(parse_url("https://user@x/").is_err());
    }

    #[test]
    fn responses() {
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello extra",
            100,
        )
        .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
            100,
        )
        .unwrap();
        assert_eq!(r.body, b"abcde");
        let r = parse_response(b"HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n", 100).unwrap();
        assert_eq!((r.status, r.location.as_deref()), (302, Some("/x")));
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n\r\n0123456789", 5).is_err());
        assert!(parse_response(b"SSH-2.0-OpenSSH\r\n", 5).is_err());
        // A bare CR inside a header value would reach the next request line.
        let smuggled = b"HTTP/1.1 302 Found\r\nLocation: /x\rHost: evil\r\n\r\n";
        assert!(parse_response(smuggled, 100).is_err());
        assert!(parse_response(b"HTTP/1.1 302 Found\r\nLocation: /x\x00y\r\n\r\n", 100).is_err());
        assert!(parse_url("https://a.example/x\ry").is_err());
        assert!(parse_url("https://a.example/x y").is_err());
        assert!(complete(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab") == Some(true));
    }
}
