//! Request-level errors and their one JSON shape, `{"error":{"code","message","field"}}`.
//!
//! [`ApiError`] is one enum of causes; each knows its status, its stable code
//! ([`ErrorCode`]) and its message in every language. The message is written in the
//! language of the request's `Accept-Language`, parsed once per request by
//! [`localize`] (the outermost layer of the edge) and read with [`lang`], so no handler
//! or middleware picks a status, a code or a language on its own.

use axum::extract::Request;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mailsetup_shared::api::{ErrorBody, ErrorCode, ErrorDetail, Lang, Text};

tokio::task_local! {
    /// The language of the request being served.
    static LANG: Lang;
}

/// The language of the request being served (English outside a request).
pub fn lang() -> Lang {
    LANG.try_with(|l| *l).unwrap_or_default()
}

/// Reads `Accept-Language` once and serves the request in that language.
pub async fn localize(req: Request, next: Next) -> Response {
    let lang = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Lang::En, Lang::from_accept_language);
    LANG.scope(lang, next.run(req)).await
}

/// Fields that hold secrets: an error about them never quotes the value.
const SECRET_FIELDS: [&str; 5] = [
    "password",
    "access_token",
    "refresh_token",
    "token",
    "client_secret",
];

/// An error that ends a request with a 4xx/5xx status and a JSON body.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// The body or a field is malformed (400 `invalid_request`).
    #[error("{}", message.en)]
    Invalid {
        /// The field at fault.
        field: Option<String>,
        /// What is wrong.
        message: Text,
    },
    /// The body is not JSON (415 `invalid_request`).
    #[error("not JSON")]
    NotJson,
    /// The address is not a mail address (400 `invalid_email`).
    #[error("{}", .0.en)]
    InvalidEmail(Text),
    /// No provider is known for the address's domain (404 `unknown_provider`).
    #[error("no provider for {domain}")]
    UnknownProvider {
        /// The domain, as the user would write it.
        domain: String,
        /// A likely correction of the address.
        suggestion: Option<String>,
    },
    /// The egress policy forbids a target (403 `target_not_allowed`).
    #[error("{}", message.en)]
    TargetNotAllowed {
        /// The field at fault.
        field: String,
        /// Why.
        message: Text,
    },
    /// The page's origin may not use the API (403 `origin_not_allowed`).
    #[error("origin not allowed")]
    OriginNotAllowed,
    /// Too many checks from this client (429 `rate_limited`).
    #[error("rate limited")]
    ClientRateLimited {
        /// Seconds until the next check is accepted.
        retry_after: u64,
    },
    /// Too many refused logins for this account lately (429 `rate_limited`).
    #[error("too many failed logins")]
    TooManyFailedLogins {
        /// Seconds until a check of this account is accepted again.
        retry_after: u64,
    },
    /// All check slots are busy (503 `overloaded`).
    #[error("overloaded")]
    Overloaded,
    /// The body is over [`crate::limits::BODY_LIMIT`] (413 `body_too_large`).
    #[error("body too large")]
    BodyTooLarge,
    /// The body did not arrive in time (408 `timeout`).
    #[error("body timeout")]
    BodyTimeout {
        /// The limit, in seconds.
        secs: f64,
    },
    /// The request took longer than `--request-timeout` (504 `timeout`).
    #[error("request timeout")]
    RequestTimeout,
    /// The shared store (Redis) is unreachable, so checks cannot be counted against the
    /// failed-login guard (503 `store_unavailable`).
    #[error("store unavailable")]
    StoreUnavailable,
    /// No such API route (404 `not_found`).
    #[error("not found")]
    NotFound,
    /// The route exists, the method does not (405 `method_not_allowed`).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Something else the framework refused, with its status.
    #[error("refused with {0}")]
    Refused(StatusCode),
}

