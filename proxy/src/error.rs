//! Request-level errors and their one JSON shape, `{"error":{"code","message","field"}}`.

use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mailsetup_shared::api::{ErrorBody, ErrorDetail};

/// An error that ends a request with a 4xx/5xx status and a JSON body.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body or a field is malformed (400 `invalid_request`).
    #[error("{message}")]
    InvalidRequest {
        /// What is wrong.
        message: String,
        /// The field at fault.
        field: Option<String>,
    },
    /// Any other error with its own status and code.
    #[error("{message}")]
    Other {
        /// HTTP status.
        status: StatusCode,
        /// Stable code.
        code: &'static str,
        /// What is wrong.
        message: String,
        /// The field at fault.
        field: Option<String>,
    },
}

impl ApiError {
    /// A 400 `invalid_request` naming the field at fault.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidRequest {
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// An error with its own status and stable code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::Other {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// 413 `body_too_large`: the body is over the proxy's limit.
    pub fn body_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!(
                "The request body is too large (the limit is {} KiB).",
                crate::middleware::BODY_LIMIT / 1024
            ),
        )
    }

    /// Adds the field at fault.
    #[must_use]
    pub fn with_field(mut self, f: impl Into<String>) -> Self {
        match &mut self {
            Self::InvalidRequest { field, .. } | Self::Other { field, .. } => {
                *field = Some(f.into());
            }
        }
        self
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let message = rejection.body_text();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::body_too_large();
        }
        if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            return Self::new(
                status,
                "invalid_request",
                "Send the body as JSON with Content-Type: application/json.",
            );
        }
        Self::InvalidRequest {
            message,
            field: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, field) = match self {
            Self::InvalidRequest { message, field } => {
                (StatusCode::BAD_REQUEST, "invalid_request", message, field)
            }
            Self::Other {
                status,
                code,
                message,
                field,
            } => (status, code, message, field),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message,
                field,
            },
        };
        (status, axum::Json(body)).into_response()
    }
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
