//! `switchyard revisions ID` lists a recipe's revisions (newest first, with the file that made
//! each) and `--show N` prints one's TOML; unknown ids and versions exit 1 naming them.

use std::path::Path;

use super::recipe;
use crate::binary::Cli;

#[test]
fn revisions_lists_each_import_that_changed_the_recipe_and_shows_one() {
    let cli = Cli::new();
    let v1 = recipe("paid", "Paid", "https://example.com/v1");
    let v2 = v1.replace("example.com/v1", "example.com/v2");
    let file = cli.write("paid.toml", &v1);
    cli.import(&file);
    cli.import(&file);
    std::fs::write(&file, &v2).unwrap();
    cli.import(&file);

    let out = cli.run(&["revisions", "paid"]);
    let rows: Vec<Vec<String>> = out
        .ok()
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 2, "the unchanged re-import made none: {rows:?}");
    assert_eq!((rows[0][0].as_str(), rows[1][0].as_str()), ("2", "1"));
    let author = format!("file {}", file.display());
    assert!(rows.iter().all(|r| r[2] == author), "{rows:?}");
    assert!(rows[0][1].ends_with(" UTC"), "{rows:?}");

    assert_eq!(cli.run(&["revisions", "paid", "--show", "1"]).ok(), v1);
    assert_eq!(cli.run(&["revisions", "paid", "--show", "2"]).ok(), v2);
    let json = cli.run(&["revisions", "paid", "--json"]).json();
    assert_eq!(json[0]["version"], 2, "{json:#}");
}

#[test]
fn revisions_of_an_unknown_recipe_or_version_exit_1_naming_it() {
    let cli = Cli::new();
    let file = cli.write("one.toml", &recipe("one", "One", "https://example.com/x"));
    cli.import(&file);
    let stderr = cli
        .run(&[Path::new("revisions"), Path::new("nope")])
        .fails()
        .to_owned();
    assert!(stderr.contains("`nope`"), "{stderr}");
    let stderr = cli
        .run(&["revisions", "one", "--show", "5"])
        .fails()
        .to_owned();
    assert!(
        stderr.contains("`one`") && stderr.contains("version 5"),
        "{stderr}"
    );
}
