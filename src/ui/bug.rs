//! A panic is a bug in campaign. The hook says so in two short lines on stderr (with the
//! details a maintainer needs) instead of Rust's message for programmers; `lib::main_run`
//! then exits with status 1. A panic caused by a closed stdout (`| head`) is no bug and no
//! failure: nothing is printed and the exit status stays 0, like every broken pipe.

use std::sync::atomic::{AtomicBool, Ordering};

static BROKEN_PIPE: AtomicBool = AtomicBool::new(false);

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// Whether a panic message comes from writing into a closed pipe.
pub fn is_broken_pipe_message(message: &str) -> bool {
    message.contains("Broken pipe") || message.contains("os error 32")
}

pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = payload_text(info.payload());
        if is_broken_pipe_message(&message) {
            BROKEN_PIPE.store(true, Ordering::SeqCst);
            return;
        }
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        super::error(format!(
            "campaign stopped on a bug, not on something you did: {message}{place}"
        ));
        super::say(
            "  please report it to the campaign maintainers with the command you ran \
             (RUST_BACKTRACE=1 adds where it happened)",
        );
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            super::say(std::backtrace::Backtrace::force_capture().to_string());
        }
    }));
}

/// True once a panic came from a closed pipe (see the module doc).
pub fn panicked_on_broken_pipe() -> bool {
    BROKEN_PIPE.load(Ordering::SeqCst)
}
