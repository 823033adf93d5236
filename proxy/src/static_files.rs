//! The static site: the built front end (`dist/`), with caching that suits it.
//!
//! The release build (`cargo xtask build-web`, like Trunk before it) names the files it
//! builds after their content (`mailsetup-frontend-<hash>_bg.wasm`,
//! `mailsetup-frontend-<hash>.js`, `style-<hash>.css`, the chunk loader `split-<hash>.js`
//! and the later steps' chunks `split_test-<hash>.wasm`, `chunk_7-<hash>.wasm`), so a
//! name never changes meaning:
//! those are served with `Cache-Control: public, max-age=31536000, immutable`, and a
//! missing one is a plain 404 (never `index.html`, which a browser would then keep for a
//! year under the wasm's name). Everything else (`index.html`, `embed.js`, the examples,
//! and `index.html` for unknown paths, so client-side routes work) may change at the same
//! name: `Cache-Control: no-cache` with a validator, so a repeat visit costs one
//! conditional request answered with 304 when nothing changed. The validator is a weak
//! `ETag` from the content's SHA-256 (weak, because compression changes the bytes on the
//! wire) besides tower-http's `Last-Modified`.
//!
//! The files are served compressed as the browser accepts: the release build's own copies
//! (`NAME.br` at brotli 11, `NAME.gz` at gzip 9, written by `cargo xtask build-web`) as they
//! are, else compressed on the way out (brotli or gzip at tower-http's fast level), and
//! marked `nosniff`. A compressed copy has its own `ETag` (`Vary: Accept-Encoding`). A file that cannot be read (a broken deployment) is the project's one
//! error shape, a 500 `internal_error` in the request's language, not an empty 500; a name
//! longer than any file's (over 255 bytes) is not looked up: the page, or a 404 for a
//! content-hashed name, as for any other missing file.

use std::convert::Infallible;
use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::Digest as _;
use tower::ServiceExt as _;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::ApiError;

/// `Cache-Control` of content-hashed files: a year, never revalidated.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` of files that keep their name when they change: always revalidated.
pub const REVALIDATE: &str = "no-cache";

/// Largest revalidated file whose content is hashed for an `ETag`; bigger ones are served
/// with `Last-Modified` only.
const ETAG_MAX_BYTES: usize = 4 * 1024 * 1024;

/// The built front end in `dir`, with the caching described in the module docs.
pub fn site(dir: &Path) -> Router {
    let pages = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(
            ServeFile::new(dir.join("index.html"))
                .precompressed_br()
                .precompressed_gzip(),
        );
    let assets = ServeDir::new(dir).precompressed_br().precompressed_gzip();
    Router::new()
        .fallback(move |req: Request| {
            let (pages, assets) = (pages.clone(), assets.clone());
            async move {
                let path = req.uri().path();
                match (is_content_hashed(path), names_no_file(path)) {
                    (true, false) => immutable(req, assets).await,
                    (true, true) => missing(),
                    (false, false) => revalidated(req, pages).await,
                    // The page, as for any other path that is no file.
                    (false, true) => {
                        let (mut parts, body) = req.into_parts();
                        parts.uri = axum::http::Uri::from_static("/");
                        revalidated(Request::from_parts(parts, body), pages).await
                    }
                }
            }
        })
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // A compressed copy served as it is gets no `Vary` from tower-http, and the file
        // itself (to a browser that accepts no compression) neither: caches must still
        // keep them apart.
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                header::VARY,
                HeaderValue::from_static("accept-encoding"),
            ),
        )
}

/// Whether the last segment of `path` is a file name Trunk derived from the content:
/// `NAME-HASH.EXT` or `NAME-HASH_bg.wasm`, HASH being 8 to 16 lowercase hex digits.
pub fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let Some((stem, ext)) = name.split_once('.') else {
        return false;
    };
    if !matches!(ext, "js" | "wasm" | "css") {
        return false;
    }
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let Some((base, hash)) = stem.rsplit_once('-') else {
        return false;
    };
    !base.is_empty()
        && (8..=16).contains(&hash.len())
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `path` has a segment longer than any file name (255 bytes once decoded), so it
/// names no file. The file system refuses such a name (`ENAMETOOLONG`), which tower-http
/// would answer with a 500, as if the site were broken.
fn names_no_file(path: &str) -> bool {
    // Each `%XX` decodes to one byte: this is the decoded length when every `%` starts an
    // escape, and less otherwise, so a segment it finds over the limit is over it.
    path.split('/').any(|segment| {
        segment
            .len()
            .saturating_sub(2 * segment.matches('%').count())
            > 255
    })
}

