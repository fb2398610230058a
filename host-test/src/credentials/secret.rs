//! Secrets and credentials: the component crate's [`Secret`] (its `Debug` never shows it, and
//! it has no `Display`; only [`Secret::expose`] reads it) and [`Credentials`] (as the options
//! give them, and as `docker_config` finds them; [`Credentials::to_options`] turns them back
//! into the component's store options).

pub use kloset_oci::auth::secret::{Credentials, Secret};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_does_not_show_the_secret() {
        let secret = Secret::new("hunter2-s3cr3t");
        for shown in [format!("{secret:?}"), format!("{:#?}", Some(&secret))] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        assert_eq!(secret.expose(), "hunter2-s3cr3t");
    }
}
