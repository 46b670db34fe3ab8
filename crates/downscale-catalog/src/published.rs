//! Catalogs of published outputs: an intake-esm collection (JSON and CSV) users open with
//! `intake.open_esm_datastore(...)`, and the web catalog JSON a map tool reads, both built from the stores the
//! runs published, so the catalogs and the data cannot drift apart.
//!
//! A published store's name says what it holds:
//! `<activity>.<institution>.<source>.<experiment>.<member>.<timescale>.<method>.<variable>.zarr` (the original
//! system's naming, e.g. `CMIP5.CNRM-CERFACS.CNRM-CM5.rcp85.r1i1p1.day.BCSD.tas.zarr`); the columns are its parts.
//! intake-esm groups stores equal in activity, institution, source, experiment, timescale and method into one
//! dataset, the variables merged and the members joined along a new `member` dimension, as the original's public
//! catalog did.

use serde_json::{Value, json};

/// The `id` of the intake-esm collection of published stores, by which an earlier one is known and replaced.
pub const COLLECTION_ID: &str = "downscale-published";

/// The `title` of the web catalog, by which an earlier one is known and replaced.
pub const WEB_CATALOG_TITLE: &str = "Downscaled climate projections";

/// The columns of the published catalog, in order.
pub const PUBLISHED_COLUMNS: [&str; 11] = [
    "activity",
    "institution",
    "source",
    "experiment",
    "member",
    "timescale",
    "method",
    "variable",
    "uri",
    "version",
    "run_id",
];

/// One published store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedStore {
    /// The driving model's activity (`CMIP`, `ScenarioMIP`, `CMIP5`).
    pub activity: String,
    /// The modelling centre.
    pub institution: String,
    /// The model.
    pub source: String,
    /// The experiment (`historical`, `ssp245`, `rcp85`).
    pub experiment: String,
    /// The ensemble member.
    pub member: String,
    /// `day`, `month` or `year`.
    pub timescale: String,
    /// The method's label (`BCSD`, `GARD-SV`, ...).
    pub method: String,
    /// The variable.
    pub variable: String,
    /// Where the store is (path or URL).
    pub uri: String,
    /// The version of the program that wrote it.
    pub version: String,
    /// The run that published it.
    pub run_id: String,
}

impl PublishedStore {
    /// The store at `uri` whose file name is `name`, when the name follows the published naming; `None` for other
    /// outputs (a method's extra datasets, such as GARD's `...tas.model.zarr`).
    pub fn from_name(name: &str, uri: &str, version: &str, run_id: &str) -> Option<PublishedStore> {
        let stem = name.strip_suffix(".zarr")?;
        let parts: Vec<&str> = stem.split('.').collect();
        let [activity, institution, source, experiment, member, timescale, method, variable] = parts.as_slice() else {
            return None;
        };
        if !["day", "month", "year"].contains(timescale) {
            return None;
        }
        Some(PublishedStore {
            activity: activity.to_string(),
            institution: institution.to_string(),
            source: source.to_string(),
            experiment: experiment.to_string(),
            member: member.to_string(),
            timescale: timescale.to_string(),
            method: method.to_string(),
            variable: variable.to_string(),
            uri: uri.to_string(),
            version: version.to_string(),
            run_id: run_id.to_string(),
        })
    }

    fn values(&self) -> [&str; 11] {
        [
            &self.activity,
            &self.institution,
            &self.source,
            &self.experiment,
            &self.member,
            &self.timescale,
            &self.method,
            &self.variable,
            &self.uri,
            &self.version,
            &self.run_id,
        ]
    }

    /// How the store's days were aggregated: daily values as they are, monthly and annual means, except
    /// precipitation, which is summed.
    fn aggregation(&self) -> &'static str {
        match (self.timescale.as_str(), self.variable.as_str()) {
            ("day", _) => "none",
            (_, "pr") => "sum",
            _ => "mean",
        }
    }
}

/// The published stores of a results folder, sorted by name.
#[derive(Debug, Clone, Default)]
pub struct PublishedCatalog {
    /// The stores listed.
    pub stores: Vec<PublishedStore>,
}

impl PublishedCatalog {
    /// A catalog of `stores`, sorted by their columns.
    pub fn new(mut stores: Vec<PublishedStore>) -> PublishedCatalog {
        stores.sort_by(|a, b| a.values().cmp(&b.values()));
        PublishedCatalog { stores }
    }

