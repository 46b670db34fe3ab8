//! Queries: which values each column must take; plus typed keys for the two kinds of catalog the tool reads.

use std::fmt;

use downscale_message::escape_controls;

/// One constraint: the column must hold one of `values` (exact, case-sensitive match, as in intake-esm).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Term {
    pub column: String,
    pub values: Vec<String>,
}

/// A conjunction of constraints, built fluently:
/// `Query::new().eq("source_id", "CNRM-CM5").any_of("experiment_id", ["historical", "rcp85"])`.
///
/// Constraints are kept in the order given, which is also the order in which a failed [`unique`] explains which
/// constraint eliminated the last entries. Constraining the same column twice requires both.
///
/// [`unique`]: crate::Catalog::unique
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    terms: Vec<Term>,
}

impl Query {
    /// The empty query, which every entry matches.
    pub fn new() -> Query {
        Query::default()
    }

    /// Requires `column` to equal `value`.
    pub fn eq(self, column: impl Into<String>, value: impl Into<String>) -> Query {
        self.any_of(column, [value.into()])
    }

    /// Requires `column` to equal one of `values` (none given: nothing matches).
    pub fn any_of<I, S>(mut self, column: impl Into<String>, values: I) -> Query
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.terms.push(Term { column: column.into(), values: values.into_iter().map(Into::into).collect() });
        self
    }

    /// The constraints as `(column, accepted values)`, in the order given.
    pub fn constraints(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.terms.iter().map(|t| (t.column.as_str(), t.values.as_slice()))
    }

    /// Whether the query has no constraint, and so matches every entry.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub(crate) fn terms(&self) -> &[Term] {
        &self.terms
    }
}

impl Term {
    /// The accepted values as messages show them: `historical|rcp85`.
    pub(crate) fn shown_values(&self) -> String {
        if self.values.is_empty() {
            "(nothing)".to_string()
        } else {
            self.values.iter().map(|text| escape_controls(text)).collect::<Vec<_>>().join("|")
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", escape_controls(&self.column), self.shown_values())
    }
}

/// `source_id=CNRM-CM5, experiment_id=historical|rcp85`; the empty query shows as `(all entries)`.
impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.terms.is_empty() {
            return f.write_str("(all entries)");
        }
        let terms: Vec<String> = self.terms.iter().map(Term::to_string).collect();
        f.write_str(&terms.join(", "))
    }
}

/// The two kinds of catalog the tool reads, each defined by the columns it must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogKind {
    /// GCM output keyed like CMIP (the Pangeo CMIP6 catalog's columns).
    Model,
    /// Gridded observations or reanalyses, keyed by product and variable.
    Observation,
}

impl CatalogKind {
    /// The columns a catalog of this kind must have.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            CatalogKind::Model => &[
                "activity_id",
                "institution_id",
                "source_id",
                "experiment_id",
                "member_id",
                "table_id",
                "variable_id",
                "grid_label",
            ],
            CatalogKind::Observation => &["source_id", "variable_id"],
        }
    }

    /// "a model", "an observation" (for messages).
    pub fn article_name(self) -> &'static str {
        match self {
            CatalogKind::Model => "a model",
            CatalogKind::Observation => "an observation",
        }
    }
}

/// The key of one model dataset in a CMIP-style catalog.
///
/// Source, experiment and variable are always needed; the other columns are constrained only when set, so that
/// a catalog holding a single member, table or grid needs no more than those three.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelKey {
    /// The model, e.g. `CanESM5`.
    pub source_id: String,
    /// The experiment, e.g. `historical`, `ssp245`.
    pub experiment_id: String,
    /// The CMIP variable, e.g. `tasmax`, `pr`.
    pub variable_id: String,
    /// The ensemble member, e.g. `r1i1p1f1`; any when `None`.
    pub member_id: Option<String>,
    /// The CMIP table (frequency and realm), e.g. `day`; any when `None`.
    pub table_id: Option<String>,
    /// The grid, e.g. `gn`; any when `None`.
    pub grid_label: Option<String>,
    /// The CMIP activity, e.g. `ScenarioMIP`; any when `None`.
    pub activity_id: Option<String>,
    /// The modelling centre, e.g. `CCCma`; any when `None`.
    pub institution_id: Option<String>,
}

