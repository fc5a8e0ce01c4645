//! Row shapes and their conversions, shared by the SQLite and PostgreSQL stores (both store
//! times as integer milliseconds, JSON as text and booleans natively, outside text as [`Text`]).

use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, FromRow, Postgres, Sqlite, Type, encode::IsNull};

use crate::store::{
    AttemptView, DeliveryView, EventRecord, EventStatus, EventSummary, RecipeStats, RunView,
    StoreError, StoredRecipe, from_ms,
};

/// Text that comes from outside (error messages, response snippets, dedupe keys, sender delivery
/// ids, refusal reasons, content types), kept as exactly its UTF-8 bytes, U+0000 included, so
/// both stores give back what they were given. SQLite TEXT holds any such string as it is;
/// PostgreSQL TEXT refuses U+0000 (SQLSTATE 22021), so these columns are BYTEA there
/// (`migrations/postgres/0003_outside_text.sql`). JSON columns need none of this: serde_json
/// writes U+0000 as the escape `\u0000`. Bind `Text(&str)`; rows decode to `Text<String>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text<S = String>(pub(crate) S);

impl Text {
    pub(crate) fn into_string(self) -> String {
        self.0
    }
}

impl<S> Type<Sqlite> for Text<S> {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<S: AsRef<str>> Encode<'_, Sqlite> for Text<S> {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        <&str as Encode<Sqlite>>::encode_by_ref(&self.0.as_ref(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Text {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        <String as Decode<Sqlite>>::decode(value).map(Text)
    }
}

impl<S> Type<Postgres> for Text<S> {
    fn type_info() -> PgTypeInfo {
        <Vec<u8> as Type<Postgres>>::type_info()
    }
}

impl<S: AsRef<str>> Encode<'_, Postgres> for Text<S> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <&[u8] as Encode<Postgres>>::encode_by_ref(&self.0.as_ref().as_bytes(), buf)
    }
}

impl<'r> Decode<'r, Postgres> for Text {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let bytes = <Vec<u8> as Decode<Postgres>>::decode(value)?;
        String::from_utf8(bytes)
            .map(Text)
            .map_err(|e| format!("stored text is not UTF-8: {e}").into())
    }
}

/// The select-list item giving an event summary its latest run's `filter_reason` (the same
/// SQL on both backends; `events` must be the table's name in the query, not aliased).
macro_rules! latest_filter_reason {
    () => {
        "(SELECT r.filter_reason FROM runs r WHERE r.event_id = events.id \
         ORDER BY r.created_at DESC, r.id DESC LIMIT 1) AS filter_reason"
    };
}
pub(crate) use latest_filter_reason;

/// The select-list item, with its leading comma, giving an event summary the error of one of
/// its dead deliveries (the same SQL on both backends; `events` not aliased).
macro_rules! dead_delivery_error {
    () => {
        ", (SELECT d.last_error FROM deliveries d WHERE d.event_id = events.id \
         AND d.status = 'dead' ORDER BY d.action_index, d.id LIMIT 1) AS delivery_error"
    };
}
pub(crate) use dead_delivery_error;

/// `SELECT` and the columns of a [`SummaryRow`], for queries `FROM events` (not aliased).
macro_rules! select_summary {
    () => {
        concat!(
            "SELECT id, recipe_id, trigger, received_at, status, error, ",
            crate::store::rows::latest_filter_reason!(),
            crate::store::rows::dead_delivery_error!()
        )
    };
}
pub(crate) use select_summary;

#[derive(FromRow)]
pub(crate) struct ClaimedRow {
    pub(crate) id: String,
    pub(crate) event_id: String,
    pub(crate) recipe_id: String,
    pub(crate) action_name: String,
    /// NULL on rows written before deliveries named their version (they carry `action`).
    pub(crate) recipe_version: Option<i64>,
    pub(crate) action_index: i64,
    pub(crate) action: Option<String>,
    pub(crate) output: String,
    pub(crate) attempt_count: i64,
    pub(crate) payload: String,
    pub(crate) secrets_generation: i64,
}

#[derive(FromRow)]
pub(crate) struct DeliveryRow {
    pub(crate) id: String,
    pub(crate) action_name: String,
    pub(crate) status: String,
    pub(crate) attempt_count: i64,
    pub(crate) next_attempt_at: Option<i64>,
    pub(crate) last_error: Option<Text>,
}

