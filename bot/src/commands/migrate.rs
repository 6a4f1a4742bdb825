//! `spar migrate`: applies the embedded migrations explicitly, for deployments that
//! prepare the database before starting any bot instance.

use super::emit;
use crate::config::Settings;
use crate::store;
use std::process::ExitCode;

pub fn run(settings: &Settings) -> anyhow::Result<ExitCode> {
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let url = match &settings.database_url {
            Some(url) => url.clone(),
            None => store::default_url()?,
        };
        // Opening applies every migration not yet applied.
        let store = store::open(Some(&url)).await?;
        emit(&format!(
            "database {} ({}) is up to date\n",
            store::redact(&url),
            store.backend()
        ))?;
        Ok(ExitCode::SUCCESS)
    })
}