/// A content-hashed file that is not there: a 404 no cache keeps.
fn missing() -> Response {
    let mut res = StatusCode::NOT_FOUND.into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A content-hashed file: a year of caching when found, a 404 otherwise.
async fn immutable(req: Request, dir: ServeDir) -> Response {
    let mut res = serve(dir, req).await;
    let cache = if res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED {
        IMMUTABLE
    } else {
        "no-store"
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

/// A file that keeps its name: served whole (conditions and ranges are answered here,
/// once the content, and so its tag, is known), `no-cache`, with an `ETag`.
async fn revalidated(req: Request, dir: ServeDir<ServeFile>) -> Response {
    let (mut parts, body) = req.into_parts();
    let head = parts.method == Method::HEAD;
    if head {
        parts.method = Method::GET;
    }
    let conditions = parts.headers.clone();
    for h in [
        header::IF_NONE_MATCH,
        header::IF_MODIFIED_SINCE,
        header::IF_MATCH,
        header::IF_UNMODIFIED_SINCE,
        header::IF_RANGE,
        header::RANGE,
    ] {
        parts.headers.remove(h);
    }
    let res = serve(dir, Request::from_parts(parts, body)).await;
    let (mut parts, body) = res.into_parts();
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
    let small = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|n| n <= ETAG_MAX_BYTES);
    if parts.status != StatusCode::OK || !small {
        return Response::from_parts(parts, if head { Body::empty() } else { body });
    }
    let bytes = match axum::body::to_bytes(body, ETAG_MAX_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read a static file");
            return internal_error();
        }
    };
    let digest = sha2::Sha256::digest(&bytes);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let etag = format!("W/\"{hex}\"");
    if let Ok(v) = HeaderValue::from_str(&etag) {
        parts.headers.insert(header::ETAG, v);
    }
    if not_modified(&conditions, &etag, parts.headers.get(header::LAST_MODIFIED)) {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        for h in [header::ETAG, header::CACHE_CONTROL, header::LAST_MODIFIED] {
            if let Some(v) = parts.headers.get(&h) {
                res.headers_mut().insert(h, v.clone());
            }
        }
        return res;
    }
    Response::from_parts(
        parts,
        if head {
            Body::empty()
        } else {
            Body::from(bytes)
        },
    )
}

/// Whether the request's validators say the client has this version (RFC 9110 13.2.2:
/// `If-None-Match`, compared weakly, wins over `If-Modified-Since`, which must name
/// exactly the `Last-Modified` a browser was given).
fn not_modified(request: &HeaderMap, etag: &str, last_modified: Option<&HeaderValue>) -> bool {
    let weak = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    if let Some(inm) = request.get(header::IF_NONE_MATCH) {
        let Ok(inm) = inm.to_str() else {
            return false;
        };
        return inm
            .split(',')
            .any(|t| t.trim() == "*" || weak(t) == weak(etag));
    }
    match (request.get(header::IF_MODIFIED_SINCE), last_modified) {
        (Some(since), Some(modified)) => since == modified,
        _ => false,
    }
}

/// Runs tower-http's file service (its error type is `Infallible`).
async fn serve<S>(service: S, req: Request) -> Response
where
    S: tower::Service<Request, Error = Infallible> + Send,
    S::Response: IntoResponse,
    S::Future: Send,
{
    let res = match service.oneshot(req).await {
        Ok(res) => res.into_response(),
        Err(never) => match never {},
    };
    if res.status().is_server_error() {
        // tower-http answers an I/O error other than "not found" with an empty 500.
        tracing::warn!(status = %res.status(), "cannot serve a static file");
        return internal_error();
    }
    res
}

/// A failure of the site itself, in the project's one error shape: 500 `internal_error`.
fn internal_error() -> Response {
    ApiError::Refused(StatusCode::INTERNAL_SERVER_ERROR).into_response()
}

#[cfg(test)]
mod tests;
