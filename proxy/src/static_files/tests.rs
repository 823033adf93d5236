//! The static site's answers: caching, validators, compressed copies, broken files.

#![allow(clippy::unwrap_used)]

use super::*;

#[test]
fn trunk_names_are_content_hashed_and_others_not() {
    for hashed in [
        "/mailsetup-frontend-5f0c2a9e1b7d3c44_bg.wasm",
        "/mailsetup-frontend-5f0c2a9e1b7d3c44.js",
        "/style-0a1b2c3d4e5f6071.css",
        "/sub/app-deadbeef.js",
    ] {
        assert!(is_content_hashed(hashed), "{hashed}");
    }
    for plain in [
        "/",
        "/index.html",
        "/embed.js",
        "/examples/host.html",
        "/style.css",
        "/mailsetup-frontend.js",
        "/x-5F0C2A9E1B7D3C44.js",
        "/x-abc.js",
        "/-5f0c2a9e1b7d3c44.js",
        "/x-5f0c2a9e1b7d3c44.html",
        "/x-5f0c2a9e1b7d3c44f00d.js",
    ] {
        assert!(!is_content_hashed(plain), "{plain}");
    }
}

#[test]
fn validators_follow_rfc_9110() {
    let lm = HeaderValue::from_static("Wed, 02 Dec 2026 15:00:00 GMT");
    let mut h = HeaderMap::new();
    assert!(!not_modified(&h, "W/\"ab\"", Some(&lm)));
    h.insert(header::IF_MODIFIED_SINCE, lm.clone());
    assert!(not_modified(&h, "W/\"ab\"", Some(&lm)));
    h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"cd\""));
    assert!(!not_modified(&h, "W/\"ab\"", Some(&lm)), "ETag wins");
    h.insert(
        header::IF_NONE_MATCH,
        HeaderValue::from_static("\"x\", \"ab\""),
    );
    assert!(not_modified(&h, "W/\"ab\"", Some(&lm)));
    h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
    assert!(not_modified(&h, "W/\"ab\"", None));
}

