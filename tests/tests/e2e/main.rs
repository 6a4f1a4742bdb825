//! End-to-end tests, compiled into one binary: the spar binary and its adapters driven
//! against real files, a real PostgreSQL and local fakes.

mod store;
