//! `switchyard revisions ID [--show N] [--json]`: a recipe's revisions, newest first, or one
//! revision's TOML exactly as stored (it imports back).

use std::process::ExitCode;

use super::StoreArgs;

/// Lists the revisions (version, time, author) or prints one's TOML. An unknown recipe or
/// version is an error naming it (exit 1).
pub async fn run(
    args: &StoreArgs,
    id: &str,
    show: Option<i64>,
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    let store = super::open::existing_store(args).await?;
    if let Some(version) = show {
        let revision = crate::manage::revision(store.as_ref(), id, version).await?;
        if as_json {
            println!("{}", serde_json::to_string_pretty(&revision)?);
        } else {
            print!("{}", revision.source);
            if !revision.source.ends_with('\n') {
                println!();
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let revisions = crate::manage::revisions(store.as_ref(), id).await?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&revisions)?);
        return Ok(ExitCode::SUCCESS);
    }
    for r in &revisions {
        println!(
            "{}\t{}\t{}",
            r.version,
            r.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
            r.author.as_deref().unwrap_or("unknown")
        );
    }
    Ok(ExitCode::SUCCESS)
}
