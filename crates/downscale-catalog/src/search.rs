//! Searching a catalog, and explaining a failed unique lookup well enough that the user can fix the query without
//! opening the CSV: which constraint left nothing and what that column does hold, or what tells the candidates
//! apart.

use std::collections::BTreeSet;

use crate::catalog::{Catalog, Entry};
use downscale_message::escape_controls;

use crate::error::CatalogError;
use crate::query::{CatalogKind, Query, Term};

/// At most this many values or candidates are listed in one message; the rest are counted.
const LISTED: usize = 12;

impl Catalog {
    /// The entries matching every constraint of `query`, in table order. Fails only on an unknown column.
    pub fn search(&self, query: &Query) -> Result<Vec<Entry<'_>>, CatalogError> {
        Ok(self.matching_rows(query)?.into_iter().map(|row| self.entry(row)).collect())
    }

    /// The one entry matching `query`. With none, the error names the constraint that eliminated the last
    /// entries and lists the values its column takes among them, nearest first; with several, it lists the
    /// candidates by the columns that differ between them, and their assets.
    pub fn unique(&self, query: &Query) -> Result<Entry<'_>, CatalogError> {
        let rows = self.matching_rows(query)?;
        match rows.as_slice() {
            [row] => Ok(self.entry(*row)),
            [] => Err(self.no_match(query)),
            _ => Err(self.ambiguous(query, &rows)),
        }
    }

    /// The distinct non-empty values of `column`, sorted.
    pub fn unique_values(&self, column: &str) -> Result<Vec<String>, CatalogError> {
        let index = self.column(column)?;
        let values: BTreeSet<&str> =
            (0..self.len()).map(|row| self.table.cell(row, index)).filter(|v| !v.is_empty()).collect();
        Ok(values.into_iter().map(str::to_string).collect())
    }

    /// Checks that the catalog has the columns of `kind`, so that a model catalog given where observations are
    /// expected (or the reverse) is reported as that, before any lookup fails in a more puzzling way.
    pub fn expect_kind(&self, kind: CatalogKind) -> Result<(), CatalogError> {
        let missing: Vec<String> = kind
            .columns()
            .iter()
            .filter(|column| self.table.column_index(column).is_none())
            .map(|column| (*column).to_string())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(CatalogError::WrongKind { catalog: self.shown.clone(), kind: kind.article_name().to_string(), missing })
        }
    }

    /// The index of `column`, or an error suggesting the nearest existing column.
    fn column(&self, column: &str) -> Result<usize, CatalogError> {
        self.table.column_index(column).ok_or_else(|| {
            let columns = &self.table.columns;
            let nearest = columns
                .iter()
                .max_by(|a, b| similarity(column, a).total_cmp(&similarity(column, b)).then_with(|| b.cmp(a)));
            CatalogError::UnknownColumn {
                catalog: self.shown.clone(),
                column: escape_controls(column),
                nearest: nearest.map(|text| escape_controls(text)).unwrap_or_default(),
                columns: columns.iter().map(|text| escape_controls(text)).collect(),
            }
        })
    }

    fn resolve<'q>(&self, query: &'q Query) -> Result<Vec<(usize, &'q Term)>, CatalogError> {
        query.terms().iter().map(|term| Ok((self.column(&term.column)?, term))).collect()
    }

    fn matching_rows(&self, query: &Query) -> Result<Vec<usize>, CatalogError> {
        let terms = self.resolve(query)?;
        Ok((0..self.len())
            .filter(|&row| terms.iter().all(|(column, term)| self.satisfies(row, *column, term)))
            .collect())
    }

    fn satisfies(&self, row: usize, column: usize, term: &Term) -> bool {
        let cell = self.table.cell(row, column);
        term.values.iter().any(|value| value == cell)
    }

    /// Applies the constraints one by one and blames the first that leaves no entry.
    fn no_match(&self, query: &Query) -> CatalogError {
        let mut remaining: Vec<usize> = (0..self.len()).collect();
        for (i, term) in query.terms().iter().enumerate() {
            let Some(column) = self.table.column_index(&term.column) else { break };
            let next: Vec<usize> = remaining.iter().copied().filter(|&row| self.satisfies(row, column, term)).collect();
            if next.is_empty() {
                let values: BTreeSet<&str> = remaining.iter().map(|&row| self.table.cell(row, column)).collect();
                let mut ranked: Vec<&str> = values.into_iter().collect();
                let score = |value: &str| term.values.iter().map(|w| similarity(w, value)).fold(0.0, f64::max);
                ranked.sort_by(|a, b| score(b).total_cmp(&score(a)).then_with(|| a.cmp(b)));
                let after: Vec<String> = query.terms()[..i].iter().map(Term::to_string).collect();
                let mut reason = format!("{term} leaves none");
                if !after.is_empty() {
                    reason.push_str(&format!(" among the entries with {}", after.join(", ")));
                }
                return CatalogError::NoMatch {
                    catalog: self.shown.clone(),
                    query: query.to_string(),
                    reason,
                    column: escape_controls(&term.column),
                    available: capped(
                        ranked.iter().map(|v| if v.is_empty() { "(empty)".to_string() } else { escape_controls(v) }),
                    ),
                };
            }
            remaining = next;
        }
        CatalogError::Collection {
            catalog: self.shown.clone(),
            detail: format!("no entry matches {query}: the catalog has no entries"),
        }
    }

    fn ambiguous(&self, query: &Query, rows: &[usize]) -> CatalogError {
        let first = rows.first().copied().unwrap_or_default();
        let differing: Vec<usize> = (0..self.table.columns.len())
            .filter(|&column| column != self.asset_column)
            .filter(|&column| rows.iter().any(|&row| self.table.cell(row, column) != self.table.cell(first, column)))
            .collect();
        let candidates = rows.iter().map(|&row| {
            let mut parts: Vec<String> = vec![self.table.short_place(row)];
            for &column in &differing {
                let value = self.table.cell(row, column);
                let value = if value.is_empty() { "(empty)".to_string() } else { escape_controls(value) };
                parts.push(format!("{}={value}", escape_controls(&self.table.columns[column])));
            }
            parts.push(format!("asset={}", escape_controls(self.table.cell(row, self.asset_column))));
            parts.join(" ")
        });
        CatalogError::Ambiguous {
            catalog: self.shown.clone(),
            query: query.to_string(),
            count: rows.len(),
            candidates: capped(candidates),
        }
    }
}

