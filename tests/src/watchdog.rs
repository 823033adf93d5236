//! The watchdog shells the harness runs its servers under (Dovecot, Postfix, redis-server,
//! nginx): each server runs in the foreground of a small shell whose standard input is a
//! pipe held by the test process, so the server stops however the test process ends.

use std::process::{Child, ChildStdin};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A running watchdog: the shell and our end of its stdin pipe (taken when stopped).
pub type Watchdog = Mutex<Option<(Child, ChildStdin)>>;

/// Stops the server now: closes the pipe, gives the shell `grace` to stop the server and
/// exit, then kills it.
pub fn stop(watchdog: &Watchdog, grace: Duration) {
    let taken = watchdog.lock().ok().and_then(|mut g| g.take());
    if let Some((mut child, stdin)) = taken {
        drop(stdin);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}
