//! https for the hook and the pull: what is trusted ([`trust`], the system's roots plus a CA
//! file) and the client that connects with it ([`client`]).

pub(crate) mod client;
pub(crate) mod trust;

pub use trust::CaBundle;