/// The first [`LISTED`] items, and a count of the others.
fn capped(items: impl ExactSizeIterator<Item = String>) -> Vec<String> {
    let total = items.len();
    let mut listed: Vec<String> = items.take(LISTED).collect();
    if total > LISTED {
        listed.push(format!("... and {} more", total - LISTED));
    }
    listed
}

/// Case-insensitive edit similarity in [0, 1]: identifiers differ by a typo or by case far more often than by
/// anything an n-gram measure would catch.
fn similarity(a: &str, b: &str) -> f64 {
    strsim::normalized_damerau_levenshtein(&a.to_lowercase(), &b.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_prefers_typos_and_case_changes() {
        assert!(similarity("CNRM-CM6", "CNRM-CM5") > similarity("CNRM-CM6", "BNU-ESM"));
        assert_eq!(similarity("RCP85", "rcp85"), 1.0);
        assert!(similarity("sourceid", "source_id") > similarity("sourceid", "grid_label"));
    }

    #[test]
    fn long_lists_are_capped_with_a_count() {
        let listed = capped((0..20).map(|i| i.to_string()));
        assert_eq!(listed.len(), LISTED + 1);
        assert_eq!(listed.last().unwrap(), "... and 8 more");
        assert_eq!(capped(["a".to_string()].into_iter()), ["a"]);
    }
}
