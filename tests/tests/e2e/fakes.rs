//! The local Discord and Slack fakes checked against the real client crates, so the adapter
//! tests built on them exercise the platforms' behaviour.

mod discord;
mod slack;
