//! End-to-end tests live in `tests/e2e`; this library is empty so the package can hold them.