impl ModelKey {
    /// The key of a model, experiment and variable, any member, table, grid, activity and institution.
    pub fn new(
        source_id: impl Into<String>,
        experiment_id: impl Into<String>,
        variable_id: impl Into<String>,
    ) -> ModelKey {
        ModelKey {
            source_id: source_id.into(),
            experiment_id: experiment_id.into(),
            variable_id: variable_id.into(),
            member_id: None,
            table_id: None,
            grid_label: None,
            activity_id: None,
            institution_id: None,
        }
    }

    /// The key restricted to one ensemble member.
    pub fn member(mut self, member_id: impl Into<String>) -> ModelKey {
        self.member_id = Some(member_id.into());
        self
    }

    /// The key restricted to one CMIP table.
    pub fn table(mut self, table_id: impl Into<String>) -> ModelKey {
        self.table_id = Some(table_id.into());
        self
    }

    /// The key restricted to one grid.
    pub fn grid(mut self, grid_label: impl Into<String>) -> ModelKey {
        self.grid_label = Some(grid_label.into());
        self
    }

    /// The key restricted to one activity.
    pub fn activity(mut self, activity_id: impl Into<String>) -> ModelKey {
        self.activity_id = Some(activity_id.into());
        self
    }

    /// The key restricted to one modelling centre.
    pub fn institution(mut self, institution_id: impl Into<String>) -> ModelKey {
        self.institution_id = Some(institution_id.into());
        self
    }

    /// The query, with the constraints in CMIP's order (most general first), so that a failed lookup blames the
    /// most general mismatch: a misspelt model is reported as such, not as a missing member.
    pub fn query(&self) -> Query {
        let optional = |query: Query, column: &str, value: &Option<String>| match value {
            Some(value) => query.eq(column, value.clone()),
            None => query,
        };
        let query = optional(Query::new(), "activity_id", &self.activity_id);
        let query = optional(query, "institution_id", &self.institution_id);
        let query = query.eq("source_id", self.source_id.clone()).eq("experiment_id", self.experiment_id.clone());
        let query = optional(query, "member_id", &self.member_id);
        let query = optional(query, "table_id", &self.table_id);
        let query = query.eq("variable_id", self.variable_id.clone());
        optional(query, "grid_label", &self.grid_label)
    }
}

/// The key of one observation dataset: product and variable, and the frequency when the catalog mixes several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObsKey {
    /// The observation product, e.g. `ERA5`.
    pub source_id: String,
    /// The variable, named as the model catalog names it.
    pub variable_id: String,
    /// The frequency, e.g. `day`; any when `None`.
    pub frequency: Option<String>,
}

impl ObsKey {
    /// The key of a product and variable, at any frequency.
    pub fn new(source_id: impl Into<String>, variable_id: impl Into<String>) -> ObsKey {
        ObsKey { source_id: source_id.into(), variable_id: variable_id.into(), frequency: None }
    }

    /// The key restricted to one frequency.
    pub fn frequency(mut self, frequency: impl Into<String>) -> ObsKey {
        self.frequency = Some(frequency.into());
        self
    }

    /// The query: product, variable, then frequency when set.
    pub fn query(&self) -> Query {
        let query = Query::new().eq("source_id", self.source_id.clone()).eq("variable_id", self.variable_id.clone());
        match &self.frequency {
            Some(frequency) => query.eq("frequency", frequency.clone()),
            None => query,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_display_in_the_order_given() {
        let query = Query::new().eq("source_id", "CNRM-CM5").any_of("experiment_id", ["historical", "rcp85"]);
        assert_eq!(query.to_string(), "source_id=CNRM-CM5, experiment_id=historical|rcp85");
        assert_eq!(Query::new().to_string(), "(all entries)");
        assert_eq!(Query::new().any_of("x", Vec::<String>::new()).to_string(), "x=(nothing)");
    }

    #[test]
    fn model_keys_constrain_only_what_is_set() {
        let key = ModelKey::new("CNRM-CM5", "historical", "tas");
        assert_eq!(key.query().to_string(), "source_id=CNRM-CM5, experiment_id=historical, variable_id=tas");
        let full = key.member("r1i1p1").table("day").grid("gn").activity("CMIP5").institution("CNRM-CERFACS");
        assert_eq!(
            full.query().to_string(),
            "activity_id=CMIP5, institution_id=CNRM-CERFACS, source_id=CNRM-CM5, experiment_id=historical, \
             member_id=r1i1p1, table_id=day, variable_id=tas, grid_label=gn"
        );
        assert_eq!(
            ObsKey::new("E-OBS", "pr").frequency("day").query().to_string(),
            "source_id=E-OBS, variable_id=pr, frequency=day"
        );
    }
}
