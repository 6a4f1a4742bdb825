//! `spar forget --user ID`: deletes everything kept about a person, for a person who asks.

use super::emit;
use crate::cli::ForgetArgs;
use crate::config::Settings;
use crate::store;
use anyhow::Context as _;
use std::process::ExitCode;

pub fn run(settings: &Settings, args: &ForgetArgs) -> anyhow::Result<ExitCode> {
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let store = store::open(settings.database_url.as_deref()).await?;
        let forgotten = store
            .forget_person(&args.platform, &args.user)
            .await
            .with_context(|| format!("forgetting {} user {}", args.platform, args.user))?;
        if forgotten.person_found {
            emit(&format!(
                "forgot {} user {}: {} drill(s) deleted with their transcripts and scores, {} turn(s) in other people's drills blanked\n",
                args.platform, args.user, forgotten.drills, forgotten.turns_redacted
            ))?;
        } else {
            emit(&format!(
                "nothing is kept about {} user {}\n",
                args.platform, args.user
            ))?;
        }
        Ok(ExitCode::SUCCESS)
    })
}
