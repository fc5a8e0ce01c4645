//! The verdict does not depend on the rows' order (tryout 9 findings 4 and 10): a decisively
//! false row filters under `all` even when another row cannot be decided, and a row that
//! holds passes under `any`; both evaluators, both orders.

use serde_json::json;

use super::tests::{decide, row, v};
use super::*;

fn rows(match_mode: MatchMode, when: Vec<ConditionRow>) -> Conditions {
    Conditions {
        match_mode,
        when,
        any: vec![],
    }
}

fn amount_gt_1000() -> ConditionRow {
    row("data.object.amount", Op::Gt, v("1000"))
}

fn type_is_payment() -> ConditionRow {
    row("type", Op::Eq, v("\"payment_intent.succeeded\""))
}

#[test]
fn under_all_a_false_row_filters_even_when_another_row_cannot_be_decided_in_either_order() {
    let customer = json!({"type": "customer.created", "data": {"object": {"id": "cus_1"}}});
    for when in [
        vec![amount_gt_1000(), type_is_payment()],
        vec![type_is_payment(), amount_gt_1000()],
    ] {
        let rows = rows(MatchMode::All, when);
        assert_eq!(decide(&rows, &customer), Ok(false), "{rows:?}");
    }
}

#[test]
fn under_all_an_undecided_row_fails_the_run_only_when_no_row_is_false_in_either_order() {
    let payment = json!({"type": "payment_intent.succeeded", "data": {"object": {}}});
    for when in [
        vec![amount_gt_1000(), type_is_payment()],
        vec![type_is_payment(), amount_gt_1000()],
    ] {
        let error = decide(&rows(MatchMode::All, when), &payment).unwrap_err();
        assert!(error.contains("data.object.amount is missing"), "{error}");
        assert!(error.starts_with("filter.when["), "names the row: {error}");
    }
}

#[test]
fn under_any_a_held_row_passes_even_when_another_row_cannot_be_decided_in_either_order() {
    let vip = json!({"vip": true});
    let is_vip = row("vip", Op::IsTrue, None);
    let big = row("amount", Op::Gt, v("1000"));
    for when in [vec![is_vip.clone(), big.clone()], vec![big, is_vip]] {
        let rows = rows(MatchMode::Any, when);
        assert_eq!(decide(&rows, &vip), Ok(true));
        assert!(
            decide(&rows, &json!({"vip": false})).is_err(),
            "no row held, one errored"
        );
        assert_eq!(
            decide(&rows, &json!({"vip": false, "amount": 5})),
            Ok(false)
        );
    }
}

#[test]
fn groups_follow_the_same_rule_at_both_levels() {
    let group = |when| ConditionGroup {
        match_mode: MatchMode::All,
        when,
    };
    let event = json!({"type": "customer.created"});
    // The top-level row is false: filtered, though every group has an undecidable row.
    let top_false = Conditions {
        match_mode: MatchMode::All,
        when: vec![type_is_payment()],
        any: vec![group(vec![amount_gt_1000()])],
    };
    assert_eq!(decide(&top_false, &event), Ok(false));
    // One group holds: passes, though the other cannot be decided; in either group order.
    let holds = group(vec![row("type", Op::StartsWith, v("\"customer\""))]);
    let undecided = group(vec![amount_gt_1000()]);
    for any in [
        vec![holds.clone(), undecided.clone()],
        vec![undecided.clone(), holds.clone()],
    ] {
        let rows = Conditions {
            any,
            ..Conditions::default()
        };
        assert_eq!(decide(&rows, &event), Ok(true));
    }
    // Inside a group, a false row decides over an undecidable one.
    let false_group = group(vec![amount_gt_1000(), type_is_payment()]);
    let rows = Conditions {
        any: vec![false_group],
        ..Conditions::default()
    };
    assert_eq!(decide(&rows, &event), Ok(false));
}

#[test]
fn the_reason_names_the_decisive_false_row_and_not_the_undecided_one() {
    let customer = json!({"type": "customer.created"});
    let rows = rows(MatchMode::All, vec![amount_gt_1000(), type_is_payment()]);
    let empty = json!({});
    let input = EvalInput {
        event: &customer,
        headers: &empty,
        meta: &empty,
        output: &serde_json::Value::Null,
    };
    let verdict = rows.evaluate(&input).unwrap();
    assert!(!verdict.passed);
    assert_eq!(
        verdict.reason.as_deref(),
        Some(
            "filter.when[1]: type = \"customer.created\" is not equal to \
             \"payment_intent.succeeded\""
        )
    );
    let undecided = &verdict.rows[0];
    assert!(!undecided.held);
    assert!(
        undecided
            .error
            .as_deref()
            .is_some_and(|e| e.contains("is missing")),
        "the undecided row shows its own error: {undecided:?}"
    );
}
