//! Test harness: real mail servers on loopback and the proxy, for integration tests.
