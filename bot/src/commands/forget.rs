//! `spar forget`: deletes everything kept about a person, for a person who asks: someone
//! named with `--user`, or by default the terminal user themself. It asks first on a
//! terminal; scripts say `--yes`.

use super::emit;
use crate::cli::ForgetArgs;
use crate::config::Settings;
use crate::failure::input_error;
use crate::store;
use anyhow::Context as _;
use spar_core::store::PersonRef;
use std::io::{BufRead, IsTerminal as _, Write};
use std::process::ExitCode;

pub fn run(settings: &Settings, args: &ForgetArgs) -> anyhow::Result<ExitCode> {
    let own = args.user.is_none();
    let person = match &args.user {
        Some(user) => PersonRef {
            platform: args.platform.clone().unwrap_or_else(|| "terminal".into()),
            platform_user_id: user.clone(),
            display_name: user.clone(),
        },
        None => PersonRef::terminal(&settings.terminal_user),
    };
    let whose = format!(
        "{} user {}{}",
        person.platform,
        person.platform_user_id,
        if own { " (you)" } else { "" }
    );
    let interactive = std::io::stdin().is_terminal();
    if !args.yes && !interactive {
        return Err(input_error(format!(
            "forget deletes {whose}'s drills for good; pass --yes to do it without being asked"
        )));
    }
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let store = store::open(settings.database_url.as_deref()).await?;
        if !args.yes {
            let drills = store
                .history(Some(&person))
                .await
                .context("counting the drills to forget")?
                .len();
            let stdin = std::io::stdin();
            let confirmed = confirm(&whose, drills, &mut stdin.lock(), &mut std::io::stderr())
                .context("asking for confirmation")?;
            if !confirmed {
                emit(&format!("nothing forgotten; {whose}'s drills are kept\n"))?;
                return Ok(ExitCode::SUCCESS);
            }
        }
        let forgotten = store
            .forget_person(&person.platform, &person.platform_user_id)
            .await
            .with_context(|| format!("forgetting {whose}"))?;
        if forgotten.person_found {
            emit(&format!(
                "forgot {whose}: {} drill(s) deleted with their transcripts and scores, {} turn(s) in other people's drills blanked\n",
                forgotten.drills, forgotten.turns_redacted
            ))?;
        } else {
            emit(&format!("nothing is kept about {whose}\n"))?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Asks whether to forget `whose` drills; only a yes goes ahead.
fn confirm(
    whose: &str,
    drills: usize,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> std::io::Result<bool> {
    write!(
        out,
        "Forget {whose}: {drills} drill(s) with their transcripts and scores, and their turns in other people's drills? This cannot be undone. [y/N] "
    )?;
    out.flush()?;
    let mut answer = String::new();
    input.read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

#[cfg(test)]
mod tests {
    use super::confirm;

    #[test]
    fn only_a_yes_confirms() {
        for (answer, yes) in [
            ("y\n", true),
            ("YES\n", true),
            ("n\n", false),
            ("\n", false),
            ("", false),
            ("sure\n", false),
        ] {
            let mut out = Vec::new();
            let confirmed = confirm(
                "terminal user ana (you)",
                2,
                &mut answer.as_bytes(),
                &mut out,
            )
            .expect("in memory");
            assert_eq!(confirmed, yes, "{answer:?}");
            let asked = String::from_utf8(out).expect("UTF-8");
            assert!(
                asked.starts_with("Forget terminal user ana (you): 2 drill(s)"),
                "{asked}"
            );
            assert!(asked.ends_with("[y/N] "), "{asked}");
        }
    }
}
