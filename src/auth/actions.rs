//! A set of repository actions: `pull`, `push`, `delete`, or whatever a token service names.

/// Sorted and without repeats, so a scope names its actions in one order (`pull,push`).
/// A sorted list rather than a `BTreeSet`: sets of one to three actions need no tree, and
/// the tree's code would add kilobytes to the component (docs/performance.md, "What bounds the figures").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Actions(Vec<String>);

impl Actions {
    pub fn insert(&mut self, action: &str) {
        if let Err(at) = self.0.binary_search_by(|a| a.as_str().cmp(action)) {
            self.0.insert(at, action.to_string());
        }
    }

    pub fn contains(&self, action: &str) -> bool {
        self.0.binary_search_by(|a| a.as_str().cmp(action)).is_ok()
    }

    pub fn is_superset(&self, other: &Actions) -> bool {
        other.0.iter().all(|a| self.contains(a))
    }

    /// The first of these actions (in order) that `granted` lacks.
    pub fn first_missing_from(&self, granted: &Actions) -> Option<&str> {
        self.0
            .iter()
            .map(String::as_str)
            .find(|a| !granted.contains(a))
    }

    pub fn extend(&mut self, other: &Actions) {
        for action in &other.0 {
            self.insert(action);
        }
    }

    /// The actions comma-separated, as a scope names them.
    pub fn join(&self) -> String {
        self.0.join(",")
    }
}

impl<S: AsRef<str>> FromIterator<S> for Actions {
    fn from_iter<I: IntoIterator<Item = S>>(actions: I) -> Self {
        let mut set = Actions::default();
        for action in actions {
            set.insert(action.as_ref());
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_a_sorted_set() {
        let mut a: Actions = ["push", "pull", "push"].into_iter().collect();
        assert_eq!(a.join(), "pull,push");
        assert!(a.contains("pull") && !a.contains("delete"));
        let pull: Actions = ["pull"].into_iter().collect();
        assert!(a.is_superset(&pull) && !pull.is_superset(&a));
        assert_eq!(a.first_missing_from(&pull), Some("push"));
        assert_eq!(pull.first_missing_from(&a), None);
        a.extend(&["delete", "*"].into_iter().collect());
        assert_eq!(a.join(), "*,delete,pull,push");
        assert_eq!(Actions::default().join(), "");
        assert!(a.is_superset(&Actions::default()));
    }
}