impl ApiError {
    /// A 400 `invalid_request` naming the field at fault.
    pub fn invalid(field: impl Into<String>, message: Text) -> Self {
        Self::Invalid {
            field: Some(field.into()),
            message,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Invalid { .. } | Self::InvalidEmail(_) => StatusCode::BAD_REQUEST,
            Self::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::UnknownProvider { .. } | Self::NotFound => StatusCode::NOT_FOUND,
            Self::TargetNotAllowed { .. } | Self::OriginNotAllowed => StatusCode::FORBIDDEN,
            Self::ClientRateLimited { .. } | Self::TooManyFailedLogins { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::Overloaded | Self::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::RequestTimeout => StatusCode::GATEWAY_TIMEOUT,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Refused(status) => *status,
        }
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid { .. } | Self::NotJson => ErrorCode::InvalidRequest,
            Self::InvalidEmail(_) => ErrorCode::InvalidEmail,
            Self::UnknownProvider { .. } => ErrorCode::UnknownProvider,
            Self::TargetNotAllowed { .. } => ErrorCode::TargetNotAllowed,
            Self::OriginNotAllowed => ErrorCode::OriginNotAllowed,
            Self::ClientRateLimited { .. } | Self::TooManyFailedLogins { .. } => {
                ErrorCode::RateLimited
            }
            Self::Overloaded => ErrorCode::Overloaded,
            Self::StoreUnavailable => ErrorCode::StoreUnavailable,
            Self::BodyTooLarge => ErrorCode::BodyTooLarge,
            Self::BodyTimeout { .. } | Self::RequestTimeout => ErrorCode::Timeout,
            Self::NotFound => ErrorCode::NotFound,
            Self::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            Self::Refused(status) if status.is_server_error() => ErrorCode::InternalError,
            Self::Refused(_) => ErrorCode::InvalidRequest,
        }
    }

    /// The field at fault, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => field.as_deref(),
            Self::InvalidEmail(_) | Self::UnknownProvider { .. } => Some("email"),
            Self::TargetNotAllowed { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Seconds the client should wait before trying again, if that is known.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::ClientRateLimited { retry_after } | Self::TooManyFailedLogins { retry_after } => {
                Some((*retry_after).max(1))
            }
            Self::Overloaded => Some(2),
            Self::StoreUnavailable => Some(30),
            _ => None,
        }
    }

    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let t = |en: &str, ru: &str| match lang {
            Lang::En => en.to_owned(),
            Lang::Ru => ru.to_owned(),
        };
        match self {
            Self::Invalid { message, .. }
            | Self::InvalidEmail(message)
            | Self::TargetNotAllowed { message, .. } => message.get(lang).to_owned(),
            Self::NotJson => t(
                "Send the body as JSON with Content-Type: application/json.",
                "Отправьте тело запроса в формате JSON с заголовком Content-Type: application/json.",
            ),
            Self::UnknownProvider { domain, suggestion } => {
                let mut m = match lang {
                    Lang::En => format!(
                        "No provider is known for {domain}; its servers can still be discovered."
                    ),
                    Lang::Ru => format!(
                        "Провайдер для {domain} неизвестен; его серверы ещё можно найти автоматически."
                    ),
                };
                if let Some(fixed) = suggestion {
                    m.push_str(&match lang {
                        Lang::En => format!(" Did you mean {fixed}?"),
                        Lang::Ru => format!(" Может быть, {fixed}?"),
                    });
                }
                m
            }
            Self::OriginNotAllowed => t(
                "This page's origin may not use the mailsetup API. The operator can allow it with --allowed-origin.",
                "Странице с этого адреса нельзя обращаться к API mailsetup. Администратор может разрешить её параметром --allowed-origin.",
            ),
            Self::ClientRateLimited { retry_after } => match lang {
                Lang::En => format!(
                    "Too many checks from your address. Try again in {} s.",
                    retry_after.max(&1)
                ),
                Lang::Ru => format!(
                    "Слишком много проверок с вашего адреса. Повторите через {} с.",
                    retry_after.max(&1)
                ),
            },
            Self::TooManyFailedLogins { retry_after } => {
                let minutes = retry_after.div_ceil(60).max(1);
                match lang {
                    Lang::En => format!(
                        "This account was refused several times in the last minutes. To keep \
                         the provider from locking it, try again in {minutes} min, after \
                         checking the password."
                    ),
                    Lang::Ru => format!(
                        "Сервер несколько раз подряд отказал этой учётной записи. Чтобы \
                         провайдер её не заблокировал, проверьте пароль и повторите через \
                         {minutes} мин."
                    ),
                }
            }
            Self::Overloaded => t(
                "The proxy is busy with other checks. Try again in a few seconds.",
                "Сервис занят другими проверками. Повторите через несколько секунд.",
            ),
            Self::BodyTooLarge => {
                let kib = crate::limits::BODY_LIMIT / 1024;
                match lang {
                    Lang::En => {
                        format!("The request body is too large (the limit is {kib} KiB).")
                    }
                    Lang::Ru => format!("Тело запроса слишком велико (предел {kib} КиБ)."),
                }
            }
            Self::BodyTimeout { secs } => match lang {
                Lang::En => format!("The request body did not arrive within {secs} s."),
                Lang::Ru => format!("Тело запроса не пришло за {secs} с."),
            },
            Self::StoreUnavailable => t(
                "Checks are paused: the proxy cannot reach its shared state (Redis), which keeps \
                 your mailbox from being locked by too many failed logins. Try again in a minute.",
                "Проверки приостановлены: прокси не может связаться со своим общим хранилищем \
                 (Redis), которое защищает ящик от блокировки из-за неудачных входов. Повторите \
                 через минуту.",
            ),
            Self::RequestTimeout => t(
                "The request took too long.",
                "Запрос выполнялся слишком долго.",
            ),
            Self::NotFound => t("No such API route.", "Такого адреса в API нет."),
            Self::MethodNotAllowed => t(
                "This API route does not take this HTTP method.",
                "Этот адрес API не принимает такой HTTP-метод.",
            ),
            Self::Refused(status) if status.is_server_error() => t(
                "The service could not answer this request.",
                "Сервис не смог ответить на этот запрос.",
            ),
            Self::Refused(_) => t(
                "The request could not be read.",
                "Не удалось прочитать запрос.",
            ),
        }
    }

    /// The response in `lang`.
    pub fn into_response_in(self, lang: Lang) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().as_str().to_owned(),
                message: self.message(lang),
                field: self.field().map(str::to_owned),
            },
        };
        let mut res = (self.status(), axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after() {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::BodyTooLarge;
        }
        if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            return Self::NotJson;
        }
        json_error(&rejection.body_text())
    }
}

