//! A recipe's revisions: the list (also the latest few on the recipe page), one revision's TOML
//! with a line diff against another, and restoring it (a new revision by whoever restored).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::format::{ago, when};
use super::{CsrfForm, Layout, UiError, check_csrf, page, see_other};
use crate::manage::{self, DiffLine};
use crate::store::{RevisionSummary, StoredRecipe, UpsertKind};
use crate::web::auth::UiSession;
use crate::web::state::AppState;

/// How many revisions the recipe page lists before "all revisions".
const ON_RECIPE_PAGE: usize = 5;

/// One line of a revisions table.
pub struct RevisionRow {
    pub version: i64,
    pub when: String,
    pub ago: String,
    pub author: String,
    /// The recipe's live version.
    pub current: bool,
}

impl RevisionRow {
    fn new(r: &RevisionSummary, current: Option<i64>) -> Self {
        RevisionRow {
            version: r.version,
            when: when(r.created_at),
            ago: ago(r.created_at),
            author: r.author.clone().unwrap_or_else(|| "unknown".into()),
            current: current == Some(r.version),
        }
    }
}

/// Two versions to compare: `from` (older text, `-` lines) and `to`.
#[derive(Deserialize)]
pub struct CompareQuery {
    from: Option<i64>,
    to: Option<i64>,
    compare: Option<i64>,
}

#[derive(Template)]
#[template(path = "recipes/revisions.html")]
struct ListPage {
    layout: Layout,
    id: String,
    name: String,
    /// The recipe was deleted (its revisions stay).
    deleted: bool,
    revisions: Vec<RevisionRow>,
    /// The versions compared (0: none), and `(from, to, lines)`.
    from: i64,
    to: i64,
    diff: Option<(i64, i64, Vec<DiffLine>)>,
}

#[derive(Template)]
#[template(path = "recipes/revision.html")]
struct ShowPage {
    layout: Layout,
    id: String,
    revision: RevisionRow,
    source: String,
    /// The recipe was deleted (its revisions stay).
    deleted: bool,
    managed_by: Option<String>,
    /// The other versions, to compare with; `from` is the one compared (0: none).
    others: Vec<i64>,
    from: i64,
    diff: Option<(i64, i64, Vec<DiffLine>)>,
}

/// The latest revisions for the recipe page, and how many there are in all.
pub(super) async fn latest(
    state: &AppState,
    id: &str,
) -> Result<(Vec<RevisionRow>, usize), UiError> {
    let all = state.store.list_revisions(id).await?;
    let current = all.first().map(|r| r.version);
    let rows = all
        .iter()
        .take(ON_RECIPE_PAGE)
        .map(|r| RevisionRow::new(r, current))
        .collect();
    Ok((rows, all.len()))
}

/// The diff between two of `revisions` by version (each must exist: 404 naming it).
async fn compare(
    state: &AppState,
    id: &str,
    from: i64,
    to: i64,
) -> Result<(i64, i64, Vec<DiffLine>), UiError> {
    let old = manage::revision(state.store.as_ref(), id, from).await?;
    let new = manage::revision(state.store.as_ref(), id, to).await?;
    Ok((from, to, manage::diff(&old.source, &new.source)))
}

/// The recipe as stored now, if it still exists (revisions outlive a deleted recipe).
async fn current(state: &AppState, id: &str) -> Result<Option<StoredRecipe>, UiError> {
    Ok(state.store.get_recipe(id).await?)
}

/// `GET /recipes/{id}/revisions[?from=A&to=B]`: every revision, newest first, and the diff
/// between two (by default the one before the latest and the latest).
pub async fn list(
    req: HttpRequest,
    session: UiSession,
    id: web::Path<String>,
    query: web::Query<CompareQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let revisions = manage::revisions(state.store.as_ref(), &id).await?;
    let stored = current(&state, &id).await?;
    let pair = match (query.from, query.to) {
        (Some(from), Some(to)) => Some((from, to)),
        _ => match revisions.as_slice() {
            [newest, previous, ..] => Some((previous.version, newest.version)),
            _ => None,
        },
    };
    let diff = match pair {
        Some((from, to)) => Some(compare(&state, &id, from, to).await?),
        None => None,
    };
    let current = stored.as_ref().map(|s| s.version);
    page(&ListPage {
        layout: Layout::new(&session, "recipes", &req),
        name: stored.as_ref().map(|s| s.name.clone()).unwrap_or_default(),
        deleted: stored.is_none(),
        id: id.into_inner(),
        revisions: revisions
            .iter()
            .map(|r| RevisionRow::new(r, current))
            .collect(),
        from: pair.map_or(0, |p| p.0),
        to: pair.map_or(0, |p| p.1),
        diff,
    })
}

/// `GET /recipes/{id}/revisions/{version}[?compare=N]`: its TOML, the diff from version N (by
/// default the one before it) and the restore form.
pub async fn show(
    req: HttpRequest,
    session: UiSession,
    path: web::Path<(String, String)>,
    query: web::Query<CompareQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let (id, version) = path.into_inner();
    let version = parse_version(&id, &version)?;
    let revision = manage::revision(state.store.as_ref(), &id, version).await?;
    let versions: Vec<i64> = state
        .store
        .list_revisions(&id)
        .await?
        .iter()
        .map(|r| r.version)
        .collect();
    let from = query
        .compare
        .or_else(|| versions.iter().copied().find(|v| *v < version));
    let diff = match from {
        Some(from) => Some(compare(&state, &id, from, version).await?),
        None => None,
    };
    let stored = current(&state, &id).await?;
    page(&ShowPage {
        layout: Layout::new(&session, "recipes", &req),
        revision: RevisionRow::new(&revision.summary(), stored.as_ref().map(|s| s.version)),
        source: revision.source,
        deleted: stored.is_none(),
        managed_by: stored.and_then(|s| s.managed_by),
        others: versions.into_iter().filter(|v| *v != version).collect(),
        from: from.unwrap_or(0),
        diff,
        id,
    })
}

/// `POST /recipes/{id}/revisions/{version}/restore`: saves that TOML as the recipe (a new
/// revision by the session's user). File-managed recipes refuse (409 naming the file).
pub async fn restore(
    session: UiSession,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    check_csrf(&session, &form.csrf)?;
    let (id, version) = path.into_inner();
    let version = parse_version(&id, &version)?;
    let (kind, stored) = manage::restore_revision(
        state.store.as_ref(),
        state.cache.scripts(),
        &id,
        version,
        &session.author(),
    )
    .await?;
    let done = match kind {
        UpsertKind::Unchanged => "unchanged",
        _ => "restored",
    };
    Ok(see_other(&format!("/recipes/{}?done={done}", stored.id)))
}

fn parse_version(id: &str, version: &str) -> Result<i64, UiError> {
    version.parse().map_err(|_| {
        UiError::NotFound(format!(
            "Recipe `{id}` has no version `{version}`: versions are whole numbers."
        ))
    })
}
