//! One module per wizard screen.

pub mod address;
pub mod password;
pub mod prepare;
pub mod result;
pub mod servers;
pub mod sign_in;
pub mod test;
