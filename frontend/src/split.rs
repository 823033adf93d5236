//! Split functions: what the release build moves out of the first screen's module.
//!
//! `cargo xtask build-web` compiles with `--cfg mailsetup_split`, and
//! `wasm_split_cli_support` moves every function declared with [`split!`], and everything
//! only such functions reach (code and data), into one chunk, `split_later-HASH.wasm`,
//! fetched when the browser is idle after the first step shows (`later::prefetch`). Calling
//! a split function first loads that chunk, so it is `async` and can fail ([`Unloaded`]:
//! the network dropped before the chunk came; a later call fetches again).
//!
//! What goes there: the later steps' views (`later.rs`), and the decoding of JSON (the
//! proxy's answers, the saved state, the sign-in's result), which is the largest part of
//! the front end after the framework; the first screen only moves text in and out.
//!
//! Without the cfg (`trunk serve`, `cargo xtask build-web --dev`, clippy, native tests) a
//! split function is a plain `async fn` that is ready at once, so one code path serves both.
//!
//! A split function crosses into its chunk through an `extern "C"` import, hence `unsafe`
//! in the expansion of `wasm_split` (allowed on the generated items only; the front end's
//! lints deny `unsafe_code` instead of forbidding it for this).

use std::future::Future;
use std::pin::Pin;

/// The chunk could not be fetched or instantiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unloaded;

impl From<leptos::wasm_split::SplitLoaderError> for Unloaded {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Self
    }
}

/// Work a split function starts: split functions cannot be `async` themselves, so one that
/// waits (a request) hands back its future, whose code is in the chunk too.
pub type Task<T> = Pin<Box<dyn Future<Output = T>>>;

/// Declares a split function: `split! { fn name(args) -> T, preload load_name { body } }`
/// becomes `async fn name(args) -> Result<T, Unloaded>`, whose body runs in the chunk, and
/// `async fn load_name() -> Result<(), SplitLoaderError>`, which only loads it.
/// Arguments and results cross as they are (one compilation, one memory); they must not
/// be generic.
macro_rules! split {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty, preload $pre:ident
        $body:block
    ) => {
        $(#[$meta])*
        #[cfg(mailsetup_split)]
        #[allow(unsafe_code)]
        #[::leptos::wasm_split::wasm_split(
            later,
            fallible,
            wasm_split_path = ::leptos::wasm_split,
            preload(#[allow(unsafe_code, dead_code)] $pre)
        )]
        $vis fn $name($($arg: $ty),*) -> ::core::result::Result<$ret, $crate::split::Unloaded> {
            ::core::result::Result::Ok($body)
        }

        $(#[$meta])*
        #[cfg(not(mailsetup_split))]
        $vis async fn $name(
            $($arg: $ty),*
        ) -> ::core::result::Result<$ret, $crate::split::Unloaded> {
            ::core::result::Result::Ok($body)
        }

        #[cfg(not(mailsetup_split))]
        #[allow(dead_code)]
        $vis async fn $pre() -> ::core::result::Result<(), ::leptos::wasm_split::SplitLoaderError> {
            ::core::result::Result::Ok(())
        }
    };
}

pub(crate) use split;
