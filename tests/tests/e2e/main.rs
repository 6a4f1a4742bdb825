//! End-to-end tests, compiled into one binary: the `spar` command line run as a process
//! against real files, its adapters against a real PostgreSQL and local fakes.

mod cli;
mod fake_openai;
mod llm;
mod output;
mod practice;
mod rounds;
mod score;
mod store;
