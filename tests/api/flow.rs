//! Flow control on actions (issue 11): per-action conditions, delays, chained actions.

mod branching;
mod chains;
mod delays;
