//! End-to-end tests: the `spar` command line run as a process against real files, and its
//! adapters against a real PostgreSQL and local fakes of the services it talks to.

mod cli;
mod fake_openai;
mod llm;
mod practice;
