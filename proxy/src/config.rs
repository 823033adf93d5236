//! The proxy's configuration: command-line flags, each also readable from an environment
//! variable `MAILSETUP_<NAME>`. These flag names are a contract with operators.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Command-line and environment configuration.
#[derive(Clone, Debug, clap::Parser)]
#[command(
    name = "mailsetup-proxy",
    version,
    about = "Serves the mailsetup wizard and checks mail servers for it."
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "MAILSETUP_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Folder with the built front end (Trunk's dist/).
    #[arg(long, env = "MAILSETUP_STATIC_DIR", default_value_os_t = default_static_dir())]
    pub static_dir: PathBuf,
}

impl Config {
    /// A configuration for tests: every default, static files from `dir`.
    pub fn for_tests(static_dir: impl Into<PathBuf>) -> Self {
        use clap::Parser as _;
        let mut c = Self::parse_from(["mailsetup-proxy"]);
        c.static_dir = static_dir.into();
        c
    }
}

/// The workspace's `dist/` folder, where `trunk build` puts the front end.
fn default_static_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../dist"))
}
