use std::io::Read;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use super::{AddressArgs, Command, SecretsCommand, StoreArgs};
use crate::provision::{ImportError, import_source, read_documents};
use crate::recipe::Recipe;
use crate::script::{ScriptEngine, ScriptLimits};
use crate::startup::Application;
use crate::store::{EventQuery, StoredRecipe};

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => {
            let app = Application::build(args.settings()).await?;
            if let Some(url) = app.setup_url() {
                // Plain, on a line of its own: it must survive logs written to a file.
                eprintln!("Open this link once to set the admin password:\n{url}");
            }
            app.run_until_stopped().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            store,
            address,
            files,
        } => import(&store, &address, &files).await,
        Command::Export { store, ids } => export(&store, &ids).await,
        Command::Check { limits, files } => Ok(check(limits.limits(), &files)),
        Command::Test {
            limits,
            file,
            payload,
            headers,
            json,
        } => super::dry_run::run(limits.limits(), &file, &payload, headers.as_deref(), json),
        Command::Delete { store, id } => {
            let store = super::open::existing_store(&store).await?;
            anyhow::ensure!(store.delete_recipe(&id).await?, "no recipe with id `{id}`");
            eprintln!("recipe {id} deleted");
            Ok(ExitCode::SUCCESS)
        }
        Command::Pause { store, id } => pause(&store, &id, true).await,
        Command::Resume { store, id } => pause(&store, &id, false).await,
        Command::Recipes {
            store,
            address,
            json,
        } => recipes(&store, &address, json).await,
        Command::Events {
            store,
            recipe,
            limit,
            json,
        } => events(&store, recipe, limit, json).await,
        Command::Revisions {
            store,
            id,
            show,
            json,
        } => super::revisions::run(&store, &id, show, json).await,
        Command::Secrets { store, action } => secrets(&store, action).await,
        Command::Presets { json } => super::presets::run(json),
    }
}

fn webhook_url(address: &AddressArgs, recipe: &StoredRecipe) -> String {
    let base = address
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", address.bind));
    format!(
        "{}/hooks/{}",
        base.trim_end_matches('/'),
        recipe.webhook_token
    )
}

