//! Spar bot.
