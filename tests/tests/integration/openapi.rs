//! The OpenAPI description and the real answers agree: every example request in
//! `/api/v1/openapi.json` is sent to the real proxy and must get the documented status,
//! content type and shape (every documented key present with the same JSON type, the same
//! error code, and a body that parses as the documented type). Examples that need a fault
//! (429, 503 `overloaded`...) must at least parse as the documented type.

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt as _;
use mailsetup_proxy::{AppState, Config};
use mailsetup_shared::api::{CheckResponse, DiscoverResponse, ErrorBody, Health, Provider};
use serde_json::Value;
use tower::ServiceExt as _;

fn dist() -> std::path::PathBuf {
    crate::empty_dist()
}

fn app(redis_down: bool) -> axum::Router {
    let mut c = Config::for_tests(dist());
    c.allow_private_targets = true;
    c.allow_any_port = true;
    if redis_down {
        // Nothing listens on port 1.
        c.redis_url =
            Some(mailsetup_proxy::store::RedisUrl::parse("redis://127.0.0.1:1/").unwrap());
    }
    mailsetup_proxy::app(AppState::new(c).unwrap())
}

async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<&Value>,
) -> (u16, String, String) {
    let mut req = Request::builder().method(method).uri(uri);
    let body = match body {
        Some(b) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let res = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = res.status().as_u16();
    let ctype = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, ctype, String::from_utf8_lossy(&bytes).into_owned())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every key of the documented example is in the real answer with the same JSON type.
fn same_shape(doc: &Value, real: &Value, at: &str) -> Result<(), String> {
    match (doc, real) {
        (Value::Null, _) => Ok(()),
        (Value::Object(d), Value::Object(r)) => {
            for (k, v) in d {
                let rv = r.get(k).ok_or_else(|| format!("{at}.{k} is missing"))?;
                same_shape(v, rv, &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(d), Value::Array(r)) => match (d.first(), r.first()) {
            (Some(a), Some(b)) => same_shape(a, b, &format!("{at}[0]")),
            _ => Ok(()),
        },
        (d, r) if kind(d) == kind(r) => Ok(()),
        (d, r) => Err(format!("{at}: documented {} but got {}", kind(d), kind(r))),
    }
}

/// Whether `value` parses as the documented schema `schema` (a `$ref` or an array of one).
fn parses_as(schema: &Value, value: &Value) -> Result<(), String> {
    let (name, array) = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => (r, false),
        None => match schema["items"]["$ref"].as_str() {
            Some(r) => (r, true),
            None => return Ok(()),
        },
    };
    let name = name.rsplit('/').next().unwrap_or(name);
    let ok = |r: Result<(), serde_json::Error>| r.map_err(|e| format!("not a {name}: {e}"));
    let v = value.clone();
    match (name, array) {
        ("ErrorBody", false) => ok(serde_json::from_value::<ErrorBody>(v).map(drop)),
        ("Health", false) => ok(serde_json::from_value::<Health>(v).map(drop)),
        ("Provider", false) => ok(serde_json::from_value::<Provider>(v).map(drop)),
        ("Provider", true) => ok(serde_json::from_value::<Vec<Provider>>(v).map(drop)),
        ("CheckResponse", false) => ok(serde_json::from_value::<CheckResponse>(v).map(drop)),
        ("DiscoverResponse", false) => ok(serde_json::from_value::<DiscoverResponse>(v).map(drop)),
        ("OAuthProviders", false) => {
            ok(serde_json::from_value::<mailsetup_shared::oauth::OAuthProviders>(v).map(drop))
        }
        other => Err(format!("the test does not know schema {other:?}")),
    }
}

#[tokio::test]
async fn every_example_request_gets_the_documented_answer() {
    let normal = app(false);
    let down = app(true);
    let (status, ctype, text) = send(&normal, "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("application/json"), "{ctype}");
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");

    let mut ran = 0;
    let mut parsed = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = method.to_ascii_uppercase();
            let request_examples = &op["requestBody"]["content"]["application/json"]["examples"];
            let mut ran_here = 0;
            for (status, response) in op["responses"].as_object().unwrap() {
                let status: u16 = status.parse().unwrap();
                let Some(content) = response["content"].as_object() else {
                    continue;
                };
                for (ctype, media) in content {
                    let Some(examples) = media["examples"].as_object() else {
                        continue;
                    };
                    for (name, example) in examples {
                        let value = &example["value"];
                        let what = format!("{method} {path} {status} {name:?}");
                        let json_body = ctype == "application/json";
                        let request_body = request_examples.get(name).map(|e| &e["value"]);
                        let runnable = (method == "GET" && name.starts_with('?'))
                            || (method == "POST" && request_body.is_some());
                        if !runnable {
                            if json_body {
                                parses_as(&media["schema"], value)
                                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                                parsed += 1;
                            }
                            continue;
                        }
                        let fault = value["error"]["code"] == "store_unavailable";
                        let app = if fault { &down } else { &normal };
                        // Path parameters: the one provider id every example uses.
                        let filled = path.replace("{provider}", "gmail");
                        let uri = if method == "GET" {
                            format!("{filled}{name}")
                        } else {
                            filled.clone()
                        };
                        let (got, got_type, text) = send(app, &method, &uri, request_body).await;
                        assert_eq!(got, status, "{what}: {text}");
                        assert!(
                            got_type.starts_with(ctype.as_str()),
                            "{what}: content type {got_type}"
                        );
                        if json_body {
                            let real: Value = serde_json::from_str(&text)
                                .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"));
                            same_shape(value, &real, "$")
                                .unwrap_or_else(|e| panic!("{what}: {e}\n{text}"));
                            parses_as(&media["schema"], &real)
                                .unwrap_or_else(|e| panic!("{what}: {e}"));
                            parses_as(&media["schema"], value)
                                .unwrap_or_else(|e| panic!("{what} (example): {e}"));
                            assert_eq!(real["error"]["code"], value["error"]["code"], "{what}");
                        } else if ctype == "text/html" {
                            // A page (the OAuth callback): the example is a text it shows.
                            let shown = value.as_str().unwrap_or_default();
                            assert!(!shown.is_empty() && text.contains(shown), "{what}: {text}");
                        } else {
                            assert!(text.contains("event: result"), "{what}: {text}");
                        }
                        ran += 1;
                        ran_here += 1;
                    }
                }
            }
            assert!(
                ran_here > 0 || path.ends_with("openapi.json"),
                "{method} {path}: no example request to check"
            );
        }
    }
    eprintln!("{ran} example requests sent, {parsed} fault examples parsed");
    assert!(ran >= 14, "only {ran} example requests ran");
    assert!(parsed >= 8, "only {parsed} fault examples parsed");
}
