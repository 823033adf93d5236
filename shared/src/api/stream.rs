//! `POST /api/v1/check/stream`: the same check as `POST /api/v1/check`, answered with
//! Server-Sent Events so the UI can show steps live. One [`StreamEvent::Step`] event per
//! finished step (data: a [`StepEvent`]), then one [`StreamEvent::Result`] event with the
//! whole [`CheckResponse`](super::CheckResponse).

use serde::{Deserialize, Serialize};

use super::{Side, StepReport};

wire_enum! {
    /// The `event:` name of a Server-Sent Event of the check stream.
    pub enum StreamEvent {
        /// A step has finished (data: [`StepEvent`]).
        Step = "step",
        /// The check has finished (data: the whole `CheckResponse`); the last event.
        Result = "result",
    }
}

/// One finished step of a running check, for live display: the data of a
/// [`StreamEvent::Step`] event, `{"side": "incoming", "step": {StepReport}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepEvent {
    /// Which side the step belongs to.
    pub side: Side,
    /// The step, as it will appear in the final report.
    pub step: StepReport,
}
