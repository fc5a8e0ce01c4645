//! `switchyard pause|resume ID` as the real binary, and pausing as operator state: a
//! re-import or re-provisioning of the file does not resume the recipe, and an export does
//! not carry it.

use std::path::Path;

use switchyard::provision::import_source;
use switchyard::script::{ScriptEngine, ScriptLimits};
use switchyard::store::RecipeState;

use super::forwarder;
use crate::binary::Cli;
use crate::helpers::spawn_app;

#[test]
fn cli_pauses_and_resumes_a_recipe_and_names_an_unknown_id() {
    let cli = Cli::new();
    let file = cli.write(
        "held.toml",
        &forwarder("held", "https://example.com/in", "\"0s\""),
    );
    cli.import(&file);

    let out = cli.run(&["pause", "held"]);
    out.ok();
    assert!(out.stderr.contains("recipe held paused"), "{out:#?}");
    let listed = cli.run(&["recipes", "--json"]).json();
    assert_eq!(listed[0]["state"], "paused", "{listed}");
    let again = cli.run(&["pause", "held"]);
    again.ok();
    assert!(again.stderr.contains("already paused"), "{again:#?}");

    let error = cli.run(&["pause", "nope"]).fails().to_owned();
    assert!(error.contains("no recipe with id `nope`"), "{error}");
    let error = cli.run(&["resume", "nope"]).fails().to_owned();
    assert!(error.contains("`nope`"), "{error}");

    // A re-import of the file (even a changed one) leaves it paused.
    let changed = forwarder("held", "https://example.com/other", "\"0s\"");
    cli.import(&cli.write("held.toml", &changed));
    assert_eq!(cli.run(&["recipes", "--json"]).json()[0]["state"], "paused");
    let export = cli.run(&[Path::new("export"), Path::new("held")]);
    assert_eq!(
        export.ok(),
        changed,
        "the export is the file, without the pause"
    );

    let out = cli.run(&["resume", "held"]);
    out.ok();
    assert!(out.stderr.contains("recipe held resumed"), "{out:#?}");
    assert_eq!(
        cli.run(&["recipes", "--json"]).json()[0]["state"],
        "enabled"
    );
}

#[tokio::test]
async fn reprovisioning_a_file_managed_recipe_keeps_it_paused() {
    let app = spawn_app().await;
    let scripts = ScriptEngine::new(ScriptLimits::default());
    let source = forwarder("managed", "https://example.com/in", "\"0s\"");
    let file = Some("recipes/managed.toml".to_owned());
    import_source(app.store.as_ref(), &scripts, &source, file.clone(), "test")
        .await
        .unwrap();
    switchyard::manage::set_paused(app.store.as_ref(), "managed", true)
        .await
        .expect("a file-managed recipe can be paused");
    // `serve --recipes` again, with the file changed.
    let changed = source.replace("example.com/in", "example.com/v2");
    import_source(app.store.as_ref(), &scripts, &changed, file, "test")
        .await
        .unwrap();
    let stored = app.store.get_recipe("managed").await.unwrap().unwrap();
    assert_eq!(stored.state(), RecipeState::Paused, "not silently resumed");
    assert_eq!(stored.source, changed, "the file's change applied");
}