/// A 400 from serde's words about a body: names the field, never quotes a secret.
fn json_error(text: &str) -> ApiError {
    // axum writes "Failed to deserialize the JSON body into the target type: PATH: DETAIL";
    // syntax errors have no path.
    let detail = text
        .split_once("target type: ")
        .map_or(text, |(_, rest)| rest);
    let (path, what) = match detail.split_once(": ") {
        Some((path, what)) if !path.contains(' ') && path.chars().all(|c| c.is_ascii_graphic()) => {
            (Some(path), what)
        }
        _ => (None, detail),
    };
    let secret = path.is_some_and(|p| {
        let last = p.rsplit('.').next().unwrap_or(p);
        SECRET_FIELDS.contains(&last)
    });
    let (en, ru) = if secret {
        let p = path.unwrap_or("password");
        (
            format!("{p}: must be a string (the value is not shown)."),
            format!("{p}: должно быть строкой (значение не показывается)."),
        )
    } else {
        let p = path.map(|p| format!("{p}: ")).unwrap_or_default();
        (
            format!("The body is not a valid request: {p}{what}"),
            format!("Тело запроса не подходит: {p}{what}"),
        )
    };
    // An unknown field is not a field of the request: nothing to point at.
    let field = path.filter(|_| !what.starts_with("unknown field"));
    ApiError::Invalid {
        field: field.map(str::to_owned),
        message: Text::new(en, ru),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.into_response_in(lang())
    }
}

/// Gives framework-made error responses under `/api/` (405, 404 of the router, hyper's
/// rejections of a body...) the API's one JSON shape. Answers that already have a JSON
/// body pass unchanged.
pub async fn api_error_shape(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return res;
    }
    let err = match status {
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::NOT_FOUND => ApiError::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::BodyTooLarge,
        other => ApiError::Refused(other),
    };
    let mut shaped = err.into_response();
    // Keep what the framework said besides the body (Allow on a 405, CORS...).
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            shaped.headers_mut().insert(name.clone(), value.clone());
        }
    }
    shaped
}

/// `Json<T>` whose rejections are [`ApiError`]s, so malformed JSON gets the same shape.
#[derive(Debug, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_field_is_never_quoted() {
        let text = "Failed to deserialize the JSON body into the target type: password: \
                    invalid type: integer `987654321012`, expected a string at line 1 column 40";
        let err = json_error(text);
        assert_eq!(err.field(), Some("password"));
        for lang in [Lang::En, Lang::Ru] {
            let m = err.message(lang);
            assert!(!m.contains("987654321012"), "{m}");
            assert!(m.contains("password"), "{m}");
        }
        let other = json_error(
            "Failed to deserialize the JSON body into the target type: incoming.port: \
             invalid type: string \"x\", expected u16 at line 1 column 9",
        );
        assert_eq!(other.field(), Some("incoming.port"));
        assert!(other.message(Lang::En).contains("expected u16"));
        let syntax = json_error("Failed to parse the request body as JSON: EOF while parsing");
        assert_eq!(syntax.field(), None);
    }
}
