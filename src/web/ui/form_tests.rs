//! The editor form against the file model.

use super::*;

#[test]
fn names_become_slugs() {
    assert_eq!(slug("Stripe payment → Slack"), "stripe-payment-slack");
    assert_eq!(slug("  "), "");
}

#[test]
fn a_form_round_trips_through_the_file_model() {
    let pairs = [
        ("name", "Orders"),
        ("enabled", "on"),
        ("webhook", "on"),
        ("verify", "token"),
        ("webhook_secret", "HOOK_TOKEN"),
        ("respond", "accepted"),
        ("dedupe", "event.id"),
        ("filter_mode", "script"),
        ("filter", "event.total > 10\r\n"),
        ("action.0.name", "crm"),
        ("action.0.method", "PUT"),
        ("action.0.url", "https://crm.example/orders"),
        (
            "action.0.headers",
            "Content-Type: application/json\r\nX-Key: {{ secrets.CRM }}",
        ),
        ("action.0.retry", "0s, 5s"),
        ("action.0.secret", "SIGNING"),
        ("op", "save"),
    ];
    let pairs = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    let (form, op) = RecipeForm::from_pairs(pairs.collect());
    assert_eq!(op, Button::Save);
    let (file, errors) = form.to_file();
    assert!(errors.is_empty());
    assert_eq!(file.id, "orders");
    assert_eq!(
        file.filter.as_ref().unwrap().script.as_deref(),
        Some("event.total > 10")
    );
    let webhook = file.trigger.webhook.as_ref().unwrap();
    assert_eq!(webhook.secret.as_deref(), Some("{{ secrets.HOOK_TOKEN }}"));
    assert_eq!(file.actions[0].headers["X-Key"], "{{ secrets.CRM }}");
    assert_eq!(
        file.actions[0].retry.as_ref().unwrap().schedule,
        ["0s", "5s"]
    );
    let again = RecipeForm::from_file(&file);
    assert_eq!(again.webhook_secret, "HOOK_TOKEN");
    assert_eq!(again.actions[0].secret, "SIGNING");
    assert_eq!(again.to_file().0, file);
    // Top-level keys after tables would land in the last table: the TOML must read back.
    let text = toml::to_string_pretty(&file).unwrap();
    assert_eq!(toml::from_str::<RecipeFile>(&text).unwrap(), file, "{text}");
}

#[test]
fn the_signature_place_is_kept_only_for_the_hmac_preset() {
    let pairs = [
        ("name", "Signed"),
        ("webhook", "on"),
        ("verify", "hmac-sha256"),
        ("webhook_secret", "HOOK_KEY"),
        ("previous_secret", "OLD_HOOK_KEY"),
        ("hmac_header", "X-Signature"),
        ("hmac_encoding", "base64"),
        ("hmac_prefix", "sha256="),
    ];
    let pairs = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    let (mut form, _) = RecipeForm::from_pairs(pairs.collect());
    let webhook = form.to_file().0.trigger.webhook.unwrap();
    assert_eq!(webhook.header.as_deref(), Some("X-Signature"));
    assert_eq!(webhook.encoding, Some(SignatureEncoding::Base64));
    assert_eq!(webhook.prefix.as_deref(), Some("sha256="));
    assert_eq!(
        webhook.previous_secret.as_deref(),
        Some("{{ secrets.OLD_HOOK_KEY }}")
    );

    form.verify = "github".into();
    let webhook = form.to_file().0.trigger.webhook.unwrap();
    assert_eq!(
        (webhook.header, webhook.encoding, webhook.prefix),
        (None, None, None)
    );
}

#[test]
fn action_field_rows_round_trip_through_the_form_and_bad_rows_are_placed_beside_them() {
    let pairs = [
        ("name", "Mapped"),
        ("webhook", "on"),
        ("action.0.name", "chat"),
        ("action.0.url", "https://chat.example/hook"),
        ("action.0.field.0.key", "text"),
        ("action.0.field.0.value", "Paid {{ event.id }}"),
        ("action.0.field.1.key", "\"customer.email\""),
        ("action.0.field.1.value", "{{ event.email }}"),
        ("action.0.field.2.key", "meta.source"),
        ("action.0.field.2.value", "shop"),
        ("action.0.field.3.key", "count"),
        ("action.0.field.3.value", "2"),
        ("action.0.field.3.literal", "on"),
    ];
    let pairs = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    let (form, _) = RecipeForm::from_pairs(pairs.collect());
    let (file, errors) = form.to_file();
    assert!(errors.is_empty(), "{errors:?}");
    let fields = file.actions[0].fields.as_ref().unwrap();
    assert_eq!(fields["customer.email"].as_str(), Some("{{ event.email }}"));
    assert_eq!(fields["meta"]["source"].as_str(), Some("shop"));
    assert_eq!(fields["count"].as_integer(), Some(2));
    assert_eq!(RecipeForm::from_file(&file).to_file().0, file);

    let (mut form, _) = RecipeForm::from_pairs(vec![
        ("name".into(), "Bad".into()),
        ("action.0.field.0.key".into(), "a".into()),
        ("action.0.field.1.key".into(), "a.b".into()),
    ]);
    let (_, errors) = form.to_file();
    assert_eq!(errors[0].field, "action[0].fields", "{errors:?}");
    assert!(errors[0].message.starts_with("row 2:"), "{errors:?}");
    form.place_errors(&errors);
    assert!(form.actions[0].errors.get("fields").contains("row 2"));
}
