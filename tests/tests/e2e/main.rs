//! End-to-end tests, compiled into one binary: the `spar` command line run as a process
//! against real files, its adapters against a real PostgreSQL and local fakes.

mod budget;
mod chat;
mod cli;
mod discord;
mod fake_discord;
mod fake_openai;
mod fake_slack;
mod fakes;
mod llm;
mod load;
mod ops;
mod output;
mod peer;
mod practice;
mod rounds;
mod score;
mod slack;
mod slack_peer;
mod store;
