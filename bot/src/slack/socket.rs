//! Socket Mode: Spar opens websockets to Slack with the app-level token (no public URL
//! needed) and answers each envelope through `SlackApp`, the same as HTTP does. An
//! envelope is acknowledged when its callback returns: a slash command's answer rides on
//! the acknowledgement, an event's turn is stored first.

use super::{Client, SlackApp};
use crate::config::Secret;
use slack_morphism::prelude::*;
use std::sync::Arc;

/// The callbacks' shared state: slack-morphism calls plain `fn`s.
struct Shared {
    app: Arc<SlackApp>,
}

async fn app_of(state: &SlackClientEventsUserState) -> Option<Arc<SlackApp>> {
    let storage = state.read().await;
    storage.get_user_state::<Shared>().map(|s| s.app.clone())
}

async fn on_command(
    event: SlackCommandEvent,
    _client: Arc<Client>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    let answer = match app_of(&state).await {
        Some(app) => app.command(event).await,
        None => None,
    };
    Ok(match answer {
        Some(message) => SlackCommandEventResponse::new(message.content())
            .with_response_type(SlackMessageResponseType::Ephemeral),
        // Acknowledged with nothing to show; the answer follows.
        None => SlackCommandEventResponse::new(SlackMessageContent::new()),
    })
}

async fn on_push(
    event: SlackPushEventCallback,
    _client: Arc<Client>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    if let Some(app) = app_of(&state).await {
        app.event(event).await;
    }
    Ok(())
}

async fn on_interaction(
    event: SlackInteractionEvent,
    _client: Arc<Client>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<SlackInteractionResponse> {
    Ok(match app_of(&state).await {
        Some(app) => app.interaction(event),
        None => SlackInteractionResponse::Empty,
    })
}

/// A failed callback or frame is logged and the envelope acknowledged: Slack sending it
/// again would fail the same way.
fn on_error(
    error: Box<dyn std::error::Error + Send + Sync>,
    _client: Arc<Client>,
    _state: SlackClientEventsUserState,
) -> HttpStatusCode {
    tracing::error!(error = %error, "a Socket Mode envelope could not be handled");
    HttpStatusCode::OK
}

/// Connects and serves until the process is stopped; slack-morphism reconnects when Slack
/// asks it to or a connection drops.
pub async fn serve(
    app: Arc<SlackApp>,
    client: Arc<Client>,
    app_token: &Secret,
) -> anyhow::Result<()> {
    let environment = Arc::new(
        SlackClientEventsListenerEnvironment::new(client)
            .with_error_handler(on_error)
            .with_user_state(Shared { app }),
    );
    let callbacks = SlackSocketModeListenerCallbacks::new()
        .with_command_events(on_command)
        .with_push_events(on_push)
        .with_interaction_events(on_interaction);
    // Two connections, as Slack recommends, the second opened at once rather than after
    // the default five-second backoff.
    let config = SlackClientSocketModeConfig::new().with_initial_backoff_in_seconds(0);
    let listener = SlackClientSocketModeListener::new(&config, environment, callbacks);
    let token = SlackApiToken::new(SlackApiTokenValue::new(app_token.expose().to_string()));
    listener.listen_for(&token).await.map_err(|e| {
        crate::failure::input_error(format!(
            "Slack did not open a Socket Mode connection with SPAR_SLACK_APP_TOKEN: {e}"
        ))
    })?;
    listener.start().await;
    tracing::info!("listening to Slack over Socket Mode");
    std::future::pending::<()>().await;
    Ok(())
}
