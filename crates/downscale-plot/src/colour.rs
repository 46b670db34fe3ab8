//! Colour scales and the value range they span.

/// An sRGB colour, 8 bits a channel.
pub type Rgb = [u8; 3];

/// The colour of cells without data (sea outside the land mask, missing days): a neutral light grey. Both scales
/// are tinted everywhere but the diverging scale's near-white centre, so no value is ever drawn in this colour and
/// a grey cell always means "no data" (the unit tests check the distance to every colour of both scales).
pub const NO_DATA_COLOUR: Rgb = [190, 190, 190];

/// How values become colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColourScale {
    /// Dark blue through green to yellow (matplotlib's viridis): lightness rises steadily with the value, so the
    /// order of values reads the same in colour, in grey print and for colour-blind readers.
    #[default]
    Sequential,
    /// Blue below zero, white at zero, red above (ColorBrewer's RdBu reversed), over a range symmetric about zero:
    /// for differences, where the sign is the message and zero must be the neutral colour.
    Diverging,
}

/// Viridis at nine evenly spaced points; linear interpolation between them stays within a unit or two of the full
/// 256-entry table.
const VIRIDIS: [Rgb; 9] = [
    [68, 1, 84],
    [71, 44, 122],
    [59, 81, 139],
    [44, 113, 142],
    [33, 144, 141],
    [39, 173, 129],
    [92, 200, 99],
    [170, 220, 50],
    [253, 231, 37],
];

/// ColorBrewer RdBu (9 classes), blue end first.
const BLUE_WHITE_RED: [Rgb; 9] = [
    [33, 102, 172],
    [67, 147, 195],
    [146, 197, 222],
    [209, 229, 240],
    [247, 247, 247],
    [253, 219, 199],
    [244, 165, 130],
    [214, 96, 77],
    [178, 24, 43],
];

impl ColourScale {
    /// The colour at `position` along the scale, 0 at its low end and 1 at its high end (clamped).
    pub fn colour_at(self, position: f64) -> Rgb {
        let anchors = match self {
            ColourScale::Sequential => &VIRIDIS,
            ColourScale::Diverging => &BLUE_WHITE_RED,
        };
        let scaled = position.clamp(0.0, 1.0) * (anchors.len() - 1) as f64;
        let below = (scaled.floor() as usize).min(anchors.len() - 2);
        let weight = scaled - below as f64;
        let (low, high) = (anchors[below], anchors[below + 1]);
        std::array::from_fn(|channel| {
            (f64::from(low[channel]) + weight * (f64::from(high[channel]) - f64::from(low[channel]))).round() as u8
        })
    }

    /// The range of `values` this scale spans: the finite values' minimum and maximum, or with `robust` their 2nd
    /// and 98th percentiles, which keep a few extreme cells (a glacier, a coastal artefact, one storm's
    /// precipitation) from stretching the scale until the rest of the field is one colour; cells beyond are drawn
    /// in the end colours. A diverging range is widened to be symmetric about zero, so white means zero. `None`
    /// when no value is finite. A range of one value is widened by half a unit each way, so it still has a length.
    pub fn value_range(self, values: impl IntoIterator<Item = f32>, robust: bool) -> Option<(f64, f64)> {
        let mut finite: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).map(f64::from).collect();
        if finite.is_empty() {
            return None;
        }
        finite.sort_by(f64::total_cmp);
        let (mut low, mut high) = if robust {
            (percentile(&finite, 2.0), percentile(&finite, 98.0))
        } else {
            (finite[0], finite[finite.len() - 1])
        };
        if self == ColourScale::Diverging {
            high = low.abs().max(high.abs());
            low = -high;
        }
        if high - low <= f64::EPSILON * high.abs().max(1.0) {
            (low, high) = (low - 0.5, high + 0.5);
        }
        Some((low, high))
    }
}

/// The `p`th percentile (0..=100) of ascending `sorted` values, interpolating linearly between the two nearest
/// (numpy's default), so the colour range agrees with what a user computes in Python.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let below = rank.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    sorted[below] + (rank - below as f64) * (sorted[above] - sorted[below])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distance(a: Rgb, b: Rgb) -> f64 {
        a.iter().zip(b).map(|(&x, y)| (f64::from(x) - f64::from(y)).powi(2)).sum::<f64>().sqrt()
    }

    #[test]
    fn scales_run_between_their_anchors() {
        assert_eq!(ColourScale::Sequential.colour_at(0.0), VIRIDIS[0]);
        assert_eq!(ColourScale::Sequential.colour_at(1.0), VIRIDIS[8]);
        assert_eq!(ColourScale::Sequential.colour_at(7.0), VIRIDIS[8], "clamped above");
        assert_eq!(ColourScale::Diverging.colour_at(0.5), [247, 247, 247], "white at the centre");
        assert_eq!(ColourScale::Diverging.colour_at(-1.0), BLUE_WHITE_RED[0], "clamped below");
        let halfway = ColourScale::Sequential.colour_at(1.0 / 16.0);
        assert_eq!(halfway, [70, 23, 103], "halfway between the first two anchors");
        let lightness = |c: Rgb| 0.2126 * f64::from(c[0]) + 0.7152 * f64::from(c[1]) + 0.0722 * f64::from(c[2]);
        let steps: Vec<f64> =
            (0..=100).map(|i| lightness(ColourScale::Sequential.colour_at(f64::from(i) / 100.0))).collect();
        assert!(steps.windows(2).all(|w| w[1] >= w[0] - 0.5), "viridis gets lighter with the value");
    }

    #[test]
    fn no_data_colour_is_in_neither_scale() {
        for scale in [ColourScale::Sequential, ColourScale::Diverging] {
            for i in 0..=1000 {
                let colour = scale.colour_at(f64::from(i) / 1000.0);
                assert!(distance(colour, NO_DATA_COLOUR) > 40.0, "{scale:?} at {i}: {colour:?}");
            }
        }
    }

    #[test]
    fn value_ranges_come_from_finite_values() {
        let values = [f32::NAN, 1.0, 5.0, f32::INFINITY, 3.0];
        assert_eq!(ColourScale::Sequential.value_range(values, false), Some((1.0, 5.0)));
        assert_eq!(ColourScale::Diverging.value_range([-1.0, 4.0], false), Some((-4.0, 4.0)));
        assert_eq!(ColourScale::Sequential.value_range([f32::NAN], false), None);
        assert_eq!(ColourScale::Sequential.value_range([2.0, 2.0], false), Some((1.5, 2.5)));

        // 0..=100 and one outlier: the robust range is numpy's percentile(values, [2, 98]).
        let mut values: Vec<f32> = (0..=100).map(|v| v as f32).collect();
        values.push(1e6);
        let (low, high) = ColourScale::Sequential.value_range(values.iter().copied(), true).unwrap();
        assert!((low - 2.02).abs() < 1e-9 && (high - 98.98).abs() < 1e-9, "{low} {high}");
        assert_eq!(ColourScale::Sequential.value_range(values, false), Some((0.0, 1e6)));
    }
}
