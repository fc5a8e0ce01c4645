//! Only `serve` creates a store. Every other command that reads or changes one, run where no
//! store is, refuses: exit 1, the path it looked at, how to point it elsewhere, and nothing
//! created (no data folder, no database file, no secret key).

use std::path::Path;
use std::process::Command;

use super::recipe;
use crate::binary::{Cli, Output};
use crate::store_contract::PgDatabase;

/// Every store command, with the standard input it needs.
fn store_commands(recipe_file: &Path) -> Vec<(Vec<String>, &'static str)> {
    let file = recipe_file.display().to_string();
    [
        (vec!["import", &file], ""),
        (vec!["export"], ""),
        (vec!["recipes"], ""),
        (vec!["events"], ""),
        (vec!["delete", "payments"], ""),
        (vec!["secrets", "set", "API_KEY"], "value"),
        (vec!["secrets", "list"], ""),
        (vec!["secrets", "delete", "API_KEY"], ""),
    ]
    .into_iter()
    .map(|(args, stdin)| (args.into_iter().map(str::to_owned).collect(), stdin))
    .collect()
}

/// The command run in `dir` with only the given store variables (no `SWITCHYARD_DATA_DIR`).
fn run_in(dir: &Path, args: &[String], stdin: &str, env: &[(&str, &str)]) -> Output {
    let cli = Cli::without_store();
    let mut command: Command = cli.command();
    command.env_remove("SWITCHYARD_DATA_DIR").current_dir(dir);
    for (name, value) in env {
        command.env(name, value);
    }
    crate::binary::run_command(command, args, stdin)
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn store_commands_run_where_no_store_is_refuse_and_create_nothing() {
    let elsewhere = tempfile::tempdir().unwrap();
    let file = elsewhere.path().join("payments.toml");
    std::fs::write(&file, recipe("payments", "P", "https://example.com/x")).unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let absolute = cwd.path().join("data").join("switchyard.db");
    for (args, stdin) in store_commands(&file) {
        let out = run_in(cwd.path(), &args, stdin, &[]);
        let stderr = out.fails();
        for needle in [
            "no Switchyard store at ./data/switchyard.db",
            &absolute.display().to_string(),
            "switchyard serve",
            "--data-dir",
            "SWITCHYARD_DATA_DIR",
            "DATABASE_URL",
        ] {
            assert!(
                stderr.contains(needle),
                "{args:?}: lacks {needle:?}: {stderr}"
            );
        }
        assert_eq!(
            entries(cwd.path()),
            Vec::<String>::new(),
            "{args:?} created files"
        );
        assert!(out.stdout.is_empty(), "{args:?}: {out:#?}");
    }
}

#[test]
fn a_sqlite_database_url_to_a_missing_file_is_refused_and_not_created() {
    let cwd = tempfile::tempdir().unwrap();
    let db = cwd.path().join("other.db");
    let url = format!("sqlite://{}", db.display());
    for args in [
        vec!["events".to_owned()],
        vec!["secrets".into(), "list".into()],
    ] {
        let out = run_in(cwd.path(), &args, "", &[("DATABASE_URL", &url)]);
        let stderr = out.fails();
        assert!(
            stderr.contains(&format!("no Switchyard store at {}", db.display())),
            "{stderr}"
        );
        assert!(stderr.contains("DATABASE_URL"), "{stderr}");
        assert_eq!(entries(cwd.path()), Vec::<String>::new());
    }
}

#[test]
fn a_store_without_its_secret_key_is_refused_and_no_new_key_is_made() {
    let cli = Cli::new();
    let key = cli.data_dir.join("secret.key");
    std::fs::remove_file(&key).unwrap();
    for args in [
        &["secrets", "set", "API_KEY"][..],
        &["secrets", "list"],
        &["events"],
    ] {
        let stderr = cli.run_with_stdin(args, "value").fails().to_owned();
        for needle in [
            "secret key",
            &key.display().to_string(),
            "will not create a new key",
            "SWITCHYARD_SECRET_KEY",
        ] {
            assert!(
                stderr.contains(needle),
                "{args:?}: lacks {needle:?}: {stderr}"
            );
        }
        assert!(!key.exists(), "{args:?} made a new key");
    }
    // With the key given, the same store opens.
    let keyed = cli.with_env(
        "SWITCHYARD_SECRET_KEY",
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    );
    keyed.run(&["secrets", "list"]).ok();
    assert!(!key.exists());
}

#[tokio::test]
async fn a_postgres_database_without_switchyard_tables_is_refused_and_left_empty() {
    let Some(database) = PgDatabase::create().await else {
        return;
    };
    let cwd = tempfile::tempdir().unwrap();
    let key = (
        "SWITCHYARD_SECRET_KEY",
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    );
    let url = ("DATABASE_URL", database.url.as_str());
    let out = run_in(cwd.path(), &["recipes".to_owned()], "", &[url, key]);
    let stderr = out.fails();
    assert!(stderr.contains("holds no Switchyard store"), "{stderr}");
    assert!(stderr.contains("switchyard serve"), "{stderr}");
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&database.url)
        .await
        .unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(tables, 0, "no tables created");
    assert_eq!(entries(cwd.path()), Vec::<String>::new());
}
