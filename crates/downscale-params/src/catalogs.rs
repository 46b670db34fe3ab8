//! Data coverage answered by the two intake-esm catalogs the tool reads: models keyed like CMIP, observations by
//! product and variable.

use downscale_catalog::{Catalog, CatalogError, CatalogKind, Entry, ModelKey, ObsKey, PREDICTORS_FOR_COLUMN, Query};

use crate::coverage::{Coverage, DataCoverage, Miss, ModelData};
use crate::generate::Experiment;

/// A model catalog and an observation catalog.
pub struct CatalogCoverage {
    /// The model catalog, keyed like CMIP.
    pub model: Catalog,
    /// The observation catalog, keyed by product and variable.
    pub obs: Catalog,
}

impl CatalogCoverage {
    /// Checks that each catalog has the columns of its kind.
    pub fn new(model: Catalog, obs: Catalog) -> Result<CatalogCoverage, downscale_catalog::CatalogError> {
        model.expect_kind(CatalogKind::Model)?;
        obs.expect_kind(CatalogKind::Observation)?;
        Ok(CatalogCoverage { model, obs })
    }

    /// Every (model, member, experiment, table, grid) the model catalog holds.
    pub fn experiments(&self) -> Vec<Experiment> {
        let mut experiments: Vec<Experiment> = self
            .model
            .entries()
            .filter_map(|entry| {
                Some(Experiment {
                    source_id: entry.get("source_id")?.to_owned(),
                    member_id: entry.get("member_id")?.to_owned(),
                    experiment_id: entry.get("experiment_id")?.to_owned(),
                    table_id: entry.get("table_id")?.to_owned(),
                    grid_label: entry.get("grid_label")?.to_owned(),
                })
            })
            .collect();
        experiments.sort();
        experiments.dedup();
        experiments
    }
}

/// The years of a dataset split over several entries (CMIP files are split in time): the span of them all when
/// every entry says its years and they leave no gap, unknown when one does not say.
fn coverage_of(entries: &[Entry<'_>]) -> Result<Coverage, String> {
    if entries.is_empty() {
        return Ok(Coverage::Missing);
    }
    let mut spans = Vec::with_capacity(entries.len());
    for entry in entries {
        match entry.years() {
            Some(years) => spans.push(years),
            None => return Ok(Coverage::Present(None)),
        }
    }
    spans.sort_unstable();
    let (first, mut last) = spans[0];
    for &(start, end) in &spans[1..] {
        if start > last + 1 {
            return Err(format!(
                "the data have a gap between {last} and {start} ({} and {})",
                entries[0].place(),
                entries[entries.len() - 1].place()
            ));
        }
        last = last.max(end);
    }
    Ok(Coverage::Present(Some((first, last))))
}

fn model_key(data: &ModelData<'_>) -> ModelKey {
    ModelKey::new(data.source_id, data.experiment_id, data.variable_id)
        .member(data.member_id)
        .table(data.table_id)
        .grid(data.grid_label)
}

impl DataCoverage for CatalogCoverage {
    fn model(&self, data: &ModelData<'_>) -> Result<Coverage, String> {
        let entries = self.model.search(&model_key(data).query()).map_err(|e| e.to_string())?;
        coverage_of(&entries)
    }

    fn model_miss(&self, data: &ModelData<'_>) -> Option<Miss> {
        match self.model.unique(&model_key(data).query()) {
            Err(CatalogError::NoMatch { column, available, .. }) => Some(Miss { column, available }),
            _ => None,
        }
    }

    /// The product's own rows of the variable, else those of its predictor product (a reanalysis whose
    /// `predictors_for` names it), which a GARD run trains on for the variables the observations lack.
    fn obs(&self, source_id: &str, variable_id: &str) -> Result<Coverage, String> {
        let key = ObsKey::new(source_id, variable_id);
        let entries = self.obs.search(&key.query()).map_err(|e| e.to_string())?;
        if entries.is_empty() && self.obs.columns().iter().any(|c| c == PREDICTORS_FOR_COLUMN) {
            let query = Query::new().eq(PREDICTORS_FOR_COLUMN, source_id).eq("variable_id", variable_id);
            return coverage_of(&self.obs.search(&query).map_err(|e| e.to_string())?);
        }
        coverage_of(&entries)
    }

    fn models(&self) -> Vec<String> {
        self.model.unique_values("source_id").unwrap_or_default()
    }

    fn obs_products(&self) -> Vec<String> {
        self.obs.unique_values("source_id").unwrap_or_default()
    }

    fn model_source(&self) -> String {
        format!("the model catalog {}", self.model.path().display())
    }

    fn obs_source(&self) -> String {
        format!("the observation catalog {}", self.obs.path().display())
    }
}
