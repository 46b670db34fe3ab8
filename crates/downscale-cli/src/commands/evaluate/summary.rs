//! The evaluation's land means on stdout.

use downscale_evaluate::Evaluation;

/// The land-mean numbers on stdout: a row per statistic, the observed value then each product's value and
/// comparison.
pub(super) fn print_summary(evaluation: &Evaluation) {
    print_skill(evaluation);
    match (&evaluation.change_signal, &evaluation.change_signal_skipped) {
        (Some(change), _) => {
            println!("change from the historical run, land means (relative changes as fractions):");
            println!("{:<18} {:>11} {:>11} {:>11}  unit", "statistic", "downscaled", "model", "departure");
            for statistic in &change.statistics {
                println!(
                    "{:<18} {:>11.4} {:>11.4} {:>11.4}  {}",
                    statistic.name,
                    statistic.downscaled.land_mean,
                    statistic.model.land_mean,
                    statistic.departure.land_mean,
                    statistic.units
                );
            }
        }
        (None, Some(reason)) => println!("no change signal: {reason}"),
        (None, None) => {}
    }
}

fn print_skill(evaluation: &Evaluation) {
    let Some(skill) = &evaluation.skill else {
        if let Some(reason) = &evaluation.skill_skipped {
            println!("no skill against the observations: {reason}");
        }
        return;
    };
    println!(
        "{} against the observations, {} to {} ({} days), land means:",
        evaluation.run_id, skill.period.first, skill.period.last, skill.period.days
    );
    let products: Vec<&String> = skill.products.iter().collect();
    let mut header = format!("{:<18} {:>10}", "statistic", "observed");
    for product in &products {
        header += &format!(" {:>11} {:>11}", product, "comparison");
    }
    println!("{header}  unit");
    for statistic in &skill.statistics {
        let mut row = format!("{:<18} {:>10.4}", statistic.name, statistic.observed.land_mean);
        for product in &products {
            let maps = &statistic.products[*product];
            row += &format!(" {:>11.4} {:>11.4}", maps.value.land_mean, maps.skill.land_mean);
        }
        println!("{row}  {} ({:?})", statistic.units, statistic.comparison);
    }
    for paired in &skill.paired {
        let mut row = format!("{:<18} {:>10}", paired.name, "");
        for product in &products {
            row += &format!(" {:>11} {:>11.4}", "", paired.products[*product].land_mean);
        }
        println!("{row}  {}", paired.units);
    }
    for (product, r) in &skill.pattern_correlation {
        println!("pattern correlation of the mean ({product}): {r:.4}");
    }
}
