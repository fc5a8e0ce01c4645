//! The `switchyard` command line, run as the real binary: check, import/export, recipes and
//! secrets here; the `test` dry run (with every shipped example), `serve`, and the refusal to
//! create a store anywhere but in `serve`, in submodules.

mod dry_run;
mod revisions;
mod serve;
mod store_refusal;

use std::path::Path;

use serde_json::{Value, json};

use crate::binary::Cli;

/// A valid recipe posting `{id, text}` to `url`.
pub fn recipe(id: &str, name: &str, url: &str) -> String {
    format!(
        r#"id = "{id}"
name = "{name}"

[trigger.webhook]

[filter]
script = '''
event.amount > 10
'''

[transform]
script = '''
#{{ id: event.id, text: `paid ${{event.amount}}` }}
'''

[[action]]
name = "notify"
url = "{url}"
headers = {{ Authorization = "Bearer {{{{ secrets.NOTIFY_TOKEN }}}}" }}
retry = {{ schedule = ["0s", "1s", "1s", "1s"] }}
"#
    )
}

pub const MINIMAL_HEAD: &str = "id = \"bad\"\nname = \"Bad\"\n";
pub const WEBHOOK_ACTION: &str =
    "[trigger.webhook]\n[[action]]\nname = \"a\"\nurl = \"https://example.com/hook\"\n";

#[test]
fn check_accepts_a_valid_recipe_without_touching_a_store() {
    let cli = Cli::without_store();
    let file = cli.write(
        "good.toml",
        &recipe("good", "Good", "https://example.com/x"),
    );
    let out = cli.run(&[Path::new("check"), &file]);
    assert!(out.ok().contains("good"), "{out:#?}");
    assert!(!cli.data_dir.exists(), "check must not create a store");
}

#[test]
fn check_refuses_bad_files_naming_file_key_and_script_position() {
    let cli = Cli::new();
    let cases: [(&str, String, &[&str]); 9] = [
        (
            "unknown-key.toml",
            format!("{MINIMAL_HEAD}{WEBHOOK_ACTION}timeuot = \"5s\"\n"),
            &["action[0].timeuot", "unknown field"],
        ),
        (
            "wrong-type.toml",
            format!("{MINIMAL_HEAD}enabled = \"yes\"\n{WEBHOOK_ACTION}"),
            &["enabled", "expected a boolean"],
        ),
        (
            "five-field-cron.toml",
            format!(
                "{MINIMAL_HEAD}[trigger.schedule]\ncron = \"0 * * * *\"\n[[action]]\nname = \"a\"\nurl = \"https://example.com/\"\n"
            ),
            &["trigger.schedule.cron", "0 * * * *"],
        ),
        (
            "bad-url.toml",
            format!(
                "{MINIMAL_HEAD}[trigger.webhook]\n[[action]]\nname = \"a\"\nurl = \"ftp://example.com/x\"\n"
            ),
            &["action[0].url", "ftp://example.com/x"],
        ),
        (
            "rhai-syntax.toml",
            format!(
                "{MINIMAL_HEAD}[filter]\nscript = '''\nlet ok = true;\nok && (1 + ;\n'''\n{WEBHOOK_ACTION}"
            ),
            &["filter.script", "line 2"],
        ),
        (
            "hmac-without-header.toml",
            format!(
                "{MINIMAL_HEAD}[trigger.webhook]\nverify = \"hmac-sha256\"\nsecret = \"{{{{ secrets.GH }}}}\"\n[[action]]\nname = \"a\"\nurl = \"https://example.com/\"\n"
            ),
            &["trigger.webhook.header", "needs header"],
        ),
        (
            "literal-secret.toml",
            format!(
                "{MINIMAL_HEAD}[trigger.webhook]\nverify = \"token\"\nsecret = \"abc\"\n[[action]]\nname = \"a\"\nurl = \"https://example.com/\"\n"
            ),
            &["trigger.webhook.secret", "{{ secrets.NAME }}"],
        ),
        (
            "nul-in-name.toml",
            format!(
                "{}{WEBHOOK_ACTION}",
                MINIMAL_HEAD.replacen("name = \"", "name = \"a\\u0000", 1)
            ),
            &["name", "control character U+0000"],
        ),
        (
            "newline-in-action-name.toml",
            format!(
                "{MINIMAL_HEAD}[trigger.webhook]\n[[action]]\nname = \"a\\nb\"\nurl = \"https://example.com/\"\n"
            ),
            &["action[0].name", "control character U+000A"],
        ),
    ];
    for (name, text, expected) in &cases {
        let file = cli.write(name, text);
        let out = cli.run(&[Path::new("check"), &file]);
        let stderr = out.fails();
        assert!(
            stderr.contains(name),
            "{name}: stderr must name the file: {stderr}"
        );
        for needle in *expected {
            assert!(
                stderr.contains(needle),
                "{name}: stderr lacks {needle:?}: {stderr}"
            );
        }
        assert!(!out.stdout.contains("ok"), "{name}: reported ok: {out:#?}");
    }
    // Several files at once: one bad file fails the whole check, each is reported.
    let good = cli.write(
        "good.toml",
        &recipe("good", "Good", "https://example.com/x"),
    );
    let bad = cli.scratch().join("bad-url.toml");
    let out = cli.run(&[Path::new("check"), &good, &bad]);
    assert!(out.fails().contains("action[0].url"));
    assert!(out.stdout.contains("good.toml"), "{out:#?}");
}