#[derive(FromRow)]
pub(crate) struct AttemptRow {
    pub(crate) delivery_id: String,
    pub(crate) attempt_no: i64,
    pub(crate) started_at: i64,
    pub(crate) duration_ms: i64,
    pub(crate) status_code: Option<i64>,
    pub(crate) response_snippet: Option<Text>,
    pub(crate) error: Option<Text>,
}

#[derive(FromRow)]
pub(crate) struct EventRow {
    pub(crate) id: String,
    pub(crate) recipe_id: String,
    pub(crate) trigger: String,
    pub(crate) received_at: i64,
    pub(crate) content_type: Option<Text>,
    pub(crate) headers: String,
    pub(crate) body: Vec<u8>,
    pub(crate) payload: String,
    pub(crate) status: String,
    pub(crate) error: Option<Text>,
    pub(crate) replay: bool,
}

impl TryFrom<EventRow> for EventRecord {
    type Error = StoreError;
    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        Ok(EventRecord {
            headers: parse_json(&row.headers, "event headers")?,
            payload: parse_json(&row.payload, "event payload")?,
            status: parse_status(&row.status)?,
            id: row.id,
            recipe_id: row.recipe_id,
            trigger: row.trigger,
            received_at: from_ms(row.received_at),
            content_type: row.content_type.map(Text::into_string),
            body: row.body,
            error: row.error.map(Text::into_string),
            replay: row.replay,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct RunRow {
    pub(crate) id: String,
    pub(crate) recipe_version: i64,
    pub(crate) status: String,
    pub(crate) dedupe_key: Option<Text>,
    pub(crate) output: Option<String>,
    pub(crate) error: Option<Text>,
    pub(crate) filter_reason: Option<Text>,
    pub(crate) created_at: i64,
}

impl TryFrom<RunRow> for RunView {
    type Error = StoreError;
    fn try_from(r: RunRow) -> Result<Self, StoreError> {
        Ok(RunView {
            status: parse_status(&r.status)?,
            output: r
                .output
                .as_deref()
                .map(|o| parse_json(o, "run output"))
                .transpose()?,
            id: r.id,
            recipe_version: r.recipe_version,
            dedupe_key: r.dedupe_key.map(Text::into_string),
            filter_reason: r.filter_reason.map(Text::into_string),
            error: r.error.map(Text::into_string),
            created_at: from_ms(r.created_at),
        })
    }
}

/// One line of an event list.
#[derive(FromRow)]
pub(crate) struct SummaryRow {
    pub(crate) id: String,
    pub(crate) recipe_id: String,
    pub(crate) trigger: String,
    pub(crate) received_at: i64,
    pub(crate) status: String,
    pub(crate) error: Option<Text>,
    pub(crate) filter_reason: Option<Text>,
    pub(crate) delivery_error: Option<Text>,
}

impl TryFrom<SummaryRow> for EventSummary {
    type Error = StoreError;
    fn try_from(row: SummaryRow) -> Result<Self, StoreError> {
        Ok(EventSummary {
            status: parse_status(&row.status)?,
            id: row.id,
            recipe_id: row.recipe_id,
            trigger: row.trigger,
            received_at: from_ms(row.received_at),
            error: row.error.map(Text::into_string),
            filter_reason: row.filter_reason.map(Text::into_string),
            delivery_error: row.delivery_error.map(Text::into_string),
        })
    }
}

/// Merges the per-status pages of an event list: newest first, at most `limit`.
pub(crate) fn merge_pages(mut rows: Vec<SummaryRow>, limit: u32) -> Vec<SummaryRow> {
    rows.sort_by(|a, b| (b.received_at, &b.id).cmp(&(a.received_at, &a.id)));
    rows.truncate(limit as usize);
    rows
}

/// An event's deliveries, each with its attempts (given in attempt order).
pub(crate) fn assemble_deliveries(
    rows: Vec<DeliveryRow>,
    attempts: Vec<AttemptRow>,
) -> Vec<DeliveryView> {
    rows.into_iter()
        .map(|row| DeliveryView {
            attempts: attempts
                .iter()
                .filter(|a| a.delivery_id == row.id)
                .map(|a| AttemptView {
                    attempt_no: a.attempt_no as u32,
                    started_at: from_ms(a.started_at),
                    duration_ms: a.duration_ms,
                    status_code: a.status_code.map(|c| c as u16),
                    response_snippet: a.response_snippet.as_ref().map(|t| t.0.clone()),
                    error: a.error.as_ref().map(|t| t.0.clone()),
                })
                .collect(),
            id: row.id,
            action_name: row.action_name,
            status: row.status,
            attempt_count: row.attempt_count as u32,
            next_attempt_at: row.next_attempt_at.map(from_ms),
            last_error: row.last_error.map(Text::into_string),
        })
        .collect()
}

pub(crate) fn parse_status(s: &str) -> Result<EventStatus, StoreError> {
    EventStatus::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown status `{s}`")))
}

/// A row of `recipe_versions` read as a revision.
#[derive(FromRow)]
pub(crate) struct RevisionRow {
    pub(crate) recipe_id: String,
    pub(crate) version: i64,
    pub(crate) created_at: i64,
    pub(crate) author: Option<String>,
    pub(crate) source: String,
}

#[derive(FromRow)]
pub(crate) struct RevisionSummaryRow {
    pub(crate) version: i64,
    pub(crate) created_at: i64,
    pub(crate) author: Option<String>,
}

impl From<RevisionSummaryRow> for crate::store::RevisionSummary {
    fn from(row: RevisionSummaryRow) -> Self {
        crate::store::RevisionSummary {
            version: row.version,
            created_at: from_ms(row.created_at),
            author: row.author,
        }
    }
}

impl From<RevisionRow> for crate::store::RecipeRevision {
    fn from(row: RevisionRow) -> Self {
        crate::store::RecipeRevision {
            recipe_id: row.recipe_id,
            version: row.version,
            created_at: from_ms(row.created_at),
            author: row.author,
            source: row.source,
        }
    }
}

#[derive(FromRow)]
pub(crate) struct RecipeRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) enabled: bool,
    pub(crate) version: i64,
    pub(crate) source: String,
    pub(crate) webhook_token: String,
    pub(crate) managed_by: Option<String>,
    pub(crate) paused_at: Option<i64>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

impl From<RecipeRow> for StoredRecipe {
    fn from(row: RecipeRow) -> Self {
        StoredRecipe {
            id: row.id,
            name: row.name,
            enabled: row.enabled,
            version: row.version,
            source: row.source,
            webhook_token: row.webhook_token,
            managed_by: row.managed_by,
            paused_at: row.paused_at.map(from_ms),
            created_at: from_ms(row.created_at),
            updated_at: from_ms(row.updated_at),
        }
    }
}

pub(crate) fn parse_json(text: &str, what: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// Per recipe and event status: events received since `$1`, the latest event of any age, and
/// the events with a delivery waiting to retry. `$1` binds by number in both dialects.
pub(crate) const RECIPE_STATS: &str = "SELECT r.id, e.status, COUNT(e.id),
        (SELECT MAX(x.received_at) FROM events x WHERE x.recipe_id = r.id),
        (SELECT COUNT(DISTINCT d.event_id) FROM deliveries d
          WHERE d.recipe_id = r.id AND d.status = 'pending' AND d.last_error IS NOT NULL)
     FROM recipes r LEFT JOIN events e ON e.recipe_id = r.id AND e.received_at >= $1
     GROUP BY r.id, e.status ORDER BY r.id";

/// `(recipe, status, count, last event, retrying)`, one row per recipe and status.
pub(crate) type StatsRow = (String, Option<String>, i64, Option<i64>, i64);

/// Folds [`RECIPE_STATS`] rows into one [`RecipeStats`] per recipe, in recipe order.
pub(crate) fn recipe_stats(rows: Vec<StatsRow>) -> Result<Vec<RecipeStats>, StoreError> {
    let mut stats: Vec<RecipeStats> = Vec::new();
    for (recipe_id, status, count, last, retrying) in rows {
        if stats.last().is_none_or(|s| s.recipe_id != recipe_id) {
            stats.push(RecipeStats {
                recipe_id,
                last_event_at: last.map(from_ms),
                retrying: retrying.max(0) as u64,
                ..RecipeStats::default()
            });
        }
        let (Some(stat), Some(status)) = (stats.last_mut(), status) else {
            continue;
        };
        let count = count.max(0) as u64;
        let status = parse_status(&status)?;
        if status == EventStatus::Split {
            // The request of a split: its elements are the events counted.
            continue;
        }
        stat.events += count;
        *match status {
            EventStatus::Pending | EventStatus::Done => &mut stat.in_progress,
            EventStatus::Delivered => &mut stat.delivered,
            EventStatus::Filtered | EventStatus::Duplicate => &mut stat.skipped,
            EventStatus::Failed => &mut stat.failed,
            EventStatus::Dead => &mut stat.dead,
            EventStatus::Split => unreachable!("skipped above"),
        } += count;
    }
    Ok(stats)
}
