//! An htpasswd file for distribution's `auth.htpasswd`: bcrypt entries (`user:$2y$...`).

use std::path::Path;

/// bcrypt's smallest cost: the tests need a valid hash, not a slow one.
const COST: u32 = 4;

/// Writes `users` (name, password) to `path`.
pub fn write(path: &Path, users: &[(&str, &str)]) {
    let mut text = String::new();
    for (user, password) in users {
        let hash = bcrypt::hash_with_result(password, COST)
            .expect("bcrypt a password")
            .format_for_version(bcrypt::Version::TwoY);
        text.push_str(&format!("{user}:{hash}\n"));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}