#[test]
fn import_prints_the_public_webhook_url_and_keeps_the_token_across_reimports() {
    let base = Cli::new();
    let cli = base.with_env("SWITCHYARD_PUBLIC_URL", "https://hooks.example.com/");
    let file = cli.write(
        "r.toml",
        &recipe("payments", "Payments", "https://example.com/x"),
    );

    let first = cli.import(&file);
    assert_eq!(first.len(), 1);
    let (id, kind, url) = &first[0];
    assert_eq!((id.as_str(), kind.as_str()), ("payments", "created"));
    let token = url
        .strip_prefix("https://hooks.example.com/hooks/")
        .unwrap_or_else(|| panic!("url under the public base: {url}"));
    assert!(token.len() >= 22, "token carries >= 128 bits: {token}");

    assert_eq!(
        cli.import(&file)[0],
        (id.clone(), "unchanged".into(), url.clone())
    );

    std::fs::write(
        &file,
        recipe("payments", "Payments v2", "https://example.com/y"),
    )
    .unwrap();
    assert_eq!(
        cli.import(&file)[0],
        (id.clone(), "updated".into(), url.clone())
    );
    let listed = cli.run(&["recipes", "--json"]).json();
    assert_eq!(listed[0]["name"], "Payments v2");
    assert_eq!(listed[0]["webhook_url"], url.as_str());

    // Without a public URL the base is the bind address.
    let local = base.with_env("SWITCHYARD_BIND", "127.0.0.1:9911");
    let out = local.run(&["recipes"]);
    assert!(
        out.ok()
            .contains(&format!("http://127.0.0.1:9911/hooks/{token}")),
        "{out:#?}"
    );

    // An invalid file stores nothing.
    let bad = cli.write(
        "bad.toml",
        &format!("id = \"other\"\nname = \"O\"\n{WEBHOOK_ACTION}bogus = 1\n"),
    );
    assert!(
        cli.run(&[Path::new("import"), &bad])
            .fails()
            .contains("bad.toml")
    );
    assert_eq!(
        cli.run(&["recipes", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn export_imports_back_unchanged() {
    let cli = Cli::new();
    let a = cli.write("a.toml", &recipe("alpha", "Alpha", "https://example.com/a"));
    let b = cli.write("b.toml", &recipe("beta", "Beta", "https://example.com/b"));
    cli.import(&a);
    cli.import(&b);

    let exported = cli.run(&["export"]).ok().to_owned();
    assert_eq!(
        exported.matches("# --- switchyard recipe ---").count(),
        1,
        "{exported}"
    );
    let stream = cli.write("export.toml", &exported);
    let again = cli.import(&stream);
    let kinds: Vec<_> = again
        .iter()
        .map(|(id, kind, _)| (id.as_str(), kind.as_str()))
        .collect();
    assert_eq!(kinds, [("alpha", "unchanged"), ("beta", "unchanged")]);
    assert_eq!(cli.run(&["export"]).ok(), exported);

    // Into a fresh store: same recipes, same text.
    let fresh = Cli::new();
    let created = fresh.import(&stream);
    assert!(
        created.iter().all(|(_, kind, _)| kind == "created"),
        "{created:?}"
    );
    assert_eq!(fresh.run(&["export"]).ok(), exported);

    let one = cli.run(&["export", "beta"]).ok().to_owned();
    assert!(
        one.contains("id = \"beta\"") && !one.contains("alpha"),
        "{one}"
    );
    assert!(cli.run(&["export", "nope"]).fails().contains("nope"));
}

#[test]
fn recipes_json_lists_id_name_enabled_and_webhook_url() {
    let cli = Cli::new();
    let on = cli.write("on.toml", &recipe("on", "On", "https://example.com/a"));
    let off_text = recipe("off", "Off", "https://example.com/b")
        .replace("name = \"Off\"", "name = \"Off\"\nenabled = false");
    let off = cli.write("off.toml", &off_text);
    let urls: Vec<_> = [on, off]
        .iter()
        .map(|f| cli.import(f)[0].2.clone())
        .collect();

    let mut listed = cli
        .run(&["recipes", "--json"])
        .json()
        .as_array()
        .cloned()
        .unwrap();
    listed.sort_by_key(|r| r["id"].as_str().unwrap().to_owned());
    assert_eq!(
        Value::Array(listed),
        json!([
            { "id": "off", "name": "Off", "enabled": false, "state": "disabled", "webhook_url": urls[1] },
            { "id": "on", "name": "On", "enabled": true, "state": "enabled", "webhook_url": urls[0] },
        ])
    );
}

#[test]
fn secrets_are_set_from_stdin_listed_by_name_and_deleted_never_shown() {
    let cli = Cli::new();
    let value = "xoxb-very-secret-4711";
    let mut outputs =
        vec![cli.run_with_stdin(&["secrets", "set", "SLACK_TOKEN"], &format!("{value}\n"))];
    outputs[0].ok();
    outputs.push(cli.run_with_stdin(&["secrets", "set", "OTHER"], "v2"));
    outputs.push(cli.run(&["secrets", "list"]));
    let names: Vec<&str> = outputs[2].ok().lines().collect();
    assert_eq!(names, ["OTHER", "SLACK_TOKEN"]);

    outputs.push(cli.run(&["secrets", "delete", "SLACK_TOKEN"]));
    outputs[3].ok();
    outputs.push(cli.run(&["secrets", "list"]));
    assert_eq!(outputs[4].ok().trim(), "OTHER");
    outputs.push(cli.run(&["secrets", "delete", "SLACK_TOKEN"]));
    assert!(outputs[5].fails().contains("SLACK_TOKEN"));
    outputs.push(cli.run_with_stdin(&["secrets", "set", "EMPTY"], ""));
    outputs[6].fails();
    outputs.push(cli.run_with_stdin(&["secrets", "set", "1-bad"], "x"));
    outputs[7].fails();
    for out in &outputs {
        assert!(
            !format!("{}{}", out.stdout, out.stderr).contains(value),
            "value leaked: {out:#?}"
        );
    }
}