/// A `dist/` like Trunk's in a fresh temporary folder.
fn dist() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("mailsetup-dist-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<!DOCTYPE html><p>wizard</p>").unwrap();
    std::fs::write(dir.join("embed.js"), "/* loader */").unwrap();
    std::fs::write(dir.join("app-0123456789abcdef_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.join("style-0123456789abcdef.css"), "p{}").unwrap();
    dir
}

async fn get(
    dir: &Path,
    method: Method,
    path: &str,
    headers: &[(header::HeaderName, &str)],
) -> Response {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(k, *v);
    }
    site(dir)
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn text(res: Response) -> String {
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn h(res: &Response, name: header::HeaderName) -> &str {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn hashed_files_are_immutable_and_never_fall_back_to_the_page() {
    let dir = dist();
    let res = get(&dir, Method::GET, "/app-0123456789abcdef_bg.wasm", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(h(&res, header::CACHE_CONTROL), IMMUTABLE);
    assert_eq!(h(&res, header::CONTENT_TYPE), "application/wasm");
    assert_eq!(h(&res, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    let res = get(&dir, Method::GET, "/style-0123456789abcdef.css", &[]).await;
    assert_eq!(h(&res, header::CACHE_CONTROL), IMMUTABLE);
    let res = get(&dir, Method::GET, "/app-fedcba9876543210_bg.wasm", &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(h(&res, header::CACHE_CONTROL), "no-store");
    assert!(!text(res).await.contains("wizard"));
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn pages_are_revalidated_with_an_etag_and_last_modified() {
    let dir = dist();
    for path in ["/", "/index.html", "/some/route"] {
        let res = get(&dir, Method::GET, path, &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(h(&res, header::CACHE_CONTROL), REVALIDATE, "{path}");
        assert!(h(&res, header::ETAG).starts_with("W/\""), "{path}");
        assert!(!h(&res, header::LAST_MODIFIED).is_empty(), "{path}");
        assert!(text(res).await.contains("wizard"), "{path}");
    }
    let res = get(&dir, Method::GET, "/", &[]).await;
    let etag = h(&res, header::ETAG).to_owned();
    let modified = h(&res, header::LAST_MODIFIED).to_owned();
    let res = get(&dir, Method::GET, "/", &[(header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(h(&res, header::ETAG), etag);
    assert_eq!(h(&res, header::CACHE_CONTROL), REVALIDATE);
    assert!(text(res).await.is_empty());
    let res = get(
        &dir,
        Method::GET,
        "/",
        &[(header::IF_MODIFIED_SINCE, &modified)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = get(&dir, Method::HEAD, "/", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(h(&res, header::ETAG), etag);
    assert!(text(res).await.is_empty());

    let res = get(&dir, Method::GET, "/embed.js", &[]).await;
    assert_eq!(h(&res, header::CACHE_CONTROL), REVALIDATE);
    let js_tag = h(&res, header::ETAG).to_owned();
    assert_ne!(js_tag, etag);
    assert!(text(res).await.contains("loader"));

    // A new build of the page gets a new tag, so the old one no longer matches.
    std::fs::write(dir.join("index.html"), "<!DOCTYPE html><p>wizard v2</p>").unwrap();
    let res = get(&dir, Method::GET, "/", &[(header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_ne!(h(&res, header::ETAG), etag);
    assert!(text(res).await.contains("v2"));
    std::fs::remove_dir_all(dir).ok();
}

/// The build's compressed copies are served as they are to a browser that accepts them
/// (never compressed again), the file itself to one that does not; each with its own
/// validator, and the immutable caching unchanged.
#[tokio::test]
async fn the_builds_compressed_copies_are_served_as_they_are() {
    let dir = dist();
    std::fs::write(dir.join("app-0123456789abcdef_bg.wasm.br"), b"BROTLI COPY").unwrap();
    std::fs::write(dir.join("index.html.gz"), b"GZIP COPY").unwrap();
    let br = [(header::ACCEPT_ENCODING, "gzip, deflate, br")];
    let res = get(&dir, Method::GET, "/app-0123456789abcdef_bg.wasm", &br).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(h(&res, header::CONTENT_ENCODING), "br");
    assert_eq!(h(&res, header::CACHE_CONTROL), IMMUTABLE);
    assert_eq!(h(&res, header::CONTENT_TYPE), "application/wasm");
    assert!(
        h(&res, header::VARY)
            .to_ascii_lowercase()
            .contains("accept-encoding")
    );
    assert_eq!(text(res).await, "BROTLI COPY");
    let res = get(&dir, Method::GET, "/app-0123456789abcdef_bg.wasm", &[]).await;
    assert_eq!(h(&res, header::CONTENT_ENCODING), "");
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"\0asm\x01\0\0\0");
    // The page: the gzip copy (no brotli copy here), with a validator of its own.
    let gz = [(header::ACCEPT_ENCODING, "gzip")];
    for path in ["/", "/index.html", "/some/route"] {
        let res = get(&dir, Method::GET, path, &gz).await;
        assert_eq!(h(&res, header::CONTENT_ENCODING), "gzip", "{path}");
        assert_eq!(h(&res, header::CACHE_CONTROL), REVALIDATE, "{path}");
        assert_eq!(h(&res, header::CONTENT_TYPE), "text/html", "{path}");
        let etag = h(&res, header::ETAG).to_owned();
        assert_eq!(text(res).await, "GZIP COPY", "{path}");
        let plain = get(&dir, Method::GET, path, &[]).await;
        assert_ne!(h(&plain, header::ETAG), etag, "{path}");
        let again = get(
            &dir,
            Method::GET,
            path,
            &[
                (header::ACCEPT_ENCODING, "gzip"),
                (header::IF_NONE_MATCH, &etag),
            ],
        )
        .await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
    }
    std::fs::remove_dir_all(dir).ok();
}

/// A name longer than the file system takes is no file: the page for a route, a 404
/// for a content-hashed name, never the 500 of a broken site.
#[tokio::test]
async fn overlong_names_are_not_found_not_a_broken_site() {
    let dir = dist();
    let long = "a".repeat(300);
    let escaped = "%41".repeat(300);
    for path in [
        format!("/{long}"),
        format!("/x/{long}/y"),
        format!("/{escaped}"),
    ] {
        let res = get(&dir, Method::GET, &path, &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert!(text(res).await.contains("wizard"), "{path}");
    }
    let path = format!("/{long}-0123456789abcdef.js");
    let res = get(&dir, Method::GET, &path, &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(h(&res, header::CACHE_CONTROL), "no-store");
    // A name of 255 bytes is still looked up (and here not found: the page).
    let res = get(&dir, Method::GET, &format!("/{}", "b".repeat(255)), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(names_no_file(&format!("/{}", "b".repeat(256))));
    assert!(!names_no_file(&format!("/{}", "%41".repeat(85))));
    std::fs::remove_dir_all(dir).ok();
}

/// A file the site cannot read (here a symbolic link to itself: a broken deployment)
/// is a 500 in the one error shape, never an empty answer or another file.
#[tokio::test]
async fn an_unreadable_file_is_an_internal_error_in_the_one_shape() {
    let dir = dist();
    std::os::unix::fs::symlink("loop.html", dir.join("loop.html")).unwrap();
    std::os::unix::fs::symlink(
        "loop-0123456789abcdef.js",
        dir.join("loop-0123456789abcdef.js"),
    )
    .unwrap();
    for path in ["/loop.html", "/loop-0123456789abcdef.js"] {
        let res = get(&dir, Method::GET, path, &[]).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        assert!(
            h(&res, header::CONTENT_TYPE).starts_with("application/json"),
            "{path}"
        );
        assert_ne!(h(&res, header::CACHE_CONTROL), IMMUTABLE, "{path}");
        let body: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
        assert_eq!(body["error"]["code"], "internal_error", "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{path}: {body}"
        );
    }
    std::fs::remove_dir_all(dir).ok();
}
