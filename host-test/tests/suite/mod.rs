//! The conformance suite: cases written once against a [`Fixture`], and a macro that makes
//! one `#[test]` per case for a registry setup (plain HTTP, htpasswd, token auth, redirected
//! blob reads: each one `conformance_suite!` call).

pub mod fixture;

pub mod gc;
pub mod objects;
pub mod ranges;
pub mod store;

pub use fixture::{Fixture, Setup};

/// `conformance_suite!(module_name, SETUP)` makes `mod module_name` with one `#[test]` per
/// case, each running the case on its own runtime against the fixture of `SETUP`
/// (a `&'static Setup`).
#[macro_export]
macro_rules! conformance_suite {
    ($name:ident, $setup:expr) => {
        mod $name {
            $crate::conformance_suite!(@cases $setup;
                objects::round_trip_packfile,
                objects::round_trip_state,
                objects::round_trip_lock,
                objects::ecc_kinds_unsupported,
                objects::missing_objects,
                objects::overwrite_lock,
                objects::delete_isolation_same_kind,
                objects::delete_isolation_across_kinds,
                objects::list_completeness,
                objects::empty_object,
                objects::large_object_64mib,
                ranges::random_ranges,
                ranges::out_of_range_reads,
                ranges::range_get_is_one_request,
                store::create_twice_keeps_first_config,
                store::open_without_store,
                store::list_without_store,
                store::description,
                store::unknown_option_is_invalid_config,
                gc::gc_survival,
            );
        }
    };
    (@cases $setup:expr; $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                let setup: &'static $crate::suite::Setup = $setup;
                $crate::suite::fixture::run_case(setup, stringify!($case), |fx| {
                    Box::pin($crate::suite::$module::$case(fx))
                });
            }
        )*
    };
}
