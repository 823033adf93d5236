//! Request-level errors: every 4xx/5xx answer is `{"error": {"code", "message", "field"}}`.

use serde::{Deserialize, Serialize};

wire_enum! {
    /// The stable code of a request-level error (`ErrorDetail.code`). A product
    /// contract: extend, never rename.
    pub enum ErrorCode {
        /// The body or a field is malformed.
        InvalidRequest = "invalid_request",
        /// The address is not a mail address.
        InvalidEmail = "invalid_email",
        /// No provider is known for the address's domain.
        UnknownProvider = "unknown_provider",
        /// The egress policy forbids the target.
        TargetNotAllowed = "target_not_allowed",
        /// The page's origin may not use the API.
        OriginNotAllowed = "origin_not_allowed",
        /// Too many requests from this client, or failed logins for this account.
        RateLimited = "rate_limited",
        /// Every check slot is busy.
        Overloaded = "overloaded",
        /// The body is over the limit.
        BodyTooLarge = "body_too_large",
        /// The body or the whole request took too long.
        Timeout = "timeout",
        /// No such API route.
        NotFound = "not_found",
        /// The route does not take this method.
        MethodNotAllowed = "method_not_allowed",
        /// The service failed to answer.
        InternalError = "internal_error",
        /// Checks are paused: the shared state (Redis) cannot be reached.
        StoreUnavailable = "store_unavailable",
    }
}

/// The one shape of every request-level error: `{"error": {...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_request`, `invalid_email`,
    /// `unknown_provider`, `target_not_allowed`, `rate_limited`, `overloaded`,
    /// `store_unavailable` (an [`ErrorCode`]'s name). A string, not an [`ErrorCode`], so
    /// a client built before a code was added still reads the body.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// The request field at fault, when there is one (`"incoming.port"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