    /// The intake-esm collection JSON describing the CSV `csv_name` (a file beside it).
    pub fn collection_json(&self, id: &str, csv_name: &str, last_updated: &str) -> Value {
        json!({
            "esmcat_version": "0.1.0",
            "id": id,
            "description": "Downscaled daily, monthly and annual outputs published by downscale, one row per store.",
            "catalog_file": csv_name,
            "last_updated": last_updated,
            "attributes": PUBLISHED_COLUMNS
                .iter()
                .filter(|c| **c != "uri")
                .map(|c| json!({"column_name": c, "vocabulary": ""}))
                .collect::<Vec<_>>(),
            "assets": {"column_name": "uri", "format": "zarr"},
            "aggregation_control": {
                "variable_column_name": "variable",
                "groupby_attrs": ["activity", "institution", "source", "experiment", "timescale", "method"],
                "aggregations": [
                    {"type": "union", "attribute_name": "variable"},
                    {"type": "join_new", "attribute_name": "member", "options": {"coords": "minimal", "compat": "override"}},
                ],
            },
        })
    }

    /// The CSV table of the collection.
    pub fn csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let write = |writer: &mut csv::Writer<Vec<u8>>, record: &[&str]| {
            writer.write_record(record).expect("writing CSV into memory does not fail");
        };
        write(&mut writer, &PUBLISHED_COLUMNS);
        for store in &self.stores {
            write(&mut writer, &store.values());
        }
        String::from_utf8(writer.into_inner().expect("an in-memory CSV flushes")).expect("the fields are UTF-8")
    }

    /// The web catalog: the original's JSON for map tools, a record per store.
    pub fn web_catalog(&self, last_updated: &str) -> Value {
        let datasets: Vec<Value> = self
            .stores
            .iter()
            .map(|store| {
                json!({
                    "name": format!(
                        "{}.{}.{}.{}.{}.{}.{}.{}",
                        store.activity,
                        store.institution,
                        store.source,
                        store.experiment,
                        store.member,
                        store.timescale,
                        store.method,
                        store.variable
                    ),
                    "method": store.method,
                    "activity_id": store.activity,
                    "institution_id": store.institution,
                    "source_id": store.source,
                    "experiment_id": store.experiment,
                    "member_id": store.member,
                    "variable_id": store.variable,
                    "timescale": store.timescale,
                    "aggregation": store.aggregation(),
                    "uri": store.uri,
                    "version": store.version,
                    "run_id": store.run_id,
                })
            })
            .collect();
        json!({
            "version": "v1.0.0",
            "title": WEB_CATALOG_TITLE,
            "description": "Every store published by the runs of this results folder that validates, newest run per run id.",
            "last_updated": last_updated,
            "datasets": datasets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_names_give_the_columns_and_other_outputs_are_left_out() {
        let store = PublishedStore::from_name(
            "CMIP5.CNRM-CERFACS.CNRM-CM5.rcp85.r1i1p1.month.BCSD.pr.zarr",
            "/r/x.zarr",
            "0.1.0",
            "run",
        )
        .unwrap();
        assert_eq!(
            (store.source.as_str(), store.timescale.as_str(), store.method.as_str()),
            ("CNRM-CM5", "month", "BCSD")
        );
        assert_eq!(store.aggregation(), "sum");
        assert!(
            PublishedStore::from_name("CMIP5.I.S.historical.r1.day.GARD-SV.tas.model.zarr", "u", "v", "r").is_none()
        );
        assert!(PublishedStore::from_name("notes.zarr", "u", "v", "r").is_none());
    }

    #[test]
    fn the_csv_has_the_columns_and_quotes_what_needs_it() {
        let store =
            PublishedStore::from_name("A.B.C.historical.r1.day.BCSD.tas.zarr", "/a,b/x.zarr", "0.1.0", "r").unwrap();
        let csv = PublishedCatalog::new(vec![store]).csv();
        let mut lines = csv.lines();
        assert_eq!(lines.next().unwrap(), PUBLISHED_COLUMNS.join(","));
        assert_eq!(lines.next().unwrap(), "A,B,C,historical,r1,day,BCSD,tas,\"/a,b/x.zarr\",0.1.0,r");
    }
}