async fn import(
    args: &StoreArgs,
    address: &AddressArgs,
    files: &[std::path::PathBuf],
) -> anyhow::Result<ExitCode> {
    let store = super::open::existing_store(args).await?;
    let scripts = ScriptEngine::new(ScriptLimits::default());
    let mut failed = false;
    for path in files {
        let name = path.display().to_string();
        let author = format!("file {name}");
        let documents = match read_documents(path) {
            Ok(documents) => documents,
            Err(error) => {
                eprintln!("{error}");
                failed = true;
                continue;
            }
        };
        for source in documents {
            match import_source(store.as_ref(), &scripts, &source, None, &author).await {
                Ok(result) => println!(
                    "{}\t{}\t{}",
                    result.recipe.id,
                    serde_json::to_value(result.kind)?
                        .as_str()
                        .unwrap_or_default(),
                    webhook_url(address, &result.recipe)
                ),
                Err(ImportError::Invalid(error)) => {
                    eprintln!("{}", error.in_source(&name));
                    failed = true;
                }
                Err(other) => return Err(other.into()),
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn export(args: &StoreArgs, ids: &[String]) -> anyhow::Result<ExitCode> {
    let store = super::open::existing_store(args).await?;
    let ids = (!ids.is_empty()).then(|| ids.join(","));
    print!(
        "{}",
        crate::manage::export(store.as_ref(), ids.as_deref()).await?
    );
    Ok(ExitCode::SUCCESS)
}

fn check(limits: ScriptLimits, files: &[std::path::PathBuf]) -> ExitCode {
    let scripts = ScriptEngine::new(limits);
    let mut failed = false;
    for path in files {
        let name = path.display().to_string();
        let documents = match read_documents(path) {
            Ok(documents) => documents,
            Err(error) => {
                eprintln!("{error}");
                failed = true;
                continue;
            }
        };
        for source in documents {
            match Recipe::from_toml(&source, &scripts) {
                Ok(recipe) => println!("{name}: ok ({})", recipe.id()),
                Err(error) => {
                    eprintln!("{}", error.in_source(&name));
                    failed = true;
                }
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `pause` / `resume`: says what changed, and what is held or was released.
async fn pause(args: &StoreArgs, id: &str, paused: bool) -> anyhow::Result<ExitCode> {
    let store = super::open::existing_store(args).await?;
    let change = crate::manage::set_paused(store.as_ref(), id, paused).await?;
    let (events, deliveries) = (change.work.events, change.work.deliveries);
    match (paused, change.changed) {
        (true, true) => {
            eprintln!("recipe {id} paused: {events} events and {deliveries} deliveries held")
        }
        (true, false) => eprintln!(
            "recipe {id} was already paused: {events} events and {deliveries} deliveries held"
        ),
        (false, true) => eprintln!(
            "recipe {id} resumed: {events} events and {deliveries} deliveries released, in order of arrival"
        ),
        (false, false) => eprintln!("recipe {id} was not paused: nothing to resume"),
    }
    if !change.recipe.enabled {
        eprintln!(
            "note: recipe {id} is disabled (enabled = false in its file): its webhook answers 404"
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn recipes(
    args: &StoreArgs,
    address: &AddressArgs,
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    let store = super::open::existing_store(args).await?;
    let recipes = store.list_recipes().await?;
    if as_json {
        let list: Vec<_> = recipes
            .iter()
            .map(|r| {
                json!({ "id": r.id, "name": r.name, "enabled": r.enabled, "state": r.state(), "webhook_url": webhook_url(address, r) })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for r in &recipes {
            let state = r.state().as_str();
            println!(
                "{}\t{}\t{}\t{}",
                r.id,
                state,
                r.name,
                webhook_url(address, r)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn events(
    args: &StoreArgs,
    recipe: Option<String>,
    limit: u32,
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    let store = super::open::existing_store(args).await?;
    let query = EventQuery {
        recipe_id: recipe,
        status: None,
        limit,
    };
    let events = store.list_events(&query).await?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&events)?);
    } else {
        for e in &events {
            // The last column: why it failed, why a delivery went dead, or why it was filtered.
            let error = e
                .error
                .as_deref()
                .or(e.delivery_error.as_deref())
                .or(e.filter_reason.as_deref())
                .unwrap_or("");
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                e.received_at.to_rfc3339(),
                e.id,
                e.recipe_id,
                e.trigger,
                e.status.as_str(),
                error
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn secrets(args: &StoreArgs, action: SecretsCommand) -> anyhow::Result<ExitCode> {
    let store = super::open::existing_store(args).await?;
    match action {
        SecretsCommand::Set { name } => {
            crate::manage::check_secret_name(&name).map_err(anyhow::Error::msg)?;
            let mut value = String::new();
            std::io::stdin()
                .read_to_string(&mut value)
                .context("cannot read the secret value from standard input")?;
            let value = value.strip_suffix('\n').unwrap_or(&value);
            let value = value.strip_suffix('\r').unwrap_or(value);
            anyhow::ensure!(
                !value.is_empty(),
                "the secret value on standard input is empty"
            );
            if let Some(refusal) =
                crate::manage::secret_value_refusal(store.as_ref(), &name, value).await?
            {
                anyhow::bail!(refusal);
            }
            store.set_secret(&name, value).await?;
            eprintln!("secret {name} set");
        }
        SecretsCommand::List => {
            for name in store.list_secret_names().await? {
                println!("{name}");
            }
        }
        SecretsCommand::Delete { name } => {
            anyhow::ensure!(
                store.delete_secret(&name).await?,
                "no secret named `{name}`"
            );
            eprintln!("secret {name} deleted");
        }
    }
    Ok(ExitCode::SUCCESS)
}
